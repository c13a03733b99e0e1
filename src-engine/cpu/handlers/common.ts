/**
 * Helpers shared by the instruction handlers: register index spaces, the #UD handler, atomic
 * read-modify-write for LOCKed instructions, and the factory type.
 */
import type { Cpu } from '../cpu';
import type { Decoded, Operand } from '../decoder';
import type { Handler, Insn } from '../insn';
import { ud } from '../fault';
import { checkSmc, noteWrite, probeWrite, rd16, rd32, rd8, TLB_MASK, wr16, wr32, wr8 } from '../mmu';

/** Builds the handler for one decoded instruction (and fills the Insn's fields). */
export type Factory = (d: Decoded, ins: Insn) => Handler;

/** Raises #UD. */
export const udHandler: Handler = (cpu) => ud(cpu);

/** Factory for invalid encodings. */
export const udFactory: Factory = () => udHandler;

/** Index of register `reg` in the view for `size`: s (4), r16 (2) or r8 (1). */
export function regIndex(size: number, reg: number): number {
  if (size === 4) return reg;
  if (size === 2) return reg * 2;
  return reg < 4 ? reg * 4 : (reg - 4) * 4 + 1;
}

/** Reads register operand `idx` of `size` (index already converted). */
export function getReg(cpu: Cpu, size: number, idx: number): number {
  return size === 4 ? cpu.s[idx] : size === 2 ? cpu.r16[idx] : cpu.r8[idx];
}

/** Writes register operand `idx` of `size`. */
export function setReg(cpu: Cpu, size: number, idx: number, v: number): void {
  if (size === 4) cpu.s[idx] = v;
  else if (size === 2) cpu.r16[idx] = v;
  else cpu.r8[idx] = v;
}

/** Reads memory of `size` at linear `lin`. */
export function readMem(cpu: Cpu, lin: number, size: number): number {
  return size === 4 ? rd32(cpu, lin) : size === 2 ? rd16(cpu, lin) : rd8(cpu, lin);
}

/** Writes memory of `size` at linear `lin`. */
export function writeMem(cpu: Cpu, lin: number, size: number, v: number): void {
  if (size === 4) wr32(cpu, lin, v);
  else if (size === 2) wr16(cpu, lin, v);
  else wr8(cpu, lin, v);
}

/**
 * A read-modify-write of `size` bytes at `lin` that other VCPUs observe as atomic (LOCK prefix,
 * XCHG with memory). `update` maps the old value to the new one; it may be called more than once
 * if another VCPU races. Falls back to plain accesses for MMIO and dword-crossing operands.
 */
export function atomicUpdate(cpu: Cpu, lin: number, size: number, update: (old: number) => number): number {
  probeWrite(cpu, lin, size);
  const page = lin >>> 12;
  const idx = page & TLB_MASK;
  const inDword = ((lin & 3) + size) <= 4;
  if (cpu.tagW[idx] === page && inDword) {
    const off = cpu.tlbOff[idx] + (lin & 0xfff);
    const word = off >> 2;
    const shift = (off & 3) * 8;
    const mask = size === 4 ? -1 : ((1 << (size * 8)) - 1) << shift;
    const m32 = cpu.phys.mem32;
    if (cpu.phys.codeMark[off >>> 12] !== 0) checkSmc(cpu, off, size);
    for (;;) {
      const cur = Atomics.load(m32, word);
      const old = size === 4 ? cur : (cur & mask) >>> shift;
      const nv = update(old);
      const merged = size === 4 ? nv | 0 : (cur & ~mask) | ((nv << shift) & mask);
      if (Atomics.compareExchange(m32, word, cur, merged) === cur) {
        noteWrite(cpu, off, size);
        return old;
      }
    }
  }
  const old = readMem(cpu, lin, size);
  writeMem(cpu, lin, size, update(old));
  return old;
}

/** True if operand `o` is a register. */
export function isReg(o: Operand): boolean {
  return o.kind === 1;
}

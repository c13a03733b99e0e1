/**
 * Port I/O: IN and OUT with immediate or DX ports, and the I/O permission check (IOPL, then the
 * TSS I/O bitmap) shared with INS/OUTS. Port accesses go to CpuOps and end the block, so an
 * interrupt raised by the device is seen at once.
 */
import type { Cpu } from '../cpu';
import type { Handler } from '../insn';
import { gp } from '../fault';
import { flushTlb, rdSys } from '../mmu';
import { EDX, IOPL_MASK, IOPL_SHIFT, S_A20_MASK, S_EFLAGS, S_SEG_AR, S_SEG_BASE, S_SEG_LIMIT, SEG_TR } from '../state';
import type { Factory } from './common';

/** Offset of the I/O map base field in a 32-bit TSS. */
const TSS_IOMAP_BASE = 0x66;

/**
 * Raises #GP(0) unless the current privilege may access `size` ports at `port`: always in real
 * mode; in protected mode if CPL <= IOPL; otherwise (and always in virtual-8086 mode) only if the
 * TSS I/O permission bitmap clears every bit of the ports.
 */
export function checkIoPermission(cpu: Cpu, port: number, size: number): void {
  if (!cpu.pe) return;
  const iopl = (cpu.s[S_EFLAGS] & IOPL_MASK) >> IOPL_SHIFT;
  if (!cpu.vm86 && cpu.cpl <= iopl) return;
  const s = cpu.s;
  const trAr = s[S_SEG_AR + SEG_TR];
  // Only a 32-bit TSS has an I/O bitmap.
  if ((trAr & 0xf) !== 0xb && (trAr & 0xf) !== 0x9) gp(cpu, 0);
  const limit = s[S_SEG_LIMIT + SEG_TR] >>> 0;
  if (TSS_IOMAP_BASE + 1 > limit) gp(cpu, 0);
  const base = s[S_SEG_BASE + SEG_TR];
  const mapBase = rdSys(cpu, (base + TSS_IOMAP_BASE) | 0, 2);
  const byteOff = mapBase + (port >> 3);
  if (byteOff + 1 > limit) gp(cpu, 0);
  const bits = rdSys(cpu, (base + byteOff) | 0, 2);
  const mask = ((1 << size) - 1) << (port & 7);
  if ((bits & mask) !== 0) gp(cpu, 0);
}

/**
 * A port write may have moved the A20 gate (port 0x92, the 8042): translations cached under the
 * old mask are dropped.
 */
export function afterIoWrite(cpu: Cpu): void {
  const mask = cpu.s[S_A20_MASK];
  if (mask !== cpu.a20Mask) {
    cpu.a20Mask = mask;
    flushTlb(cpu, false);
  }
}

function inFactory(fromDx: boolean): Factory {
  return (d, ins) => {
    d.endBlock = true;
    const size = d.ops[0].size;
    ins.size = size;
    if (!fromDx) ins.imm = d.ops[1].imm & 0xff;
    const h: Handler = (cpu, i) => {
      const port = fromDx ? cpu.r16[EDX * 2] : i.imm;
      checkIoPermission(cpu, port, size);
      const v = cpu.ops.ioRead(port, size as 1 | 2 | 4);
      if (size === 4) cpu.s[0] = v;
      else if (size === 2) cpu.r16[0] = v;
      else cpu.r8[0] = v;
    };
    return h;
  };
}

function outFactory(toDx: boolean): Factory {
  return (d, ins) => {
    d.endBlock = true;
    const size = d.ops[1].size;
    ins.size = size;
    if (!toDx) ins.imm = d.ops[0].imm & 0xff;
    const h: Handler = (cpu, i) => {
      const port = toDx ? cpu.r16[EDX * 2] : i.imm;
      checkIoPermission(cpu, port, size);
      const v = size === 4 ? cpu.s[0] >>> 0 : size === 2 ? cpu.r16[0] : cpu.r8[0];
      cpu.ops.ioWrite(port, size as 1 | 2 | 4, v);
      afterIoWrite(cpu);
    };
    return h;
  };
}

/** Factories of this group, by mnemonic. */
export const ioFactories: Record<string, Factory> = {
  IN: (d, ins) => (d.ops[1].kind === 1 ? inFactory(true) : inFactory(false))(d, ins),
  OUT: (d, ins) => (d.ops[0].kind === 1 ? outFactory(true) : outFactory(false))(d, ins),
};

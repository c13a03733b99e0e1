/**
 * Effective addresses, linear addresses and stack accesses, shared by all instruction handlers.
 * The fast path (flat segments) is an add; non-flat segments go through checkSegmentAccess.
 */
import type { Cpu } from './cpu';
import type { Insn } from './insn';
import { rd16, rd32, wr16, wr32 } from './mmu';
import { checkSegmentAccess } from './segments';
import { ESP, SEG_SS } from './state';

/** The offset (effective address) of an instruction's memory operand. */
export function eaOffset(cpu: Cpu, i: Insn): number {
  const r = cpu.s;
  if (i.a16) return ((r[i.base] & 0xffff) + (r[i.index] & 0xffff) + i.disp) & 0xffff;
  return (r[i.base] + (r[i.index] << i.scale) + i.disp) | 0;
}

/** Linear address of a memory operand about to be read (`size` bytes). */
export function linR(cpu: Cpu, i: Insn, size: number): number {
  const off = eaOffset(cpu, i);
  const seg = i.seg;
  if ((cpu.segOkR & (1 << seg)) === 0) checkSegmentAccess(cpu, seg, off, size, false);
  return (off + cpu.segBase[seg]) | 0;
}

/** Linear address of a memory operand about to be written (`size` bytes). */
export function linW(cpu: Cpu, i: Insn, size: number): number {
  const off = eaOffset(cpu, i);
  const seg = i.seg;
  if ((cpu.segOkW & (1 << seg)) === 0) checkSegmentAccess(cpu, seg, off, size, true);
  return (off + cpu.segBase[seg]) | 0;
}

/** Linear address of offset `off` in segment `seg` for a read. */
export function segLinR(cpu: Cpu, seg: number, off: number, size: number): number {
  if ((cpu.segOkR & (1 << seg)) === 0) checkSegmentAccess(cpu, seg, off, size, false);
  return (off + cpu.segBase[seg]) | 0;
}

/** Linear address of offset `off` in segment `seg` for a write. */
export function segLinW(cpu: Cpu, seg: number, off: number, size: number): number {
  if ((cpu.segOkW & (1 << seg)) === 0) checkSegmentAccess(cpu, seg, off, size, true);
  return (off + cpu.segBase[seg]) | 0;
}

/** Pushes a dword (the stack pointer moves only after the write succeeded). */
export function push32(cpu: Cpu, v: number): void {
  const r = cpu.s;
  if (cpu.ss32) {
    const sp = (r[ESP] - 4) | 0;
    wr32(cpu, segLinW(cpu, SEG_SS, sp, 4), v);
    r[ESP] = sp;
  } else {
    const sp = (r[ESP] - 4) & 0xffff;
    wr32(cpu, segLinW(cpu, SEG_SS, sp, 4), v);
    cpu.r16[ESP * 2] = sp;
  }
}

/** Pushes a word. */
export function push16(cpu: Cpu, v: number): void {
  const r = cpu.s;
  if (cpu.ss32) {
    const sp = (r[ESP] - 2) | 0;
    wr16(cpu, segLinW(cpu, SEG_SS, sp, 2), v);
    r[ESP] = sp;
  } else {
    const sp = (r[ESP] - 2) & 0xffff;
    wr16(cpu, segLinW(cpu, SEG_SS, sp, 2), v);
    cpu.r16[ESP * 2] = sp;
  }
}

/** Pushes by operand size (2 or 4 bytes). */
export function pushSz(cpu: Cpu, v: number, size: number): void {
  if (size === 4) push32(cpu, v);
  else push16(cpu, v);
}

/** Pops a dword. */
export function pop32(cpu: Cpu): number {
  const r = cpu.s;
  if (cpu.ss32) {
    const sp = r[ESP];
    const v = rd32(cpu, segLinR(cpu, SEG_SS, sp, 4));
    r[ESP] = (sp + 4) | 0;
    return v;
  }
  const sp = r[ESP] & 0xffff;
  const v = rd32(cpu, segLinR(cpu, SEG_SS, sp, 4));
  cpu.r16[ESP * 2] = sp + 4;
  return v;
}

/** Pops a word. */
export function pop16(cpu: Cpu): number {
  const r = cpu.s;
  if (cpu.ss32) {
    const sp = r[ESP];
    const v = rd16(cpu, segLinR(cpu, SEG_SS, sp, 2));
    r[ESP] = (sp + 2) | 0;
    return v;
  }
  const sp = r[ESP] & 0xffff;
  const v = rd16(cpu, segLinR(cpu, SEG_SS, sp, 2));
  cpu.r16[ESP * 2] = sp + 2;
  return v;
}

/** Pops by operand size. */
export function popSz(cpu: Cpu, size: number): number {
  return size === 4 ? pop32(cpu) : pop16(cpu);
}

/** Reads the stack at ESP + `delta` without moving ESP (for multi-part pops that may fault). */
export function peekStack(cpu: Cpu, delta: number, size: number): number {
  const sp = cpu.ss32 ? (cpu.s[ESP] + delta) | 0 : (cpu.s[ESP] + delta) & 0xffff;
  const lin = segLinR(cpu, SEG_SS, sp, size);
  return size === 4 ? rd32(cpu, lin) : rd16(cpu, lin);
}

/** Moves ESP (or SP) by `delta`. */
export function adjustSp(cpu: Cpu, delta: number): void {
  if (cpu.ss32) cpu.s[ESP] = (cpu.s[ESP] + delta) | 0;
  else cpu.r16[ESP * 2] = (cpu.s[ESP] + delta) & 0xffff;
}

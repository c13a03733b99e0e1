/**
 * Segment registers: descriptor fetches from the GDT/LDT, the protection checks of segment loads
 * (SDM Vol. 3 5.x and the MOV/POP/LDS pseudo-code of Vol. 2), real-mode and virtual-8086 loads,
 * and the limit/type checks of data accesses through non-flat segments.
 */
import type { Cpu } from './cpu';
import { raiseError } from './fault';
import { rdSys, wrSys } from './mmu';
import {
  AR_CODE, AR_DB, AR_DC, AR_DPL_SHIFT, AR_P, AR_RW, AR_S, AR_UNUSABLE, EXC_GP, EXC_NP, EXC_SS,
  S_GDTR_BASE, S_GDTR_LIMIT, S_SEG_AR, S_SEG_BASE, S_SEG_LIMIT, S_SEG_SEL, SEG_CS, SEG_LDTR, SEG_SS,
} from './state';

/** A decoded segment descriptor. */
export interface Descriptor {
  lo: number;
  hi: number;
  base: number;
  /** Byte-granular limit. */
  limit: number;
  /** Access rights in the VMX layout (state.ts AR_*). */
  ar: number;
  /** Linear address of the descriptor (to set the accessed bit). */
  addr: number;
}

/** Decodes the two dwords of a descriptor. */
export function decodeDescriptor(lo: number, hi: number, addr: number): Descriptor {
  let limit = (lo & 0xffff) | (hi & 0xf0000);
  if ((hi & (1 << 23)) !== 0) limit = ((limit << 12) | 0xfff) >>> 0;
  const base = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) | 0;
  const ar = ((hi >>> 8) & 0xff) | ((hi >>> 8) & 0xf000);
  return { lo, hi, base, limit, ar, addr };
}

/** DPL of access rights. */
export function dplOf(ar: number): number {
  return (ar >> AR_DPL_SHIFT) & 3;
}

/**
 * Reads the descriptor for `sel` from the GDT or LDT. Raises `vector` (default #GP) with the
 * selector's index as error code when the selector is outside its table; `ext` sets EXT.
 */
export function fetchDescriptor(cpu: Cpu, sel: number, vector = EXC_GP, ext = 0): Descriptor {
  const s = cpu.s;
  let base: number;
  let limit: number;
  if ((sel & 4) !== 0) {
    if ((s[S_SEG_AR + SEG_LDTR] & AR_UNUSABLE) !== 0 || (s[S_SEG_SEL + SEG_LDTR] & 0xfffc) === 0) {
      raiseError(cpu, vector, (sel & 0xfffc) | ext);
    }
    base = s[S_SEG_BASE + SEG_LDTR];
    limit = s[S_SEG_LIMIT + SEG_LDTR] >>> 0;
  } else {
    base = s[S_GDTR_BASE];
    limit = s[S_GDTR_LIMIT] >>> 0;
  }
  const off = sel & 0xfff8;
  if (off + 7 > limit) raiseError(cpu, vector, (sel & 0xfffc) | ext);
  const addr = (base + off) | 0;
  const lo = rdSys(cpu, addr, 4);
  const hi = rdSys(cpu, (addr + 4) | 0, 4);
  return decodeDescriptor(lo, hi, addr);
}

/** Sets the accessed bit of a code/data descriptor in memory if it is clear. */
export function setAccessed(cpu: Cpu, d: Descriptor): void {
  if ((d.hi & (1 << 8)) === 0) {
    d.hi |= 1 << 8;
    d.ar |= 1;
    wrSys(cpu, (d.addr + 5) | 0, 1, (d.hi >>> 8) & 0xff);
  }
}

/** Writes a segment register's selector and hidden descriptor cache. */
export function setSegment(cpu: Cpu, seg: number, sel: number, base: number, limit: number, ar: number): void {
  const s = cpu.s;
  s[S_SEG_SEL + seg] = sel & 0xffff;
  s[S_SEG_BASE + seg] = base | 0;
  s[S_SEG_LIMIT + seg] = limit | 0;
  s[S_SEG_AR + seg] = ar;
}

/**
 * Loads a segment register the way MOV Sreg / POP Sreg / LDS do, in any mode. CS is never loaded
 * through here (far transfers have their own rules).
 */
export function loadSegment(cpu: Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  const s = cpu.s;
  if (!cpu.pe || cpu.vm86) {
    // Real mode keeps the cached limit and attributes (so "unreal" mode survives reloads);
    // virtual-8086 mode forces a 64 KiB DPL-3 read/write data segment.
    if (cpu.vm86) {
      setSegment(cpu, seg, sel, sel << 4, 0xffff, AR_P | AR_S | AR_RW | 1 | (3 << AR_DPL_SHIFT));
    } else {
      s[S_SEG_SEL + seg] = sel;
      s[S_SEG_BASE + seg] = sel << 4;
      // A cache left unusable by a null load in protected mode becomes a 64 KiB data segment.
      if ((s[S_SEG_AR + seg] & AR_UNUSABLE) !== 0) {
        s[S_SEG_AR + seg] = AR_P | AR_S | AR_RW | 1;
        s[S_SEG_LIMIT + seg] = 0xffff;
      }
    }
    cpu.updateMode();
    return;
  }
  const cpl = cpu.cpl;
  const rpl = sel & 3;
  if ((sel & 0xfffc) === 0) {
    if (seg === SEG_SS) raiseError(cpu, EXC_GP, 0);
    // A null selector: later accesses through it fault.
    setSegment(cpu, seg, sel, 0, 0, AR_UNUSABLE);
    cpu.updateMode();
    return;
  }
  const d = fetchDescriptor(cpu, sel);
  const ar = d.ar;
  const dpl = dplOf(ar);
  if (seg === SEG_SS) {
    if (rpl !== cpl || (ar & AR_S) === 0 || (ar & AR_CODE) !== 0 || (ar & AR_RW) === 0 || dpl !== cpl) {
      raiseError(cpu, EXC_GP, sel & 0xfffc);
    }
    if ((ar & AR_P) === 0) raiseError(cpu, EXC_SS, sel & 0xfffc);
  } else {
    const isCode = (ar & AR_CODE) !== 0;
    if ((ar & AR_S) === 0 || (isCode && (ar & AR_RW) === 0)) raiseError(cpu, EXC_GP, sel & 0xfffc);
    const conforming = isCode && (ar & AR_DC) !== 0;
    if (!conforming && (rpl > dpl || cpl > dpl)) raiseError(cpu, EXC_GP, sel & 0xfffc);
    if ((ar & AR_P) === 0) raiseError(cpu, EXC_NP, sel & 0xfffc);
  }
  setAccessed(cpu, d);
  setSegment(cpu, seg, sel, d.base, d.limit, d.ar);
  cpu.updateMode();
}

/**
 * Checks a data access of `size` bytes at offset `off` through segment `seg` (called only for
 * segments that are not flat read/write). Raises #GP(0), or #SS(0) for SS.
 */
export function checkSegmentAccess(cpu: Cpu, seg: number, off: number, size: number, write: boolean): void {
  const s = cpu.s;
  const ar = s[S_SEG_AR + seg];
  const vector = seg === SEG_SS ? EXC_SS : EXC_GP;
  if ((ar & AR_UNUSABLE) !== 0) raiseError(cpu, vector, 0);
  if (cpu.pe && !cpu.vm86) {
    if ((ar & AR_CODE) !== 0) {
      if (write || (ar & AR_RW) === 0) raiseError(cpu, vector, 0);
    } else if (write && (ar & AR_RW) === 0) {
      raiseError(cpu, vector, 0);
    }
  }
  const limit = s[S_SEG_LIMIT + seg] >>> 0;
  const o = off >>> 0;
  const last = o + size - 1;
  if ((ar & (AR_CODE | AR_DC)) === AR_DC) {
    // Expand-down data: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF (B bit).
    const top = (ar & AR_DB) !== 0 ? 0xffffffff : 0xffff;
    if (o <= limit || last > top) raiseError(cpu, vector, 0);
  } else if (last > limit) {
    raiseError(cpu, vector, 0);
  }
}

/** The segment used for stack accesses: SS. Exported for readability at call sites. */
export const STACK_SEG = SEG_SS;
/** The code segment index. */
export const CODE_SEG = SEG_CS;

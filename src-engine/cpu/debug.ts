/**
 * Debug registers and debug exceptions (SDM Vol. 3 chapter 17): DR0-DR3 breakpoint addresses,
 * DR6 status, DR7 control; instruction breakpoints (fault before the instruction, suppressed by
 * EFLAGS.RF), data breakpoints (trap after the instruction that touched the watched bytes),
 * general detect (DR7.GD), and alignment checking (#AC), which shares the mechanism.
 *
 * Design. Nothing here costs anything while no breakpoint is enabled. With any DR7 enable bit
 * set the VCPU runs instruction by instruction (cpu.slowMode), where instruction breakpoints are
 * checked before and data breakpoint hits reported after each instruction. Data accesses are
 * caught by keeping watched pages out of the TLB (mmu.fillSlot asks `pageWatched`), so every
 * access to them takes the slow path, which calls `noteDataAccess`. #AC works the same way: while
 * alignment checking applies (CR0.AM, EFLAGS.AC, CPL 3) user pages are never cached and the slow
 * path checks alignment.
 */
import type { Cpu } from './cpu';
import { raiseError } from './fault';
import { EXC_AC, S_DR } from './state';

/** DR6 bits. */
export const DR6_B0 = 1 << 0;
export const DR6_BD = 1 << 13;
export const DR6_BS = 1 << 14;
export const DR6_BT = 1 << 15;
/** DR6 bits that read as 1 (reserved): 4-11 and 16-31. */
export const DR6_FIXED1 = 0xffff0ff0 | 0;
/** DR7 bits: enables L0 G0 ... L3 G3 (0-7), GD (13), R/W and LEN per breakpoint from bit 16. */
export const DR7_ENABLES = 0xff;
export const DR7_GD = 1 << 13;
/** DR7 bit 10 reads as 1. */
export const DR7_FIXED1 = 1 << 10;
/** R/W field values. */
const RW_EXEC = 0;
const RW_WRITE = 1;
const RW_READ_WRITE = 3;

/** Breakpoint `n` is enabled (locally or globally). */
function enabled(dr7: number, n: number): boolean {
  return ((dr7 >> (2 * n)) & 3) !== 0;
}
function rwOf(dr7: number, n: number): number {
  return (dr7 >>> (16 + 4 * n)) & 3;
}
/** Length in bytes of breakpoint n (LEN 00 = 1, 01 = 2, 11 = 4, 10 = 8). */
function lenOf(dr7: number, n: number): number {
  const l = (dr7 >>> (18 + 4 * n)) & 3;
  return l === 0 ? 1 : l === 1 ? 2 : l === 3 ? 4 : 8;
}

/**
 * Recomputes cpu.dataWatch (bit n: data breakpoint n is enabled) after DR0-DR3 or DR7 change;
 * the caller flushes the TLB, since the set of watched pages may have changed.
 */
export function updateWatch(cpu: Cpu): void {
  const dr7 = cpu.s[S_DR + 7];
  let w = 0;
  for (let n = 0; n < 4; n++) {
    const rw = rwOf(dr7, n);
    if (enabled(dr7, n) && (rw === RW_WRITE || rw === RW_READ_WRITE)) w |= 1 << n;
  }
  cpu.dataWatch = w;
}

/** True if linear page `page` holds bytes a data breakpoint watches. */
export function pageWatched(cpu: Cpu, page: number): boolean {
  const w = cpu.dataWatch;
  const s = cpu.s;
  const dr7 = s[S_DR + 7];
  for (let n = 0; n < 4; n++) {
    if ((w & (1 << n)) === 0) continue;
    const len = lenOf(dr7, n);
    const addr = (s[S_DR + n] & ~(len - 1)) >>> 0;
    if (addr >>> 12 === page || ((addr + len - 1) >>> 0) >>> 12 === page) return true;
  }
  return false;
}

/** A slow-path data access of `size` bytes at `lin`: records matching data breakpoints. */
export function noteDataAccess(cpu: Cpu, lin: number, size: number, write: boolean): void {
  const w = cpu.dataWatch;
  const s = cpu.s;
  const dr7 = s[S_DR + 7];
  const lo = lin >>> 0;
  const hi = lo + size - 1;
  for (let n = 0; n < 4; n++) {
    if ((w & (1 << n)) === 0) continue;
    if (!write && rwOf(dr7, n) === RW_WRITE) continue;
    const len = lenOf(dr7, n);
    const a = (s[S_DR + n] & ~(len - 1)) >>> 0;
    if (lo <= a + len - 1 && hi >= a) cpu.dbHits |= 1 << n;
  }
}

/**
 * Instruction breakpoints matching linear address `lin` (DR6 B bits), or 0. RF suppresses them
 * for one instruction (the caller checks RF).
 */
export function instructionBreakpoints(cpu: Cpu, lin: number): number {
  const s = cpu.s;
  const dr7 = s[S_DR + 7];
  let hits = 0;
  for (let n = 0; n < 4; n++) {
    if (enabled(dr7, n) && rwOf(dr7, n) === RW_EXEC && s[S_DR + n] === lin) hits |= 1 << n;
  }
  return hits;
}

/** #AC(0) if the access is misaligned while alignment checking applies (slow path only). */
export function checkAlignment(cpu: Cpu, lin: number, size: number): void {
  if ((lin & (size - 1)) !== 0) raiseError(cpu, EXC_AC, 0);
}


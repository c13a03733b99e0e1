/**
 * Lazy flags evaluated from values instead of the state block: compiled regions keep the lazy
 * flags record (lazy-flags.ts: op, result, operands, aux) in JavaScript locals, and call these
 * when the operation that set the flags is not known when the region is compiled (it happened
 * in an earlier block, or outside the region). Same rules as lazy-flags.ts, word for word; the
 * JIT tests compare both on every operation kind and size.
 */
import {
  LF_ADC, LF_ADD, LF_DEC, LF_INC, LF_LOGIC, LF_MUL, LF_SAR, LF_SBB, LF_SHL, LF_SHR, LF_SUB, PARITY, SZ16, SZ32, SZ8,
} from '../lazy-flags';

/** Sign-bit position per size index (8, 16, 32 bits). */
const SIGN_SHIFT = [7, 15, 31];
const EF_CF = 1;
const EF_PF_SHIFT = 2;
const EF_ZF_SHIFT = 6;
const EF_SF_SHIFT = 7;
const EF_OF_SHIFT = 11;

/** CF of the lazy record (op, a, b, r, aux), or EFLAGS.CF (`ef`) when op is 0. */
export function cfOf(op: number, a: number, b: number, r: number, aux: number, ef: number): number {
  if (op === 0) return ef & EF_CF;
  const sz = op & 3;
  switch (op >> 2) {
    case LF_ADD:
      return sz === SZ32 ? ((r >>> 0) < (a >>> 0) ? 1 : 0) : r < a ? 1 : 0;
    case LF_ADC:
      if (sz === SZ32) return aux ? ((r >>> 0) <= (a >>> 0) ? 1 : 0) : (r >>> 0) < (a >>> 0) ? 1 : 0;
      return aux ? (r <= a ? 1 : 0) : r < a ? 1 : 0;
    case LF_SUB:
      return sz === SZ32 ? ((a >>> 0) < (b >>> 0) ? 1 : 0) : a < b ? 1 : 0;
    case LF_SBB:
      if (sz === SZ32) return aux ? ((a >>> 0) <= (b >>> 0) ? 1 : 0) : (a >>> 0) < (b >>> 0) ? 1 : 0;
      return aux ? (a <= b ? 1 : 0) : a < b ? 1 : 0;
    case LF_LOGIC:
      return 0;
    default:
      return aux & 1;
  }
}

/** OF of the lazy record. */
export function ofOf(op: number, a: number, b: number, r: number, aux: number, ef: number): number {
  if (op === 0) return (ef >> EF_OF_SHIFT) & 1;
  const sh = SIGN_SHIFT[op & 3];
  switch (op >> 2) {
    case LF_ADD:
    case LF_ADC:
      return (((a ^ r) & (b ^ r)) >>> sh) & 1;
    case LF_SUB:
    case LF_SBB:
      return (((a ^ b) & (a ^ r)) >>> sh) & 1;
    case LF_LOGIC:
      return 0;
    case LF_INC:
      return r === 1 << sh ? 1 : 0;
    case LF_DEC:
      return r === (((1 << sh) - 1) | 0) ? 1 : 0;
    case LF_SHL:
      return ((r >>> sh) ^ aux) & 1;
    case LF_SHR:
    case LF_SAR:
      return ((a ^ r) >>> sh) & 1;
    case LF_MUL:
      return aux & 1;
    default:
      return 0;
  }
}

/** ZF of the lazy record. */
export function zfOf(op: number, r: number, ef: number): number {
  if (op === 0) return (ef >> EF_ZF_SHIFT) & 1;
  return r === 0 ? 1 : 0;
}

/** SF of the lazy record. */
export function sfOf(op: number, r: number, ef: number): number {
  if (op === 0) return (ef >> EF_SF_SHIFT) & 1;
  return (r >>> SIGN_SHIFT[op & 3]) & 1;
}

/** PF of the lazy record. */
export function pfOf(op: number, r: number, ef: number): number {
  if (op === 0) return (ef >> EF_PF_SHIFT) & 1;
  return PARITY[r & 0xff];
}

/** Condition `cc` after a SUB/CMP of size index `sz` (lazy-flags.ts cond's fast path), or -1. */
function subCond(sz: number, a: number, b: number, r: number, cc: number): number {
  const u = sz === SZ32;
  switch (cc) {
    case 0x2: return (u ? (a >>> 0) < (b >>> 0) : a < b) ? 1 : 0;
    case 0x3: return (u ? (a >>> 0) >= (b >>> 0) : a >= b) ? 1 : 0;
    case 0x4: return r === 0 ? 1 : 0;
    case 0x5: return r !== 0 ? 1 : 0;
    case 0x6: return (u ? (a >>> 0) <= (b >>> 0) : a <= b) ? 1 : 0;
    case 0x7: return (u ? (a >>> 0) > (b >>> 0) : a > b) ? 1 : 0;
    case 0x8: return (r >>> SIGN_SHIFT[sz]) & 1;
    case 0x9: return ((r >>> SIGN_SHIFT[sz]) & 1) ^ 1;
    case 0xc: case 0xd: case 0xe: case 0xf: {
      const sa = sz === SZ8 ? (a << 24) >> 24 : sz === SZ16 ? (a << 16) >> 16 : a;
      const sb = sz === SZ8 ? (b << 24) >> 24 : sz === SZ16 ? (b << 16) >> 16 : b;
      if (cc === 0xc) return sa < sb ? 1 : 0;
      if (cc === 0xd) return sa >= sb ? 1 : 0;
      if (cc === 0xe) return sa <= sb ? 1 : 0;
      return sa > sb ? 1 : 0;
    }
    default:
      return -1;
  }
}

/** Condition `cc` after a logic operation (lazy-flags.ts cond's fast path), or -1 (parity). */
function logicCond(sz: number, r: number, cc: number): number {
  const sf = (r >>> SIGN_SHIFT[sz]) & 1;
  switch (cc) {
    case 0x0: case 0x2: return 0;
    case 0x1: case 0x3: return 1;
    case 0x4: case 0x6: return r === 0 ? 1 : 0;
    case 0x5: case 0x7: return r !== 0 ? 1 : 0;
    case 0x8: case 0xc: return sf;
    case 0x9: case 0xd: return sf ^ 1;
    case 0xe: return r === 0 || sf ? 1 : 0;
    case 0xf: return r !== 0 && !sf ? 1 : 0;
    default: return -1;
  }
}

/**
 * Condition code `cc` (Jcc/SETcc/CMOVcc low nibble) of the lazy record: 1 if it holds. Takes
 * the same fast paths as lazy-flags.ts cond, so both give the same answer for any record.
 */
export function condOf(op: number, a: number, b: number, r: number, aux: number, ef: number, cc: number): number {
  if (op !== 0) {
    const kind = op >> 2;
    const fast = kind === LF_SUB ? subCond(op & 3, a, b, r, cc) : kind === LF_LOGIC ? logicCond(op & 3, r, cc) : -1;
    if (fast >= 0) return fast;
  }
  let v: number;
  switch (cc >> 1) {
    case 0: v = ofOf(op, a, b, r, aux, ef); break;
    case 1: v = cfOf(op, a, b, r, aux, ef); break;
    case 2: v = zfOf(op, r, ef); break;
    case 3: v = cfOf(op, a, b, r, aux, ef) | zfOf(op, r, ef); break;
    case 4: v = sfOf(op, r, ef); break;
    case 5: v = pfOf(op, r, ef); break;
    case 6: v = sfOf(op, r, ef) ^ ofOf(op, a, b, r, aux, ef); break;
    default: v = (sfOf(op, r, ef) ^ ofOf(op, a, b, r, aux, ef)) | zfOf(op, r, ef); break;
  }
  return v ^ (cc & 1);
}

/** Every kind, for tests that compare these with lazy-flags.ts. */
export const LAZY_KINDS = [LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC, LF_SHL, LF_SHR, LF_SAR, LF_MUL];

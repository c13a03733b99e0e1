/**
 * x87 arithmetic and comparison cores shared by every operand form: the six basic operations
 * with NaN propagation (SDM Vol. 1 Table 4-7), the invalid-operation, zero-divide and overflow
 * responses, precision control, and FCOM/FUCOM/FCOMI result codes.
 */
import type { Cpu } from '../cpu';
import { EXT_EXP_MAX } from './float80';
import {
  FPU_CW, CW_PC_SHIFT, FPU_EMPTY, fpuFault, fpuSignal, INDEF_HI, INDEF_SE, PC_SINGLE, readRaw,
  SW_C0, SW_C2, SW_C3, SW_IE, SW_OE, SW_PE, SW_ZE, writePhys, writePhysRaw,
} from './fpu-state';
import { MEM } from './x87-memory';

/** Operation numbers: the ModRM reg field of D8/DC/DA/DE (2 and 3 are the compares). */
export const OP_ADD = 0;
export const OP_MUL = 1;
export const OP_COM = 2;
export const OP_COMP = 3;
export const OP_SUB = 4;
export const OP_SUBR = 5;
export const OP_DIV = 6;
export const OP_DIVR = 7;

/** An operand's origin for NaN propagation: a physical register 0..7, or the memory operand. */
export const SRC_MEM = -1;

/** Compare results. */
export const CMP_GT = 0;
export const CMP_LT = 1;
export const CMP_EQ = 2;
export const CMP_UNORDERED = 3;
/** C3 C2 C0 for each compare result. */
export const CMP_CC = [0, SW_C0, SW_C3, SW_C3 | SW_C2 | SW_C0];

const NAN = { se: 0, hi: 0, lo: 0 };

/** The encoding of a NaN operand (an empty register counts as the indefinite). */
function nanOf(cpu: Cpu, src: number): typeof NAN {
  if (src === SRC_MEM) {
    NAN.se = MEM.se;
    NAN.hi = MEM.hi;
    NAN.lo = MEM.lo;
  } else if ((cpu.s[FPU_EMPTY] & (1 << src)) !== 0) {
    NAN.se = INDEF_SE;
    NAN.hi = INDEF_HI;
    NAN.lo = 0;
  } else {
    const r = readRaw(cpu, src);
    NAN.se = r.se;
    NAN.hi = r.hi;
    NAN.lo = r.lo;
  }
  return NAN;
}

/** True if the operand at `src` with value `v` is a signalling NaN. */
export function isSignalling(cpu: Cpu, v: number, src: number): boolean {
  if (v === v) return false;
  const n = nanOf(cpu, src);
  return (n.se & EXT_EXP_MAX) === EXT_EXP_MAX && (n.hi & 0x40000000) === 0 && (n.hi & 0x80000000) !== 0;
}

/** Rounds a result to the precision control's significand width (single: 24 bits). */
export function precision(cpu: Cpu, r: number): number {
  return ((cpu.s[FPU_CW] >> CW_PC_SHIFT) & 3) === PC_SINGLE ? Math.fround(r) : r;
}

/** Applies basic operation `op` to a (ST(0) side) and b, writing physical register `dst`. */
export function arith(cpu: Cpu, op: number, a: number, aSrc: number, b: number, bSrc: number, dst: number): void {
  let r: number;
  switch (op) {
    case OP_ADD:
      r = a + b;
      break;
    case OP_MUL:
      r = a * b;
      break;
    case OP_SUB:
      r = a - b;
      break;
    case OP_SUBR:
      r = b - a;
      break;
    case OP_DIV:
      r = a / b;
      break;
    default:
      r = b / a;
      break;
  }
  if (r !== r) {
    nanResult(cpu, a, aSrc, b, bSrc, dst);
    return;
  }
  if (op >= OP_DIV) {
    const divisor = op === OP_DIV ? b : a;
    const dividend = op === OP_DIV ? a : b;
    if (divisor === 0 && Number.isFinite(dividend)) fpuFault(cpu, SW_ZE);
  } else if (!Number.isFinite(r) && Number.isFinite(a) && Number.isFinite(b)) {
    fpuSignal(cpu, SW_OE | SW_PE);
  }
  writePhys(cpu, dst, precision(cpu, r));
}

/**
 * A NaN result: propagate a NaN operand (the one with the larger significand when both are),
 * quieted; an SNaN operand or NaN made from numbers (inf - inf, 0 * inf, 0 / 0) is IE, with the
 * indefinite as the masked result.
 */
export function nanResult(cpu: Cpu, a: number, aSrc: number, b: number, bSrc: number, dst: number): void {
  const aNaN = a !== a;
  const bNaN = b !== b;
  if (!aNaN && !bNaN) {
    fpuFault(cpu, SW_IE);
    writePhysRaw(cpu, dst, INDEF_SE, INDEF_HI, 0);
    return;
  }
  let pick = aNaN ? aSrc : bSrc;
  const signalling = isSignalling(cpu, a, aSrc) || isSignalling(cpu, b, bSrc);
  if (aNaN && bNaN) {
    const na = nanOf(cpu, aSrc);
    const ah = (na.hi & 0x3fffffff) >>> 0;
    const al = na.lo >>> 0;
    const nb = nanOf(cpu, bSrc);
    const bh = (nb.hi & 0x3fffffff) >>> 0;
    const bl = nb.lo >>> 0;
    if (bh > ah || (bh === ah && bl > al)) pick = bSrc;
  }
  if (signalling) fpuFault(cpu, SW_IE);
  const n = nanOf(cpu, pick);
  writePhysRaw(cpu, dst, n.se, (n.hi | 0x40000000) | 0, n.lo);
}

/**
 * Compares a with b. Any NaN is "unordered"; it signals IE for ordered compares (FCOM, FICOM,
 * FCOMI, FTST) and for SNaNs only in unordered ones (FUCOM, FUCOMI).
 */
export function compare(cpu: Cpu, a: number, aSrc: number, b: number, bSrc: number, unordered: boolean): number {
  if (a !== a || b !== b) {
    if (!unordered || isSignalling(cpu, a, aSrc) || isSignalling(cpu, b, bSrc)) fpuFault(cpu, SW_IE);
    return CMP_UNORDERED;
  }
  return a > b ? CMP_GT : a < b ? CMP_LT : CMP_EQ;
}

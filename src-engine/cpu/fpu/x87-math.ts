/**
 * The register-only x87 operations of D9 E0-FF: sign operations, FTST, FXAM, the seven
 * constants (exact 80-bit encodings, round to nearest), the transcendental instructions
 * (computed in double precision), FPREM/FPREM1, FRNDINT, FSCALE, FXTRACT, FSQRT and the stack
 * pointer moves (SDM Vol. 2 instruction pages).
 */
import type { Cpu } from '../cpu';
import { doubleToExt, EXT_BIAS, EXT_EXP_MAX, EXT_SIGN, ldexp, RC_DOWN, RC_NEAREST, RC_UP } from './float80';
import {
  FPU_F64, FPU_RAW_SE, FPU_SW, FPU_TOP, fpuFault, fpuSignal, phys, pop, push, pushRaw, RAW_VALID,
  readRaw, setCC, st, SW_C0, SW_C1, SW_C2, SW_C3, SW_IE, SW_PE, SW_SF, SW_UE, SW_ZE, writePhys, isEmpty,
} from './fpu-state';
import { CMP_CC, compare, nanResult, precision } from './x87-arith';
import { roundingControl } from './x87-memory';

/** Operands at or beyond 2^63 are out of range for FSIN FCOS FSINCOS FPTAN (C2 = 1). */
const TRIG_LIMIT = 2 ** 63;
/** FSCALE factors beyond this saturate to overflow/underflow anyway. */
const SCALE_CLAMP = 1 << 16;

/** Constants as [sign/exponent, significand high, significand low] (SDM Vol. 1 8.3.8). */
const CONSTANTS: Record<string, [number, number, number]> = {
  FLD1: [0x3fff, 0x80000000, 0x00000000],
  FLDL2T: [0x4000, 0xd49a784b, 0xcd1b8afe],
  FLDL2E: [0x3fff, 0xb8aa3b29, 0x5c17f0bc],
  FLDPI: [0x4000, 0xc90fdaa2, 0x2168c235],
  FLDLG2: [0x3ffd, 0x9a209a84, 0xfbcff799],
  FLDLN2: [0x3ffe, 0xb17217f7, 0xd1cf79ac],
  FLDZ: [0x0000, 0x00000000, 0x00000000],
};

/** Pushes one of the named constants. */
export function loadConstant(cpu: Cpu, name: string): void {
  const c = CONSTANTS[name];
  pushRaw(cpu, c[0], c[1] | 0, c[2] | 0);
}

/** FCHS (negate) and FABS (clear the sign) keep an exact encoding exact. */
export function signOp(cpu: Cpu, abs: boolean): void {
  const v = st(cpu, 0);
  const p = phys(cpu, 0);
  const s = cpu.s;
  if (v !== v || (s[FPU_RAW_SE + p] & RAW_VALID) !== 0) {
    if (v !== v && isEmpty(cpu, 0)) {
      writePhys(cpu, p, NaN);
      return;
    }
    const r = readRaw(cpu, p);
    const se = abs ? r.se & ~EXT_SIGN : r.se ^ EXT_SIGN;
    s[FPU_RAW_SE + p] = (se & 0xffff) | RAW_VALID;
    cpu.f64[FPU_F64 + p] = abs ? Math.abs(v) : -v;
  } else {
    writePhys(cpu, p, abs ? Math.abs(v) : -v);
  }
  s[FPU_SW] &= ~SW_C1;
}

/** FTST: compares ST(0) with +0.0. */
export function ftst(cpu: Cpu): void {
  const v = st(cpu, 0);
  setCC(cpu, CMP_CC[compare(cpu, v, phys(cpu, 0), 0, 0, false)]);
}

/** FXAM: classifies ST(0) into C3 C2 C0, sign into C1 (SDM FXAM table). */
export function fxam(cpu: Cpu): void {
  const p = phys(cpu, 0);
  const r = readRaw(cpu, p);
  const sign = (r.se & EXT_SIGN) !== 0 ? SW_C1 : 0;
  if (isEmpty(cpu, 0)) {
    setCC(cpu, SW_C3 | SW_C0 | sign);
    return;
  }
  const e = r.se & EXT_EXP_MAX;
  const intBit = (r.hi & 0x80000000) !== 0;
  const fracZero = (r.hi & 0x7fffffff) === 0 && r.lo === 0;
  let cc: number;
  if (e === EXT_EXP_MAX) cc = !intBit ? 0 : fracZero ? SW_C2 | SW_C0 : SW_C0;
  else if (e === 0) cc = !intBit && fracZero ? SW_C3 : SW_C3 | SW_C2;
  else cc = intBit ? SW_C2 : 0;
  setCC(cpu, cc | sign);
}

/** Writes a unary result into ST(0), propagating a NaN operand. */
function unaryResult(cpu: Cpu, x: number, r: number, p: number): void {
  if (r !== r) nanResult(cpu, x, p, 0, p, p);
  else writePhys(cpu, p, precision(cpu, r));
}

/** F2XM1: ST(0) = 2^ST(0) - 1. */
export function f2xm1(cpu: Cpu): void {
  const x = st(cpu, 0);
  const p = phys(cpu, 0);
  unaryResult(cpu, x, Math.expm1(x * Math.LN2), p);
  if (x === x && x !== 0) fpuSignal(cpu, SW_PE);
}

/** FSQRT: IE for negative non-zero operands. */
export function fsqrt(cpu: Cpu): void {
  const x = st(cpu, 0);
  const p = phys(cpu, 0);
  if (x < 0) {
    fpuFault(cpu, SW_IE);
    writePhys(cpu, p, NaN);
    return;
  }
  unaryResult(cpu, x, Math.sqrt(x), p);
}

/** FSIN, FCOS, FPTAN, FSINCOS: C2 = 1 and no change for |x| >= 2^63. */
export function trig(cpu: Cpu, kind: 'sin' | 'cos' | 'tan' | 'sincos'): void {
  const x = st(cpu, 0);
  const p = phys(cpu, 0);
  const s = cpu.s;
  if (x === x && Math.abs(x) >= TRIG_LIMIT && Number.isFinite(x)) {
    s[FPU_SW] |= SW_C2;
    return;
  }
  if (kind === 'tan' || kind === 'sincos') {
    // Both push a second value: check for room before writing anything.
    if (!isEmpty(cpu, 7)) {
      s[FPU_SW] |= SW_C1;
      fpuFault(cpu, SW_IE | SW_SF);
    }
  }
  if (!Number.isFinite(x) && x === x) fpuFault(cpu, SW_IE);
  s[FPU_SW] &= ~SW_C2;
  if (kind === 'sin') unaryResult(cpu, x, Math.sin(x), p);
  else if (kind === 'cos') unaryResult(cpu, x, Math.cos(x), p);
  else if (kind === 'tan') {
    unaryResult(cpu, x, Math.tan(x), p);
    push(cpu, 1);
  } else {
    const c = Math.cos(x);
    unaryResult(cpu, x, Math.sin(x), p);
    push(cpu, c !== c ? cpu.f64[FPU_F64 + p] : c);
  }
  fpuSignal(cpu, SW_PE);
}

/** Binary operations on ST(1) and ST(0) whose result replaces ST(1), then pop. */
export function binaryPop(cpu: Cpu, kind: 'atan' | 'yl2x' | 'yl2xp1'): void {
  const x = st(cpu, 0);
  const y = st(cpu, 1);
  const p0 = phys(cpu, 0);
  const p1 = phys(cpu, 1);
  let r: number;
  if (kind === 'atan') r = Math.atan2(y, x);
  else if (kind === 'yl2x') {
    if (x < 0) fpuFault(cpu, SW_IE);
    if (x === 0 && y !== 0 && y === y) fpuFault(cpu, SW_ZE);
    r = y * Math.log2(x);
  } else {
    if (x < -1) fpuFault(cpu, SW_IE);
    r = (y * Math.log1p(x)) / Math.LN2;
  }
  if (r !== r) nanResult(cpu, x, p0, y, p1, p1);
  else writePhys(cpu, p1, precision(cpu, r));
  fpuSignal(cpu, SW_PE);
  pop(cpu);
}

/** Rounds a double to an integer by rounding control. */
export function roundInt(v: number, rc: number): number {
  if (!Number.isFinite(v) || Math.abs(v) >= 2 ** 52) return v;
  let r: number;
  if (rc === RC_NEAREST) {
    r = Math.round(v);
    // Math.round rounds halves up; the x87 rounds them to even.
    if (r - v === 0.5 && r % 2 !== 0) r -= 1;
  } else if (rc === RC_DOWN) r = Math.floor(v);
  else if (rc === RC_UP) r = Math.ceil(v);
  else r = Math.trunc(v);
  // Keep the sign of zero (-0.4 rounds to -0).
  return r === 0 ? (v < 0 || Object.is(v, -0) ? -0 : 0) : r;
}

/** FRNDINT. */
export function frndint(cpu: Cpu): void {
  const x = st(cpu, 0);
  const p = phys(cpu, 0);
  const r = roundInt(x, roundingControl(cpu));
  if (r !== x && x === x) fpuSignal(cpu, SW_PE);
  unaryResult(cpu, x, r, p);
}

/** FSCALE: ST(0) = ST(0) * 2^trunc(ST(1)). */
export function fscale(cpu: Cpu): void {
  const x = st(cpu, 0);
  const y = st(cpu, 1);
  const p0 = phys(cpu, 0);
  let r: number;
  if (x !== x || y !== y) r = NaN;
  else if (!Number.isFinite(y)) {
    // Scaling by +inf: 0 * 2^inf and inf * 2^-inf are invalid.
    if ((y > 0 && x === 0) || (y < 0 && !Number.isFinite(x))) r = NaN;
    else r = y > 0 ? (x === 0 ? x : x * Infinity) : x * 0;
  } else {
    const k = Math.max(-SCALE_CLAMP, Math.min(SCALE_CLAMP, Math.trunc(y)));
    r = ldexp(x, k);
    if (r === 0 && x !== 0) fpuSignal(cpu, SW_UE | SW_PE);
  }
  if (r !== r) nanResult(cpu, x, p0, y, phys(cpu, 1), p0);
  else writePhys(cpu, p0, r);
}

/** FXTRACT: ST(0) becomes its exponent, then its significand is pushed. */
export function fxtract(cpu: Cpu): void {
  const x = st(cpu, 0);
  const p0 = phys(cpu, 0);
  if (!isEmpty(cpu, 7)) {
    cpu.s[FPU_SW] |= SW_C1;
    fpuFault(cpu, SW_IE | SW_SF);
  }
  if (x !== x) {
    nanResult(cpu, x, p0, 0, p0, p0);
    push(cpu, cpu.f64[FPU_F64 + p0]);
    return;
  }
  if (x === 0) {
    fpuFault(cpu, SW_ZE);
    writePhys(cpu, p0, -Infinity);
    push(cpu, x);
    return;
  }
  if (!Number.isFinite(x)) {
    writePhys(cpu, p0, Infinity);
    push(cpu, x);
    return;
  }
  const e = (doubleToExt(x).se & EXT_EXP_MAX) - EXT_BIAS;
  writePhys(cpu, p0, e);
  push(cpu, ldexp(x, -e));
}

/**
 * FPREM (truncating quotient) and FPREM1 (IEEE: nearest-even quotient). The remainder is exact;
 * the reduction always completes (C2 = 0); C0, C3, C1 get quotient bits Q2, Q1, Q0.
 */
export function fprem(cpu: Cpu, ieee: boolean): void {
  const a = st(cpu, 0);
  const b = st(cpu, 1);
  const p0 = phys(cpu, 0);
  if (a !== a || b !== b || !Number.isFinite(a) || b === 0) {
    if (a === a && b === b) fpuFault(cpu, SW_IE);
    nanResult(cpu, a, p0, b, phys(cpu, 1), p0);
    return;
  }
  if (!Number.isFinite(b)) {
    writePhys(cpu, p0, a);
    setCC(cpu, 0);
    return;
  }
  let r = a % b;
  let q = Math.abs(Math.trunc((a - r) / b));
  if (ieee) {
    const half = Math.abs(b) / 2;
    const ar = Math.abs(r);
    if (ar > half || (ar === half && q % 2 === 1)) {
      r = r - Math.sign(r) * Math.abs(b);
      q += 1;
    }
    if (r === 0) r = a < 0 ? -0 : 0;
  }
  writePhys(cpu, p0, r);
  const q0 = q % 2;
  const q1 = Math.floor(q / 2) % 2;
  const q2 = Math.floor(q / 4) % 2;
  setCC(cpu, (q2 ? SW_C0 : 0) | (q1 ? SW_C3 : 0) | (q0 ? SW_C1 : 0));
}

/** FINCSTP / FDECSTP: move TOP, C1 = 0, tags unchanged. */
export function moveTop(cpu: Cpu, delta: number): void {
  cpu.s[FPU_TOP] = (cpu.s[FPU_TOP] + delta) & 7;
  cpu.s[FPU_SW] &= ~SW_C1;
}


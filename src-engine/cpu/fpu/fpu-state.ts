/**
 * The x87 FPU register file in the VCPU state block, and the machinery every x87 instruction
 * shares: the register stack (TOP, tags), status and control words, exceptions (masked
 * responses, pending unmasked exceptions reported as #MF at the next waiting instruction),
 * #NM for CR0.EM/TS, and the instruction/data pointers FSTENV reports (SDM Vol. 1 chapter 8).
 *
 * Precision model. Each physical register holds a double (what arithmetic uses) and, when the
 * value came from somewhere exact (FLD m80, FILD m64, constants, NaNs, FLD/FXCH/FCHS/FABS of such
 * a value), the exact 80-bit encoding beside it ("raw"). Stores to m80, integer stores and
 * FSAVE/FXSAVE use the raw encoding when it is valid, so 80-bit values and 64-bit integers
 * round-trip bit-exactly; arithmetic results are doubles (53-bit significand, double exponent
 * range) rounded to nearest. docs/cpu.md lists what that approximates.
 */
import type { Cpu } from '../cpu';
import { raise } from '../fault';
import {
  CR0_EM, CR0_NE, CR0_TS, EXC_MF, EXC_NM, S_CR0, S_FPU, S_SEG_SEL, SEG_CS,
} from '../state';
import { doubleToExt, EXT_EXP_MAX, EXT_SIGN, extTag, extToDouble } from './float80';

// ---- Layout (word indexes in the state block) ------------------------------------------------------

/** Eight doubles, one per physical register (Float64 index FPU_F64 + p). */
export const FPU_F64 = S_FPU >> 1;
/** Raw 80-bit encodings: significand low and high words, and sign/exponent | RAW_VALID. */
export const FPU_RAW_LO = S_FPU + 16;
export const FPU_RAW_HI = S_FPU + 24;
export const FPU_RAW_SE = S_FPU + 32;
/** In FPU_RAW_SE: the raw encoding is the register's exact value. */
export const RAW_VALID = 1 << 16;
/** Control word. */
export const FPU_CW = S_FPU + 40;
/** Status word with the TOP field (bits 13-11) kept apart in FPU_TOP. */
export const FPU_SW = S_FPU + 41;
export const FPU_TOP = S_FPU + 42;
/** Bit p set: physical register p is empty (tag 11). */
export const FPU_EMPTY = S_FPU + 43;
/** Last instruction pointer (offset, CS selector), opcode (11 bits) and data pointer. */
export const FPU_FIP = S_FPU + 44;
export const FPU_FCS = S_FPU + 45;
export const FPU_FOP = S_FPU + 46;
export const FPU_FDP = S_FPU + 47;
export const FPU_FDS = S_FPU + 48;
/** SSE control/status register. */
export const FPU_MXCSR = S_FPU + 49;
/** XMM0-7, four words each. */
export const FPU_XMM = S_FPU + 64;

// ---- Status and control word bits (SDM Vol. 1 Figures 8-5 and 8-6) ------------------------------------

export const SW_IE = 1 << 0;
export const SW_DE = 1 << 1;
export const SW_ZE = 1 << 2;
export const SW_OE = 1 << 3;
export const SW_UE = 1 << 4;
export const SW_PE = 1 << 5;
/** Stack fault (with IE; C1 tells overflow from underflow). */
export const SW_SF = 1 << 6;
/** Error summary: an unmasked exception is pending. */
export const SW_ES = 1 << 7;
export const SW_C0 = 1 << 8;
export const SW_C1 = 1 << 9;
export const SW_C2 = 1 << 10;
export const SW_TOP_SHIFT = 11;
export const SW_TOP_MASK = 7 << SW_TOP_SHIFT;
export const SW_C3 = 1 << 14;
/** Busy (mirrors ES on the 387+). */
export const SW_B = 1 << 15;
/** The condition code bits. */
export const SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3;
/** The six exception flags. */
export const SW_EXC = 0x3f;
/** Control word: precision control field and its values. */
export const CW_PC_SHIFT = 8;
export const PC_SINGLE = 0;
/** Control word: rounding control field. */
export const CW_RC_SHIFT = 10;
/** FNINIT's control word: all exceptions masked, 64-bit precision, round to nearest. */
export const CW_INIT = 0x037f;
/** Power-on control word (SDM Vol. 3 Table 9-1). */
export const CW_POWER_ON = 0x0040;
/** MXCSR at reset: all SIMD exceptions masked. */
export const MXCSR_RESET = 0x1f80;

/** Sign/exponent and significand of the x87 "real indefinite" QNaN. */
export const INDEF_SE = EXT_SIGN | EXT_EXP_MAX;
export const INDEF_HI = 0xc0000000 | 0;

/**
 * Thrown (and caught by every x87 handler) when an unmasked exception stops an instruction
 * before it writes its result; the exception is then pending (SW.ES) until the next waiting
 * instruction raises #MF.
 */
export const FPU_ABORT = { fpuAbort: true } as const;

// ---- Reset ---------------------------------------------------------------------------------------

/** FNINIT: control word 0x37F, status 0, all registers empty, pointers cleared. */
export function fpuInit(s: Int32Array): void {
  s[FPU_CW] = CW_INIT;
  s[FPU_SW] = 0;
  s[FPU_TOP] = 0;
  s[FPU_EMPTY] = 0xff;
  s[FPU_FIP] = 0;
  s[FPU_FCS] = 0;
  s[FPU_FOP] = 0;
  s[FPU_FDP] = 0;
  s[FPU_FDS] = 0;
}

/** Power-on state: control word 0x40, registers +0.0 tagged valid-zero, MXCSR 0x1F80. */
export function fpuPowerOn(s: Int32Array, f64: Float64Array): void {
  fpuInit(s);
  s[FPU_CW] = CW_POWER_ON;
  s[FPU_EMPTY] = 0;
  for (let p = 0; p < 8; p++) {
    f64[FPU_F64 + p] = 0;
    s[FPU_RAW_LO + p] = 0;
    s[FPU_RAW_HI + p] = 0;
    s[FPU_RAW_SE + p] = RAW_VALID;
  }
  s[FPU_MXCSR] = MXCSR_RESET;
  for (let k = 0; k < 32; k++) s[FPU_XMM + k] = 0;
}

// ---- Entry checks ------------------------------------------------------------------------------------

/**
 * #NM for an x87 instruction: CR0.EM or CR0.TS set (SDM Vol. 3 Table 2-2). FWAIT has its own
 * rule (MP and TS).
 */
export function fpuCheckNm(cpu: Cpu): void {
  if ((cpu.s[S_CR0] & (CR0_EM | CR0_TS)) !== 0) raise(cpu, EXC_NM);
}

/**
 * A pending unmasked exception (SW.ES) is reported before a waiting instruction runs: #MF with
 * CR0.NE; with NE clear the PC's IGNNE# logic is modelled as always asserted (ignored).
 */
export function fpuCheckPending(cpu: Cpu): void {
  const s = cpu.s;
  if ((s[FPU_SW] & SW_ES) !== 0 && (s[S_CR0] & CR0_NE) !== 0) raise(cpu, EXC_MF);
}

/** Entry of a waiting (non-control) x87 instruction: #NM, pending #MF, last-instruction pointer. */
export function fpuEnter(cpu: Cpu, eip: number, fop: number): void {
  const s = cpu.s;
  if ((s[S_CR0] & (CR0_EM | CR0_TS)) !== 0) raise(cpu, EXC_NM);
  if ((s[FPU_SW] & SW_ES) !== 0) fpuCheckPending(cpu);
  s[FPU_FIP] = eip;
  s[FPU_FCS] = s[S_SEG_SEL + SEG_CS];
  s[FPU_FOP] = fop;
}

/** Records the data pointer of a memory operand (offset and segment selector). */
export function fpuSetDataPointer(cpu: Cpu, offset: number, seg: number): void {
  cpu.s[FPU_FDP] = offset;
  cpu.s[FPU_FDS] = cpu.s[S_SEG_SEL + seg];
}

// ---- Exceptions --------------------------------------------------------------------------------------

/**
 * Records exception flags. Returns true if any of them is unmasked (the exception is then
 * pending: ES and B set).
 */
export function fpuSignal(cpu: Cpu, flags: number): boolean {
  const s = cpu.s;
  s[FPU_SW] |= flags;
  if ((flags & SW_EXC & ~s[FPU_CW]) !== 0) {
    s[FPU_SW] |= SW_ES | SW_B;
    return true;
  }
  return false;
}

/** Signals `flags`; if unmasked, abandons the instruction before it writes anything. */
export function fpuFault(cpu: Cpu, flags: number): void {
  if (fpuSignal(cpu, flags)) throw FPU_ABORT;
}

/** Sets the condition code bits C0-C3 (others unchanged). */
export function setCC(cpu: Cpu, cc: number): void {
  cpu.s[FPU_SW] = (cpu.s[FPU_SW] & ~SW_CC) | cc;
}

// ---- Register stack ----------------------------------------------------------------------------------

/** Physical register of ST(i). */
export function phys(cpu: Cpu, i: number): number {
  return (cpu.s[FPU_TOP] + i) & 7;
}

/** True if ST(i) is empty. */
export function isEmpty(cpu: Cpu, i: number): boolean {
  return (cpu.s[FPU_EMPTY] & (1 << phys(cpu, i))) !== 0;
}

/** Stack underflow (reading an empty register): IE + SF, C1 = 0; aborts if IE is unmasked. */
export function stackUnderflow(cpu: Cpu): void {
  cpu.s[FPU_SW] &= ~SW_C1;
  fpuFault(cpu, SW_IE | SW_SF);
}

/** The value of ST(i); an empty register is a stack underflow (masked: the indefinite NaN). */
export function st(cpu: Cpu, i: number): number {
  const p = (cpu.s[FPU_TOP] + i) & 7;
  if ((cpu.s[FPU_EMPTY] & (1 << p)) !== 0) {
    stackUnderflow(cpu);
    return NaN;
  }
  return cpu.f64[FPU_F64 + p];
}

/** Writes a double result into physical register p (tag valid, raw encoding stale). */
export function writePhys(cpu: Cpu, p: number, v: number): void {
  const s = cpu.s;
  if (v !== v) {
    // Every NaN a register holds carries its exact encoding (the indefinite by default).
    writePhysRaw(cpu, p, INDEF_SE, INDEF_HI, 0);
    return;
  }
  cpu.f64[FPU_F64 + p] = v;
  s[FPU_RAW_SE + p] = 0;
  s[FPU_EMPTY] &= ~(1 << p);
}

/** Writes an exact 80-bit value into physical register p. */
export function writePhysRaw(cpu: Cpu, p: number, se: number, hi: number, lo: number): void {
  const s = cpu.s;
  cpu.f64[FPU_F64 + p] = extToDouble(se, hi, lo);
  s[FPU_RAW_LO + p] = lo;
  s[FPU_RAW_HI + p] = hi;
  s[FPU_RAW_SE + p] = (se & 0xffff) | RAW_VALID;
  s[FPU_EMPTY] &= ~(1 << p);
}

/** Copies physical register `from` (value, raw encoding) into physical register `to`. */
export function copyPhys(cpu: Cpu, from: number, to: number): void {
  const s = cpu.s;
  cpu.f64[FPU_F64 + to] = cpu.f64[FPU_F64 + from];
  s[FPU_RAW_LO + to] = s[FPU_RAW_LO + from];
  s[FPU_RAW_HI + to] = s[FPU_RAW_HI + from];
  s[FPU_RAW_SE + to] = s[FPU_RAW_SE + from];
  s[FPU_EMPTY] &= ~(1 << to);
}

/** Sets ST(i) to a double result. */
export function setSt(cpu: Cpu, i: number, v: number): void {
  writePhys(cpu, (cpu.s[FPU_TOP] + i) & 7, v);
}

/**
 * Makes room for a push: returns the physical register that becomes ST(0) (TOP not yet moved;
 * call commitPush). A full stack is a stack overflow: IE + SF + C1; masked, the pushed value is
 * the indefinite NaN.
 */
export function pushSlot(cpu: Cpu): number {
  const s = cpu.s;
  const p = (s[FPU_TOP] - 1) & 7;
  if ((s[FPU_EMPTY] & (1 << p)) === 0) {
    s[FPU_SW] |= SW_C1;
    fpuFault(cpu, SW_IE | SW_SF);
    return -1;
  }
  return p;
}

/** Pushes a double (stack overflow handled as pushSlot says). */
export function push(cpu: Cpu, v: number): void {
  const p = pushSlot(cpu);
  const s = cpu.s;
  s[FPU_TOP] = (s[FPU_TOP] - 1) & 7;
  if (p < 0) writePhys(cpu, s[FPU_TOP], NaN);
  else writePhys(cpu, p, v);
}

/** Pushes an exact 80-bit value. */
export function pushRaw(cpu: Cpu, se: number, hi: number, lo: number): void {
  const p = pushSlot(cpu);
  const s = cpu.s;
  s[FPU_TOP] = (s[FPU_TOP] - 1) & 7;
  if (p < 0) writePhys(cpu, s[FPU_TOP], NaN);
  else writePhysRaw(cpu, p, se, hi, lo);
}

/** Pops ST(0) (marks it empty, TOP + 1). */
export function pop(cpu: Cpu): void {
  const s = cpu.s;
  s[FPU_EMPTY] |= 1 << s[FPU_TOP];
  s[FPU_TOP] = (s[FPU_TOP] + 1) & 7;
}

// ---- Exact encodings --------------------------------------------------------------------------------

/** Scratch for readRaw. */
export const RAW = { se: 0, hi: 0, lo: 0 };

/** The exact 80-bit encoding of physical register p into RAW. */
export function readRaw(cpu: Cpu, p: number): typeof RAW {
  const s = cpu.s;
  const se = s[FPU_RAW_SE + p];
  if ((se & RAW_VALID) !== 0) {
    RAW.se = se & 0xffff;
    RAW.hi = s[FPU_RAW_HI + p];
    RAW.lo = s[FPU_RAW_LO + p];
    return RAW;
  }
  const e = doubleToExt(cpu.f64[FPU_F64 + p]);
  RAW.se = e.se;
  RAW.hi = e.hi;
  RAW.lo = e.lo;
  return RAW;
}

/** Tag of physical register p: 0 valid, 1 zero, 2 special, 3 empty. */
export function tagOf(cpu: Cpu, p: number): number {
  if ((cpu.s[FPU_EMPTY] & (1 << p)) !== 0) return 3;
  const r = readRaw(cpu, p);
  return extTag(r.se, r.hi, r.lo);
}

/** The full 16-bit tag word. */
export function tagWord(cpu: Cpu): number {
  let tw = 0;
  for (let p = 0; p < 8; p++) tw |= tagOf(cpu, p) << (2 * p);
  return tw;
}

/** Loads the tag word: only "empty" is state here; the other tags follow from the values. */
export function setTagWord(cpu: Cpu, tw: number): void {
  let empty = 0;
  for (let p = 0; p < 8; p++) if (((tw >> (2 * p)) & 3) === 3) empty |= 1 << p;
  cpu.s[FPU_EMPTY] = empty;
}

/** The status word with TOP. */
export function statusWord(cpu: Cpu): number {
  return ((cpu.s[FPU_SW] & ~SW_TOP_MASK) | (cpu.s[FPU_TOP] << SW_TOP_SHIFT)) & 0xffff;
}

/** Loads the status word (TOP included; B follows ES). */
export function setStatusWord(cpu: Cpu, sw: number): void {
  cpu.s[FPU_TOP] = (sw >> SW_TOP_SHIFT) & 7;
  let v = sw & ~SW_TOP_MASK & 0xffff;
  v = (v & SW_ES) !== 0 ? v | SW_B : v & ~SW_B;
  cpu.s[FPU_SW] = v;
}

/** Loads the control word and recomputes ES from the flags it unmasks. */
export function setControlWord(cpu: Cpu, cw: number): void {
  const s = cpu.s;
  s[FPU_CW] = (cw & 0x1f3f) | 0x40;
  if ((s[FPU_SW] & SW_EXC & ~s[FPU_CW]) !== 0) s[FPU_SW] |= SW_ES | SW_B;
  else s[FPU_SW] &= ~(SW_ES | SW_B);
}

/**
 * x87 memory operands: loading m32/m64/m80 reals, m16/m32/m64 integers and m80 packed BCD onto
 * the register stack's number/encoding pair, and storing them back with the x87's masked
 * responses (integer and BCD indefinites, quieted NaNs) and rounding control for integers.
 */
import type { Cpu } from '../cpu';
import { probeWrite, rd16, rd32, rd8, wr16, wr32 } from '../mmu';
import {
  doubleBitsToExt, doubleToBits, doubleToFloatBits, EXT_EXP_MAX, extIsNaN, extNaNToDoubleBits,
  extNaNToFloatBits, extToDouble, extToInt, floatBitsToDouble, floatBitsToExt, int64ToExt,
} from './float80';
import {
  FPU_CW, CW_RC_SHIFT, fpuFault, fpuSignal, readRaw, SW_DE, SW_IE, SW_OE, SW_PE, SW_UE,
} from './fpu-state';

/**
 * The exact encoding of the last memory operand loaded by loadM32/loadM64 when it was a NaN (so
 * arithmetic can propagate its payload), or of any m80 operand.
 */
export const MEM = { se: 0, hi: 0, lo: 0 };

/** True if the extended value is a signalling NaN (quiet bit 62 clear). */
export function isSNaN(se: number, hi: number, lo: number): boolean {
  return (se & EXT_EXP_MAX) === EXT_EXP_MAX && extIsNaN(se, hi, lo) && (hi & 0x40000000) === 0;
}

/** Loads an m32 real. NaNs leave their encoding in MEM; denormal operands signal DE. */
export function loadM32(cpu: Cpu, lin: number): number {
  const bits = rd32(cpu, lin);
  const e = (bits >>> 23) & 0xff;
  if (e === 0xff && (bits & 0x7fffff) !== 0) {
    const x = floatBitsToExt(bits);
    MEM.se = x.se;
    MEM.hi = x.hi;
    MEM.lo = x.lo;
    return NaN;
  }
  if (e === 0 && (bits & 0x7fffff) !== 0) fpuSignal(cpu, SW_DE);
  return floatBitsToDouble(bits);
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** Loads an m64 real. NaNs leave their encoding in MEM; denormal operands signal DE. */
export function loadM64(cpu: Cpu, lin: number): number {
  const lo = rd32(cpu, lin);
  const hi = rd32(cpu, (lin + 4) | 0);
  const e = (hi >>> 20) & 0x7ff;
  if (e === 0x7ff && ((hi & 0xfffff) !== 0 || lo !== 0)) {
    const x = doubleBitsToExt(lo, hi);
    MEM.se = x.se;
    MEM.hi = x.hi;
    MEM.lo = x.lo;
    return NaN;
  }
  if (e === 0 && ((hi & 0xfffff) !== 0 || lo !== 0)) fpuSignal(cpu, SW_DE);
  u32[0] = lo;
  u32[1] = hi;
  return f64[0];
}

/** Loads an m80 real into MEM and returns its nearest double. */
export function loadM80(cpu: Cpu, lin: number): number {
  MEM.lo = rd32(cpu, lin);
  MEM.hi = rd32(cpu, (lin + 4) | 0);
  MEM.se = rd16(cpu, (lin + 8) | 0);
  return extToDouble(MEM.se, MEM.hi, MEM.lo);
}

/** Loads an m64 integer exactly into MEM (as extended) and returns its nearest double. */
export function loadI64(cpu: Cpu, lin: number): number {
  const lo = rd32(cpu, lin);
  const hi = rd32(cpu, (lin + 4) | 0);
  const x = int64ToExt(lo, hi);
  MEM.se = x.se;
  MEM.hi = x.hi;
  MEM.lo = x.lo;
  return extToDouble(x.se, x.hi, x.lo);
}

/** Current rounding control. */
export function roundingControl(cpu: Cpu): number {
  return (cpu.s[FPU_CW] >> CW_RC_SHIFT) & 3;
}

/** Stores physical register p as an m32 real. */
export function storeM32(cpu: Cpu, lin: number, v: number, p: number): void {
  let bits: number;
  if (v !== v) {
    const r = readRaw(cpu, p);
    if ((r.hi & 0x40000000) === 0) fpuFault(cpu, SW_IE);
    bits = extNaNToFloatBits(r.se, r.hi);
  } else {
    const f = Math.fround(v);
    if (f !== v) {
      let flags = SW_PE;
      if (!Number.isFinite(f) && Number.isFinite(v)) flags |= SW_OE;
      else if (f === 0 || Math.abs(f) < 2 ** -126) flags |= SW_UE;
      fpuSignal(cpu, flags);
    }
    bits = doubleToFloatBits(f);
  }
  wr32(cpu, lin, bits);
}

/** Stores physical register p as an m64 real. */
export function storeM64(cpu: Cpu, lin: number, v: number, p: number): void {
  let lo: number;
  let hi: number;
  if (v !== v) {
    const r = readRaw(cpu, p);
    if ((r.hi & 0x40000000) === 0) fpuFault(cpu, SW_IE);
    [lo, hi] = extNaNToDoubleBits(r.se, r.hi, r.lo);
  } else {
    [lo, hi] = doubleToBits(v);
  }
  probeWrite(cpu, lin, 8);
  wr32(cpu, lin, lo);
  wr32(cpu, (lin + 4) | 0, hi);
}

/** Stores physical register p as an m80 real (its exact encoding). */
export function storeM80(cpu: Cpu, lin: number, p: number): void {
  const r = readRaw(cpu, p);
  probeWrite(cpu, lin, 10);
  wr32(cpu, lin, r.lo);
  wr32(cpu, (lin + 4) | 0, r.hi);
  wr16(cpu, (lin + 8) | 0, r.se);
}

/**
 * Stores physical register p as a signed integer of `bits` (16, 32, 64) rounded by RC. A NaN,
 * infinity or out-of-range value signals IE and (masked) stores the integer indefinite.
 */
export function storeInt(cpu: Cpu, lin: number, p: number, bits: number, rc = roundingControl(cpu)): void {
  const r = readRaw(cpu, p);
  const res = extToInt(r.se, r.hi, r.lo, rc, bits);
  let lo = res.lo;
  let hi = res.hi;
  if (!res.ok) {
    fpuFault(cpu, SW_IE);
    lo = bits === 64 ? 0 : bits === 32 ? 0x80000000 | 0 : 0x8000;
    hi = bits === 64 ? 0x80000000 | 0 : 0;
  } else if (res.inexact) {
    fpuSignal(cpu, SW_PE);
  }
  if (bits === 16) wr16(cpu, lin, lo & 0xffff);
  else if (bits === 32) wr32(cpu, lin, lo);
  else {
    probeWrite(cpu, lin, 8);
    wr32(cpu, lin, lo);
    wr32(cpu, (lin + 4) | 0, hi);
  }
}

/** Loads an m80 packed BCD (18 digits and a sign byte) exactly into MEM; returns the double. */
export function loadBcd(cpu: Cpu, lin: number): number {
  let v = 0n;
  for (let k = 8; k >= 0; k--) {
    const b = rd8(cpu, (lin + k) | 0);
    v = v * 100n + BigInt((b >> 4) * 10 + (b & 0xf));
  }
  const neg = (rd8(cpu, (lin + 9) | 0) & 0x80) !== 0;
  if (neg) v = -v;
  const u = BigInt.asUintN(64, v);
  const x = int64ToExt(Number(u & 0xffffffffn), Number(u >> 32n));
  MEM.se = x.se;
  MEM.hi = x.hi;
  MEM.lo = x.lo;
  return extToDouble(x.se, x.hi, x.lo);
}

/** Largest magnitude packed BCD holds: 10^18 - 1. */
const BCD_MAX = 999_999_999_999_999_999n;

/** Stores physical register p as m80 packed BCD, rounded by RC (IE + BCD indefinite if too big). */
export function storeBcd(cpu: Cpu, lin: number, p: number): void {
  const r = readRaw(cpu, p);
  const res = extToInt(r.se, r.hi, r.lo, roundingControl(cpu), 64);
  const bytes = new Array<number>(10).fill(0);
  let ok = res.ok;
  let v = 0n;
  if (ok) {
    v = BigInt.asIntN(64, (BigInt(res.hi >>> 0) << 32n) | BigInt(res.lo >>> 0));
    if (v > BCD_MAX || v < -BCD_MAX) ok = false;
  }
  if (!ok) {
    fpuFault(cpu, SW_IE);
    // The packed BCD indefinite: FFFF C000 0000 0000 0000.
    bytes[9] = 0xff;
    bytes[8] = 0xff;
    bytes[7] = 0xc0;
  } else {
    if (res.inexact) fpuSignal(cpu, SW_PE);
    const neg = v < 0n || (v === 0n && (r.se & 0x8000) !== 0);
    let m = v < 0n ? -v : v;
    for (let k = 0; k < 9; k++) {
      const two = Number(m % 100n);
      m /= 100n;
      bytes[k] = ((Math.floor(two / 10) << 4) | (two % 10)) & 0xff;
    }
    bytes[9] = neg ? 0x80 : 0;
  }
  probeWrite(cpu, lin, 10);
  for (let k = 0; k < 10; k += 2) wr16(cpu, (lin + k) | 0, bytes[k] | (bytes[k + 1] << 8));
}


/**
 * Conversions between JavaScript doubles, the x87 80-bit extended format, integers and packed
 * BCD, all exact where the target can hold the value (SDM Vol. 1 4.2 and 8.2).
 *
 * An extended value is kept as three integers: `se` (bit 15 sign, bits 14-0 biased exponent),
 * `hi` and `lo` (the 64-bit significand with its explicit integer bit at hi bit 31).
 */

/** Exponent bias of the extended format. */
export const EXT_BIAS = 16383;
/** Biased exponent of infinities and NaNs. */
export const EXT_EXP_MAX = 0x7fff;
/** Bit 15 of `se`. */
export const EXT_SIGN = 0x8000;
/** Exponent bias of doubles, and the double exponent field's all-ones value. */
const DBL_BIAS = 1023;
const DBL_EXP_MAX = 0x7ff;
const TWO32 = 4294967296;

/** Scratch for reinterpreting doubles and floats. */
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const f32 = new Float32Array(1);
const u32f = new Uint32Array(f32.buffer);

/** The result of a conversion to extended: sign/exponent, significand high and low. */
export interface Ext {
  se: number;
  hi: number;
  lo: number;
}

/** Scratch result reused by the converters (callers copy the fields out at once). */
export const EXT: Ext = { se: 0, hi: 0, lo: 0 };

/** x * 2^k without intermediate overflow or underflow (k may exceed the double range). */
export function ldexp(x: number, k: number): number {
  while (k > 1000) {
    x *= 2 ** 1000;
    k -= 1000;
    if (!Number.isFinite(x)) return x;
  }
  while (k < -1000) {
    x *= 2 ** -1000;
    k += 1000;
    if (x === 0) return x;
  }
  return x * 2 ** k;
}

/** Number of leading zero bits of the 64-bit value hi:lo (64 for zero). */
function clz64(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

/** Shifts hi:lo left by n (0..63) into EXT.hi/lo. */
function shl64(hi: number, lo: number, n: number): void {
  if (n === 0) {
    EXT.hi = hi >>> 0;
    EXT.lo = lo >>> 0;
  } else if (n < 32) {
    EXT.hi = ((hi << n) | (lo >>> (32 - n))) >>> 0;
    EXT.lo = (lo << n) >>> 0;
  } else {
    EXT.hi = (lo << (n - 32)) >>> 0;
    EXT.lo = 0;
  }
}

/** Converts a double to extended (always exact) into EXT. */
export function doubleToExt(v: number): Ext {
  f64[0] = v;
  const whi = u32[1];
  const wlo = u32[0];
  const sign = (whi >>> 31) << 15;
  const e = (whi >>> 20) & DBL_EXP_MAX;
  const mhi = whi & 0xfffff;
  if (e === DBL_EXP_MAX) {
    shl64(mhi, wlo, 11);
    EXT.hi = (EXT.hi | 0x80000000) >>> 0;
    EXT.se = sign | EXT_EXP_MAX;
    return EXT;
  }
  if (e === 0) {
    if (mhi === 0 && wlo === 0) {
      EXT.se = sign;
      EXT.hi = 0;
      EXT.lo = 0;
      return EXT;
    }
    // A double denormal is a normal extended number: normalise the 52-bit fraction.
    const n = clz64(mhi, wlo);
    shl64(mhi, wlo, n);
    EXT.se = sign | (EXT_BIAS - DBL_BIAS - (n - 12));
    return EXT;
  }
  shl64(mhi | 0x100000, wlo, 11);
  EXT.se = sign | (e - DBL_BIAS + EXT_BIAS);
  return EXT;
}

/** True if the extended value is a NaN (or an invalid encoding treated as one). */
export function extIsNaN(se: number, hi: number, lo: number): boolean {
  const e = se & EXT_EXP_MAX;
  if (e === EXT_EXP_MAX) return (hi & 0x7fffffff) !== 0 || lo !== 0 || (hi & 0x80000000) === 0;
  // Unnormals (integer bit clear with a non-zero exponent) are invalid operands on the 387+.
  return e !== 0 && (hi & 0x80000000) === 0;
}

/** The double nearest to an extended value (ties to even); NaNs become NaN. */
export function extToDouble(se: number, hi: number, lo: number): number {
  const neg = (se & EXT_SIGN) !== 0;
  const e = se & EXT_EXP_MAX;
  if (e === EXT_EXP_MAX) {
    if (extIsNaN(se, hi, lo)) return NaN;
    return neg ? -Infinity : Infinity;
  }
  if (extIsNaN(se, hi, lo)) return NaN;
  const exp = (e === 0 ? 1 : e) - EXT_BIAS - 63;
  hi >>>= 0;
  lo >>>= 0;
  if (hi === 0 && lo === 0) return neg ? -0 : 0;
  const topExp = exp + 63 - clz64(hi, lo);
  let v: number;
  if (topExp < -1022 && -1074 - exp > 0) {
    // Subnormal double: round the significand once, at the right bit.
    v = roundShift(hi, lo, -1074 - exp) * 2 ** -1074;
  } else {
    // hi * 2^32 + lo rounds once to 53 bits; the scaling is then exact.
    v = ldexp(hi * TWO32 + lo, exp);
  }
  return neg ? -v : v;
}

/** (hi:lo) / 2^shift rounded to nearest even (shift >= 1; rare path, so BigInt). */
function roundShift(hi: number, lo: number, shift: number): number {
  const m = (BigInt(hi) << 32n) | BigInt(lo);
  const s = BigInt(shift);
  let q = m >> s;
  const rem = m - (q << s);
  const half = 1n << (s - 1n);
  if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
  return Number(q);
}

/** Float32 bits -> double (exact; NaN payloads are lost: use floatBitsToExt for those). */
export function floatBitsToDouble(bits: number): number {
  u32f[0] = bits;
  return f32[0];
}

/** Extended encoding of float32 bits (exact, NaN payloads kept) into EXT. */
export function floatBitsToExt(bits: number): Ext {
  const e = (bits >>> 23) & 0xff;
  if (e === 0xff) {
    EXT.se = ((bits >>> 31) << 15) | EXT_EXP_MAX;
    EXT.hi = (0x80000000 | ((bits & 0x7fffff) << 8)) >>> 0;
    EXT.lo = 0;
    return EXT;
  }
  return doubleToExt(floatBitsToDouble(bits));
}

/** Double bits (lo, hi words) -> extended, NaN payloads kept, into EXT. */
export function doubleBitsToExt(lo: number, hi: number): Ext {
  u32[0] = lo;
  u32[1] = hi;
  const e = (hi >>> 20) & DBL_EXP_MAX;
  if (e === DBL_EXP_MAX) {
    shl64(hi & 0xfffff, lo, 11);
    EXT.hi = (EXT.hi | 0x80000000) >>> 0;
    EXT.se = ((hi >>> 31) << 15) | EXT_EXP_MAX;
    return EXT;
  }
  return doubleToExt(f64[0]);
}

/** Double bits of a NaN given as extended (payload truncated, sign kept): [lo, hi]. */
export function extNaNToDoubleBits(se: number, hi: number, lo: number): [number, number] {
  const sign = (se & EXT_SIGN) !== 0 ? 0x80000000 : 0;
  const fhi = ((hi & 0x7fffffff) >>> 11) | 0x80000;
  const flo = ((hi << 21) | (lo >>> 11)) >>> 0;
  return [flo, (sign | 0x7ff00000 | fhi) >>> 0];
}

/** Float32 bits of a NaN given as extended (quiet, payload truncated). */
export function extNaNToFloatBits(se: number, hi: number): number {
  const sign = (se & EXT_SIGN) !== 0 ? 0x80000000 : 0;
  return (sign | 0x7fc00000 | ((hi & 0x7fffffff) >>> 8)) >>> 0;
}

/** Double -> float32 bits (round to nearest even, as Math.fround). */
export function doubleToFloatBits(v: number): number {
  f32[0] = v;
  return u32f[0];
}

/** Double -> [lo, hi] bits. */
export function doubleToBits(v: number): [number, number] {
  f64[0] = v;
  return [u32[0], u32[1]];
}

/** A signed 64-bit integer given as two 32-bit halves -> extended (exact) into EXT. */
export function int64ToExt(lo: number, hi: number): Ext {
  let neg = false;
  let h = hi >>> 0;
  let l = lo >>> 0;
  if ((hi | 0) < 0) {
    neg = true;
    // Two's complement negation of the 64-bit value.
    l = (~l + 1) >>> 0;
    h = (~h + (l === 0 ? 1 : 0)) >>> 0;
  }
  if (h === 0 && l === 0) {
    EXT.se = 0;
    EXT.hi = 0;
    EXT.lo = 0;
    return EXT;
  }
  const n = clz64(h, l);
  shl64(h, l, n);
  EXT.se = (neg ? EXT_SIGN : 0) | (EXT_BIAS + 63 - n);
  return EXT;
}

/** Rounding modes (x87 control word RC). */
export const RC_NEAREST = 0;
export const RC_DOWN = 1;
export const RC_UP = 2;
export const RC_ZERO = 3;

/** Result of extToInt64: the halves, whether rounding lost bits, and whether it fit. */
export interface IntResult {
  lo: number;
  hi: number;
  inexact: boolean;
  ok: boolean;
}
const INT: IntResult = { lo: 0, hi: 0, inexact: false, ok: true };

/**
 * Rounds an extended value to a signed integer of `bits` (16, 32 or 64) with rounding mode `rc`.
 * `ok` is false for NaN, infinity and out-of-range values (the caller stores the indefinite).
 */
export function extToInt(se: number, hi: number, lo: number, rc: number, bits: number): IntResult {
  const r = INT;
  r.inexact = false;
  r.ok = true;
  const neg = (se & EXT_SIGN) !== 0;
  const e = se & EXT_EXP_MAX;
  if (e === EXT_EXP_MAX || extIsNaN(se, hi, lo)) {
    r.ok = false;
    return r;
  }
  hi >>>= 0;
  lo >>>= 0;
  // Integer part = significand >> (63 - unbiased exponent).
  const unb = (e === 0 ? 1 : e) - EXT_BIAS;
  let qh: number;
  let ql: number;
  let roundUp = false;
  if (hi === 0 && lo === 0) {
    qh = 0;
    ql = 0;
  } else if (unb >= 63) {
    if (unb > 63) {
      r.ok = false;
      return r;
    }
    qh = hi;
    ql = lo;
  } else {
    const shift = 63 - unb;
    // Fraction bits: below `shift`; compare with one half.
    let fracNonZero: boolean;
    let halfBit: boolean;
    let belowHalf: boolean;
    if (shift >= 65) {
      qh = 0;
      ql = 0;
      fracNonZero = true;
      halfBit = false;
      belowHalf = true;
    } else if (shift === 64) {
      qh = 0;
      ql = 0;
      fracNonZero = true;
      halfBit = (hi & 0x80000000) !== 0;
      belowHalf = (hi & 0x7fffffff) !== 0 || lo !== 0;
    } else if (shift >= 32) {
      const s = shift - 32;
      qh = 0;
      ql = s === 32 ? 0 : hi >>> s;
      const fracHi = s === 0 ? 0 : (hi & (2 ** s - 1)) >>> 0;
      fracNonZero = fracHi !== 0 || lo !== 0;
      halfBit = s === 0 ? (lo & 0x80000000) !== 0 : ((fracHi >>> (s - 1)) & 1) !== 0;
      belowHalf = s === 0 ? (lo & 0x7fffffff) !== 0 : (fracHi & (2 ** (s - 1) - 1)) !== 0 || lo !== 0;
    } else {
      qh = hi >>> shift;
      ql = ((hi << (32 - shift)) | (lo >>> shift)) >>> 0;
      const fracLo = (lo & (2 ** shift - 1)) >>> 0;
      fracNonZero = fracLo !== 0;
      halfBit = ((fracLo >>> (shift - 1)) & 1) !== 0;
      belowHalf = (fracLo & (2 ** (shift - 1) - 1)) !== 0;
    }
    r.inexact = fracNonZero;
    if (fracNonZero) {
      switch (rc) {
        case RC_NEAREST:
          roundUp = halfBit && (belowHalf || (ql & 1) === 1);
          break;
        case RC_DOWN:
          roundUp = neg;
          break;
        case RC_UP:
          roundUp = !neg;
          break;
        default:
          roundUp = false;
      }
    }
    if (roundUp) {
      ql = (ql + 1) >>> 0;
      if (ql === 0) qh = (qh + 1) >>> 0;
    }
  }
  // Range: magnitude must fit the signed type (2^(bits-1) allowed only when negative).
  const limitHi = bits === 64 ? 0x80000000 : 0;
  const limitLo = bits === 64 ? 0 : 2 ** (bits - 1);
  const over = qh > limitHi || (qh === limitHi && ql > limitLo) || (qh === limitHi && ql === limitLo && !neg);
  if (over) {
    r.ok = false;
    return r;
  }
  if (neg) {
    ql = (~ql + 1) >>> 0;
    qh = (~qh + (ql === 0 ? 1 : 0)) >>> 0;
  }
  r.lo = ql | 0;
  r.hi = qh | 0;
  return r;
}

/** Classifies an extended value for the tag word: 0 valid, 1 zero, 2 special. */
export function extTag(se: number, hi: number, lo: number): number {
  const e = se & EXT_EXP_MAX;
  if (e === EXT_EXP_MAX) return 2;
  if (e === 0) return hi === 0 && lo === 0 ? 1 : 2;
  return (hi & 0x80000000) === 0 ? 2 : 0;
}

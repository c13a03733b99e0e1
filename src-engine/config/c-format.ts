/**
 * The few pieces of C's stdio and stdlib that xl's behaviour depends on, reproduced exactly:
 * printf field padding (`%-Ns`, `%Ns`, `%Nd`), `%.Nf` with glibc's rounding, the `(float)` cast
 * xl applies to CPU times, and `strtol`/`strtoul` number parsing (xl reads numbers with
 * `strtol(s, &end, 0)` in libxlu_cfg.c and with base 10 in xl's option parsing).
 */

/** C isspace() in the "C" locale: space, \t, \n, \v, \f, \r. */
export function cIsSpace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\v' || ch === '\f' || ch === '\r';
}

/** `%-Ns`: left-aligned in a field of at least `width` characters (never truncated). */
export function padRight(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** `%Ns`: right-aligned in a field of at least `width` characters (never truncated). */
export function padLeft(text: string, width: number): string {
  return text.length >= width ? text : ' '.repeat(width - text.length) + text;
}

/** `%Nd` / `%Nu` of an integer. */
export function cInt(value: number, width: number): string {
  return padLeft(String(Math.trunc(value)), width);
}

/** C's `(float)x`: rounds a double to the nearest single-precision value. */
export function cFloat(x: number): number {
  return Math.fround(x);
}

const MANTISSA_BITS = 52; // IEEE 754 binary64 stored fraction bits
const EXPONENT_BIAS = 1075; // binary64 exponent bias (1023) plus the 52 fraction bits

/** Splits a finite double into an exact integer mantissa and a power-of-two exponent. */
function decompose(x: number): { mant: bigint; exp: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const rawExp = Number((bits >> BigInt(MANTISSA_BITS)) & 0x7ffn);
  const frac = bits & ((1n << BigInt(MANTISSA_BITS)) - 1n);
  if (rawExp === 0) return { mant: frac, exp: 1 - EXPONENT_BIAS };
  return { mant: frac | (1n << BigInt(MANTISSA_BITS)), exp: rawExp - EXPONENT_BIAS };
}

/**
 * `%.Nf` exactly as glibc prints it: the exact binary value is rounded to N decimals, ties to
 * even (JavaScript's toFixed rounds ties away from zero, which differs for values like 0.25).
 */
export function cFixed(x: number, precision: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const negative = x < 0 || Object.is(x, -0);
  const { mant, exp } = decompose(x);
  const scale = 10n ** BigInt(precision);
  let q: bigint;
  if (exp >= 0) {
    q = (mant << BigInt(exp)) * scale;
  } else {
    const num = mant * scale;
    const den = 1n << BigInt(-exp);
    q = num / den;
    const twiceRem = (num % den) * 2n;
    if (twiceRem > den || (twiceRem === den && q % 2n === 1n)) q += 1n;
  }
  let digits = q.toString();
  if (precision > 0) {
    digits = digits.padStart(precision + 1, '0');
    digits = `${digits.slice(0, -precision)}.${digits.slice(-precision)}`;
  }
  return (negative ? '-' : '') + digits;
}

/** `%W.Nf`: cFixed right-aligned in a field of `width`. */
export function cFixedWidth(x: number, width: number, precision: number): string {
  return padLeft(cFixed(x, precision), width);
}

/** Result of cStrtol: the value, where parsing stopped, and whether it overflowed a C long. */
export interface StrtolResult {
  value: bigint;
  /** Index just after the last character used; 0 when no number was found (C's endptr == str). */
  end: number;
  /** True when the value does not fit a 64-bit long (C sets errno = ERANGE and clamps). */
  overflow: boolean;
}

const LONG_MAX = (1n << 63n) - 1n; // LP64 `long`, as on Xen's x86-64 toolstack
const LONG_MIN = -(1n << 63n);

function digitValue(ch: string): number {
  const c = ch.toLowerCase();
  if (c >= '0' && c <= '9') return c.charCodeAt(0) - 48;
  if (c >= 'a' && c <= 'z') return c.charCodeAt(0) - 87;
  return 99;
}

/**
 * C strtol(text, &end, base) for base 0 (decimal, 0x hex, 0 octal) or 10: skips leading
 * whitespace, takes an optional sign, then as many digits as fit the base.
 */
export function cStrtol(text: string, base: 0 | 10): StrtolResult {
  let i = 0;
  while (i < text.length && cIsSpace(text[i])) i++;
  let negative = false;
  if (text[i] === '+' || text[i] === '-') {
    negative = text[i] === '-';
    i++;
  }
  let radix: number = base === 0 ? 10 : base;
  if (base === 0 && text[i] === '0') {
    if ((text[i + 1] === 'x' || text[i + 1] === 'X') && digitValue(text[i + 2] ?? '') < 16) {
      radix = 16;
      i += 2;
    } else {
      radix = 8;
    }
  }
  const start = i;
  let value = 0n;
  while (i < text.length && digitValue(text[i]) < radix) {
    value = value * BigInt(radix) + BigInt(digitValue(text[i]));
    i++;
  }
  if (i === start) return { value: 0n, end: 0, overflow: false };
  if (negative) value = -value;
  const overflow = value > LONG_MAX || value < LONG_MIN;
  if (overflow) value = negative ? LONG_MIN : LONG_MAX;
  return { value, end: i, overflow };
}

/** `strtol(optarg, NULL, 10)` as xl's option parsing uses it: junk gives 0, a prefix number wins. */
export function cAtoiLike(text: string): number {
  const r = cStrtol(text, 10);
  return Number(BigInt.asIntN(32, r.value)); // stored into a C int
}

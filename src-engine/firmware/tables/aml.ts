/**
 * A small ACPI Machine Language encoder: just the terms the DSDT needs (names, integers,
 * strings, packages, scopes, devices).
 *
 * Reference: ACPI Specification 6.5 chapter 20 "ACPI Machine Language (AML) Specification":
 * 20.2.3 data objects (ZeroOp 0x00, OneOp 0x01, BytePrefix 0x0A, WordPrefix 0x0B,
 * DWordPrefix 0x0C, StringPrefix 0x0D, QWordPrefix 0x0E), 20.2.4 PkgLength (1 byte below 64,
 * else a lead byte holding the count of following bytes in bits 7-6 and the low nibble), 20.2.2
 * NameSeg (4 characters, A-Z or _ first, then A-Z 0-9 _) and RootChar '\', 20.2.5 NameOp 0x08,
 * ScopeOp 0x10, PackageOp 0x12, ExtOpPrefix 0x5B DeviceOp 0x82.
 */

/** AML opcodes and prefixes. */
const ZERO_OP = 0x00;
const ONE_OP = 0x01;
const BYTE_PREFIX = 0x0a;
const WORD_PREFIX = 0x0b;
const DWORD_PREFIX = 0x0c;
const STRING_PREFIX = 0x0d;
const QWORD_PREFIX = 0x0e;
const NAME_OP = 0x08;
const SCOPE_OP = 0x10;
const PACKAGE_OP = 0x12;
const EXT_OP_PREFIX = 0x5b;
const DEVICE_OP = 0x82;
const ROOT_CHAR = 0x5c;
const DUAL_NAME_PREFIX = 0x2e;
const MULTI_NAME_PREFIX = 0x2f;
/** Largest length each PkgLength size can carry (the length counts the PkgLength bytes too). */
const PKG_LENGTH_LIMITS = [0x3f, 0xfff, 0xfffff, 0xfffffff];
const NAME_SEG_CHARS = 4;
const TWO32 = 4294967296;

/** An encoded AML term: plain bytes. */
export type Aml = readonly number[];

/** PkgLength followed by `body`: the length includes the encoding's own bytes. */
export function pkg(body: Aml): number[] {
  for (let n = 1; n <= PKG_LENGTH_LIMITS.length; n++) {
    const total = body.length + n;
    if (total > PKG_LENGTH_LIMITS[n - 1]) continue;
    if (n === 1) return [total, ...body];
    const head = ((n - 1) << 6) | (total & 0x0f);
    const rest: number[] = [];
    for (let i = 1; i < n; i++) rest.push((total >>> (4 + 8 * (i - 1))) & 0xff);
    return [head, ...rest, ...body];
  }
  throw new RangeError(`an AML package of ${body.length} bytes is too long`);
}

/** A NameSeg, padded with '_' to four characters. */
function nameSeg(seg: string): number[] {
  if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(seg)) throw new RangeError(`"${seg}" is not an AML NameSeg`);
  return [...seg.padEnd(NAME_SEG_CHARS, '_')].map((c) => c.charCodeAt(0));
}

/** A NameString: "\_SB.C000", "_S5", "\_S5". */
export function nameString(path: string): number[] {
  const out: number[] = [];
  let rest = path;
  if (rest.startsWith('\\')) {
    out.push(ROOT_CHAR);
    rest = rest.slice(1);
  }
  const segs = rest.split('.').map(nameSeg);
  if (segs.length === 2) out.push(DUAL_NAME_PREFIX);
  else if (segs.length > 2) out.push(MULTI_NAME_PREFIX, segs.length);
  for (const s of segs) out.push(...s);
  return out;
}

/** The shortest integer encoding of a non-negative integer below 2^53. */
export function integer(v: number): number[] {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`AML integer ${v} is not encodable`);
  const le32 = (x: number) => [0, 8, 16, 24].map((s) => (x >>> s) & 0xff);
  if (v === 0) return [ZERO_OP];
  if (v === 1) return [ONE_OP];
  if (v <= 0xff) return [BYTE_PREFIX, v];
  if (v <= 0xffff) return [WORD_PREFIX, v & 0xff, v >>> 8];
  if (v < TWO32) return [DWORD_PREFIX, ...le32(v)];
  return [QWORD_PREFIX, ...le32(v % TWO32), ...le32(Math.floor(v / TWO32))];
}

/** A string constant (ASCII, NUL-terminated). */
export function string(text: string): number[] {
  return [STRING_PREFIX, ...[...text].map((c) => c.charCodeAt(0) & 0x7f), 0];
}

/** Name(path, object). */
export function name(path: string, object: Aml): number[] {
  return [NAME_OP, ...nameString(path), ...object];
}

/** Package(n) { elements }. */
export function packageOf(elements: readonly Aml[]): number[] {
  const body = [elements.length, ...elements.flat()];
  return [PACKAGE_OP, ...pkg(body)];
}

/** Scope(path) { terms }. */
export function scope(path: string, terms: readonly Aml[]): number[] {
  return [SCOPE_OP, ...pkg([...nameString(path), ...terms.flat()])];
}

/** Device(name) { terms }. */
export function device(path: string, terms: readonly Aml[]): number[] {
  return [EXT_OP_PREFIX, DEVICE_OP, ...pkg([...nameString(path), ...terms.flat()])];
}

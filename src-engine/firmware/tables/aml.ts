/**
 * A small ACPI Machine Language encoder: just the terms the DSDT needs (names, integers,
 * strings, packages, buffers, scopes, devices, operation regions and fields, and the few
 * statements and operators the CPU hotplug methods use).
 *
 * Reference: ACPI Specification 6.5 chapter 20 "ACPI Machine Language (AML) Specification":
 * 20.2.3 data objects (ZeroOp 0x00, OneOp 0x01, BytePrefix 0x0A, WordPrefix 0x0B,
 * DWordPrefix 0x0C, StringPrefix 0x0D, QWordPrefix 0x0E), 20.2.4 PkgLength (1 byte below 64,
 * else a lead byte holding the count of following bytes in bits 7-6 and the low nibble), 20.2.2
 * NameSeg (4 characters, A-Z or _ first, then A-Z 0-9 _) and RootChar '\', 20.2.5 NameOp 0x08,
 * ScopeOp 0x10, PackageOp 0x12, BufferOp 0x11, ExtOpPrefix 0x5B DeviceOp 0x82, MethodOp 0x14
 * (MethodFlags: ArgCount bits 2-0, SerializeFlag bit 3), ExtOpPrefix OpRegionOp 0x80 (RegionSpace
 * SystemIO 0x01) and FieldOp 0x81 (FieldFlags: AccessType bits 3-0, LockRule bit 4, UpdateRule
 * bits 6-5; a NamedField is a NameSeg and its width in bits as a PkgLength that does not count
 * its own bytes); 20.2.5.3 statements IfOp 0xA0, ElseOp 0xA1, NotifyOp 0x86, ReturnOp 0xA4;
 * 20.2.5.4 expressions StoreOp 0x70, ShiftRightOp 0x7A, AndOp 0x7B, LNotOp 0x92, LEqualOp 0x93
 * (LNotEqual is LNotOp LEqualOp); 20.2.6 Local0-7 0x60-0x67, Arg0-6 0x68-0x6E; NullName 0x00
 * as a Target that discards the result.
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
const BUFFER_OP = 0x11;
const METHOD_OP = 0x14;
const OP_REGION_OP = 0x80;
const FIELD_OP = 0x81;
const IF_OP = 0xa0;
const ELSE_OP = 0xa1;
const NOTIFY_OP = 0x86;
const RETURN_OP = 0xa4;
const STORE_OP = 0x70;
const SHIFT_RIGHT_OP = 0x7a;
const AND_OP = 0x7b;
const LNOT_OP = 0x92;
const LEQUAL_OP = 0x93;
const LOCAL0_OP = 0x60;
const ARG0_OP = 0x68;
const LOCAL_COUNT = 8;
const ARG_COUNT = 7;
/** A NullName Target: the result is not stored. */
const NULL_NAME = 0x00;
/** MethodFlags: bits 2-0 ArgCount, bit 3 SerializeFlag. */
const METHOD_SERIALIZED = 0x08;
const ROOT_CHAR = 0x5c;
const DUAL_NAME_PREFIX = 0x2e;
const MULTI_NAME_PREFIX = 0x2f;
/** Largest length each PkgLength size can carry (the length counts the PkgLength bytes too). */
const PKG_LENGTH_LIMITS = [0x3f, 0xfff, 0xfffff, 0xfffffff];
const NAME_SEG_CHARS = 4;
const TWO32 = 4294967296;

/** An encoded AML term: plain bytes. */
export type Aml = readonly number[];

/** RegionSpace of an OperationRegion in I/O port space. */
export const AML_REGION_SYSTEM_IO = 0x01;
/** FieldFlags AccessType ByteAcc (bits 3-0). */
export const AML_FIELD_BYTE_ACC = 0x01;
/** FieldFlags UpdateRule Preserve (bits 6-5 = 0): bits outside the field keep their value. */
export const AML_FIELD_PRESERVE = 0x00;
/** FieldFlags UpdateRule WriteAsZeros (bits 6-5 = 2). */
export const AML_FIELD_WRITE_AS_ZEROS = 0x40;
/** Notify values (ACPI 6.5 Table 5.166): Device Check (re-read _STA, e.g. inserted). */
export const AML_NOTIFY_DEVICE_CHECK = 1;
/** Notify value: Eject Request (OSPM should release the device and run _EJ0). */
export const AML_NOTIFY_EJECT_REQUEST = 3;

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

/** A PkgLength encoding of `value` that does not count its own bytes (field widths). */
function rawLength(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > PKG_LENGTH_LIMITS[PKG_LENGTH_LIMITS.length - 1]) {
    throw new RangeError(`AML length ${value} is not encodable`);
  }
  if (value <= PKG_LENGTH_LIMITS[0]) return [value];
  const n = value <= PKG_LENGTH_LIMITS[1] ? 2 : value <= PKG_LENGTH_LIMITS[2] ? 3 : 4;
  const out = [((n - 1) << 6) | (value & 0x0f)];
  for (let i = 1; i < n; i++) out.push((value >>> (4 + 8 * (i - 1))) & 0xff);
  return out;
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

/** Buffer() { bytes }: a buffer of exactly these bytes. */
export function buffer(bytes: readonly number[]): number[] {
  return [BUFFER_OP, ...pkg([...integer(bytes.length), ...bytes.map((b) => b & 0xff)])];
}

/** Method(name, args, serialized) { terms }. */
export function method(path: string, args: number, terms: readonly Aml[], serialized = false): number[] {
  if (!Number.isInteger(args) || args < 0 || args >= ARG_COUNT) throw new RangeError(`an AML method takes 0 to 6 arguments, not ${args}`);
  const flags = args | (serialized ? METHOD_SERIALIZED : 0);
  return [METHOD_OP, ...pkg([...nameString(path), flags, ...terms.flat()])];
}

/** OperationRegion(name, space, offset, length). */
export function operationRegion(path: string, space: number, offset: number, length: number): number[] {
  return [EXT_OP_PREFIX, OP_REGION_OP, ...nameString(path), space, ...integer(offset), ...integer(length)];
}

/** One unit of a Field: a name and its width in bits, or an unnamed gap (name undefined). */
export interface AmlFieldUnit {
  name?: string;
  bits: number;
}

/** Field(region, flags) { units }. */
export function field(region: string, flags: number, units: readonly AmlFieldUnit[]): number[] {
  const list = units.flatMap((u) => (u.name === undefined ? [0x00, ...rawLength(u.bits)] : [...nameSeg(u.name), ...rawLength(u.bits)]));
  return [EXT_OP_PREFIX, FIELD_OP, ...pkg([...nameString(region), flags, ...list])];
}

/** If (predicate) { then } [Else { otherwise }]. */
export function ifElse(predicate: Aml, then: readonly Aml[], otherwise?: readonly Aml[]): number[] {
  const out = [IF_OP, ...pkg([...predicate, ...then.flat()])];
  if (otherwise !== undefined) out.push(ELSE_OP, ...pkg(otherwise.flat()));
  return out;
}

/** Return (value). */
export function returnOf(value: Aml): number[] {
  return [RETURN_OP, ...value];
}

/** Store (source, destination). */
export function store(source: Aml, destination: Aml): number[] {
  return [STORE_OP, ...source, ...destination];
}

/** Notify (object, value). */
export function notify(path: string, value: number): number[] {
  return [NOTIFY_OP, ...nameString(path), ...integer(value)];
}

/** And (a, b, target); target NullName discards the result (use it as an expression). */
export function and(a: Aml, b: Aml, target: Aml = [NULL_NAME]): number[] {
  return [AND_OP, ...a, ...b, ...target];
}

/** ShiftRight (a, count, target). */
export function shiftRight(a: Aml, count: Aml, target: Aml = [NULL_NAME]): number[] {
  return [SHIFT_RIGHT_OP, ...a, ...count, ...target];
}

/** LEqual (a, b). */
export function lEqual(a: Aml, b: Aml): number[] {
  return [LEQUAL_OP, ...a, ...b];
}

/** LNotEqual (a, b), encoded as LNot (LEqual (a, b)). */
export function lNotEqual(a: Aml, b: Aml): number[] {
  return [LNOT_OP, LEQUAL_OP, ...a, ...b];
}

/** A reference to a named object (a NameString used as a term). */
export function ref(path: string): number[] {
  return nameString(path);
}

/** A method call with arguments: name(args...). The callee's argument count must match. */
export function call(path: string, args: readonly Aml[] = []): number[] {
  return [...nameString(path), ...args.flat()];
}

/** LocalN (0-7). */
export function local(n: number): number[] {
  if (!Number.isInteger(n) || n < 0 || n >= LOCAL_COUNT) throw new RangeError(`Local${n} does not exist`);
  return [LOCAL0_OP + n];
}

/** ArgN (0-6). */
export function arg(n: number): number[] {
  if (!Number.isInteger(n) || n < 0 || n >= ARG_COUNT) throw new RangeError(`Arg${n} does not exist`);
  return [ARG0_OP + n];
}

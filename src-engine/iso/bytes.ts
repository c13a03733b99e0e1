/**
 * Little byte helpers shared by the ISO 9660 writer and the GRUB core-image assembler: fixed-width
 * integers in the endiannesses ECMA-119 uses, space- or zero-padded ASCII fields, alignment.
 */

/** ECMA-119 logical block size: every LBA in an ISO image counts 2048-byte sectors. */
export const SECTOR_SIZE = 2048;

/** A "512-byte sector" (BIOS disk sector, El Torito virtual sector, MBR LBA unit). */
export const DISK_SECTOR_SIZE = 512;

/** 2^32, for splitting 64-bit values into two 32-bit halves. */
const TWO_POW_32 = 0x1_0000_0000;

/** Rounds `n` up to a multiple of `align` (a positive integer). */
export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/** Writes an unsigned 16-bit little-endian value. */
export function putU16LE(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
}

/** Writes an unsigned 16-bit big-endian value. */
export function putU16BE(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 8) & 0xff;
  buf[off + 1] = v & 0xff;
}

/** Writes an unsigned 32-bit little-endian value. */
export function putU32LE(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
  buf[off + 2] = (v >>> 16) & 0xff;
  buf[off + 3] = (v >>> 24) & 0xff;
}

/** Writes an unsigned 32-bit big-endian value. */
export function putU32BE(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

/** Writes an unsigned 64-bit little-endian value given as a safe integer (< 2^53). */
export function putU64LE(buf: Uint8Array, off: number, v: number): void {
  putU32LE(buf, off, v % TWO_POW_32);
  putU32LE(buf, off + 4, Math.floor(v / TWO_POW_32));
}

/** ECMA-119 7.2.3 "both-byte orders" 16-bit field: LE copy then BE copy (4 bytes). */
export function putBoth16(buf: Uint8Array, off: number, v: number): void {
  putU16LE(buf, off, v);
  putU16BE(buf, off + 2, v);
}

/** ECMA-119 7.3.3 "both-byte orders" 32-bit field: LE copy then BE copy (8 bytes). */
export function putBoth32(buf: Uint8Array, off: number, v: number): void {
  putU32LE(buf, off, v);
  putU32BE(buf, off + 4, v);
}

/** Reads an unsigned 16-bit little-endian value. */
export function getU16LE(buf: Uint8Array, off: number): number {
  return buf[off] | (buf[off + 1] << 8);
}

/** Reads an unsigned 32-bit little-endian value. */
export function getU32LE(buf: Uint8Array, off: number): number {
  return (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)) >>> 0;
}

/** Reads an unsigned 32-bit big-endian value. */
export function getU32BE(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

/** Reads an unsigned 64-bit little-endian value (exact below 2^53). */
export function getU64LE(buf: Uint8Array, off: number): number {
  return getU32LE(buf, off) + getU32LE(buf, off + 4) * TWO_POW_32;
}

/**
 * Writes `text` as single-byte characters into a field of `len` bytes, filling the rest with
 * `pad` (0x20 for ECMA-119 a/d-character fields, 0 for El Torito ids). Longer text is cut.
 */
export function putPadded(buf: Uint8Array, off: number, len: number, text: string, pad = 0x20): void {
  for (let i = 0; i < len; i++) buf[off + i] = i < text.length ? text.charCodeAt(i) & 0xff : pad;
}

const utf8 = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8Bytes(text: string): Uint8Array {
  return utf8.encode(text);
}

/** Concatenates byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

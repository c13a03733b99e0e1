/**
 * A little-endian byte builder for firmware tables (ACPI, MP), and the 8-bit checksum both
 * specifications use: every byte of the covered range, checksum included, sums to 0 mod 256.
 */

/** Bytes of an ACPI Generic Address Structure (ACPI 6.5 5.2.3.2). */
export const GAS_BYTES = 12;
// GAS address space IDs.
/** GAS address space 0: system memory. */
export const GAS_SPACE_MEMORY = 0;
/** GAS address space 1: system I/O. */
export const GAS_SPACE_IO = 1;
// GAS access sizes: 0 undefined (legacy), 1 byte, 2 word, 3 dword, 4 qword.
/** GAS access size 0: undefined (legacy). */
export const GAS_ACCESS_UNDEFINED = 0;
/** GAS access size 1: byte. */
export const GAS_ACCESS_BYTE = 1;
/** GAS access size 2: word. */
export const GAS_ACCESS_WORD = 2;
/** GAS access size 3: dword. */
export const GAS_ACCESS_DWORD = 3;
const TWO32 = 4294967296;

/** Grows a byte array field by field. */
export class ByteBuilder {
  private buf = new Uint8Array(256);
  private len = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.len;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    return this.u8(v).u8(v >>> 8);
  }

  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }

  /** A 64-bit field from a non-negative integer below 2^53. */
  u64(v: number): this {
    const hi = Math.floor(v / TWO32);
    return this.u32(v - hi * TWO32).u32(hi);
  }

  /** ASCII text in a field of `width` bytes, padded with `pad` (default space, 0x20). */
  ascii(text: string, width: number, pad = 0x20): this {
    for (let i = 0; i < width; i++) this.u8(i < text.length ? text.charCodeAt(i) : pad);
    return this;
  }

  bytes(data: Uint8Array | readonly number[]): this {
    this.room(data.length);
    for (let i = 0; i < data.length; i++) this.buf[this.len++] = data[i] & 0xff;
    return this;
  }

  /** Zero bytes. */
  zeros(n: number): this {
    this.room(n);
    this.buf.fill(0, this.len, this.len + n);
    this.len += n;
    return this;
  }

  /** An ACPI Generic Address Structure. */
  gas(space: number, bitWidth: number, bitOffset: number, access: number, address: number): this {
    return this.u8(space).u8(bitWidth).u8(bitOffset).u8(access).u64(address);
  }

  /** The bytes written, as a new array. */
  build(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Sum of `data[from..to)` mod 256. */
export function byteSum(data: Uint8Array, from = 0, to = data.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum = (sum + data[i]) & 0xff;
  return sum;
}

/** Sets `data[at]` so that `data[from..to)` sums to 0 mod 256. */
export function fixChecksum(data: Uint8Array, at: number, from = 0, to = data.length): void {
  data[at] = 0;
  data[at] = (0x100 - byteSum(data, from, to)) & 0xff;
}

/** Rounds `value` up to a multiple of `align` (a power of two). */
export function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

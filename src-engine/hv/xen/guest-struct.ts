/**
 * A guest structure read into a local buffer through one layout of abi/layouts.ts: fields are
 * read by name, OUT fields are written back to the guest one at a time (Xen's
 * __copy_field_to_guest), so IN fields the guest may change concurrently are never rewritten.
 *
 * 64-bit fields come back as numbers: exact below 2^53, and above that still larger than any
 * frame number or address the engine accepts, so range checks reject them. Where all 64 bits
 * matter (HVM parameter values) use lo()/hi().
 */
import type { GuestAccess } from './guest-access';
import { fieldSize, type GuestWidth, type StructLayout } from './abi/layouts';

const TWO32 = 4294967296;

/** One structure instance in guest memory. */
export class GuestStruct<F extends string> {
  private readonly view: DataView;

  private constructor(
    private readonly guest: GuestAccess,
    readonly addr: number,
    readonly layout: StructLayout<F>,
    readonly width: GuestWidth,
    readonly bytes: Uint8Array,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** copy_from_guest of the whole structure at linear `addr` (EFAULT if any byte is unreachable). */
  static read<F extends string>(guest: GuestAccess, addr: number, layout: StructLayout<F>, width: GuestWidth): GuestStruct<F> {
    const size = width === 32 ? layout.size32 : layout.size64;
    return new GuestStruct(guest, addr, layout, width, guest.read(addr, size));
  }

  /** Size of the structure at this width. */
  get size(): number {
    return this.width === 32 ? this.layout.size32 : this.layout.size64;
  }

  private off(f: F): number {
    const spec = this.layout.fields[f];
    return this.width === 32 ? spec.off32 : spec.off64;
  }

  /** A field's value (unsigned, except i16). */
  get(f: F): number {
    const spec = this.layout.fields[f];
    const o = this.off(f);
    switch (fieldSize(spec.type, this.width)) {
      case 1:
        return this.view.getUint8(o);
      case 2:
        return spec.type === 'i16' ? this.view.getInt16(o, true) : this.view.getUint16(o, true);
      case 4:
        return this.view.getUint32(o, true);
      default:
        return this.view.getUint32(o + 4, true) * TWO32 + this.view.getUint32(o, true);
    }
  }

  /** Low 32 bits of a field. */
  lo(f: F): number {
    return this.view.getUint32(this.off(f), true);
  }

  /** High 32 bits of an 8-byte field (0 for narrower ones). */
  hi(f: F): number {
    return fieldSize(this.layout.fields[f].type, this.width) === 8 ? this.view.getUint32(this.off(f) + 4, true) : 0;
  }

  /** Sets a field in the local copy (no guest write). */
  set(f: F, value: number): void {
    const spec = this.layout.fields[f];
    const o = this.off(f);
    switch (fieldSize(spec.type, this.width)) {
      case 1:
        this.view.setUint8(o, value & 0xff);
        break;
      case 2:
        this.view.setUint16(o, value & 0xffff, true);
        break;
      case 4:
        this.view.setUint32(o, value >>> 0, true);
        break;
      default:
        this.view.setUint32(o, value % TWO32 >>> 0, true);
        this.view.setUint32(o + 4, Math.floor(value / TWO32) >>> 0, true);
        break;
    }
  }

  /** Sets an 8-byte field from its two 32-bit halves and copies it to the guest (exact). */
  putHalves(f: F, lo: number, hi: number): void {
    const o = this.off(f);
    this.view.setUint32(o, lo >>> 0, true);
    this.view.setUint32(o + 4, hi >>> 0, true);
    this.guest.write((this.addr + o) | 0, this.bytes.subarray(o, o + 8));
  }

  /** Sets a field and copies just that field to the guest. */
  put(f: F, value: number): void {
    this.set(f, value);
    const o = this.off(f);
    const n = fieldSize(this.layout.fields[f].type, this.width);
    this.guest.write((this.addr + o) | 0, this.bytes.subarray(o, o + n));
  }
}

/**
 * A GuestPhysMemory over one Uint8Array, for tests: RAM is [0, ramSize), every byte of it backed,
 * no holes. Any access outside RAM throws a MemoryError naming the address, like the real memory.
 */
import { MemoryError } from '../../src-engine/base/errors';
import type { GuestPhysMemory } from '../../src-engine/machine/guest-memory';

/** Flat test memory; `bytes` is the RAM itself, for direct inspection. */
export class FlatGuestMemory implements GuestPhysMemory {
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(readonly ramSize: number) {
    this.bytes = new Uint8Array(ramSize);
    this.view = new DataView(this.bytes.buffer);
  }

  isRam(addr: number, len: number): boolean {
    return Number.isSafeInteger(addr) && Number.isSafeInteger(len) && addr >= 0 && len >= 0 && addr + len <= this.ramSize;
  }

  read(addr: number, len: number): Uint8Array {
    this.check(addr, len);
    return this.bytes.slice(addr, addr + len);
  }

  write(addr: number, data: Uint8Array): void {
    this.check(addr, data.length);
    this.bytes.set(data, addr);
  }

  fill(addr: number, len: number, value: number): void {
    this.check(addr, len);
    this.bytes.fill(value, addr, addr + len);
  }

  readU8(addr: number): number {
    this.check(addr, 1);
    return this.bytes[addr];
  }

  readU16(addr: number): number {
    this.check(addr, 2);
    return this.view.getUint16(addr, true);
  }

  readU32(addr: number): number {
    this.check(addr, 4);
    return this.view.getUint32(addr, true);
  }

  writeU8(addr: number, value: number): void {
    this.check(addr, 1);
    this.bytes[addr] = value;
  }

  writeU16(addr: number, value: number): void {
    this.check(addr, 2);
    this.view.setUint16(addr, value, true);
  }

  writeU32(addr: number, value: number): void {
    this.check(addr, 4);
    this.view.setUint32(addr, value >>> 0, true);
  }

  /** Reads a NUL-terminated string starting at addr (test helper). */
  readCString(addr: number): string {
    let s = '';
    for (let a = addr; this.readU8(a) !== 0; a++) s += String.fromCharCode(this.readU8(a));
    return s;
  }

  private check(addr: number, len: number): void {
    if (!this.isRam(addr, len)) {
      throw new MemoryError(
        'memory.outside-ram',
        `guest-physical access of ${len} bytes at 0x${addr.toString(16)} is outside the guest's RAM (0x${this.ramSize.toString(16)} bytes)`,
      );
    }
  }
}

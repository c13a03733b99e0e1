/**
 * The memory-mapped I/O bus of one domain: places devices on guest-physical address ranges that
 * are not RAM and dispatches the CPU's MMIO exits to them.
 *
 * References: PC memory map below 4 GiB (Intel 82093AA IOAPIC at 0xFEC00000, IA-PC HPET at
 * 0xFED00000, local APICs at 0xFEE00000); QEMU's "unassigned" memory for what a read that no
 * device answers sees (all ones) and that such a write is dropped.
 *
 * Devices do not know where they sit: a device receives the offset of the access inside its
 * range, not the absolute address. A range belongs to exactly one device; a second claim on any
 * byte of it is refused. The local APICs are not on this bus: each pCPU serves its own VCPU's
 * APIC page from shared memory (lapic.ts).
 */
import { DomusError } from '../base/errors';
import type { IoSize, MmioDevice } from './device';

/** Addresses are guest-physical, below 4 GiB. */
const ADDRESS_LIMIT = 0x100000000;
/** What a read that no device answers returns, by size. */
const FLOATING: Readonly<Record<IoSize, number>> = { 1: 0xff, 2: 0xffff, 4: 0xffffffff };
/** The bits an access of each size carries. */
const SIZE_MASK: Readonly<Record<IoSize, number>> = { 1: 0xff, 2: 0xffff, 4: 0xffffffff };

/** An MMIO range that cannot be placed (overlap, outside 4 GiB, empty). */
export class MmioConflictError extends DomusError {}

/** One claimed range as MmioBus.ranges() lists it. */
export interface MmioRange {
  base: number;
  size: number;
  device: string;
  reads: number;
  writes: number;
}

interface Slot {
  base: number;
  end: number;
  device: MmioDevice;
  reads: number;
  writes: number;
}

/** Formats a guest-physical address for messages and listings. */
export function hexAddress(addr: number): string {
  return '0x' + (addr >>> 0).toString(16).padStart(8, '0');
}

/** The MMIO bus of one domain. Device callbacks get (offset inside the range, size[, value]). */
export class MmioBus {
  /** Slots sorted by base address. */
  private readonly slots: Slot[] = [];
  private unclaimedReads = 0;
  private unclaimedWrites = 0;
  private last: Slot | undefined;

  /** Gives guest-physical [base, base + size) to `device`; refuses overlaps with a named error. */
  register(base: number, size: number, device: MmioDevice): void {
    if (!Number.isInteger(base) || !Number.isInteger(size) || size < 1 || base < 0 || base + size > ADDRESS_LIMIT) {
      throw new MmioConflictError(
        'machine.mmio-range',
        `Device "${device.name}" asks for ${size} bytes of MMIO at ${base}: a range must lie below 4 GiB and hold at least one byte.`,
        device.name,
      );
    }
    for (const s of this.slots) {
      if (base < s.end && s.base < base + size) {
        throw new MmioConflictError(
          'machine.mmio-overlap',
          `Device "${device.name}" at ${hexAddress(base)}-${hexAddress(base + size - 1)} overlaps device "${s.device.name}" at ` +
            `${hexAddress(s.base)}-${hexAddress(s.end - 1)}. Give one of them another base address, or leave one out.`,
          device.name,
        );
      }
    }
    this.slots.push({ base, end: base + size, device, reads: 0, writes: 0 });
    this.slots.sort((a, b) => a.base - b.base);
  }

  /** True if some device claims guest-physical `addr`. */
  claims(addr: number): boolean {
    return this.find(addr >>> 0) !== undefined;
  }

  /** An MMIO read; unclaimed addresses read as all ones. The result is unsigned. */
  read(addr: number, size: IoSize): number {
    addr >>>= 0;
    const slot = this.find(addr);
    if (slot === undefined) {
      this.unclaimedReads++;
      return FLOATING[size];
    }
    slot.reads++;
    return (slot.device.mmioRead(addr - slot.base, size) & SIZE_MASK[size]) >>> 0;
  }

  /** An MMIO write; writes nobody claims are dropped. */
  write(addr: number, size: IoSize, value: number): void {
    addr >>>= 0;
    const slot = this.find(addr);
    if (slot === undefined) {
      this.unclaimedWrites++;
      return;
    }
    slot.writes++;
    slot.device.mmioWrite(addr - slot.base, size, (value & SIZE_MASK[size]) >>> 0);
  }

  /** The claimed ranges, ascending by address. */
  ranges(): MmioRange[] {
    return this.slots.map((s) => ({ base: s.base, size: s.end - s.base, device: s.device.name, reads: s.reads, writes: s.writes }));
  }

  /** A listing, one range a line: "0xfec00000-0xfec00fff  ioapic". */
  describe(): string {
    return this.slots.map((s) => `${hexAddress(s.base)}-${hexAddress(s.end - 1)}  ${s.device.name}`).join('\n');
  }

  /** Accesses nobody answered, for the exit statistics. */
  unclaimed(): { reads: number; writes: number } {
    return { reads: this.unclaimedReads, writes: this.unclaimedWrites };
  }

  private find(addr: number): Slot | undefined {
    const last = this.last;
    if (last !== undefined && addr >= last.base && addr < last.end) return last;
    let lo = 0;
    let hi = this.slots.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.slots[mid];
      if (addr < s.base) hi = mid - 1;
      else if (addr >= s.end) lo = mid + 1;
      else return (this.last = s);
    }
    return undefined;
  }
}

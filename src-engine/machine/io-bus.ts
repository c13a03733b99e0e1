/**
 * The x86 port-I/O bus: places devices on ranges of the 64 KiB I/O space and dispatches IN/OUT.
 *
 * References:
 * - Intel SDM vol. 1, ch. 19 "Input/Output": 65536 8-bit ports; a 16- or 32-bit port is a group of
 *   consecutive byte ports.
 * - ISA bus: a read that no device answers sees the floating (pulled-up) data bus, all ones; a
 *   write nobody claims is lost. QEMU models the same ("unassigned io" reads -1).
 *
 * Devices do not know where they sit: the platform file registers each one here. A range belongs
 * to exactly one device; a second claim on any of its ports is refused.
 */
import { DomusError } from '../base/errors';
import type { IoSize, PortDevice } from './device';

/** Number of x86 I/O ports (0x0000-0xFFFF). */
export const PORT_COUNT = 0x10000;
/** Mask that keeps a port number inside the I/O space (port + offset wraps at 64 KiB). */
const PORT_MASK = 0xffff;
/** Bits per byte lane of a wide access. */
const BITS_PER_BYTE = 8;
/** Slot index stored for a port no device claims. */
const NO_SLOT = 0;

/** What a read of an unclaimed port returns, by access size: the floating ISA data bus. */
const FLOATING_BUS: Readonly<Record<IoSize, number>> = { 1: 0xff, 2: 0xffff, 4: 0xffffffff };
/** The bits of a written value that an access of each size carries. */
const SIZE_MASK: Readonly<Record<IoSize, number>> = { 1: 0xff, 2: 0xffff, 4: 0xffffffff };

/**
 * How a device takes accesses wider than one byte.
 * - `byte`: the device has 8-bit registers (UART, PIC, PIT, CMOS ...). The bus splits a 16/32-bit
 *   access into byte accesses at consecutive ports, as the ISA bus does; the neighbouring bytes may
 *   belong to another device or be unclaimed.
 * - `any`: the device receives the access whole, with its size (e.g. isa-debug-exit).
 */
export type PortWidth = 'byte' | 'any';

/** Options of `IoBus.register`. */
export interface PortRangeConfig {
  /** Default `byte`. */
  width?: PortWidth;
}

/** One claimed range as shown by `IoBus.ranges()` (for `domus` debug output and tests). */
export interface PortRange {
  first: number;
  last: number;
  device: string;
  width: PortWidth;
  /** Accesses the device answered since the bus was created (a wide split access counts per byte). */
  reads: number;
  writes: number;
}

/** Totals of accesses nobody answered, for the engine's "unclaimed port" exit statistics. */
export interface UnclaimedPortStats {
  reads: number;
  writes: number;
  /** Port -> number of accesses, ascending by port. */
  byPort: [port: number, count: number][];
}

/** A port range that cannot be placed (overlap, or outside the I/O space). */
export class PortConflictError extends DomusError {}

interface Slot {
  first: number;
  count: number;
  device: PortDevice;
  width: PortWidth;
  reads: number;
  writes: number;
}

/** Formats a port the way the error messages and listings show it. */
export function hexPort(port: number): string {
  return '0x' + port.toString(16).padStart(4, '0');
}

function hexRange(first: number, count: number): string {
  return count === 1 ? hexPort(first) : `${hexPort(first)}-${hexPort(first + count - 1)}`;
}

/** The port-I/O bus of one domain. */
export class IoBus {
  /** Port -> 1 + index into `slots`, or NO_SLOT. */
  private readonly slotOfPort = new Uint16Array(PORT_COUNT);
  private readonly slots: Slot[] = [];
  private unclaimedReadCount = 0;
  private unclaimedWriteCount = 0;
  private readonly unclaimedByPort = new Map<number, number>();

  /**
   * Gives ports [firstPort, firstPort + count) to `device`. Throws a PortConflictError naming both
   * devices and the ports if any of them is already taken.
   */
  register(firstPort: number, count: number, device: PortDevice, config: PortRangeConfig = {}): void {
    if (!Number.isInteger(firstPort) || !Number.isInteger(count) || count < 1 || firstPort < 0 || firstPort + count > PORT_COUNT) {
      throw new PortConflictError(
        'machine.port-range',
        `Device "${device.name}" asks for ${count} port(s) at ${firstPort}: a port range must lie inside 0x0000-0xffff and hold at least one port.`,
        device.name,
      );
    }
    for (let port = firstPort; port < firstPort + count; port++) {
      const taken = this.slotOfPort[port];
      if (taken !== NO_SLOT) {
        const other = this.slots[taken - 1];
        const lo = Math.max(firstPort, other.first);
        const hi = Math.min(firstPort + count, other.first + other.count);
        throw new PortConflictError(
          'machine.port-overlap',
          `Device "${device.name}" at ${hexRange(firstPort, count)} overlaps device "${other.device.name}" at ` +
            `${hexRange(other.first, other.count)} (ports ${hexRange(lo, hi - lo)} claimed twice). ` +
            'Give one of them another I/O base, or leave one out.',
          device.name,
        );
      }
    }
    this.slots.push({ first: firstPort, count, device, width: config.width ?? 'byte', reads: 0, writes: 0 });
    this.slotOfPort.fill(this.slots.length, firstPort, firstPort + count);
  }

  /** IN: reads `size` bytes at `port`; unclaimed bytes read as ones. The result is unsigned. */
  read(port: number, size: IoSize): number {
    port &= PORT_MASK;
    const slotIndex = this.slotOfPort[port];
    if (slotIndex === NO_SLOT) {
      if (size === 1 || this.allUnclaimed(port, size)) return this.unclaimedRead(port, size);
      return this.splitRead(port, size);
    }
    const slot = this.slots[slotIndex - 1];
    if (size !== 1 && slot.width === 'byte') return this.splitRead(port, size);
    slot.reads++;
    return slot.device.ioRead(port, size) & SIZE_MASK[size];
  }

  /** OUT: writes the low `size` bytes of `value` at `port`; writes to unclaimed ports are dropped. */
  write(port: number, size: IoSize, value: number): void {
    port &= PORT_MASK;
    value = (value & SIZE_MASK[size]) >>> 0;
    const slotIndex = this.slotOfPort[port];
    if (slotIndex === NO_SLOT) {
      if (size === 1 || this.allUnclaimed(port, size)) this.unclaimedWrite(port);
      else this.splitWrite(port, size, value);
      return;
    }
    const slot = this.slots[slotIndex - 1];
    if (size !== 1 && slot.width === 'byte') {
      this.splitWrite(port, size, value);
      return;
    }
    slot.writes++;
    slot.device.ioWrite(port, size, value);
  }

  /** Name of the device at `port`, or undefined. */
  deviceAt(port: number): string | undefined {
    const slotIndex = this.slotOfPort[port & PORT_MASK];
    return slotIndex === NO_SLOT ? undefined : this.slots[slotIndex - 1].device.name;
  }

  /** The claimed ranges, ascending by port. */
  ranges(): PortRange[] {
    return this.slots
      .map((s) => ({ first: s.first, last: s.first + s.count - 1, device: s.device.name, width: s.width, reads: s.reads, writes: s.writes }))
      .sort((a, b) => a.first - b.first);
  }

  /** A human-readable listing, one range a line: "0x03f8-0x03ff  uart-com1". */
  describe(): string {
    return this.ranges()
      .map((r) => `${hexRange(r.first, r.last - r.first + 1).padEnd(13)}  ${r.device}`)
      .join('\n');
  }

  /** Accesses to ports nobody claims. */
  unclaimed(): UnclaimedPortStats {
    return {
      reads: this.unclaimedReadCount,
      writes: this.unclaimedWriteCount,
      byPort: [...this.unclaimedByPort.entries()].sort((a, b) => a[0] - b[0]),
    };
  }

  private allUnclaimed(port: number, size: IoSize): boolean {
    for (let i = 1; i < size; i++) {
      if (this.slotOfPort[(port + i) & PORT_MASK] !== NO_SLOT) return false;
    }
    return true;
  }

  private unclaimedRead(port: number, size: IoSize): number {
    this.unclaimedReadCount++;
    this.unclaimedByPort.set(port, (this.unclaimedByPort.get(port) ?? 0) + 1);
    return FLOATING_BUS[size];
  }

  private unclaimedWrite(port: number): void {
    this.unclaimedWriteCount++;
    this.unclaimedByPort.set(port, (this.unclaimedByPort.get(port) ?? 0) + 1);
  }

  /** A wide access to byte-wide ports: one byte access per port, little-endian. */
  private splitRead(port: number, size: IoSize): number {
    let value = 0;
    for (let i = 0; i < size; i++) {
      value += this.read((port + i) & PORT_MASK, 1) * 2 ** (BITS_PER_BYTE * i);
    }
    return value;
  }

  private splitWrite(port: number, size: IoSize, value: number): void {
    for (let i = 0; i < size; i++) {
      this.write((port + i) & PORT_MASK, 1, Math.floor(value / 2 ** (BITS_PER_BYTE * i)) & 0xff);
    }
  }
}

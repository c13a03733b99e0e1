/**
 * QEMU's pc-testdev: the ports kvm-unit-tests style kernels use to check emulation and interrupt
 * routing.
 *
 * Reference: QEMU hw/misc/pc-testdev.c:
 *   0x00E0-0x00E3  32-bit scratch register, any access width, little-endian byte lanes
 *   0x00E4-0x00E7  "flush page": a 32-bit write of a guest-physical address (QEMU re-protects the
 *                  host page to flush KVM's view of it); a hint here, reported to a callback
 *   0x00E8-0x00EB  the scratch register again, accessed one byte at a time
 *   0x2000-0x2017  IRQ lines: a byte write of v to 0x2000 + n drives ISA IRQ / GSI n to (v != 0)
 *   0xFF000000     64 KiB of MMIO scratch memory (pc-testdev-iomem)
 * Reads of the flush and IRQ ports have no handler in QEMU; they read as all ones here.
 */
import type { IoSize, IrqLine, MmioDevice, Persistent, PortDevice } from './device';
import { requireSaved, requireStateVersion } from './save-state';

/** Scratch register ports (any width). */
export const TESTDEV_PORT_DATA = 0xe0;
/** Flush-page port. */
export const TESTDEV_PORT_FLUSH = 0xe4;
/** Byte-wide alias of the scratch register. */
export const TESTDEV_PORT_DATA_BYTE = 0xe8;
/** Ports of each of the three 4-port windows. */
export const TESTDEV_WINDOW_PORTS = 4;
/** First IRQ-line port: a byte write to 0x2000 + n drives line n. */
export const TESTDEV_PORT_IRQ = 0x2000;
/** IRQ lines (ISA IRQs and GSIs 0-23). */
export const TESTDEV_IRQ_LINES = 24;
/** Base of the MMIO scratch memory. */
export const TESTDEV_IOMEM_BASE = 0xff000000;
/** Size of the MMIO scratch memory. */
export const TESTDEV_IOMEM_BYTES = 0x10000;
const ONES: Readonly<Record<IoSize, number>> = { 1: 0xff, 2: 0xffff, 4: 0xffffffff };
const BYTE_BITS = 8;

/** Saved state of the test device. */
export interface PcTestdevState {
  version: 1;
  data: number;
  /** Levels last written to the IRQ lines (bit per line). */
  irqLevels: number;
  iomem: Uint8Array;
}

/** Options of the test device. */
export interface PcTestdevConfig {
  /** The line of ISA IRQ / GSI `n` (0-23). */
  irqLine: (n: number) => IrqLine;
  /** The guest asked to flush guest-physical page `addr`. */
  onFlushPage?: (addr: number) => void;
}

/** pc-testdev. Register `ports` at 0xE0 (12 ports, width any) and 0x2000 (24), `iomem` on the MMIO bus. */
export class PcTestdev implements PortDevice, Persistent<PcTestdevState> {
  readonly name = 'pc-testdev';
  private data = 0;
  private irqLevels = 0;
  private readonly lines: IrqLine[];
  private readonly onFlushPage: (addr: number) => void;
  private readonly mem = new Uint8Array(TESTDEV_IOMEM_BYTES);
  /** The 64 KiB MMIO scratch memory. */
  readonly iomem: MmioDevice;

  constructor(config: PcTestdevConfig) {
    this.lines = Array.from({ length: TESTDEV_IRQ_LINES }, (_, n) => config.irqLine(n));
    this.onFlushPage = config.onFlushPage ?? (() => {});
    const mem = this.mem;
    this.iomem = {
      name: 'pc-testdev-iomem',
      mmioRead: (offset: number, size: IoSize) => {
        let v = 0;
        for (let i = 0; i < size && offset + i < mem.length; i++) v += mem[offset + i] * 2 ** (BYTE_BITS * i);
        return v;
      },
      mmioWrite: (offset: number, size: IoSize, value: number) => {
        for (let i = 0; i < size && offset + i < mem.length; i++) mem[offset + i] = Math.floor(value / 2 ** (BYTE_BITS * i)) & 0xff;
      },
    };
  }

  ioRead(port: number, size: IoSize): number {
    if (port >= TESTDEV_PORT_DATA && port < TESTDEV_PORT_FLUSH) return this.readData(port, size);
    if (port >= TESTDEV_PORT_DATA_BYTE && port < TESTDEV_PORT_DATA_BYTE + TESTDEV_WINDOW_PORTS) {
      let v = 0;
      for (let i = 0; i < size; i++) v += this.readData(port + i, 1) * 2 ** (BYTE_BITS * i);
      return v;
    }
    return ONES[size];
  }

  ioWrite(port: number, size: IoSize, value: number): void {
    if (port >= TESTDEV_PORT_DATA && port < TESTDEV_PORT_FLUSH) this.writeData(port, size, value);
    else if (port === TESTDEV_PORT_FLUSH && size === 4) this.onFlushPage(value >>> 0);
    else if (port >= TESTDEV_PORT_DATA_BYTE && port < TESTDEV_PORT_DATA_BYTE + TESTDEV_WINDOW_PORTS) {
      for (let i = 0; i < size; i++) this.writeData(port + i, 1, Math.floor(value / 2 ** (BYTE_BITS * i)) & 0xff);
    } else if (port >= TESTDEV_PORT_IRQ && port < TESTDEV_PORT_IRQ + TESTDEV_IRQ_LINES && size === 1) {
      const n = port - TESTDEV_PORT_IRQ;
      const level = (value & 0xff) !== 0;
      this.irqLevels = level ? this.irqLevels | (1 << n) : this.irqLevels & ~(1 << n);
      this.lines[n].set(level);
    }
  }

  saveState(): PcTestdevState {
    return { version: 1, data: this.data, irqLevels: this.irqLevels, iomem: this.mem.slice() };
  }

  loadState(state: PcTestdevState): void {
    requireStateVersion(state, 1, 'pc-testdev');
    requireSaved(state.iomem instanceof Uint8Array && state.iomem.length === TESTDEV_IOMEM_BYTES, 'pc-testdev', 'iomem');
    this.data = state.data >>> 0;
    this.mem.set(state.iomem);
    this.irqLevels = state.irqLevels;
    for (let n = 0; n < TESTDEV_IRQ_LINES; n++) this.lines[n].set(((state.irqLevels >> n) & 1) !== 0);
  }

  /** `size` bytes of the scratch register from byte lane (port & 3). */
  private readData(port: number, size: IoSize): number {
    const shift = (port & 3) * BYTE_BITS;
    return Math.floor(this.data / 2 ** shift) % 2 ** (size * BYTE_BITS);
  }

  private writeData(port: number, size: IoSize, value: number): void {
    const shift = (port & 3) * BYTE_BITS;
    const bits = Math.min(size * BYTE_BITS, 32 - shift);
    const laneMask = (2 ** bits - 1) * 2 ** shift;
    const lane = (value % 2 ** bits) * 2 ** shift;
    this.data = ((this.data & ~laneMask) | lane) >>> 0;
  }
}

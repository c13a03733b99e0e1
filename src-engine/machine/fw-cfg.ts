/**
 * QEMU's firmware configuration device (fw_cfg) in its x86 port-I/O form: the guest writes a
 * 16-bit key to the selector port 0x510, then reads the item byte by byte from the data port
 * 0x511. Test kernels built for QEMU (kvm-unit-tests and the like) read the RAM size and the CPU
 * count from it; firmware reads its files.
 *
 * References: QEMU docs/specs/fw_cfg.rst and hw/nvram/fw_cfg.c:
 * - selecting a key resets the read offset; reading past the end of an item (or from a key that
 *   does not exist) returns 0; key bits 14 (write channel) and 15 (architecture-local item) are
 *   part of the key; a key at or above FW_CFG_FILE_FIRST + file slots is invalid;
 * - signature "QEMU" (key 0x0000), FW_CFG_ID (0x0001) bit 0 = traditional interface (DMA, bit 1,
 *   is not offered here), integer items little-endian (RAM size u64, CPU counts u16);
 * - the file directory (key 0x0019): a big-endian u32 count, then per file a big-endian u32 size,
 *   big-endian u16 key, u16 reserved and a 56-byte NUL-padded name; files from key 0x0020, sorted
 *   by name as QEMU does on current machine types;
 * - port behaviour (fw_cfg_comb_mem_ops at 0x510, 2 ports): a 16-bit write selects, a byte write
 *   is ignored (write support was removed in QEMU 2.4), byte reads at either port return the next
 *   data byte; other accesses are not valid and read as all ones here.
 */
import type { IoSize, PortDevice, Persistent } from './device';
import { requireStateVersion } from './save-state';

/** Selector port (16-bit write). */
export const FW_CFG_PORT_SEL = 0x510;
/** Data port (8-bit read). */
export const FW_CFG_PORT_DATA = 0x511;
/** Ports the device occupies. */
export const FW_CFG_PORTS = 2;

// Well-known keys (include/standard-headers/linux/qemu_fw_cfg.h).
/** Key 0x0000: the signature "QEMU". */
export const FW_CFG_SIGNATURE = 0x00;
/** Key 0x0001: feature bits (bit 0 traditional interface, bit 1 DMA). */
export const FW_CFG_ID = 0x01;
/** Key 0x0002: the 16-byte machine UUID. */
export const FW_CFG_UUID = 0x02;
/** Key 0x0003: RAM size in bytes, u64. */
export const FW_CFG_RAM_SIZE = 0x03;
/** Key 0x0004: no graphical console, u16. */
export const FW_CFG_NOGRAPHIC = 0x04;
/** Key 0x0005: CPUs present at boot, u16. */
export const FW_CFG_NB_CPUS = 0x05;
/** Key 0x000E: show a boot menu, u16. */
export const FW_CFG_BOOT_MENU = 0x0e;
/** Key 0x000F: most CPUs the machine can have, u16. */
export const FW_CFG_MAX_CPUS = 0x0f;
/** Key 0x000D: NUMA description (node count u64, then per-CPU nodes and node sizes). */
export const FW_CFG_NUMA = 0x0d;
/** Key 0x0019: the file directory. */
export const FW_CFG_FILE_DIR = 0x19;
/** Key 0x0020: the first file. */
export const FW_CFG_FILE_FIRST = 0x20;
// Architecture-local (x86) keys.
/** Key bit 15: an architecture-specific item. */
export const FW_CFG_ARCH_LOCAL = 0x8000;
/** x86 key 0x8002: the PIT arrives on IOAPIC pin 2, u32. */
export const FW_CFG_IRQ0_OVERRIDE = FW_CFG_ARCH_LOCAL + 2;
/** Key bits that select the item (bit 14 is the write channel, bit 15 arch-local). */
const FW_CFG_ENTRY_MASK = 0x3fff;
const FW_CFG_WRITE_CHANNEL = 0x4000;
/** FW_CFG_ID bit 0: the traditional (port) interface. */
const FW_CFG_VERSION = 0x01;
/** Length of a file name in the directory, NUL included. */
export const FW_CFG_MAX_FILE_PATH = 56;
/** Bytes per directory entry: size, select, reserved, name. */
const FILE_ENTRY_BYTES = 4 + 2 + 2 + FW_CFG_MAX_FILE_PATH;
/** File slots (QEMU's default for current machine types). */
const FILE_SLOTS = 0x20;
/** No key selected. */
const FW_CFG_INVALID = 0xffff;
const ONES: Readonly<Record<IoSize, number>> = { 1: 0xff, 2: 0xffff, 4: 0xffffffff };

/** What the device reports. */
export interface FwCfgConfig {
  /** RAM size in bytes (FW_CFG_RAM_SIZE). */
  ramSize: number;
  /** CPUs present at boot (FW_CFG_NB_CPUS). */
  cpus: number;
  /** Most CPUs the domain can have (FW_CFG_MAX_CPUS; default `cpus`). */
  maxCpus?: number;
  /** 16-byte domain UUID (FW_CFG_UUID); default all zero. */
  uuid?: Uint8Array;
  /** No graphical console (FW_CFG_NOGRAPHIC); default true. */
  nographic?: boolean;
}

/** Saved state: which item is selected and where reading stands. */
export interface FwCfgState {
  version: 1;
  key: number;
  offset: number;
}

function le(value: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Math.floor(value / 2 ** (8 * i)) & 0xff;
  return out;
}

/** The fw_cfg device. Register it at 0x510 for FW_CFG_PORTS ports with width `any`. */
export class FwCfg implements PortDevice, Persistent<FwCfgState> {
  readonly name = 'fw-cfg';
  private readonly items = new Map<number, Uint8Array>();
  private readonly files: { name: string; data: Uint8Array }[] = [];
  private key = FW_CFG_SIGNATURE;
  private offset = 0;

  constructor(config: FwCfgConfig) {
    const maxCpus = config.maxCpus ?? config.cpus;
    this.items.set(FW_CFG_SIGNATURE, new TextEncoder().encode('QEMU'));
    this.items.set(FW_CFG_ID, le(FW_CFG_VERSION, 4));
    this.items.set(FW_CFG_UUID, config.uuid ? Uint8Array.from(config.uuid.subarray(0, 16)) : new Uint8Array(16));
    this.items.set(FW_CFG_RAM_SIZE, le(config.ramSize, 8));
    this.items.set(FW_CFG_NOGRAPHIC, le(config.nographic === false ? 0 : 1, 2));
    this.items.set(FW_CFG_NB_CPUS, le(config.cpus, 2));
    this.items.set(FW_CFG_MAX_CPUS, le(maxCpus, 2));
    this.items.set(FW_CFG_BOOT_MENU, le(0, 2));
    // No NUMA nodes: a u64 node count of 0, then a u64 node per possible CPU (all 0).
    this.items.set(FW_CFG_NUMA, new Uint8Array(8 + 8 * maxCpus));
    // The PIT's IRQ0 arrives on IOAPIC pin 2 (the MADT has the matching override).
    this.items.set(FW_CFG_IRQ0_OVERRIDE, le(1, 4));
    this.rebuildDirectory();
  }

  /** Adds (or replaces) a named file, e.g. "etc/e820"; keys are given out in name order. */
  addFile(name: string, data: Uint8Array): void {
    const bytes = new TextEncoder().encode(name);
    if (bytes.length >= FW_CFG_MAX_FILE_PATH) throw new RangeError(`fw_cfg file name "${name}" is longer than ${FW_CFG_MAX_FILE_PATH - 1} bytes`);
    const existing = this.files.find((f) => f.name === name);
    if (existing) existing.data = data;
    else {
      if (this.files.length >= FILE_SLOTS) throw new RangeError(`fw_cfg has room for ${FILE_SLOTS} files`);
      this.files.push({ name, data });
    }
    this.files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.rebuildDirectory();
  }

  /** The item a key selects, or undefined. */
  item(key: number): Uint8Array | undefined {
    const k = key & ~FW_CFG_WRITE_CHANNEL;
    if ((k & FW_CFG_ENTRY_MASK) >= FW_CFG_FILE_FIRST + FILE_SLOTS) return undefined;
    return this.items.get(k);
  }

  ioRead(_port: number, size: IoSize): number {
    if (size !== 1) return ONES[size];
    const data = this.key === FW_CFG_INVALID ? undefined : this.item(this.key);
    if (data === undefined || this.offset >= data.length) return 0;
    return data[this.offset++];
  }

  ioWrite(port: number, size: IoSize, value: number): void {
    if (size !== 2 || port !== FW_CFG_PORT_SEL) return; // byte writes: write support is gone (QEMU 2.4+)
    this.select(value & 0xffff);
  }

  /** Selects `key` (what a 16-bit write to the selector does). */
  select(key: number): void {
    this.offset = 0;
    this.key = (key & FW_CFG_ENTRY_MASK) >= FW_CFG_FILE_FIRST + FILE_SLOTS ? FW_CFG_INVALID : key;
  }

  /** Reset selects the signature (QEMU fw_cfg_reset). */
  reset(): void {
    this.select(FW_CFG_SIGNATURE);
  }

  saveState(): FwCfgState {
    return { version: 1, key: this.key, offset: this.offset };
  }

  loadState(state: FwCfgState): void {
    requireStateVersion(state, 1, 'fw_cfg');
    this.key = state.key;
    this.offset = state.offset;
  }

  private rebuildDirectory(): void {
    for (let k = FW_CFG_FILE_FIRST; k < FW_CFG_FILE_FIRST + FILE_SLOTS; k++) this.items.delete(k);
    const dir = new Uint8Array(4 + FILE_ENTRY_BYTES * this.files.length);
    const view = new DataView(dir.buffer);
    view.setUint32(0, this.files.length, false);
    this.files.forEach((f, i) => {
      const at = 4 + i * FILE_ENTRY_BYTES;
      const key = FW_CFG_FILE_FIRST + i;
      view.setUint32(at, f.data.length, false);
      view.setUint16(at + 4, key, false);
      dir.set(new TextEncoder().encode(f.name), at + 8);
      this.items.set(key, f.data);
    });
    this.items.set(FW_CFG_FILE_DIR, dir);
  }
}

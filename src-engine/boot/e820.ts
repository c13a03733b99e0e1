/**
 * The BIOS memory map (INT 15h AX=E820h) of a PC booted directly by Domus, shared by the multiboot
 * loaders (which copy it into the boot information like GRUB does) and by the BIOS.
 *
 * Layout (spec/grub-iso-and-bios.md section 4.4, SeaBIOS's map minus its own tables):
 *   [0, 0x9FC00)          RAM           conventional memory, 639 KiB
 *   [0x9FC00, 0xA0000)    reserved      extended BIOS data area, 1 KiB
 *   [0xA0000, 0xF0000)    not listed    VGA window and option ROMs
 *   [0xF0000, 0x100000)   reserved      system BIOS
 *   [0x100000, top)       RAM           extended memory up to the guest's RAM size
 * plus any reserved ranges the caller adds (they are cut out of the RAM ranges they overlap; they
 * may not overlap each other or the two standard reserved ranges).
 * Addresses are numbers (exact up to 2^53), so ranges above 4 GiB are fine.
 */
import { BootError } from '../base/errors';

/** E820 type 1: usable RAM. */
export const E820_RAM = 1;
/** E820 type 2: reserved, unusable by the OS. */
export const E820_RESERVED = 2;
/** E820 type 3: ACPI tables, reclaimable after reading. */
export const E820_ACPI = 3;
/** E820 type 4: ACPI non-volatile storage. */
export const E820_NVS = 4;
/** E820 type 5: memory with errors. */
export const E820_UNUSABLE = 5;

/** End of conventional memory: the EBDA starts here (segment 0x9FC0). */
export const EBDA_START = 0x9fc00;
/** Start of the legacy VGA window; nothing between EBDA_START and here is RAM. */
export const LOW_MEMORY_END = 0xa0000;
/** Start of the system BIOS area (reserved up to 1 MiB). */
export const BIOS_AREA_START = 0xf0000;
/** 1 MiB: start of extended memory. */
export const HIGH_MEMORY_START = 0x100000;

/** One entry of the memory map: [base, base + length) of the given E820 type. */
export interface E820Entry {
  readonly base: number;
  readonly length: number;
  readonly type: number;
}

/** A range the caller wants reported as not-RAM (type defaults to E820_RESERVED). */
export interface E820ReservedRange {
  readonly base: number;
  readonly length: number;
  readonly type?: number;
}

/** Inputs of buildE820Map. */
export interface E820Config {
  /** Bytes of RAM the guest has, from guest-physical 0 (at least 1 MiB). */
  readonly ramSize: number;
  /** Extra non-RAM ranges, e.g. firmware tables at the top of RAM or a flash window below 4 GiB. */
  readonly extraReserved?: readonly E820ReservedRange[];
}

/**
 * Builds the direct-boot memory map for `config`, sorted by address, with RAM ranges split around
 * the extra reserved ranges. Throws a BootError if the RAM size or a range is not usable.
 */
export function buildE820Map(config: E820Config): E820Entry[] {
  const { ramSize } = config;
  if (!Number.isSafeInteger(ramSize) || ramSize < HIGH_MEMORY_START) {
    throw new BootError('boot.bad-memory-size', `a direct-boot PC needs at least 1 MiB of RAM (got ${ramSize} bytes)`);
  }
  const reserved: E820Entry[] = [
    { base: EBDA_START, length: LOW_MEMORY_END - EBDA_START, type: E820_RESERVED },
    { base: BIOS_AREA_START, length: HIGH_MEMORY_START - BIOS_AREA_START, type: E820_RESERVED },
  ];
  for (const r of config.extraReserved ?? []) {
    if (!Number.isSafeInteger(r.base) || !Number.isSafeInteger(r.length) || r.base < 0 || r.length <= 0) {
      throw new BootError('boot.bad-memory-map', `reserved memory range base ${r.base}, length ${r.length} is not a valid address range`);
    }
    const type = r.type ?? E820_RESERVED;
    if (type === E820_RAM) throw new BootError('boot.bad-memory-map', 'an extra reserved range cannot have type 1 (RAM)');
    reserved.push({ base: r.base, length: r.length, type });
  }
  const sorted = [...reserved].sort((a, b) => a.base - b.base);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (sorted[i].base < prev.base + prev.length) {
      throw new BootError(
        'boot.bad-memory-map',
        `reserved memory ranges at 0x${prev.base.toString(16)} and 0x${sorted[i].base.toString(16)} overlap`,
      );
    }
  }
  let ram: Array<[number, number]> = [
    [0, EBDA_START],
    [HIGH_MEMORY_START, ramSize],
  ];
  for (const r of reserved) ram = ram.flatMap(([s, e]) => subtract(s, e, r.base, r.base + r.length));
  const map: E820Entry[] = [
    ...ram.filter(([s, e]) => e > s).map(([s, e]) => ({ base: s, length: e - s, type: E820_RAM })),
    ...reserved,
  ];
  map.sort((a, b) => a.base - b.base || a.type - b.type);
  return map;
}

/** [s, e) minus [rs, re), as zero, one or two ranges. */
function subtract(s: number, e: number, rs: number, re: number): Array<[number, number]> {
  if (re <= s || rs >= e) return [[s, e]];
  const out: Array<[number, number]> = [];
  if (rs > s) out.push([s, rs]);
  if (re < e) out.push([re, e]);
  return out;
}

/**
 * Conventional memory in KiB as GRUB computes multiboot mem_lower: the size of the RAM entry that
 * starts at address 0, at most 1 MiB (grub_mmap_get_lower). 639 for the standard map.
 */
export function lowerMemoryKiB(map: readonly E820Entry[]): number {
  let lower = 0;
  for (const e of map) if (e.type === E820_RAM && e.base === 0) lower = e.length;
  return Math.floor(Math.min(lower, HIGH_MEMORY_START) / 1024);
}

/**
 * Extended memory in KiB as GRUB computes multiboot mem_upper: from 1 MiB to the end of the RAM
 * entry that contains 1 MiB (grub_mmap_get_upper), 0 if there is none.
 */
export function upperMemoryKiB(map: readonly E820Entry[]): number {
  let upper = 0;
  for (const e of map) {
    if (e.type === E820_RAM && e.base <= HIGH_MEMORY_START && e.base + e.length > HIGH_MEMORY_START) {
      upper = e.base + e.length - HIGH_MEMORY_START;
    }
  }
  return Math.floor(upper / 1024);
}

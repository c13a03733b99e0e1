/**
 * The CMOS memory bytes a PC BIOS reads: memory sizes, equipment, boot order, CPU count, and the
 * checksum over 0x10-0x2D. The platform writes them into the RTC's CMOS at creation.
 *
 * References:
 * - IBM PC/AT Technical Reference, "CMOS RAM address map": 0x0F shutdown status, 0x10 diskette
 *   types, 0x12 fixed disk types, 0x14 equipment byte, 0x15/0x16 base memory (KiB), 0x17/0x18
 *   expansion memory (KiB above 1 MiB), 0x2E/0x2F checksum of 0x10-0x2D (high byte first),
 *   0x30/0x31 actual expansion memory, 0x32 century.
 * - QEMU hw/i386/pc.c pc_cmos_init and SeaBIOS src/hw/rtc.h: 0x34/0x35 memory between 16 MiB and
 *   4 GiB in 64 KiB units, 0x5B-0x5D memory above 4 GiB in 64 KiB units, 0x5F CPU count - 1,
 *   0x3D boot devices 1 and 2 (low/high nibble), 0x38 boot device 3 (high nibble) and bit 0 =
 *   skip the floppy boot signature check. Device codes: 1 floppy, 2 hard disk, 3 CD-ROM, 4 network.
 */

/** Why the CPU was last reset (0 = power-on/normal); BIOSes branch on it. */
export const CMOS_SHUTDOWN_STATUS = 0x0f;
/** Diskette drive types, high nibble drive A (0 = none). */
export const CMOS_DISKETTE_TYPES = 0x10;
/** Fixed disk types, high nibble disk 0 (0 = none). */
export const CMOS_FIXED_DISK_TYPES = 0x12;
/** Equipment byte: diskettes, math coprocessor, primary display. */
export const CMOS_EQUIPMENT = 0x14;
/** Base (conventional) memory in KiB, low byte. */
export const CMOS_BASE_MEMORY_LO = 0x15;
/** Base memory in KiB, high byte. */
export const CMOS_BASE_MEMORY_HI = 0x16;
/** Expansion memory above 1 MiB in KiB (capped at 0xFFFF), low byte. */
export const CMOS_EXT_MEMORY_LO = 0x17;
/** Expansion memory in KiB, high byte. */
export const CMOS_EXT_MEMORY_HI = 0x18;
/** Checksum of 0x10-0x2D, high byte. */
export const CMOS_CHECKSUM_HI = 0x2e;
/** Checksum of 0x10-0x2D, low byte. */
export const CMOS_CHECKSUM_LO = 0x2f;
/** Actual expansion memory in KiB as found by POST, low byte. */
export const CMOS_ACTUAL_EXT_MEMORY_LO = 0x30;
/** Actual expansion memory in KiB, high byte. */
export const CMOS_ACTUAL_EXT_MEMORY_HI = 0x31;
/** Memory between 16 MiB and 4 GiB in 64 KiB units, low byte. */
export const CMOS_MEMORY_ABOVE_16M_LO = 0x34;
/** Memory between 16 MiB and 4 GiB in 64 KiB units, high byte. */
export const CMOS_MEMORY_ABOVE_16M_HI = 0x35;
/** Third boot device (high nibble); bit 0 = 1 skips the floppy boot signature check. */
export const CMOS_BOOT_DEVICE_3 = 0x38;
/** First (low nibble) and second (high nibble) boot devices. */
export const CMOS_BOOT_DEVICES_1_2 = 0x3d;
/** Memory above 4 GiB in 64 KiB units, three bytes 0x5B-0x5D, low first. */
export const CMOS_MEMORY_ABOVE_4G = 0x5b;
/** Number of CPUs minus one. */
export const CMOS_CPU_COUNT_MINUS_1 = 0x5f;
/** First byte covered by the checksum. */
export const CMOS_CHECKSUM_FIRST = 0x10;
/** Last byte covered by the checksum. */
export const CMOS_CHECKSUM_LAST = 0x2d;

/** Equipment byte bit 1: a math coprocessor is present (display bits 5-4 = 00: EGA/VGA). */
const EQUIPMENT_FPU = 0x02;
/** Conventional memory reported by every PC: 640 KiB. */
const BASE_MEMORY_KIB = 640;
const KIB = 1024;
const MIB = 1024 * KIB;
const UNIT_64K = 64 * KIB;
const U16_MAX = 0xffff;
const U24_MAX = 0xffffff;
const NIBBLE = 4;

/** Boot device codes of CMOS 0x3D/0x38. */
export const BOOT_DEVICE_CODES = { floppy: 1, disk: 2, cdrom: 3, network: 4 } as const;
/** A boot device the CMOS can name. */
export type CmosBootDevice = keyof typeof BOOT_DEVICE_CODES;

/** What the CMOS memory bytes describe. */
export interface PcCmosConfig {
  /** Guest RAM below 4 GiB in bytes (the part under the PCI hole). */
  ramBelow4G: number;
  /** Guest RAM relocated above 4 GiB in bytes. */
  ramAbove4G?: number;
  /** Number of CPUs (default 1). */
  cpus?: number;
  /** Up to three boot devices, first first (default: none named). */
  bootOrder?: readonly CmosBootDevice[];
}

/** The CMOS bytes of a PC with this configuration, checksum included, as [index, value] pairs. */
export function pcCmosBytes(config: PcCmosConfig): Map<number, number> {
  const bytes = new Map<number, number>();
  const put16 = (lo: number, value: number) => {
    bytes.set(lo, value & 0xff);
    bytes.set(lo + 1, (value >> 8) & 0xff);
  };
  bytes.set(CMOS_SHUTDOWN_STATUS, 0);
  bytes.set(CMOS_DISKETTE_TYPES, 0);
  bytes.set(CMOS_FIXED_DISK_TYPES, 0);
  bytes.set(CMOS_EQUIPMENT, EQUIPMENT_FPU);
  put16(CMOS_BASE_MEMORY_LO, BASE_MEMORY_KIB);
  const extendedKib = Math.min(U16_MAX, Math.max(0, Math.floor(config.ramBelow4G / KIB) - KIB));
  put16(CMOS_EXT_MEMORY_LO, extendedKib);
  put16(CMOS_ACTUAL_EXT_MEMORY_LO, extendedKib);
  const above16M = Math.min(U16_MAX, Math.max(0, Math.floor((config.ramBelow4G - 16 * MIB) / UNIT_64K)));
  put16(CMOS_MEMORY_ABOVE_16M_LO, above16M);
  const above4G = Math.min(U24_MAX, Math.floor((config.ramAbove4G ?? 0) / UNIT_64K));
  bytes.set(CMOS_MEMORY_ABOVE_4G, above4G & 0xff);
  bytes.set(CMOS_MEMORY_ABOVE_4G + 1, (above4G >> 8) & 0xff);
  bytes.set(CMOS_MEMORY_ABOVE_4G + 2, (above4G >> 16) & 0xff);
  bytes.set(CMOS_CPU_COUNT_MINUS_1, Math.max(0, (config.cpus ?? 1) - 1) & 0xff);
  const codes = (config.bootOrder ?? []).slice(0, 3).map((d) => BOOT_DEVICE_CODES[d]);
  bytes.set(CMOS_BOOT_DEVICES_1_2, ((codes[1] ?? 0) << NIBBLE) | (codes[0] ?? 0));
  bytes.set(CMOS_BOOT_DEVICE_3, (codes[2] ?? 0) << NIBBLE); // bit 0 clear: check floppy boot signatures
  const sum = cmosChecksum((i) => bytes.get(i) ?? 0);
  bytes.set(CMOS_CHECKSUM_HI, sum >> 8);
  bytes.set(CMOS_CHECKSUM_LO, sum & 0xff);
  return bytes;
}

/** The PC/AT CMOS checksum: the 16-bit sum of bytes 0x10-0x2D. */
export function cmosChecksum(byteAt: (index: number) => number): number {
  let sum = 0;
  for (let i = CMOS_CHECKSUM_FIRST; i <= CMOS_CHECKSUM_LAST; i++) sum += byteAt(i);
  return sum & U16_MAX;
}

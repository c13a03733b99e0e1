/**
 * INT 13h drives: BIOS drive numbers for the configured disks and CD-ROMs, and the logical
 * geometry (CHS) a BIOS reports for a raw disk image.
 *
 * Numbering (SeaBIOS): hard disks 0x80, 0x81, ... in configuration order; CD-ROMs 0xE0, 0xE1, ...
 * (EXTSTART_CD). No floppies.
 *
 * Geometry of a disk image: QEMU guesses 16 heads and 63 sectors per track (cylinders =
 * sectors / 1008, at least 1, at most 16383); a BIOS that sees more than 1024 cylinders applies
 * the "LBA-assisted" translation (heads doubled 16 -> 32 -> 64 -> 128 -> 255 until the cylinders
 * fit in 1024), as Bochs BIOS and SeaBIOS do. Sectors beyond the geometry are reachable only by
 * LBA (INT 13h extensions).
 */
import type { BlockBackend, BlockMedium } from '../../machine/block-backend';
import { DRIVE_FIRST_CD, DRIVE_FIRST_HD } from './layout';
import type { BiosDriveConfig } from './host';

/** Logical CHS geometry. */
export interface Chs {
  cylinders: number;
  heads: number;
  sectorsPerTrack: number;
}

/** A drive as INT 13h sees it. */
export interface BiosDrive {
  /** BIOS drive number (DL). */
  number: number;
  medium: BlockMedium;
  backend: BlockBackend | undefined;
  /** Why the drive has no medium (image missing). */
  problem: string | undefined;
  /** Logical geometry (hard disks only). */
  chs: Chs | undefined;
}

/** Sectors per track of the guessed geometry. */
const GUESS_SPT = 63;
/** Heads of the guessed geometry. */
const GUESS_HEADS = 16;
/** Largest cylinder count of an ATA CHS geometry. */
const MAX_ATA_CYLINDERS = 16383;
/** Largest cylinder count INT 13h CHS can address (10 bits). */
export const MAX_BIOS_CYLINDERS = 1024;
/** Largest head count INT 13h can address. */
const MAX_BIOS_HEADS = 255;
/** Head counts of the LBA-assisted translation, in order. */
const LBA_HEADS = [16, 32, 64, 128, MAX_BIOS_HEADS];

/** The logical geometry a BIOS reports for a disk of `sectors` 512-byte sectors. */
export function diskGeometry(sectors: number): Chs {
  const cylinders = Math.max(1, Math.min(MAX_ATA_CYLINDERS, Math.floor(sectors / (GUESS_HEADS * GUESS_SPT))));
  if (cylinders <= MAX_BIOS_CYLINDERS) return { cylinders, heads: GUESS_HEADS, sectorsPerTrack: GUESS_SPT };
  const tracks = Math.floor(sectors / GUESS_SPT);
  for (const heads of LBA_HEADS) {
    if (tracks / heads <= MAX_BIOS_CYLINDERS || heads === MAX_BIOS_HEADS) {
      return { cylinders: Math.min(MAX_BIOS_CYLINDERS, Math.floor(tracks / heads)), heads, sectorsPerTrack: GUESS_SPT };
    }
  }
  /* c8 ignore next */
  return { cylinders: MAX_BIOS_CYLINDERS, heads: MAX_BIOS_HEADS, sectorsPerTrack: GUESS_SPT };
}

/** Gives each configured drive its BIOS number. */
export function assignDrives(configs: readonly BiosDriveConfig[]): Map<number, BiosDrive> {
  const drives = new Map<number, BiosDrive>();
  let nextHd = DRIVE_FIRST_HD;
  let nextCd = DRIVE_FIRST_CD;
  for (const c of configs) {
    const number = c.medium === 'cdrom' ? nextCd++ : nextHd++;
    const backend = c.backend;
    drives.set(number, {
      number,
      medium: c.medium,
      backend,
      problem: backend ? undefined : (c.problem ?? 'no medium'),
      chs: c.medium === 'disk' && backend ? diskGeometry(backend.sectorCount) : undefined,
    });
  }
  return drives;
}

/** Number of hard disks (BDA 0x475, INT 13h AH=08h DL). */
export function hardDiskCount(drives: ReadonlyMap<number, BiosDrive>): number {
  let n = 0;
  for (const d of drives.values()) if (d.medium === 'disk') n++;
  return n;
}

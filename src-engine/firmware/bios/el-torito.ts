/**
 * Reading the El Torito boot information of a CD-ROM: the Boot Record Volume Descriptor at
 * sector 17, the boot catalog it points to, the catalog's validation entry and its initial/default
 * entry. Only what a BIOS needs to boot is checked; every refusal says what is wrong, for the
 * "Boot failed" message.
 *
 * References: "El Torito" Bootable CD-ROM Format Specification 1.0 (Phoenix/IBM 1995): sections
 * 2.0 (boot record volume descriptor), 2.1 (validation entry, checksum), 2.2 (initial/default
 * entry); spec/grub-iso-and-bios.md sections 1.3-1.4; SeaBIOS src/cdrom.c (the same checks).
 */
import type { BlockBackend } from '../../machine/block-backend';
import { ELTORITO_DEFAULT_SEGMENT } from './layout';

/** Sector of the boot record volume descriptor. */
export const BOOT_RECORD_SECTOR = 17;
/** Boot record: type 0, "CD001", version 1, boot system id. */
const BR_TYPE = 0;
const STANDARD_ID = 'CD001';
const BR_VERSION = 1;
const BOOT_SYSTEM_ID = 'EL TORITO SPECIFICATION';
/** Boot record field offsets. */
const BR_ID_OFFSET = 1;
const BR_VERSION_OFFSET = 6;
const BR_SYSTEM_ID_OFFSET = 7;
const BR_SYSTEM_ID_BYTES = 32;
const BR_CATALOG_LBA = 0x47;
/** Validation entry: header id 1, platform, key bytes 55h AAh at 30/31, 16 words summing to 0. */
const VALIDATION_HEADER = 1;
const KEY_55 = 30;
const KEY_AA = 31;
const ENTRY_BYTES = 32;
/** Platform id of 80x86 BIOS boot. */
export const PLATFORM_X86 = 0;
/** Initial entry fields (catalog offsets). */
const IE = { indicator: 32, media: 33, loadSegment: 34, systemType: 36, sectorCount: 38, lba: 40 } as const;
/** Boot indicator of a bootable entry. */
const BOOTABLE = 0x88;
/** Media type 0: no emulation; 1-3 floppy emulation; 4 hard disk emulation. */
export const MEDIA_NO_EMULATION = 0;
const MEDIA_MASK = 0x0f;
const MEDIA_NAMES = ['no emulation', '1.2 MB floppy emulation', '1.44 MB floppy emulation', '2.88 MB floppy emulation', 'hard disk emulation'];

/** The initial/default entry of a bootable CD. */
export interface ElToritoBoot {
  catalogLba: number;
  /** LBA (2048-byte sectors) of the boot image. */
  imageLba: number;
  /** Real-mode load segment (0 in the catalog means 07C0h). */
  loadSegment: number;
  /** Virtual 512-byte sectors to load. */
  sectorCount: number;
  /** Media type (0 = no emulation). */
  mediaType: number;
  systemType: number;
}

/** Why a CD cannot be booted, or its boot entry. */
export type ElToritoResult = { ok: true; boot: ElToritoBoot } | { ok: false; reason: string };

function text(bytes: Uint8Array, off: number, len: number): string {
  return String.fromCharCode(...bytes.subarray(off, off + len));
}

/** Sum of the 16 little-endian words of the validation entry (0 when intact). */
export function validationChecksum(catalog: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < ENTRY_BYTES; i += 2) sum = (sum + catalog[i] + (catalog[i + 1] << 8)) & 0xffff;
  return sum;
}

function fail(reason: string): ElToritoResult {
  return { ok: false, reason };
}

/** Reads and checks the El Torito information of `cd`. Never throws for bad media. */
export function readElTorito(cd: BlockBackend): ElToritoResult {
  if (cd.sectorCount <= BOOT_RECORD_SECTOR) {
    return fail(`the CD-ROM is too small to be an ISO 9660 image (${cd.sectorCount} sectors)`);
  }
  let br: Uint8Array;
  try {
    br = cd.read(BOOT_RECORD_SECTOR, 1);
  } catch (err) {
    return fail(`could not read the CD-ROM (${err instanceof Error ? err.message : String(err)})`);
  }
  const sysId = br.subarray(BR_SYSTEM_ID_OFFSET, BR_SYSTEM_ID_OFFSET + BR_SYSTEM_ID_BYTES);
  const idOk = text(sysId, 0, BOOT_SYSTEM_ID.length) === BOOT_SYSTEM_ID && sysId.subarray(BOOT_SYSTEM_ID.length).every((b) => b === 0);
  if (br[0] !== BR_TYPE || text(br, BR_ID_OFFSET, STANDARD_ID.length) !== STANDARD_ID || br[BR_VERSION_OFFSET] !== BR_VERSION || !idOk) {
    return fail('not a bootable CD: sector 17 holds no El Torito boot record');
  }
  const catalogLba = (br[BR_CATALOG_LBA] | (br[BR_CATALOG_LBA + 1] << 8) | (br[BR_CATALOG_LBA + 2] << 16) | (br[BR_CATALOG_LBA + 3] << 24)) >>> 0;
  if (catalogLba >= cd.sectorCount) {
    return fail(`the El Torito boot catalog is at sector ${catalogLba}, beyond the end of the CD (${cd.sectorCount} sectors)`);
  }
  const cat = cd.read(catalogLba, 1);
  if (cat[0] !== VALIDATION_HEADER || cat[KEY_55] !== 0x55 || cat[KEY_AA] !== 0xaa) {
    return fail(`the El Torito boot catalog at sector ${catalogLba} has no valid validation entry`);
  }
  if (validationChecksum(cat) !== 0) {
    return fail(`the El Torito boot catalog at sector ${catalogLba} is corrupt (validation entry checksum ${validationChecksum(cat).toString(16)}h, not 0)`);
  }
  if (cat[1] !== PLATFORM_X86) {
    return fail(`the CD's default boot entry is for platform ${cat[1].toString(16)}h, not for a PC BIOS (0)`);
  }
  if (cat[IE.indicator] !== BOOTABLE) return fail('the CD\'s default El Torito boot entry is marked not bootable');
  const mediaType = cat[IE.media] & MEDIA_MASK;
  if (mediaType !== MEDIA_NO_EMULATION) {
    return fail(`the CD boots with ${MEDIA_NAMES[mediaType] ?? `media type ${mediaType}`}, which this BIOS does not support (only no-emulation boot images)`);
  }
  const rawSegment = cat[IE.loadSegment] | (cat[IE.loadSegment + 1] << 8);
  const imageLba = (cat[IE.lba] | (cat[IE.lba + 1] << 8) | (cat[IE.lba + 2] << 16) | (cat[IE.lba + 3] << 24)) >>> 0;
  if (imageLba >= cd.sectorCount) {
    return fail(`the El Torito boot image is at sector ${imageLba}, beyond the end of the CD (${cd.sectorCount} sectors)`);
  }
  return {
    ok: true,
    boot: {
      catalogLba,
      imageLba,
      loadSegment: rawSegment === 0 ? ELTORITO_DEFAULT_SEGMENT : rawSegment,
      sectorCount: cat[IE.sectorCount] | (cat[IE.sectorCount + 1] << 8),
      mediaType,
      systemType: cat[IE.systemType],
    },
  };
}

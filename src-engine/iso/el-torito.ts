/**
 * El Torito boot structures (spec/grub-iso-and-bios.md §1.4, §1.5, §2.2): the boot catalog, the
 * boot info table that `-boot-info-table` writes into the boot image, and GRUB's own patch
 * (`--grub2-boot-info`) that lets the same eltorito.img boot from a hard disk.
 */
import { IsoError } from '../base/errors';
import { getU32LE, putU16LE, putU32LE, putU64LE, SECTOR_SIZE } from './bytes';
import { PVD_LBA } from './iso9660-descriptors';

/** El Torito 2.0 §2.1: validation entry header id. */
const VALIDATION_HEADER_ID = 1;
/** El Torito 2.0 §2.1: platform id 0 = 80x86. */
export const PLATFORM_X86 = 0;
/** El Torito 2.0 §2.1: key bytes at the end of the validation entry. */
const KEY_55 = 0x55;
const KEY_AA = 0xaa;
/** El Torito 2.0 §2.2: boot indicator of a bootable entry. */
export const BOOT_INDICATOR_BOOTABLE = 0x88;
/** El Torito 2.0 §2.2: boot media type 0 = no emulation. */
export const MEDIA_NO_EMULATION = 0;
/**
 * `-boot-load-size 4`: virtual 512-byte sectors the BIOS loads from the boot image (2048 bytes,
 * all of cdboot.img).
 */
export const BOOT_LOAD_SECTORS = 4;

/** Offsets inside the boot catalog sector. */
const CAT = {
  checksum: 28,
  key55: 30,
  keyAA: 31,
  defaultEntry: 32,
  bootIndicator: 32,
  mediaType: 33,
  loadSegment: 34,
  systemType: 36,
  sectorCount: 38,
  loadRba: 40,
} as const;

/** Boot info table field offsets inside the boot image (mkisofs -boot-info-table). */
export const BOOT_INFO = {
  pvdLba: 8,
  fileLba: 12,
  fileLength: 16,
  checksum: 20,
  reservedEnd: 64,
} as const;

/**
 * `--grub2-boot-info`: byte offset in eltorito.img of the first blocklist start field of the
 * embedded diskboot.img (0x800 for cdboot.img + 0x1F4 inside diskboot.img).
 */
export const GRUB2_BOOT_INFO_OFFSET = 0x9f4;
/** `--grub2-boot-info`: the written value is bootLba*4 + 5 (the 512-byte sector after diskboot.img). */
export const GRUB2_BOOT_INFO_ADDEND = 5;
/** 512-byte sectors per 2048-byte ISO sector. */
export const DISK_SECTORS_PER_ISO_SECTOR = 4;

/** Writes the one-sector boot catalog with a single no-emulation x86 entry. */
export function encodeBootCatalog(out: Uint8Array, off: number, bootImageLba: number): void {
  out.fill(0, off, off + SECTOR_SIZE);
  out[off] = VALIDATION_HEADER_ID;
  out[off + 1] = PLATFORM_X86;
  out[off + CAT.key55] = KEY_55;
  out[off + CAT.keyAA] = KEY_AA;
  // The 16 little-endian words of the validation entry must sum to 0 mod 65536.
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum += out[off + i] | (out[off + i + 1] << 8);
  putU16LE(out, off + CAT.checksum, (0x10000 - (sum & 0xffff)) & 0xffff);
  out[off + CAT.bootIndicator] = BOOT_INDICATOR_BOOTABLE;
  out[off + CAT.mediaType] = MEDIA_NO_EMULATION;
  putU16LE(out, off + CAT.loadSegment, 0); // 0 = the traditional 0x07C0
  out[off + CAT.systemType] = 0;
  putU16LE(out, off + CAT.sectorCount, BOOT_LOAD_SECTORS);
  putU32LE(out, off + CAT.loadRba, bootImageLba);
}

/** Sum of the sixteen LE words of a validation entry (0 when the checksum is right). */
export function validationEntrySum(cat: Uint8Array, off = 0): number {
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum += cat[off + i] | (cat[off + i + 1] << 8);
  return sum & 0xffff;
}

/** 32-bit sum of the LE words of `image` from byte 64 on, the tail zero-padded (boot info table checksum). */
export function bootInfoChecksum(image: Uint8Array): number {
  let sum = 0;
  const whole = image.length & ~3;
  for (let i = BOOT_INFO.reservedEnd; i < whole; i += 4) sum = (sum + getU32LE(image, i)) >>> 0;
  if (whole < image.length && whole >= BOOT_INFO.reservedEnd) {
    let last = 0;
    for (let i = whole; i < image.length; i++) last |= image[i] << (8 * (i - whole));
    sum = (sum + (last >>> 0)) >>> 0;
  }
  return sum;
}

/**
 * Patches a copy of the boot image as `--grub2-boot-info` and then `-boot-info-table` do
 * (the checksum covers the GRUB patch, as xorriso writes it). `image` is modified in place.
 */
export function patchBootImage(image: Uint8Array, bootImageLba: number, grub2BootInfo: boolean): void {
  if (image.length < BOOT_INFO.reservedEnd) {
    throw new IsoError('iso.boot-image-small', `The boot image is ${image.length} bytes; a boot info table needs at least 64.`);
  }
  if (grub2BootInfo) {
    if (image.length < GRUB2_BOOT_INFO_OFFSET + 8) {
      throw new IsoError('iso.boot-image-small', `The boot image is ${image.length} bytes, too small for a GRUB eltorito.img.`);
    }
    putU64LE(image, GRUB2_BOOT_INFO_OFFSET, bootImageLba * DISK_SECTORS_PER_ISO_SECTOR + GRUB2_BOOT_INFO_ADDEND);
  }
  putU32LE(image, BOOT_INFO.pvdLba, PVD_LBA);
  putU32LE(image, BOOT_INFO.fileLba, bootImageLba);
  putU32LE(image, BOOT_INFO.fileLength, image.length);
  image.fill(0, BOOT_INFO.checksum + 4, BOOT_INFO.reservedEnd);
  putU32LE(image, BOOT_INFO.checksum, bootInfoChecksum(image));
}

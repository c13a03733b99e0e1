/**
 * The system-area MBR that makes a GRUB ISO also boot as a hard disk or USB stick
 * (spec/grub-iso-and-bios.md §2.2, §2.4): xorriso's `--grub2-mbr boot_hybrid.img` plus
 * `--protective-msdos-label`.
 */
import { IsoError } from '../base/errors';
import { putU32LE, putU64LE } from './bytes';
import { DISK_SECTORS_PER_ISO_SECTOR } from './el-torito';

/** Bytes of boot_hybrid.img copied into the MBR: its code, up to the GRUB patch field. */
export const MBR_CODE_BYTES = 432;
/** `--grub2-mbr`: offset of the 64-bit 512-byte sector address of diskboot.img inside eltorito.img. */
export const MBR_GRUB_CORE_LBA_OFFSET = 0x1b0;
/** `--grub2-mbr`: the address written is bootLba*4 + 4 (eltorito.img's second 512-byte sector, diskboot.img). */
export const MBR_GRUB_CORE_ADDEND = 4;
/** MBR: offset of the first of four 16-byte partition entries. */
export const MBR_PARTITION_TABLE = 0x1be;
/** MBR: boot signature 0x55 0xAA at bytes 510-511. */
export const MBR_SIGNATURE_OFFSET = 0x1fe;
/** Partition status 0x80: active (bootable). */
export const PARTITION_ACTIVE = 0x80;
/** Partition type 0xCD, the type xorriso gives the whole-ISO protective partition. */
export const PARTITION_TYPE_ISO = 0xcd;
/** CHS geometry xorriso assumes for the partition table: heads per cylinder. */
export const MBR_HEADS = 64;
/** CHS geometry xorriso assumes: sectors per track. */
export const MBR_SECTORS_PER_TRACK = 32;
/** Largest cylinder a CHS field can hold. */
const MAX_CYLINDER = 1023;

/** The three CHS bytes of a partition entry for a 512-byte LBA (saturated past cylinder 1023). */
export function chsBytes(lba: number): [number, number, number] {
  const perCylinder = MBR_HEADS * MBR_SECTORS_PER_TRACK;
  let c = Math.floor(lba / perCylinder);
  let h = Math.floor(lba / MBR_SECTORS_PER_TRACK) % MBR_HEADS;
  let s = (lba % MBR_SECTORS_PER_TRACK) + 1;
  if (c > MAX_CYLINDER) {
    c = MAX_CYLINDER;
    h = MBR_HEADS - 1;
    s = MBR_SECTORS_PER_TRACK;
  }
  return [h, s | ((c >> 2) & 0xc0), c & 0xff];
}

/**
 * Writes the hybrid MBR into the first 512 bytes of `out` (the rest of the system area stays zero):
 * GRUB's boot_hybrid.img code, the pointer to diskboot.img and one active partition of type 0xCD
 * covering the image from 512-byte sector 1 to the end.
 */
export function encodeHybridMbr(out: Uint8Array, bootHybrid: Uint8Array, bootImageLba: number, totalIsoSectors: number): void {
  if (bootHybrid.length < MBR_CODE_BYTES) {
    throw new IsoError('iso.bad-grub-file', `boot_hybrid.img is ${bootHybrid.length} bytes; it must hold at least ${MBR_CODE_BYTES} bytes of boot code.`, 'boot_hybrid.img');
  }
  out.fill(0, 0, 512);
  out.set(bootHybrid.subarray(0, MBR_CODE_BYTES), 0);
  putU64LE(out, MBR_GRUB_CORE_LBA_OFFSET, bootImageLba * DISK_SECTORS_PER_ISO_SECTOR + MBR_GRUB_CORE_ADDEND);
  const total512 = totalIsoSectors * DISK_SECTORS_PER_ISO_SECTOR;
  const first = 1;
  const last = total512 - 1;
  const e = MBR_PARTITION_TABLE;
  out[e] = PARTITION_ACTIVE;
  out.set(chsBytes(first), e + 1);
  out[e + 4] = PARTITION_TYPE_ISO;
  out.set(chsBytes(last), e + 5);
  putU32LE(out, e + 8, first);
  putU32LE(out, e + 12, total512 - first);
  out[MBR_SIGNATURE_OFFSET] = 0x55;
  out[MBR_SIGNATURE_OFFSET + 1] = 0xaa;
}

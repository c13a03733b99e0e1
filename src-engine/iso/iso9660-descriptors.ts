/**
 * ECMA-119 volume descriptors: the Primary Volume Descriptor (sector 16), the El Torito Boot
 * Record and the Set Terminator (spec/grub-iso-and-bios.md §1.2, §1.3).
 */
import { putBoth16, putBoth32, putPadded, putU32BE, putU32LE, SECTOR_SIZE } from './bytes';
import { encodeDirRecord, encodeUnsetVolumeDate, encodeVolumeDate, ID_SELF } from './iso9660-records';

/** ECMA-119 8.4.1: volume descriptor type of the Primary Volume Descriptor. */
export const VD_TYPE_PRIMARY = 1;
/** ECMA-119 8.2.1: volume descriptor type of a Boot Record (El Torito 2.0 "Boot Record Volume Descriptor"). */
export const VD_TYPE_BOOT = 0;
/** ECMA-119 8.3.1: volume descriptor type of the Volume Descriptor Set Terminator. */
export const VD_TYPE_TERMINATOR = 255;
/** ECMA-119 8.1.2: standard identifier of every volume descriptor. */
export const STANDARD_ID = 'CD001';
/** ECMA-119 8.1.3 / 8.4.27: volume descriptor version and file structure version. */
const VD_VERSION = 1;
/** El Torito 2.0 §2.0: boot system identifier of the Boot Record. */
export const EL_TORITO_ID = 'EL TORITO SPECIFICATION';
/** El Torito 2.0 §2.0: offset of the absolute LBA of the boot catalog in the Boot Record. */
export const BOOT_RECORD_CATALOG_OFFSET = 0x47;
/** ECMA-119: sector of the first volume descriptor (after the 32 KiB system area). */
export const PVD_LBA = 16;

/** PVD field offsets (ECMA-119 8.4). */
const PVD = {
  systemId: 8,
  volumeId: 40,
  volumeSpaceSize: 80,
  volumeSetSize: 120,
  volumeSequenceNumber: 124,
  logicalBlockSize: 128,
  pathTableSize: 132,
  typeLPathTable: 140,
  optTypeLPathTable: 144,
  typeMPathTable: 148,
  optTypeMPathTable: 152,
  rootDirectoryRecord: 156,
  volumeSetId: 190,
  publisherId: 318,
  dataPreparerId: 446,
  applicationId: 574,
  copyrightFileId: 702,
  abstractFileId: 739,
  bibliographicFileId: 776,
  creationDate: 813,
  modificationDate: 830,
  expirationDate: 847,
  effectiveDate: 864,
  fileStructureVersion: 881,
} as const;

/** Sizes of the PVD's text fields (ECMA-119 8.4). */
const ID_LEN = { system: 32, volume: 32, long: 128, file: 37 } as const;

/** Everything the PVD records. */
export interface PrimaryVolumeFields {
  /** Volume identifier (d-characters by the standard; at most 32 bytes). */
  volumeId: string;
  /** Total sectors of the image, padding included. */
  volumeSectors: number;
  /** Path table size in bytes (one table). */
  pathTableSize: number;
  lPathTableLba: number;
  mPathTableLba: number;
  rootLba: number;
  /** Root directory extent size in bytes. */
  rootSize: number;
  /** Creation/modification time, ms since the Unix epoch (UTC). */
  timeMs: number;
  /** Data preparer identifier (a-characters, at most 128). */
  preparerId: string;
  /** Application identifier (a-characters, at most 128). */
  applicationId: string;
}

function header(out: Uint8Array, off: number, type: number): void {
  out[off] = type;
  putPadded(out, off + 1, STANDARD_ID.length, STANDARD_ID);
  out[off + 6] = VD_VERSION;
}

/** Writes the Primary Volume Descriptor into the 2048 bytes at `off`. */
export function encodePrimaryVolume(out: Uint8Array, off: number, f: PrimaryVolumeFields): void {
  out.fill(0, off, off + SECTOR_SIZE);
  header(out, off, VD_TYPE_PRIMARY);
  putPadded(out, off + PVD.systemId, ID_LEN.system, '');
  putPadded(out, off + PVD.volumeId, ID_LEN.volume, f.volumeId);
  putBoth32(out, off + PVD.volumeSpaceSize, f.volumeSectors);
  putBoth16(out, off + PVD.volumeSetSize, 1);
  putBoth16(out, off + PVD.volumeSequenceNumber, 1);
  putBoth16(out, off + PVD.logicalBlockSize, SECTOR_SIZE);
  putBoth32(out, off + PVD.pathTableSize, f.pathTableSize);
  putU32LE(out, off + PVD.typeLPathTable, f.lPathTableLba);
  putU32LE(out, off + PVD.optTypeLPathTable, 0);
  putU32BE(out, off + PVD.typeMPathTable, f.mPathTableLba);
  putU32BE(out, off + PVD.optTypeMPathTable, 0);
  encodeDirRecord(out, off + PVD.rootDirectoryRecord, {
    id: Uint8Array.of(ID_SELF),
    lba: f.rootLba,
    size: f.rootSize,
    isDir: true,
    timeMs: f.timeMs,
  });
  putPadded(out, off + PVD.volumeSetId, ID_LEN.long, '');
  putPadded(out, off + PVD.publisherId, ID_LEN.long, '');
  putPadded(out, off + PVD.dataPreparerId, ID_LEN.long, f.preparerId);
  putPadded(out, off + PVD.applicationId, ID_LEN.long, f.applicationId);
  putPadded(out, off + PVD.copyrightFileId, ID_LEN.file, '');
  putPadded(out, off + PVD.abstractFileId, ID_LEN.file, '');
  putPadded(out, off + PVD.bibliographicFileId, ID_LEN.file, '');
  encodeVolumeDate(out, off + PVD.creationDate, f.timeMs);
  encodeVolumeDate(out, off + PVD.modificationDate, f.timeMs);
  encodeUnsetVolumeDate(out, off + PVD.expirationDate);
  encodeUnsetVolumeDate(out, off + PVD.effectiveDate);
  out[off + PVD.fileStructureVersion] = VD_VERSION;
}

/** Writes the El Torito Boot Record Volume Descriptor pointing at the boot catalog. */
export function encodeBootRecord(out: Uint8Array, off: number, catalogLba: number): void {
  out.fill(0, off, off + SECTOR_SIZE);
  header(out, off, VD_TYPE_BOOT);
  putPadded(out, off + 7, 32, EL_TORITO_ID, 0);
  putU32LE(out, off + BOOT_RECORD_CATALOG_OFFSET, catalogLba);
}

/** Writes the Volume Descriptor Set Terminator. */
export function encodeTerminator(out: Uint8Array, off: number): void {
  out.fill(0, off, off + SECTOR_SIZE);
  header(out, off, VD_TYPE_TERMINATOR);
}

/** Byte offsets of PVD fields, for tests and readers. */
export const PVD_OFFSETS = PVD;

/**
 * ECMA-119 (ISO 9660) on-disk records: dates, directory records and path-table records
 * (spec/grub-iso-and-bios.md §1.6, §1.7). Pure encoders; the layout lives in iso-image.ts.
 */
import { putBoth16, putBoth32, putU16BE, putU16LE, putU32BE, putU32LE, SECTOR_SIZE, utf8Bytes } from './bytes';

/** ECMA-119 9.1: length of a directory record before the file identifier. */
export const DIR_RECORD_FIXED = 33;

/** ECMA-119 9.1.6 file flags bit 1: the record describes a directory. */
export const FILE_FLAG_DIRECTORY = 0x02;

/** ECMA-119 9.1.11: identifier of the "." record (the directory itself). */
export const ID_SELF = 0x00;

/** ECMA-119 9.1.11: identifier of the ".." record (the parent). */
export const ID_PARENT = 0x01;

/** ECMA-119 9.4: length of a path-table record before the directory identifier. */
export const PATH_RECORD_FIXED = 8;

/** Version suffix written after every file name (ECMA-119 7.5.1 "file name ; version"). */
export const FILE_VERSION_SUFFIX = ';1';

/** Year base of the 7-byte directory-record date (ECMA-119 9.1.5: "number of years since 1900"). */
const RECORD_YEAR_BASE = 1900;

/**
 * The 17-byte volume-descriptor date (ECMA-119 8.4.26.1): "YYYYMMDDhhmmsscc" in ASCII digits,
 * then the offset from GMT in 15-minute units (always 0: times are UTC).
 */
export function encodeVolumeDate(out: Uint8Array, off: number, timeMs: number): void {
  const d = new Date(timeMs);
  const two = (n: number) => String(n).padStart(2, '0');
  const text =
    String(d.getUTCFullYear()).padStart(4, '0') +
    two(d.getUTCMonth() + 1) +
    two(d.getUTCDate()) +
    two(d.getUTCHours()) +
    two(d.getUTCMinutes()) +
    two(d.getUTCSeconds()) +
    two(Math.floor(d.getUTCMilliseconds() / 10));
  for (let i = 0; i < 16; i++) out[off + i] = text.charCodeAt(i);
  out[off + 16] = 0;
}

/** The "not specified" volume date (ECMA-119 8.4.26.1): sixteen ASCII zeros and a zero offset. */
export function encodeUnsetVolumeDate(out: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++) out[off + i] = 0x30;
  out[off + 16] = 0;
}

/** The 7-byte directory-record date (ECMA-119 9.1.5), UTC. */
export function encodeRecordDate(out: Uint8Array, off: number, timeMs: number): void {
  const d = new Date(timeMs);
  out[off] = d.getUTCFullYear() - RECORD_YEAR_BASE;
  out[off + 1] = d.getUTCMonth() + 1;
  out[off + 2] = d.getUTCDate();
  out[off + 3] = d.getUTCHours();
  out[off + 4] = d.getUTCMinutes();
  out[off + 5] = d.getUTCSeconds();
  out[off + 6] = 0;
}

/** The identifier bytes of a record: the name (plus ";1" for files), or 0x00 / 0x01 for "." / "..". */
export function recordIdentifier(name: string | typeof ID_SELF | typeof ID_PARENT, isDir: boolean): Uint8Array {
  if (typeof name === 'number') return Uint8Array.of(name);
  return utf8Bytes(isDir ? name : name + FILE_VERSION_SUFFIX);
}

/** Length of a directory record with this identifier: 33 + n, plus a pad byte when n is even. */
export function dirRecordLength(idLength: number): number {
  return DIR_RECORD_FIXED + idLength + (idLength % 2 === 0 ? 1 : 0);
}

/** What a directory record points at. */
export interface DirRecordFields {
  /** Identifier bytes (see recordIdentifier). */
  id: Uint8Array;
  /** First sector of the extent. */
  lba: number;
  /** Data length in bytes (directories: a multiple of 2048). */
  size: number;
  isDir: boolean;
  /** Recording time, ms since the Unix epoch. */
  timeMs: number;
}

/** Encodes a directory record at `off`; returns its length. The caller keeps it inside one sector. */
export function encodeDirRecord(out: Uint8Array, off: number, r: DirRecordFields): number {
  const len = dirRecordLength(r.id.length);
  out[off] = len;
  out[off + 1] = 0; // extended attribute record length
  putBoth32(out, off + 2, r.lba);
  putBoth32(out, off + 10, r.size);
  encodeRecordDate(out, off + 18, r.timeMs);
  out[off + 25] = r.isDir ? FILE_FLAG_DIRECTORY : 0;
  out[off + 26] = 0; // file unit size (not interleaved)
  out[off + 27] = 0; // interleave gap
  putBoth16(out, off + 28, 1); // volume sequence number
  out[off + 32] = r.id.length;
  out.set(r.id, off + 33);
  return len;
}

/**
 * Packs records of the given lengths into sectors so that none crosses a sector boundary
 * (ECMA-119 6.8.1.1); returns each record's byte offset and the extent size in whole sectors.
 */
export function packRecords(lengths: readonly number[]): { offsets: number[]; size: number } {
  const offsets: number[] = [];
  let off = 0;
  for (const len of lengths) {
    if (Math.floor(off / SECTOR_SIZE) !== Math.floor((off + len - 1) / SECTOR_SIZE)) {
      off = Math.ceil(off / SECTOR_SIZE) * SECTOR_SIZE;
    }
    offsets.push(off);
    off += len;
  }
  return { offsets, size: Math.max(1, Math.ceil(off / SECTOR_SIZE)) * SECTOR_SIZE };
}

/** Length of a path-table record: 8 + n, plus a pad byte when n is odd (ECMA-119 9.4). */
export function pathRecordLength(idLength: number): number {
  return PATH_RECORD_FIXED + idLength + (idLength % 2);
}

/** One directory as listed in the path tables. */
export interface PathRecordFields {
  /** Directory identifier (0x00 for the root). */
  id: Uint8Array;
  /** First sector of the directory's extent. */
  lba: number;
  /** 1-based number of the parent directory in the path table (the root's parent is 1). */
  parent: number;
}

/**
 * Encodes one path-table record at `off`, little-endian for the L table or big-endian for the M
 * table (ECMA-119 9.4); returns its length.
 */
export function encodePathRecord(out: Uint8Array, off: number, r: PathRecordFields, bigEndian: boolean): number {
  out[off] = r.id.length;
  out[off + 1] = 0; // extended attribute record length
  if (bigEndian) {
    putU32BE(out, off + 2, r.lba);
    putU16BE(out, off + 6, r.parent);
  } else {
    putU32LE(out, off + 2, r.lba);
    putU16LE(out, off + 6, r.parent);
  }
  out.set(r.id, off + PATH_RECORD_FIXED);
  return pathRecordLength(r.id.length);
}

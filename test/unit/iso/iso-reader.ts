/**
 * An independent little ISO 9660 reader for the tests: walks directory records from the PVD's root
 * record, checking on the way that no record crosses a sector boundary.
 */
import { getU32BE, getU32LE } from '../../../src-engine/iso/bytes';

export interface ReadEntry {
  path: string;
  isDir: boolean;
  lba: number;
  size: number;
  /** Identifier as recorded (files keep ";1"). */
  id: string;
}

const S = 2048;

/** Reads a both-endian 32-bit field and checks both halves agree. */
export function both32(buf: Uint8Array, off: number): number {
  const le = getU32LE(buf, off);
  const be = getU32BE(buf, off + 4);
  if (le !== be) throw new Error(`both-endian field at ${off}: LE ${le} != BE ${be}`);
  return le;
}

/** Parses the records of one directory extent. */
export function readDirectory(iso: Uint8Array, lba: number, size: number): ReadEntry[] & { crossings: number } {
  const out = [] as unknown as ReadEntry[] & { crossings: number };
  out.crossings = 0;
  let off = lba * S;
  const end = off + size;
  while (off < end) {
    const len = iso[off];
    if (len === 0) {
      off = Math.ceil((off + 1) / S) * S; // rest of the sector is padding
      continue;
    }
    if (Math.floor(off / S) !== Math.floor((off + len - 1) / S)) out.crossings++;
    const idLen = iso[off + 32];
    const id = new TextDecoder().decode(iso.subarray(off + 33, off + 33 + idLen));
    out.push({ path: '', isDir: (iso[off + 25] & 2) !== 0, lba: both32(iso, off + 2), size: both32(iso, off + 10), id });
    off += len;
  }
  return out;
}

/** Every file and directory below the root, with absolute paths (";1" stripped). */
export function readTree(iso: Uint8Array): ReadEntry[] {
  const pvd = 16 * S;
  const rootLba = both32(iso, pvd + 156 + 2);
  const rootSize = both32(iso, pvd + 156 + 10);
  const result: ReadEntry[] = [];
  const walk = (lba: number, size: number, prefix: string) => {
    const entries = readDirectory(iso, lba, size);
    if (entries.crossings > 0) throw new Error(`${entries.crossings} records cross a sector boundary in ${prefix || '/'}`);
    for (const e of entries.slice(2)) {
      const name = e.isDir ? e.id : e.id.replace(/;1$/, '');
      const p = `${prefix}/${name}`;
      result.push({ ...e, path: p });
      if (e.isDir) walk(e.lba, e.size, p);
    }
  };
  walk(rootLba, rootSize, '');
  return result;
}

/** The bytes of a file read through the directory records. */
export function readFile(iso: Uint8Array, path: string): Uint8Array | undefined {
  const e = readTree(iso).find((x) => x.path === path && !x.isDir);
  return e ? iso.subarray(e.lba * S, e.lba * S + e.size) : undefined;
}

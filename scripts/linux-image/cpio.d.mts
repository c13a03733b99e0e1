// Types of cpio.mjs, for the tests that import it.

/** st_mode file type bits. */
export const S_IFDIR: number;
export const S_IFREG: number;
export const S_IFLNK: number;
export const S_IFCHR: number;

/** One archive member: name without a leading slash, mode with the type bits, contents or link target. */
export interface CpioEntry {
  name: string;
  mode: number;
  data?: Buffer;
  rdevMajor?: number;
  rdevMinor?: number;
}

/** A cpio newc archive of the entries (uid/gid 0, the given mtime, inodes 1, 2, ...) and the trailer. */
export function buildCpio(entries: readonly CpioEntry[], mtime: number): Buffer;

// A deterministic cpio "newc" (SVR4, magic 070701) writer for the test image's initramfs: the
// format the kernel unpacks (Documentation/driver-api/early-userspace/buffer-format.rst).
// Every entry gets uid 0, gid 0 and the same mtime; inode numbers count up from 1 in the order
// given; so the same entries always give the same bytes, whoever builds them and when.

/** "070701": new ASCII format without checksums. */
const NEWC_MAGIC = '070701';
/** Header: the magic and 13 fields of 8 hex digits. */
const NEWC_HEADER_BYTES = 6 + 13 * 8;
/** Name and data are each padded to a multiple of 4 bytes (counted from the start of the archive). */
const NEWC_ALIGN = 4;
/** The last entry's name. */
const TRAILER = 'TRAILER!!!';

/** File type bits of st_mode (S_IFDIR, S_IFREG, S_IFLNK, S_IFCHR). */
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

const hex8 = (n) => (n >>> 0).toString(16).padStart(8, '0');
const pad = (n) => (NEWC_ALIGN - (n % NEWC_ALIGN)) % NEWC_ALIGN;

/**
 * Builds a newc archive. Entries: { name, mode, data?, rdevMajor?, rdevMinor? } where name has no
 * leading slash, mode includes the file type bits, data is a Buffer (file contents or the link
 * target). Returns a Buffer.
 */
export function buildCpio(entries, mtime) {
  const parts = [];
  let offset = 0;
  const push = (buf) => {
    parts.push(buf);
    offset += buf.length;
  };
  const all = [...entries, { name: TRAILER, mode: 0, data: Buffer.alloc(0) }];
  all.forEach((e, i) => {
    const data = e.data ?? Buffer.alloc(0);
    const name = Buffer.from(`${e.name}\0`, 'utf8');
    const isDir = (e.mode & 0o170000) === S_IFDIR;
    const trailer = e.name === TRAILER;
    const fields = [
      trailer ? 0 : i + 1, // c_ino
      e.mode, // c_mode
      0, // c_uid
      0, // c_gid
      isDir ? 2 : 1, // c_nlink
      trailer ? 0 : mtime, // c_mtime
      data.length, // c_filesize
      0, // c_devmajor
      0, // c_devminor
      e.rdevMajor ?? 0, // c_rdevmajor
      e.rdevMinor ?? 0, // c_rdevminor
      name.length, // c_namesize (with the NUL)
      0, // c_check
    ];
    push(Buffer.from(NEWC_MAGIC + fields.map(hex8).join(''), 'ascii'));
    push(name);
    push(Buffer.alloc(pad(NEWC_HEADER_BYTES + name.length)));
    push(data);
    push(Buffer.alloc(pad(offset)));
  });
  return Buffer.concat(parts);
}

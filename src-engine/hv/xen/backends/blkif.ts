/**
 * The block interface ring (io/blkif.h, io/ring.h): request and response layouts for the two
 * ABIs a front end may declare in its "protocol" node, and the shared-ring header.
 *
 * Shared ring page: req_prod, req_event, rsp_prod, rsp_event (u32) at 0..15, padding to 64, then
 * the entries (a union of request and response). Entries per page = the largest power of two
 * that fits (__CONST_RING_SIZE).
 */

/** BLKIF_OP_*. */
export const BLKIF_OP_READ = 0;
export const BLKIF_OP_WRITE = 1;
export const BLKIF_OP_WRITE_BARRIER = 2;
export const BLKIF_OP_FLUSH_DISKCACHE = 3;
export const BLKIF_OP_DISCARD = 5;
export const BLKIF_OP_INDIRECT = 6;
/** BLKIF_MAX_SEGMENTS_PER_REQUEST. */
export const BLKIF_MAX_SEGMENTS = 11;
/** BLKIF_RSP_*. */
export const BLKIF_RSP_OKAY = 0;
export const BLKIF_RSP_ERROR = -1;
export const BLKIF_RSP_EOPNOTSUPP = -2;
/** Units of sector_number and of first_sect/last_sect. */
export const BLKIF_SECTOR = 512;
/** VDISK_* info bits. */
export const VDISK_CDROM = 0x1;
export const VDISK_REMOVABLE = 0x2;
export const VDISK_READONLY = 0x4;

/** Shared-ring header offsets. */
export const RING_REQ_PROD = 0;
export const RING_REQ_EVENT = 4;
export const RING_RSP_PROD = 8;
export const RING_RSP_EVENT = 12;
/** offsetof(struct blkif_sring, ring). */
export const RING_ENTRIES_OFFSET = 64;

/** One ABI's layout. */
export interface BlkifAbi {
  readonly name: string;
  /** sizeof(union blkif_sring_entry). */
  readonly entryBytes: number;
  /** Offsets in a request. */
  readonly reqId: number;
  readonly reqSector: number;
  readonly reqSegments: number;
  /** blkif_request_discard.nr_sectors. */
  readonly reqNrSectors: number;
  /** Offsets in a response. */
  readonly rspId: number;
  readonly rspOp: number;
  readonly rspStatus: number;
  /** Entries per ring page. */
  readonly ringSize: number;
}

/** Offsets common to both ABIs: operation u8 @0, nr_segments u8 @1, handle u16 @2; segment = {gref u32, first u8, last u8}. */
export const REQ_OPERATION = 0;
export const REQ_NR_SEGMENTS = 1;
export const SEG_BYTES = 8;
export const SEG_FIRST = 4;
export const SEG_LAST = 5;

function ringSize(entry: number): number {
  const n = Math.floor((4096 - RING_ENTRIES_OFFSET) / entry);
  return 2 ** Math.floor(Math.log2(n));
}

/** "x86_32-abi": uint64_t is 4-aligned; request 108 bytes, response 12. */
export const BLKIF_X86_32: BlkifAbi = {
  name: 'x86_32-abi', entryBytes: 108, reqId: 4, reqSector: 12, reqSegments: 20, reqNrSectors: 20,
  rspId: 0, rspOp: 8, rspStatus: 10, ringSize: ringSize(108),
};
/** "x86_64-abi": request 112 bytes, response 16. */
export const BLKIF_X86_64: BlkifAbi = {
  name: 'x86_64-abi', entryBytes: 112, reqId: 8, reqSector: 16, reqSegments: 24, reqNrSectors: 24,
  rspId: 0, rspOp: 8, rspStatus: 10, ringSize: ringSize(112),
};

/** The ABI a "protocol" node names (default: the 32-bit one, native for the guests Domus runs). */
export function blkifAbi(protocol: string | undefined): BlkifAbi | undefined {
  if (protocol === undefined || protocol === '' || protocol === BLKIF_X86_32.name) return BLKIF_X86_32;
  if (protocol === BLKIF_X86_64.name) return BLKIF_X86_64;
  return undefined;
}

/** Device majors of xen-vbd-interface(7): xvd, SCSI disks, first and second IDE controller. */
const XVD_MAJOR = 202;
const SD_MAJOR = 8;
const IDE0_MAJOR = 3;
const IDE1_MAJOR = 22;
/** Extended xvd numbering (disks beyond 15). */
const VBD_EXTENDED = 1 << 28;
/** Disks and partitions the compact encodings hold. */
const COMPACT_DISKS = 16;
const COMPACT_PARTS = 16;
const IDE_DISKS_PER_MAJOR = 2;
const IDE_PARTS = 64;
/** Letters a..z. */
const LETTERS = 26;

/**
 * The Xen virtual-device number of a disk name (xen-vbd-interface(7)): xvdX[N] 202<<8 | disk<<4
 * | part (extended numbering 1<<28 | disk<<8 | part beyond 15 disks), hdX (IDE majors 3 and 22),
 * sdX (8<<8 | disk<<4 | part), or a plain number. Undefined if the name is none of these.
 */
export function vbdDeviceNumber(vdev: string): number | undefined {
  const m = /^(xvd|hd|sd)([a-z]+)([0-9]*)$/.exec(vdev);
  if (m === null) return /^[0-9]+$/.test(vdev) ? Number(vdev) : undefined;
  let disk = 0;
  for (const ch of m[2]) disk = disk * LETTERS + (ch.charCodeAt(0) - 'a'.charCodeAt(0) + 1);
  disk -= 1;
  const part = m[3] === '' ? 0 : Number(m[3]);
  const compact = disk < COMPACT_DISKS && part < COMPACT_PARTS;
  if (m[1] === 'xvd') return compact ? (XVD_MAJOR << 8) | (disk << 4) | part : VBD_EXTENDED | (disk << 8) | part;
  if (m[1] === 'sd') return compact ? (SD_MAJOR << 8) | (disk << 4) | part : undefined;
  if (disk >= 2 * IDE_DISKS_PER_MAJOR || part >= IDE_PARTS) return undefined;
  return disk < IDE_DISKS_PER_MAJOR ? (IDE0_MAJOR << 8) | (disk << 6) | part : (IDE1_MAJOR << 8) | ((disk - IDE_DISKS_PER_MAJOR) << 6) | part;
}

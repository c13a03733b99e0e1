/**
 * The domain save image: what `domus save` writes and `domus restore` reads. Named, versioned
 * fields (JSON header) plus raw sections, with a CRC-32 over everything so a truncated or
 * corrupted file is refused before anything is built from it.
 *
 *   "DOMUS-SAVE\n"          11 bytes magic
 *   u32 format version      (FORMAT_VERSION)
 *   u32 header length, then the header as UTF-8 JSON (SaveHeader)
 *   pages: header.pageCount x (u32 guest frame number + 4096 bytes); all-zero pages are omitted
 *   VCPU state blocks: header.nrVcpus x STATE_BYTES
 *   u32 CRC-32 (IEEE) of every byte before it
 */
import { SaveImageError } from '../base/errors';
import type { XenSaveState } from '../hv/xen/save/xen-save-state';
import type { PvhSpec } from './hv-domain';

const MAGIC = 'DOMUS-SAVE\n';
/**
 * The format this engine writes. Format 2 added PVH domains (the header's `pvh` and `xen`
 * fields); format 1 images (HVM domains only) are still read.
 */
export const FORMAT_VERSION = 2;
/** The oldest format this engine reads. */
export const OLDEST_FORMAT_VERSION = 1;
const PAGE = 4096;

/** The JSON part of an image. */
export interface SaveHeader {
  /** Engine that wrote it (informational). */
  engine: string;
  savedAtMs: number;
  name: string;
  uuid: string;
  memoryMiB: number;
  nrVcpus: number;
  onlineVcpus: number;
  stateBytes: number;
  pageCount: number;
  /** Everything the toolstack needs to recreate the domain (its typed config). */
  config: unknown;
  /** Device state (PcPlatform.saveState()). */
  platform: unknown;
  /** Hypervisor-side domain fields. */
  domain: { exits: Record<string, number>; deadHalt: boolean[] };
  /** A PVH domain's PV devices, with the disk paths resolved when it was saved (format 2). */
  pvh?: PvhSpec;
  /** A PVH domain's Xen state (hv/xen/save/xen-save-state.ts; format 2). */
  xen?: XenSaveState;
}

/** A decoded image. */
export interface SaveImage {
  header: SaveHeader;
  /** Guest frame numbers and their 4 KiB contents. */
  pages: { gfns: Uint32Array; data: Uint8Array };
  states: Uint8Array;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3) of `b`. */
export function crc32(b: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** Encodes an image. */
export function encodeSaveImage(img: SaveImage): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ ...img.header, pageCount: img.pages.gfns.length }));
  const magic = new TextEncoder().encode(MAGIC);
  const n = img.pages.gfns.length;
  const size = magic.length + 8 + header.length + n * (4 + PAGE) + img.states.length + 4;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let o = 0;
  out.set(magic, o);
  o += magic.length;
  dv.setUint32(o, FORMAT_VERSION, true);
  dv.setUint32(o + 4, header.length, true);
  o += 8;
  out.set(header, o);
  o += header.length;
  for (let k = 0; k < n; k++) {
    dv.setUint32(o, img.pages.gfns[k], true);
    out.set(img.pages.data.subarray(k * PAGE, (k + 1) * PAGE), o + 4);
    o += 4 + PAGE;
  }
  out.set(img.states, o);
  o += img.states.length;
  dv.setUint32(o, crc32(out.subarray(0, o)), true);
  return out;
}

/** Decodes and verifies an image; `file` names it in errors. */
export function decodeSaveImage(bytes: Uint8Array, file: string): SaveImage {
  const magic = new TextEncoder().encode(MAGIC);
  const fail = (code: string, why: string): never => {
    throw new SaveImageError(code, `${file} cannot be restored: ${why}`, file);
  };
  if (bytes.length < magic.length + 12 || !magic.every((b, i) => bytes[i] === b)) fail('save.not-image', 'it is not a Domus save image.');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(magic.length, true);
  if (version < OLDEST_FORMAT_VERSION || version > FORMAT_VERSION) {
    fail(
      'save.version',
      `it was written in save format ${version}, and this Domus reads formats ${OLDEST_FORMAT_VERSION} to ${FORMAT_VERSION}. Restore it with the Domus release that saved it.`,
    );
  }
  const body = bytes.length - 4;
  if (crc32(bytes.subarray(0, body)) !== dv.getUint32(body, true)) fail('save.corrupt', 'it is damaged or truncated (checksum mismatch).');
  const hlen = dv.getUint32(magic.length + 4, true);
  let o = magic.length + 8;
  if (o + hlen > body) fail('save.corrupt', 'its header runs past the end of the file.');
  let header: SaveHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(o, o + hlen))) as SaveHeader;
  } catch {
    return fail('save.corrupt', 'its header is not readable.');
  }
  o += hlen;
  const n = header.pageCount;
  if (!Number.isInteger(n) || n < 0 || o + n * (4 + PAGE) + header.nrVcpus * header.stateBytes !== body) {
    fail('save.corrupt', 'its sections do not add up to the file size.');
  }
  const gfns = new Uint32Array(n);
  const data = new Uint8Array(n * PAGE);
  for (let k = 0; k < n; k++) {
    gfns[k] = dv.getUint32(o, true);
    data.set(bytes.subarray(o + 4, o + 4 + PAGE), k * PAGE);
    o += 4 + PAGE;
  }
  const states = bytes.slice(o, o + header.nrVcpus * header.stateBytes);
  return { header, pages: { gfns, data }, states };
}

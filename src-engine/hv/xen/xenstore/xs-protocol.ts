/**
 * The xenstore wire protocol (io/xs_wire.h): a 16-byte header {type, req_id, tx_id, len} and
 * `len` payload bytes, at most XENSTORE_PAYLOAD_MAX. Strings in payloads are NUL-terminated.
 */

/** enum xsd_sockmsg_type. */
export const XS_CONTROL = 0;
export const XS_DIRECTORY = 1;
export const XS_READ = 2;
export const XS_GET_PERMS = 3;
export const XS_WATCH = 4;
export const XS_UNWATCH = 5;
export const XS_TRANSACTION_START = 6;
export const XS_TRANSACTION_END = 7;
export const XS_INTRODUCE = 8;
export const XS_RELEASE = 9;
export const XS_GET_DOMAIN_PATH = 10;
export const XS_WRITE = 11;
export const XS_MKDIR = 12;
export const XS_RM = 13;
export const XS_SET_PERMS = 14;
export const XS_WATCH_EVENT = 15;
export const XS_ERROR = 16;
export const XS_IS_DOMAIN_INTRODUCED = 17;
export const XS_RESUME = 18;
export const XS_SET_TARGET = 19;
export const XS_RESET_WATCHES = 21;
export const XS_DIRECTORY_PART = 22;

/** Names of the message types (logs, docs). */
export const XS_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'XS_CONTROL', 1: 'XS_DIRECTORY', 2: 'XS_READ', 3: 'XS_GET_PERMS', 4: 'XS_WATCH', 5: 'XS_UNWATCH',
  6: 'XS_TRANSACTION_START', 7: 'XS_TRANSACTION_END', 8: 'XS_INTRODUCE', 9: 'XS_RELEASE', 10: 'XS_GET_DOMAIN_PATH',
  11: 'XS_WRITE', 12: 'XS_MKDIR', 13: 'XS_RM', 14: 'XS_SET_PERMS', 15: 'XS_WATCH_EVENT', 16: 'XS_ERROR',
  17: 'XS_IS_DOMAIN_INTRODUCED', 18: 'XS_RESUME', 19: 'XS_SET_TARGET', 21: 'XS_RESET_WATCHES', 22: 'XS_DIRECTORY_PART',
};

/** struct xsd_sockmsg size. */
export const XS_HEADER_BYTES = 16;
/** XENSTORE_PAYLOAD_MAX. */
export const XS_PAYLOAD_MAX = 4096;

/** One message. */
export interface XsMessage {
  readonly type: number;
  readonly reqId: number;
  readonly txId: number;
  readonly payload: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Header + payload bytes of a message. */
export function encodeMessage(m: XsMessage): Uint8Array {
  const out = new Uint8Array(XS_HEADER_BYTES + m.payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, m.type, true);
  dv.setUint32(4, m.reqId, true);
  dv.setUint32(8, m.txId, true);
  dv.setUint32(12, m.payload.length, true);
  out.set(m.payload, XS_HEADER_BYTES);
  return out;
}

/** Decodes a 16-byte header: [type, req_id, tx_id, len]. */
export function decodeHeader(b: Uint8Array): [number, number, number, number] {
  const dv = new DataView(b.buffer, b.byteOffset, XS_HEADER_BYTES);
  return [dv.getUint32(0, true), dv.getUint32(4, true), dv.getUint32(8, true), dv.getUint32(12, true)];
}

/** Strings joined with NUL terminators ("a\0b\0"). */
export function strings(...items: string[]): Uint8Array {
  return enc.encode(items.map((s) => `${s}\0`).join(''));
}

/** Splits a payload at NULs; a trailing piece without NUL is kept as the last item. */
export function splitNul(payload: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let k = 0; k < payload.length; k++) {
    if (payload[k] === 0) {
      out.push(dec.decode(payload.subarray(start, k)));
      start = k + 1;
    }
  }
  if (start < payload.length) out.push(dec.decode(payload.subarray(start)));
  return out;
}

/** The first NUL-terminated string and the bytes after it (XS_WRITE: path, value). */
export function splitFirst(payload: Uint8Array): [string, Uint8Array] | undefined {
  const k = payload.indexOf(0);
  if (k < 0) return undefined;
  return [dec.decode(payload.subarray(0, k)), payload.subarray(k + 1)];
}

/** UTF-8 bytes of `s` (no terminator). */
export function bytesOf(s: string): Uint8Array {
  return enc.encode(s);
}

/** `b` as text. */
export function textOf(b: Uint8Array): string {
  return dec.decode(b);
}

/**
 * Small encoders for the Xen part of a save image, which travels inside the image's JSON header
 * (runtime/save-image.ts): bytes as base64 text, sets of guest frames as runs, deadlines that may
 * be "never" (Infinity, which JSON cannot hold) as null. The engine core has no Buffer or btoa,
 * so base64 is written out here (RFC 4648, section 4, with padding).
 */
import { SaveImageError } from '../../../base/errors';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let k = 0; k < ALPHABET.length; k++) t[ALPHABET.charCodeAt(k)] = k;
  return t;
})();
/** Base64 packs 3 bytes into 4 characters of 6 bits. */
const BYTES_PER_GROUP = 3;
const CHARS_PER_GROUP = 4;
const BITS_PER_CHAR = 6;
const SIX_BITS = 0x3f;

/** Bytes as base64 text. */
export function toBase64(b: Uint8Array): string {
  let out = '';
  for (let k = 0; k < b.length; k += BYTES_PER_GROUP) {
    const n = Math.min(BYTES_PER_GROUP, b.length - k);
    const w = (b[k] << 16) | ((n > 1 ? b[k + 1] : 0) << 8) | (n > 2 ? b[k + 2] : 0);
    out += ALPHABET[(w >>> 18) & SIX_BITS] + ALPHABET[(w >>> 12) & SIX_BITS];
    out += n > 1 ? ALPHABET[(w >>> BITS_PER_CHAR) & SIX_BITS] : '=';
    out += n > 2 ? ALPHABET[w & SIX_BITS] : '=';
  }
  return out;
}

/** Base64 text back to bytes; `what` names the field in the error a malformed string gives. */
export function fromBase64(s: unknown, what: string): Uint8Array {
  if (typeof s !== 'string' || s.length % CHARS_PER_GROUP !== 0) throw badField(what);
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / CHARS_PER_GROUP) * BYTES_PER_GROUP - pad);
  let o = 0;
  for (let k = 0; k < s.length; k += CHARS_PER_GROUP) {
    let w = 0;
    for (let j = 0; j < CHARS_PER_GROUP; j++) {
      const ch = s.charCodeAt(k + j);
      const last = k + CHARS_PER_GROUP >= s.length;
      const v = ch === 0x3d && last && j >= CHARS_PER_GROUP - pad ? 0 : ch < 128 ? DECODE[ch] : -1;
      if (v < 0) throw badField(what);
      w = (w << BITS_PER_CHAR) | v;
    }
    for (let j = 0; j < BYTES_PER_GROUP && o < out.length; j++) out[o++] = (w >>> (16 - 8 * j)) & 0xff;
  }
  return out;
}

/** The error for a field of the image's Xen state that is not what this engine wrote. */
export function badField(what: string): SaveImageError {
  return new SaveImageError('save.corrupt', `The image's Xen state is damaged: ${what} is not readable. The file was changed after it was saved.`, what);
}

/** Sorted guest frame numbers as [first, count] runs. */
export function toRuns(gfns: Iterable<number>): [number, number][] {
  const out: [number, number][] = [];
  for (const g of gfns) {
    const last = out[out.length - 1];
    if (last !== undefined && last[0] + last[1] === g) last[1]++;
    else out.push([g, 1]);
  }
  return out;
}

/** The frames of [first, count] runs (checked: whole, non-negative numbers). */
export function fromRuns(runs: unknown, what: string): number[] {
  if (!Array.isArray(runs)) throw badField(what);
  const out: number[] = [];
  for (const r of runs as unknown[]) {
    if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => Number.isInteger(x) && (x as number) >= 0)) throw badField(what);
    for (let k = 0; k < (r[1] as number); k++) out.push((r[0] as number) + k);
  }
  return out;
}

/** A deadline for JSON: null for never. */
export function toDeadline(ns: number): number | null {
  return Number.isFinite(ns) ? ns : null;
}

/** A deadline from JSON: never for null. */
export function fromDeadline(ns: number | null): number {
  return ns === null ? Infinity : ns;
}

/**
 * Raw LZMA1 streams as GRUB's i386-pc decompressor (lzma_decompress.img) reads them
 * (spec/grub-iso-and-bios.md §3.3): lc=3, lp=0, pb=2, no 13-byte ".lzma" header, no container.
 * The encoder is the npm package lzma1; its output carries an end marker, which GRUB's decoder
 * never reaches because it stops after the uncompressed size it is given.
 */
import { IsoError } from '../base/errors';
import { getU32LE, putU32LE, putU64LE } from './bytes';
import { compress, decompress } from './lzma1-bridge';

/** LZMA properties byte for lc=3, lp=0, pb=2: (pb*5 + lp)*9 + lc = 0x5D. */
export const LZMA_PROPS_LC3_LP0_PB2 = 0x5d;
/** Size of the "LZMA alone" header: properties (1), dictionary size (4), uncompressed size (8). */
export const LZMA_ALONE_HEADER_BYTES = 13;
/** Dictionary size grub-mkimage uses (64 KiB); lzma1 mode 1 selects the same. */
export const LZMA_DICTIONARY_BYTES = 0x10000;
/** lzma1 compression level whose dictionary is 64 KiB. */
const LZMA1_MODE_64K = 1;

/** Compresses `data` into a raw LZMA1 stream (lc=3, lp=0, pb=2) with a 64 KiB dictionary. */
export function lzmaRawCompress(data: Uint8Array): Uint8Array {
  const alone = compress(data, LZMA1_MODE_64K);
  if (alone.length < LZMA_ALONE_HEADER_BYTES || alone[0] !== LZMA_PROPS_LC3_LP0_PB2 || getU32LE(alone, 1) !== LZMA_DICTIONARY_BYTES) {
    throw new IsoError('iso.lzma', 'The LZMA encoder did not produce an lc=3 lp=0 pb=2 stream with a 64 KiB dictionary; the GRUB core image cannot be built.');
  }
  return alone.slice(LZMA_ALONE_HEADER_BYTES);
}

/** Decodes a raw LZMA1 stream (lc=3, lp=0, pb=2) whose uncompressed size is known, as GRUB does. */
export function lzmaRawDecompress(stream: Uint8Array, uncompressedSize: number): Uint8Array {
  const alone = new Uint8Array(LZMA_ALONE_HEADER_BYTES + stream.length);
  alone[0] = LZMA_PROPS_LC3_LP0_PB2;
  putU32LE(alone, 1, LZMA_DICTIONARY_BYTES);
  putU64LE(alone, 5, uncompressedSize);
  alone.set(stream, LZMA_ALONE_HEADER_BYTES);
  const out = decompress(alone);
  if (out.length !== uncompressedSize) {
    throw new IsoError('iso.lzma', `The LZMA stream decoded to ${out.length} bytes instead of ${uncompressedSize}.`);
  }
  return out;
}

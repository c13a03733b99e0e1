/** Declarations of the lzma1 functions re-exported by lzma1-bridge.js (see the comment there). */

/** lzma1 compression levels; 1 selects a 64 KiB dictionary (2^16), like grub-mkimage. */
export type Lzma1Mode = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

/**
 * Compresses to an "LZMA alone" (.lzma) stream: 13-byte header (properties byte, 32-bit dictionary
 * size, 64-bit uncompressed size) then the LZMA1 data with an end marker; lc=3, lp=0, pb=2 always.
 */
export function compress(data: Uint8Array, mode?: Lzma1Mode): Uint8Array;

/** Decompresses an "LZMA alone" stream (13-byte header included). */
export function decompress(data: Uint8Array): Uint8Array;

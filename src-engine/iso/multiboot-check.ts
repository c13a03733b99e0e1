/**
 * "Is this a multiboot kernel?", answered as `grub-file --is-x86-multiboot` and
 * `--is-x86-multiboot2` answer it (GRUB 2.06 grub-core/commands/file.c): read the first 8192
 * (v1) or 32768 (v2) bytes, refuse files shorter than 32 bytes, and look for the magic at every
 * 4-byte (v1) or 8-byte (v2) aligned offset where a whole header fits, with the header's words
 * (v1: magic, flags, checksum; v2: magic, architecture, header length, checksum) summing to 0.
 * The ISO builder checks its loader with this before writing a grub.cfg that boots it.
 */
import { getU32LE } from './bytes';

/** Multiboot 1 header magic (Multiboot Specification 0.6.96 §3.1.2). */
export const MULTIBOOT1_HEADER_MAGIC = 0x1badb002;
/** Multiboot 1: the header must lie within the first 8192 bytes... */
export const MULTIBOOT1_SEARCH = 8192;
/** ...and be 32-bit aligned. */
const MULTIBOOT1_ALIGN = 4;
/** Multiboot 1: magic, flags, checksum. */
const MULTIBOOT1_HEADER_BYTES = 12;
/** Multiboot 2 header magic (Multiboot2 Specification §3.1.2). */
export const MULTIBOOT2_HEADER_MAGIC = 0xe85250d6;
/** Multiboot 2: the header must lie within the first 32768 bytes... */
export const MULTIBOOT2_SEARCH = 32768;
/** ...and be 64-bit aligned. */
const MULTIBOOT2_ALIGN = 8;
/** Multiboot 2: magic, architecture, header_length, checksum. */
const MULTIBOOT2_HEADER_BYTES = 16;
/** grub-file refuses files whose first read returns fewer than 32 bytes. */
const MIN_FILE_BYTES = 32;

/** A multiboot protocol version. */
export type MultibootVersion = 1 | 2;

/** Where the header was found. */
export interface MultibootHeader {
  version: MultibootVersion;
  /** Byte offset of the magic in the file. */
  offset: number;
  /** v1: the flags word; v2: the architecture word (0 = i386 protected mode). */
  word1: number;
}

/** Finds the header of one version as grub-file does; undefined when there is none. */
export function findMultibootHeader(bytes: Uint8Array, version: MultibootVersion): MultibootHeader | undefined {
  const search = version === 1 ? MULTIBOOT1_SEARCH : MULTIBOOT2_SEARCH;
  const step = version === 1 ? MULTIBOOT1_ALIGN : MULTIBOOT2_ALIGN;
  const headerBytes = version === 1 ? MULTIBOOT1_HEADER_BYTES : MULTIBOOT2_HEADER_BYTES;
  const magic = version === 1 ? MULTIBOOT1_HEADER_MAGIC : MULTIBOOT2_HEADER_MAGIC;
  const len = Math.min(bytes.length, search);
  if (len < MIN_FILE_BYTES) return undefined;
  for (let off = 0; off <= len - headerBytes; off += step) {
    if (getU32LE(bytes, off) !== magic) continue;
    let sum = 0;
    for (let w = 0; w < headerBytes; w += 4) sum = (sum + getU32LE(bytes, off + w)) >>> 0;
    if (sum === 0) return { version, offset: off, word1: getU32LE(bytes, off + 4) };
  }
  return undefined;
}

/**
 * The protocol GRUB should boot this kernel with: multiboot (v1) when it has a v1 header, else
 * multiboot2, else undefined (not a multiboot kernel).
 */
export function detectMultiboot(bytes: Uint8Array): MultibootVersion | undefined {
  if (findMultibootHeader(bytes, 1)) return 1;
  if (findMultibootHeader(bytes, 2)) return 2;
  return undefined;
}

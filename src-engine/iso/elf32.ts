/**
 * Just enough ELF32 (System V gABI, i386 psABI) to lay out GRUB's kernel.img and to sanity-check
 * GRUB module files: the file header and the section headers with their names.
 */
import { getU16LE, getU32LE } from './bytes';

/** e_ident[EI_CLASS] of a 32-bit object. */
export const ELFCLASS32 = 1;
/** e_ident[EI_DATA] of a little-endian object. */
export const ELFDATA2LSB = 1;
/** e_type of a relocatable object (GRUB modules). */
export const ET_REL = 1;
/** e_type of an executable (kernel.img). */
export const ET_EXEC = 2;
/** e_machine of Intel 80386. */
export const EM_386 = 3;
/** sh_type of a section holding file bytes. */
export const SHT_PROGBITS = 1;
/** sh_type of a section occupying memory but no file bytes (.bss). */
export const SHT_NOBITS = 8;
/** sh_flags bit: the section occupies memory at run time. */
export const SHF_ALLOC = 0x2;
/** Size of an ELF32 file header. */
const EHDR_SIZE = 52;
/** Size of an ELF32 section header. */
const SHDR_SIZE = 40;

/** One section header. */
export interface Elf32Section {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  align: number;
}

/** The parts of an ELF32 file this module reads. */
export interface Elf32Info {
  type: number;
  machine: number;
  entry: number;
  sections: Elf32Section[];
}

/**
 * Parses an ELF32 little-endian header and its section headers. Returns a reason string instead
 * when the bytes are not such a file (so callers can word their own error).
 */
export function parseElf32(bytes: Uint8Array): Elf32Info | string {
  if (bytes.length < EHDR_SIZE || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    return 'not an ELF file';
  }
  if (bytes[4] !== ELFCLASS32 || bytes[5] !== ELFDATA2LSB) return 'not a 32-bit little-endian ELF file';
  const type = getU16LE(bytes, 16);
  const machine = getU16LE(bytes, 18);
  const entry = getU32LE(bytes, 24);
  const shoff = getU32LE(bytes, 32);
  const shentsize = getU16LE(bytes, 46);
  const shnum = getU16LE(bytes, 48);
  const shstrndx = getU16LE(bytes, 50);
  if (shnum === 0) return { type, machine, entry, sections: [] };
  if (shentsize < SHDR_SIZE || shoff + shnum * shentsize > bytes.length) return 'the section header table lies outside the file';
  const raw = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    raw.push({
      nameOff: getU32LE(bytes, o),
      type: getU32LE(bytes, o + 4),
      flags: getU32LE(bytes, o + 8),
      addr: getU32LE(bytes, o + 12),
      offset: getU32LE(bytes, o + 16),
      size: getU32LE(bytes, o + 20),
      align: getU32LE(bytes, o + 32),
    });
  }
  const strtab = shstrndx < raw.length ? raw[shstrndx] : undefined;
  const sections: Elf32Section[] = [];
  for (const s of raw) {
    if (s.type !== SHT_NOBITS && s.offset + s.size > bytes.length) return 'a section lies outside the file';
    let name = '';
    if (strtab && strtab.offset + s.nameOff < bytes.length) {
      let end = strtab.offset + s.nameOff;
      while (end < bytes.length && bytes[end] !== 0) end++;
      name = String.fromCharCode(...bytes.subarray(strtab.offset + s.nameOff, end));
    }
    sections.push({ name, type: s.type, flags: s.flags, addr: s.addr, offset: s.offset, size: s.size, align: s.align });
  }
  return { type, machine, entry, sections };
}

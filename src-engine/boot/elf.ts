/**
 * A strict parser for little-endian ELF32 and ELF64 files: the file header, program headers,
 * section headers, section names and notes. Every offset and count is checked against the file
 * before it is used, so a truncated or hostile file fails with a BootError that names the file and
 * the problem; nothing else is ever thrown.
 *
 * Field layouts: System V ABI, "Object Files" chapter (the ELF32 and ELF64 structures), and the
 * extended numbering rules (PN_XNUM, SHN_XINDEX, e_shnum = 0) of the gABI 4.1 update.
 *
 * Addresses (entry, p_vaddr, p_paddr, sh_addr) are bigints, so an ELF64 kernel linked at
 * 0xffffffff81000000 is represented exactly; file offsets and sizes are numbers, checked to lie
 * inside the file (or, for memory sizes, below 2^53). Loaders narrow addresses with `toAddress32`.
 */
import { BootError } from '../base/errors';

// e_ident
const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46]; // "\x7fELF"
const EI_CLASS = 4;
const EI_DATA = 5;
const EI_VERSION = 6;
const EI_NIDENT = 16;
const ELFCLASS32 = 1;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
/** EV_CURRENT: the only ELF version. */
const EV_CURRENT = 1;

/** e_type: executable file. */
export const ET_EXEC = 2;
/** e_type: shared object / position-independent executable. */
export const ET_DYN = 3;
/** e_machine: Intel 80386. */
export const EM_386 = 3;
/** e_machine: AMD x86-64. */
export const EM_X86_64 = 62;

/** p_type: loadable segment. */
export const PT_LOAD = 1;
/** p_type: notes. */
export const PT_NOTE = 4;

/** sh_type: inactive section header (index 0). */
export const SHT_NULL = 0;
/** sh_type: relocations with explicit addends. */
export const SHT_RELA = 4;
/** sh_type: notes. */
export const SHT_NOTE = 7;
/** sh_type: occupies no file space (.bss). */
export const SHT_NOBITS = 8;
/** sh_type: relocations without addends. */
export const SHT_REL = 9;
/** Section flag: the section occupies memory while the program runs. */
export const SHF_ALLOC = 0x2;

/** e_phnum value meaning "the real count is in section header 0's sh_info". */
const PN_XNUM = 0xffff;
/** e_shstrndx value meaning "the real index is in section header 0's sh_link". */
const SHN_XINDEX = 0xffff;
/** Section index 0: no section. */
const SHN_UNDEF = 0;

/** Sizes of the structures per class. */
const EHDR_SIZE = { 32: 52, 64: 64 } as const;
const PHDR_SIZE = { 32: 32, 64: 56 } as const;
const SHDR_SIZE = { 32: 40, 64: 64 } as const;
/** Note header: namesz, descsz, type (three 32-bit words in both classes). */
const NOTE_HEADER_SIZE = 12;

/** One program header. */
export interface ElfProgramHeader {
  /** Position in the program header table. */
  readonly index: number;
  readonly type: number;
  readonly flags: number;
  /** File offset of the segment's bytes (checked to lie inside the file for PT_LOAD and PT_NOTE). */
  readonly offset: number;
  readonly vaddr: bigint;
  readonly paddr: bigint;
  readonly filesz: number;
  readonly memsz: number;
  readonly align: number;
}

/** One section header. */
export interface ElfSectionHeader {
  /** Position in the section header table. */
  readonly index: number;
  /** Offset of the name in the section-name string table. */
  readonly nameOffset: number;
  readonly type: number;
  /** sh_flags (for ELF64 the low 32 bits, which hold every defined flag). */
  readonly flags: number;
  readonly addr: bigint;
  /** File offset of the section's bytes (checked to lie inside the file unless SHT_NOBITS). */
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
  /** File offset of this header in the section header table. */
  readonly headerOffset: number;
}

/** A parsed ELF file. `bytes` is the whole file (not copied). */
export interface ElfFile {
  /** The file name used in error messages. */
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly elfClass: 32 | 64;
  readonly type: number;
  readonly machine: number;
  readonly entry: bigint;
  readonly flags: number;
  readonly phoff: number;
  readonly phentsize: number;
  readonly shoff: number;
  readonly shentsize: number;
  /** Index of the section-name string table, SHN_UNDEF (0) if none. Extended numbering resolved. */
  readonly shstrndx: number;
  readonly programHeaders: readonly ElfProgramHeader[];
  readonly sectionHeaders: readonly ElfSectionHeader[];
}

/** One note (an entry of a PT_NOTE segment or SHT_NOTE section). */
export interface ElfNote {
  /** The owner, without its terminating NUL (e.g. "Xen", "GNU"). */
  readonly name: string;
  readonly type: number;
  /** The descriptor bytes (a view into the file). */
  readonly desc: Uint8Array;
  /** Where the note came from. */
  readonly source: 'PT_NOTE' | 'SHT_NOTE';
  /** File offset of the note's header. */
  readonly offset: number;
}

function elfError(path: string, code: string, problem: string): BootError {
  return new BootError(`boot.${code}`, `${path}: ${problem}`, path);
}

function hex(value: number | bigint): string {
  return `0x${value.toString(16)}`;
}

/** True if `bytes` starts with the ELF magic number. */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= ELF_MAGIC.length && ELF_MAGIC.every((b, i) => bytes[i] === b);
}

/** Little-endian reads at absolute file offsets, with class-dependent word size. */
class ElfReader {
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly elfClass: 32 | 64,
    readonly path: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u16(off: number): number {
    return this.view.getUint16(off, true);
  }

  u32(off: number): number {
    return this.view.getUint32(off, true);
  }

  u64(off: number): bigint {
    return this.view.getBigUint64(off, true);
  }

  /** An address-sized field (Elf32_Addr / Elf64_Addr) as a bigint. */
  addr(off: number): bigint {
    return this.elfClass === 32 ? BigInt(this.u32(off)) : this.u64(off);
  }

  /** An offset- or size-sized field as a number; refuses values that a number cannot hold exactly. */
  size(off: number, what: string): number {
    const v = this.addr(off);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw elfError(this.path, 'elf-bad', `${what} is ${hex(v)}, far beyond any real file or memory size; the ELF file is corrupt`);
    }
    return Number(v);
  }

  /** Checks that [offset, offset+len) lies inside the file. */
  checkRange(offset: number, len: number, what: string): void {
    if (offset > this.bytes.length || len > this.bytes.length - offset) {
      throw elfError(
        this.path,
        'elf-truncated',
        `${what} (file offset ${hex(offset)}, ${len} bytes) extends past the end of the file (${this.bytes.length} bytes); the file is truncated or corrupt`,
      );
    }
  }
}

/**
 * Parses and validates an ELF file. `path` only names the file in error messages.
 * Throws BootError (codes boot.not-elf, boot.elf-unsupported, boot.elf-truncated, boot.elf-bad).
 */
export function parseElf(bytes: Uint8Array, path: string): ElfFile {
  if (!isElf(bytes)) {
    throw elfError(path, 'not-elf', 'not an ELF file (it does not start with the bytes 7f 45 4c 46, "\\x7fELF")');
  }
  if (bytes.length < EI_NIDENT) throw elfError(path, 'elf-truncated', 'the ELF identification is truncated');
  const cls = bytes[EI_CLASS];
  if (cls !== ELFCLASS32 && cls !== ELFCLASS64) {
    throw elfError(path, 'elf-unsupported', `unknown ELF class ${cls} (expected 1 for ELF32 or 2 for ELF64)`);
  }
  if (bytes[EI_DATA] !== ELFDATA2LSB) {
    throw elfError(path, 'elf-unsupported', `the ELF file is not little-endian (EI_DATA = ${bytes[EI_DATA]}); only x86 little-endian files can be loaded`);
  }
  if (bytes[EI_VERSION] !== EV_CURRENT) {
    throw elfError(path, 'elf-unsupported', `unknown ELF identification version ${bytes[EI_VERSION]}`);
  }
  const elfClass: 32 | 64 = cls === ELFCLASS32 ? 32 : 64;
  const r = new ElfReader(bytes, elfClass, path);
  const ehsize = EHDR_SIZE[elfClass];
  r.checkRange(0, ehsize, `the ELF${elfClass} file header`);
  const w = elfClass === 32 ? 4 : 8; // address/offset word size
  const type = r.u16(16);
  const machine = r.u16(18);
  const version = r.u32(20);
  if (version !== EV_CURRENT) throw elfError(path, 'elf-unsupported', `unknown ELF version ${version} in e_version`);
  const entry = r.addr(24);
  const phoff = r.size(24 + w, 'e_phoff');
  const shoff = r.size(24 + 2 * w, 'e_shoff');
  const tail = 24 + 3 * w; // e_flags
  const flags = r.u32(tail);
  const eEhsize = r.u16(tail + 4);
  const phentsize = r.u16(tail + 6);
  const ePhnum = r.u16(tail + 8);
  const shentsize = r.u16(tail + 10);
  const eShnum = r.u16(tail + 12);
  const eShstrndx = r.u16(tail + 14);
  if (eEhsize < ehsize) {
    throw elfError(path, 'elf-bad', `e_ehsize is ${eEhsize}, smaller than the ${ehsize}-byte ELF${elfClass} header`);
  }

  // Section header 0 carries the real counts when they do not fit the 16-bit header fields.
  let shnum = eShnum;
  let shstrndx = eShstrndx;
  let phnum = ePhnum;
  const needsSection0 = (eShnum === 0 && shoff !== 0) || eShstrndx === SHN_XINDEX || ePhnum === PN_XNUM;
  if (needsSection0) {
    if (shoff === 0) throw elfError(path, 'elf-bad', 'the header uses extended numbering but there is no section header table');
    checkEntSize(path, shentsize, SHDR_SIZE[elfClass], 'e_shentsize');
    r.checkRange(shoff, SHDR_SIZE[elfClass], 'section header 0 (extended numbering)');
    if (eShnum === 0) shnum = r.size(shoff + 4 + 4 + w + w + w, 'the extended section count (sh_size of section 0)');
    if (eShstrndx === SHN_XINDEX) shstrndx = r.u32(shoff + 4 + 4 + w + w + w + w);
    if (ePhnum === PN_XNUM) phnum = r.u32(shoff + 4 + 4 + w + w + w + w + 4);
  }

  const programHeaders: ElfProgramHeader[] = [];
  if (phnum > 0) {
    checkEntSize(path, phentsize, PHDR_SIZE[elfClass], 'e_phentsize');
    r.checkRange(phoff, tableBytes(phnum, phentsize), `the program header table (${phnum} entries of ${phentsize} bytes)`);
    for (let i = 0; i < phnum; i++) programHeaders.push(readProgramHeader(r, phoff + i * phentsize, i));
  }
  const sectionHeaders: ElfSectionHeader[] = [];
  if (shnum > 0) {
    checkEntSize(path, shentsize, SHDR_SIZE[elfClass], 'e_shentsize');
    r.checkRange(shoff, tableBytes(shnum, shentsize), `the section header table (${shnum} entries of ${shentsize} bytes)`);
    for (let i = 0; i < shnum; i++) sectionHeaders.push(readSectionHeader(r, shoff + i * shentsize, i));
  }
  if (shstrndx !== SHN_UNDEF && shstrndx >= shnum) {
    throw elfError(path, 'elf-bad', `the section-name table index e_shstrndx = ${shstrndx} is not below the section count ${shnum}`);
  }
  return {
    path, bytes, elfClass, type, machine, entry, flags, phoff, phentsize, shoff, shentsize, shstrndx,
    programHeaders, sectionHeaders,
  };
}

function checkEntSize(path: string, actual: number, minimum: number, field: string): void {
  if (actual < minimum) {
    throw elfError(path, 'elf-bad', `${field} is ${actual}, smaller than the ${minimum}-byte structure it describes`);
  }
}

/** count * entsize without losing precision (both are bounded, count by 2^53 at most). */
function tableBytes(count: number, entsize: number): number {
  const total = count * entsize;
  return Number.isSafeInteger(total) ? total : Number.MAX_SAFE_INTEGER;
}

function readProgramHeader(r: ElfReader, off: number, index: number): ElfProgramHeader {
  const is32 = r.elfClass === 32;
  const what = `program header ${index}`;
  const type = r.u32(off);
  const ph: ElfProgramHeader = is32
    ? {
        index, type, offset: r.u32(off + 4), vaddr: r.addr(off + 8), paddr: r.addr(off + 12),
        filesz: r.u32(off + 16), memsz: r.u32(off + 20), flags: r.u32(off + 24), align: r.u32(off + 28),
      }
    : {
        index, type, flags: r.u32(off + 4), offset: r.size(off + 8, `${what} p_offset`),
        vaddr: r.addr(off + 16), paddr: r.addr(off + 24), filesz: r.size(off + 32, `${what} p_filesz`),
        memsz: r.size(off + 40, `${what} p_memsz`), align: r.size(off + 48, `${what} p_align`),
      };
  if (type === PT_LOAD || type === PT_NOTE) {
    const kind = type === PT_LOAD ? 'PT_LOAD' : 'PT_NOTE';
    r.checkRange(ph.offset, ph.filesz, `${what} (${kind})`);
  }
  if (type === PT_LOAD && ph.filesz > ph.memsz) {
    throw elfError(r.path, 'elf-bad', `${what} (PT_LOAD) has p_filesz ${hex(ph.filesz)} larger than p_memsz ${hex(ph.memsz)}`);
  }
  return ph;
}

function readSectionHeader(r: ElfReader, off: number, index: number): ElfSectionHeader {
  const is32 = r.elfClass === 32;
  const what = `section header ${index}`;
  const sh: ElfSectionHeader = is32
    ? {
        index, headerOffset: off, nameOffset: r.u32(off), type: r.u32(off + 4), flags: r.u32(off + 8),
        addr: r.addr(off + 12), offset: r.u32(off + 16), size: r.u32(off + 20), link: r.u32(off + 24),
        info: r.u32(off + 28), addralign: r.u32(off + 32), entsize: r.u32(off + 36),
      }
    : {
        index, headerOffset: off, nameOffset: r.u32(off), type: r.u32(off + 4), flags: r.u32(off + 8),
        addr: r.addr(off + 16), offset: r.size(off + 24, `${what} sh_offset`), size: r.size(off + 32, `${what} sh_size`),
        link: r.u32(off + 40), info: r.u32(off + 44), addralign: r.size(off + 48, `${what} sh_addralign`),
        entsize: r.size(off + 56, `${what} sh_entsize`),
      };
  // Section 0 is SHT_NULL; with extended numbering its size field holds a count, not a range.
  if (index !== 0 && sh.type !== SHT_NOBITS && sh.type !== SHT_NULL) r.checkRange(sh.offset, sh.size, what);
  return sh;
}

/** The bytes of a section (empty for SHT_NOBITS). The range was checked by parseElf. */
export function sectionBytes(elf: ElfFile, sh: ElfSectionHeader): Uint8Array {
  if (sh.type === SHT_NOBITS || sh.type === SHT_NULL) return new Uint8Array(0);
  return elf.bytes.subarray(sh.offset, sh.offset + sh.size);
}

/** The file bytes of a segment (p_filesz bytes; checked by parseElf for PT_LOAD and PT_NOTE). */
export function segmentBytes(elf: ElfFile, ph: ElfProgramHeader): Uint8Array {
  if (ph.offset > elf.bytes.length || ph.filesz > elf.bytes.length - ph.offset) {
    throw elfError(elf.path, 'elf-truncated', `program header ${ph.index} extends past the end of the file`);
  }
  return elf.bytes.subarray(ph.offset, ph.offset + ph.filesz);
}

/** The name of a section from the section-name string table ("" if the file has none). */
export function sectionName(elf: ElfFile, sh: ElfSectionHeader): string {
  if (elf.shstrndx === SHN_UNDEF) return '';
  const strtab = elf.sectionHeaders[elf.shstrndx];
  const table = sectionBytes(elf, strtab);
  if (sh.nameOffset >= table.length) {
    throw elfError(elf.path, 'elf-bad', `section ${sh.index} has name offset ${hex(sh.nameOffset)} outside the section-name table (${table.length} bytes)`);
  }
  const end = table.indexOf(0, sh.nameOffset);
  if (end < 0) throw elfError(elf.path, 'elf-bad', `the name of section ${sh.index} is not NUL-terminated inside the section-name table`);
  return latin1(table.subarray(sh.nameOffset, end));
}

/** The first section with this name, or undefined. */
export function findSection(elf: ElfFile, name: string): ElfSectionHeader | undefined {
  return elf.sectionHeaders.find((sh) => sh.type !== SHT_NULL && sectionName(elf, sh) === name);
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/**
 * Iterates the notes in one note area. Name and descriptor are padded to `align` bytes (4, or 8 for
 * areas aligned to 8 as binutils does for e.g. .note.gnu.property).
 */
function readNoteArea(elf: ElfFile, start: number, size: number, align: number, source: ElfNote['source'], where: string): ElfNote[] {
  const pad = align === 8 ? 8 : 4;
  const view = new DataView(elf.bytes.buffer, elf.bytes.byteOffset, elf.bytes.byteLength);
  const end = start + size;
  const notes: ElfNote[] = [];
  let off = start;
  while (end - off >= NOTE_HEADER_SIZE) {
    const namesz = view.getUint32(off, true);
    const descsz = view.getUint32(off + 4, true);
    const type = view.getUint32(off + 8, true);
    // Padding is relative to the start of the area (whose file offset is itself aligned).
    const nameStart = off + NOTE_HEADER_SIZE;
    const descStart = start + roundUp(nameStart + namesz - start, pad);
    const next = start + roundUp(descStart + descsz - start, pad);
    // The last note's descriptor padding may be missing; only the unpadded bytes must be present.
    if (descStart > end || descStart + descsz > end) {
      throw elfError(elf.path, 'elf-bad', `a note at file offset ${hex(off)} in ${where} (namesz ${namesz}, descsz ${descsz}) runs past the end of its area`);
    }
    let nameBytes = elf.bytes.subarray(nameStart, nameStart + namesz);
    if (nameBytes.length > 0 && nameBytes[nameBytes.length - 1] === 0) nameBytes = nameBytes.subarray(0, nameBytes.length - 1);
    notes.push({ name: latin1(nameBytes), type, desc: elf.bytes.subarray(descStart, descStart + descsz), source, offset: off });
    off = next;
  }
  return notes;
}

function roundUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

/** The notes of every PT_NOTE segment, in program header order. */
export function notesFromSegments(elf: ElfFile): ElfNote[] {
  return elf.programHeaders
    .filter((ph) => ph.type === PT_NOTE)
    .flatMap((ph) => readNoteArea(elf, ph.offset, ph.filesz, ph.align, 'PT_NOTE', `program header ${ph.index} (PT_NOTE)`));
}

/** The notes of every SHT_NOTE section, in section order. */
export function notesFromSections(elf: ElfFile): ElfNote[] {
  return elf.sectionHeaders
    .filter((sh) => sh.type === SHT_NOTE)
    .flatMap((sh) => readNoteArea(elf, sh.offset, sh.size, sh.addralign, 'SHT_NOTE', `section ${sh.index} (SHT_NOTE)`));
}

/**
 * The file's notes the way Xen's ELF loader finds them: from the PT_NOTE segments if there is at
 * least one, otherwise from the SHT_NOTE sections (e.g. Mini-OS, whose .note is not loaded).
 */
export function elfNotes(elf: ElfFile): ElfNote[] {
  return elf.programHeaders.some((ph) => ph.type === PT_NOTE) ? notesFromSegments(elf) : notesFromSections(elf);
}

/**
 * Narrows an ELF address to a 32-bit physical address, or throws a BootError naming `what`
 * (e.g. "the entry point") when it does not fit below 4 GiB.
 */
export function toAddress32(elf: ElfFile, value: bigint, what: string): number {
  if (value > 0xffffffffn) {
    throw elfError(elf.path, 'elf-unsupported', `${what} ${hex(value)} is above 4 GiB; a 32-bit boot protocol cannot reach it`);
  }
  return Number(value);
}

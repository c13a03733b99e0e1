/**
 * Loads a multiboot kernel image into guest RAM the way GRUB 2.06 does
 * (grub-core/loader/multiboot_elfxx.c and the a.out-kludge branches of multiboot_mbi.c and
 * multiboot_mbi2.c):
 * - ELF32 (EM_386) or ELF64 (EM_X86_64), ET_EXEC or ET_DYN, program headers inside the search
 *   window; every PT_LOAD at p_paddr (or moved as one block for a relocatable multiboot2 kernel),
 *   p_memsz - p_filesz zeroed; the entry point translated from p_vaddr to p_paddr through the first
 *   program header that contains it.
 * - Non-allocated sections with sh_addr = 0 and a size (.symtab, .strtab, .shstrtab, ...) copied
 *   to the lowest free RAM at or above 1 MiB with their sh_addralign, and their sh_addr patched in
 *   a copy of the section header table that goes into the boot information. (GRUB asks its
 *   relocator for "anywhere"; below 1 MiB is GRUB's own memory, so they land right above the
 *   kernel, which is what we reproduce.)
 * - The a.out kludge: bytes from the file offset that puts the header at header_addr, loaded at
 *   load_addr up to load_end_addr (0 = end of file), zeroed up to bss_end_addr (0 = none).
 * Deviations, all stricter than GRUB: overlapping segments, a.out ranges that run past the end of
 * the file, and inconsistent a.out addresses are refused instead of loading garbage; SHT_NOBITS
 * sections with sh_addr = 0 are zero-filled instead of read from the file; section 0 is never copied.
 */
import { BootError } from '../base/errors';
import type { GuestPhysMemory } from '../machine/guest-memory';
import {
  EM_386, EM_X86_64, ET_DYN, ET_EXEC, PT_LOAD, SHT_NOBITS, SHT_NULL, SHT_REL, SHT_RELA,
  sectionBytes, segmentBytes, toAddress32, type ElfFile,
} from './elf';
import { HIGH_MEMORY_START } from './e820';
import { ADDRESS_LIMIT_32, type BootPlacement } from './placement';

/** What a loader works with while loading one kernel. */
export interface LoadContext {
  /** The kernel's file name, for error messages. */
  readonly path: string;
  readonly memory: GuestPhysMemory;
  readonly placement: BootPlacement;
}

/** Where a relocatable multiboot2 kernel may go (header tag 10). */
export interface Relocation {
  readonly min: number;
  readonly max: number;
  readonly align: number;
  readonly preference: 'low' | 'high';
}

/** The ELF section header table as handed to the kernel (multiboot v1 flag 5, v2 tag 9). */
export interface SectionTable {
  readonly count: number;
  readonly entsize: number;
  readonly shstrndx: number;
  /** count * entsize bytes, with sh_addr filled in for the sections the loader copied. */
  readonly bytes: Uint8Array;
}

/** A loaded kernel image. */
export interface KernelImage {
  readonly format: 'elf32' | 'elf64' | 'aout-kludge';
  /** Physical entry point (for ELF before any multiboot2 entry-address tag override). */
  readonly entry: number;
  /** Lowest address of the image as linked. */
  readonly linkBase: number;
  /** Lowest address of the image as loaded (differs from linkBase only when relocated). */
  readonly loadBase: number;
  /** End of the highest loaded byte, exclusive. */
  readonly end: number;
  readonly sections: SectionTable;
}

/** The a.out kludge fields of a multiboot header, with the header's file offset. */
export interface KludgeLayout {
  readonly headerOffset: number;
  readonly headerAddr: number;
  readonly loadAddr: number;
  /** 0 means "to the end of the file". */
  readonly loadEndAddr: number;
  /** 0 means "no bss". */
  readonly bssEndAddr: number;
  /** Entry point as linked (moved with the image when relocated). */
  readonly entryAddr: number;
}

const EMPTY_SECTIONS: SectionTable = { count: 0, entsize: 0, shstrndx: 0, bytes: new Uint8Array(0) };
/** Offset of sh_addr inside a section header, per class. */
const SH_ADDR_OFFSET = { 32: 12, 64: 16 } as const;

function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

function fail(path: string, code: string, problem: string): BootError {
  return new BootError(`boot.${code}`, `${path}: ${problem}`, path);
}

/**
 * Loads an ELF kernel. `searchSize` is the multiboot search window (8192 or 32768): GRUB reads the
 * program headers only from it. `protocol` 2 refuses files with relocation sections like GRUB.
 */
export function loadElfKernel(ctx: LoadContext, elf: ElfFile, searchSize: number, protocol: 1 | 2, relocation?: Relocation): KernelImage {
  const { path } = ctx;
  const wantMachine = elf.elfClass === 32 ? EM_386 : EM_X86_64;
  if (elf.machine !== wantMachine) {
    throw fail(path, 'elf-unsupported', `ELF${elf.elfClass} file for machine ${elf.machine}, not ${elf.elfClass === 32 ? 'i386 (EM_386 = 3)' : 'x86-64 (EM_X86_64 = 62)'}; GRUB refuses it ("invalid arch-dependent ELF magic")`);
  }
  if (elf.type !== ET_EXEC && elf.type !== ET_DYN) {
    throw fail(path, 'elf-unsupported', `ELF type ${elf.type} is neither an executable (ET_EXEC) nor a position-independent executable (ET_DYN); link the kernel, do not boot an object file`);
  }
  if (elf.programHeaders.length > 0 && elf.phoff + elf.programHeaders.length * elf.phentsize > searchSize) {
    throw fail(path, 'elf-unsupported', `the program headers end past the first ${searchSize} bytes of the file, where GRUB reads them ("program header at a too high offset")`);
  }
  const loads = elf.programHeaders.filter((ph) => ph.type === PT_LOAD && ph.memsz > 0);
  if (loads.length === 0) throw fail(path, 'elf-bad', 'the ELF file has no loadable segment (PT_LOAD with a size)');
  const segs = loads.map((ph) => {
    const start = toAddress32(elf, ph.paddr, `segment ${ph.index} physical address`);
    if (start + ph.memsz > ADDRESS_LIMIT_32) throw fail(path, 'outside-ram', `segment ${ph.index} [${hex(start)}, ${hex(start + ph.memsz)}) crosses 4 GiB`);
    return { ph, start, end: start + ph.memsz };
  });
  for (const a of segs) {
    for (const b of segs) {
      if (a.ph.index < b.ph.index && a.start < b.end && b.start < a.end) {
        throw fail(path, 'elf-bad', `segments ${a.ph.index} [${hex(a.start)}, ${hex(a.end)}) and ${b.ph.index} [${hex(b.start)}, ${hex(b.end)}) overlap`);
      }
    }
  }
  const linkBase = Math.min(...segs.map((s) => s.start));
  const linkEnd = Math.max(...segs.map((s) => s.end));
  let loadBase = linkBase;
  if (relocation) {
    loadBase = relocateBlock(ctx, 'kernel image (relocatable)', linkEnd - linkBase, relocation);
  }
  for (const s of segs) {
    const at = s.start - linkBase + loadBase;
    if (!relocation) ctx.placement.claim('kernel', `kernel segment ${s.ph.index}`, at, s.ph.memsz);
    const data = segmentBytes(elf, s.ph);
    ctx.memory.write(at, data);
    if (s.ph.memsz > data.length) ctx.memory.fill(at + data.length, s.ph.memsz - data.length, 0);
  }
  const entry = elfEntry(elf, path) - linkBase + loadBase;
  const sections = copySections(ctx, elf, protocol);
  return { format: elf.elfClass === 32 ? 'elf32' : 'elf64', entry, linkBase, loadBase, end: linkEnd - linkBase + loadBase, sections };
}

/** GRUB's entry translation: the first program header whose [p_vaddr, p_vaddr + p_memsz) holds e_entry. */
function elfEntry(elf: ElfFile, path: string): number {
  for (const ph of elf.programHeaders) {
    if (ph.vaddr <= elf.entry && ph.vaddr + BigInt(ph.memsz) > elf.entry) {
      return toAddress32(elf, elf.entry - ph.vaddr + ph.paddr, 'the physical entry point');
    }
  }
  throw fail(path, 'elf-bad', `the entry point ${hex(elf.entry)} is not inside any segment ("entry point isn't in a segment")`);
}

/** Reserves a block for a relocatable image per the multiboot2 relocatable tag; returns its start. */
function relocateBlock(ctx: LoadContext, what: string, length: number, r: Relocation): number {
  if (length > r.max || r.min > r.max - length) {
    throw fail(ctx.path, 'multiboot-bad-header', `the relocatable tag allows [${hex(r.min)}, ${hex(r.max)}], which cannot hold the ${length}-byte image`);
  }
  const block = ctx.placement.allocate({ kind: 'kernel', what, length, align: Math.max(1, r.align), min: r.min, max: r.max, preference: r.preference });
  if (!block) {
    throw fail(ctx.path, 'no-memory', `no free RAM in [${hex(r.min)}, ${hex(r.max)}] holds the ${length}-byte relocatable kernel image (alignment ${hex(r.align)}); give the guest more memory`);
  }
  return block.start;
}

/** Copies the unloaded sections GRUB copies and returns the patched section header table. */
function copySections(ctx: LoadContext, elf: ElfFile, protocol: 1 | 2): SectionTable {
  const count = elf.sectionHeaders.length;
  if (count === 0) return EMPTY_SECTIONS;
  const table = elf.bytes.slice(elf.shoff, elf.shoff + count * elf.shentsize);
  const view = new DataView(table.buffer);
  for (const sh of elf.sectionHeaders) {
    if (protocol === 2 && (sh.type === SHT_REL || sh.type === SHT_RELA)) {
      throw fail(ctx.path, 'elf-unsupported', `section ${sh.index} holds relocations (SHT_REL/SHT_RELA); GRUB refuses multiboot2 ELF files with relocations ("ELF files with relocs are not supported yet")`);
    }
    // GRUB's test is sh_addr alone: a section linked at address 0 is copied even if allocated.
    if (sh.type === SHT_NULL || sh.addr !== 0n || sh.size === 0) continue;
    const what = `ELF section ${sh.index}`;
    const placed = ctx.placement.allocate({
      kind: 'elf-section', what, length: sh.size, align: Math.max(1, sh.addralign),
      min: HIGH_MEMORY_START, max: ADDRESS_LIMIT_32, preference: 'low',
    });
    if (!placed) throw noRoom(ctx, `${what} (${sh.size} bytes, not loaded by the program headers but passed to the kernel like GRUB does)`, sh.size);
    if (sh.type === SHT_NOBITS) ctx.memory.fill(placed.start, sh.size, 0);
    else ctx.memory.write(placed.start, sectionBytes(elf, sh));
    const at = sh.index * elf.shentsize + SH_ADDR_OFFSET[elf.elfClass];
    if (elf.elfClass === 32) view.setUint32(at, placed.start, true);
    else view.setBigUint64(at, BigInt(placed.start), true);
  }
  return { count, entsize: elf.shentsize, shstrndx: elf.shstrndx, bytes: table };
}

/** A BootError for a block that does not fit in RAM above 1 MiB. */
export function noRoom(ctx: LoadContext, what: string, length: number): BootError {
  const free = ctx.placement.largestFree(HIGH_MEMORY_START, ADDRESS_LIMIT_32);
  return fail(
    ctx.path,
    'no-memory',
    `not enough RAM for ${what}: it needs ${length} bytes but the largest free block above 1 MiB has ${free} (guest RAM ${Math.floor(ctx.memory.ramSize / 1048576)} MiB); give the guest more memory`,
  );
}

/** Loads an a.out-kludge image described by `k` from the kernel file `bytes`. */
export function loadKludgeKernel(ctx: LoadContext, bytes: Uint8Array, k: KludgeLayout, relocation?: Relocation): KernelImage {
  const { path } = ctx;
  const field = (n: number) => hex(n);
  if (k.headerAddr < k.loadAddr || k.headerAddr - k.loadAddr > k.headerOffset) {
    throw fail(path, 'multiboot-bad-header', `a.out kludge: header_addr ${field(k.headerAddr)} and load_addr ${field(k.loadAddr)} put the start of the image before the start of the file (the header is at file offset ${field(k.headerOffset)})`);
  }
  const offset = k.headerOffset - (k.headerAddr - k.loadAddr);
  if (k.loadEndAddr !== 0 && k.loadEndAddr < k.loadAddr) {
    throw fail(path, 'multiboot-bad-header', `a.out kludge: load_end_addr ${field(k.loadEndAddr)} is below load_addr ${field(k.loadAddr)}`);
  }
  const loadSize = k.loadEndAddr === 0 ? bytes.length - offset : k.loadEndAddr - k.loadAddr;
  if (offset + loadSize > bytes.length) {
    throw fail(path, 'elf-truncated', `a.out kludge: the image is ${loadSize} bytes from file offset ${field(offset)} (load_addr ${field(k.loadAddr)} to load_end_addr ${field(k.loadEndAddr)}) but the file has only ${bytes.length} bytes`);
  }
  if (k.bssEndAddr !== 0 && k.bssEndAddr < k.loadAddr + loadSize) {
    throw fail(path, 'multiboot-bad-header', `a.out kludge: bss_end_addr ${field(k.bssEndAddr)} is below the end of the loaded image ${field(k.loadAddr + loadSize)}`);
  }
  const codeSize = k.bssEndAddr !== 0 ? k.bssEndAddr - k.loadAddr : loadSize;
  if (codeSize === 0) throw fail(path, 'multiboot-bad-header', 'a.out kludge: the image is empty (load_end_addr = load_addr and no bss)');
  let loadBase = k.loadAddr;
  if (relocation) loadBase = relocateBlock(ctx, 'kernel image (relocatable)', codeSize, relocation);
  else ctx.placement.claim('kernel', 'kernel image (a.out kludge)', k.loadAddr, codeSize);
  ctx.memory.write(loadBase, bytes.subarray(offset, offset + loadSize));
  if (codeSize > loadSize) ctx.memory.fill(loadBase + loadSize, codeSize - loadSize, 0);
  const entry = k.entryAddr - k.loadAddr + loadBase;
  return { format: 'aout-kludge', entry, linkBase: k.loadAddr, loadBase, end: loadBase + codeSize, sections: EMPTY_SECTIONS };
}

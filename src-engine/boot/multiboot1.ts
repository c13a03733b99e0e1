/**
 * Multiboot v1 (Multiboot Specification 0.6.96) as GRUB 2.06 does it
 * (grub-core/loader/i386/multiboot_mbi.c, grub-core/loader/multiboot.c), for direct boot.
 *
 * Header: the first 4-byte-aligned place in the first 8192 bytes where magic 0x1BADB002 and
 * magic + flags + checksum = 0 (mod 2^32). Required flag bits 3-15 are refused ("unsupported
 * flag"); bit 0 (page-align modules) and bit 1 (memory info) are always honoured as GRUB does;
 * bit 2 (video mode) is recorded in the summary, no framebuffer is reported; bit 16 selects the
 * a.out kludge even for an ELF file.
 *
 * Boot information, at the lowest free 4-aligned address in [0x10000, 0xA0000) (0x10000 in
 * practice, as under GRUB), in GRUB's order: the 120-byte multiboot_info (GRUB's struct size),
 * the command line (arguments only, without the kernel path), the boot loader name, the module list
 * (16 bytes each: start, end, string, reserved = 0), the module strings, the memory map (24-byte
 * entries, size field = 20), the ELF section headers; each string padded to 4 bytes.
 * Flags: 0 (mem_lower/upper), 2 (cmdline), 3 (modules, if any), 5 (ELF sections, if any),
 * 6 (memory map), 9 (loader name), and 1 (boot device) only when the caller gives one.
 * Differences from GRUB on a BIOS (documented, checked by test/unit/boot/grub-reference.test.ts):
 * no APM block (GRUB leaves 20 unflagged bytes between the loader name and the module list when the
 * BIOS has APM), no VBE (flag 11) or framebuffer (flag 12) info, no boot device unless given.
 */
import { BootError } from '../base/errors';
import { isElf, parseElf } from './elf';
import { lowerMemoryKiB, upperMemoryKiB, type E820Entry } from './e820';
import { loadElfKernel, loadKludgeKernel, type KernelImage, type LoadContext } from './kernel-image';
import {
  InfoWriter, MULTIBOOT_MIN_FILE, cString, multibootEntryState, placeGdt, placeModules,
  type MultibootBootDevice, type MultibootModule, type MultibootVideoRequest, type PlacedModule, type ProtocolLoadResult,
} from './multiboot-common';
import { alignUp, type BootRegion } from './placement';

/** Header magic (MULTIBOOT_HEADER_MAGIC). */
export const MULTIBOOT1_HEADER_MAGIC = 0x1badb002;
/** EAX at entry (MULTIBOOT_BOOTLOADER_MAGIC). */
export const MULTIBOOT1_BOOTLOADER_MAGIC = 0x2badb002;
/** GRUB searches this many bytes of the file (MULTIBOOT_SEARCH). */
export const MULTIBOOT1_SEARCH = 8192;
/** Header alignment in the file (MULTIBOOT_HEADER_ALIGN). */
const MULTIBOOT1_HEADER_ALIGN = 4;

/** Header flags. */
// Bit 0 (page-align modules) and bit 1 (memory information) need no test: GRUB honours both always.
const MB1_VIDEO_MODE = 1 << 2;
const MB1_AOUT_KLUDGE = 1 << 16;
/** Required-feature bits GRUB does not support (UNSUPPORTED_FLAGS). */
const MB1_UNSUPPORTED_FLAGS = 0x0000fff8;
/** Header size up to entry_addr (a.out kludge fields) and up to depth (video fields). */
const MB1_HEADER_KLUDGE_END = 32;
const MB1_HEADER_VIDEO_END = 48;

/** multiboot_info flags (MULTIBOOT_INFO_*). */
const INFO_MEMORY = 1 << 0;
const INFO_BOOTDEV = 1 << 1;
const INFO_CMDLINE = 1 << 2;
const INFO_MODS = 1 << 3;
const INFO_ELF_SHDR = 1 << 5;
const INFO_MEM_MAP = 1 << 6;
const INFO_BOOT_LOADER_NAME = 1 << 9;
/** multiboot_info field offsets. */
const MBI = {
  flags: 0, memLower: 4, memUpper: 8, bootDevice: 12, cmdline: 16, modsCount: 20, modsAddr: 24,
  elfNum: 28, elfSize: 32, elfAddr: 36, elfShndx: 40, mmapLength: 44, mmapAddr: 48, bootLoaderName: 64,
} as const;
/** sizeof (struct multiboot_info) in GRUB 2.06 (116 bytes of fields, padded to 120). */
const MBI_STRUCT_SIZE = 120;
const MOD_ENTRY_SIZE = 16;
const MMAP_ENTRY_SIZE = 24;
/** The mmap entry's size field counts the entry without itself. */
const MMAP_ENTRY_SIZE_FIELD = 20;
/** The v1 boot information goes in [0x10000, 0xA0000) like GRUB's make_mbi. */
const MBI_MIN = 0x10000;
const MBI_MAX = 0xa0000;
const MBI_ALIGN = 4;

/** A multiboot v1 header found in a kernel file. */
export interface Multiboot1Header {
  readonly offset: number;
  readonly flags: number;
  readonly headerAddr: number;
  readonly loadAddr: number;
  readonly loadEndAddr: number;
  readonly bssEndAddr: number;
  readonly entryAddr: number;
  readonly modeType: number;
  readonly width: number;
  readonly height: number;
  readonly depth: number;
}

/** Inputs of loadMultiboot1 (see loadMultibootKernel for the public entry). */
export interface Multiboot1Config {
  readonly kernel: Uint8Array;
  readonly cmdline: string;
  readonly modules: readonly MultibootModule[];
  readonly memoryMap: readonly E820Entry[];
  readonly bootLoaderName: string;
  readonly bootDevice?: MultibootBootDevice;
}

/** Finds the v1 header like GRUB's find_header, or returns undefined. */
export function findMultiboot1Header(bytes: Uint8Array): Multiboot1Header | undefined {
  const len = Math.min(bytes.length, MULTIBOOT1_SEARCH);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let off = 0; off + 12 <= len; off += MULTIBOOT1_HEADER_ALIGN) {
    const magic = view.getUint32(off, true);
    if (magic !== MULTIBOOT1_HEADER_MAGIC) continue;
    const flags = view.getUint32(off + 4, true);
    if (((magic + flags + view.getUint32(off + 8, true)) >>> 0) !== 0) continue;
    const word = (at: number) => (off + at + 4 <= len ? view.getUint32(off + at, true) : 0);
    return {
      offset: off, flags, headerAddr: word(12), loadAddr: word(16), loadEndAddr: word(20), bssEndAddr: word(24),
      entryAddr: word(28), modeType: word(32), width: word(36), height: word(40), depth: word(44),
    };
  }
  return undefined;
}

function fail(path: string, code: string, problem: string): BootError {
  return new BootError(`boot.${code}`, `${path}: ${problem}`, path);
}

/** Loads a multiboot v1 kernel, its modules and boot information into `ctx.memory`. */
export function loadMultiboot1(ctx: LoadContext, config: Multiboot1Config): ProtocolLoadResult {
  const { path } = ctx;
  const { kernel } = config;
  if (kernel.length < MULTIBOOT_MIN_FILE) throw fail(path, 'too-short', `the file has only ${kernel.length} bytes; a multiboot kernel is at least ${MULTIBOOT_MIN_FILE} ("premature end of file")`);
  const header = findMultiboot1Header(kernel);
  if (!header) {
    throw fail(path, 'no-multiboot-header', `no multiboot header: GRUB looks in the first ${MULTIBOOT1_SEARCH} bytes, at 4-byte-aligned offsets, for magic 0x1BADB002 followed by flags and a checksum that make the three words sum to 0`);
  }
  if (header.flags & MB1_UNSUPPORTED_FLAGS) {
    throw fail(path, 'multiboot-unsupported', `the multiboot header requires feature bits 0x${(header.flags & MB1_UNSUPPORTED_FLAGS).toString(16)} (flags 0x${header.flags.toString(16)}) that GRUB does not support ("unsupported flag"); only bits 0-2 of the required half are known`);
  }
  // GRUB reads the header fields from its 8192-byte search buffer, so they must lie inside it.
  const headerBytes = Math.min(kernel.length, MULTIBOOT1_SEARCH) - header.offset;
  let image: KernelImage;
  if (header.flags & MB1_AOUT_KLUDGE) {
    if (headerBytes < MB1_HEADER_KLUDGE_END) throw fail(path, 'multiboot-bad-header', `the multiboot header sets the a.out kludge flag (16) but the file (or the first ${MULTIBOOT1_SEARCH} bytes GRUB reads) ends before its address fields`);
    image = loadKludgeKernel(ctx, kernel, { ...header, headerOffset: header.offset });
  } else {
    if (!isElf(kernel)) {
      throw fail(path, 'not-elf', 'not an ELF file, and its multiboot header does not set the a.out kludge flag (16) that would give load addresses');
    }
    image = loadElfKernel(ctx, parseElf(kernel, path), MULTIBOOT1_SEARCH, 1);
  }
  let video: MultibootVideoRequest | undefined;
  if (header.flags & MB1_VIDEO_MODE) {
    if (headerBytes < MB1_HEADER_VIDEO_END) throw fail(path, 'multiboot-bad-header', `the multiboot header sets the video flag (2) but the file (or the first ${MULTIBOOT1_SEARCH} bytes GRUB reads) ends before its mode fields`);
    if (header.modeType > 1) throw fail(path, 'multiboot-unsupported', `the multiboot header asks for graphics mode type ${header.modeType}; only 0 (linear framebuffer) and 1 (EGA text) exist ("unsupported graphical mode type")`);
    video = { kind: header.modeType === 0 ? 'linear' : 'text', width: header.width, height: header.height, depth: header.depth };
  }
  const modules = placeModules(ctx, config.modules);
  const info = writeInfo(ctx, config, image, modules);
  const gdt = placeGdt(ctx);
  return {
    init: multibootEntryState(MULTIBOOT1_BOOTLOADER_MAGIC, info.start, image.entry, gdt),
    image, headerOffset: header.offset, modules, info, gdt, video,
  };
}

/** Lays out, places and writes the multiboot_info and everything it points to. */
function writeInfo(ctx: LoadContext, config: Multiboot1Config, image: KernelImage, modules: readonly PlacedModule[]): BootRegion {
  const cmdline = cString(config.cmdline);
  const name = cString(config.bootLoaderName);
  const modStrings = modules.map((m) => cString(m.args));
  const map = config.memoryMap;
  const sections = image.sections;
  // Offsets inside the block, in GRUB's order.
  const offCmdline = MBI_STRUCT_SIZE;
  const offName = offCmdline + alignUp(cmdline.length, 4);
  const offMods = offName + alignUp(name.length, 4);
  const offModStrings = offMods + modules.length * MOD_ENTRY_SIZE;
  const offMmap = offModStrings + modStrings.reduce((n, s) => n + alignUp(s.length, 4), 0);
  const offSections = offMmap + map.length * MMAP_ENTRY_SIZE;
  const size = offSections + sections.bytes.length;
  const region = ctx.placement.allocate({ kind: 'boot-info', what: 'multiboot information', length: size, align: MBI_ALIGN, min: MBI_MIN, max: MBI_MAX, preference: 'low' });
  if (!region) {
    throw fail(ctx.path, 'no-memory', `the multiboot information (${size} bytes) does not fit in low memory [0x10000, 0x9FC00) where GRUB puts it; use fewer modules or shorter command lines`);
  }
  const base = region.start;
  const w = new InfoWriter(size);
  let flags = INFO_MEMORY | INFO_CMDLINE | INFO_MEM_MAP | INFO_BOOT_LOADER_NAME;
  w.u32(MBI.memLower, lowerMemoryKiB(map));
  w.u32(MBI.memUpper, upperMemoryKiB(map));
  if (config.bootDevice) {
    const d = config.bootDevice;
    w.u32(MBI.bootDevice, ((d.drive & 0xff) << 24) | (((d.partition ?? 0xff) & 0xff) << 16) | (((d.subPartition ?? 0xff) & 0xff) << 8) | 0xff);
    flags |= INFO_BOOTDEV;
  }
  w.put(offCmdline, cmdline);
  w.u32(MBI.cmdline, base + offCmdline);
  w.put(offName, name);
  w.u32(MBI.bootLoaderName, base + offName);
  if (modules.length > 0) {
    flags |= INFO_MODS;
    w.u32(MBI.modsCount, modules.length);
    w.u32(MBI.modsAddr, base + offMods);
    let strOff = offModStrings;
    modules.forEach((m, i) => {
      const e = offMods + i * MOD_ENTRY_SIZE;
      w.u32(e, m.start);
      w.u32(e + 4, m.end);
      w.u32(e + 8, base + strOff);
      w.put(strOff, modStrings[i]);
      strOff += alignUp(modStrings[i].length, 4);
    });
  }
  map.forEach((entry, i) => {
    const e = offMmap + i * MMAP_ENTRY_SIZE;
    w.u32(e, MMAP_ENTRY_SIZE_FIELD);
    w.u64(e + 4, entry.base);
    w.u64(e + 12, entry.length);
    w.u32(e + 20, entry.type);
  });
  w.u32(MBI.mmapLength, map.length * MMAP_ENTRY_SIZE);
  w.u32(MBI.mmapAddr, base + offMmap);
  if (sections.count > 0) {
    flags |= INFO_ELF_SHDR;
    w.put(offSections, sections.bytes);
    w.u32(MBI.elfNum, sections.count);
    w.u32(MBI.elfSize, sections.entsize);
    w.u32(MBI.elfAddr, base + offSections);
    w.u32(MBI.elfShndx, sections.shstrndx);
  }
  w.u32(MBI.flags, flags);
  ctx.memory.write(base, w.bytes);
  return region;
}

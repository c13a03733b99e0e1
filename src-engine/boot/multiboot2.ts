/**
 * Multiboot2 (Multiboot2 Specification 2.0) as GRUB 2.06 does it for BIOS boot
 * (grub-core/loader/multiboot_mbi2.c), for direct boot.
 *
 * Header: the first 8-byte-aligned place in the first 32768 bytes with magic 0xE85250D6,
 * architecture 0 (i386) and magic + architecture + header_length + checksum = 0 (mod 2^32), followed
 * by 8-byte-aligned tags up to an end tag. Tags understood as GRUB does: information request (1;
 * an unknown requested type is refused unless the tag is optional), address (2, with the entry
 * address tag 3 it is mandatory with), entry address (3), console flags (4), framebuffer (5; the
 * request is recorded, no framebuffer is reported), module alignment (6; modules are always
 * page-aligned), EFI boot services (7) and EFI64 entry (9) accepted and ignored on BIOS,
 * relocatable (10). Any other tag without the optional flag is refused ("unsupported tag"); GRUB
 * 2.06 also refuses the EFI32 entry tag (8) this way.
 *
 * Boot information: the lowest free 8-aligned RAM at or above 1 MiB (GRUB ends up there too:
 * right above the kernel, or after a module; see placement notes below), tags in GRUB's order:
 * load base address (21), command line (1, arguments only), boot loader name (2), one module tag
 * (3) per module, memory map (6; 24-byte entries), ELF sections (9; always present, empty for an
 * a.out-kludge kernel), basic memory information (4), boot device (5, only if the caller gives
 * one), end (0). Every tag starts 8-aligned; the header is total_size and reserved = 0.
 * Differences from GRUB on a BIOS (checked by test/unit/boot/grub-reference.test.ts): no APM (10),
 * framebuffer (8) or ACPI (14/15) tags, no bootdev unless given; and our block is sized exactly,
 * while GRUB reserves a generous estimate with 16-byte heap rounding, so its address can be later.
 */
import { BootError } from '../base/errors';
import { isElf, parseElf } from './elf';
import { HIGH_MEMORY_START, lowerMemoryKiB, upperMemoryKiB, type E820Entry } from './e820';
import { loadElfKernel, loadKludgeKernel, type KernelImage, type LoadContext, type Relocation } from './kernel-image';
import {
  InfoWriter, MULTIBOOT_MIN_FILE, cString, multibootEntryState, placeGdt, placeModules,
  type MultibootBootDevice, type MultibootModule, type MultibootVideoRequest, type PlacedModule, type ProtocolLoadResult,
} from './multiboot-common';
import { ADDRESS_LIMIT_32, alignUp, type BootRegion } from './placement';

/** Header magic (MULTIBOOT2_HEADER_MAGIC). */
export const MULTIBOOT2_HEADER_MAGIC = 0xe85250d6;
/** EAX at entry (MULTIBOOT2_BOOTLOADER_MAGIC). */
export const MULTIBOOT2_BOOTLOADER_MAGIC = 0x36d76289;
/** GRUB searches this many bytes of the file (MULTIBOOT_SEARCH in multiboot2.h). */
export const MULTIBOOT2_SEARCH = 32768;
/** Header and tag alignment (MULTIBOOT_HEADER_ALIGN, MULTIBOOT_TAG_ALIGN). */
const MB2_ALIGN = 8;
/** MULTIBOOT_ARCHITECTURE_I386. */
const MB2_ARCH_I386 = 0;
/** Fixed part of the header: magic, architecture, header_length, checksum. */
const MB2_HEADER_FIXED = 16;

/** Header tag types (MULTIBOOT_HEADER_TAG_*). */
const HT = {
  end: 0, informationRequest: 1, address: 2, entryAddress: 3, consoleFlags: 4, framebuffer: 5,
  moduleAlign: 6, efiBs: 7, entryAddressEfi64: 9, relocatable: 10,
} as const;
/** Minimum size of each known header tag, so no field is read past its tag. */
const HT_MIN_SIZE: Record<number, number> = { 1: 8, 2: 24, 3: 12, 4: 12, 5: 20, 6: 8, 7: 8, 9: 12, 10: 24 };
/** Header tag flag: the loader may ignore this tag (MULTIBOOT_HEADER_TAG_OPTIONAL). */
const HT_OPTIONAL = 1;
/** Console flags (MULTIBOOT_CONSOLE_FLAGS_*). */
const CONSOLE_REQUIRED = 1 << 0;
const CONSOLE_EGA_TEXT_SUPPORTED = 1 << 1;
/** Relocatable tag preferences (MULTIBOOT_LOAD_PREFERENCE_*). */
const PREFERENCE_HIGH = 2;
/** address tag load_addr value meaning "the file starts the text segment". */
const LOAD_ADDR_FROM_HEADER = 0xffffffff;
/**
 * Information tag types GRUB 2.06 accepts in a required information request: everything it knows
 * except SMBIOS (13).
 */
const REQUESTABLE_INFO = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21]);

/** Boot information tag types (MULTIBOOT_TAG_TYPE_*). */
const TAG = { end: 0, cmdline: 1, bootLoaderName: 2, module: 3, basicMeminfo: 4, bootdev: 5, mmap: 6, elfSections: 9, loadBaseAddr: 21 } as const;
const MMAP_ENTRY_SIZE = 24;
/** Where the boot information may go if nothing above 1 MiB fits (GRUB: anywhere from 0x1000). */
const INFO_LOW_MIN = 0x10000;
const INFO_LOW_MAX = 0xa0000;

/** A multiboot2 header found in a kernel file. */
export interface Multiboot2Header {
  readonly offset: number;
  readonly headerLength: number;
  readonly address?: { readonly headerAddr: number; readonly loadAddr: number; readonly loadEndAddr: number; readonly bssEndAddr: number };
  readonly entry?: number;
  readonly relocation?: Relocation;
  readonly framebuffer?: MultibootVideoRequest;
  /** Information tag types the kernel asked for (required or optional). */
  readonly requests: readonly number[];
}

/** Inputs of loadMultiboot2 (see loadMultibootKernel for the public entry). */
export interface Multiboot2Config {
  readonly kernel: Uint8Array;
  readonly cmdline: string;
  readonly modules: readonly MultibootModule[];
  readonly memoryMap: readonly E820Entry[];
  readonly bootLoaderName: string;
  readonly bootDevice?: MultibootBootDevice;
}

/** Offset of the first header with valid magic, architecture and checksum, or undefined. */
export function findMultiboot2HeaderOffset(bytes: Uint8Array): number | undefined {
  const len = Math.min(bytes.length, MULTIBOOT2_SEARCH);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let off = 0; off + MB2_HEADER_FIXED <= len; off += MB2_ALIGN) {
    const magic = view.getUint32(off, true);
    if (magic !== MULTIBOOT2_HEADER_MAGIC) continue;
    const arch = view.getUint32(off + 4, true);
    const sum = magic + arch + view.getUint32(off + 8, true) + view.getUint32(off + 12, true);
    if ((sum >>> 0) === 0 && arch === MB2_ARCH_I386) return off;
  }
  return undefined;
}

function fail(path: string, code: string, problem: string): BootError {
  return new BootError(`boot.${code}`, `${path}: ${problem}`, path);
}

/** Finds and parses the multiboot2 header and its tags, refusing what GRUB refuses. */
export function parseMultiboot2Header(bytes: Uint8Array, path: string): Multiboot2Header {
  const offset = findMultiboot2HeaderOffset(bytes);
  if (offset === undefined) {
    throw fail(path, 'no-multiboot-header', `no multiboot2 header: GRUB looks in the first ${MULTIBOOT2_SEARCH} bytes, at 8-byte-aligned offsets, for magic 0xE85250D6, architecture 0 (i386), header_length and a checksum that make the four words sum to 0`);
  }
  const limit = Math.min(bytes.length, MULTIBOOT2_SEARCH);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (at: number) => view.getUint32(at, true);
  const requests: number[] = [];
  let address: Multiboot2Header['address'];
  let entry: number | undefined;
  let relocation: Relocation | undefined;
  let framebuffer: MultibootVideoRequest | undefined;
  let acceptsEga = true;
  let consoleRequired = false;
  for (let at = offset + MB2_HEADER_FIXED; ; ) {
    if (at + 8 > limit) throw fail(path, 'multiboot-bad-header', `the multiboot2 header tags run past the first ${MULTIBOOT2_SEARCH} bytes (or the end of the file) without an end tag`);
    const type = view.getUint16(at, true);
    const flags = view.getUint16(at + 2, true);
    const size = u32(at + 4);
    if (type === HT.end) break;
    const optional = (flags & HT_OPTIONAL) !== 0;
    const min = HT_MIN_SIZE[type] ?? 8;
    if (size < min || at + size > limit) {
      throw fail(path, 'multiboot-bad-header', `multiboot2 header tag type ${type} at file offset 0x${at.toString(16)} has size ${size}; it must be at least ${min} and end inside the search window`);
    }
    switch (type) {
      case HT.informationRequest:
        for (let r = at + 8; r + 4 <= at + size; r += 4) {
          const req = u32(r);
          requests.push(req);
          if (!optional && !REQUESTABLE_INFO.has(req)) {
            throw fail(path, 'multiboot-unsupported', `the multiboot2 header requires information tag type ${req}, which GRUB cannot provide ("unsupported information tag: 0x${req.toString(16)}")`);
          }
        }
        break;
      case HT.address:
        address = { headerAddr: u32(at + 8), loadAddr: u32(at + 12), loadEndAddr: u32(at + 16), bssEndAddr: u32(at + 20) };
        break;
      case HT.entryAddress:
        entry = u32(at + 8);
        break;
      case HT.consoleFlags: {
        const cf = u32(at + 8);
        if (!(cf & CONSOLE_EGA_TEXT_SUPPORTED)) acceptsEga = false;
        if (cf & CONSOLE_REQUIRED) consoleRequired = true;
        break;
      }
      case HT.framebuffer:
        framebuffer = { kind: 'linear', width: u32(at + 8), height: u32(at + 12), depth: u32(at + 16) };
        break;
      case HT.relocatable:
        relocation = { min: u32(at + 8), max: u32(at + 12), align: u32(at + 16), preference: u32(at + 20) === PREFERENCE_HIGH ? 'high' : 'low' };
        break;
      case HT.moduleAlign:
      case HT.efiBs:
      case HT.entryAddressEfi64:
        break;
      default:
        if (!optional) {
          throw fail(path, 'multiboot-unsupported', `the multiboot2 header has a required tag of type ${type} that GRUB does not support ("unsupported tag: 0x${type.toString(16)}")`);
        }
    }
    at += alignUp(size, MB2_ALIGN);
  }
  if (address && entry === undefined) {
    throw fail(path, 'multiboot-bad-header', 'the multiboot2 header has an address tag but no entry address tag ("load address tag without entry address tag")');
  }
  if (!acceptsEga && !framebuffer && consoleRequired) {
    throw fail(path, 'multiboot-unsupported', 'the kernel requires a console but accepts neither EGA text nor a framebuffer ("OS requires a console but none is available")');
  }
  return { offset, headerLength: u32(offset + 8), address, entry, relocation, framebuffer, requests };
}

/** Loads a multiboot2 kernel, its modules and boot information into `ctx.memory`. */
export function loadMultiboot2(ctx: LoadContext, config: Multiboot2Config): ProtocolLoadResult {
  const { path } = ctx;
  const { kernel } = config;
  if (kernel.length < MULTIBOOT_MIN_FILE) throw fail(path, 'too-short', `the file has only ${kernel.length} bytes; a multiboot2 kernel is at least ${MULTIBOOT_MIN_FILE} ("premature end of file")`);
  const header = parseMultiboot2Header(kernel, path);
  let image: KernelImage;
  if (header.address) {
    const a = header.address;
    const loadAddr = a.loadAddr === LOAD_ADDR_FROM_HEADER ? a.headerAddr - header.offset : a.loadAddr;
    image = loadKludgeKernel(ctx, kernel, { ...a, loadAddr, headerOffset: header.offset, entryAddr: header.entry ?? 0 }, header.relocation);
  } else {
    if (!isElf(kernel)) throw fail(path, 'not-elf', 'not an ELF file, and its multiboot2 header has no address tag that would give load addresses');
    image = loadElfKernel(ctx, parseElf(kernel, path), MULTIBOOT2_SEARCH, 2, header.relocation);
    // An entry address tag overrides the ELF entry (moved with the image when relocated).
    if (header.entry !== undefined) image = { ...image, entry: header.entry - image.linkBase + image.loadBase };
  }
  const modules = placeModules(ctx, config.modules);
  const info = writeInfo(ctx, config, image, modules);
  const gdt = placeGdt(ctx);
  return {
    init: multibootEntryState(MULTIBOOT2_BOOTLOADER_MAGIC, info.start, image.entry, gdt),
    image, headerOffset: header.offset, modules, info, gdt, video: header.framebuffer,
  };
}

/** Builds the tag list, places it and writes it. */
function writeInfo(ctx: LoadContext, config: Multiboot2Config, image: KernelImage, modules: readonly PlacedModule[]): BootRegion {
  const map = config.memoryMap;
  const s = image.sections;
  const tags: Array<{ type: number; size: number; fill: (w: InfoWriter, at: number) => void }> = [];
  const add = (type: number, size: number, fill: (w: InfoWriter, at: number) => void) => tags.push({ type, size, fill });
  const text = (type: number, value: string) => {
    const bytes = cString(value);
    add(type, 8 + bytes.length, (w, at) => w.put(at + 8, bytes));
  };
  add(TAG.loadBaseAddr, 12, (w, at) => w.u32(at + 8, image.loadBase));
  text(TAG.cmdline, config.cmdline);
  text(TAG.bootLoaderName, config.bootLoaderName);
  for (const m of modules) {
    const str = cString(m.args);
    add(TAG.module, 16 + str.length, (w, at) => {
      w.u32(at + 8, m.start);
      w.u32(at + 12, m.end);
      w.put(at + 16, str);
    });
  }
  add(TAG.mmap, 16 + map.length * MMAP_ENTRY_SIZE, (w, at) => {
    w.u32(at + 8, MMAP_ENTRY_SIZE);
    w.u32(at + 12, 0); // entry_version
    map.forEach((e, i) => {
      const p = at + 16 + i * MMAP_ENTRY_SIZE;
      w.u64(p, e.base);
      w.u64(p + 8, e.length);
      w.u32(p + 16, e.type);
    });
  });
  add(TAG.elfSections, 20 + s.bytes.length, (w, at) => {
    w.u32(at + 8, s.count);
    w.u32(at + 12, s.entsize);
    w.u32(at + 16, s.shstrndx);
    w.put(at + 20, s.bytes);
  });
  add(TAG.basicMeminfo, 16, (w, at) => {
    w.u32(at + 8, lowerMemoryKiB(map));
    w.u32(at + 12, upperMemoryKiB(map));
  });
  const dev = config.bootDevice;
  if (dev) {
    add(TAG.bootdev, 20, (w, at) => {
      w.u32(at + 8, dev.drive);
      w.u32(at + 12, dev.partition ?? 0xffffffff);
      w.u32(at + 16, dev.subPartition ?? 0xffffffff);
    });
  }
  add(TAG.end, 8, () => {});
  const total = 8 + tags.reduce((n, t) => n + alignUp(t.size, MB2_ALIGN), 0);
  const want = { kind: 'boot-info' as const, what: 'multiboot2 information', length: total, align: MB2_ALIGN, preference: 'low' as const };
  const region =
    ctx.placement.allocate({ ...want, min: HIGH_MEMORY_START, max: ADDRESS_LIMIT_32 }) ??
    ctx.placement.allocate({ ...want, min: INFO_LOW_MIN, max: INFO_LOW_MAX });
  if (!region) throw fail(ctx.path, 'no-memory', `no free RAM holds the multiboot2 information (${total} bytes); give the guest more memory`);
  const w = new InfoWriter(total);
  w.u32(0, total);
  let at = 8;
  for (const t of tags) {
    w.u32(at, t.type);
    w.u32(at + 4, t.size);
    t.fill(w, at);
    at += alignUp(t.size, MB2_ALIGN);
  }
  ctx.memory.write(region.start, w.bytes);
  return region;
}

/**
 * Direct multiboot boot: the equivalent of GRUB's `multiboot`/`multiboot2` + `module` + `boot`
 * (or QEMU's `-kernel`), without firmware. Callers read the files and pass their bytes and paths;
 * this module writes the kernel, modules, boot information and a GDT into guest RAM and returns
 * the boot VCPU's state and a summary of what went where.
 *
 * Which protocol (protocol: 'auto', the default): multiboot2 if the file has a valid multiboot2
 * header, otherwise multiboot v1. A kernel that carries both headers was written for multiboot2
 * and keeps v1 for older loaders (Xen and most current hobby kernels do this), and multiboot2 gives
 * it more. This is the choice a user makes in grub.cfg by writing `multiboot2`; set protocol to
 * 'multiboot1' to get what `multiboot` in grub.cfg or QEMU's `-kernel` (v1 only) would give. The ISO
 * builder uses `isMultiboot` and should write the same command this function would pick.
 */
import { BootError } from '../base/errors';
import type { CpuInitState } from '../cpu/init-state';
import type { GuestPhysMemory } from '../machine/guest-memory';
import { buildE820Map, lowerMemoryKiB, upperMemoryKiB, type E820Entry, type E820ReservedRange } from './e820';
import type { KernelImage } from './kernel-image';
import { MULTIBOOT_MIN_FILE, type MultibootBootDevice, type MultibootModule, type MultibootVideoRequest, type PlacedModule } from './multiboot-common';
import { MULTIBOOT1_HEADER_MAGIC, MULTIBOOT1_SEARCH, loadMultiboot1 } from './multiboot1';
import { MULTIBOOT2_HEADER_MAGIC, MULTIBOOT2_SEARCH, findMultiboot2HeaderOffset, loadMultiboot2 } from './multiboot2';
import { BootPlacement, type BootRegion } from './placement';

/** The boot loader name Domus reports (multiboot boot_loader_name / tag 2). */
export const DOMUS_BOOT_LOADER_NAME = 'Domus';

export type { MultibootBootDevice, MultibootModule, MultibootVideoRequest, PlacedModule } from './multiboot-common';
export type { E820Entry, E820ReservedRange } from './e820';

/** Inputs of loadMultibootKernel. */
export interface MultibootLoadConfig {
  /** The kernel file's bytes. */
  readonly kernel: Uint8Array;
  /** The kernel's file name, used in error messages and the summary. */
  readonly kernelPath: string;
  /** The kernel's arguments, as after the kernel path in grub.cfg (the path itself is not included). */
  readonly cmdline?: string;
  readonly modules?: readonly MultibootModule[];
  /** Guest RAM to write into; should be zero-filled (only the loaded blocks are written). */
  readonly memory: GuestPhysMemory;
  /** Which protocol to use; 'auto' (default) prefers multiboot2 when the file has both headers. */
  readonly protocol?: 'auto' | 'multiboot1' | 'multiboot2';
  /** The memory map to report and load within; default buildE820Map for memory.ramSize. */
  readonly memoryMap?: readonly E820Entry[];
  /** Extra reserved ranges for the default map (ignored when memoryMap is given). */
  readonly extraReserved?: readonly E820ReservedRange[];
  /** Default "Domus". */
  readonly bootLoaderName?: string;
  /** Boot device to report (v1 flag 1 / v2 tag 5); none by default, since nothing was booted from a disk. */
  readonly bootDevice?: MultibootBootDevice;
}

/** What was placed where, for --stats and tests. */
export interface MultibootLoadSummary {
  readonly protocol: 'multiboot1' | 'multiboot2';
  readonly kernelPath: string;
  readonly kernelFormat: KernelImage['format'];
  /** File offset of the multiboot header used. */
  readonly headerOffset: number;
  readonly entry: number;
  /** Lowest kernel address as loaded and one past the highest. */
  readonly kernelStart: number;
  readonly kernelEnd: number;
  readonly infoAddress: number;
  readonly infoSize: number;
  readonly gdtAddress: number;
  readonly cmdline: string;
  readonly modules: readonly PlacedModule[];
  readonly memoryMap: readonly E820Entry[];
  readonly memLowerKiB: number;
  readonly memUpperKiB: number;
  /** A video mode the kernel asked for; Domus reports no framebuffer. */
  readonly videoRequest?: MultibootVideoRequest;
  /** Every block written, sorted by address. */
  readonly regions: readonly BootRegion[];
}

/** Result of loadMultibootKernel. */
export interface MultibootLoadResult {
  readonly init: CpuInitState;
  readonly summary: MultibootLoadSummary;
}

/** Which multiboot headers a file has, judged exactly like `grub-file --is-x86-multiboot[2]`. */
export interface MultibootDetection {
  readonly multiboot1: boolean;
  readonly multiboot2: boolean;
}

/**
 * Answers like `grub-file --is-x86-multiboot` and `--is-x86-multiboot2` (grub-core/commands/file.c):
 * at least 32 bytes; v1: magic 0x1BADB002 at a 4-aligned offset in the first 8192 bytes whose three
 * words sum to 0; v2: magic 0xE85250D6 at an 8-aligned offset in the first 32768 bytes whose four
 * words sum to 0 (the architecture is not checked here, as in grub-file).
 */
export function isMultiboot(bytes: Uint8Array): MultibootDetection {
  if (bytes.length < MULTIBOOT_MIN_FILE) return { multiboot1: false, multiboot2: false };
  return {
    multiboot1: scanHeader(bytes, MULTIBOOT1_SEARCH, 4, 3, MULTIBOOT1_HEADER_MAGIC),
    multiboot2: scanHeader(bytes, MULTIBOOT2_SEARCH, 8, 4, MULTIBOOT2_HEADER_MAGIC),
  };
}

function scanHeader(bytes: Uint8Array, search: number, step: number, words: number, magic: number): boolean {
  const len = Math.min(bytes.length, search);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let off = 0; off + words * 4 <= len; off += step) {
    if (view.getUint32(off, true) !== magic) continue;
    let sum = 0;
    for (let i = 0; i < words; i++) sum += view.getUint32(off + i * 4, true);
    if ((sum >>> 0) === 0) return true;
  }
  return false;
}

/**
 * Loads a multiboot v1 or v2 kernel with its modules into `config.memory` as GRUB 2.06 would, and
 * returns the boot VCPU's state and a summary. Throws a BootError naming the file and the problem.
 */
export function loadMultibootKernel(config: MultibootLoadConfig): MultibootLoadResult {
  const { kernel, kernelPath: path, memory } = config;
  const detected = isMultiboot(kernel);
  const wanted = config.protocol ?? 'auto';
  // For 'auto', a multiboot2 header counts only if GRUB's loader would accept it (architecture i386).
  const hasV2 = kernel.length >= MULTIBOOT_MIN_FILE && findMultiboot2HeaderOffset(kernel) !== undefined;
  const protocol = wanted === 'auto' ? (hasV2 ? 'multiboot2' : 'multiboot1') : wanted;
  if (wanted === 'auto' && !detected.multiboot1 && !detected.multiboot2) {
    const what = kernel.length < MULTIBOOT_MIN_FILE ? `the file has only ${kernel.length} bytes` : 'neither a multiboot header (magic 0x1BADB002 with a valid checksum at a 4-aligned offset in the first 8192 bytes) nor a multiboot2 header (magic 0xE85250D6, 8-aligned, first 32768 bytes) was found';
    throw new BootError('boot.no-multiboot-header', `${path}: not a multiboot kernel: ${what}. Check it with grub-file --is-x86-multiboot / --is-x86-multiboot2.`, path);
  }
  const memoryMap = config.memoryMap ?? buildE820Map({ ramSize: memory.ramSize, extraReserved: config.extraReserved });
  const ctx = { path, memory, placement: new BootPlacement(memoryMap, memory, path) };
  const common = {
    kernel,
    cmdline: config.cmdline ?? '',
    modules: config.modules ?? [],
    memoryMap,
    bootLoaderName: config.bootLoaderName ?? DOMUS_BOOT_LOADER_NAME,
    bootDevice: config.bootDevice,
  };
  const r = protocol === 'multiboot2' ? loadMultiboot2(ctx, common) : loadMultiboot1(ctx, common);
  return {
    init: r.init,
    summary: {
      protocol, kernelPath: path, kernelFormat: r.image.format, headerOffset: r.headerOffset,
      entry: r.init.eip ?? r.image.entry, kernelStart: r.image.loadBase, kernelEnd: r.image.end,
      infoAddress: r.info.start, infoSize: r.info.end - r.info.start, gdtAddress: r.gdt.start,
      cmdline: common.cmdline, modules: r.modules, memoryMap,
      memLowerKiB: lowerMemoryKiB(memoryMap), memUpperKiB: upperMemoryKiB(memoryMap),
      videoRequest: r.video, regions: ctx.placement.regions,
    },
  };
}

/**
 * Direct Linux boot: the equivalent of QEMU's `-kernel bzImage -initrd FILE -append ARGS` and of
 * GRUB's `linux`/`initrd`/`boot`, without firmware. Callers read the files and pass their bytes
 * and paths; this module writes the kernel, the initrd, the zero page, the command line and a GDT
 * into guest RAM and returns the boot VCPU's state and a summary of what went where.
 *
 * The boot protocol: Linux's 32-bit boot protocol (Documentation/arch/x86/boot.rst, "32-bit Boot
 * Protocol"). The kernel's 16-bit real-mode setup code is not loaded or run; the loader builds
 * struct boot_params (the zero page, linux-zero-page.ts) itself, as the real-mode code would have
 * after asking the BIOS, and enters the protected-mode code at code32_start. This is what GRUB's
 * `linux` command does on a PC BIOS (grub-core/loader/i386/linux.c; `linux16` is the real-mode
 * path), what kexec and EFI loaders do, and the same state QEMU's -kernel reaches through its
 * linuxboot option ROM, which runs the real-mode code under SeaBIOS. It needs no BIOS services,
 * so it works on a domain with no firmware at all.
 *
 * Memory layout (addresses for the usual case; every block goes through BootPlacement, so the
 * E820 map and earlier blocks are honoured and collisions are errors):
 *   0x10B0            GDT: null, null, __BOOT_CS 0x10 flat code, __BOOT_DS 0x18 flat data (the
 *                     multiboot loaders' GDT, same selectors, same place as GRUB's relocator)
 *   0x10000           zero page (4 KiB, the lowest free page at or above 0x10000 like QEMU's
 *                     real-mode block), then the command line on the next free page
 *   0x100000          the protected-mode code: the file from (setup_sects + 1) * 512 to its end
 *   runtime area      [runtime start, + init_size): where the kernel decompresses itself and
 *                     runs until it has read the memory map. Runtime start = pref_address for a
 *                     non-relocatable kernel, else max(align_up(0x100000, kernel_alignment),
 *                     pref_address) - what the kernel's startup_32 computes (LOAD_PHYSICAL_ADDR
 *                     is pref_address). Before protocol 2.10 (no init_size) GRUB's estimate is
 *                     used: three times the protected-mode code, from 0x100000.
 *   initrd            as high as possible, page-aligned, ending at or below both
 *                     initrd_addr_max + 1 and the top of RAM, above the runtime area (GRUB's
 *                     floor); the E820 map's reserved ranges (ACPI tables...) are avoided.
 * Entry state (boot.rst): 32-bit protected mode, paging off (CR0 = PE | ET), CS = __BOOT_CS,
 * DS = ES = FS = GS = SS = __BOOT_DS, all flat 4 GiB; interrupts off (EFLAGS = 0x2); ESI = the zero
 * page; EBP = EDI = EBX = 0 (and EAX = ECX = EDX = 0); EIP = code32_start; ESP = the zero page's
 * address as GRUB leaves it (the kernel uses boot_params.scratch as its first stack); IDTR 0/0.
 * Refused with a BootError naming the file: anything parseLinuxSetupHeader refuses, an x86-64
 * kernel (xloadflags.XLF_KERNEL_64) unless allow64Bit, a command line longer than cmdline_size,
 * an empty initrd or one that does not fit below initrd_addr_max and the top of RAM, and a kernel
 * whose runtime area does not fit in RAM.
 */
import { BootError } from '../base/errors';
import { AR_CODE32_FLAT, AR_DATA32_FLAT, type CpuInitState, type SegmentInit } from '../cpu/init-state';
import type { GuestPhysMemory } from '../machine/guest-memory';
import { EBDA_START, buildE820Map, upperMemoryKiB, type E820Entry, type E820ReservedRange } from './e820';
import type { LoadContext } from './kernel-image';
import { BZIMAGE_LOAD_ADDRESS, XLF_KERNEL_64, parseLinuxSetupHeader, type LinuxSetupHeader } from './linux-header';
import { ZERO_PAGE_SIZE, buildZeroPage } from './linux-zero-page';
import { MULTIBOOT_CODE_SELECTOR, MULTIBOOT_DATA_SELECTOR, cString, placeGdt } from './multiboot-common';
import { ADDRESS_LIMIT_32, BootPlacement, alignUp, type BootRegion } from './placement';

export { isLinuxBzImage, parseLinuxSetupHeader, type LinuxSetupHeader } from './linux-header';

/** __BOOT_CS: the code selector the 32-bit boot protocol requires (GDT entry 2). */
export const LINUX_BOOT_CS = MULTIBOOT_CODE_SELECTOR;
/** __BOOT_DS: the data selector the 32-bit boot protocol requires (GDT entry 3). */
export const LINUX_BOOT_DS = MULTIBOOT_DATA_SELECTOR;
/** CR0 at entry: PE | ET, paging off. */
export const LINUX_ENTRY_CR0 = 0x11;
/** EFLAGS at entry: only the always-one bit; IF = 0. */
export const LINUX_ENTRY_EFLAGS = 0x2;
/** The zero page goes at the lowest free page from here (QEMU's real-mode block address). */
const ZERO_PAGE_MIN = 0x10000;
/** Page size: the initrd, zero page and command line are page-aligned. */
const PAGE = 0x1000;
/** Before protocol 2.10 the kernel does not say how much room it needs; GRUB assumes 3x its size. */
const LEGACY_INIT_SIZE_FACTOR = 3;

/** Inputs of loadLinuxKernel. */
export interface LinuxLoadConfig {
  /** The bzImage file's bytes. */
  readonly kernel: Uint8Array;
  /** The kernel's file name, used in error messages and the summary. */
  readonly kernelPath: string;
  readonly initrd?: Uint8Array;
  /** The initrd's file name (messages, summary); default "initrd". */
  readonly initrdPath?: string;
  /** The kernel command line (QEMU -append, xl.cfg cmdline=, GRUB's arguments after the path). */
  readonly cmdline: string;
  /** Guest RAM to write into; should be zero-filled (only the loaded blocks are written). */
  readonly memory: GuestPhysMemory;
  /** The memory map to report and load within; default buildE820Map for memory.ramSize. */
  readonly memoryMap?: readonly E820Entry[];
  /** Extra reserved ranges for the default map (ignored when memoryMap is given). */
  readonly extraReserved?: readonly E820ReservedRange[];
  /** The ACPI RSDP's guest-physical address, for boot_params.acpi_rsdp_addr. */
  readonly acpiRsdp?: number;
  /** Accept x86-64 kernels (only for a VCPU with long mode). Default false. */
  readonly allow64Bit?: boolean;
}

/** What was placed where, for --stats and tests. */
export interface LinuxLoadSummary {
  readonly protocol: 'linux';
  readonly kernelPath: string;
  /** Boot protocol version, e.g. "2.15". */
  readonly protocolVersion: string;
  readonly kernelVersion: string | undefined;
  readonly relocatable: boolean;
  /** Where the protected-mode code went: [kernelStart, kernelEnd). */
  readonly kernelStart: number;
  readonly kernelEnd: number;
  /** The area the kernel decompresses into: [runtimeStart, runtimeEnd). */
  readonly runtimeStart: number;
  readonly runtimeEnd: number;
  readonly entry: number;
  readonly zeroPage: number;
  readonly cmdlineAddress: number;
  readonly cmdline: string;
  readonly initrd: { readonly path: string; readonly start: number; readonly end: number } | undefined;
  readonly gdtAddress: number;
  readonly memoryMap: readonly E820Entry[];
  /** Every block written, sorted by address. */
  readonly regions: readonly BootRegion[];
}

/** Result of loadLinuxKernel. */
export interface LinuxLoadResult {
  readonly init: CpuInitState;
  readonly summary: LinuxLoadSummary;
  readonly header: LinuxSetupHeader;
}

const hex = (n: number): string => `0x${n.toString(16)}`;
const mib = (n: number): string => `${Math.ceil(n / 1048576)} MiB`;

function fail(path: string, code: string, problem: string): BootError {
  return new BootError(`boot.${code}`, `${path}: ${problem}`, path);
}

/**
 * Loads a bzImage, its initrd and command line into `config.memory` for the 32-bit boot protocol
 * (see the file comment) and returns the boot VCPU's state and a summary.
 */
export function loadLinuxKernel(config: LinuxLoadConfig): LinuxLoadResult {
  const { kernel, kernelPath: path, memory, cmdline } = config;
  const header = parseLinuxSetupHeader(kernel, path);
  if ((header.xloadflags & XLF_KERNEL_64) !== 0 && !config.allow64Bit) {
    throw fail(path, 'linux-64bit', 'an x86-64 (64-bit) kernel; the Domus CPU runs 32-bit code only (no long mode). Boot a 32-bit kernel, e.g. Debian\'s linux-image-686 or linux-image-686-pae (i386)');
  }
  const cmdBytes = cString(cmdline);
  if (cmdBytes.length - 1 > header.cmdlineSize) {
    throw fail(path, 'linux-cmdline-too-long', `the command line has ${cmdBytes.length - 1} characters; this kernel takes at most ${header.cmdlineSize} (setup header cmdline_size). Shorten it`);
  }
  const initrdPath = config.initrdPath ?? 'initrd';
  if (config.initrd && config.initrd.length === 0) throw fail(initrdPath, 'linux-initrd-empty', 'the initrd is empty; give a cpio archive (gzip-compressed or not) or leave the initrd out');
  const memoryMap = config.memoryMap ?? buildE820Map({ ramSize: memory.ramSize, extraReserved: config.extraReserved });
  const ctx: LoadContext = { path, memory, placement: new BootPlacement(memoryMap, memory, path) };

  // The protected-mode code, and the room the kernel needs to decompress and start.
  const image = kernel.subarray(header.protectedModeOffset);
  const kernelRegion = ctx.placement.claim('kernel', 'protected-mode code', BZIMAGE_LOAD_ADDRESS, image.length);
  const runtimeStart = header.relocatable ? Math.max(alignUp(BZIMAGE_LOAD_ADDRESS, header.kernelAlignment), header.prefAddress) : header.prefAddress;
  const runtimeSize = header.initSize ?? alignUp(image.length, PAGE) * LEGACY_INIT_SIZE_FACTOR;
  const runtimeEnd = runtimeStart + runtimeSize;
  if (runtimeEnd > ADDRESS_LIMIT_32) throw fail(path, 'linux-bad-header', `the kernel wants [${hex(runtimeStart)}, ${hex(runtimeEnd)}) to start in (pref_address, init_size), beyond 4 GiB`);
  const claimFrom = Math.max(runtimeStart, kernelRegion.end);
  if (runtimeEnd > claimFrom) {
    try {
      ctx.placement.claim('kernel', 'kernel runtime area (init_size)', claimFrom, runtimeEnd - claimFrom);
    } catch (e) {
      if (!(e instanceof BootError)) throw e;
      const why = e.message.startsWith(`${path}: `) ? e.message.slice(path.length + 2) : e.message;
      throw fail(path, 'linux-no-room', `the kernel needs RAM from ${hex(runtimeStart)} to ${hex(runtimeEnd)} to decompress and start (pref_address ${hex(header.prefAddress)}, init_size ${hex(runtimeSize)}), but the ${why}. Give the guest more than ${mib(runtimeEnd + (config.initrd?.length ?? 0))} of memory`);
    }
  }
  memory.write(BZIMAGE_LOAD_ADDRESS, image);
  // Loaded where the kernel expects it, so code32_start stays as the file says (a loader that moves
  // the code adds the displacement: GRUB's load address + code32_start - 0x100000).
  const code32Start = header.code32Start;
  if (code32Start < kernelRegion.start || code32Start >= kernelRegion.end) {
    throw fail(path, 'linux-bad-header', `code32_start ${hex(code32Start)} is outside the protected-mode code loaded at [${hex(kernelRegion.start)}, ${hex(kernelRegion.end)})`);
  }

  const initrd = config.initrd ? placeInitrd(ctx, config.initrd, initrdPath, header, runtimeEnd) : undefined;
  const gdt = placeGdt(ctx);
  const lowBlock = (what: string, length: number): BootRegion => {
    const r = ctx.placement.allocate({ kind: 'boot-info', what, length, align: PAGE, min: ZERO_PAGE_MIN, max: EBDA_START, preference: 'low' });
    if (!r) throw fail(path, 'no-memory', `no room for the ${what} (${length} bytes) in low memory [${hex(ZERO_PAGE_MIN)}, ${hex(EBDA_START)})`);
    return r;
  };
  const zeroPage = lowBlock('zero page (boot_params)', ZERO_PAGE_SIZE);
  const cmdRegion = lowBlock('kernel command line', cmdBytes.length);
  memory.write(cmdRegion.start, cmdBytes);
  memory.write(zeroPage.start, buildZeroPage({
    kernel, header, kernelPath: path, memoryMap, upperMemoryKiB: upperMemoryKiB(memoryMap), cmdline,
    cmdlineAddress: cmdRegion.start, initrdAddress: initrd?.start ?? 0, initrdSize: initrd ? initrd.end - initrd.start : 0,
    code32Start, acpiRsdp: config.acpiRsdp,
  }));

  return {
    header,
    init: linuxEntryState(code32Start, zeroPage.start, gdt),
    summary: {
      protocol: 'linux', kernelPath: path, protocolVersion: header.versionText, kernelVersion: header.kernelVersion,
      relocatable: header.relocatable, kernelStart: kernelRegion.start, kernelEnd: kernelRegion.end,
      runtimeStart, runtimeEnd, entry: code32Start, zeroPage: zeroPage.start, cmdlineAddress: cmdRegion.start, cmdline,
      initrd: initrd ? { path: initrdPath, start: initrd.start, end: initrd.end } : undefined,
      gdtAddress: gdt.start, memoryMap, regions: ctx.placement.regions,
    },
  };
}

/** Places the initrd as high as allowed (see the file comment); returns [start, start + size). */
function placeInitrd(ctx: LoadContext, data: Uint8Array, path: string, header: LinuxSetupHeader, floor: number): { start: number; end: number } {
  const limit = Math.min(header.initrdAddrMax + 1, ADDRESS_LIMIT_32);
  const length = alignUp(data.length, PAGE);
  const region = ctx.placement.allocate({ kind: 'module', what: `initrd ${path}`, length, align: PAGE, min: floor, max: limit, preference: 'high' });
  if (!region) {
    const free = ctx.placement.largestFree(floor, limit);
    throw fail(path, 'linux-initrd-too-big', `the initrd (${data.length} bytes) does not fit: it must lie above the kernel's runtime area (${hex(floor)}) and end at or below ${hex(limit)} (the kernel's initrd_addr_max ${hex(header.initrdAddrMax)} or the top of RAM), where the largest free block has ${free} bytes. Give the guest more memory or use a smaller initrd`);
  }
  ctx.memory.write(region.start, data);
  return { start: region.start, end: region.start + data.length };
}

/** The VCPU state at the kernel's 32-bit entry (see the file comment). */
export function linuxEntryState(entry: number, zeroPage: number, gdt: BootRegion): CpuInitState {
  const seg = (selector: number, access: number): SegmentInit => ({ selector, base: 0, limit: 0xffffffff, access });
  const data = seg(LINUX_BOOT_DS, AR_DATA32_FLAT);
  return {
    eax: 0, ebx: 0, ecx: 0, edx: 0, esi: zeroPage, edi: 0, ebp: 0, esp: zeroPage,
    eip: entry, eflags: LINUX_ENTRY_EFLAGS, cr0: LINUX_ENTRY_CR0,
    cs: seg(LINUX_BOOT_CS, AR_CODE32_FLAT), ds: data, es: data, fs: data, gs: data, ss: data,
    gdtr: { base: gdt.start, limit: gdt.end - gdt.start - 1 }, idtr: { base: 0, limit: 0 },
  };
}

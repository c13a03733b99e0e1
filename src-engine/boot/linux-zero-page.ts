/**
 * struct boot_params, "the zero page" (Linux Documentation/arch/x86/zero-page.rst and
 * arch/x86/include/uapi/asm/bootparam.h), as a 32-bit boot protocol loader fills it: all zero,
 * then the kernel file's setup header copied to 0x1F1 up to its end (0x202 + the byte at 0x201),
 * then the loader's fields.
 *
 * What Domus writes, and why:
 * - screen_info (0x000): left zero but for ext_mem_k. orig_video_mode, _cols and _lines all 0 is
 *   how the kernel learns there is no VGA text console (vgacon then stands aside for the dummy
 *   console); direct boot has no real-mode setup code to ask the video BIOS, and the test image
 *   talks on ttyS0.
 * - ext_mem_k (0x002) and alt_mem_k (0x1E0): KiB of RAM above 1 MiB, as INT 15h AH=88h (at most
 *   63 MiB, 0xFC00) and AX=E801h would report; the kernel uses them only without an E820 map.
 * - acpi_rsdp_addr (0x070): the RSDP's address when the platform gives one (else the kernel scans
 *   the EBDA and 0xE0000-0xFFFFF as on any PC).
 * - e820_entries (0x1E8) and e820_table (0x2D0): the memory map, 20 bytes per entry
 *   (u64 addr, u64 size, u32 type), at most 128 entries.
 * - setup header: type_of_loader 0xFF (no assigned ID: "undefined"), loadflags |= CAN_USE_HEAP with
 *   heap_end_ptr 0xDE00 (boot.rst's sample for a protocol >= 2.02 bzImage, as GRUB sets them though
 *   only the skipped real-mode code reads them), QUIET_FLAG when the command line has the word
 *   "quiet" (as GRUB does), ramdisk_image/ramdisk_size, cmd_line_ptr, code32_start.
 * - sentinel (0x1EF) stays 0: the kernel clears boot_params fields when it finds it set, a sign of
 *   a loader that copied the boot sector too.
 */
import { BootError } from '../base/errors';
import type { E820Entry } from './e820';
import { HDR, LOADFLAG_CAN_USE_HEAP, LOADFLAG_QUIET, type LinuxSetupHeader } from './linux-header';
import { InfoWriter } from './multiboot-common';

/** sizeof (struct boot_params). */
export const ZERO_PAGE_SIZE = 4096;
/** Zero-page offsets outside the setup header (zero-page.rst). */
export const ZP = {
  extMemK: 0x002, acpiRsdpAddr: 0x070, altMemK: 0x1e0, e820Entries: 0x1e8, sentinel: 0x1ef, e820Table: 0x2d0,
} as const;
/** E820_MAX_ENTRIES_ZEROPAGE: e820_table holds 128 entries (0xA00 bytes). */
export const E820_MAX_ENTRIES_ZEROPAGE = 128;
/** struct boot_e820_entry: u64 addr, u64 size, u32 type, packed. */
const E820_ENTRY_SIZE = 20;
/** type_of_loader 0xFF: a loader without an assigned ID (boot.rst). */
export const LOADER_TYPE_UNDEFINED = 0xff;
/** heap_end_ptr: boot.rst's heap end 0xE000 minus 0x200, for a protocol >= 2.02 bzImage. */
const HEAP_END_PTR = 0xe000 - 0x200;
/** INT 15h AH=88h reports at most 63 MiB above 1 MiB on PC BIOSes (SeaBIOS: 0xFC00 KiB). */
const EXT_MEM_K_MAX = 0xfc00;

/** What goes into the zero page besides the file's setup header. */
export interface ZeroPageConfig {
  /** The kernel file (its setup header is copied). */
  readonly kernel: Uint8Array;
  readonly header: LinuxSetupHeader;
  readonly kernelPath: string;
  readonly memoryMap: readonly E820Entry[];
  /** KiB of RAM from 1 MiB up (multiboot mem_upper's rule). */
  readonly upperMemoryKiB: number;
  readonly cmdline: string;
  readonly cmdlineAddress: number;
  /** Address and exact size of the initrd, 0/0 for none. */
  readonly initrdAddress: number;
  readonly initrdSize: number;
  /** Where the protected-mode code was loaded (code32_start is moved with it). */
  readonly code32Start: number;
  readonly acpiRsdp?: number;
}

/** Builds the 4096-byte zero page. Throws a BootError if the memory map has too many entries. */
export function buildZeroPage(c: ZeroPageConfig): Uint8Array {
  const { header } = c;
  if (c.memoryMap.length > E820_MAX_ENTRIES_ZEROPAGE) {
    throw new BootError('boot.bad-memory-map', `${c.kernelPath}: the memory map has ${c.memoryMap.length} entries; the zero page holds at most ${E820_MAX_ENTRIES_ZEROPAGE}`, c.kernelPath);
  }
  const w = new InfoWriter(ZERO_PAGE_SIZE);
  w.put(HDR.setupSects, c.kernel.subarray(HDR.setupSects, header.headerEnd));
  w.u8(HDR.typeOfLoader, LOADER_TYPE_UNDEFINED);
  let loadflags = header.loadflags | LOADFLAG_CAN_USE_HEAP;
  if (/(^|\s)quiet(\s|$)/.test(c.cmdline)) loadflags |= LOADFLAG_QUIET;
  w.u8(HDR.loadflags, loadflags);
  w.u16(HDR.heapEndPtr, HEAP_END_PTR);
  w.u32(HDR.code32Start, c.code32Start);
  w.u32(HDR.ramdiskImage, c.initrdAddress);
  w.u32(HDR.ramdiskSize, c.initrdSize);
  w.u32(HDR.cmdLinePtr, c.cmdlineAddress);
  w.u16(ZP.extMemK, Math.min(c.upperMemoryKiB, EXT_MEM_K_MAX));
  w.u32(ZP.altMemK, Math.min(c.upperMemoryKiB, 0xffffffff));
  if (c.acpiRsdp !== undefined) w.u64(ZP.acpiRsdpAddr, c.acpiRsdp);
  w.u8(ZP.e820Entries, c.memoryMap.length);
  c.memoryMap.forEach((e, i) => {
    const at = ZP.e820Table + i * E820_ENTRY_SIZE;
    w.u64(at, e.base);
    w.u64(at + 8, e.length);
    w.u32(at + 16, e.type);
  });
  return w.bytes;
}

/**
 * What the multiboot v1 and v2 loaders share: module placement, the GDT and register state GRUB 2.06
 * leaves at the kernel's entry, and a little-endian writer for the boot information.
 *
 * Entry state (spec/grub-iso-and-bios.md section 5, and our QEMU probe of GRUB 2.06 recorded in
 * test/unit/boot/fixtures/grub-mbdump-*.serial.txt): 32-bit protected mode, paging off, CR0 = 0x11,
 * EFLAGS = 0x46, CS = 0x10 flat code, DS = ES = FS = GS = SS = 0x18 flat data, IDTR = 0/0,
 * ECX = EDX = ESI = EDI = EBP = 0, ESP = 0x7FF00 (not a usable stack: the kernel must set its own).
 *
 * The GDT: GRUB leaves its relocator's 4-entry GDT at 0x10B0 (null, null, code 0x10, data 0x18).
 * We write the same four descriptors at the same address, so GDTR matches GRUB's; 0x10B0 is below
 * the 0x10000 floor of the boot information and below 1 MiB where modules go, so they can never
 * collide. Only if the kernel image itself covers 0x10B0 does the GDT move, to the lowest free
 * 16-byte-aligned RAM (then it is recorded in the summary). Our limit is 0x1F (4 entries - 1);
 * GRUB's reads 0x20.
 */
import { AR_CODE32_FLAT, AR_DATA32_FLAT, type CpuInitState, type SegmentInit } from '../cpu/init-state';
import { BootError } from '../base/errors';
import { HIGH_MEMORY_START } from './e820';
import { noRoom, type KernelImage, type LoadContext } from './kernel-image';
import { ADDRESS_LIMIT_32, type BootRegion } from './placement';

/** GRUB refuses files shorter than this ("premature end of file"). */
export const MULTIBOOT_MIN_FILE = 32;
/** GRUB always aligns modules to a page (MULTIBOOT_MOD_ALIGN), whatever the header asks. */
export const MULTIBOOT_MOD_ALIGN = 0x1000;
/** Where GRUB's relocator leaves its GDT; we put ours there too. */
export const GRUB_GDT_ADDRESS = 0x10b0;
/** Four 8-byte descriptors: null, null, code, data. */
const GDT_ENTRIES = 4;
const GDT_SIZE = GDT_ENTRIES * 8;
/** CS at entry: GDT entry 2, as GRUB's relocator loads it. */
export const MULTIBOOT_CODE_SELECTOR = 0x10;
/** DS, ES, FS, GS, SS at entry: GDT entry 3. */
export const MULTIBOOT_DATA_SELECTOR = 0x18;
/** ESP as GRUB 2.06 leaves it (its relocator stack); the multiboot spec says undefined. */
export const GRUB_ENTRY_ESP = 0x7ff00;
/** EFLAGS as GRUB 2.06 leaves it: bit 1 (always 1), PF and ZF set by its last compare; IF = DF = 0. */
export const GRUB_ENTRY_EFLAGS = 0x46;
/** CR0 at entry: PE (protection enable) | ET (extension type). Paging off. */
export const MULTIBOOT_ENTRY_CR0 = 0x11;
/** Lowest address the GDT may move to if the kernel covers GRUB_GDT_ADDRESS (after the BDA). */
const GDT_FALLBACK_MIN = 0x500;

/** A module to load: its bytes, its file name (messages, summary) and its argument string. */
export interface MultibootModule {
  readonly data: Uint8Array;
  readonly path: string;
  /** The arguments after the module path in GRUB's `module` line ("" if none). */
  readonly args?: string;
}

/** A module as placed: [start, end) in guest RAM (0, 0 for an empty file, like GRUB). */
export interface PlacedModule {
  readonly path: string;
  readonly args: string;
  readonly start: number;
  readonly end: number;
}

/** A video mode a kernel asked for (recorded; Domus reports no framebuffer). */
export interface MultibootVideoRequest {
  readonly kind: 'linear' | 'text';
  readonly width: number;
  readonly height: number;
  readonly depth: number;
}

/** What loadMultiboot1/2 report back to loadMultibootKernel. */
export interface ProtocolLoadResult {
  readonly init: CpuInitState;
  readonly image: KernelImage;
  readonly headerOffset: number;
  readonly modules: readonly PlacedModule[];
  readonly info: BootRegion;
  readonly gdt: BootRegion;
  readonly video?: MultibootVideoRequest;
}

/** A BIOS boot device for multiboot boot_device / the bootdev tag (GRUB: drive, slice, part). */
export interface MultibootBootDevice {
  /** BIOS drive number, e.g. 0x80 for the first hard disk, 0xE0 for a CD. */
  readonly drive: number;
  /** Top-level partition number (0-based), or undefined for the whole disk. */
  readonly partition?: number;
  /** Sub-partition inside it, or undefined. */
  readonly subPartition?: number;
}

/**
 * Places every module page-aligned at the lowest free RAM at or above 1 MiB, in order, and copies
 * its bytes. GRUB's v1 loader asks for >= 1 MiB; its v2 loader for >= 0, but below 1 MiB is GRUB's
 * own memory, so both end up right above the kernel image (and its copied ELF sections).
 */
export function placeModules(ctx: LoadContext, modules: readonly MultibootModule[]): PlacedModule[] {
  return modules.map((m, i) => {
    const args = m.args ?? '';
    if (m.data.length === 0) return { path: m.path, args, start: 0, end: 0 };
    const what = `module ${i} (${m.path})`;
    const region = ctx.placement.allocate({
      kind: 'module', what, length: m.data.length, align: MULTIBOOT_MOD_ALIGN,
      min: HIGH_MEMORY_START, max: ADDRESS_LIMIT_32, preference: 'low',
    });
    if (!region) throw noRoom(ctx, what, m.data.length);
    ctx.memory.write(region.start, m.data);
    return { path: m.path, args, start: region.start, end: region.end };
  });
}

/** Writes the flat 4-entry GDT (see the file comment) and returns its region. */
export function placeGdt(ctx: LoadContext): BootRegion {
  let region: BootRegion | undefined;
  try {
    region = ctx.placement.claim('gdt', 'GDT', GRUB_GDT_ADDRESS, GDT_SIZE);
  } catch (err) {
    if (!(err instanceof BootError)) throw err;
    region = ctx.placement.allocate({ kind: 'gdt', what: 'GDT', length: GDT_SIZE, align: 16, min: GDT_FALLBACK_MIN, max: ADDRESS_LIMIT_32, preference: 'low' });
    if (!region) throw noRoom(ctx, 'the GDT', GDT_SIZE);
  }
  const gdt = new InfoWriter(GDT_SIZE);
  gdt.u64(MULTIBOOT_CODE_SELECTOR, flatDescriptor(AR_CODE32_FLAT));
  gdt.u64(MULTIBOOT_DATA_SELECTOR, flatDescriptor(AR_DATA32_FLAT));
  ctx.memory.write(region.start, gdt.bytes);
  return region;
}

/**
 * A descriptor with base 0, limit 0xFFFFF pages (4 GiB) and the given VMX-style access rights:
 * access byte = bits 0-7, flags nibble (AVL, L, D/B, G) = bits 12-15.
 */
function flatDescriptor(accessRights: number): bigint {
  const limitLow = 0xffffn;
  const limitHigh = 0xfn;
  const access = BigInt(accessRights & 0xff);
  const flags = BigInt((accessRights >> 12) & 0xf);
  return limitLow | (access << 40n) | (limitHigh << 48n) | (flags << 52n);
}

/** The VCPU state at a multiboot kernel's entry (see the file comment). */
export function multibootEntryState(magic: number, infoAddress: number, entry: number, gdt: BootRegion): CpuInitState {
  const seg = (selector: number, access: number): SegmentInit => ({ selector, base: 0, limit: 0xffffffff, access });
  const data = seg(MULTIBOOT_DATA_SELECTOR, AR_DATA32_FLAT);
  return {
    eax: magic, ebx: infoAddress, ecx: 0, edx: 0, esi: 0, edi: 0, ebp: 0,
    esp: GRUB_ENTRY_ESP, eip: entry, eflags: GRUB_ENTRY_EFLAGS, cr0: MULTIBOOT_ENTRY_CR0,
    cs: seg(MULTIBOOT_CODE_SELECTOR, AR_CODE32_FLAT), ds: data, es: data, fs: data, gs: data, ss: data,
    gdtr: { base: gdt.start, limit: gdt.end - gdt.start - 1 }, idtr: { base: 0, limit: 0 },
  };
}

/** Bytes of a NUL-terminated string (Latin-1; characters above 0xFF become '?'). */
export function cString(text: string): Uint8Array {
  const out = new Uint8Array(text.length + 1);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[i] = c <= 0xff ? c : 0x3f;
  }
  return out;
}

/** A little-endian byte buffer with absolute-offset writes, for building boot information. */
export class InfoWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  u8(off: number, v: number): void {
    this.view.setUint8(off, v);
  }

  u16(off: number, v: number): void {
    this.view.setUint16(off, v, true);
  }

  u32(off: number, v: number): void {
    this.view.setUint32(off, v >>> 0, true);
  }

  u64(off: number, v: number | bigint): void {
    this.view.setBigUint64(off, BigInt(v), true);
  }

  put(off: number, data: Uint8Array): void {
    this.bytes.set(data, off);
  }
}

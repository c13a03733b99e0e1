/**
 * PVH direct boot, as Xen's domain builder does it (docs/misc/pvh.pandoc,
 * public/arch-x86/hvm/start_info.h, public/elfnote.h):
 * - the kernel is an ELF32 or ELF64 file carrying the note owner "Xen", type
 *   XEN_ELFNOTE_PHYS32_ENTRY (18), whose descriptor is the 32-bit physical entry point; notes come
 *   from PT_NOTE segments, or from SHT_NOTE sections when there is no PT_NOTE (Mini-OS);
 * - every PT_LOAD is loaded at its physical address p_paddr, p_memsz - p_filesz zeroed;
 * - modules (the ramdisk) follow the image, page-aligned, then one block holding
 *   struct hvm_start_info (version 1), the module list, the memory map and the command lines;
 * - the boot VCPU starts in flat 32-bit protected mode with paging off, EBX pointing at
 *   hvm_start_info (pvh-start-state.ts).
 * Problems are BootErrors naming the file.
 */
import { BootError } from '../base/errors';
import type { CpuInitState } from '../cpu/init-state';
import type { GuestPhysMemory } from '../machine/guest-memory';
import { E820_RAM, E820_RESERVED, type E820Entry } from './e820';
import { elfNotes, isElf, parseElf, PT_LOAD, segmentBytes, toAddress32, type ElfFile } from './elf';
import { ADDRESS_LIMIT_32, alignUp, BootPlacement, type BootRegion } from './placement';
import { writeStartInfo, startInfoBytes, type PvhModulePlacement } from './pvh-start-info';
import { pvhInitialState } from './pvh-start-state';

/** Owner of Xen's ELF notes. */
export const XEN_NOTE_OWNER = 'Xen';
/** XEN_ELFNOTE_PHYS32_ENTRY. */
export const XEN_ELFNOTE_PHYS32_ENTRY = 18;
/** Page size: modules and the start-info block are page aligned. */
const PAGE = 4096;
/** Xen's special pages: 8 frames ending 16 MiB below 4 GiB (pfns 0xFEFF8-0xFEFFF). */
export const PVH_SPECIAL_BASE = 0xfeff8000;
export const PVH_SPECIAL_BYTES = 8 * PAGE;

/** A module (ramdisk) to pass. */
export interface PvhModule {
  readonly data: Uint8Array;
  readonly path: string;
  readonly cmdline?: string;
}

/** Inputs of loadPvhKernel. */
export interface PvhLoadConfig {
  readonly kernel: Uint8Array;
  readonly kernelPath: string;
  readonly cmdline?: string;
  readonly modules?: readonly PvhModule[];
  /** Zero-filled guest RAM. */
  readonly memory: GuestPhysMemory;
  /** The map to report and load within; default pvhMemoryMap(memory.ramSize). */
  readonly memoryMap?: readonly E820Entry[];
  /** ACPI RSDP address for hvm_start_info (0 = none). */
  readonly rsdpPaddr?: number;
}

/** What went where. */
export interface PvhLoadSummary {
  readonly kernelPath: string;
  readonly elfClass: 32 | 64;
  readonly entry: number;
  readonly kernelStart: number;
  readonly kernelEnd: number;
  readonly startInfo: number;
  readonly cmdline: string;
  readonly modules: readonly PvhModulePlacement[];
  readonly memoryMap: readonly E820Entry[];
  readonly regions: readonly BootRegion[];
}

/** Result of loadPvhKernel. */
export interface PvhLoadResult {
  readonly init: CpuInitState;
  readonly summary: PvhLoadSummary;
}

/**
 * The PVH memory map of a guest with `ramBytes` of RAM: RAM from 0, and Xen's eight special
 * pages (console and xenstore rings among them) reserved below 4 GiB - 16 MiB.
 */
export function pvhMemoryMap(ramBytes: number): E820Entry[] {
  return [
    { base: 0, length: ramBytes, type: E820_RAM },
    { base: PVH_SPECIAL_BASE, length: PVH_SPECIAL_BYTES, type: E820_RESERVED },
  ];
}

/** The PHYS32_ENTRY note's value, or undefined if the file has none (not a PVH kernel). */
export function pvhEntry(elf: ElfFile): number | undefined {
  for (const n of elfNotes(elf)) {
    if (n.name !== XEN_NOTE_OWNER || n.type !== XEN_ELFNOTE_PHYS32_ENTRY) continue;
    if (n.desc.length !== 4 && n.desc.length !== 8) {
      throw new BootError('boot.pvh-bad-note', `${elf.path}: the XEN_ELFNOTE_PHYS32_ENTRY note has ${n.desc.length} bytes; it must hold a 4-byte (or 8-byte) address`, elf.path);
    }
    const dv = new DataView(n.desc.buffer, n.desc.byteOffset, n.desc.byteLength);
    const v = n.desc.length === 4 ? BigInt(dv.getUint32(0, true)) : dv.getBigUint64(0, true);
    return toAddress32(elf, v, 'the PVH entry point');
  }
  return undefined;
}

/** True if `bytes` is an ELF file with a PVH entry note (what `type = "pvh"` can boot). */
export function isPvhKernel(bytes: Uint8Array, path = 'kernel'): boolean {
  if (!isElf(bytes)) return false;
  try {
    return pvhEntry(parseElf(bytes, path)) !== undefined;
  } catch {
    return false;
  }
}

/** Loads a PVH kernel, its modules and hvm_start_info; returns the boot VCPU state and a summary. */
export function loadPvhKernel(config: PvhLoadConfig): PvhLoadResult {
  const { kernel, kernelPath: path, memory } = config;
  if (!isElf(kernel)) {
    throw new BootError('boot.pvh-not-elf', `${path}: not an ELF file; a PVH kernel is an ELF image with a XEN_ELFNOTE_PHYS32_ENTRY note (for Linux, the vmlinux inside the bzImage).`, path);
  }
  const elf = parseElf(kernel, path);
  const entry = pvhEntry(elf);
  if (entry === undefined) {
    throw new BootError(
      'boot.pvh-no-entry',
      `${path}: no XEN_ELFNOTE_PHYS32_ENTRY note (owner "Xen", type 18) in its PT_NOTE segments or SHT_NOTE sections, so it cannot start as a PVH guest; build it with PVH support (Linux CONFIG_PVH, Mini-OS CONFIG_PARAVIRT=n) or use type = "hvm".`,
      path,
    );
  }
  const memoryMap = config.memoryMap ?? pvhMemoryMap(memory.ramSize);
  const placement = new BootPlacement(memoryMap, memory, path);
  let start = Infinity;
  let end = 0;
  for (const ph of elf.programHeaders) {
    if (ph.type !== PT_LOAD || ph.memsz === 0) continue;
    const at = toAddress32(elf, ph.paddr, `the physical address of program header ${ph.index}`);
    placement.claim('kernel', `kernel segment ${ph.index}`, at, ph.memsz);
    memory.write(at, segmentBytes(elf, ph));
    if (ph.memsz > ph.filesz) memory.fill(at + ph.filesz, ph.memsz - ph.filesz, 0);
    start = Math.min(start, at);
    end = Math.max(end, at + ph.memsz);
  }
  if (end === 0) throw new BootError('boot.pvh-empty', `${path}: the ELF file has no loadable segment.`, path);
  const mods: PvhModulePlacement[] = [];
  let cursor = alignUp(end, PAGE);
  for (const m of config.modules ?? []) {
    const r = placement.allocate({ kind: 'module', what: `module ${m.path}`, length: Math.max(m.data.length, 1), align: PAGE, min: cursor, max: ADDRESS_LIMIT_32, preference: 'low' });
    if (r === undefined) throw new BootError('boot.pvh-no-room', `${path}: no room in RAM for module ${m.path} (${m.data.length} bytes) after the kernel; give the guest more memory.`, m.path);
    memory.write(r.start, m.data);
    mods.push({ path: m.path, paddr: r.start, size: m.data.length, cmdline: m.cmdline ?? '' });
    cursor = alignUp(r.end, PAGE);
  }
  const cmdline = config.cmdline ?? '';
  const infoLen = startInfoBytes(mods, memoryMap, cmdline);
  const info = placement.allocate({ kind: 'boot-info', what: 'hvm_start_info', length: infoLen, align: PAGE, min: cursor, max: ADDRESS_LIMIT_32, preference: 'low' });
  if (info === undefined) throw new BootError('boot.pvh-no-room', `${path}: no room in RAM for hvm_start_info after the kernel and modules; give the guest more memory.`, path);
  writeStartInfo(memory, info.start, { modules: mods, memoryMap, cmdline, rsdpPaddr: config.rsdpPaddr ?? 0 });
  return {
    init: pvhInitialState(entry, info.start),
    summary: {
      kernelPath: path, elfClass: elf.elfClass, entry, kernelStart: start, kernelEnd: end, startInfo: info.start, cmdline,
      modules: mods, memoryMap, regions: placement.regions,
    },
  };
}

/**
 * struct hvm_start_info and what it points to (public/arch-x86/hvm/start_info.h), laid out in
 * one block: the 56-byte header, the module list (hvm_modlist_entry, 32 bytes each), the memory
 * map (hvm_memmap_table_entry, 24 bytes each), then the NUL-terminated command lines. The same
 * layout for 32- and 64-bit guests; all addresses are guest-physical.
 */
import type { GuestPhysMemory } from '../machine/guest-memory';
import type { E820Entry } from './e820';

/** XEN_HVM_START_MAGIC_VALUE. */
export const XEN_HVM_START_MAGIC = 0x336ec578;
/** Version 1: the memmap fields are valid. */
export const XEN_HVM_START_VERSION = 1;
/** sizeof(struct hvm_start_info). */
export const START_INFO_BYTES = 56;
/** sizeof(struct hvm_modlist_entry). */
export const MODLIST_ENTRY_BYTES = 32;
/** sizeof(struct hvm_memmap_table_entry). */
export const MEMMAP_ENTRY_BYTES = 24;

/** Field offsets of hvm_start_info. */
const SI_MAGIC = 0;
const SI_VERSION = 4;
const SI_FLAGS = 8;
const SI_NR_MODULES = 12;
const SI_MODLIST_PADDR = 16;
const SI_CMDLINE_PADDR = 24;
const SI_RSDP_PADDR = 32;
const SI_MEMMAP_PADDR = 40;
const SI_MEMMAP_ENTRIES = 48;
/** hvm_modlist_entry: paddr, size, cmdline_paddr (u64 each). */
const MOD_PADDR = 0;
const MOD_SIZE = 8;
const MOD_CMDLINE = 16;
/** hvm_memmap_table_entry: addr u64, size u64, type u32. */
const MM_ADDR = 0;
const MM_SIZE = 8;
const MM_TYPE = 16;

/** A module as placed in guest RAM. */
export interface PvhModulePlacement {
  readonly path: string;
  readonly paddr: number;
  readonly size: number;
  readonly cmdline: string;
}

/** What the block describes. */
export interface StartInfoContent {
  readonly modules: readonly PvhModulePlacement[];
  readonly memoryMap: readonly E820Entry[];
  readonly cmdline: string;
  readonly rsdpPaddr: number;
}

const enc = new TextEncoder();

/** Bytes the block needs. */
export function startInfoBytes(modules: readonly PvhModulePlacement[], map: readonly E820Entry[], cmdline: string): number {
  let n = START_INFO_BYTES + modules.length * MODLIST_ENTRY_BYTES + map.length * MEMMAP_ENTRY_BYTES;
  n += enc.encode(cmdline).length + 1;
  for (const m of modules) n += enc.encode(m.cmdline).length + 1;
  return n;
}

/** Writes the block at guest-physical `at`. */
export function writeStartInfo(memory: GuestPhysMemory, at: number, c: StartInfoContent): void {
  const size = startInfoBytes(c.modules, c.memoryMap, c.cmdline);
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  const u64 = (off: number, v: number) => dv.setBigUint64(off, BigInt(v), true);
  const modlist = START_INFO_BYTES;
  const memmap = modlist + c.modules.length * MODLIST_ENTRY_BYTES;
  let strings = memmap + c.memoryMap.length * MEMMAP_ENTRY_BYTES;
  const putString = (s: string): number => {
    const b = enc.encode(s);
    buf.set(b, strings);
    const addr = at + strings;
    strings += b.length + 1;
    return addr;
  };
  dv.setUint32(SI_MAGIC, XEN_HVM_START_MAGIC, true);
  dv.setUint32(SI_VERSION, XEN_HVM_START_VERSION, true);
  dv.setUint32(SI_FLAGS, 0, true);
  dv.setUint32(SI_NR_MODULES, c.modules.length, true);
  u64(SI_MODLIST_PADDR, c.modules.length > 0 ? at + modlist : 0);
  u64(SI_RSDP_PADDR, c.rsdpPaddr);
  u64(SI_MEMMAP_PADDR, at + memmap);
  dv.setUint32(SI_MEMMAP_ENTRIES, c.memoryMap.length, true);
  c.memoryMap.forEach((e, k) => {
    const o = memmap + k * MEMMAP_ENTRY_BYTES;
    u64(o + MM_ADDR, e.base);
    u64(o + MM_SIZE, e.length);
    dv.setUint32(o + MM_TYPE, e.type, true);
  });
  u64(SI_CMDLINE_PADDR, c.cmdline === '' ? 0 : putString(c.cmdline));
  if (c.cmdline === '') strings += 1;
  c.modules.forEach((m, k) => {
    const o = modlist + k * MODLIST_ENTRY_BYTES;
    u64(o + MOD_PADDR, m.paddr);
    u64(o + MOD_SIZE, m.size);
    u64(o + MOD_CMDLINE, m.cmdline === '' ? 0 : putString(m.cmdline));
  });
  memory.write(at, buf);
}

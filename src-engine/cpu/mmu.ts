/**
 * The MMU: linear -> guest-physical translation (paging), guest-physical -> machine through the
 * domain's P2M, a direct-mapped software TLB, and the memory access functions every instruction
 * handler uses.
 *
 * Design. The TLB has TLB_SIZE slots indexed by linear page number. Each slot holds the machine
 * byte offset of the page and four tags (read/write x supervisor/user); a tag equals the page
 * number when that access is allowed without a page walk. cpu.tagR/cpu.tagW point at the tag
 * arrays of the current privilege, so the fast path is one compare. A write tag is only set once
 * the page's dirty bit is set, and never for pages that are not RAM (MMIO goes through CpuOps).
 * Writes check codeMark per machine frame (and then per 512-byte chunk, code-marks.ts) so
 * self-modifying code invalidates decoded blocks.
 *
 * Concurrency. Guest RAM, P2M and the code-tracking arrays are shared with other pCPU workers.
 * Accessed/dirty bits are set with Atomics.or, as a locked update on hardware would be.
 */
import type { Cpu } from './cpu';
import { FAULT, VEC_SMC_RESTART } from './fault';
import { codeStore } from './code-marks';
import { checkAlignment, noteDataAccess, pageWatched } from './debug';
import { PERM_ALL, PERM_SW, PERM_SX, PERM_UR, PERM_UW, PERM_UX, walk32, walkPae } from './paging';
import { CR0_PG, CR4_PAE, S_A20_MASK, S_CR0, S_CR4 } from './state';
import { allocateArea, type WasmPool } from './wasm/wasm-pool';

export const TLB_BITS = 12;
export const TLB_SIZE = 1 << TLB_BITS;
export const TLB_MASK = TLB_SIZE - 1;
const TWO32 = 4294967296;

/** Marker returned by translation for guest-physical addresses that are not RAM. */
export const NOT_RAM = -1;

/** The TLB arrays of one Cpu. */
export interface TlbArrays {
  off: Int32Array;
  tagRS: Int32Array;
  tagWS: Int32Array;
  tagRU: Int32Array;
  tagWU: Int32Array;
  tagXS: Int32Array;
  tagXU: Int32Array;
  global: Uint8Array;
  used: Int32Array;
}

/** Int32 arrays of TLB_SIZE entries in a TLB (off and the six tag arrays). */
const TLB_INT_ARRAYS = 7;
/** Entries of `used`: a slot list and its length. */
const TLB_USED_LEN = TLB_SIZE + 1;
/** Bytes of a TLB laid out in one area (createTlb with a pool). */
export const TLB_AREA_BYTES = TLB_INT_ARRAYS * TLB_SIZE * 4 + TLB_USED_LEN * 4 + TLB_SIZE;

/**
 * Allocates the TLB arrays of one Cpu: in an area of the pool memory when the pool is a
 * WebAssembly.Memory (compiled wasm regions read the tags and offsets there, wasm/wasm-pool.ts),
 * else as plain arrays.
 */
export function createTlb(pool?: WasmPool): TlbArrays {
  let buffer: ArrayBufferLike | undefined;
  let at = 0;
  if (pool !== undefined) {
    const a = allocateArea(pool, TLB_AREA_BYTES);
    buffer = a.buffer;
    at = a.offset;
  }
  const next = (): Int32Array => {
    if (buffer === undefined) return new Int32Array(TLB_SIZE);
    const v = new Int32Array(buffer, at, TLB_SIZE);
    at += TLB_SIZE * 4;
    return v;
  };
  const tag = (): Int32Array => next().fill(-1);
  const off = next();
  const tags = { tagRS: tag(), tagWS: tag(), tagRU: tag(), tagWU: tag(), tagXS: tag(), tagXU: tag() };
  const used = buffer === undefined ? new Int32Array(TLB_USED_LEN) : new Int32Array(buffer, at, TLB_USED_LEN);
  const global = buffer === undefined ? new Uint8Array(TLB_SIZE) : new Uint8Array(buffer, at + TLB_USED_LEN * 4, TLB_SIZE);
  return { off, ...tags, global, used };
}

function clearSlot(cpu: Cpu, idx: number): void {
  cpu.tagRS[idx] = -1;
  cpu.tagWS[idx] = -1;
  cpu.tagRU[idx] = -1;
  cpu.tagWU[idx] = -1;
  cpu.tagXS[idx] = -1;
  cpu.tagXU[idx] = -1;
  cpu.tlbGlobal[idx] = 0;
}

/** Flushes the whole TLB (or all but global entries) and the decoded-block jump cache. */
export function flushTlb(cpu: Cpu, keepGlobal: boolean): void {
  const used = cpu.tlbUsed;
  let n = used[TLB_SIZE];
  let w = 0;
  for (let k = 0; k < n; k++) {
    const idx = used[k];
    if (keepGlobal && cpu.tlbGlobal[idx]) used[w++] = idx;
    else clearSlot(cpu, idx);
  }
  n = w;
  used[TLB_SIZE] = n;
  cpu.flushJumpCache();
}

/** INVLPG: drops the translation of one linear page. */
export function flushTlbPage(cpu: Cpu, lin: number): void {
  const page = lin >>> 12;
  const idx = page & TLB_MASK;
  if (cpu.tagRS[idx] === page || cpu.tagRU[idx] === page || cpu.tagWS[idx] === page || cpu.tagWU[idx] === page) {
    clearSlot(cpu, idx);
  }
  cpu.flushJumpCache();
}

/** Machine byte offset of guest-physical `gpa`, or NOT_RAM. */
export function gpaToMachine(cpu: Cpu, gpa: number): number {
  if (gpa >= TWO32) return NOT_RAM;
  const gfn = gpa >>> 12;
  const p2m = cpu.phys.p2m;
  if (gfn >= p2m.length) return NOT_RAM;
  const m = p2m[gfn];
  if (m === 0) return NOT_RAM;
  return ((m - 1) << 12) | (gpa & 0xfff);
}

/** Reads a 32-bit little-endian word at guest-physical `gpa` (all ones if not RAM). */
export function physRead32(cpu: Cpu, gpa: number): number {
  const off = gpaToMachine(cpu, gpa);
  if (off === NOT_RAM) return cpu.ops.mmioRead(gpa, 4) | 0;
  if ((off & 3) === 0) return cpu.phys.mem32[off >> 2];
  const m = cpu.phys.mem8;
  return m[off] | (m[off + 1] << 8) | (m[off + 2] << 16) | (m[off + 3] << 24);
}

/** Atomically ORs `bits` into the aligned 32-bit word at guest-physical `gpa` (if RAM). */
export function physOr32(cpu: Cpu, gpa: number, bits: number): void {
  const off = gpaToMachine(cpu, gpa);
  if (off !== NOT_RAM && (off & 3) === 0) {
    Atomics.or(cpu.phys.mem32, off >> 2, bits);
    noteWrite(cpu, off, 4);
  }
}

/**
 * Translates `lin` by the current paging mode, fills its TLB slot and returns the guest-physical
 * address. `write`/`user` describe the access (`user` is false for implicit supervisor
 * accesses); `fetch` marks instruction fetches (execute-disable under PAE).
 */
export function translate(cpu: Cpu, lin: number, write: boolean, user: boolean, fetch = false): number {
  const s = cpu.s;
  if ((s[S_CR0] & CR0_PG) === 0) {
    const gpa = (lin & s[S_A20_MASK]) >>> 0;
    fillSlot(cpu, lin, gpa, PERM_ALL, false);
    return gpa;
  }
  const w = (s[S_CR4] & CR4_PAE) !== 0 ? walkPae(cpu, lin, write, user, fetch) : walk32(cpu, lin, write, user);
  fillSlot(cpu, lin, w.gpa, w.perms, w.glob);
  return w.gpa;
}

function fillSlot(cpu: Cpu, lin: number, gpa: number, perms: number, glob: boolean): void {
  const off = gpaToMachine(cpu, gpa - (lin & 0xfff));
  const page = lin >>> 12;
  const idx = page & TLB_MASK;
  if (cpu.tagRS[idx] === -1 && cpu.tagRU[idx] === -1) {
    const used = cpu.tlbUsed;
    used[used[TLB_SIZE]++] = idx;
    if (used[TLB_SIZE] >= TLB_SIZE) compactUsed(cpu);
  }
  clearSlot(cpu, idx);
  if (off === NOT_RAM) return;
  // Pages a data breakpoint watches stay out of the TLB: every access takes the slow path.
  if (cpu.dataWatch !== 0 && pageWatched(cpu, page)) return;
  // While alignment checking applies, user accesses all take the slow path too.
  if (cpu.alignCheck) perms &= ~(PERM_UR | PERM_UW);
  cpu.tlbOff[idx] = off;
  cpu.tagRS[idx] = page;
  if ((perms & PERM_SW) !== 0) cpu.tagWS[idx] = page;
  if ((perms & PERM_UR) !== 0) cpu.tagRU[idx] = page;
  if ((perms & PERM_UW) !== 0) cpu.tagWU[idx] = page;
  if ((perms & PERM_SX) !== 0) cpu.tagXS[idx] = page;
  if ((perms & PERM_UX) !== 0) cpu.tagXU[idx] = page;
  cpu.tlbGlobal[idx] = glob ? 1 : 0;
}

/** Rebuilds the list of used slots when it fills up (slots reused many times). */
function compactUsed(cpu: Cpu): void {
  const used = cpu.tlbUsed;
  let n = 0;
  for (let idx = 0; idx < TLB_SIZE; idx++) {
    if (cpu.tagRS[idx] !== -1 || cpu.tagRU[idx] !== -1) used[n++] = idx;
  }
  used[TLB_SIZE] = n;
}

/**
 * Called after a write of `len` bytes at machine offset `off` (within one frame): invalidates
 * the frame's decoded code when the write touched bytes holding some (code-marks.ts).
 */
export function noteWrite(cpu: Cpu, off: number, len: number): void {
  if (cpu.phys.codeMark[off >>> 12] !== 0 && codeStore(cpu.phys, off, len)) cpu.codeWritten = true;
}

/**
 * Called before a write of `len` bytes at machine offset `off` in a frame holding decoded code:
 * if the bytes belong to the block being executed, the write must not happen under it (its
 * later instructions may be the ones written), so the writing instruction is restarted alone
 * (VEC_SMC_RESTART). Like any fault, it leaves the instruction restartable.
 */
export function checkSmc(cpu: Cpu, off: number, len: number): void {
  const b = cpu.curOff;
  if (b >= 0 && off < b + cpu.curBytes && off + len > b) {
    cpu.excVector = VEC_SMC_RESTART;
    throw FAULT;
  }
}

/**
 * Slow-path translation of one access to a machine offset, or NOT_RAM (then `cpu.lastGpa` holds
 * the guest-physical address for MMIO). `user` selects user-mode (CPL 3) permission checks.
 */
function slowOffset(cpu: Cpu, lin: number, write: boolean, user: boolean): number {
  const page = lin >>> 12;
  const idx = page & TLB_MASK;
  const tag = write ? (user ? cpu.tagWU : cpu.tagWS) : user ? cpu.tagRU : cpu.tagRS;
  if (tag[idx] === page) return cpu.tlbOff[idx] + (lin & 0xfff);
  const gpa = translate(cpu, lin, write, user);
  const off = gpaToMachine(cpu, gpa);
  if (off === NOT_RAM) cpu.lastGpa = gpa;
  return off;
}

/** Debug and alignment checks of a slow-path data access (only when either is active). */
function checkAccessHooks(cpu: Cpu, lin: number, size: number, write: boolean, user: boolean): void {
  if (user && cpu.alignCheck) checkAlignment(cpu, lin, size);
  if (cpu.dataWatch !== 0) noteDataAccess(cpu, lin, size, write);
}

function slowRead(cpu: Cpu, lin: number, size: 1 | 2 | 4, user: boolean): number {
  if (cpu.alignCheck || cpu.dataWatch !== 0) checkAccessHooks(cpu, lin, size, false, user);
  if (((lin & 0xfff) + size) > 0x1000) {
    // Crosses a page: translate both pages before reading anything.
    let v = 0;
    const offs = [0, 0, 0, 0];
    for (let k = 0; k < size; k++) offs[k] = slowOffset(cpu, (lin + k) | 0, false, user);
    for (let k = 0; k < size; k++) {
      const o = offs[k];
      const b = o === NOT_RAM ? cpu.ops.mmioRead(cpu.lastGpa, 1) & 0xff : cpu.phys.mem8[o];
      v |= b << (8 * k);
    }
    return size === 4 ? v | 0 : v;
  }
  const off = slowOffset(cpu, lin, false, user);
  if (off === NOT_RAM) {
    const v = cpu.ops.mmioRead(cpu.lastGpa, size);
    return size === 4 ? v | 0 : size === 2 ? v & 0xffff : v & 0xff;
  }
  const m = cpu.phys.mem8;
  if (size === 1) return m[off];
  if (size === 2) return m[off] | (m[off + 1] << 8);
  return m[off] | (m[off + 1] << 8) | (m[off + 2] << 16) | (m[off + 3] << 24);
}

function slowWrite(cpu: Cpu, lin: number, size: 1 | 2 | 4, v: number, user: boolean): void {
  if (cpu.alignCheck || cpu.dataWatch !== 0) checkAccessHooks(cpu, lin, size, true, user);
  const m = cpu.phys.mem8;
  if (((lin & 0xfff) + size) > 0x1000) {
    const offs = [0, 0, 0, 0];
    const gpas = [0, 0, 0, 0];
    for (let k = 0; k < size; k++) {
      offs[k] = slowOffset(cpu, (lin + k) | 0, true, user);
      gpas[k] = cpu.lastGpa;
    }
    for (let k = 0; k < size; k++) {
      const o = offs[k];
      if (o !== NOT_RAM && cpu.phys.codeMark[o >>> 12] !== 0) checkSmc(cpu, o, 1);
    }
    for (let k = 0; k < size; k++) {
      const o = offs[k];
      const b = (v >>> (8 * k)) & 0xff;
      if (o === NOT_RAM) cpu.ops.mmioWrite(gpas[k], 1, b);
      else {
        m[o] = b;
        noteWrite(cpu, o, 1);
      }
    }
    return;
  }
  const off = slowOffset(cpu, lin, true, user);
  if (off === NOT_RAM) {
    cpu.ops.mmioWrite(cpu.lastGpa, size, size === 4 ? v >>> 0 : v & (size === 2 ? 0xffff : 0xff));
    return;
  }
  if (cpu.phys.codeMark[off >>> 12] !== 0) checkSmc(cpu, off, size);
  m[off] = v;
  if (size >= 2) m[off + 1] = v >>> 8;
  if (size === 4) {
    m[off + 2] = v >>> 16;
    m[off + 3] = v >>> 24;
  }
  noteWrite(cpu, off, size);
}

/** Reads a byte at linear `lin` with the current privilege. */
export function rd8(cpu: Cpu, lin: number): number {
  const page = lin >>> 12;
  const idx = page & TLB_MASK;
  if (cpu.tagR[idx] === page) return cpu.phys.mem8[cpu.tlbOff[idx] + (lin & 0xfff)];
  return slowRead(cpu, lin, 1, cpu.cpl === 3);
}

/** Reads a 16-bit word at linear `lin`. */
export function rd16(cpu: Cpu, lin: number): number {
  const page = lin >>> 12;
  const idx = page & TLB_MASK;
  if (cpu.tagR[idx] === page) {
    const off = cpu.tlbOff[idx] + (lin & 0xfff);
    if ((off & 1) === 0) return cpu.phys.mem16[off >> 1];
    if ((lin & 0xfff) !== 0xfff) {
      const m = cpu.phys.mem8;
      return m[off] | (m[off + 1] << 8);
    }
  }
  return slowRead(cpu, lin, 2, cpu.cpl === 3);
}

/** Reads a 32-bit dword at linear `lin`. */
export function rd32(cpu: Cpu, lin: number): number {
  const page = lin >>> 12;
  const idx = page & TLB_MASK;
  if (cpu.tagR[idx] === page) {
    const off = cpu.tlbOff[idx] + (lin & 0xfff);
    if ((off & 3) === 0) return cpu.phys.mem32[off >> 2];
    if ((lin & 0xfff) <= 0xffc) {
      const m = cpu.phys.mem8;
      return m[off] | (m[off + 1] << 8) | (m[off + 2] << 16) | (m[off + 3] << 24);
    }
  }
  return slowRead(cpu, lin, 4, cpu.cpl === 3);
}

/** Writes a byte at linear `lin`. */
export function wr8(cpu: Cpu, lin: number, v: number): void {
  const page = lin >>> 12;
  const idx = page & TLB_MASK;
  if (cpu.tagW[idx] === page) {
    const off = cpu.tlbOff[idx] + (lin & 0xfff);
    if (cpu.phys.codeMark[off >>> 12] === 0) {
      cpu.phys.mem8[off] = v;
      return;
    }
  }
  slowWrite(cpu, lin, 1, v, cpu.cpl === 3);
}

/** Writes a 16-bit word at linear `lin`. */
export function wr16(cpu: Cpu, lin: number, v: number): void {
  const page = lin >>> 12;
  const idx = page & TLB_MASK;
  if (cpu.tagW[idx] === page) {
    const off = cpu.tlbOff[idx] + (lin & 0xfff);
    if ((off & 1) === 0 && cpu.phys.codeMark[off >>> 12] === 0) {
      cpu.phys.mem16[off >> 1] = v;
      return;
    }
  }
  slowWrite(cpu, lin, 2, v, cpu.cpl === 3);
}

/** Writes a 32-bit dword at linear `lin`. */
export function wr32(cpu: Cpu, lin: number, v: number): void {
  const page = lin >>> 12;
  const idx = page & TLB_MASK;
  if (cpu.tagW[idx] === page) {
    const off = cpu.tlbOff[idx] + (lin & 0xfff);
    if ((off & 3) === 0 && cpu.phys.codeMark[off >>> 12] === 0) {
      cpu.phys.mem32[off >> 2] = v;
      return;
    }
  }
  slowWrite(cpu, lin, 4, v, cpu.cpl === 3);
}

/**
 * Checks that `size` bytes at `lin` are writable (walking the page tables and faulting if not)
 * without writing; read-modify-write instructions call it first so a faulting write leaves no
 * trace.
 */
export function probeWrite(cpu: Cpu, lin: number, size: number): void {
  const page = lin >>> 12;
  const idx = page & TLB_MASK;
  if (cpu.tagW[idx] === page && (lin & 0xfff) + size <= 0x1000) return;
  const user = cpu.cpl === 3;
  slowOffset(cpu, lin, true, user);
  // The second page is checked at its first byte (the address CR2 reports if it faults).
  if ((lin & 0xfff) + size > 0x1000) slowOffset(cpu, ((lin + size - 1) & ~0xfff) | 0, true, user);
}

/** Reads `size` bytes at `lin` as a supervisor-mode (implicit) access: descriptor tables, TSS. */
export function rdSys(cpu: Cpu, lin: number, size: 1 | 2 | 4): number {
  return slowRead(cpu, lin, size, false);
}

/** Reads with explicit privilege (user = CPL 3 rules), e.g. pushes to a new stack at delivery. */
export function rdAs(cpu: Cpu, lin: number, size: 1 | 2 | 4, user: boolean): number {
  return slowRead(cpu, lin, size, user);
}

/** Writes with explicit privilege. */
export function wrAs(cpu: Cpu, lin: number, size: 1 | 2 | 4, v: number, user: boolean): void {
  slowWrite(cpu, lin, size, v, user);
}

/** Writes `size` bytes at `lin` as a supervisor-mode (implicit) access. */
export function wrSys(cpu: Cpu, lin: number, size: 1 | 2 | 4, v: number): void {
  slowWrite(cpu, lin, size, v, false);
}

/**
 * Translates the linear address of an instruction fetch to a machine offset, or returns NOT_RAM
 * (code in MMIO cannot be cached; the caller fetches it byte by byte through rdCode).
 */
export function fetchOffset(cpu: Cpu, lin: number): number {
  const page = lin >>> 12;
  const idx = page & TLB_MASK;
  const user = cpu.cpl === 3;
  if ((user ? cpu.tagXU : cpu.tagXS)[idx] === page) return cpu.tlbOff[idx] + (lin & 0xfff);
  const gpa = translate(cpu, lin, false, user, true);
  const off = gpaToMachine(cpu, gpa);
  if (off === NOT_RAM) cpu.lastGpa = gpa;
  return off;
}

export { FAULT };

/**
 * Page walks (SDM Vol. 3 chapter 4): 32-bit paging with 4-KiB and 4-MiB (PSE) pages, and PAE
 * paging with its four PDPTE registers, 2-MiB pages and the execute-disable bit (EFER.NXE). Both
 * set accessed and dirty bits exactly as the SDM says (A on every entry used, D on the entry that
 * maps the page, only for writes, never for faulting accesses) and build #PF error codes with
 * P, W/R, U/S, RSVD and I/D.
 *
 * Guest-physical addresses are numbers that may exceed 2^32 under PAE (MAXPHYADDR 36); the MMU
 * treats everything beyond the domain's P2M as not RAM.
 */
import type { Cpu } from './cpu';
import { gp, raiseError } from './fault';
import { physOr32, physRead32 } from './mmu';
import {
  CR0_WP, CR4_PGE, CR4_PSE, EXC_PF, S_A20_MASK, S_CR0, S_CR2, S_CR3, S_CR4, S_MSR_EFER, S_PDPTE,
} from './state';

// Paging-structure entry bits (SDM Vol. 3 Tables 4-4 to 4-20).
const PTE_P = 1 << 0;
const PTE_RW = 1 << 1;
const PTE_US = 1 << 2;
const PTE_A = 1 << 5;
const PTE_D = 1 << 6;
const PDE_PS = 1 << 7;
const PTE_G = 1 << 8;
/** 32-bit paging: 4-MiB PDE bits that must be zero without PSE-36 (bits 21:13). */
const PDE4M_RSVD = 0x003fe000;
/** PAE: 2-MiB PDE bits 20:13 are reserved. */
const PDE2M_RSVD = 0x001fe000;
/** PAE: high-dword bits 62:36 (MAXPHYADDR 36) are reserved in every entry. */
const PAE_HI_RSVD = 0x7ffffff0;
/** PAE: the execute-disable bit (63), reserved unless EFER.NXE. */
const PAE_XD = 0x80000000 | 0;
/** PDPTE low bits that are reserved (2:1 and 8:5). */
const PDPTE_LO_RSVD = 0x1e6;
/** EFER.NXE. */
export const EFER_NXE = 1 << 11;
const TWO32 = 4294967296;

// #PF error code bits.
export const PFEC_P = 1 << 0;
export const PFEC_W = 1 << 1;
export const PFEC_U = 1 << 2;
export const PFEC_RSVD = 1 << 3;
export const PFEC_ID = 1 << 4;

// Permission bits of a translation, as the TLB stores them.
export const PERM_SR = 1 << 0;
export const PERM_SW = 1 << 1;
export const PERM_UR = 1 << 2;
export const PERM_UW = 1 << 3;
export const PERM_SX = 1 << 4;
export const PERM_UX = 1 << 5;
/** Everything allowed (paging off). */
export const PERM_ALL = 0x3f;

/** What a walk found. */
export interface Walk {
  /** Guest-physical address of the accessed byte (may be >= 2^32). */
  gpa: number;
  /** PERM_* bits for the TLB. */
  perms: number;
  /** Global (CR4.PGE and the G bit). */
  glob: boolean;
}
const WALK: Walk = { gpa: 0, perms: 0, glob: false };

function pageFault(cpu: Cpu, lin: number, code: number): never {
  cpu.s[S_CR2] = lin;
  raiseError(cpu, EXC_PF, code);
}

/** Privilege checks shared by both formats; the fault code carries P = 1. */
function checkAccess(cpu: Cpu, lin: number, err: number, write: boolean, user: boolean, rw: boolean, us: boolean, exec: boolean): void {
  if (user) {
    if (!us || (write && !rw) || !exec) pageFault(cpu, lin, err | PFEC_P);
  } else if ((write && !rw && (cpu.s[S_CR0] & CR0_WP) !== 0) || !exec) {
    pageFault(cpu, lin, err | PFEC_P);
  }
}

function perms(cpu: Cpu, rw: boolean, us: boolean, dirty: boolean, nx: boolean): number {
  const wp = (cpu.s[S_CR0] & CR0_WP) !== 0;
  let p = PERM_SR;
  if ((rw || !wp) && dirty) p |= PERM_SW;
  if (us) p |= PERM_UR;
  if (us && rw && dirty) p |= PERM_UW;
  if (!nx) p |= PERM_SX | (us ? PERM_UX : 0);
  return p;
}

/** 32-bit paging walk. */
export function walk32(cpu: Cpu, lin: number, write: boolean, user: boolean): Walk {
  const s = cpu.s;
  const a20 = s[S_A20_MASK];
  const cr4 = s[S_CR4];
  const pdeAddr = ((s[S_CR3] & 0xfffff000) + ((lin >>> 22) << 2)) >>> 0;
  const pde = physRead32(cpu, pdeAddr & a20);
  const err = (write ? PFEC_W : 0) | (user ? PFEC_U : 0);
  if ((pde & PTE_P) === 0) pageFault(cpu, lin, err);
  let gpa: number;
  let rw: boolean;
  let us: boolean;
  let dirty: boolean;
  let glob: boolean;
  if ((pde & PDE_PS) !== 0 && (cr4 & CR4_PSE) !== 0) {
    if ((pde & PDE4M_RSVD) !== 0) pageFault(cpu, lin, err | PFEC_P | PFEC_RSVD);
    rw = (pde & PTE_RW) !== 0;
    us = (pde & PTE_US) !== 0;
    checkAccess(cpu, lin, err, write, user, rw, us, true);
    const set = PTE_A | (write ? PTE_D : 0);
    if ((pde & set) !== set) physOr32(cpu, pdeAddr & a20, set);
    dirty = write || (pde & PTE_D) !== 0;
    glob = (pde & PTE_G) !== 0 && (cr4 & CR4_PGE) !== 0;
    gpa = ((pde & 0xffc00000) | (lin & 0x3ff000)) >>> 0;
  } else {
    const pteAddr = ((pde & 0xfffff000) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0;
    const pte = physRead32(cpu, pteAddr & a20);
    if ((pte & PTE_P) === 0) pageFault(cpu, lin, err);
    rw = (pde & pte & PTE_RW) !== 0;
    us = (pde & pte & PTE_US) !== 0;
    checkAccess(cpu, lin, err, write, user, rw, us, true);
    if ((pde & PTE_A) === 0) physOr32(cpu, pdeAddr & a20, PTE_A);
    const set = PTE_A | (write ? PTE_D : 0);
    if ((pte & set) !== set) physOr32(cpu, pteAddr & a20, set);
    dirty = write || (pte & PTE_D) !== 0;
    glob = (pte & PTE_G) !== 0 && (cr4 & CR4_PGE) !== 0;
    gpa = (pte & 0xfffff000) >>> 0;
  }
  WALK.gpa = ((gpa | (lin & 0xfff)) & a20) >>> 0;
  WALK.perms = perms(cpu, rw, us, dirty, false);
  WALK.glob = glob;
  return WALK;
}

/** Reads the 64-bit entry at guest-physical `addr` (8-byte aligned): [low, high]. */
function read64(cpu: Cpu, addr: number): [number, number] {
  return [physRead32(cpu, addr), physRead32(cpu, addr + 4)];
}

/**
 * Loads the four PDPTE registers from CR3 (MOV to CR3 with PAE paging on, enabling PAE or
 * paging). A present PDPTE with reserved bits set is #GP(0) and nothing changes.
 */
export function loadPdptes(cpu: Cpu, cr3: number): void {
  const s = cpu.s;
  const base = (cr3 & 0xffffffe0) >>> 0;
  const e: number[] = [];
  for (let k = 0; k < 4; k++) {
    const [lo, hi] = read64(cpu, (base + k * 8) & s[S_A20_MASK]);
    if ((lo & PTE_P) !== 0 && ((lo & PDPTE_LO_RSVD) !== 0 || (hi & (PAE_HI_RSVD | PAE_XD)) !== 0)) gp(cpu, 0);
    e.push(lo, hi);
  }
  for (let k = 0; k < 8; k++) s[S_PDPTE + k] = e[k];
}

/** PAE paging walk; `fetch` marks instruction fetches (execute-disable, I/D). */
export function walkPae(cpu: Cpu, lin: number, write: boolean, user: boolean, fetch: boolean): Walk {
  const s = cpu.s;
  const a20 = s[S_A20_MASK];
  const cr4 = s[S_CR4];
  const nxe = (s[S_MSR_EFER] & EFER_NXE) !== 0;
  const err = (write ? PFEC_W : 0) | (user ? PFEC_U : 0) | (fetch && nxe ? PFEC_ID : 0);
  const hiRsvd = PAE_HI_RSVD | (nxe ? 0 : PAE_XD);
  const slot = lin >>> 30;
  const pdpte = s[S_PDPTE + slot * 2];
  if ((pdpte & PTE_P) === 0) pageFault(cpu, lin, err);
  const pdeAddr = (pdpte & 0xfffff000) + (s[S_PDPTE + slot * 2 + 1] & 0xf) * TWO32 + ((lin >>> 21) & 0x1ff) * 8;
  const pdeLoc = addrLow(pdeAddr, a20);
  const [pde, pdeHi] = read64(cpu, pdeLoc);
  if ((pde & PTE_P) === 0) pageFault(cpu, lin, err);
  if ((pdeHi & hiRsvd) !== 0) pageFault(cpu, lin, err | PFEC_P | PFEC_RSVD);
  let rw: boolean;
  let us: boolean;
  let nx: boolean;
  let dirty: boolean;
  let glob: boolean;
  let base: number;
  let offsetMask: number;
  if ((pde & PDE_PS) !== 0) {
    if ((pde & PDE2M_RSVD) !== 0) pageFault(cpu, lin, err | PFEC_P | PFEC_RSVD);
    rw = (pde & PTE_RW) !== 0;
    us = (pde & PTE_US) !== 0;
    nx = nxe && (pdeHi & PAE_XD) !== 0;
    checkAccess(cpu, lin, err, write, user, rw, us, !(fetch && nx));
    const set = PTE_A | (write ? PTE_D : 0);
    if ((pde & set) !== set) physOr32(cpu, pdeLoc, set);
    dirty = write || (pde & PTE_D) !== 0;
    glob = (pde & PTE_G) !== 0 && (cr4 & CR4_PGE) !== 0;
    base = (pde & 0xffe00000) >>> 0;
    base += (pdeHi & 0xf) * TWO32;
    offsetMask = 0x1fffff;
  } else {
    const pteAddr = (pde & 0xfffff000) + (pdeHi & 0xf) * TWO32 + ((lin >>> 12) & 0x1ff) * 8;
    const pteLoc = addrLow(pteAddr, a20);
    const [pte, pteHi] = read64(cpu, pteLoc);
    if ((pte & PTE_P) === 0) pageFault(cpu, lin, err);
    if ((pteHi & hiRsvd) !== 0) pageFault(cpu, lin, err | PFEC_P | PFEC_RSVD);
    rw = (pde & pte & PTE_RW) !== 0;
    us = (pde & pte & PTE_US) !== 0;
    nx = nxe && ((pdeHi | pteHi) & PAE_XD) !== 0;
    checkAccess(cpu, lin, err, write, user, rw, us, !(fetch && nx));
    if ((pde & PTE_A) === 0) physOr32(cpu, pdeLoc, PTE_A);
    const set = PTE_A | (write ? PTE_D : 0);
    if ((pte & set) !== set) physOr32(cpu, pteLoc, set);
    dirty = write || (pte & PTE_D) !== 0;
    glob = (pte & PTE_G) !== 0 && (cr4 & CR4_PGE) !== 0;
    base = (pte & 0xfffff000) >>> 0;
    base += (pteHi & 0xf) * TWO32;
    offsetMask = 0xfff;
  }
  const low = ((base % TWO32) | (lin & offsetMask)) & a20;
  WALK.gpa = (low >>> 0) + Math.floor(base / TWO32) * TWO32;
  WALK.perms = perms(cpu, rw, us, dirty, nx);
  WALK.glob = glob;
  return WALK;
}

/** A paging-structure address: the A20 mask applies below 4 GiB; above, no RAM is there anyway. */
function addrLow(addr: number, a20: number): number {
  return addr >= TWO32 ? addr : (addr & a20) >>> 0;
}


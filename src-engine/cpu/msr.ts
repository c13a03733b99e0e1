/**
 * Model-specific registers the CPU implements itself (SDM Vol. 4 tables for family 6); the rest
 * go to the platform (local APIC base, Xen's hypercall page) and, if it does not know them
 * either, RDMSR/WRMSR raise #GP. Which MSRs exist follows the CpuFeatures that also drive CPUID:
 * SYSENTER_* with SEP, IA32_PAT with PAT, the MTRRs with MTRR, EFER with NX, TSC_AUX with RDTSCP.
 * Memory types (PAT, MTRR) are stored and checked but change nothing: guest RAM has no caches.
 */
import type { Cpu } from './cpu';
import { flushTlb } from './mmu';
import {
  S_MSR_EFER, S_MSR_MISC_ENABLE, S_MSR_PAT_HI, S_MSR_PAT_LO, S_MSR_TSC_AUX, S_MTRR, S_SYSENTER_CS,
  S_SYSENTER_EIP, S_SYSENTER_ESP, S_TSC_OFFSET_F64,
} from './state';

export const MSR_TSC = 0x10;
/** IA32_PLATFORM_ID: read by microcode loaders; 0 here. */
export const MSR_PLATFORM_ID = 0x17;
/** IA32_BIOS_SIGN_ID: the microcode revision (high dword) after WRMSR 0 + CPUID 1; 0 here. */
export const MSR_BIOS_SIGN_ID = 0x8b;
export const MSR_MTRRCAP = 0xfe;
export const MSR_SYSENTER_CS = 0x174;
export const MSR_SYSENTER_ESP = 0x175;
export const MSR_SYSENTER_EIP = 0x176;
export const MSR_MISC_ENABLE = 0x1a0;
/** Variable-range MTRRs: PHYSBASE0, PHYSMASK0, ... PHYSMASK7. */
export const MSR_MTRR_PHYSBASE0 = 0x200;
export const MSR_MTRR_FIX64K = 0x250;
export const MSR_MTRR_FIX16K_80000 = 0x258;
export const MSR_MTRR_FIX16K_A0000 = 0x259;
/** Fixed-range 4K MTRRs 0x268..0x26F. */
export const MSR_MTRR_FIX4K_C0000 = 0x268;
export const MSR_PAT = 0x277;
export const MSR_MTRR_DEF_TYPE = 0x2ff;
export const MSR_EFER = 0xc0000080;
export const MSR_TSC_AUX = 0xc0000103;

/** Variable MTRR pairs; MTRRcap = VCNT | FIX (bit 8) | WC (bit 10). */
const MTRR_VCNT = 8;
const MTRRCAP_VALUE = MTRR_VCNT | (1 << 8) | (1 << 10);
/** State words of the MTRRs: DEF_TYPE, then the 11 fixed ranges, then 16 variable (lo, hi each). */
const MTRR_DEF = 0;
const MTRR_FIXED = 2;
const MTRR_VAR = 24;
/** Fixed-range MSR numbers in their state order. */
const FIXED_MSRS = [
  MSR_MTRR_FIX64K, MSR_MTRR_FIX16K_80000, MSR_MTRR_FIX16K_A0000,
  0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f,
];
/** MTRRdefType bits that may be set: type (7:0), FE (10), E (11). */
const MTRR_DEF_WRITABLE = 0xcff;
/** High-dword bits above MAXPHYADDR (36) are reserved in PHYSBASE/PHYSMASK. */
const PHYS_HI_RSVD = 0xfffffff0 | 0;
/** PHYSBASE low bits that may be set: type (7:0) and the base (31:12). */
const PHYSBASE_LO_WRITABLE = 0xfffff0ff | 0;
/** PHYSMASK low bits that may be set: valid (11) and the mask (31:12). */
const PHYSMASK_LO_WRITABLE = 0xfffff800 | 0;
/** EFER.NXE, the only EFER bit a 32-bit CPU with NX has. */
const EFER_NXE = 1 << 11;

const TWO32 = 4294967296;

/** The guest TSC: host nanoseconds (native mode, 1 GHz) plus the per-VCPU offset. */
export function readTsc(cpu: Cpu): number {
  return Math.floor(cpu.ops.nowNs() + cpu.f64[S_TSC_OFFSET_F64 / 2]);
}

/** Sets the guest TSC to `value` now. */
export function writeTsc(cpu: Cpu, value: number): void {
  cpu.f64[S_TSC_OFFSET_F64 / 2] = value - cpu.ops.nowNs();
}

/** Memory types valid in MTRRs (UC WC WT WP WB) and, with 7 (UC-), in the PAT. */
function mtrrType(t: number): boolean {
  return t === 0 || t === 1 || t === 4 || t === 5 || t === 6;
}
function patByte(t: number): boolean {
  return mtrrType(t) || t === 7;
}

/** State word index of MTRR MSR `index`, or -1. */
function mtrrSlot(index: number): number {
  if (index === MSR_MTRR_DEF_TYPE) return MTRR_DEF;
  const fixed = FIXED_MSRS.indexOf(index);
  if (fixed >= 0) return MTRR_FIXED + fixed * 2;
  if (index >= MSR_MTRR_PHYSBASE0 && index < MSR_MTRR_PHYSBASE0 + 2 * MTRR_VCNT) {
    return MTRR_VAR + (index - MSR_MTRR_PHYSBASE0) * 2;
  }
  return -1;
}

function writeMtrr(cpu: Cpu, index: number, slot: number, lo: number, hi: number): boolean {
  if (index === MSR_MTRR_DEF_TYPE) {
    if ((lo & ~MTRR_DEF_WRITABLE) !== 0 || hi !== 0 || !mtrrType(lo & 0xff)) return false;
  } else if (slot < MTRR_VAR) {
    for (let k = 0; k < 4; k++) if (!mtrrType((lo >>> (8 * k)) & 0xff) || !mtrrType((hi >>> (8 * k)) & 0xff)) return false;
  } else if (((index - MSR_MTRR_PHYSBASE0) & 1) === 0) {
    if ((lo & ~PHYSBASE_LO_WRITABLE) !== 0 || (hi & PHYS_HI_RSVD) !== 0 || !mtrrType(lo & 0xff)) return false;
  } else if ((lo & ~PHYSMASK_LO_WRITABLE) !== 0 || (hi & PHYS_HI_RSVD) !== 0) {
    return false;
  }
  cpu.s[S_MTRR + slot] = lo;
  cpu.s[S_MTRR + slot + 1] = hi;
  return true;
}

/** RDMSR: [low, high], or undefined if the MSR does not exist. */
export function readMsr(cpu: Cpu, index: number): [number, number] | undefined {
  const s = cpu.s;
  const f = cpu.features;
  index >>>= 0;
  switch (index) {
    case MSR_TSC: {
      const t = readTsc(cpu);
      return [t % TWO32 | 0, Math.floor(t / TWO32) | 0];
    }
    case MSR_PLATFORM_ID:
    case MSR_BIOS_SIGN_ID:
      return [0, 0];
    case MSR_SYSENTER_CS:
      return f.sep ? [s[S_SYSENTER_CS], 0] : undefined;
    case MSR_SYSENTER_ESP:
      return f.sep ? [s[S_SYSENTER_ESP], 0] : undefined;
    case MSR_SYSENTER_EIP:
      return f.sep ? [s[S_SYSENTER_EIP], 0] : undefined;
    case MSR_MISC_ENABLE:
      return [s[S_MSR_MISC_ENABLE], 0];
    case MSR_PAT:
      return f.pat ? [s[S_MSR_PAT_LO], s[S_MSR_PAT_HI]] : undefined;
    case MSR_MTRRCAP:
      return f.mtrr ? [MTRRCAP_VALUE, 0] : undefined;
    case MSR_EFER:
      return f.nx ? [s[S_MSR_EFER], 0] : undefined;
    case MSR_TSC_AUX:
      return f.rdtscp ? [s[S_MSR_TSC_AUX], 0] : undefined;
    default: {
      const slot = f.mtrr ? mtrrSlot(index) : -1;
      if (slot >= 0) return [s[S_MTRR + slot], s[S_MTRR + slot + 1]];
      return cpu.ops.rdmsr(index);
    }
  }
}

/** WRMSR: false if the MSR does not exist or the value is refused (#GP). */
export function writeMsr(cpu: Cpu, index: number, lo: number, hi: number): boolean {
  const s = cpu.s;
  const f = cpu.features;
  index >>>= 0;
  switch (index) {
    case MSR_TSC:
      writeTsc(cpu, (hi >>> 0) * TWO32 + (lo >>> 0));
      return true;
    case MSR_BIOS_SIGN_ID:
      return true;
    case MSR_SYSENTER_CS:
    case MSR_SYSENTER_ESP:
    case MSR_SYSENTER_EIP:
      if (!f.sep) return false;
      s[index === MSR_SYSENTER_CS ? S_SYSENTER_CS : index === MSR_SYSENTER_ESP ? S_SYSENTER_ESP : S_SYSENTER_EIP] =
        index === MSR_SYSENTER_CS ? lo & 0xffff : lo;
      return true;
    case MSR_MISC_ENABLE:
      s[S_MSR_MISC_ENABLE] = lo;
      return true;
    case MSR_PAT:
      if (!f.pat) return false;
      for (let k = 0; k < 4; k++) if (!patByte((lo >>> (8 * k)) & 0xff) || !patByte((hi >>> (8 * k)) & 0xff)) return false;
      s[S_MSR_PAT_LO] = lo;
      s[S_MSR_PAT_HI] = hi;
      return true;
    case MSR_EFER:
      if (!f.nx || (lo & ~EFER_NXE) !== 0 || hi !== 0) return false;
      // Execute permissions are cached in the TLB.
      if (lo !== s[S_MSR_EFER]) flushTlb(cpu, false);
      s[S_MSR_EFER] = lo;
      return true;
    case MSR_TSC_AUX:
      if (!f.rdtscp || hi !== 0) return false;
      s[S_MSR_TSC_AUX] = lo;
      return true;
    default: {
      const slot = f.mtrr ? mtrrSlot(index) : -1;
      if (slot >= 0) return writeMtrr(cpu, index, slot, lo, hi);
      return cpu.ops.wrmsr(index, lo, hi);
    }
  }
}

/**
 * Model-specific registers the CPU implements itself; the rest go to the platform (local APIC,
 * Xen's hypercall page) and, if it does not know them either, RDMSR/WRMSR raise #GP.
 */
import type { Cpu } from './cpu';
import {
  S_MSR_EFER, S_MSR_MISC_ENABLE, S_MSR_PAT_HI, S_MSR_PAT_LO, S_MSR_TSC_AUX, S_SYSENTER_CS,
  S_SYSENTER_EIP, S_SYSENTER_ESP, S_TSC_OFFSET_F64,
} from './state';

export const MSR_TSC = 0x10;
export const MSR_SYSENTER_CS = 0x174;
export const MSR_SYSENTER_ESP = 0x175;
export const MSR_SYSENTER_EIP = 0x176;
export const MSR_MISC_ENABLE = 0x1a0;
export const MSR_PAT = 0x277;
export const MSR_EFER = 0xc0000080;
export const MSR_TSC_AUX = 0xc0000103;

const TWO32 = 4294967296;

/** The guest TSC: host nanoseconds (native mode, 1 GHz) plus the per-VCPU offset. */
export function readTsc(cpu: Cpu): number {
  return Math.floor(cpu.ops.nowNs() + cpu.f64[S_TSC_OFFSET_F64 / 2]);
}

/** Sets the guest TSC to `value` now. */
export function writeTsc(cpu: Cpu, value: number): void {
  cpu.f64[S_TSC_OFFSET_F64 / 2] = value - cpu.ops.nowNs();
}

/** RDMSR: [low, high], or undefined if the MSR does not exist. */
export function readMsr(cpu: Cpu, index: number): [number, number] | undefined {
  const s = cpu.s;
  const f = cpu.features;
  switch (index >>> 0) {
    case MSR_TSC: {
      const t = readTsc(cpu);
      return [t % TWO32 | 0, Math.floor(t / TWO32) | 0];
    }
    case MSR_SYSENTER_CS:
      return [s[S_SYSENTER_CS], 0];
    case MSR_SYSENTER_ESP:
      return [s[S_SYSENTER_ESP], 0];
    case MSR_SYSENTER_EIP:
      return [s[S_SYSENTER_EIP], 0];
    case MSR_MISC_ENABLE:
      return [s[S_MSR_MISC_ENABLE], 0];
    case MSR_PAT:
      return f.pat ? [s[S_MSR_PAT_LO], s[S_MSR_PAT_HI]] : undefined;
    case MSR_EFER:
      return f.nx ? [s[S_MSR_EFER], 0] : undefined;
    case MSR_TSC_AUX:
      return f.rdtscp ? [s[S_MSR_TSC_AUX], 0] : undefined;
    default:
      return cpu.ops.rdmsr(index >>> 0);
  }
}

/** WRMSR: false if the MSR does not exist or the value is refused (#GP). */
export function writeMsr(cpu: Cpu, index: number, lo: number, hi: number): boolean {
  const s = cpu.s;
  const f = cpu.features;
  switch (index >>> 0) {
    case MSR_TSC:
      writeTsc(cpu, (hi >>> 0) * TWO32 + (lo >>> 0));
      return true;
    case MSR_SYSENTER_CS:
      s[S_SYSENTER_CS] = lo & 0xffff;
      return true;
    case MSR_SYSENTER_ESP:
      s[S_SYSENTER_ESP] = lo;
      return true;
    case MSR_SYSENTER_EIP:
      s[S_SYSENTER_EIP] = lo;
      return true;
    case MSR_MISC_ENABLE:
      s[S_MSR_MISC_ENABLE] = lo;
      return true;
    case MSR_PAT:
      if (!f.pat) return false;
      s[S_MSR_PAT_LO] = lo;
      s[S_MSR_PAT_HI] = hi;
      return true;
    case MSR_EFER:
      // Only NXE (bit 11) is writable on a 32-bit CPU with NX.
      if (!f.nx || (lo & ~0x800) !== 0 || hi !== 0) return false;
      s[S_MSR_EFER] = lo;
      return true;
    case MSR_TSC_AUX:
      if (!f.rdtscp) return false;
      s[S_MSR_TSC_AUX] = lo;
      return true;
    default:
      return cpu.ops.wrmsr(index >>> 0, lo, hi);
  }
}

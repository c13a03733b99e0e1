/**
 * CPUID: one description of what this CPU implements, from which the CPUID leaves, the CR4 bits
 * that may be set and the MSRs that exist are all derived - so CPUID never claims more than
 * works (SDM Vol. 2 CPUID).
 */
import type { Cpu } from './cpu';
import { CR4_DE, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_PAE, CR4_PCE, CR4_PGE, CR4_PSE, CR4_TSD, CR4_VME, CR4_PVI, CR4_MCE, EAX, EBX, ECX, EDX } from './state';

/** Feature switches of a VCPU. */
export interface CpuFeatures {
  fpu: boolean;
  vme: boolean;
  de: boolean;
  pse: boolean;
  tsc: boolean;
  msr: boolean;
  pae: boolean;
  cx8: boolean;
  /** A local APIC is present (the platform provides it). */
  apic: boolean;
  sep: boolean;
  /** Memory type range registers (MTRRcap, MTRRdefType, fixed and variable ranges). */
  mtrr: boolean;
  pge: boolean;
  cmov: boolean;
  pat: boolean;
  /** CLFLUSH (leaf 1 EDX bit 19; EBX[15:8] gives the line size). */
  clflush: boolean;
  fxsr: boolean;
  sse: boolean;
  sse2: boolean;
  nx: boolean;
  rdtscp: boolean;
  /** Report the hypervisor-present bit (CPUID.1:ECX[31]). */
  hypervisor: boolean;
}

/** What the interpreter implements today. */
export const DEFAULT_FEATURES: CpuFeatures = {
  fpu: true,
  vme: false,
  de: false,
  pse: true,
  tsc: true,
  msr: true,
  pae: true,
  cx8: true,
  apic: false,
  sep: true,
  mtrr: true,
  pge: true,
  cmov: true,
  pat: true,
  clflush: true,
  fxsr: true,
  sse: false,
  sse2: false,
  nx: true,
  rdtscp: true,
  hypervisor: false,
};

/** CLFLUSH line size in 8-byte units (64-byte lines). */
const CLFLUSH_LINE_QWORDS = 8;
/** Family 6, model 15, stepping 11. */
const SIGNATURE = 0x06fb;
const VENDOR = 'GenuineIntel';
const BRAND = 'Domus virtual x86 CPU';
const MAX_BASIC_LEAF = 1;
const MAX_EXT_LEAF = 0x80000004;

function str4(s: string, at: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) v |= (s.charCodeAt(at + k) & 0xff) << (8 * k);
  return v;
}

/** CPUID.1:EDX for a feature set. */
export function leaf1Edx(f: CpuFeatures): number {
  const bits: [boolean, number][] = [
    [f.fpu, 0], [f.vme, 1], [f.de, 2], [f.pse, 3], [f.tsc, 4], [f.msr, 5], [f.pae, 6], [f.cx8, 8],
    [f.apic, 9], [f.sep, 11], [f.mtrr, 12], [f.pge, 13], [f.cmov, 15], [f.pat, 16], [f.clflush, 19], [f.fxsr, 24], [f.sse, 25], [f.sse2, 26],
  ];
  let v = 0;
  for (const [on, bit] of bits) if (on) v |= 1 << bit;
  return v;
}

/** CR4 bits software may set on this CPU; others raise #GP. */
export function cr4Allowed(f: CpuFeatures): number {
  let m = CR4_TSD | CR4_PCE;
  if (f.vme) m |= CR4_VME | CR4_PVI;
  if (f.de) m |= CR4_DE;
  if (f.pse) m |= CR4_PSE;
  if (f.pae) m |= CR4_PAE;
  if (f.pge) m |= CR4_PGE;
  if (f.fxsr) m |= CR4_OSFXSR;
  if (f.sse) m |= CR4_OSXMMEXCPT;
  void CR4_MCE;
  return m;
}

/** Executes CPUID for the leaf in EAX (subleaf ECX). */
export function cpuid(cpu: Cpu, vcpuId: number): void {
  const s = cpu.s;
  let leaf = s[EAX] >>> 0;
  const sub = s[ECX] >>> 0;
  const out = cpu.cpuidOut;
  if (cpu.ops.cpuid(leaf, sub, out)) {
    s[EAX] = out[0];
    s[EBX] = out[1];
    s[ECX] = out[2];
    s[EDX] = out[3];
    return;
  }
  const f = cpu.features;
  // Leaves above the maximum return the highest basic leaf's data (Intel behaviour).
  if ((leaf < 0x80000000 && leaf > MAX_BASIC_LEAF) || leaf > MAX_EXT_LEAF) leaf = MAX_BASIC_LEAF;
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  switch (leaf) {
    case 0:
      a = MAX_BASIC_LEAF;
      b = str4(VENDOR, 0);
      d = str4(VENDOR, 4);
      c = str4(VENDOR, 8);
      break;
    case 1:
      a = SIGNATURE;
      b = ((vcpuId & 0xff) << 24) | (f.clflush ? CLFLUSH_LINE_QWORDS << 8 : 0);
      c = f.hypervisor ? 1 << 31 : 0;
      d = leaf1Edx(f);
      break;
    case 0x80000000:
      a = MAX_EXT_LEAF;
      break;
    case 0x80000001:
      d = (f.nx ? 1 << 20 : 0) | (f.rdtscp ? 1 << 27 : 0);
      break;
    case 0x80000002:
    case 0x80000003:
    case 0x80000004: {
      const brand = BRAND.padEnd(48, '\0');
      const base = (leaf - 0x80000002) * 16;
      a = str4(brand, base);
      b = str4(brand, base + 4);
      c = str4(brand, base + 8);
      d = str4(brand, base + 12);
      break;
    }
    default:
      break;
  }
  s[EAX] = a;
  s[EBX] = b;
  s[ECX] = c;
  s[EDX] = d;
}

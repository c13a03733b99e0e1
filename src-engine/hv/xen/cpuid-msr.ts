/**
 * How a guest finds Xen (arch-x86/cpuid.h) and installs its hypercall page.
 *
 * CPUID 0x40000000-0x40000005 (Xen's leaves at base 0x40000000; every other leaf of the
 * 0x400000xx-0x4000FFxx hypervisor range reads as zeros): signature "XenVMMXenVMM", version,
 * the hypercall-page MSR, the time leaf (a 1 GHz TSC, see shared-info.ts) and the HVM leaf
 * (VCPU id and domain id present, per-VCPU upcall vectors supported).
 *
 * The hypercall page: a WRMSR of the page's guest-physical address to MSR 0x40000000 fills the
 * page with int3 and 128 stubs of 32 bytes, `mov $n, %eax; vmcall; ret` (stub 23, iret, is ud2),
 * and latches the shared_info width. A non-zero page index or an address that is not RAM of the
 * domain makes the WRMSR raise #GP.
 */
import { FRAME_SIZE } from '../memory/machine-memory';
import { XEN_VERSION_MAJOR, XEN_VERSION_MINOR } from './abi/xen-constants';
import { TSC_SHIFT, TSC_TO_SYSTEM_MUL } from './shared-info';
import { touchFrames } from './mem-util';
import type { XenDomain } from './xen-domain';

/** XEN_CPUID_FIRST_LEAF. */
export const XEN_CPUID_BASE = 0x40000000;
/** XEN_CPUID_MAX_NUM_LEAVES: the last leaf is base + 5. */
const XEN_CPUID_MAX_LEAF = 5;
/** End of the hypervisor CPUID range Domus answers (0x40000000-0x4000FFFF). */
const HV_CPUID_END = 0x40010000;
/** XEN_CPUID_SIGNATURE_EBX/ECX/EDX: "XenVMMXenVMM". */
const SIG_EBX = 0x566e6558;
const SIG_ECX = 0x65584d4d;
const SIG_EDX = 0x4d4d566e;
/** The MSR that installs the hypercall page (base+2 EBX). */
export const XEN_HYPERCALL_MSR = 0x40000000;
/** Hypercall pages the guest may install (base+2 EAX). */
const HYPERCALL_PAGES = 1;
/** Time leaf sub-leaf 0 EAX bit 1: the TSC is reliable across VCPUs. */
const TIME_TSC_SAFE = 1 << 1;
/** Guest TSC frequency in kHz (1 GHz). */
const TSC_KHZ = 1_000_000;
/** HVM leaf flags: XEN_HVM_CPUID_VCPU_ID_PRESENT | _DOMID_PRESENT | _UPCALL_VECTOR. */
const HVM_FLAGS = (1 << 3) | (1 << 4) | (1 << 6);

/** Bytes per hypercall stub. */
export const STUB_BYTES = 32;
/** Stubs in the page. */
const STUBS = FRAME_SIZE / STUB_BYTES;
/** __HYPERVISOR_iret: its stub is ud2. */
const IRET_HYPERCALL = 23;
/** Instruction bytes. */
const INT3 = 0xcc;
const MOV_EAX_IMM32 = 0xb8;
const VMCALL = [0x0f, 0x01, 0xc1];
const RET = 0xc3;
const UD2 = [0x0f, 0x0b];

/**
 * Xen's CPUID leaves. Fills `out` (EAX, EBX, ECX, EDX) and returns true for leaves in the
 * hypervisor range; false for every other leaf (the CPU answers those).
 */
export function xenCpuid(leaf: number, subleaf: number, out: Int32Array, domid: number, vcpu: number): boolean {
  const l = leaf >>> 0;
  if (l < XEN_CPUID_BASE || l >= HV_CPUID_END) return false;
  out.fill(0);
  switch (l - XEN_CPUID_BASE) {
    case 0:
      out[0] = XEN_CPUID_BASE + XEN_CPUID_MAX_LEAF;
      out[1] = SIG_EBX;
      out[2] = SIG_ECX;
      out[3] = SIG_EDX;
      break;
    case 1:
      out[0] = (XEN_VERSION_MAJOR << 16) | XEN_VERSION_MINOR;
      break;
    case 2:
      out[0] = HYPERCALL_PAGES;
      out[1] = XEN_HYPERCALL_MSR;
      break;
    case 3:
      if (subleaf === 0) {
        out[0] = TIME_TSC_SAFE;
        out[2] = TSC_KHZ;
      } else if (subleaf === 1) {
        out[2] = TSC_TO_SYSTEM_MUL | 0;
        out[3] = TSC_SHIFT;
      } else if (subleaf === 2) {
        out[2] = TSC_KHZ;
      }
      break;
    case 4:
      if (subleaf === 0) {
        out[0] = HVM_FLAGS;
        out[1] = vcpu;
        out[2] = domid;
      }
      break;
    default:
      break;
  }
  return true;
}

/** Writes the hypercall stubs into the page at machine offset `base`. */
export function fillHypercallPage(mem8: Uint8Array, base: number): void {
  mem8.fill(INT3, base, base + FRAME_SIZE);
  for (let n = 0; n < STUBS; n++) {
    const at = base + n * STUB_BYTES;
    if (n === IRET_HYPERCALL) {
      mem8.set(UD2, at);
      continue;
    }
    mem8[at] = MOV_EAX_IMM32;
    mem8[at + 1] = n;
    mem8[at + 2] = 0;
    mem8[at + 3] = 0;
    mem8[at + 4] = 0;
    mem8.set(VMCALL, at + 5);
    mem8[at + 8] = RET;
  }
}

/**
 * WRMSR 0x40000000 from VCPU `v`: installs the hypercall page. Returns false (the CPU raises
 * #GP) for a non-zero page index or a page that is not the domain's RAM.
 */
export function writeHypercallMsr(dom: XenDomain, v: number, lo: number, hi: number): boolean {
  const index = lo & (FRAME_SIZE - 1);
  const gfn = (hi >>> 0) * (2 ** 20) + (lo >>> 12);
  if (index >= HYPERCALL_PAGES || !dom.physmap.isOwnRam(gfn)) return false;
  const base = dom.physmap.frameAt(gfn) * FRAME_SIZE;
  const pool = dom.memory.pool;
  fillHypercallPage(pool.mem8, base);
  touchFrames(pool.codeMark, pool.codeGen, base, FRAME_SIZE);
  dom.latchWidth(v);
  return true;
}

/**
 * The shared_info page and vcpu_info records (xen.h, arch-x86/xen-x86_32.h, xen-x86_64.h): the
 * 2-level event channel bitmaps, the wall clock and each VCPU's vcpu_time_info.
 *
 * Design. The page is a frame the hypervisor owns from domain creation (as in Xen, where events
 * raised before the guest maps it still land in it); XENMEM_add_to_physmap only makes it visible
 * at a guest frame. Its layout width (32 or 64 bit, SHARED_INFO in abi/layouts.ts) is latched
 * when the guest writes the hypercall-page MSR or sets HVM_PARAM_CALLBACK_IRQ.
 *
 * Time. The guest TSC is host monotonic nanoseconds plus a per-VCPU offset (cpu/msr.ts readTsc),
 * i.e. 1 GHz, so vcpu_time_info uses tsc_shift = 1 and tsc_to_system_mul = 2^31:
 * ((delta << 1) * 2^31) >> 32 = delta. System time is nanoseconds since the domain's time base.
 *
 * Concurrency. The guest reads and writes these words concurrently from any pCPU. Event bits are
 * changed only with Atomics (locked RMW, as Xen's set_bit); time records follow the version
 * protocol (odd while being written).
 */
import { SHARED_INFO, VCPU_INFO, type GuestWidth } from './abi/layouts';

/** tsc_shift for a 1 GHz TSC. */
export const TSC_SHIFT = 1;
/** tsc_to_system_mul for a 1 GHz TSC with TSC_SHIFT (2^31). */
export const TSC_TO_SYSTEM_MUL = 0x80000000;
/** XEN_PVCLOCK_TSC_STABLE_BIT: the TSC is synchronised across VCPUs (one host clock). */
export const PVCLOCK_TSC_STABLE = 1;
/** Size of struct vcpu_info. */
export const VCPU_INFO_BYTES = 64;

const TWO32 = 4294967296;

/** Ports the 2-level ABI can name at a width (sizeof(xen_ulong_t) * 8 squared). */
export function evtchn2lPorts(width: GuestWidth): number {
  return width === 32 ? 1024 : 4096;
}

/** The shared frame of one domain, as machine memory views plus its layout width. */
export class SharedInfoPage {
  width: GuestWidth = 32;

  constructor(
    private readonly mem8: Uint8Array,
    private readonly mem32: Int32Array,
    /** Machine byte offset of the page. */
    readonly base: number,
  ) {}

  /** Machine offset of vcpu_info[v] inside this page (v < XEN_LEGACY_MAX_VCPUS). */
  vcpuInfoOffset(v: number): number {
    return this.base + v * VCPU_INFO_BYTES;
  }

  private field(name: keyof typeof SHARED_INFO.fields): number {
    const f = SHARED_INFO.fields[name];
    return this.base + (this.width === 32 ? f.off32 : f.off64);
  }

  /** Zeroes the page. */
  clear(): void {
    this.mem8.fill(0, this.base, this.base + 4096);
  }

  /** Word index (in mem32) and bit of `port` in a bitmap starting at machine offset `bitmap`. */
  private static wordOf(bitmap: number, port: number): number {
    return (bitmap >> 2) + (port >>> 5);
  }

  /** Atomically sets the pending bit of `port`; returns its previous value. */
  testAndSetPending(port: number): boolean {
    const bit = 1 << (port & 31);
    return (Atomics.or(this.mem32, SharedInfoPage.wordOf(this.field('evtchnPending'), port), bit) & bit) !== 0;
  }

  /** Atomically clears the pending bit of `port`. */
  clearPending(port: number): void {
    Atomics.and(this.mem32, SharedInfoPage.wordOf(this.field('evtchnPending'), port), ~(1 << (port & 31)));
  }

  isPending(port: number): boolean {
    return (Atomics.load(this.mem32, SharedInfoPage.wordOf(this.field('evtchnPending'), port)) & (1 << (port & 31))) !== 0;
  }

  isMasked(port: number): boolean {
    return (Atomics.load(this.mem32, SharedInfoPage.wordOf(this.field('evtchnMask'), port)) & (1 << (port & 31))) !== 0;
  }

  /** Atomically sets the mask bit of `port`. */
  setMask(port: number): void {
    Atomics.or(this.mem32, SharedInfoPage.wordOf(this.field('evtchnMask'), port), 1 << (port & 31));
  }

  /** Atomically clears the mask bit of `port`. */
  clearMask(port: number): void {
    Atomics.and(this.mem32, SharedInfoPage.wordOf(this.field('evtchnMask'), port), ~(1 << (port & 31)));
  }

  /**
   * Sets selector bit port / bits-per-word in the vcpu_info at machine offset `vi`; returns its
   * previous value.
   */
  testAndSetSelector(vi: number, port: number): boolean {
    const f = VCPU_INFO.fields.pendingSel;
    const sel = vi + (this.width === 32 ? f.off32 : f.off64);
    const b = this.width === 32 ? port >>> 5 : port >>> 6;
    const bit = 1 << (b & 31);
    return (Atomics.or(this.mem32, (sel >> 2) + (b >>> 5), bit) & bit) !== 0;
  }

  /** Writes the wall clock (time of day at system time 0) with the version protocol. */
  writeWallclock(sec: number, nsec: number): void {
    const ver = this.field('wcVersion') >> 2;
    const v = Atomics.add(this.mem32, ver, 1) + 1;
    Atomics.store(this.mem32, this.field('wcSec') >> 2, sec % TWO32 | 0);
    Atomics.store(this.mem32, this.field('wcNsec') >> 2, nsec | 0);
    Atomics.store(this.mem32, this.field('wcSecHi') >> 2, Math.floor(sec / TWO32) | 0);
    Atomics.store(this.mem32, ver, (v + 1) | 0);
  }
}

/** Reads upcall_pending of the vcpu_info at machine offset `vi`. */
export function upcallPending(mem8: Uint8Array, vi: number): boolean {
  return Atomics.load(mem8, vi) !== 0;
}

/** Sets upcall_pending of the vcpu_info at `vi`; returns its previous value. */
export function testAndSetUpcallPending(mem8: Uint8Array, vi: number): boolean {
  return Atomics.exchange(mem8, vi, 1) !== 0;
}

/**
 * Writes vcpu_time_info in the vcpu_info at machine offset `vi` (same layout at both widths):
 * `tsc` is the VCPU's TSC and `systemNs` the system time at the same instant.
 */
export function writeVcpuTime(mem32: Int32Array, mem8: Uint8Array, vi: number, tsc: number, systemNs: number): void {
  const f = VCPU_INFO.fields;
  const ver = (vi + f.timeVersion.off32) >> 2;
  const v = (Atomics.load(mem32, ver) | 1) >>> 0;
  Atomics.store(mem32, ver, v | 0);
  const put64 = (off: number, x: number): void => {
    const w = (vi + off) >> 2;
    Atomics.store(mem32, w, x % TWO32 | 0);
    Atomics.store(mem32, w + 1, Math.floor(x / TWO32) | 0);
  };
  put64(f.tscTimestamp.off32, Math.max(0, Math.floor(tsc)));
  put64(f.systemTime.off32, Math.max(0, Math.floor(systemNs)));
  Atomics.store(mem32, (vi + f.tscToSystemMul.off32) >> 2, TSC_TO_SYSTEM_MUL | 0);
  mem8[vi + f.tscShift.off32] = TSC_SHIFT;
  mem8[vi + f.timeFlags.off32] = PVCLOCK_TSC_STABLE;
  Atomics.store(mem32, ver, (v + 1) | 0);
}

/**
 * The only way the CPU reaches the world outside its registers and guest RAM. The same
 * interpreter runs under the unit-test harness (ops implemented in-process) and in a pCPU worker
 * (ops forward to the hypervisor thread over shared memory). Guest RAM itself is read directly
 * through PhysMemory for speed; everything else - port I/O, MMIO, platform MSRs, extra CPUID
 * leaves, hypercalls, interrupts, time - goes through CpuOps.
 */

/** Access width in bytes. */
export type AccessSize = 1 | 2 | 4;

/** What the CPU needs from the platform. */
export interface CpuOps {
  /** IN: returns the zero-extended value read from `port`. */
  ioRead(port: number, size: AccessSize): number;
  /** OUT. */
  ioWrite(port: number, size: AccessSize, value: number): void;
  /** A read of guest-physical `addr` that is not RAM (MMIO or an unpopulated hole). */
  mmioRead(addr: number, size: AccessSize): number;
  /** A write of guest-physical `addr` that is not RAM. */
  mmioWrite(addr: number, size: AccessSize, value: number): void;
  /**
   * Platform MSRs (local APIC, Xen's hypercall page, ...). Returns [low, high] or undefined if
   * the MSR does not exist on this platform (the CPU then raises #GP).
   */
  rdmsr(index: number): [number, number] | undefined;
  /** Returns false if the MSR does not exist or refuses the value (the CPU then raises #GP). */
  wrmsr(index: number, low: number, high: number): boolean;
  /**
   * Platform CPUID leaves (e.g. Xen's 0x40000000 range). Fill `out` with EAX, EBX, ECX, EDX and
   * return true, or return false to let the CPU answer from its own table.
   */
  cpuid(leaf: number, subleaf: number, out: Int32Array): boolean;
  /**
   * VMCALL/VMMCALL: a hypercall (registers are read and written through the Cpu). Returns false
   * if this platform has no hypercall interface (the instruction then raises #UD).
   */
  hypercall(): boolean;
  /**
   * The INTA cycle: the vector of the highest-priority pending external interrupt, or -1 if the
   * request went away (spurious).
   */
  acknowledgeInterrupt(): number;
  /**
   * Called when the attention word is non-zero (a preemption, an interrupt, a request from the
   * hypervisor). Returns true if the CPU must return from run() now.
   */
  attention(): boolean;
  /** Monotonic host time in nanoseconds (RDTSC in native TSC mode derives from it). */
  nowNs(): number;
}

/**
 * Ops for a Cpu that never meets the outside world: one that only walks page tables, resets a
 * state block or primes the interpreter. Port and MMIO reads give 0, writes vanish, there are no
 * platform MSRs, extra CPUID leaves, hypercalls or interrupts, and time stands still. Override
 * what a user needs with a spread.
 */
export const INERT_CPU_OPS: CpuOps = {
  ioRead: () => 0,
  ioWrite: () => {},
  mmioRead: () => 0,
  mmioWrite: () => {},
  rdmsr: () => undefined,
  wrmsr: () => false,
  cpuid: () => false,
  hypercall: () => false,
  acknowledgeInterrupt: () => -1,
  attention: () => false,
  nowNs: () => 0,
};

/**
 * Guest memory as the CPU's MMU sees it. All arrays are views over shared memory so every pCPU
 * worker sees the same bytes.
 */
export interface PhysMemory {
  /** All of machine memory. Machine byte offsets are below 2^31. */
  readonly mem8: Uint8Array;
  readonly mem16: Uint16Array;
  readonly mem32: Int32Array;
  /**
   * The domain's P2M: entry g holds (machine frame number + 1) of guest frame g, or 0 when the
   * guest frame is not RAM (MMIO or unpopulated). Guest frames beyond its length are not RAM.
   */
  readonly p2m: Int32Array;
  /**
   * Per machine frame: non-zero if some worker may hold decoded code from it (writes must
   * invalidate); the CPU sets bit k for the frame's k-th 512-byte chunk (code-marks.ts). Other
   * writers may treat any non-zero value as "holds code" and clear the whole byte.
   */
  readonly codeMark: Uint8Array;
  /**
   * Per machine frame: bumped whenever a marked part of a frame is written; decoded blocks
   * remember it (and are compared with memory again when it moved, code-marks.ts).
   */
  readonly codeGen: Int32Array;
}

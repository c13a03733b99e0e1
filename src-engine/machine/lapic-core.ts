/**
 * Local APIC logic shared by both threads that touch a local APIC region (lapic-regs.ts): the
 * priority rules, accepting an interrupt into IRR, the pending-interrupt test the CPU's interrupt
 * window asks, and the power-up / INIT reset.
 *
 * References: Intel SDM Vol. 3A 10.8.3.1 (TPR, PPR: "processor priority class"), 10.8.4
 * (interrupt acceptance: IRR, TMR set on acceptance), 10.8.1 ExtINT bypasses the priority logic,
 * 10.4.7.1/10.4.7.3 (power-up and INIT reset values), 10.5.3 (ESR and the LVT error interrupt).
 *
 * Concurrency: see lapic-regs.ts. Functions here that the hypervisor thread calls on a VCPU
 * another pCPU may be running (lapicAcceptVector, lapicRaiseError) touch only Atomics words;
 * the reads of pCPU-owned words (TPR, ISR, SVR, LVT) are Atomics loads, good enough for a
 * decision the pCPU re-takes at its next event check.
 */
import {
  APIC_BASE_BSP, APIC_BASE_ENABLE, APIC_DEFAULT_BASE, APIC_ID_SHIFT, DELIVERY_MODE_MASK, DELIVERY_MODE_SHIFT,
  DFR_MODEL_MASK, DFR_RESERVED_ONES, DM_EXTINT, ESR_RECEIVE_ILLEGAL_VECTOR, FEATURE_TSC_DEADLINE, FIRST_LEGAL_VECTOR,
  LAPIC_REGION_WORDS, LVT_MASKED, REGISTER_WORDS, SVR_APIC_ENABLED, SVR_RESET, VECTOR_MASK, VECTOR_WORDS,
  W_APIC_BASE_HI, W_APIC_BASE_LO, W_DFR, W_ESR_PENDING, W_EXTINT_REQ, W_FEATURES, W_ID, W_IRR, W_ISR,
  W_LINT_LEVELS, W_LVT_ERROR, W_LVT_LINT0, W_LVT_LINT1, W_LVT_PERF, W_LVT_THERMAL, W_LVT_TIMER, W_NMI_PENDING,
  W_STARTUP, W_SVR, W_TMR, W_TPR, W_VCPU,
} from './lapic-regs';
import { timerDisarm } from './lapic-timer';

/** Priority class of a vector or priority value: bits 7-4. */
const PRIORITY_CLASS_SHIFT = 4;
/** The class part of a priority value. */
const PRIORITY_CLASS_MASK = 0xf0;
/** Bits per IRR/ISR/TMR word. */
const VECTOR_WORD_SHIFT = 5;
const VECTOR_BIT_MASK = 31;
/** The LINT0 input level bit of W_LINT_LEVELS. */
export const LINT0_LEVEL = 1;
/** The LINT1 input level bit of W_LINT_LEVELS. */
export const LINT1_LEVEL = 2;
/** The LVT entries, in register order (masked together when the APIC is software-disabled). */
export const LVT_WORDS: readonly number[] = [W_LVT_TIMER, W_LVT_THERMAL, W_LVT_PERF, W_LVT_LINT0, W_LVT_LINT1, W_LVT_ERROR];

/** Highest vector set in the 8-word bit array starting at `w`, or -1 (Atomics loads). */
export function highestVector(r: Int32Array, w: number): number {
  for (let i = VECTOR_WORDS - 1; i >= 0; i--) {
    const bits = Atomics.load(r, w + i);
    if (bits !== 0) return (i << VECTOR_WORD_SHIFT) + 31 - Math.clz32(bits);
  }
  return -1;
}

/** True if `vector`'s bit is set in the bit array at `w`. */
export function vectorBit(r: Int32Array, w: number, vector: number): boolean {
  return (Atomics.load(r, w + (vector >>> VECTOR_WORD_SHIFT)) & (1 << (vector & VECTOR_BIT_MASK))) !== 0;
}

/** Sets (Atomics.or) or clears (Atomics.and) `vector`'s bit in the bit array at `w`. */
export function setVectorBit(r: Int32Array, w: number, vector: number, on: boolean): void {
  const bit = 1 << (vector & VECTOR_BIT_MASK);
  const word = w + (vector >>> VECTOR_WORD_SHIFT);
  if (on) Atomics.or(r, word, bit);
  else Atomics.and(r, word, ~bit);
}

/** Processor priority (SDM 10.8.3.1): the TPR, or the class of the highest in-service vector. */
export function lapicPpr(r: Int32Array): number {
  const tpr = Atomics.load(r, W_TPR) & VECTOR_MASK;
  const isrv = Math.max(highestVector(r, W_ISR), 0);
  return tpr >>> PRIORITY_CLASS_SHIFT >= isrv >>> PRIORITY_CLASS_SHIFT ? tpr : isrv & PRIORITY_CLASS_MASK;
}

/** True while IA32_APIC_BASE has the global enable bit. */
export function lapicHardwareEnabled(r: Int32Array): boolean {
  return (Atomics.load(r, W_APIC_BASE_LO) & APIC_BASE_ENABLE) !== 0;
}

/** True while the APIC is hardware-enabled and software-enabled (SVR bit 8). */
export function lapicSoftwareEnabled(r: Int32Array): boolean {
  return lapicHardwareEnabled(r) && (Atomics.load(r, W_SVR) & SVR_APIC_ENABLED) !== 0;
}

/**
 * The vector the local APIC would present to the CPU now (highest IRR vector whose priority class
 * is above the PPR's), or -1. Interrupts wait in IRR while the APIC is software-disabled.
 */
export function lapicPendingVector(r: Int32Array): number {
  if (!lapicSoftwareEnabled(r)) return -1;
  const irrv = highestVector(r, W_IRR);
  if (irrv < 0) return -1;
  return irrv >>> PRIORITY_CLASS_SHIFT > lapicPpr(r) >>> PRIORITY_CLASS_SHIFT ? irrv : -1;
}

/**
 * True if the 8259's INTR reaches this CPU as ExtINT: LINT0 is high and either the APIC is
 * hardware-disabled (LINT0 is then the plain INTR pin) or LINT0 is an unmasked ExtINT entry
 * (virtual wire mode, as a PC BIOS leaves the BSP); or an ExtINT message from the IOAPIC waits.
 */
export function lapicExtIntPending(r: Int32Array): boolean {
  if (Atomics.load(r, W_EXTINT_REQ) !== 0) return true;
  if ((Atomics.load(r, W_LINT_LEVELS) & LINT0_LEVEL) === 0) return false;
  if (!lapicHardwareEnabled(r)) return true;
  const lvt = Atomics.load(r, W_LVT_LINT0);
  return (lvt & LVT_MASKED) === 0 && ((lvt >>> DELIVERY_MODE_SHIFT) & DELIVERY_MODE_MASK) === DM_EXTINT;
}

/**
 * True if a rising LINT0 (the 8259's INTR) would reach this CPU as ExtINT: the APIC is
 * hardware-disabled, or LINT0 is an unmasked ExtINT entry. For a timer tick a pCPU takes by itself
 * (docs/architecture.md, "Timer interrupts on the pCPU").
 */
export function lapicLint0IsExtInt(r: Int32Array): boolean {
  if (!lapicHardwareEnabled(r)) return true;
  const lvt = Atomics.load(r, W_LVT_LINT0);
  return (lvt & LVT_MASKED) === 0 && ((lvt >>> DELIVERY_MODE_SHIFT) & DELIVERY_MODE_MASK) === DM_EXTINT;
}

/** True while LINT0 is high. */
export function lapicLint0High(r: Int32Array): boolean {
  return (Atomics.load(r, W_LINT_LEVELS) & LINT0_LEVEL) !== 0;
}

/**
 * The CPU's interrupt window asks this: is a maskable interrupt (APIC vector or ExtINT) waiting?
 * Hook it into the CPU's event check (instead of the INTR line) for VCPUs with a local APIC.
 */
export function lapicHasInterrupt(r: Int32Array): boolean {
  return lapicPendingVector(r) >= 0 || lapicExtIntPending(r);
}

/** True if an NMI was sent to this VCPU and not yet taken (lapicTakeNmis). */
export function lapicHasNmi(r: Int32Array): boolean {
  return Atomics.load(r, W_NMI_PENDING) !== 0;
}

/** True if an INIT or SIPI waits to be applied to the VCPU (lapicApplyStartup). */
export function lapicStartupPending(r: Int32Array): boolean {
  return Atomics.load(r, W_STARTUP) !== 0;
}

/**
 * Records errors in ESR (latched at the next ESR write) and raises the LVT error interrupt if it
 * is unmasked.
 */
export function lapicRaiseError(r: Int32Array, bits: number): void {
  Atomics.or(r, W_ESR_PENDING, bits);
  const lvt = Atomics.load(r, W_LVT_ERROR);
  if ((lvt & LVT_MASKED) === 0) acceptLegal(r, lvt & VECTOR_MASK, false);
}

/**
 * Accepts a fixed interrupt into IRR (SDM 10.8.4): TMR records the trigger mode, then the IRR bit
 * is set. Vectors 0-15 are refused with ESR "receive illegal vector". Returns true if accepted.
 * Safe from any thread (Atomics only).
 */
export function lapicAcceptVector(r: Int32Array, vector: number, level: boolean): boolean {
  vector &= VECTOR_MASK;
  if (vector < FIRST_LEGAL_VECTOR) {
    lapicRaiseError(r, ESR_RECEIVE_ILLEGAL_VECTOR);
    return false;
  }
  return acceptLegal(r, vector, level);
}

function acceptLegal(r: Int32Array, vector: number, level: boolean): boolean {
  if (vector < FIRST_LEGAL_VECTOR) return false;
  setVectorBit(r, W_TMR, vector, level);
  setVectorBit(r, W_IRR, vector, true);
  return true;
}

/** Identity of a local APIC at power-up. */
export interface LapicIdentity {
  /** VCPU index (also the initial APIC ID). */
  vcpu: number;
  /** APIC ID (default: the VCPU index). */
  apicId?: number;
  /** Bootstrap processor (APIC base bit 8). Default: VCPU 0. */
  bsp?: boolean;
  /** Advertise and allow the TSC-deadline timer mode (CPUID.1:ECX[24] must say so too). */
  tscDeadline?: boolean;
}

/** Puts a region into the power-up state (SDM 10.4.7.1): APIC enabled at 0xFEE00000, SVR 0xFF. */
export function lapicPowerOn(r: Int32Array, id: LapicIdentity): void {
  for (let w = 0; w < LAPIC_REGION_WORDS; w++) Atomics.store(r, w, 0);
  Atomics.store(r, W_VCPU, id.vcpu);
  Atomics.store(r, W_FEATURES, id.tscDeadline ? FEATURE_TSC_DEADLINE : 0);
  Atomics.store(r, W_ID, ((id.apicId ?? id.vcpu) & VECTOR_MASK) << APIC_ID_SHIFT);
  const bsp = id.bsp ?? id.vcpu === 0;
  Atomics.store(r, W_APIC_BASE_LO, APIC_DEFAULT_BASE | APIC_BASE_ENABLE | (bsp ? APIC_BASE_BSP : 0));
  Atomics.store(r, W_APIC_BASE_HI, 0);
  lapicResetRegisters(r);
}

/**
 * INIT reset (SDM 10.4.7.3): every register to its power-up value except the APIC ID and
 * IA32_APIC_BASE; pending NMIs and startup requests are dropped with the rest.
 */
export function lapicResetRegisters(r: Int32Array): void {
  const id = Atomics.load(r, W_ID);
  for (let w = 0; w < REGISTER_WORDS; w++) Atomics.store(r, w, 0);
  Atomics.store(r, W_ID, id);
  Atomics.store(r, W_DFR, DFR_MODEL_MASK | DFR_RESERVED_ONES);
  Atomics.store(r, W_SVR, SVR_RESET);
  for (const w of LVT_WORDS) Atomics.store(r, w, LVT_MASKED);
  Atomics.store(r, W_ESR_PENDING, 0);
  Atomics.store(r, W_NMI_PENDING, 0);
  Atomics.store(r, W_EXTINT_REQ, 0);
  timerDisarm(r);
}

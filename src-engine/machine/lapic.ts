/**
 * The local APIC as the pCPU running its VCPU sees it: register reads and writes of the APIC's
 * MMIO page, the CPU's interrupt acknowledge and EOI, IA32_APIC_BASE and IA32_TSC_DEADLINE. None
 * of this is a VM exit: the functions work on the VCPU's shared local APIC region (lapic-regs.ts).
 * What the pCPU cannot finish alone comes back as effect bits for the runtime:
 *   LAPIC_EFFECT_RECHECK  pending-interrupt state may have changed: re-run lapicHasInterrupt
 *   LAPIC_EFFECT_TIMER    timer reprogrammed: ring the hypervisor's doorbell so it re-reads deadlines
 *   LAPIC_EFFECT_IPI      `out.ipi` holds an IPI for the hypervisor thread (LapicBus.deliverIpi)
 *   LAPIC_EFFECT_EOI      EOI of a level-triggered vector: `out.eoiVector` goes to the IOAPIC(s)
 *
 * References: Intel SDM Vol. 3A ch. 10: 10.4.4 (IA32_APIC_BASE), 10.5.1 (LVT), 10.5.3 (ESR),
 * 10.5.4.1 (TSC-deadline), 10.6.1 (ICR), 10.8.3 (TPR/PPR), 10.8.5 (EOI), 10.9 (spurious
 * interrupt), 10.12 (x2APIC: not advertised here, so its MSRs raise #GP). QEMU hw/intc/apic.c
 * for guest-visible details (reserved registers read 0 and set ESR bit 7).
 *
 * What is advertised: xAPIC version 0x14 with six LVT entries (no CMCI), no x2APIC, no EOI
 * broadcast suppression, TSC-deadline only if the region was created with tscDeadline (the CPU's
 * CPUID.1:ECX[24] must then say so).
 */
import {
  lapicAcceptVector, lapicExtIntPending, lapicHardwareEnabled, lapicPendingVector, lapicPpr, lapicRaiseError,
  lapicResetRegisters, lapicSoftwareEnabled, highestVector, setVectorBit, vectorBit, LVT_WORDS,
} from './lapic-core';
import {
  APIC_APR, APIC_BASE_ADDR_MASK, APIC_BASE_BSP, APIC_BASE_ENABLE, APIC_BASE_EXTD, APIC_DFR, APIC_EOI, APIC_ESR,
  APIC_ICR_HIGH, APIC_ICR_LOW, APIC_ID, APIC_IRR, APIC_ISR, APIC_LDR, APIC_LVT_ERROR, APIC_LVT_LINT0, APIC_LVT_LINT1,
  APIC_LVT_PERF, APIC_LVT_THERMAL, APIC_LVT_TIMER, APIC_PAGE_BYTES, APIC_PPR, APIC_REG_STRIDE, APIC_RRD, APIC_SVR,
  APIC_TIMER_CURRENT, APIC_TIMER_DIVIDE, APIC_TIMER_INITIAL, APIC_TMR, APIC_TPR, APIC_VERSION, APIC_VERSION_VALUE,
  DELIVERY_MODE_MASK, DELIVERY_MODE_SHIFT, DFR_RESERVED_ONES, DM_EXTINT, DM_FIXED, DM_INIT, DM_LOWEST_PRIORITY, DM_NMI,
  ESR_ILLEGAL_REGISTER, ESR_SEND_ILLEGAL_VECTOR, FEATURE_TSC_DEADLINE, FIRST_LEGAL_VECTOR, ICR_LEVEL_ASSERT,
  ICR_LOW_WRITABLE, ICR_SHORTHAND_MASK, ICR_SHORTHAND_SHIFT, LVT_ERROR_WRITABLE, LVT_LINT_WRITABLE,
  LVT_LOCAL_WRITABLE, LVT_MASKED, LVT_REMOTE_IRR, LVT_TIMER_TSC_DEADLINE_BIT, LVT_TIMER_WRITABLE,
  MSR_IA32_APIC_BASE, MSR_IA32_TSC_DEADLINE, MSR_X2APIC_FIRST, MSR_X2APIC_LAST, SHORTHAND_SELF, SVR_APIC_ENABLED,
  SVR_WRITABLE, TIMER_DIVIDE_WRITABLE, TRIGGER_LEVEL, VECTOR_MASK, VECTOR_WORDS, W_APIC_BASE_HI, W_APIC_BASE_LO,
  W_DFR, W_ESR, W_ESR_PENDING, W_EXTINT_REQ, W_FEATURES, W_ICR_HIGH, W_ICR_LOW, W_ID, W_IRR, W_ISR, W_LDR,
  W_LVT_ERROR, W_LVT_LINT0, W_LVT_LINT1, W_LVT_PERF, W_LVT_THERMAL, W_LVT_TIMER, W_SVR,
  W_TMR, W_TPR, W_VCPU,
} from './lapic-regs';
import {
  newTimerParams, readTimerParams, timerCurrentCount, timerLoadCount, timerSetDivide, timerSetLvt,
  timerSetTscDeadline, timerTscDeadline,
} from './lapic-timer';

/** Nothing for the runtime to do. */
export const LAPIC_EFFECT_NONE = 0;
/** The pending-interrupt state may have changed (TPR, EOI, SVR, LINT0, self IPI). */
export const LAPIC_EFFECT_RECHECK = 1;
/** The timer was reprogrammed: the hypervisor thread must re-read this APIC's deadline. */
export const LAPIC_EFFECT_TIMER = 2;
/** An IPI for other VCPUs (or INIT/SIPI/NMI) waits in `out.ipi`. */
export const LAPIC_EFFECT_IPI = 4;
/** A level-triggered interrupt ended: broadcast `out.eoiVector` to the IOAPICs. */
export const LAPIC_EFFECT_EOI = 8;
/** lapicWriteMsr: the MSR does not exist or refuses the value (the CPU raises #GP). */
export const LAPIC_MSR_FAULT = -1;
/** lapicAcknowledge: the interrupt is an ExtINT; run the 8259's INTA cycle for the vector. */
export const LAPIC_ACK_EXTINT = -2;

/** Bytes in a register (the rest of each 16-byte slot is reserved). */
const REG_BYTES = 4;
/** Bits per byte. */
const BYTE_BITS = 8;
/** ID, LDR and ICR high keep bits 31-24. */
const HIGH_BYTE_MASK = 0xff000000 | 0;
/** Reserved bits of IA32_APIC_BASE's low half: 7-0 and 9 (and EXTD without x2APIC). */
const APIC_BASE_RESERVED = 0x2ff | APIC_BASE_EXTD;
/** Two words make an MSR value. */
const TWO32 = 4294967296;
/** Value a BIOS leaves in LVT LINT0 of the BSP: ExtINT, level (SeaBIOS smp_setup). */
export const BIOS_LVT_LINT0 = (DM_EXTINT << DELIVERY_MODE_SHIFT) | TRIGGER_LEVEL;
/** Value a BIOS leaves in LVT LINT1 of the BSP: NMI, level (SeaBIOS smp_setup). */
export const BIOS_LVT_LINT1 = (DM_NMI << DELIVERY_MODE_SHIFT) | TRIGGER_LEVEL;

/** An interprocessor interrupt as data: the ICR the guest wrote and the sending VCPU. */
export interface LapicIpi {
  icrLow: number;
  icrHigh: number;
  /** VCPU index of the sender (for the "all excluding self" and "self" shorthands). */
  source: number;
}

/** Where lapicMmioWrite / lapicWriteMsr leave the details of their effects. */
export interface LapicWriteOut {
  ipi: LapicIpi;
  eoiVector: number;
}

/** A fresh `out` object (reuse one per pCPU). */
export function newLapicWriteOut(): LapicWriteOut {
  return { ipi: { icrLow: 0, icrHigh: 0, source: 0 }, eoiVector: -1 };
}

/** Guest-physical base of the APIC's MMIO page (IA32_APIC_BASE bits 31-12). */
export function lapicMmioBase(r: Int32Array): number {
  return (Atomics.load(r, W_APIC_BASE_LO) & APIC_BASE_ADDR_MASK) >>> 0;
}

/** True if guest-physical `addr` falls in this (hardware-enabled) APIC's MMIO page. */
export function lapicClaims(r: Int32Array, addr: number): boolean {
  if (!lapicHardwareEnabled(r)) return false;
  const base = lapicMmioBase(r);
  return addr >>> 0 >= base && addr >>> 0 < base + APIC_PAGE_BYTES;
}

// ---- Register reads -------------------------------------------------------------------------------

const timerScratch = newTimerParams();

/** Value of the register at `offset` (multiple of 16), or undefined for a reserved offset. */
function readRegister(r: Int32Array, offset: number, now: number): number | undefined {
  if (offset >= APIC_ISR && offset < APIC_IRR + VECTOR_WORDS * APIC_REG_STRIDE) {
    return Atomics.load(r, offset >>> 4); // ISR, TMR, IRR
  }
  switch (offset) {
    case APIC_ID:
    case APIC_TPR:
    case APIC_LDR:
    case APIC_SVR:
    case APIC_ESR:
    case APIC_ICR_HIGH:
    case APIC_LVT_TIMER:
    case APIC_LVT_THERMAL:
    case APIC_LVT_PERF:
    case APIC_LVT_LINT0:
    case APIC_LVT_LINT1:
    case APIC_LVT_ERROR:
    case APIC_TIMER_INITIAL:
    case APIC_TIMER_DIVIDE:
      return Atomics.load(r, offset >>> 4);
    case APIC_DFR:
      return Atomics.load(r, W_DFR) | DFR_RESERVED_ONES;
    case APIC_VERSION:
      return APIC_VERSION_VALUE;
    case APIC_APR:
    case APIC_EOI:
    case APIC_RRD:
      return 0;
    case APIC_PPR:
      return lapicPpr(r);
    case APIC_ICR_LOW:
      return Atomics.load(r, W_ICR_LOW); // delivery status always idle: IPIs are sent at once
    case APIC_TIMER_CURRENT:
      return timerCurrentCount(readTimerParams(r, timerScratch), now);
    default:
      return undefined;
  }
}

/**
 * A read of `size` bytes at `offset` in the APIC page. Registers are 32-bit; a narrower read
 * sees the addressed bytes; bytes 4-15 of each 16-byte slot read 0. Reserved registers read 0 and
 * set ESR "illegal register address".
 */
export function lapicMmioRead(r: Int32Array, offset: number, size: 1 | 2 | 4, now: number): number {
  offset &= APIC_PAGE_BYTES - 1;
  const within = offset & (APIC_REG_STRIDE - 1);
  const value = readRegister(r, offset - within, now);
  if (value === undefined) {
    lapicRaiseError(r, ESR_ILLEGAL_REGISTER);
    return 0;
  }
  if (within >= REG_BYTES) return 0;
  const shifted = value >>> (within * BYTE_BITS);
  return size === 4 ? shifted >>> 0 : shifted & ((1 << (size * BYTE_BITS)) - 1);
}

// ---- Register writes ------------------------------------------------------------------------------

/** LVT entries are forced masked while the APIC is software-disabled (SDM 10.4.7.2). */
function lvtValue(r: Int32Array, value: number, writable: number): number {
  return (value & writable) | (lapicSoftwareEnabled(r) ? 0 : LVT_MASKED);
}

/**
 * A write of `value` (`size` bytes) at `offset` in the APIC page. Only aligned 32-bit writes
 * reach a register (others are dropped). Returns LAPIC_EFFECT_* bits; details in `out`.
 */
export function lapicMmioWrite(r: Int32Array, offset: number, size: 1 | 2 | 4, value: number, now: number, out: LapicWriteOut): number {
  offset &= APIC_PAGE_BYTES - 1;
  if (size !== REG_BYTES || (offset & (APIC_REG_STRIDE - 1)) !== 0) return LAPIC_EFFECT_NONE;
  if (offset >= APIC_ISR && offset < APIC_IRR + VECTOR_WORDS * APIC_REG_STRIDE) return LAPIC_EFFECT_NONE;
  switch (offset) {
    case APIC_ID:
      Atomics.store(r, W_ID, value & HIGH_BYTE_MASK);
      return LAPIC_EFFECT_NONE;
    case APIC_TPR:
      Atomics.store(r, W_TPR, value & VECTOR_MASK);
      return LAPIC_EFFECT_RECHECK;
    case APIC_EOI:
      return lapicEoi(r, out);
    case APIC_LDR:
      Atomics.store(r, W_LDR, value & HIGH_BYTE_MASK);
      return LAPIC_EFFECT_NONE;
    case APIC_DFR:
      Atomics.store(r, W_DFR, value | DFR_RESERVED_ONES);
      return LAPIC_EFFECT_NONE;
    case APIC_SVR:
      return writeSvr(r, value);
    case APIC_ESR:
      // A write latches the errors seen since the last write (SDM 10.5.3: write before reading).
      Atomics.store(r, W_ESR, Atomics.exchange(r, W_ESR_PENDING, 0));
      return LAPIC_EFFECT_NONE;
    case APIC_ICR_LOW:
      Atomics.store(r, W_ICR_LOW, value & ICR_LOW_WRITABLE);
      return sendIpi(r, out);
    case APIC_ICR_HIGH:
      Atomics.store(r, W_ICR_HIGH, value & HIGH_BYTE_MASK);
      return LAPIC_EFFECT_NONE;
    case APIC_LVT_TIMER: {
      const tsc = (Atomics.load(r, W_FEATURES) & FEATURE_TSC_DEADLINE) !== 0 ? LVT_TIMER_TSC_DEADLINE_BIT : 0;
      timerSetLvt(r, lvtValue(r, value, LVT_TIMER_WRITABLE | tsc));
      return LAPIC_EFFECT_TIMER;
    }
    case APIC_LVT_THERMAL:
      Atomics.store(r, W_LVT_THERMAL, lvtValue(r, value, LVT_LOCAL_WRITABLE));
      return LAPIC_EFFECT_NONE;
    case APIC_LVT_PERF:
      Atomics.store(r, W_LVT_PERF, lvtValue(r, value, LVT_LOCAL_WRITABLE));
      return LAPIC_EFFECT_NONE;
    case APIC_LVT_LINT0:
    case APIC_LVT_LINT1: {
      const w = offset === APIC_LVT_LINT0 ? W_LVT_LINT0 : W_LVT_LINT1;
      const remoteIrr = Atomics.load(r, w) & LVT_REMOTE_IRR;
      Atomics.store(r, w, lvtValue(r, value, LVT_LINT_WRITABLE) | remoteIrr);
      return LAPIC_EFFECT_RECHECK;
    }
    case APIC_LVT_ERROR:
      Atomics.store(r, W_LVT_ERROR, lvtValue(r, value, LVT_ERROR_WRITABLE));
      return LAPIC_EFFECT_NONE;
    case APIC_TIMER_INITIAL:
      timerLoadCount(r, value, now);
      return LAPIC_EFFECT_TIMER;
    case APIC_TIMER_DIVIDE:
      timerSetDivide(r, value & TIMER_DIVIDE_WRITABLE);
      return LAPIC_EFFECT_TIMER;
    case APIC_VERSION:
    case APIC_APR:
    case APIC_PPR:
    case APIC_RRD:
    case APIC_TIMER_CURRENT:
      return LAPIC_EFFECT_NONE; // read-only
    default:
      lapicRaiseError(r, ESR_ILLEGAL_REGISTER);
      return LAPIC_EFFECT_RECHECK;
  }
}

function writeSvr(r: Int32Array, value: number): number {
  Atomics.store(r, W_SVR, value & SVR_WRITABLE);
  if ((value & SVR_APIC_ENABLED) === 0) {
    // Software disable masks every LVT entry (SDM 10.4.7.2).
    for (const w of LVT_WORDS) {
      if (w === W_LVT_TIMER) timerSetLvt(r, Atomics.load(r, w) | LVT_MASKED);
      else Atomics.or(r, w, LVT_MASKED);
    }
    return LAPIC_EFFECT_RECHECK | LAPIC_EFFECT_TIMER;
  }
  return LAPIC_EFFECT_RECHECK;
}

/**
 * EOI (SDM 10.8.5): the highest in-service vector leaves ISR. If it was accepted level-triggered
 * (TMR), the IOAPICs must see the EOI: returns LAPIC_EFFECT_EOI with `out.eoiVector`.
 */
export function lapicEoi(r: Int32Array, out: LapicWriteOut): number {
  const vector = highestVector(r, W_ISR);
  if (vector < 0) return LAPIC_EFFECT_NONE;
  setVectorBit(r, W_ISR, vector, false);
  if (!vectorBit(r, W_TMR, vector)) return LAPIC_EFFECT_RECHECK;
  out.eoiVector = vector;
  return LAPIC_EFFECT_RECHECK | LAPIC_EFFECT_EOI;
}

/** A write of ICR low: the IPI goes out at once (delivery status never reads "pending"). */
function sendIpi(r: Int32Array, out: LapicWriteOut): number {
  const low = Atomics.load(r, W_ICR_LOW);
  const mode = (low >>> DELIVERY_MODE_SHIFT) & DELIVERY_MODE_MASK;
  const vector = low & VECTOR_MASK;
  const shorthand = (low >>> ICR_SHORTHAND_SHIFT) & ICR_SHORTHAND_MASK;
  if ((mode === DM_FIXED || mode === DM_LOWEST_PRIORITY) && vector < FIRST_LEGAL_VECTOR) {
    lapicRaiseError(r, ESR_SEND_ILLEGAL_VECTOR);
    return LAPIC_EFFECT_RECHECK;
  }
  // INIT level de-assert only re-synchronises arbitration IDs (SDM 10.6.1): nothing to model.
  if (mode === DM_INIT && (low & ICR_LEVEL_ASSERT) === 0 && (low & TRIGGER_LEVEL) !== 0) return LAPIC_EFFECT_NONE;
  if (shorthand === SHORTHAND_SELF) {
    // The self shorthand is for fixed interrupts only (SDM Table 10-3).
    if (mode !== DM_FIXED) return LAPIC_EFFECT_NONE;
    lapicAcceptVector(r, vector, (low & TRIGGER_LEVEL) !== 0);
    return LAPIC_EFFECT_RECHECK;
  }
  out.ipi.icrLow = low;
  out.ipi.icrHigh = Atomics.load(r, W_ICR_HIGH);
  out.ipi.source = Atomics.load(r, W_VCPU);
  return LAPIC_EFFECT_IPI;
}

// ---- The CPU's interrupt acknowledge --------------------------------------------------------------

/**
 * The INTA cycle on the pCPU, after lapicHasInterrupt said yes: moves the highest deliverable
 * vector from IRR to ISR and returns it; returns LAPIC_ACK_EXTINT if the interrupt is the 8259's
 * (ask the PIC for the vector); returns the spurious vector (SVR bits 7-0) if nothing is
 * deliverable any more (SDM 10.9).
 */
export function lapicAcknowledge(r: Int32Array): number {
  const vector = lapicPendingVector(r);
  if (vector >= 0) {
    setVectorBit(r, W_IRR, vector, false);
    setVectorBit(r, W_ISR, vector, true);
    return vector;
  }
  if (Atomics.exchange(r, W_EXTINT_REQ, 0) !== 0) return LAPIC_ACK_EXTINT;
  if (lapicExtIntPending(r)) return LAPIC_ACK_EXTINT;
  return Atomics.load(r, W_SVR) & VECTOR_MASK;
}

// ---- MSRs -----------------------------------------------------------------------------------------

/** True for MSRs the local APIC answers (even if only with #GP). */
export function lapicOwnsMsr(index: number): boolean {
  index >>>= 0;
  return index === MSR_IA32_APIC_BASE || index === MSR_IA32_TSC_DEADLINE || (index >= MSR_X2APIC_FIRST && index <= MSR_X2APIC_LAST);
}

/** RDMSR of a local APIC MSR: [low, high], or undefined for #GP (x2APIC, unadvertised TSC deadline). */
export function lapicReadMsr(r: Int32Array, index: number, now: number): [number, number] | undefined {
  index >>>= 0;
  if (index === MSR_IA32_APIC_BASE) return [Atomics.load(r, W_APIC_BASE_LO), Atomics.load(r, W_APIC_BASE_HI)];
  if (index === MSR_IA32_TSC_DEADLINE && (Atomics.load(r, W_FEATURES) & FEATURE_TSC_DEADLINE) !== 0) {
    const tsc = timerTscDeadline(r, now);
    const hi = Math.floor(tsc / TWO32);
    return [(tsc - hi * TWO32) | 0, hi | 0];
  }
  return undefined;
}

/**
 * WRMSR of a local APIC MSR. Returns LAPIC_EFFECT_* bits, or LAPIC_MSR_FAULT for #GP (reserved
 * bits, x2APIC, unadvertised TSC deadline). `tscNow` is the guest TSC at `now` (cpu/msr readTsc).
 */
export function lapicWriteMsr(r: Int32Array, index: number, low: number, high: number, now: number, tscNow: number): number {
  index >>>= 0;
  if (index === MSR_IA32_APIC_BASE) {
    if (high !== 0 || (low & APIC_BASE_RESERVED) !== 0) return LAPIC_MSR_FAULT;
    const old = Atomics.load(r, W_APIC_BASE_LO);
    const next = (low & (APIC_BASE_ADDR_MASK | APIC_BASE_ENABLE)) | (old & APIC_BASE_BSP);
    Atomics.store(r, W_APIC_BASE_LO, next);
    // Global disable returns the registers to their power-up state (SDM 10.4.3).
    if ((old & APIC_BASE_ENABLE) !== 0 && (next & APIC_BASE_ENABLE) === 0) lapicResetRegisters(r);
    return LAPIC_EFFECT_RECHECK | LAPIC_EFFECT_TIMER;
  }
  if (index === MSR_IA32_TSC_DEADLINE && (Atomics.load(r, W_FEATURES) & FEATURE_TSC_DEADLINE) !== 0) {
    timerSetTscDeadline(r, (high >>> 0) * TWO32 + (low >>> 0), tscNow, now);
    return LAPIC_EFFECT_TIMER;
  }
  return LAPIC_MSR_FAULT;
}

/**
 * The local APIC state a PC BIOS leaves on the bootstrap processor (SeaBIOS smp_setup): APIC
 * software-enabled, LINT0 ExtINT (virtual wire: the 8259 reaches the CPU), LINT1 NMI.
 * For direct kernel boots, which skip the BIOS.
 */
export function lapicBiosSetup(r: Int32Array): void {
  Atomics.or(r, W_SVR, SVR_APIC_ENABLED);
  Atomics.store(r, W_LVT_LINT0, BIOS_LVT_LINT0);
  Atomics.store(r, W_LVT_LINT1, BIOS_LVT_LINT1);
}

/** Register names for debug dumps, by MMIO offset. */
export const LAPIC_REGISTER_NAMES: Readonly<Record<number, string>> = {
  [APIC_ID]: 'ID', [APIC_VERSION]: 'VERSION', [APIC_TPR]: 'TPR', [APIC_PPR]: 'PPR', [APIC_LDR]: 'LDR',
  [APIC_DFR]: 'DFR', [APIC_SVR]: 'SVR', [APIC_ESR]: 'ESR', [APIC_ICR_LOW]: 'ICR', [APIC_ICR_HIGH]: 'ICR2',
  [APIC_LVT_TIMER]: 'LVTT', [APIC_LVT_THERMAL]: 'LVTTHMR', [APIC_LVT_PERF]: 'LVTPC', [APIC_LVT_LINT0]: 'LVT0',
  [APIC_LVT_LINT1]: 'LVT1', [APIC_LVT_ERROR]: 'LVTERR', [APIC_TIMER_INITIAL]: 'TMICT',
  [APIC_TIMER_CURRENT]: 'TMCCT', [APIC_TIMER_DIVIDE]: 'TDCR', [APIC_ISR]: 'ISR', [APIC_TMR]: 'TMR', [APIC_IRR]: 'IRR',
};

/**
 * INIT, STARTUP (SIPI) and NMI messages reaching a VCPU, applied by the thread that owns the
 * VCPU's state block at that moment (the pCPU about to run it or running it).
 *
 * References: Intel SDM Vol. 3A 8.4.4 (MP initialisation: INIT puts an AP into wait-for-SIPI; a
 * SIPI with vector VV starts it in real mode at VV00:0000), 9.1.1 and Table 9-1 (state after INIT:
 * like RESET except x87/SSE state, MSRs and caches, which INIT leaves alone), 10.4.7.3 (INIT
 * resets the local APIC except its ID and IA32_APIC_BASE), 10.6.1 (a SIPI to a processor that is
 * not waiting for one is ignored).
 *
 * Concurrency: the hypervisor thread records INIT/SIPI in W_STARTUP with compareExchange
 * (LapicBus) and NMIs in W_NMI_PENDING with Atomics.add; the functions here take them with
 * Atomics.exchange, so none is lost or applied twice. An INIT recorded after a SIPI that was not
 * taken yet drops that SIPI (the INIT would have reset the started CPU anyway).
 */
import { resetState } from '../cpu/reset';
import {
  S_A20_MASK, S_EIP, S_FPU, S_HALTED, S_ICOUNT_HI, S_ICOUNT_LO, S_MSR_EFER, S_MSR_MISC_ENABLE, S_MSR_PAT_HI,
  S_MSR_PAT_LO, S_MSR_TSC_AUX, S_RUNNING, S_SEG_BASE, S_SEG_SEL, S_SYSENTER_CS, S_SYSENTER_EIP, S_SYSENTER_ESP,
  S_TSC_OFFSET_F64, SEG_CS, STATE_BYTES,
} from '../cpu/state';
import { lapicResetRegisters } from './lapic-core';
import { APIC_BASE_BSP, STARTUP_INIT, STARTUP_SIPI, VECTOR_MASK, W_APIC_BASE_LO, W_NMI_PENDING, W_STARTUP } from './lapic-regs';

/** lapicApplyStartup result bit: an INIT was applied (the CPU state block was rewritten). */
export const STARTUP_APPLIED_INIT = 1;
/** lapicApplyStartup result bit: a SIPI started the VCPU. */
export const STARTUP_APPLIED_SIPI = 2;
/** A SIPI vector VV starts the AP at segment VV00 (physical VV000). */
const SIPI_SEGMENT_SHIFT = 8;
const REAL_MODE_SEGMENT_SHIFT = 4;

/** State-block words INIT does not change (SDM Table 9-1), besides the x87/SSE area. */
const KEPT_BY_INIT: readonly number[] = [
  S_A20_MASK, S_TSC_OFFSET_F64, S_TSC_OFFSET_F64 + 1, S_ICOUNT_LO, S_ICOUNT_HI, S_SYSENTER_CS, S_SYSENTER_ESP,
  S_SYSENTER_EIP, S_MSR_PAT_LO, S_MSR_PAT_HI, S_MSR_MISC_ENABLE, S_MSR_TSC_AUX, S_MSR_EFER,
];

/**
 * Applies a pending INIT and/or SIPI to the VCPU whose state block is `cpu` and whose local
 * APIC region is `r`. INIT: the CPU goes to its INIT state (an AP then waits for a SIPI, the BSP
 * restarts at the reset vector) and the local APIC is reset. SIPI: a VCPU waiting for one starts
 * in real mode at vector:0000 (CS = vector << 8). Returns STARTUP_APPLIED_* bits; the caller must
 * then drop the Cpu's caches (Cpu.afterStateLoad) and, for a running VCPU, re-enter its loop.
 */
export function lapicApplyStartup(r: Int32Array, cpu: Int32Array): number {
  const pending = Atomics.exchange(r, W_STARTUP, 0);
  if (pending === 0) return 0;
  let applied = 0;
  if ((pending & STARTUP_INIT) !== 0) {
    initCpu(cpu, (Atomics.load(r, W_APIC_BASE_LO) & APIC_BASE_BSP) !== 0);
    lapicResetRegisters(r);
    applied |= STARTUP_APPLIED_INIT;
  }
  if ((pending & STARTUP_SIPI) !== 0 && cpu[S_RUNNING] === 0) {
    const vector = pending & VECTOR_MASK;
    cpu[S_SEG_SEL + SEG_CS] = vector << SIPI_SEGMENT_SHIFT;
    cpu[S_SEG_BASE + SEG_CS] = vector << (SIPI_SEGMENT_SHIFT + REAL_MODE_SEGMENT_SHIFT);
    cpu[S_EIP] = 0;
    cpu[S_HALTED] = 0;
    cpu[S_RUNNING] = 1;
    applied |= STARTUP_APPLIED_SIPI;
  }
  return applied;
}

/** The CPU state after INIT: reset values, keeping what INIT keeps; APs wait for a SIPI. */
function initCpu(cpu: Int32Array, bsp: boolean): void {
  const kept = KEPT_BY_INIT.map((w) => cpu[w]);
  const fpu = cpu.slice(S_FPU, STATE_BYTES / 4);
  resetState(cpu);
  KEPT_BY_INIT.forEach((w, i) => (cpu[w] = kept[i]));
  cpu.set(fpu, S_FPU);
  if (!bsp) cpu[S_RUNNING] = 0;
}

/** Takes the NMIs sent to this VCPU (add them to the CPU's pending NMI count). */
export function lapicTakeNmis(r: Int32Array): number {
  return Atomics.exchange(r, W_NMI_PENDING, 0);
}

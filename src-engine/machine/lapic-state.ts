/**
 * Save and restore of one local APIC region as a named, versioned object (STYLE.md 7). Times are
 * stored relative to the moment of saving, so a restored timer continues where it stood.
 * Both run while no pCPU runs the VCPU (the domain is paused).
 */
import { requireSaved, requireStateVersion } from './save-state';
import {
  getPair, putPair, VECTOR_WORDS, W_APIC_BASE_HI, W_APIC_BASE_LO, W_DFR, W_ESR, W_ESR_PENDING, W_EXTINT_REQ,
  W_FEATURES, W_FIRED_COUNT, W_FIRED_LOADS, W_ICR_HIGH, W_ICR_LOW, W_ID, W_IRR, W_ISR, W_LDR, W_LINT_LEVELS,
  W_LVT_ERROR, W_LVT_LINT0, W_LVT_LINT1, W_LVT_PERF, W_LVT_THERMAL, W_LVT_TIMER, W_NMI_PENDING, W_STARTUP, W_SVR,
  W_TIMER_DIVIDE, W_TIMER_INITIAL, W_TIMER_LOADS, W_TIMER_SEQ, W_TIMER_START, W_TMR, W_TPR, W_TSC_DEADLINE_NS,
  W_TSC_DEADLINE_TSC, W_VCPU,
} from './lapic-regs';

const COMPONENT = 'a local APIC';

/** Saved state of one local APIC. */
export interface LapicState {
  version: 1;
  vcpu: number;
  features: number;
  apicBaseLow: number;
  apicBaseHigh: number;
  id: number;
  tpr: number;
  ldr: number;
  dfr: number;
  svr: number;
  esr: number;
  esrPending: number;
  icrLow: number;
  icrHigh: number;
  lvtTimer: number;
  lvtThermal: number;
  lvtPerf: number;
  lvtLint0: number;
  lvtLint1: number;
  lvtError: number;
  isr: number[];
  tmr: number[];
  irr: number[];
  timerInitial: number;
  timerDivide: number;
  /** Nanoseconds since the count was loaded. */
  timerElapsedNs: number;
  /** Expirations of the current countdown already delivered. */
  timerFired: number;
  /** TSC-deadline mode: nanoseconds from saving to the deadline, or null if disarmed. */
  tscDeadlineInNs: number | null;
  tscDeadlineTsc: number;
  startup: number;
  nmiPending: number;
  lintLevels: number;
  extintRequest: number;
}

function words(r: Int32Array, w: number): number[] {
  return Array.from({ length: VECTOR_WORDS }, (_, i) => Atomics.load(r, w + i));
}

/** The state of local APIC region `r` at engine time `now`. */
export function saveLapicState(r: Int32Array, now: number): LapicState {
  const deadline = getPair(r, W_TSC_DEADLINE_NS);
  const sameCountdown = Atomics.load(r, W_FIRED_LOADS) === Atomics.load(r, W_TIMER_LOADS);
  const ld = (w: number) => Atomics.load(r, w);
  return {
    version: 1,
    vcpu: ld(W_VCPU),
    features: ld(W_FEATURES),
    apicBaseLow: ld(W_APIC_BASE_LO),
    apicBaseHigh: ld(W_APIC_BASE_HI),
    id: ld(W_ID),
    tpr: ld(W_TPR),
    ldr: ld(W_LDR),
    dfr: ld(W_DFR),
    svr: ld(W_SVR),
    esr: ld(W_ESR),
    esrPending: ld(W_ESR_PENDING),
    icrLow: ld(W_ICR_LOW),
    icrHigh: ld(W_ICR_HIGH),
    lvtTimer: ld(W_LVT_TIMER),
    lvtThermal: ld(W_LVT_THERMAL),
    lvtPerf: ld(W_LVT_PERF),
    lvtLint0: ld(W_LVT_LINT0),
    lvtLint1: ld(W_LVT_LINT1),
    lvtError: ld(W_LVT_ERROR),
    isr: words(r, W_ISR),
    tmr: words(r, W_TMR),
    irr: words(r, W_IRR),
    timerInitial: ld(W_TIMER_INITIAL) >>> 0,
    timerDivide: ld(W_TIMER_DIVIDE),
    timerElapsedNs: now - getPair(r, W_TIMER_START),
    timerFired: sameCountdown ? getPair(r, W_FIRED_COUNT) : 0,
    tscDeadlineInNs: deadline === 0 ? null : deadline - now,
    tscDeadlineTsc: getPair(r, W_TSC_DEADLINE_TSC),
    startup: ld(W_STARTUP),
    nmiPending: ld(W_NMI_PENDING),
    lintLevels: ld(W_LINT_LEVELS),
    extintRequest: ld(W_EXTINT_REQ),
  };
}

/** Loads `state` into region `r`, re-basing its times on engine time `now`. */
export function loadLapicState(r: Int32Array, state: LapicState, now: number): void {
  requireStateVersion(state, 1, COMPONENT);
  for (const key of ['isr', 'tmr', 'irr'] as const) {
    requireSaved(Array.isArray(state[key]) && state[key].length === VECTOR_WORDS, COMPONENT, key);
  }
  requireSaved(Number.isFinite(state.timerElapsedNs) && Number.isFinite(state.timerFired), COMPONENT, 'timer');
  const st = (w: number, v: number) => Atomics.store(r, w, v | 0);
  st(W_VCPU, state.vcpu);
  st(W_FEATURES, state.features);
  st(W_APIC_BASE_LO, state.apicBaseLow);
  st(W_APIC_BASE_HI, state.apicBaseHigh);
  st(W_ID, state.id);
  st(W_TPR, state.tpr);
  st(W_LDR, state.ldr);
  st(W_DFR, state.dfr);
  st(W_SVR, state.svr);
  st(W_ESR, state.esr);
  st(W_ESR_PENDING, state.esrPending);
  st(W_ICR_LOW, state.icrLow);
  st(W_ICR_HIGH, state.icrHigh);
  st(W_LVT_TIMER, state.lvtTimer);
  st(W_LVT_THERMAL, state.lvtThermal);
  st(W_LVT_PERF, state.lvtPerf);
  st(W_LVT_LINT0, state.lvtLint0);
  st(W_LVT_LINT1, state.lvtLint1);
  st(W_LVT_ERROR, state.lvtError);
  for (let i = 0; i < VECTOR_WORDS; i++) {
    st(W_ISR + i, state.isr[i]);
    st(W_TMR + i, state.tmr[i]);
    st(W_IRR + i, state.irr[i]);
  }
  st(W_TIMER_SEQ, 0);
  st(W_TIMER_INITIAL, state.timerInitial);
  st(W_TIMER_DIVIDE, state.timerDivide);
  putPair(r, W_TIMER_START, now - state.timerElapsedNs);
  putPair(r, W_TSC_DEADLINE_NS, state.tscDeadlineInNs === null ? 0 : Math.max(1, now + state.tscDeadlineInNs));
  putPair(r, W_TSC_DEADLINE_TSC, state.tscDeadlineTsc);
  // The restored countdown is "already seen" by the hypervisor up to the saved expiration count.
  const loads = Atomics.add(r, W_TIMER_LOADS, 1) + 1;
  st(W_FIRED_LOADS, loads);
  putPair(r, W_FIRED_COUNT, state.timerFired);
  st(W_STARTUP, state.startup);
  st(W_NMI_PENDING, state.nmiPending);
  st(W_LINT_LEVELS, state.lintLevels);
  st(W_EXTINT_REQ, state.extintRequest);
}

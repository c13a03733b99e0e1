/**
 * The local APIC timer (Intel SDM Vol. 3A 10.5.4): one-shot, periodic and (when advertised)
 * TSC-deadline modes, computed from the engine clock instead of counted.
 *
 * Clock: the APIC bus runs at 1 GHz here (as QEMU's APIC_BUS_CYCLE_NS = 1), so the timer counts
 * one tick per `divide` nanoseconds; guests calibrate it against the PIT, PM timer or HPET. The
 * guest TSC also runs at 1 GHz (cpu/msr.ts), so a TSC deadline converts to engine time by adding
 * the difference to the current TSC. Periodic interrupts are spaced at least
 * LAPIC_MIN_PERIOD_NS apart (as KVM's min_timer_period_us), which keeps a guest that programs a
 * tiny period from flooding the hypervisor thread; the current-count register still counts at
 * the programmed rate.
 *
 * Concurrency. The pCPU running the VCPU writes the timer parameters (LVT timer, initial count,
 * divide, start time, TSC deadline) inside a seqlock: W_TIMER_SEQ is made odd, the words written,
 * then W_TIMER_SEQ made even again. Every change that starts a new countdown also bumps
 * W_TIMER_LOADS. The hypervisor thread reads the block with readTimerParams (retrying while the
 * sequence is odd or moved) and alone writes W_FIRED_LOADS / W_FIRED_COUNT: how many expirations
 * of the countdown numbered W_FIRED_LOADS it has turned into interrupts. Each side therefore owns
 * every word it writes; neither needs a lock.
 */
import {
  getPair, LVT_MASKED, LVT_TIMER_MODE_MASK, LVT_TIMER_MODE_SHIFT, putPair, TIMER_MODE_PERIODIC, TIMER_MODE_TSC_DEADLINE,
  VECTOR_MASK, W_FIRED_COUNT, W_FIRED_LOADS, W_LVT_TIMER, W_TIMER_DIVIDE, W_TIMER_INITIAL, W_TIMER_LOADS, W_TIMER_SEQ,
  W_TIMER_START, W_TSC_DEADLINE_NS, W_TSC_DEADLINE_TSC,
} from './lapic-regs';

/** Nanoseconds per APIC bus clock (1 GHz bus). */
export const LAPIC_BUS_NS_PER_TICK = 1;
/** Shortest spacing of periodic timer interrupts (KVM: min_timer_period_us = 200). */
export const LAPIC_MIN_PERIOD_NS = 200_000;
/** Divide configuration code 0b111 (bits 3, 1, 0): divide by 1. */
const DIVIDE_BY_ONE_CODE = 7;
/** Bit 3 of the divide configuration register is bit 2 of the divider code. */
const DIVIDE_HIGH_BIT = 8;
const DIVIDE_LOW_BITS = 3;
/** Largest initial count (the register is 32 bits). */
const COUNT_MASK = 0xffffffff;

/** The timer's programming as one consistent snapshot. */
export interface LapicTimerParams {
  /** TIMER_MODE_ONE_SHOT, TIMER_MODE_PERIODIC or TIMER_MODE_TSC_DEADLINE. */
  mode: number;
  masked: boolean;
  vector: number;
  /** Initial count (0 = stopped). */
  initial: number;
  /** Nanoseconds per timer tick (the divider times the bus clock). */
  tickNs: number;
  /** Engine time the count was loaded (ns). */
  start: number;
  /** TSC-deadline mode: deadline in engine ns, 0 = disarmed. */
  deadlineNs: number;
  /** Load generation of this countdown. */
  loads: number;
}

/** A fresh snapshot object for readTimerParams. */
export function newTimerParams(): LapicTimerParams {
  return { mode: 0, masked: true, vector: 0, initial: 0, tickNs: 2, start: 0, deadlineNs: 0, loads: 0 };
}

/** The divider a divide configuration register value selects (SDM Figure 10-10). */
export function timerDivider(divideConfig: number): number {
  const code = ((divideConfig & DIVIDE_HIGH_BIT) >>> 1) | (divideConfig & DIVIDE_LOW_BITS);
  return code === DIVIDE_BY_ONE_CODE ? 1 : 2 << code;
}

/** The timer mode field of an LVT timer value. */
export function timerMode(lvt: number): number {
  return (lvt >>> LVT_TIMER_MODE_SHIFT) & LVT_TIMER_MODE_MASK;
}

/** Reads the timer block consistently (retries while the pCPU is rewriting it). */
export function readTimerParams(r: Int32Array, out: LapicTimerParams): LapicTimerParams {
  for (;;) {
    const seq = Atomics.load(r, W_TIMER_SEQ);
    if ((seq & 1) !== 0) continue;
    const lvt = Atomics.load(r, W_LVT_TIMER);
    out.mode = timerMode(lvt);
    out.masked = (lvt & LVT_MASKED) !== 0;
    out.vector = lvt & VECTOR_MASK;
    out.initial = Atomics.load(r, W_TIMER_INITIAL) >>> 0;
    out.tickNs = timerDivider(Atomics.load(r, W_TIMER_DIVIDE)) * LAPIC_BUS_NS_PER_TICK;
    out.start = getPair(r, W_TIMER_START);
    out.deadlineNs = getPair(r, W_TSC_DEADLINE_NS);
    out.loads = Atomics.load(r, W_TIMER_LOADS);
    if (Atomics.load(r, W_TIMER_SEQ) === seq) return out;
  }
}

function beginWrite(r: Int32Array): void {
  Atomics.add(r, W_TIMER_SEQ, 1);
}

function endWrite(r: Int32Array): void {
  Atomics.add(r, W_TIMER_SEQ, 1);
}

/** Stops the countdown: initial count 0, no TSC deadline (reset, mode switches). pCPU side. */
export function timerDisarm(r: Int32Array): void {
  beginWrite(r);
  Atomics.store(r, W_TIMER_INITIAL, 0);
  putPair(r, W_TSC_DEADLINE_NS, 0);
  putPair(r, W_TSC_DEADLINE_TSC, 0);
  Atomics.add(r, W_TIMER_LOADS, 1);
  endWrite(r);
}

/** A write of the initial-count register: a new countdown from `now` (ignored in TSC-deadline mode). */
export function timerLoadCount(r: Int32Array, value: number, now: number): void {
  if (timerMode(Atomics.load(r, W_LVT_TIMER)) === TIMER_MODE_TSC_DEADLINE) return;
  beginWrite(r);
  Atomics.store(r, W_TIMER_INITIAL, value & COUNT_MASK);
  putPair(r, W_TIMER_START, now);
  Atomics.add(r, W_TIMER_LOADS, 1);
  endWrite(r);
}

/**
 * A write of the divide configuration register. As QEMU does, the running countdown keeps its
 * start and continues at the new rate.
 */
export function timerSetDivide(r: Int32Array, value: number): void {
  beginWrite(r);
  Atomics.store(r, W_TIMER_DIVIDE, value);
  endWrite(r);
}

/**
 * A write of the LVT timer entry (already masked to its writable bits). Switching into or out of
 * TSC-deadline mode disarms the timer (SDM 10.5.4.1).
 */
export function timerSetLvt(r: Int32Array, value: number): void {
  const before = timerMode(Atomics.load(r, W_LVT_TIMER));
  const after = timerMode(value);
  beginWrite(r);
  Atomics.store(r, W_LVT_TIMER, value);
  if (before !== after && (before === TIMER_MODE_TSC_DEADLINE || after === TIMER_MODE_TSC_DEADLINE)) {
    Atomics.store(r, W_TIMER_INITIAL, 0);
    putPair(r, W_TSC_DEADLINE_NS, 0);
    putPair(r, W_TSC_DEADLINE_TSC, 0);
    Atomics.add(r, W_TIMER_LOADS, 1);
  }
  endWrite(r);
}

/**
 * WRMSR IA32_TSC_DEADLINE: arms (or with 0 disarms) the deadline. `tsc` is the value written,
 * `tscNow` the guest TSC and `now` the engine time at the write. Ignored outside TSC-deadline mode.
 */
export function timerSetTscDeadline(r: Int32Array, tsc: number, tscNow: number, now: number): void {
  if (timerMode(Atomics.load(r, W_LVT_TIMER)) !== TIMER_MODE_TSC_DEADLINE) return;
  beginWrite(r);
  putPair(r, W_TSC_DEADLINE_TSC, tsc);
  // A deadline already in the past fires at once (engine time 1 is "long ago" but not "disarmed").
  putPair(r, W_TSC_DEADLINE_NS, tsc === 0 ? 0 : Math.max(1, now + (tsc - tscNow)));
  Atomics.add(r, W_TIMER_LOADS, 1);
  endWrite(r);
}

/** RDMSR IA32_TSC_DEADLINE: the armed deadline, 0 once it fired or outside TSC-deadline mode. */
export function timerTscDeadline(r: Int32Array, now: number): number {
  if (timerMode(Atomics.load(r, W_LVT_TIMER)) !== TIMER_MODE_TSC_DEADLINE) return 0;
  const ns = getPair(r, W_TSC_DEADLINE_NS);
  return ns === 0 || ns <= now ? 0 : getPair(r, W_TSC_DEADLINE_TSC);
}

/** The current-count register at `now` (SDM 10.5.4): counts down, reloads in periodic mode. */
export function timerCurrentCount(p: LapicTimerParams, now: number): number {
  if (p.mode === TIMER_MODE_TSC_DEADLINE || p.initial === 0) return 0;
  const ticks = Math.floor(Math.max(0, now - p.start) / p.tickNs);
  if (p.mode === TIMER_MODE_PERIODIC) return p.initial - (ticks % p.initial);
  return ticks >= p.initial ? 0 : p.initial - ticks;
}

/** Spacing of periodic interrupts in ns (never below LAPIC_MIN_PERIOD_NS). */
function periodNs(p: LapicTimerParams): number {
  return Math.max(p.initial * p.tickNs, LAPIC_MIN_PERIOD_NS);
}

/**
 * When expiration number `fired + 1` of the countdown falls due (engine ns), or Infinity if the
 * countdown has no more expirations.
 */
export function timerDueAfter(p: LapicTimerParams, fired: number): number {
  if (p.mode === TIMER_MODE_TSC_DEADLINE) return p.deadlineNs !== 0 && fired === 0 ? p.deadlineNs : Infinity;
  if (p.initial === 0) return Infinity;
  if (p.mode === TIMER_MODE_PERIODIC) return p.start + (fired + 1) * periodNs(p);
  return fired === 0 ? p.start + p.initial * p.tickNs : Infinity;
}

/** Expirations of the countdown that have fallen due by `now`. */
function expirationsBy(p: LapicTimerParams, now: number): number {
  const first = timerDueAfter(p, 0);
  if (now < first) return 0;
  if (p.mode !== TIMER_MODE_PERIODIC) return 1;
  return Math.floor((now - p.start) / periodNs(p));
}

/** What lapicTimerService found. */
export interface LapicTimerTick {
  /** An expiration became due and the (unmasked) timer vector was put into IRR. */
  fired: boolean;
  /** The next time the service must run for this timer (ns), or Infinity. */
  next: number;
}

/**
 * Hypervisor side: turns due expirations into the timer interrupt (all expirations missed since
 * the last service coalesce into one IRR bit, as on hardware) and tells when to come back.
 * `accept` puts a vector into IRR (lapicAcceptVector).
 */
export function lapicTimerService(
  r: Int32Array,
  now: number,
  scratch: LapicTimerParams,
  accept: (r: Int32Array, vector: number) => void,
  out: LapicTimerTick,
): LapicTimerTick {
  const p = readTimerParams(r, scratch);
  let fired = 0;
  if (Atomics.load(r, W_FIRED_LOADS) === p.loads) fired = getPair(r, W_FIRED_COUNT);
  else {
    Atomics.store(r, W_FIRED_LOADS, p.loads);
    putPair(r, W_FIRED_COUNT, 0);
  }
  out.fired = false;
  const due = expirationsBy(p, now);
  if (due > fired) {
    putPair(r, W_FIRED_COUNT, due);
    fired = due;
    if (!p.masked) {
      accept(r, p.vector);
      out.fired = true;
    }
  }
  out.next = timerDueAfter(p, fired);
  return out;
}

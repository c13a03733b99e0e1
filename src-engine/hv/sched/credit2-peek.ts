/**
 * Credit2's decision known in advance (SchedOps.peekNext): which vCPU csched2_schedule would pick
 * on a pCPU, and for how long, if the running vCPU stopped at an instant of a window and nothing
 * else happened first. Computed from the same state and rules as credit2DoSchedule (credit2.ts):
 * burn the running vCPU's credit up to the instant, runq_candidate, reset_credit, csched2_runtime;
 * nothing is changed. Not in Xen (Xen's pCPUs run the scheduler themselves).
 *
 * Why two instants are enough. With everything else fixed, the stop instant t enters the
 * decision only through the running vCPU's credit c(t), which does not increase with t, and the
 * ratelimit test (t - state_entry_time < ratelimit), which holds up to some instant and not after.
 *  - The candidate: the runqueue is scanned in credit order for the first vCPU with more credit
 *    than c(t) that passes fixed tests (runnable, hard affinity, tickled elsewhere) and the
 *    migrate-resist test (c(t) + resist < its credit). As c(t) falls, the set of vCPUs passing
 *    grows; the first of a growing set can only move earlier in the queue. If the pick is the same
 *    at both ends of the window, it is the same everywhere in between.
 *  - The slice length: for a vCPU switched in it does not decrease with t (the in-flight credit
 *    c(t) it is compared against falls); for the running vCPU kept it does not increase (its own
 *    credit and the ratelimit remainder fall). Whether an epoch ends (reset_credit) and how much it
 *    adds flip at most once over the window; they must be the same at both ends. The length is
 *    then monotonic over the window, so the shorter of the two ends is the shortest anywhere in
 *    it: peek answers that, a slice end the pCPU may use until the real call gives the exact one.
 * Caps (budgets), yields, pending runqueue migrations and an epoch end with several runqueues
 * (balance_load may move vCPUs) are left to the real call: peek answers undefined.
 */
import { balanceMask, hasSoftAffinity, maskAnd, maskHas } from './cpumask';
import {
  CREDIT2_CARRYOVER_MAX,
  CREDIT2_CREDIT_INIT,
  CREDIT2_CREDIT_MIN,
  CREDIT2_IDLE_CREDIT,
  CREDIT2_MAX_TIMER,
  CREDIT2_MIGRATE_COMPENSATION,
  CREDIT2_MIN_TIMER,
  c2u,
  credit2HasCap,
  credit2Rqd,
  type Credit2Rq,
  type Credit2State,
  type Credit2Unit,
} from './credit2-runqueue';
import type { SchedPeek, SchedUnit } from './sched-ops';

/** No units to skip (credit2PeekAt's default). */
const NO_UNITS: readonly SchedUnit[] = [];

/** CSCHED2_CREDIT_RESET: an epoch ends when the best credit is at or below this. */
export const CREDIT2_CREDIT_RESET = 0;
const NS_PER_US = 1000;

/**
 * csched2_runtime's arithmetic: how long `unit` (credit `credit`, weight `weight`, cap budget
 * `budget` or Infinity) may run from `now`, against the head of the runqueue (`headCredit`,
 * undefined if empty) and the credit of a vCPU just put back (`inflightCredit`, 0 if none).
 */
export function credit2SliceLength(
  s: Pick<Credit2State, 'ratelimitUs'>, maxWeight: number, unit: Pick<SchedUnit, 'isRunning' | 'stateEntryTime'>, credit: number, weight: number, budget: number,
  now: number, headCredit: number | undefined, inflightCredit: number,
): number {
  let minTime = CREDIT2_MIN_TIMER;
  if (s.ratelimitUs > 0) {
    let rlMin = s.ratelimitUs * NS_PER_US;
    if (unit.isRunning) rlMin = unit.stateEntryTime + s.ratelimitUs * NS_PER_US - now;
    if (rlMin > minTime) minTime = rlMin;
  }
  let rtCredit = credit;
  let swaitCredit = 0;
  if (headCredit !== undefined && headCredit > 0) swaitCredit = headCredit;
  if (swaitCredit < inflightCredit) swaitCredit = inflightCredit;
  if (swaitCredit > 0) rtCredit = credit - swaitCredit;
  let time = rtCredit > 0 ? Math.trunc((rtCredit * weight) / maxWeight) : 0;
  if (budget !== Infinity) time = budget < time ? budget : time;
  if (time < minTime) time = minTime;
  else if (time > CREDIT2_MAX_TIMER) time = CREDIT2_MAX_TIMER;
  return time;
}

/** burn_credits without side effects: `svc`'s credit if it ran until `t`. */
function credit2CreditAt(rqd: Credit2Rq, svc: Credit2Unit, t: number): number {
  const delta = t - svc.startTime;
  if (delta <= 0) return svc.credit;
  const credit = svc.credit - Math.floor((delta * rqd.maxWeight + svc.residual) / svc.weight);
  return credit < CREDIT2_CREDIT_MIN ? CREDIT2_CREDIT_MIN : credit;
}

/** One instant's decision, with what decides whether it is the same at another instant. */
interface Credit2PeekAt {
  next: Credit2Unit | null;
  time: number;
  /** Credit reset_credit would add (0: no epoch end). */
  reset: number;
}

/** The candidate runq_candidate would return at `t` (null: idle); undefined if unknowable. */
function credit2PeekCandidate(
  s: Credit2State, rqd: Credit2Rq, scurr: Credit2Unit, prev: SchedUnit, cpu: number, t: number, c: number, runnable: boolean, skip: readonly SchedUnit[],
): Credit2Unit | null | undefined {
  if (s.ratelimitUs > 0 && runnable && t - prev.stateEntryTime < s.ratelimitUs * NS_PER_US) return scurr;
  let softAffPreempt = false;
  const online = s.ctx.cpus();
  if (hasSoftAffinity(prev, online)) {
    const soft = balanceMask(prev, 'soft');
    if (!maskHas(soft, cpu)) {
      const idleSoft = soft.filter((x) => rqd.idle.has(x) && !rqd.tickled.has(x));
      softAffPreempt = maskAnd(idleSoft, online).length > 0;
    }
  }
  let best: Credit2Unit | null = runnable && !softAffPreempt ? scurr : null;
  const bestCredit = best === null ? CREDIT2_IDLE_CREDIT : c;
  for (const svc of rqd.runq) {
    if (svc.credit <= bestCredit) break;
    const unit = svc.unit as SchedUnit;
    if (!unit.runnable() || (skip.length > 0 && skip.includes(unit))) continue;
    if (!maskHas(unit.hard, cpu)) continue;
    if (svc.tickledCpu !== -1 && svc.tickledCpu !== cpu && rqd.tickled.has(svc.tickledCpu)) continue;
    if (unit.pcpu !== cpu && bestCredit + s.migrateResist > svc.credit) continue;
    // runq_candidate would grab budget here, a side effect.
    if (credit2HasCap(svc)) return undefined;
    best = svc;
    break;
  }
  return best;
}

/**
 * credit2DoSchedule(cpu, prev, t) without side effects; undefined if not computable here.
 * `runnable`: whether `prev` is still runnable then (false: it blocked at `t`).
 */
function credit2PeekAt(s: Credit2State, cpu: number, prev: SchedUnit, t: number, runnable: boolean, skip: readonly SchedUnit[] = NO_UNITS): Credit2PeekAt | undefined {
  const rqd = credit2Rqd(s, cpu);
  const scurr = c2u(prev);
  if (scurr.rqd !== rqd || credit2HasCap(scurr) || scurr.yielding || scurr.runqMigrateRequest) return undefined;
  const c = credit2CreditAt(rqd, scurr, t);
  const next = credit2PeekCandidate(s, rqd, scurr, prev, cpu, t, c, runnable, skip);
  if (next === undefined) return undefined;
  if (next === null) return { next: null, time: -1, reset: 0 };
  const switching = next !== scurr;
  let nextCredit = switching ? next.credit : c;
  let curCredit = c;
  // The runqueue without `next` (it leaves it when picked) and the units earlier steps picked; the
  // running vCPU is not on it.
  let headSvc: Credit2Unit | undefined;
  for (const x of rqd.runq) {
    if ((switching && x === next) || (skip.length > 0 && skip.includes(x.unit as SchedUnit))) continue;
    headSvc = x;
    break;
  }
  let headCredit = headSvc?.credit;
  const top = headCredit === undefined ? nextCredit : Math.max(nextCredit, headCredit);
  let reset = 0;
  if (top <= CREDIT2_CREDIT_RESET) {
    if (s.rql.length > 1) return undefined;
    reset = CREDIT2_CREDIT_INIT + (nextCredit === CREDIT2_CREDIT_MIN ? CREDIT2_CREDIT_INIT : 0);
    const clip = (x: number): number => Math.min(x + reset, CREDIT2_CREDIT_INIT + CREDIT2_CARRYOVER_MAX);
    if (switching) nextCredit = clip(nextCredit);
    if (headCredit !== undefined) headCredit = clip(headCredit);
    curCredit = clip(curCredit);
    if (!switching) nextCredit = curCredit;
  }
  const inflight = scurr.delayedRunqAdd || (switching && runnable) ? curCredit : 0;
  const unit = next.unit as SchedUnit;
  if (switching && unit.pcpu !== cpu) nextCredit += CREDIT2_MIGRATE_COMPENSATION;
  const time = credit2SliceLength(s, rqd.maxWeight, unit, nextCredit, next.weight, next.budget, t, headCredit, inflight);
  return { next, time, reset };
}

/** SchedOps.peekNext for credit2 (see the file comment for why two instants suffice). */
export function credit2PeekNext(s: Credit2State, cpu: number, prev: SchedUnit, from: number, until: number): SchedPeek | undefined {
  const a = credit2PeekAt(s, cpu, prev, from, prev.runnable());
  if (a === undefined) return undefined;
  const b = credit2PeekAt(s, cpu, prev, until, prev.runnable());
  if (b === undefined || a.next !== b.next || a.reset !== b.reset) return undefined;
  return { next: a.next === null ? null : a.next.unit, time: a.next === null ? -1 : Math.min(a.time, b.time) };
}

/**
 * SchedOps.peekBlock for credit2: the decision if the running vCPU blocked (HLT) at an instant of
 * [from, until]. A blocked vCPU is neither a candidate nor put back, so the stop instant enters
 * the decision only through its own credit, which decides nothing: the candidate is the first
 * eligible vCPU of the runqueue against the idle credit, and the slice length and an epoch end
 * depend on the credits of the vCPUs that wait, which do not burn. Both ends are still computed
 * and compared, which also covers anything this argument missed.
 * `picked` (a chain of halts): the vCPUs earlier steps switched to, each of which then blocked in
 * turn; `prev` is the last of them. They have left the runqueue, and nothing else changed: the
 * credits of the others do not burn while they wait. A step after an epoch end is not answered
 * (the reset changed every credit).
 */
export function credit2PeekBlock(s: Credit2State, cpu: number, prev: SchedUnit, from: number, until: number, picked: readonly SchedUnit[] = NO_UNITS): SchedPeek | undefined {
  const a = credit2PeekAt(s, cpu, prev, from, false, picked);
  if (a === undefined) return undefined;
  const b = credit2PeekAt(s, cpu, prev, until, false, picked);
  if (b === undefined || a.next !== b.next || a.reset !== b.reset || (picked.length > 0 && a.reset !== 0)) return undefined;
  return { next: a.next === null ? null : a.next.unit, time: a.next === null ? -1 : Math.min(a.time, b.time), final: a.reset !== 0 };
}

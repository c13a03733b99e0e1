/**
 * Credit's decisions known in advance (SchedOps.peekNext and peekBlock): which vCPU csched_schedule
 * (creditDoSchedule, credit.ts) would pick on a pCPU if the running vCPU stopped, or blocked, at
 * an instant of a window with nothing else happening first, and a slice no longer than it would
 * give. Computed from the same state and rules, changing nothing. Not in Xen (Xen's pCPUs run
 * the scheduler themselves).
 *
 * What the instant decides. csched_schedule burns the running vCPU's credit up to the instant, but
 * credit never enters the pick: priorities (BOOST, UNDER, OVER) change only at the tick, the
 * accounting period and a wake, which are timers and events, not the stop. Those are "something
 * else happening first": the engine revokes every published decision at the start of each pass of
 * the hypervisor thread, before it runs due timers, and replays a taken one there too, so a tick
 * or an accounting period due inside the window runs after the replay, exactly as it runs after
 * the schedule() of a pCPU that asked (docs/architecture.md, "Published next decisions"). The
 * instant enters the decision only through four tests, each of which changes value once:
 *  - ratelimit: the running vCPU is kept while its run time is below the rate limit (up to an
 *    instant, then not);
 *  - the rate-limit slice: 100 us below 100 us of run time, then ratelimit minus run time;
 *  - load balancing runs when the instant is more than the load-balance rate limit after the last
 *    one (from an instant on, exclusive);
 *  - a queued vCPU of a peer is cache-hot (not stolen) while the instant is less than the
 *    migration delay after it last ran (up to an instant).
 * Between two consecutive switch points every test has one value, so the pick is one; the window
 * is cut at every switch point inside it and the pick computed at the start of each piece (and,
 * for the exclusive load-balance switch, with balancing both off and on at its instant). A
 * decision is published only if all pieces pick the same vCPU; the slice length is the smallest
 * over the pieces (the rate-limit slice falls within a piece: its end bounds it).
 *
 * Chains (peekBlock with `picked`): the vCPUs earlier steps switched to, each blocking in turn.
 * They have left their run queues (a stolen one its peer's, which then has one runnable vCPU
 * fewer, and the balance bias moved to that peer), and a step that may have balanced moved the
 * last load-balance instant to an unknown instant of the window: later steps then consider
 * balancing both off and on wherever it could have been on. Nothing else changes between steps.
 * A queue head that is not runnable (csched_schedule would drop it and look again) and a chain
 * whose first vCPU is not the running one are left to the real call: undefined.
 */
import { BALANCE_STEPS, NO_CPU, balanceMask, hasSoftAffinity, maskCycle, maskHas } from './cpumask';
import { PRI_IDLE, PRI_OVER, creditPcpu, cu, type CreditState, type CreditUnit } from './credit-runq';
import type { SchedPeek, SchedUnit } from './sched-ops';

/** CSCHED_MIN_TIMER = XEN_SYSCTL_SCHED_RATELIMIT_MIN: shortest slice, 100 us (as credit.ts). */
export const CREDIT_MIN_TIMER_NS = 100_000;

/** What earlier steps of a chain changed (nothing for a single decision). */
interface CreditChain {
  /** Units the earlier steps picked: off every run queue. */
  skip: ReadonlySet<CreditUnit>;
  /** Per peer pCPU, how many of them were stolen from it (its nr_runnable is that much lower). */
  stolen: ReadonlyMap<number, number>;
  /** balance_bias after them. */
  bias: number;
  /** An earlier step may have balanced: last_load_balance is then some instant of the window. */
  balanced: boolean;
}

const NO_CHAIN: CreditChain = { skip: new Set(), stolen: new Map(), bias: -1, balanced: false };

/** One piece of the window: an instant and whether load balancing runs there. */
interface CreditPoint {
  t: number;
  balance: boolean;
}

/** The pick at one point: the unit (the idle unit for idle) and whether ratelimit kept `prev`. */
interface CreditPick {
  svc: CreditUnit;
  kept: boolean;
}

/** csched_runq_steal without side effects: the unit `cpu` would take from `peer`, or null. */
function creditPeekSteal(s: CreditState, peer: number, cpu: number, pri: number, step: 'soft' | 'hard', t: number, chain: CreditChain): CreditUnit | null {
  if (s.ctx.curr(peer) === null) return null;
  const online = s.ctx.cpus();
  for (const speer of creditPcpu(s, peer).runq) {
    if (chain.skip.has(speer)) continue;
    if (speer.pri <= pri) break;
    if (speer.yielding) continue;
    const unit = speer.unit;
    if (!unit) continue;
    if (unit.isRunning || (step === 'soft' && !hasSoftAffinity(unit, online))) continue;
    const hot = s.unitMigrDelay > 0 && t - speer.lastSchedTime < s.unitMigrDelay;
    if (!hot && maskHas(balanceMask(unit, step), cpu)) return speer;
  }
  return null;
}

/** csched_load_balance without side effects: what it would steal for `cpu`, or null. */
function creditPeekBalance(s: CreditState, cpu: number, pri: number, t: number, chain: CreditChain): CreditUnit | null {
  const online = s.ctx.cpus();
  if (!maskHas(online, cpu)) return null;
  const bias = chain.bias >= 0 ? chain.bias : s.balanceBias;
  for (const step of BALANCE_STEPS) {
    const workers = online.filter((c) => !s.idlers.has(c) && c !== cpu);
    const first = maskCycle(bias, workers);
    if (first === NO_CPU) continue;
    let peer = first;
    do {
      if (creditPcpu(s, peer).nrRunnable - (chain.stolen.get(peer) ?? 0) > 1) {
        const speer = creditPeekSteal(s, peer, cpu, pri, step, t, chain);
        if (speer) return speer;
      }
      peer = maskCycle(peer, workers);
    } while (peer !== first);
  }
  return null;
}

/**
 * creditDoSchedule(cpu, prev, t) without side effects, with load balancing on or off as `at`
 * says; `runnable` false: `prev` blocked. Undefined if the pick is not computable here.
 */
function creditPickAt(s: CreditState, cpu: number, prev: SchedUnit, runnable: boolean, at: CreditPoint, chain: CreditChain): CreditPick | undefined {
  const spc = creditPcpu(s, cpu);
  const scurr = cu(prev);
  if (!scurr.yielding && s.ratelimit > 0 && runnable && at.t - prev.stateEntryTime < s.ratelimit) return { svc: scurr, kept: true };
  // The queue head once `prev` is put back (__runq_insert: behind its own priority, a yielder one
  // further back): `prev` only if it goes in front of the first queued unit.
  let first: CreditUnit | undefined;
  let second = false;
  for (const v of spc.runq) {
    if (chain.skip.has(v)) continue;
    if (first === undefined) first = v;
    else {
      second = true;
      break;
    }
  }
  if (first === undefined) return undefined;
  let head = first;
  if (runnable && scurr.pri > first.pri && !(scurr.yielding && first.pri > PRI_IDLE && second)) head = scurr;
  let svc = head;
  if (head.pri <= PRI_OVER && at.balance) svc = creditPeekBalance(s, cpu, head.pri, at.t, chain) ?? head;
  if (svc.unit !== null && svc !== scurr && !svc.unit.runnable()) return undefined;
  return { svc, kept: false };
}

/**
 * Adds `x` to `out` if it lies in (from, until]: a test switches value at `x` inside the window.
 * Instants are fractional nanoseconds, and `x` is a sum the test does not compute (it subtracts):
 * rounding may move the switch by a fraction of a nanosecond, so the instant 1 ns later is tried
 * too.
 */
function creditCut(out: number[], x: number, from: number, until: number): void {
  if (x > from && x <= until) out.push(x);
  if (x + 1 > from && x + 1 <= until) out.push(x + 1);
}

/** The pieces of [from, until] over which every instant-dependent test keeps its value. */
function creditPoints(s: CreditState, cpu: number, prev: SchedUnit, runnable: boolean, from: number, until: number, chain: CreditChain): CreditPoint[] {
  const spc = creditPcpu(s, cpu);
  const cuts: number[] = [from];
  if (runnable && s.ratelimit > 0) {
    creditCut(cuts, prev.stateEntryTime + s.ratelimit, from, until);
    creditCut(cuts, prev.stateEntryTime + CREDIT_MIN_TIMER_NS, from, until);
  }
  if (s.unitMigrDelay > 0) {
    for (const peer of s.ctx.cpus()) {
      if (peer === cpu || !s.pcpus.has(peer)) continue;
      for (const v of creditPcpu(s, peer).runq) if (v.unit) creditCut(cuts, v.lastSchedTime + s.unitMigrDelay, from, until);
    }
  }
  // Balancing runs once t > last + ratelimit: at that instant not yet, just after it.
  const lb = spc.lastLoadBalance + s.loadBalanceRatelimit;
  const lbInside = lb >= from && lb < until;
  if (lbInside) cuts.push(lb);
  creditCut(cuts, lb + 1, from, until);
  cuts.sort((a, b) => a - b);
  const points: CreditPoint[] = [];
  for (let i = 0; i < cuts.length; i++) {
    const t = cuts[i];
    if (i > 0 && t === cuts[i - 1]) continue;
    const balance = t - spc.lastLoadBalance > s.loadBalanceRatelimit;
    points.push({ t, balance });
    if (lbInside && t === lb) points.push({ t, balance: true });
    // After an earlier step's balancing, balancing may be off wherever it would be on.
    if (chain.balanced && balance) points.push({ t, balance: false });
  }
  return points;
}

/** The slice csched_schedule gives `prev` kept by the rate limit at run time `run` (ns). */
function creditKeptSlice(s: CreditState, run: number): number {
  return run < CREDIT_MIN_TIMER_NS ? CREDIT_MIN_TIMER_NS : s.ratelimit - run;
}

/** The decision over [from, until], or undefined if it is not one decision or not computable. */
function creditPeekWindow(s: CreditState, cpu: number, prev: SchedUnit, runnable: boolean, from: number, until: number, chain: CreditChain): SchedPeek | undefined {
  if (!(from <= until)) return undefined;
  const points = creditPoints(s, cpu, prev, runnable, from, until, chain);
  let svc: CreditUnit | undefined;
  let time = Infinity;
  for (let i = 0; i < points.length; i++) {
    const at = points[i];
    const pick = creditPickAt(s, cpu, prev, runnable, at, chain);
    if (pick === undefined || (svc !== undefined && pick.svc !== svc)) return undefined;
    svc = pick.svc;
    if (svc.unit === null) continue;
    if (!pick.kept) {
      time = Math.min(time, s.tslice);
      continue;
    }
    // The rate-limit slice over this piece: constant below 100 us of run time, else falling to
    // the piece's end (the next point later than this one, or `until`).
    let end = until;
    for (let j = i + 1; j < points.length; j++) {
      if (points[j].t > at.t) {
        end = points[j].t;
        break;
      }
    }
    const run = Math.max(0, at.t - prev.stateEntryTime);
    const slice = run < CREDIT_MIN_TIMER_NS ? creditKeptSlice(s, run) : creditKeptSlice(s, Math.max(0, end - prev.stateEntryTime));
    time = Math.min(time, Math.max(0, slice));
  }
  if (svc === undefined) return undefined;
  if (svc.unit === null) return { next: null, time: -1 };
  return { next: svc.unit, time };
}

/** SchedOps.peekNext for credit: the running vCPU stops (slice end, preemption) in [from, until]. */
export function creditPeekNext(s: CreditState, cpu: number, prev: SchedUnit, from: number, until: number): SchedPeek | undefined {
  return creditPeekWindow(s, cpu, prev, prev.runnable(), from, until, NO_CHAIN);
}

/** What the steps of a chain before the last one left changed (see the file comment). */
function creditChainOf(cpu: number, picked: readonly SchedUnit[]): CreditChain | undefined {
  const skip = new Set<CreditUnit>();
  const stolen = new Map<number, number>();
  let bias = -1;
  let balanced = false;
  for (const unit of picked) {
    const svc = cu(unit);
    skip.add(svc);
    if (svc.runqCpu === -1) return undefined;
    if (svc.runqCpu !== cpu) {
      stolen.set(svc.runqCpu, (stolen.get(svc.runqCpu) ?? 0) + 1);
      bias = svc.runqCpu;
      balanced = true;
    } else if (svc.pri <= PRI_OVER) balanced = true;
  }
  return { skip, stolen, bias, balanced };
}

/**
 * SchedOps.peekBlock for credit: the running vCPU blocks (HLT) in [from, until]; with `picked`, the
 * vCPUs earlier steps switched to blocked in turn and `prev` is the last of them. A blocked vCPU
 * is not put back, so neither the rate limit nor its own priority matter.
 */
export function creditPeekBlock(s: CreditState, cpu: number, prev: SchedUnit, from: number, until: number, picked: readonly SchedUnit[] = []): SchedPeek | undefined {
  if (picked.length === 0 && s.ctx.curr(cpu) !== prev) return undefined;
  const chain = picked.length === 0 ? NO_CHAIN : creditChainOf(cpu, picked);
  if (chain === undefined) return undefined;
  return creditPeekWindow(s, cpu, prev, false, from, until, chain);
}

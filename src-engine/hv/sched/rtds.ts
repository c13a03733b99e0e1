/**
 * RTDS: global preemptive EDF with every vCPU a deferrable server, Xen's xen/common/sched/rt.c,
 * restated in spec/schedulers.md section 3.
 *
 * Design
 * ------
 * - One run queue per pool sorted by (priority level, deadline), FIFO among equals; an unsorted
 *   depleted queue for vCPUs without budget and without extratime; a replenishment queue with one
 *   timer armed at its earliest deadline.
 * - Deadlines start at 0 and advance by whole periods, so periods are phase-aligned to multiples
 *   of the period; every replenishment *sets* the budget (unused budget is lost), and a blocked
 *   vCPU keeps its remaining budget for the current period (deferrable server).
 * - Exhausting the budget with extratime on drops the vCPU one priority level and refills it: it
 *   keeps running only in time nobody at level 0 wants.
 * - A pCPU picks the first queued vCPU allowed on it; the current vCPU keeps running if it still
 *   has budget and strictly higher priority. The slice is the remaining budget.
 * - Soft affinity is ignored and there is no yield hook (yield just reschedules).
 */
import { maskAnd, maskCycle, maskHas, maskTestOrCycle, NO_CPU } from './cpumask';
import { schedRefuse } from './sched-error';
import {
  SCHED_ID,
  registerScheduler,
  type DomainSchedParams,
  type DomainSchedUpdate,
  type RtdsVcpuParams,
  type SchedContext,
  type SchedDecision,
  type SchedDomain,
  type SchedOps,
  type SchedPeek,
  type SchedTimer,
  type SchedUnit,
} from './sched-ops';

const NS_PER_US = 1000;
/** RTDS_DEFAULT_PERIOD: 10 ms. */
export const RTDS_DEFAULT_PERIOD_US = 10_000;
/** RTDS_DEFAULT_BUDGET: 4 ms. */
export const RTDS_DEFAULT_BUDGET_US = 4_000;
/** RTDS_MIN_PERIOD: 10 us. */
export const RTDS_MIN_PERIOD_US = 10;
/** RTDS_MIN_BUDGET: 10 us. */
export const RTDS_MIN_BUDGET_US = 10;
/** RTDS_MAX_PRIORITY_LEVEL: saturating extratime level (~0U). */
const RTDS_MAX_PRIORITY_LEVEL = 0xffff_ffff;
/** UPDATE_LIMIT_SHIFT: beyond 1024 periods behind, rt_update_deadline multiplies. */
const RTDS_UPDATE_LIMIT_PERIODS = 1024;
/** Largest uint32 the interface carries (period and budget fields). */
const U32_MAX = 0xffff_ffff;

interface RtdsUnit {
  unit: SchedUnit;
  period: number;
  budget: number;
  curBudget: number;
  lastStart: number;
  curDeadline: number;
  priorityLevel: number;
  scheduled: boolean;
  delayedRunqAdd: boolean;
  depleted: boolean;
  extratime: boolean;
  /**
   * Deviation (extratime off): budget used past depletion, paid back from the next periods'
   * budgets (rtdsUpdateDeadline). Xen forgives it: its timer stops a vCPU within microseconds.
   * Here the host may stop a pCPU thread milliseconds late (at load 4 on 2 cores, runs of 8-16 ms
   * against a 4 ms budget were common and the vCPU got 46-54% for a 40% reservation). At most
   * one period is owed, so one very late stop cannot starve the vCPU for long.
   */
  overrun: number;
  /** Inserted but never woken yet: parameters set now apply from the first period. */
  pristine: boolean;
  /** Which of runq/depletedq holds us. */
  q: 'runq' | 'depletedq' | null;
  onReplq: boolean;
}

/** Per-pool RTDS state (rt_private). */
export interface RtdsState {
  ctx: SchedContext;
  runq: RtdsUnit[];
  depletedq: RtdsUnit[];
  replq: RtdsUnit[];
  replTimer: SchedTimer;
  tickled: Set<number>;
}

function ru(unit: SchedUnit): RtdsUnit {
  return unit.priv as RtdsUnit;
}

/** compare_unit_priority: > 0 if v1 has higher priority than v2, < 0 if lower, 0 if equal. */
function rtdsCompare(v1: RtdsUnit, v2: RtdsUnit): number {
  const prio = v2.priorityLevel - v1.priorityLevel;
  if (prio === 0) return v2.curDeadline - v1.curDeadline;
  return prio;
}

/**
 * rt_update_deadline: new period(s), full budget, level 0; less what an overrun still owes
 * (RtdsUnit.overrun) when exactly one period begins, never below RTDS_MIN_BUDGET. A vCPU that
 * did not run for a whole period owes nothing.
 */
function rtdsUpdateDeadline(now: number, svc: RtdsUnit): void {
  const previous = svc.curDeadline;
  if (svc.curDeadline + svc.period * RTDS_UPDATE_LIMIT_PERIODS > now) {
    do svc.curDeadline += svc.period;
    while (svc.curDeadline <= now);
  } else {
    const count = Math.floor((now - svc.curDeadline) / svc.period) + 1;
    svc.curDeadline += count * svc.period;
  }
  svc.lastStart = now;
  svc.curBudget = svc.budget;
  if (svc.overrun > 0) {
    if (svc.curDeadline - previous === svc.period) {
      const pay = Math.min(svc.overrun, svc.budget - RTDS_MIN_BUDGET_US * NS_PER_US);
      svc.curBudget -= pay;
      svc.overrun -= pay;
    } else {
      svc.overrun = 0;
    }
  }
  svc.priorityLevel = 0;
}

/** deadline_queue_insert: returns true if svc is now first. */
function rtdsDeadlineInsert(queue: RtdsUnit[], svc: RtdsUnit): boolean {
  let i = 0;
  while (i < queue.length && !(rtdsCompare(svc, queue[i]) > 0)) i++;
  queue.splice(i, 0, svc);
  return i === 0;
}

/** deadline_queue_remove: returns true if svc was first. */
function rtdsDeadlineRemove(queue: RtdsUnit[], svc: RtdsUnit): boolean {
  const i = queue.indexOf(svc);
  queue.splice(i, 1);
  return i === 0;
}

function rtdsQRemove(s: RtdsState, svc: RtdsUnit): void {
  if (svc.q === 'runq') s.runq.splice(s.runq.indexOf(svc), 1);
  else if (svc.q === 'depletedq') s.depletedq.splice(s.depletedq.indexOf(svc), 1);
  svc.q = null;
}

function rtdsReplqRemove(s: RtdsState, svc: RtdsUnit): void {
  svc.onReplq = false;
  if (rtdsDeadlineRemove(s.replq, svc)) {
    if (s.replq.length > 0) s.replTimer.set(s.replq[0].curDeadline);
    else s.replTimer.stop();
  }
}

/** runq_insert: with budget (or extratime) into the sorted runq, else the depleted queue. */
function rtdsRunqInsert(s: RtdsState, svc: RtdsUnit): void {
  if (svc.curBudget > 0 || svc.extratime) {
    rtdsDeadlineInsert(s.runq, svc);
    svc.q = 'runq';
  } else {
    s.depletedq.unshift(svc);
    svc.q = 'depletedq';
  }
}

function rtdsReplqInsert(s: RtdsState, svc: RtdsUnit): void {
  svc.onReplq = true;
  if (rtdsDeadlineInsert(s.replq, svc)) s.replTimer.set(svc.curDeadline);
}

function rtdsReplqReinsert(s: RtdsState, svc: RtdsUnit): void {
  let rearmAt = svc.curDeadline;
  let rearm: boolean;
  if (rtdsDeadlineRemove(s.replq, svc)) {
    rtdsDeadlineInsert(s.replq, svc);
    rearmAt = s.replq[0].curDeadline;
    rearm = true;
  } else {
    rearm = rtdsDeadlineInsert(s.replq, svc);
  }
  if (rearm) s.replTimer.set(rearmAt);
}

/** rt_res_pick: the current pCPU if allowed, else the next allowed one. */
function rtdsResPick(s: RtdsState, unit: SchedUnit): number {
  const cpus = maskAnd(s.ctx.cpus(), unit.hard);
  return maskHas(cpus, unit.pcpu) ? unit.pcpu : maskCycle(unit.pcpu, cpus);
}

/**
 * Records budget used past depletion (RtdsUnit.overrun): the budget ran out at `outAt` and the
 * vCPU ran on until `now`. Called where the burn notices it, and by the replenishment of a vCPU
 * still running when its period ends (whose burn would only see the new period).
 */
function rtdsNoteOverrun(svc: RtdsUnit, outAt: number, now: number): void {
  if (now > outAt) svc.overrun = Math.min(svc.overrun + now - outAt, svc.period);
}

/** burn_budget. */
function rtdsBurnBudget(svc: RtdsUnit, now: number): void {
  const delta = now - svc.lastStart;
  if (delta < 0) {
    svc.lastStart = now;
    return;
  }
  svc.curBudget -= delta;
  svc.lastStart = now;
  if (svc.curBudget <= 0) {
    if (svc.extratime) {
      if (svc.priorityLevel < RTDS_MAX_PRIORITY_LEVEL) svc.priorityLevel++;
      svc.curBudget = svc.budget;
    } else {
      rtdsNoteOverrun(svc, now + svc.curBudget, now);
      svc.curBudget = 0;
      svc.depleted = true;
    }
  }
}

/** runq_pick: first queued vCPU allowed on `cpu`. */
function rtdsRunqPick(s: RtdsState, cpu: number): RtdsUnit | null {
  const online = s.ctx.cpus();
  for (const svc of s.runq) {
    if (maskHas(online, cpu) && maskHas(svc.unit.hard, cpu)) return svc;
  }
  return null;
}

/** runq_tickle: an idle allowed pCPU, else the one running the lowest-priority vCPU. */
function rtdsRunqTickle(s: RtdsState, nsvc: RtdsUnit | null): void {
  if (!nsvc) return;
  let notTickled = maskAnd(s.ctx.cpus(), nsvc.unit.hard).filter((c) => !s.tickled.has(c));
  let latest: RtdsUnit | null = null;
  let cpu = maskTestOrCycle(nsvc.unit.pcpu, notTickled);
  let target = NO_CPU;
  while (cpu !== NO_CPU) {
    const cur = s.ctx.curr(cpu);
    if (!cur) {
      target = cpu;
      break;
    }
    const csvc = ru(cur);
    if (latest === null || rtdsCompare(csvc, latest) < 0) latest = csvc;
    notTickled = notTickled.filter((c) => c !== cpu);
    cpu = maskCycle(cpu, notTickled);
  }
  if (target === NO_CPU) {
    if (latest !== null && rtdsCompare(latest, nsvc) < 0) target = latest.unit.pcpu;
    else return;
  }
  s.tickled.add(target);
  s.ctx.tickle(target);
}

/** rt_schedule. */
function rtdsDoSchedule(s: RtdsState, cpu: number, prev: SchedUnit | null, now: number, forceIdle: boolean): SchedDecision {
  s.tickled.delete(cpu);
  const scurr = prev ? ru(prev) : null;
  if (scurr) rtdsBurnBudget(scurr, now);
  let snext: RtdsUnit | null = null;
  if (!forceIdle) {
    for (;;) {
      snext = rtdsRunqPick(s, cpu);
      if (snext === null || snext.unit.runnable()) break;
      rtdsQRemove(s, snext);
      rtdsReplqRemove(s, snext);
    }
    if (scurr && prev && prev.runnable() && scurr.curBudget > 0 && (snext === null || rtdsCompare(scurr, snext) > 0)) {
      snext = scurr;
    }
  }
  if (snext !== scurr && scurr && prev && prev.runnable()) scurr.delayedRunqAdd = true;
  let migrated = false;
  if (!snext) return { next: null, time: -1, migrated };
  snext.lastStart = now;
  if (snext !== scurr) {
    rtdsQRemove(s, snext);
    snext.scheduled = true;
  }
  if (snext.unit.pcpu !== cpu) {
    s.ctx.setRes(snext.unit, cpu);
    migrated = true;
  }
  return { next: snext.unit, time: snext.curBudget, migrated };
}

/** rt_schedule's pick at `t` without side effects: [next or null, slice length, budget ran out]. */
function rtdsPeekAt(s: RtdsState, cpu: number, prev: SchedUnit, t: number): [RtdsUnit | null, number, boolean] {
  const scurr = ru(prev);
  // burn_budget on copies.
  let budget = scurr.curBudget;
  let level = scurr.priorityLevel;
  let out = false;
  if (t - scurr.lastStart >= 0) {
    budget -= t - scurr.lastStart;
    out = budget <= 0;
    if (out) {
      if (scurr.extratime) {
        if (level < RTDS_MAX_PRIORITY_LEVEL) level++;
        budget = scurr.budget;
      } else {
        budget = 0;
      }
    }
  }
  // runq_pick, passing over (where rt_schedule drops) queued vCPUs that are not runnable.
  let snext: RtdsUnit | null = null;
  if (maskHas(s.ctx.cpus(), cpu)) {
    for (const svc of s.runq) {
      if (!maskHas(svc.unit.hard, cpu)) continue;
      if (svc.unit.runnable()) {
        snext = svc;
        break;
      }
    }
  }
  // compare_unit_priority with scurr's level after the burn.
  const keep = prev.runnable() && budget > 0 && (snext === null || (snext.priorityLevel - level || snext.curDeadline - scurr.curDeadline) > 0);
  if (keep) return [scurr, budget, out];
  return snext === null ? [null, -1, out] : [snext, snext.curBudget, out];
}

/**
 * SchedOps.peekNext: the stop instant enters rt_schedule only through the running vCPU's budget
 * burn, which flips once, where the budget runs out (depleted, or with extratime a full budget
 * one priority level down); on either side the pick is fixed and the length fixed (a vCPU
 * switched in, or the budget refilled) or decreasing (the running vCPU's own budget). With the
 * same side and pick at both ends of the window, the pick holds throughout and the shorter
 * length is the shortest.
 */
function rtdsPeekNext(s: RtdsState, cpu: number, prev: SchedUnit, from: number, until: number): SchedPeek | undefined {
  const [a, ta, outA] = rtdsPeekAt(s, cpu, prev, from);
  const [b, tb, outB] = rtdsPeekAt(s, cpu, prev, until);
  if (a !== b || outA !== outB) return undefined;
  return { next: a === null ? null : a.unit, time: a === null ? -1 : Math.min(ta, tb) };
}

/**
 * SchedOps.peekBlock: a blocked vCPU is neither kept nor put back, so rt_schedule picks the first
 * runnable queued vCPU allowed here, at any instant (the burn concerns only the blocked vCPU), for
 * its remaining budget, which does not burn while it waits. `picked` (a chain): the vCPUs earlier
 * steps switched to, which left the run queue.
 */
function rtdsPeekBlock(s: RtdsState, cpu: number, _prev: SchedUnit, from: number, until: number, picked: readonly SchedUnit[] = []): SchedPeek | undefined {
  if (!(from <= until)) return undefined;
  if (!maskHas(s.ctx.cpus(), cpu)) return { next: null, time: -1 };
  for (const svc of s.runq) {
    if (maskHas(svc.unit.hard, cpu) && svc.unit.runnable() && !picked.includes(svc.unit)) return { next: svc.unit, time: svc.curBudget };
  }
  return { next: null, time: -1 };
}

function rtdsSleep(s: RtdsState, unit: SchedUnit): void {
  const svc = ru(unit);
  if (s.ctx.curr(unit.pcpu) === unit) s.ctx.tickle(unit.pcpu);
  else if (svc.q !== null) {
    rtdsQRemove(s, svc);
    rtdsReplqRemove(s, svc);
  } else if (svc.delayedRunqAdd) svc.delayedRunqAdd = false;
}

function rtdsWake(s: RtdsState, unit: SchedUnit): void {
  const svc = ru(unit);
  if (s.ctx.curr(unit.pcpu) === unit || svc.q !== null) return;
  svc.pristine = false;
  const now = s.ctx.now();
  const missed = now >= svc.curDeadline;
  if (missed) rtdsUpdateDeadline(now, svc);
  if (svc.scheduled) {
    svc.delayedRunqAdd = true;
    if (missed) rtdsReplqReinsert(s, svc);
    return;
  }
  rtdsReplqInsert(s, svc);
  rtdsRunqInsert(s, svc);
  rtdsRunqTickle(s, svc);
}

function rtdsContextSaved(s: RtdsState, unit: SchedUnit): void {
  const svc = ru(unit);
  svc.scheduled = false;
  const delayed = svc.delayedRunqAdd;
  svc.delayedRunqAdd = false;
  if (delayed && unit.runnable()) {
    rtdsRunqInsert(s, svc);
    rtdsRunqTickle(s, svc);
  } else if (svc.onReplq) {
    rtdsReplqRemove(s, svc);
  }
}

/** repl_timer_handler. */
function rtdsReplHandler(s: RtdsState): void {
  const now = s.ctx.now();
  const updated: RtdsUnit[] = [];
  while (s.replq.length > 0 && now >= s.replq[0].curDeadline) {
    const svc = s.replq.shift() as RtdsUnit;
    if (!svc.extratime && s.ctx.curr(svc.unit.pcpu) === svc.unit) rtdsNoteOverrun(svc, svc.lastStart + svc.curBudget, now);
    rtdsUpdateDeadline(now, svc);
    updated.unshift(svc);
    if (svc.q !== null) {
      rtdsQRemove(s, svc);
      rtdsRunqInsert(s, svc);
    }
  }
  for (const svc of updated) {
    if (s.ctx.curr(svc.unit.pcpu) === svc.unit && s.runq.length > 0) {
      const head = s.runq[0];
      if (rtdsCompare(svc, head) < 0) rtdsRunqTickle(s, head);
    } else {
      const wasDepleted = svc.depleted;
      svc.depleted = false;
      if (wasDepleted && svc.q !== null) rtdsRunqTickle(s, svc);
    }
    rtdsDeadlineInsert(s.replq, svc);
  }
  if (s.replq.length > 0) s.replTimer.set(s.replq[0].curDeadline);
}

/** rt_validate_params (Xen) after libxl's own checks. */
function rtdsCheckParams(dom: SchedDomain, periodUs: number, budgetUs: number): void {
  const subject = dom.name;
  if (!Number.isInteger(periodUs) || periodUs < 1 || periodUs > U32_MAX) {
    throw schedRefuse('sched.rtds-period', 'EINVAL', `RTDS period ${periodUs} us is invalid: use at least 10 us.`, {
      libxl: `Invalid VCPU period of ${periodUs} (it should be >= 1)`,
      subject,
    });
  }
  if (!Number.isInteger(budgetUs) || budgetUs < 1 || budgetUs > U32_MAX) {
    throw schedRefuse('sched.rtds-budget', 'EINVAL', `RTDS budget ${budgetUs} us is invalid: use at least 10 us.`, {
      libxl: `Invalid VCPU budget of ${budgetUs} (it should be >= 1)`,
      subject,
    });
  }
  if (budgetUs > periodUs) {
    throw schedRefuse('sched.rtds-budget-period', 'EINVAL', `RTDS budget ${budgetUs} us is larger than the period ${periodUs} us: lower the budget or raise the period.`, {
      libxl: `VCPU budget must be smaller than or equal to period, but ${budgetUs} > ${periodUs}`,
      subject,
    });
  }
  if (periodUs < RTDS_MIN_PERIOD_US || budgetUs < RTDS_MIN_BUDGET_US) {
    throw schedRefuse('sched.rtds-min', 'EINVAL', `RTDS period and budget must be at least 10 us (got ${periodUs}/${budgetUs}).`, {
      libxl: 'Setting vcpu sched rtds: Invalid argument',
      subject,
    });
  }
}

function rtdsInsertUnit(s: RtdsState, unit: SchedUnit): void {
  const svc: RtdsUnit = {
    unit,
    period: RTDS_DEFAULT_PERIOD_US * NS_PER_US,
    budget: RTDS_DEFAULT_BUDGET_US * NS_PER_US,
    curBudget: 0,
    lastStart: 0,
    curDeadline: 0,
    priorityLevel: 0,
    scheduled: false,
    delayedRunqAdd: false,
    depleted: false,
    extratime: true,
    overrun: 0,
    pristine: true,
    q: null,
    onReplq: false,
  };
  unit.priv = svc;
  s.ctx.setRes(unit, rtdsResPick(s, unit));
  const now = s.ctx.now();
  if (now >= svc.curDeadline) rtdsUpdateDeadline(now, svc);
  if (svc.q === null && unit.runnable()) {
    rtdsReplqInsert(s, svc);
    if (!unit.isRunning) rtdsRunqInsert(s, svc);
  }
}

function rtdsRemoveUnit(s: RtdsState, unit: SchedUnit): void {
  const svc = ru(unit);
  if (svc.q !== null) rtdsQRemove(s, svc);
  if (svc.onReplq) rtdsReplqRemove(s, svc);
}

function rtdsSetVcpuParams(s: RtdsState, unit: SchedUnit, p: RtdsVcpuParams): void {
  rtdsCheckParams(unit.domain, p.periodUs, p.budgetUs);
  const svc = ru(unit);
  svc.period = p.periodUs * NS_PER_US;
  svc.budget = p.budgetUs * NS_PER_US;
  if (svc.pristine) rtdsRestartServer(s, svc);
  if (p.extratime) {
    if (!svc.extratime && svc.curBudget <= 0) {
      svc.priorityLevel++;
      svc.curBudget = svc.budget;
      svc.depleted = false;
      if (svc.q !== null) {
        rtdsQRemove(s, svc);
        rtdsRunqInsert(s, svc);
      }
    }
    svc.extratime = true;
    svc.overrun = 0;
  } else {
    svc.extratime = false;
  }
}

/**
 * Deviation: a vCPU that has never been woken starts its server again with the new parameters.
 * In Xen, building a domain takes longer than a period, so creation-time parameters are in force
 * from the first period after unpause; our creation is instantaneous.
 */
function rtdsRestartServer(s: RtdsState, svc: RtdsUnit): void {
  svc.curDeadline = 0;
  rtdsUpdateDeadline(s.ctx.now(), svc);
}

function rtdsSetDomainParams(s: RtdsState, dom: SchedDomain, p: DomainSchedUpdate): void {
  if (p.sched !== 'rtds') return;
  const periodUs = p.periodUs ?? RTDS_DEFAULT_PERIOD_US;
  const budgetUs = p.budgetUs ?? RTDS_DEFAULT_BUDGET_US;
  rtdsCheckParams(dom, periodUs, budgetUs);
  for (const unit of dom.units) {
    const svc = ru(unit);
    svc.period = periodUs * NS_PER_US;
    svc.budget = budgetUs * NS_PER_US;
    if (svc.pristine) rtdsRestartServer(s, svc);
  }
}

function rtdsDump(s: RtdsState): string[] {
  const fmt = (v: RtdsUnit): string =>
    `d${v.unit.domid}v${v.unit.vcpuId}(p=${v.period} b=${v.budget} cur_b=${v.curBudget} cur_d=${v.curDeadline} lvl=${v.priorityLevel})`;
  return [
    `rtds pool ${s.ctx.poolId}:`,
    `  runq: ${s.runq.map(fmt).join(' ')}`,
    `  depletedq: ${s.depletedq.map(fmt).join(' ')}`,
    `  replq: ${s.replq.map(fmt).join(' ')}`,
  ];
}

/** The RTDS scheduler. */
export const rtdsOps: SchedOps<RtdsState> = {
  name: 'rtds',
  id: SCHED_ID.rtds,
  longName: 'SMP RTDS Scheduler',
  init: (ctx) => {
    const s: RtdsState = { ctx, runq: [], depletedq: [], replq: [], replTimer: ctx.createTimer(`rtds repl pool ${ctx.poolId}`, () => rtdsReplHandler(s)), tickled: new Set() };
    return s;
  },
  deinit: (s) => s.replTimer.stop(),
  initPcpu: () => {},
  deinitPcpu: (s, cpu) => {
    s.tickled.delete(cpu);
  },
  initDomain: () => {},
  destroyDomain: () => {},
  insertUnit: rtdsInsertUnit,
  removeUnit: rtdsRemoveUnit,
  sleep: rtdsSleep,
  wake: rtdsWake,
  doSchedule: rtdsDoSchedule,
  peekNext: rtdsPeekNext,
  peekBlock: rtdsPeekBlock,
  contextSaved: rtdsContextSaved,
  pickResource: rtdsResPick,
  getDomainParams: (): DomainSchedParams => ({ sched: 'rtds', periodUs: RTDS_DEFAULT_PERIOD_US, budgetUs: RTDS_DEFAULT_BUDGET_US, extratime: true }),
  setDomainParams: rtdsSetDomainParams,
  getVcpuParams: (_s, unit) => {
    const svc = ru(unit);
    return { periodUs: svc.period / NS_PER_US, budgetUs: svc.budget / NS_PER_US, extratime: svc.extratime };
  },
  setVcpuParams: rtdsSetVcpuParams,
  getPoolParams: () => ({ sched: 'rtds' }),
  setPoolParams: () => {},
  dump: rtdsDump,
  inspectUnit: (_s, unit) => {
    const v = ru(unit);
    return { curBudget: v.curBudget, curDeadline: v.curDeadline, priorityLevel: v.priorityLevel, depleted: v.depleted, queue: v.q ?? 'none' };
  },
};

registerScheduler(rtdsOps);

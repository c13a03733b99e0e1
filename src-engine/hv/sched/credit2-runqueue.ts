/**
 * Credit2 runqueues: the data structures, runqueue assignment of pCPUs and vCPUs, load tracking,
 * tickling, placement (pick_resource) and inter-runqueue load balancing. Xen keeps all of this in
 * xen/common/sched/credit2.c; it is split out of credit2.ts only to keep files readable.
 * Facts: spec/schedulers.md sections 2.2, 2.6 and 2.7.
 */
import { BALANCE_STEPS, balanceMask, hasSoftAffinity, maskAnd, maskCycle, maskFirst, maskHas, maskIntersects, maskTestOrCycle, NO_CPU } from './cpumask';
import type { Credit2Runqueue as Credit2Arrangement, SchedContext, SchedDomain, SchedTimer, SchedUnit } from './sched-ops';

/** CSCHED2_CREDIT_INIT: credit given at start and at every reset, 10 ms. */
export const CREDIT2_CREDIT_INIT = 10_000_000;
/** CSCHED2_CREDIT_MIN: floor of credit. */
export const CREDIT2_CREDIT_MIN = -CREDIT2_CREDIT_INIT;
/** CSCHED2_IDLE_CREDIT: the idle vCPU's credit, below everybody's. */
export const CREDIT2_IDLE_CREDIT = CREDIT2_CREDIT_MIN - 1;
/** CSCHED2_MIN_TIMER: shortest slice, 500 us. */
export const CREDIT2_MIN_TIMER = 500_000;
/** CSCHED2_CARRYOVER_MAX: credit above CREDIT_INIT kept across a reset. */
export const CREDIT2_CARRYOVER_MAX = CREDIT2_MIN_TIMER;
/** CSCHED2_MIGRATE_COMPENSATION: credit given to a vCPU pulled onto another pCPU, 50 us. */
export const CREDIT2_MIGRATE_COMPENSATION = 50_000;
/** CSCHED2_RATELIMIT_TICKLE_TOLERANCE: 50 us. */
export const CREDIT2_RATELIMIT_TICKLE_TOLERANCE = 50_000;
/** CSCHED2_MAX_TIMER = CREDIT_INIT: longest slice. */
export const CREDIT2_MAX_TIMER = CREDIT2_CREDIT_INIT;
/** LOADAVG_GRANULARITY_SHIFT: load is sampled in 1024 ns units. */
export const CREDIT2_LOADAVG_GRANULARITY_SHIFT = 10;
/** STIME_MAX as "no cap" budget. */
export const CREDIT2_NO_BUDGET = Infinity;

/** Per-vCPU credit2 data (csched2_unit). */
export interface Credit2Unit {
  unit: SchedUnit | null;
  idleCpu: number;
  sdom: Credit2Dom | null;
  rqd: Credit2Rq | null;
  credit: number;
  weight: number;
  residual: number;
  startTime: number;
  scheduled: boolean;
  delayedRunqAdd: boolean;
  runqMigrateRequest: boolean;
  yielding: boolean;
  pinned: boolean;
  onRunq: boolean;
  budget: number;
  budgetQuota: number;
  avgload: number;
  loadLastUpdate: number;
  tickledCpu: number;
  migrateRqd: Credit2Rq | null;
  isParked: boolean;
}

/** Per-domain credit2 data (csched2_dom). */
export interface Credit2Dom {
  dom: SchedDomain;
  weight: number;
  cap: number;
  totBudget: number;
  budget: number;
  nextRepl: number;
  replTimer: SchedTimer;
  parked: Credit2Unit[];
  nrUnits: number;
}

/** One runqueue (csched2_runqueue_data). */
export interface Credit2Rq {
  id: number;
  runq: Credit2Unit[];
  svc: Credit2Unit[];
  maxWeight: number;
  active: Set<number>;
  idle: Set<number>;
  tickled: Set<number>;
  load: number;
  avgload: number;
  bAvgload: number;
  loadLastUpdate: number;
  pickBias: number;
  nrCpus: number;
  refcnt: number;
}

/** Per-pCPU data (csched2_pcpu). */
export interface Credit2Pcpu {
  cpu: number;
  rqd: Credit2Rq;
  idle: Credit2Unit;
}

/** Per-pool credit2 state (csched2_private). */
export interface Credit2State {
  ctx: SchedContext;
  rql: Credit2Rq[];
  pcpus: Map<number, Credit2Pcpu>;
  ratelimitUs: number;
  runqueue: Credit2Arrangement;
  /** Internal window shift = credit2_load_window_shift - granularity shift. */
  loadWindowShift: number;
  loadPrecisionShift: number;
  migrateResist: number;
  capPeriod: number;
}

/** Sorted array of a set (masks kept as sets inside a runqueue). */
export function credit2Sorted(set: Set<number>): number[] {
  return [...set].sort((a, b) => a - b);
}

/** csched2_unit(). */
export function c2u(unit: SchedUnit): Credit2Unit {
  return unit.priv as Credit2Unit;
}

/** csched2_pcpu(). */
export function credit2Pcpu(s: Credit2State, cpu: number): Credit2Pcpu {
  const p = s.pcpus.get(cpu);
  if (!p) throw new Error(`credit2: pCPU ${cpu} is not in pool ${s.ctx.poolId}`);
  return p;
}

/** c2rqd(). */
export function credit2Rqd(s: Credit2State, cpu: number): Credit2Rq {
  return credit2Pcpu(s, cpu).rqd;
}

/** The svc running on a pCPU (its idle svc when idle). */
export function credit2Curr(s: Credit2State, cpu: number): Credit2Unit {
  const u = s.ctx.curr(cpu);
  return u ? c2u(u) : credit2Pcpu(s, cpu).idle;
}

/** has_cap(). */
export function credit2HasCap(svc: Credit2Unit): boolean {
  return svc.budget !== CREDIT2_NO_BUDGET;
}

/** Floor division by 2^shift for the load-average fixed point. */
function shr(x: number, shift: number): number {
  return Math.floor(x / 2 ** shift);
}

/** cpu_add_to_runqueue on a flat topology: which runqueue a pCPU joins. */
export function credit2CpuAddToRunqueue(s: Credit2State, cpu: number): Credit2Rq {
  const n = s.ctx.nrCpus;
  const maxCpusOpt = s.ctx.boot.credit2MaxCpusRunqueue;
  const minRqs = Math.floor((n - 1) / maxCpusOpt) + 1;
  const maxCpusRunq = Math.floor(n / minRqs);
  const shared = s.runqueue === 'socket' || s.runqueue === 'node' || s.runqueue === 'all';
  let valid: Credit2Rq | null = null;
  if (shared) {
    for (const rqd of s.rql) {
      if (rqd.refcnt < maxCpusRunq && rqd.active.size + 1 <= maxCpusRunq) {
        if (!valid || rqd.refcnt < valid.refcnt) valid = rqd;
      }
    }
  }
  if (!valid) {
    let id = 0;
    while (s.rql.some((r) => r.id === id)) id++;
    valid = {
      id,
      runq: [],
      svc: [],
      maxWeight: 1,
      active: new Set(),
      idle: new Set(),
      tickled: new Set(),
      load: 0,
      avgload: 0,
      bAvgload: 0,
      loadLastUpdate: 0,
      pickBias: cpu,
      nrCpus: 0,
      refcnt: 0,
    };
    s.rql.push(valid);
    s.rql.sort((a, b) => a.id - b.id);
  }
  valid.refcnt++;
  return valid;
}

/** update_max_weight. */
export function credit2UpdateMaxWeight(rqd: Credit2Rq, newWeight: number, oldWeight: number): void {
  if (newWeight > rqd.maxWeight) {
    rqd.maxWeight = newWeight;
  } else if (oldWeight === rqd.maxWeight) {
    let max = 1;
    for (const svc of rqd.svc) if (svc.weight > max) max = svc.weight;
    rqd.maxWeight = max;
  }
}

/** _runq_assign. */
export function credit2RunqAssignTo(svc: Credit2Unit, rqd: Credit2Rq): void {
  svc.rqd = rqd;
  rqd.svc.push(svc);
  credit2UpdateMaxWeight(rqd, svc.weight, 0);
  rqd.bAvgload += svc.avgload;
}

/** _runq_deassign. */
export function credit2RunqDeassign(svc: Credit2Unit): void {
  const rqd = svc.rqd;
  if (!rqd) return;
  rqd.svc.splice(rqd.svc.indexOf(svc), 1);
  credit2UpdateMaxWeight(rqd, 0, svc.weight);
  rqd.bAvgload = Math.max(rqd.bAvgload - svc.avgload, 0);
  svc.rqd = null;
}

/** update_runq_load: EWMA of the number of runnable vCPUs. */
export function credit2UpdateRunqLoad(s: Credit2State, rqd: Credit2Rq, change: number, nowNs: number): void {
  const W = s.loadWindowShift;
  const P = s.loadPrecisionShift;
  const now = shr(nowNs, CREDIT2_LOADAVG_GRANULARITY_SHIFT);
  const load = rqd.load;
  if (rqd.loadLastUpdate + 2 ** W < now) {
    rqd.avgload = load * 2 ** P;
    rqd.bAvgload = load * 2 ** P;
  } else {
    const delta = Math.max(0, now - rqd.loadLastUpdate);
    rqd.avgload = rqd.avgload + shr(delta * load * 2 ** P, W) - shr(delta * rqd.avgload, W);
    rqd.bAvgload = rqd.bAvgload + shr(delta * load * 2 ** P, W) - shr(delta * rqd.bAvgload, W);
  }
  rqd.load += change;
  rqd.loadLastUpdate = now;
}

/** update_svc_load: the vCPU's own runnable fraction. */
export function credit2UpdateSvcLoad(s: Credit2State, svc: Credit2Unit, change: number, nowNs: number): void {
  const W = s.loadWindowShift;
  const P = s.loadPrecisionShift;
  let unitLoad: number;
  if (change === -1) unitLoad = 1;
  else if (change === 1) unitLoad = 0;
  else unitLoad = svc.unit && svc.unit.runnable() ? 1 : 0;
  const now = shr(nowNs, CREDIT2_LOADAVG_GRANULARITY_SHIFT);
  if (svc.loadLastUpdate + 2 ** W < now) {
    svc.avgload = unitLoad * 2 ** P;
  } else {
    const delta = Math.max(0, now - svc.loadLastUpdate);
    svc.avgload = svc.avgload + shr(delta * unitLoad * 2 ** P, W) - shr(delta * svc.avgload, W);
  }
  svc.loadLastUpdate = now;
}

/** update_load. */
export function credit2UpdateLoad(s: Credit2State, rqd: Credit2Rq, svc: Credit2Unit | null, change: number, now: number): void {
  credit2UpdateRunqLoad(s, rqd, change, now);
  if (svc) credit2UpdateSvcLoad(s, svc, change, now);
}

/** runq_insert: sorted by credit, descending; equal credit goes behind (FIFO). */
export function credit2RunqInsert(svc: Credit2Unit): void {
  const rqd = svc.rqd;
  if (!rqd || svc.onRunq) throw new Error('credit2: bad runq insert');
  let i = 0;
  while (i < rqd.runq.length && !(svc.credit > rqd.runq[i].credit)) i++;
  rqd.runq.splice(i, 0, svc);
  svc.onRunq = true;
}

/** runq_remove. */
export function credit2RunqRemove(svc: Credit2Unit): void {
  const rqd = svc.rqd;
  if (!rqd || !svc.onRunq) throw new Error('credit2: bad runq remove');
  rqd.runq.splice(rqd.runq.indexOf(svc), 1);
  svc.onRunq = false;
}

/** t2c_update + burn_credits: charge the running vCPU for the time since start_time. */
export function credit2BurnCredits(rqd: Credit2Rq, svc: Credit2Unit, now: number): void {
  if (!svc.unit) return;
  const delta = now - svc.startTime;
  if (delta <= 0) return;
  const val = delta * rqd.maxWeight + svc.residual;
  svc.residual = val % svc.weight;
  const credit = svc.credit - Math.floor(val / svc.weight);
  svc.credit = credit < CREDIT2_CREDIT_MIN ? CREDIT2_CREDIT_MIN : credit;
  if (credit2HasCap(svc)) svc.budget -= delta;
  svc.startTime = now;
}

/** tickle_cpu. */
export function credit2TickleCpu(s: Credit2State, cpu: number, rqd: Credit2Rq): void {
  rqd.tickled.add(cpu);
  s.ctx.tickle(cpu);
}

/** Xen's smt_idle mask on a flat topology: idle and not tickled. */
function credit2SmtIdle(rqd: Credit2Rq): number[] {
  return credit2Sorted(rqd.idle).filter((c) => !rqd.tickled.has(c));
}

/** is_preemptable. */
function credit2IsPreemptable(svc: Credit2Unit, now: number, ratelimit: number): boolean {
  if (ratelimit <= CREDIT2_RATELIMIT_TICKLE_TOLERANCE) return true;
  const unit = svc.unit as SchedUnit;
  return now - unit.stateEntryTime > ratelimit - CREDIT2_RATELIMIT_TICKLE_TOLERANCE;
}

/** tickle_score. */
function credit2TickleScore(s: Credit2State, now: number, nsvc: Credit2Unit, cpu: number): number {
  const rqd = credit2Rqd(s, cpu);
  const cur = credit2Curr(s, cpu);
  if (!cur.unit || !credit2IsPreemptable(cur, now, s.ratelimitUs * 1000)) return -1;
  credit2BurnCredits(rqd, cur, now);
  const nunit = nsvc.unit as SchedUnit;
  let score = nsvc.credit - cur.credit;
  if (nunit.pcpu !== cpu) score -= s.migrateResist;
  if (score > 0) {
    if (maskHas(nunit.soft, cpu)) score += CREDIT2_CREDIT_INIT;
    if (!maskHas(cur.unit.soft, cpu)) score += CREDIT2_CREDIT_INIT;
  }
  return score;
}

/** runq_tickle: find a pCPU to run `nsvc` (idle first, else the best one to preempt). */
export function credit2RunqTickle(s: Credit2State, nsvc: Credit2Unit, now: number): void {
  const unit = nsvc.unit;
  if (!unit) return;
  const cpu = unit.pcpu;
  const rqd = credit2Rqd(s, cpu);
  const online = s.ctx.cpus();
  let ipid = NO_CPU;
  if (nsvc.pinned && rqd.idle.has(cpu) && !rqd.tickled.has(cpu)) {
    ipid = cpu;
  } else {
    let scratch: readonly number[] = [];
    for (const step of BALANCE_STEPS) {
      if (step === 'soft' && !hasSoftAffinity(unit, online)) continue;
      scratch = balanceMask(unit, step);
      let mask = maskAnd(maskAnd(credit2SmtIdle(rqd), online), scratch);
      let i = maskTestOrCycle(cpu, mask);
      if (i !== NO_CPU) {
        ipid = i;
        break;
      }
      scratch = maskAnd(scratch, online);
      mask = maskAnd(credit2Sorted(rqd.idle).filter((c) => !rqd.tickled.has(c)), scratch);
      i = maskTestOrCycle(cpu, mask);
      if (i !== NO_CPU) {
        ipid = i;
        break;
      }
    }
    if (ipid === NO_CPU) {
      const busy = credit2Sorted(rqd.active).filter((c) => !rqd.idle.has(c) && !rqd.tickled.has(c) && maskHas(scratch, c));
      let max = 0;
      let done = false;
      if (busy.includes(cpu)) {
        const score = credit2TickleScore(s, now, nsvc, cpu);
        if (score > max) {
          max = score;
          ipid = cpu;
          if (maskHas(unit.soft, cpu)) done = true;
        }
      }
      if (!done) {
        for (const i of busy) {
          if (i === cpu) continue;
          const score = credit2TickleScore(s, now, nsvc, i);
          if (score > max) {
            max = score;
            ipid = i;
          }
        }
      }
      if (ipid === NO_CPU) return;
    }
  }
  credit2TickleCpu(s, ipid, rqd);
  nsvc.tickledCpu = ipid;
}

/** get_fallback_cpu. */
function credit2FallbackCpu(s: Credit2State, svc: Credit2Unit): number {
  const unit = svc.unit as SchedUnit;
  const online = s.ctx.cpus();
  for (const step of BALANCE_STEPS) {
    if (step === 'soft' && !hasSoftAffinity(unit, online)) continue;
    const mask = maskAnd(balanceMask(unit, step), online);
    if (maskHas(mask, unit.pcpu)) return unit.pcpu;
    const inRq = svc.rqd ? mask.filter((c) => svc.rqd?.active.has(c)) : [];
    if (inRq.length > 0) return inRq[0];
    if (step === 'hard' && mask.length > 0) return mask[0];
  }
  return maskFirst(online);
}

/** csched2_res_pick: the least loaded runqueue allowed (soft-affine ones first). */
export function credit2ResPick(s: Credit2State, unit: SchedUnit): number {
  const svc = c2u(unit);
  const online = s.ctx.cpus();
  let scratch = maskAnd(unit.hard, online);
  if (svc.runqMigrateRequest) {
    svc.runqMigrateRequest = false;
    const target = svc.migrateRqd;
    if (target && s.rql.includes(target) && maskIntersects(scratch, credit2Sorted(target.active))) {
      const c = maskCycle(target.pickBias, maskAnd(scratch, credit2Sorted(target.active)));
      target.pickBias = c;
      return c;
    }
  }
  const hasSoft = hasSoftAffinity(unit, online);
  let minAvg = Infinity;
  let minSAvg = Infinity;
  let minRqd: Credit2Rq | null = null;
  let minSRqd: Credit2Rq | null = null;
  for (const rqd of s.rql) {
    const active = credit2Sorted(rqd.active);
    if (!maskIntersects(scratch, active)) continue;
    const avg = rqd === svc.rqd ? Math.max(rqd.bAvgload - svc.avgload, 0) : rqd.bAvgload;
    if (hasSoft && avg < minSAvg && maskIntersects(maskAnd(scratch, active), unit.soft)) {
      minSAvg = avg;
      minSRqd = rqd;
    }
    if (avg < minAvg) {
      minAvg = avg;
      minRqd = rqd;
    }
  }
  if (hasSoft && minSRqd) {
    scratch = maskAnd(maskAnd(scratch, unit.soft), credit2Sorted(minSRqd.active));
    minRqd = minSRqd;
  } else if (minRqd) {
    scratch = maskAnd(scratch, credit2Sorted(minRqd.active));
  } else {
    return credit2FallbackCpu(s, svc);
  }
  const c = maskCycle(minRqd.pickBias, scratch);
  minRqd.pickBias = c;
  return c;
}

/** migrate(): move `svc` to runqueue `trqd` (deferred if it is running). */
export function credit2Migrate(s: Credit2State, svc: Credit2Unit, trqd: Credit2Rq, now: number): void {
  const unit = svc.unit as SchedUnit;
  if (svc.scheduled) {
    svc.migrateRqd = trqd;
    s.ctx.setPauseFlag(unit, 'migrating', true);
    svc.runqMigrateRequest = true;
    if (svc.rqd) credit2TickleCpu(s, unit.pcpu, svc.rqd);
    return;
  }
  let onRunq = false;
  if (svc.onRunq && svc.rqd) {
    credit2RunqRemove(svc);
    credit2UpdateLoad(s, svc.rqd, null, -1, now);
    onRunq = true;
  }
  credit2RunqDeassign(svc);
  const mask = maskAnd(maskAnd(unit.hard, s.ctx.cpus()), credit2Sorted(trqd.active));
  s.ctx.setRes(unit, maskCycle(trqd.pickBias, mask));
  trqd.pickBias = unit.pcpu;
  credit2RunqAssignTo(svc, trqd);
  if (onRunq) {
    credit2UpdateLoad(s, trqd, null, 1, now);
    credit2RunqInsert(svc);
    credit2RunqTickle(s, svc, now);
  }
}

function credit2IsMigrateable(s: Credit2State, svc: Credit2Unit, rqd: Credit2Rq): boolean {
  const unit = svc.unit as SchedUnit;
  return !svc.runqMigrateRequest && maskIntersects(maskAnd(unit.hard, s.ctx.cpus()), credit2Sorted(rqd.active));
}

/** balance_load: push, pull or swap between this runqueue and the most different one. */
export function credit2BalanceLoad(s: Credit2State, cpu: number, now: number): void {
  const lrqd = credit2Rqd(s, cpu);
  credit2UpdateRunqLoad(s, lrqd, 0, now);
  let maxDeltaRqd: Credit2Rq | null = null;
  let loadDelta = 0;
  for (const rqd of s.rql) {
    if (rqd === lrqd) continue;
    credit2UpdateRunqLoad(s, rqd, 0, now);
    const d = Math.abs(lrqd.bAvgload - rqd.bAvgload);
    if (d > loadDelta) {
      loadDelta = d;
      maxDeltaRqd = rqd;
    }
  }
  if (!maxDeltaRqd) return;
  const orqd = maxDeltaRqd;
  // Xen reads st.orqd here, which after its scan loop is the last runqueue of the list (possibly
  // this one), not the most different one: reproduced.
  const lastScanned = s.rql[s.rql.length - 1];
  const loadMax = Math.max(lrqd.bAvgload, lastScanned.bAvgload);
  const cpusMax = Math.max(lrqd.nrCpus, lastScanned.nrCpus);
  const P = s.loadPrecisionShift;
  const tolerance =
    loadMax < cpusMax * 2 ** P ? 2 ** (P + s.ctx.boot.credit2BalanceUnder) : 2 ** (P + s.ctx.boot.credit2BalanceOver);
  if (loadDelta < tolerance) return;
  let bestPush: Credit2Unit | null = null;
  let bestPull: Credit2Unit | null = null;
  const consider = (push: Credit2Unit | null, pull: Credit2Unit | null): void => {
    let l = lrqd.bAvgload;
    let o = orqd.bAvgload;
    if (push) {
      l -= push.avgload;
      o += push.avgload;
    }
    if (pull) {
      l += pull.avgload;
      o -= pull.avgload;
    }
    const d = Math.abs(l - o);
    if (d < loadDelta) {
      loadDelta = d;
      bestPush = push;
      bestPull = pull;
    }
  };
  let innerUpdated = false;
  for (const push of [...lrqd.svc]) {
    credit2UpdateSvcLoad(s, push, 0, now);
    if (!credit2IsMigrateable(s, push, orqd)) continue;
    for (const pull of [...orqd.svc]) {
      if (!innerUpdated) credit2UpdateSvcLoad(s, pull, 0, now);
      if (!credit2IsMigrateable(s, pull, lrqd)) continue;
      consider(push, pull);
    }
    innerUpdated = true;
    consider(push, null);
  }
  for (const pull of [...orqd.svc]) {
    if (!credit2IsMigrateable(s, pull, lrqd)) continue;
    consider(null, pull);
  }
  const push = bestPush as Credit2Unit | null;
  const pull = bestPull as Credit2Unit | null;
  if (push) credit2Migrate(s, push, orqd, now);
  if (pull) credit2Migrate(s, pull, lrqd, now);
}

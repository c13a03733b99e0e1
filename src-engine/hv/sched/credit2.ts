/**
 * Credit2: Xen's default scheduler, xen/common/sched/credit2.c, restated in spec/schedulers.md
 * section 2. Runqueue, load and tickle machinery live in credit2-runqueue.ts, caps in
 * credit2-budget.ts.
 *
 * Design
 * ------
 * - vCPUs burn credit at a rate inversely proportional to their weight (the heaviest vCPU of the
 *   runqueue burns 1 credit/ns); every runqueue is sorted by credit and a pCPU runs the vCPU with
 *   the most credit. When the best candidate's credit reaches 0 an epoch ends: everybody on the
 *   runqueue gets CREDIT_INIT more (carry-over clipped at 10.5 ms).
 * - Slices are "run until your credit falls to the next waiter's", clamped to [0.5 ms, 10 ms] and
 *   to the ratelimit; there is no wake-up boost (sleepers simply have more credit).
 * - Runqueues follow the `credit2_runqueue` arrangement; on our flat topology socket/node/all give
 *   one runqueue per pool (at most 16 pCPUs each), cpu/core one per pCPU. With one runqueue every
 *   pCPU picks from the same queue, which makes credit2 SMP-fair without balancing; with several,
 *   balance_load runs at every epoch end.
 * - Caps: per-domain budget replenished every 10 ms, grabbed per vCPU, parking when empty.
 * - The runqueue arrangement may be changed at run time (our extension): all pCPUs and vCPUs are
 *   re-assigned to the new runqueues on the spot.
 */
import { hasSoftAffinity, balanceMask, maskHas, maskAnd } from './cpumask';
import { creditCheckDomainUpdate, checkRatelimit } from './credit';
import { credit2GrabBudget, credit2Replenish, credit2ReturnBudget, credit2SetCap, credit2UnparkUnits } from './credit2-budget';
import {
  CREDIT2_CARRYOVER_MAX,
  CREDIT2_CREDIT_INIT,
  CREDIT2_CREDIT_MIN,
  CREDIT2_IDLE_CREDIT,
  CREDIT2_LOADAVG_GRANULARITY_SHIFT,
  CREDIT2_MIGRATE_COMPENSATION,
  CREDIT2_NO_BUDGET,
  c2u,
  credit2BalanceLoad,
  credit2BurnCredits,
  credit2CpuAddToRunqueue,
  credit2Curr,
  credit2HasCap,
  credit2Migrate,
  credit2Pcpu,
  credit2ResPick,
  credit2Rqd,
  credit2RunqAssignTo,
  credit2RunqDeassign,
  credit2RunqInsert,
  credit2RunqRemove,
  credit2RunqTickle,
  credit2Sorted,
  credit2TickleCpu,
  credit2UpdateLoad,
  credit2UpdateMaxWeight,
  type Credit2Dom,
  type Credit2Rq,
  type Credit2State,
  type Credit2Unit,
} from './credit2-runqueue';
import {
  SCHED_ID,
  registerScheduler,
  type Credit2Runqueue,
  type DomainSchedUpdate,
  type PoolSchedParams,
  type PoolSchedUpdate,
  type SchedContext,
  type SchedDecision,
  type SchedDomain,
  type SchedOps,
  type SchedUnit,
} from './sched-ops';
import { schedRefuse } from './sched-error';
import { CREDIT2_CREDIT_RESET, credit2PeekBlock, credit2PeekNext, credit2SliceLength } from './credit2-peek';

export type { Credit2State } from './credit2-runqueue';

/** CSCHED2_DEFAULT_WEIGHT. */
export const CREDIT2_DEFAULT_WEIGHT = 256;
const NS_PER_US = 1000;
const NS_PER_MS = 1_000_000;
/** Valid `credit2_runqueue` values. */
const CREDIT2_ARRANGEMENTS: readonly Credit2Runqueue[] = ['cpu', 'core', 'socket', 'node', 'all'];

function credit2NewUnit(s: Credit2State, unit: SchedUnit | null, sdom: Credit2Dom | null, idleCpu: number): Credit2Unit {
  return {
    unit,
    idleCpu,
    sdom,
    rqd: null,
    credit: unit ? CREDIT2_CREDIT_INIT : CREDIT2_IDLE_CREDIT,
    weight: sdom ? sdom.weight : 0,
    residual: 0,
    startTime: 0,
    scheduled: false,
    delayedRunqAdd: false,
    runqMigrateRequest: false,
    yielding: false,
    pinned: unit ? unit.hard.length === 1 : false,
    onRunq: false,
    budget: CREDIT2_NO_BUDGET,
    budgetQuota: 0,
    avgload: 2 ** (s.loadPrecisionShift - 1),
    loadLastUpdate: Math.floor(s.ctx.now() / 2 ** CREDIT2_LOADAVG_GRANULARITY_SHIFT),
    tickledCpu: -1,
    migrateRqd: null,
    isParked: false,
  };
}

/** reset_credit: end of an epoch on this runqueue. */
function credit2ResetCredit(s: Credit2State, cpu: number, now: number, snext: Credit2Unit): void {
  const rqd = credit2Rqd(s, cpu);
  let reset = CREDIT2_CREDIT_INIT;
  if (snext.credit === CREDIT2_CREDIT_MIN) reset += CREDIT2_CREDIT_INIT;
  for (const svc of rqd.svc) {
    const unit = svc.unit as SchedUnit;
    if (s.ctx.curr(unit.pcpu) === unit) {
      credit2BurnCredits(rqd, svc, now);
      if (svc.budget <= 0) credit2TickleCpu(s, unit.pcpu, rqd);
    }
    svc.credit += reset;
    if (svc.credit > CREDIT2_CREDIT_INIT + CREDIT2_CARRYOVER_MAX) svc.credit = CREDIT2_CREDIT_INIT + CREDIT2_CARRYOVER_MAX;
    svc.startTime = now;
  }
}

/** csched2_runtime: how long snext may run. */
function credit2Runtime(s: Credit2State, cpu: number, snext: Credit2Unit, now: number, inflightCredit: number): number {
  const unit = snext.unit;
  if (!unit) return -1;
  const rqd = credit2Rqd(s, cpu);
  return credit2SliceLength(s, rqd.maxWeight, unit, snext.credit, snext.weight, snext.budget, now, rqd.runq[0]?.credit, inflightCredit);
}

/** runq_candidate. */
function credit2RunqCandidate(s: Credit2State, rqd: Credit2Rq, scurr: Credit2Unit, cpu: number, now: number): Credit2Unit {
  let snext: Credit2Unit;
  let yielding = false;
  const cur = scurr.unit;
  if (!cur) {
    snext = scurr;
  } else {
    yielding = scurr.yielding;
    scurr.yielding = false;
    if (!yielding && s.ratelimitUs > 0 && cur.runnable() && now - cur.stateEntryTime < s.ratelimitUs * NS_PER_US) {
      return scurr;
    }
    let softAffPreempt = false;
    const online = s.ctx.cpus();
    if (hasSoftAffinity(cur, online)) {
      const soft = balanceMask(cur, 'soft');
      if (!maskHas(soft, cpu)) {
        const idleSoft = soft.filter((c) => rqd.idle.has(c) && !rqd.tickled.has(c));
        softAffPreempt = maskAnd(idleSoft, online).length > 0;
      }
    }
    snext = cur.runnable() && !softAffPreempt ? scurr : credit2Pcpu(s, cpu).idle;
  }
  for (const svc of [...rqd.runq]) {
    if (!yielding && svc.credit <= snext.credit) break;
    const unit = svc.unit as SchedUnit;
    if (!unit.runnable()) continue;
    if (!maskHas(unit.hard, cpu)) continue;
    if (svc.tickledCpu !== -1 && svc.tickledCpu !== cpu && rqd.tickled.has(svc.tickledCpu)) continue;
    if (unit.pcpu !== cpu && snext.credit + s.migrateResist > svc.credit) continue;
    if (credit2HasCap(svc) && !credit2GrabBudget(s, svc)) continue;
    snext = svc;
    break;
  }
  return snext;
}

/** csched2_schedule. */
function credit2DoSchedule(s: Credit2State, cpu: number, prev: SchedUnit | null, now: number, forceIdle: boolean): SchedDecision {
  const rqd = credit2Rqd(s, cpu);
  const scurr = prev ? c2u(prev) : credit2Pcpu(s, cpu).idle;
  let inflightCredit = 0;
  let migrated = false;
  rqd.tickled.delete(cpu);
  credit2BurnCredits(rqd, scurr, now);
  if (scurr.budget <= 0) credit2GrabBudget(s, scurr);
  let snext: Credit2Unit;
  if (forceIdle) {
    scurr.yielding = false;
    snext = credit2Pcpu(s, cpu).idle;
  } else {
    snext = credit2RunqCandidate(s, rqd, scurr, cpu, now);
  }
  if (snext !== scurr && prev && prev.runnable()) scurr.delayedRunqAdd = true;
  if (snext.unit) {
    if (snext !== scurr) {
      credit2RunqRemove(snext);
      snext.scheduled = true;
    } else {
      credit2UpdateLoad(s, rqd, snext, 0, now);
    }
    rqd.idle.delete(cpu);
    const topCredit = rqd.runq.length === 0 ? snext.credit : Math.max(snext.credit, rqd.runq[0].credit);
    if (topCredit <= CREDIT2_CREDIT_RESET) {
      credit2ResetCredit(s, cpu, now, snext);
      credit2BalanceLoad(s, cpu, now);
    }
    if (scurr.delayedRunqAdd) inflightCredit = scurr.credit;
    snext.startTime = now;
    snext.tickledCpu = -1;
    if (snext.unit.pcpu !== cpu) {
      snext.credit += CREDIT2_MIGRATE_COMPENSATION;
      s.ctx.setRes(snext.unit, cpu);
      migrated = true;
    }
  } else {
    if (forceIdle) rqd.idle.delete(cpu);
    else rqd.idle.add(cpu);
    credit2UpdateLoad(s, rqd, null, 0, now);
  }
  return { next: snext.unit, time: credit2Runtime(s, cpu, snext, now, inflightCredit), migrated };
}

/** csched2_context_saved. */
function credit2ContextSaved(s: Credit2State, unit: SchedUnit): void {
  const svc = c2u(unit);
  const now = s.ctx.now();
  svc.scheduled = false;
  let wereParked: Credit2Unit[] = [];
  if (credit2HasCap(svc) && svc.budget > 0) wereParked = credit2ReturnBudget(svc);
  const delayed = svc.delayedRunqAdd;
  svc.delayedRunqAdd = false;
  if (delayed && unit.runnable()) {
    credit2RunqInsert(svc);
    credit2RunqTickle(s, svc, now);
  } else if (svc.rqd) {
    credit2UpdateLoad(s, svc.rqd, svc, -1, now);
  }
  credit2UnparkUnits(s, wereParked);
}

function credit2Wake(s: Credit2State, unit: SchedUnit): void {
  const svc = c2u(unit);
  if (s.ctx.curr(unit.pcpu) === unit || svc.onRunq) return;
  if (svc.scheduled) {
    svc.delayedRunqAdd = true;
    return;
  }
  if (!svc.rqd) credit2RunqAssignTo(svc, credit2Rqd(s, unit.pcpu));
  const now = s.ctx.now();
  credit2UpdateLoad(s, svc.rqd as Credit2Rq, svc, 1, now);
  credit2RunqInsert(svc);
  credit2RunqTickle(s, svc, now);
}

function credit2Sleep(s: Credit2State, unit: SchedUnit): void {
  const svc = c2u(unit);
  if (s.ctx.curr(unit.pcpu) === unit) {
    if (svc.rqd) credit2TickleCpu(s, unit.pcpu, svc.rqd);
  } else if (svc.onRunq) {
    credit2UpdateLoad(s, svc.rqd as Credit2Rq, svc, -1, s.ctx.now());
    credit2RunqRemove(svc);
  } else {
    svc.delayedRunqAdd = false;
  }
}

function credit2InsertUnit(s: Credit2State, unit: SchedUnit): void {
  const sdom = unit.domain.priv as Credit2Dom;
  const svc = credit2NewUnit(s, unit, sdom, -1);
  unit.priv = svc;
  s.ctx.setRes(unit, credit2ResPick(s, unit));
  credit2RunqAssignTo(svc, credit2Rqd(s, unit.pcpu));
  sdom.nrUnits++;
}

function credit2RemoveUnit(_s: Credit2State, unit: SchedUnit): void {
  const svc = c2u(unit);
  if (svc.onRunq) credit2RunqRemove(svc);
  if (svc.isParked && svc.sdom) {
    svc.sdom.parked.splice(svc.sdom.parked.indexOf(svc), 1);
    svc.isParked = false;
  }
  credit2RunqDeassign(svc);
  if (svc.sdom) svc.sdom.nrUnits--;
}

/** csched2_unit_migrate. */
function credit2MigrateHook(s: Credit2State, unit: SchedUnit, cpu: number): void {
  const svc = c2u(unit);
  const trqd = credit2Rqd(s, cpu);
  if (trqd !== svc.rqd) credit2Migrate(s, svc, trqd, s.ctx.now());
  else s.ctx.setRes(unit, cpu);
}

function credit2InitPcpu(s: Credit2State, cpu: number): void {
  const rqd = credit2CpuAddToRunqueue(s, cpu);
  if (rqd.nrCpus === 0) rqd.maxWeight = 1;
  rqd.idle.add(cpu);
  rqd.active.add(cpu);
  rqd.nrCpus++;
  if (rqd.nrCpus === 1) rqd.pickBias = cpu;
  s.pcpus.set(cpu, { cpu, rqd, idle: credit2NewUnit(s, null, null, cpu) });
}

function credit2DeinitPcpu(s: Credit2State, cpu: number): void {
  const rqd = credit2Rqd(s, cpu);
  rqd.idle.delete(cpu);
  rqd.active.delete(cpu);
  rqd.tickled.delete(cpu);
  rqd.nrCpus--;
  if (rqd.nrCpus > 0 && rqd.pickBias === cpu) rqd.pickBias = credit2Sorted(rqd.active)[0];
  rqd.refcnt--;
  if (rqd.refcnt === 0) s.rql.splice(s.rql.indexOf(rqd), 1);
  s.pcpus.delete(cpu);
}

/** Our extension: rebuild the runqueues for a new arrangement, keeping every vCPU where it is. */
function credit2Rearrange(s: Credit2State, arrangement: Credit2Runqueue): void {
  if (arrangement === s.runqueue) return;
  const cpus = [...s.pcpus.keys()].sort((a, b) => a - b);
  const units = s.rql.flatMap((r) => r.svc);
  const queued = units.filter((v) => v.onRunq);
  for (const v of queued) credit2RunqRemove(v);
  for (const v of units) credit2RunqDeassign(v);
  const idles = new Map(cpus.map((c) => [c, credit2Pcpu(s, c).idle]));
  const busy = new Set(cpus.filter((c) => s.ctx.curr(c) !== null));
  s.rql = [];
  s.pcpus.clear();
  s.runqueue = arrangement;
  for (const c of cpus) {
    credit2InitPcpu(s, c);
    const p = credit2Pcpu(s, c);
    p.idle = idles.get(c) as Credit2Unit;
    if (busy.has(c)) p.rqd.idle.delete(c);
  }
  const now = s.ctx.now();
  for (const v of units) {
    const unit = v.unit as SchedUnit;
    credit2RunqAssignTo(v, credit2Rqd(s, unit.pcpu));
  }
  for (const r of s.rql) r.load = 0;
  for (const v of units) {
    const unit = v.unit as SchedUnit;
    if (v.onRunq || unit.isRunning || queued.includes(v)) (v.rqd as Credit2Rq).load++;
  }
  for (const v of queued) {
    credit2RunqInsert(v);
    credit2RunqTickle(s, v, now);
  }
}

function credit2Init(ctx: SchedContext): Credit2State {
  const b = ctx.boot;
  return {
    ctx,
    rql: [],
    pcpus: new Map(),
    ratelimitUs: b.ratelimitUs,
    runqueue: b.credit2Runqueue,
    loadWindowShift: b.credit2LoadWindowShift - CREDIT2_LOADAVG_GRANULARITY_SHIFT,
    loadPrecisionShift: b.credit2LoadPrecisionShift,
    migrateResist: b.credit2MigrateResistUs * NS_PER_US,
    capPeriod: b.credit2CapPeriodMs * NS_PER_MS,
  };
}

function credit2SetDomainParams(s: Credit2State, dom: SchedDomain, p: DomainSchedUpdate): void {
  if (p.sched !== 'credit2') return;
  creditCheckDomainUpdate(dom, p.weight, p.cap);
  const sdom = dom.priv as Credit2Dom;
  if (p.weight !== undefined && p.weight !== 0) {
    const old = sdom.weight;
    sdom.weight = p.weight;
    for (const unit of dom.units) {
      const svc = c2u(unit);
      svc.weight = sdom.weight;
      if (svc.rqd) credit2UpdateMaxWeight(svc.rqd, svc.weight, old);
    }
  }
  if (p.cap !== undefined) credit2SetCap(s, sdom, p.cap);
}

function credit2SetPoolParams(s: Credit2State, p: PoolSchedUpdate): void {
  if (p.sched !== 'credit2') return;
  if (p.ratelimitUs !== undefined) checkRatelimit(p.ratelimitUs);
  if (p.runqueue !== undefined && !CREDIT2_ARRANGEMENTS.includes(p.runqueue)) {
    throw schedRefuse('sched.credit2-runqueue', 'EINVAL', `Unknown credit2 runqueue arrangement "${String(p.runqueue)}": use cpu, core, socket, node or all.`);
  }
  if (p.ratelimitUs !== undefined) s.ratelimitUs = p.ratelimitUs;
  if (p.runqueue !== undefined) credit2Rearrange(s, p.runqueue);
}

function credit2GetPoolParams(s: Credit2State): PoolSchedParams {
  return { sched: 'credit2', ratelimitUs: s.ratelimitUs, runqueue: s.runqueue };
}

function credit2Dump(s: Credit2State): string[] {
  const lines = [`credit2 pool ${s.ctx.poolId}: ratelimit=${s.ratelimitUs}us runqueue=${s.runqueue} runqueues=${s.rql.length}`];
  for (const r of s.rql) {
    const q = r.runq.map((v) => `d${v.unit?.domid}v${v.unit?.vcpuId}(cr=${v.credit})`);
    lines.push(`  rq ${r.id}: cpus=${credit2Sorted(r.active).join(',')} max_weight=${r.maxWeight} load=${r.load} runq=[${q.join(' ')}]`);
  }
  for (const [cpu] of [...s.pcpus].sort((a, b) => a[0] - b[0])) {
    const cur = credit2Curr(s, cpu);
    lines.push(`  cpu ${cpu}: ${cur.unit ? `d${cur.unit.domid}v${cur.unit.vcpuId} credit=${cur.credit}` : 'idle'}`);
  }
  return lines;
}

/** The credit2 scheduler. */
export const credit2Ops: SchedOps<Credit2State> = {
  name: 'credit2',
  id: SCHED_ID.credit2,
  longName: 'SMP Credit Scheduler rev2',
  init: credit2Init,
  deinit: () => {},
  initPcpu: credit2InitPcpu,
  deinitPcpu: credit2DeinitPcpu,
  initDomain: (s, dom) => {
    const sdom: Credit2Dom = {
      dom,
      weight: CREDIT2_DEFAULT_WEIGHT,
      cap: 0,
      totBudget: 0,
      budget: 0,
      nextRepl: 0,
      replTimer: s.ctx.createTimer(`credit2 budget d${dom.domid}`, () => credit2Replenish(s, sdom)),
      parked: [],
      nrUnits: 0,
    };
    dom.priv = sdom;
  },
  destroyDomain: (_s, dom) => {
    (dom.priv as Credit2Dom).replTimer.stop();
    dom.priv = undefined;
  },
  insertUnit: credit2InsertUnit,
  removeUnit: credit2RemoveUnit,
  sleep: credit2Sleep,
  wake: credit2Wake,
  yield: (_s, unit) => {
    c2u(unit).yielding = true;
  },
  doSchedule: credit2DoSchedule,
  peekNext: credit2PeekNext,
  peekBlock: credit2PeekBlock,
  contextSaved: credit2ContextSaved,
  pickResource: (s, unit) => credit2ResPick(s, unit),
  migrate: credit2MigrateHook,
  adjustAffinity: (_s, unit, hard) => {
    if (hard) c2u(unit).pinned = hard.length === 1;
  },
  getDomainParams: (_s, dom) => {
    const sdom = dom.priv as Credit2Dom;
    return { sched: 'credit2', weight: sdom.weight, cap: sdom.cap };
  },
  setDomainParams: credit2SetDomainParams,
  getPoolParams: credit2GetPoolParams,
  setPoolParams: credit2SetPoolParams,
  dump: credit2Dump,
  inspectUnit: (_s, unit) => {
    const v = c2u(unit);
    return { credit: v.credit, weight: v.weight, budget: v.budget, runqueue: v.rqd ? v.rqd.id : -1, avgload: v.avgload, parked: v.isParked };
  },
};

registerScheduler(credit2Ops);

/**
 * Credit1 run queues: the data of csched_private / csched_pcpu / csched_unit / csched_dom, run
 * queue insertion and removal, tickling on wake, pCPU placement (_csched_cpu_pick) and work
 * stealing (csched_load_balance). Xen keeps all of this in xen/common/sched/credit.c; it is split
 * out of credit.ts only to keep files readable. Facts: spec/schedulers.md sections 1.2, 1.6-1.9.
 */
import { maskAnd, maskCycle, maskHas, BALANCE_STEPS, NO_CPU, balanceMask, hasSoftAffinity } from './cpumask';
import type { SchedContext, SchedDomain, SchedTimer, SchedUnit } from './sched-ops';

/** CSCHED_PRI_TS_BOOST: just woke from a block with credit (higher runs first). */
export const PRI_BOOST = 0;
/** CSCHED_PRI_TS_UNDER: credit >= 0. */
export const PRI_UNDER = -1;
/** CSCHED_PRI_TS_OVER: credit < 0. */
export const PRI_OVER = -2;
/** CSCHED_PRI_IDLE: the idle vCPU. */
export const PRI_IDLE = -64;

/** Per-vCPU credit1 data (csched_unit); the idle vCPU of a pCPU has one too. */
export interface CreditUnit {
  /** null for a pCPU's idle vCPU. */
  unit: SchedUnit | null;
  /** For the idle vCPU: its pCPU. */
  idleCpu: number;
  sdom: CreditDom | null;
  startTime: number;
  pri: number;
  credit: number;
  residual: number;
  lastSchedTime: number;
  parked: boolean;
  yielding: boolean;
  migrating: boolean;
  pinned: boolean;
  /** pCPU whose run queue holds us, -1 if none. */
  runqCpu: number;
  /** On its domain's active list. */
  active: boolean;
}

/** Per-domain credit1 data (csched_dom). */
export interface CreditDom {
  dom: SchedDomain;
  activeUnits: CreditUnit[];
  weight: number;
  cap: number;
  /** On the pool's active-domain list. */
  active: boolean;
}

/** Per-pCPU credit1 data (csched_pcpu). */
export interface CreditPcpu {
  cpu: number;
  runq: CreditUnit[];
  runqSortLast: number;
  nrRunnable: number;
  lastLoadBalance: number;
  tick: number;
  ticker: SchedTimer;
  idle: CreditUnit;
}

/** Per-pool credit1 state (csched_private). */
export interface CreditState {
  ctx: SchedContext;
  pcpus: Map<number, CreditPcpu>;
  idlers: Set<number>;
  balanceBias: number;
  runqSort: number;
  ncpus: number;
  tickPeriodUs: number;
  ticksPerTslice: number;
  ratelimit: number;
  tslice: number;
  unitMigrDelay: number;
  loadBalanceRatelimit: number;
  activeDoms: CreditDom[];
  weight: number;
  credit: number;
  creditBalance: number;
  creditsPerTslice: number;
  master: number;
  masterTicker: SchedTimer;
  lastTickleCpu: number;
}

/** CSCHED_UNIT(). */
export function cu(unit: SchedUnit): CreditUnit {
  return unit.priv as CreditUnit;
}

/** CSCHED_PCPU(). */
export function creditPcpu(s: CreditState, cpu: number): CreditPcpu {
  const p = s.pcpus.get(cpu);
  if (!p) throw new Error(`credit: pCPU ${cpu} is not in pool ${s.ctx.poolId}`);
  return p;
}

/** The credit unit running on a pCPU (its idle unit when idle). */
export function creditCurr(s: CreditState, cpu: number): CreditUnit {
  const u = s.ctx.curr(cpu);
  return u ? cu(u) : creditPcpu(s, cpu).idle;
}

/** The pCPU a credit unit belongs to. */
export function creditUnitCpu(svc: CreditUnit): number {
  return svc.unit ? svc.unit.pcpu : svc.idleCpu;
}

/** The idlers mask as a sorted set. */
export function creditIdlers(s: CreditState): number[] {
  return [...s.idlers].sort((a, b) => a - b);
}
/** __runq_insert: behind every vCPU of equal or higher priority; a yielder one further back. */
export function creditRunqInsertRaw(s: CreditState, svc: CreditUnit): void {
  const cpu = creditUnitCpu(svc);
  const runq = creditPcpu(s, cpu).runq;
  if (svc.runqCpu !== -1) throw new Error('credit: unit already on a run queue');
  let i = 0;
  while (i < runq.length && !(svc.pri > runq[i].pri)) i++;
  if (svc.yielding && i < runq.length && runq[i].pri > PRI_IDLE && i + 1 < runq.length) i++;
  runq.splice(i, 0, svc);
  svc.runqCpu = cpu;
}

/** runq_insert: __runq_insert plus the runnable count. */
export function creditRunqInsert(s: CreditState, svc: CreditUnit): void {
  creditRunqInsertRaw(s, svc);
  creditPcpu(s, creditUnitCpu(svc)).nrRunnable++;
}

/** __runq_remove: also clears YIELD. */
export function creditRunqRemoveRaw(s: CreditState, svc: CreditUnit): void {
  const runq = creditPcpu(s, svc.runqCpu).runq;
  const i = runq.indexOf(svc);
  if (i < 0) throw new Error('credit: unit not on its run queue');
  runq.splice(i, 1);
  svc.runqCpu = -1;
  svc.yielding = false;
}

/** runq_remove: the runnable count plus __runq_remove. */
export function creditRunqRemove(s: CreditState, svc: CreditUnit): void {
  creditPcpu(s, svc.runqCpu).nrRunnable--;
  creditRunqRemoveRaw(s, svc);
}

/** is_runq_idle: the pCPU has nothing but its idle vCPU queued. */
export function creditIsRunqIdle(s: CreditState, cpu: number): boolean {
  const runq = creditPcpu(s, cpu).runq;
  return runq.length === 0 || runq[0].unit === null;
}
/** __runq_tickle: which pCPU(s) should reschedule because `svc` was queued. */
export function creditRunqTickle(s: CreditState, svc: CreditUnit): void {
  const unit = svc.unit;
  if (!unit) return;
  const cpu = unit.pcpu;
  const cur = creditCurr(s, cpu);
  const online = s.ctx.cpus();
  const idleMask = maskAnd(creditIdlers(s), online);
  const idlersEmpty = idleMask.length === 0;
  let mask: number[] = [];
  if (svc.pinned && maskHas(idleMask, cpu)) {
    mask = [cpu];
  } else if (cur.pri === PRI_IDLE || (idlersEmpty && svc.pri > cur.pri)) {
    mask = [cpu];
  } else if (!idlersEmpty) {
    for (const step of BALANCE_STEPS) {
      if (step === 'soft' && !hasSoftAffinity(unit, online)) continue;
      const scratch = maskAnd(balanceMask(unit, step), idleMask);
      const newIdlersEmpty = scratch.length === 0;
      if (newIdlersEmpty && step === 'soft') continue;
      if (newIdlersEmpty && svc.pri > cur.pri) {
        // Xen tests the *new* vCPU's hard affinity against the idlers here, which is empty in
        // this branch: `cur` is never flagged for migration (spec 1.8 describes the intent).
        mask = [cpu];
      } else if (!newIdlersEmpty) {
        if (s.ctx.boot.creditTickleOneIdle) {
          s.lastTickleCpu = maskCycle(s.lastTickleCpu, scratch);
          mask = [s.lastTickleCpu];
        } else mask = [...scratch];
      }
      if (mask.length > 0) break;
    }
  }
  for (const c of mask) {
    s.idlers.delete(c);
    s.ctx.tickle(c);
  }
}

/** _csched_cpu_pick on a flat topology. */
export function creditCpuPick(s: CreditState, unit: SchedUnit): number {
  const online = s.ctx.cpus();
  let cpu = unit.pcpu;
  for (const step of BALANCE_STEPS) {
    const cpus = maskAnd(balanceMask(unit, step), online);
    if (step === 'soft' && (!hasSoftAffinity(unit, online) || cpus.length === 0)) continue;
    cpu = maskHas(cpus, unit.pcpu) ? unit.pcpu : maskCycle(unit.pcpu, cpus);
    const idlers = new Set(s.idlers);
    if (unit.pcpu === cpu && creditIsRunqIdle(s, cpu)) idlers.add(cpu);
    const idleCpus = cpus.filter((c) => idlers.has(c));
    if (!maskHas(idleCpus, cpu) && idleCpus.length > 0) cpu = maskCycle(cpu, idleCpus);
    if (idlers.has(cpu)) break;
  }
  return cpu;
}
/** csched_runq_steal. */
export function creditRunqSteal(s: CreditState, peer: number, cpu: number, pri: number, step: 'soft' | 'hard'): CreditUnit | null {
  if (s.ctx.curr(peer) === null) return null;
  const online = s.ctx.cpus();
  for (const speer of creditPcpu(s, peer).runq) {
    if (speer.pri <= pri) break;
    if (speer.yielding) continue;
    const unit = speer.unit;
    if (!unit) continue;
    if (unit.isRunning || (step === 'soft' && !hasSoftAffinity(unit, online))) continue;
    const hot = s.unitMigrDelay > 0 && s.ctx.now() - speer.lastSchedTime < s.unitMigrDelay;
    if (!hot && maskHas(balanceMask(unit, step), cpu)) {
      creditRunqRemove(s, speer);
      s.ctx.setRes(unit, cpu);
      creditPcpu(s, cpu).nrRunnable++;
      return speer;
    }
  }
  return null;
}

/** csched_load_balance: steal better work from busy peers, or take `snext` off the queue. */
export function creditLoadBalance(s: CreditState, cpu: number, snext: CreditUnit): { svc: CreditUnit; stolen: boolean } {
  const online = s.ctx.cpus();
  if (maskHas(online, cpu)) {
    for (const step of BALANCE_STEPS) {
      const workers = online.filter((c) => !s.idlers.has(c) && c !== cpu);
      const first = maskCycle(s.balanceBias, workers);
      if (first === NO_CPU) continue;
      let peer = first;
      do {
        if (creditPcpu(s, peer).nrRunnable > 1) {
          const speer = creditRunqSteal(s, peer, cpu, snext.pri, step);
          if (speer) {
            s.balanceBias = peer;
            return { svc: speer, stolen: true };
          }
        }
        peer = maskCycle(peer, workers);
      } while (peer !== first);
    }
  }
  creditRunqRemoveRaw(s, snext);
  return { svc: snext, stolen: false };
}

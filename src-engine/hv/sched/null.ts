/**
 * Null: static 1:1 assignment of vCPUs to pCPUs, Xen's xen/common/sched/null.c, restated in
 * spec/schedulers.md section 5.
 *
 * Design
 * ------
 * - Each pCPU holds at most one assigned vCPU and runs it whenever it is runnable, with no time
 *   slice; when it blocks the pCPU idles (never lent to another vCPU).
 * - vCPUs that find no free allowed pCPU wait in a FIFO wait queue and do not run at all; when a
 *   pCPU frees up it takes the first waiter allowed there, soft-affine waiters first.
 * - Placement: current pCPU if free and allowed, else the first free allowed pCPU, soft step
 *   before hard step.
 * - No parameters, no yield hook, no timers.
 */
import { BALANCE_STEPS, balanceMask, hasSoftAffinity, maskAnd, maskFirst, maskHas, maskIntersects, type BalanceStep } from './cpumask';
import { SCHED_ID, registerScheduler, type SchedContext, type SchedDecision, type SchedOps, type SchedUnit } from './sched-ops';

interface NullUnit {
  unit: SchedUnit;
  waiting: boolean;
}

/** Per-pool null state (null_private + null_pcpu). */
export interface NullState {
  ctx: SchedContext;
  /** pCPU -> assigned unit. */
  assigned: Map<number, SchedUnit | null>;
  cpusFree: Set<number>;
  waitq: NullUnit[];
}

function nu(unit: SchedUnit): NullUnit {
  return unit.priv as NullUnit;
}

/** unit_check_affinity: is `cpu` in the unit's (balance step mask ∩ pool)? */
function nullCheckAffinity(s: NullState, unit: SchedUnit, cpu: number, step: BalanceStep): boolean {
  return maskHas(maskAnd(balanceMask(unit, step), s.ctx.cpus()), cpu);
}

function nullFree(s: NullState): number[] {
  return [...s.cpusFree].sort((a, b) => a - b);
}

/** pick_res. */
function nullPickRes(s: NullState, unit: SchedUnit): number {
  const cpu = unit.pcpu;
  const online = s.ctx.cpus();
  const holder = s.assigned.get(cpu);
  for (const step of BALANCE_STEPS) {
    if (step === 'soft' && !hasSoftAffinity(unit, online)) continue;
    const mask = maskAnd(balanceMask(unit, step), online);
    if ((holder === null || holder === unit) && maskHas(mask, cpu)) return cpu;
    const free = maskAnd(mask, nullFree(s));
    if (free.length > 0) return free[0];
  }
  return maskFirst(maskAnd(online, unit.hard));
}

/** unit_assign. */
function nullAssign(s: NullState, unit: SchedUnit, cpu: number): void {
  s.assigned.set(cpu, unit);
  s.ctx.setRes(unit, cpu);
  s.cpusFree.delete(cpu);
}

/** unit_deassign: frees the pCPU and hands it to the first suitable waiter. */
function nullDeassign(s: NullState, unit: SchedUnit): boolean {
  const cpu = unit.pcpu;
  s.assigned.set(cpu, null);
  s.cpusFree.add(cpu);
  for (const step of BALANCE_STEPS) {
    for (const w of s.waitq) {
      if (step === 'soft' && !hasSoftAffinity(w.unit, s.ctx.cpus())) continue;
      if (nullCheckAffinity(s, w.unit, cpu, step)) {
        nullWaitqRemove(s, w);
        nullAssign(s, w.unit, cpu);
        s.ctx.tickle(cpu);
        return true;
      }
    }
  }
  return false;
}

function nullWaitqRemove(s: NullState, w: NullUnit): void {
  const i = s.waitq.indexOf(w);
  if (i >= 0) s.waitq.splice(i, 1);
  w.waiting = false;
}

function nullWaitqAdd(s: NullState, w: NullUnit): void {
  s.waitq.push(w);
  w.waiting = true;
}

function nullInsertUnit(s: NullState, unit: SchedUnit): void {
  const w: NullUnit = { unit, waiting: false };
  unit.priv = w;
  if (!unit.online) return;
  for (;;) {
    s.ctx.setRes(unit, nullPickRes(s, unit));
    const cpu = unit.pcpu;
    if (s.assigned.get(cpu) === null) {
      nullAssign(s, unit, cpu);
      return;
    }
    if (!maskIntersects(nullFree(s), maskAnd(unit.hard, s.ctx.cpus()))) break;
  }
  nullWaitqAdd(s, w);
}

function nullRemoveUnit(s: NullState, unit: SchedUnit): void {
  const w = nu(unit);
  if (!unit.online) return;
  if (w.waiting) {
    nullWaitqRemove(s, w);
    return;
  }
  if (s.assigned.get(unit.pcpu) === unit) nullDeassign(s, unit);
}

function nullWake(s: NullState, unit: SchedUnit): void {
  const w = nu(unit);
  const cpu = unit.pcpu;
  if (s.ctx.curr(cpu) === unit || w.waiting) return;
  const holder = s.assigned.get(cpu);
  if (holder === unit) {
    s.ctx.tickle(cpu);
    return;
  }
  if (holder === null && nullCheckAffinity(s, unit, cpu, 'hard')) {
    if (!hasSoftAffinity(unit, s.ctx.cpus()) || nullCheckAffinity(s, unit, cpu, 'soft')) {
      nullAssign(s, unit, cpu);
      s.ctx.tickle(cpu);
      return;
    }
  }
  nullWaitqAdd(s, w);
  for (const c of maskAnd(maskAnd(unit.hard, s.ctx.cpus()), nullFree(s))) s.ctx.tickle(c);
}

function nullSleep(s: NullState, unit: SchedUnit): void {
  const w = nu(unit);
  const cpu = unit.pcpu;
  let tickled = false;
  if (!unit.online) {
    if (w.waiting) nullWaitqRemove(s, w);
    else if (s.assigned.get(cpu) === unit) tickled = nullDeassign(s, unit);
  }
  if (!tickled && s.ctx.curr(cpu) === unit) s.ctx.tickle(cpu);
}

/** null_unit_migrate. */
function nullMigrate(s: NullState, unit: SchedUnit, newCpu: number): void {
  const w = nu(unit);
  if (unit.pcpu === newCpu) return;
  if (s.assigned.get(unit.pcpu) === unit) nullDeassign(s, unit);
  if (!unit.online) {
    nullWaitqRemove(s, w);
  } else if (s.assigned.get(newCpu) === null && nullCheckAffinity(s, unit, newCpu, 'hard')) {
    nullWaitqRemove(s, w);
    nullAssign(s, unit, newCpu);
  } else if (!w.waiting) {
    nullWaitqAdd(s, w);
  }
  s.ctx.setRes(unit, newCpu);
}

/** null_schedule. */
function nullDoSchedule(s: NullState, cpu: number, _prev: SchedUnit | null, _now: number, forceIdle: boolean): SchedDecision {
  let next: SchedUnit | null = forceIdle ? null : (s.assigned.get(cpu) ?? null);
  if (!forceIdle && next === null) {
    outer: for (const step of BALANCE_STEPS) {
      for (const w of s.waitq) {
        if (step === 'soft' && !hasSoftAffinity(w.unit, s.ctx.cpus())) continue;
        if (nullCheckAffinity(s, w.unit, cpu, step)) {
          nullAssign(s, w.unit, cpu);
          nullWaitqRemove(s, w);
          next = w.unit;
          break outer;
        }
      }
    }
    if (next === null) s.cpusFree.add(cpu);
  }
  if (next !== null && !next.runnable()) next = null;
  return { next, time: -1, migrated: false };
}

/** The null scheduler. */
export const nullOps: SchedOps<NullState> = {
  name: 'null',
  id: SCHED_ID.null,
  longName: 'null Scheduler',
  init: (ctx) => ({ ctx, assigned: new Map(), cpusFree: new Set(), waitq: [] }),
  deinit: () => {},
  initPcpu: (s, cpu) => {
    s.cpusFree.add(cpu);
    s.assigned.set(cpu, null);
  },
  deinitPcpu: (s, cpu) => {
    s.cpusFree.delete(cpu);
    s.assigned.delete(cpu);
  },
  initDomain: () => {},
  destroyDomain: () => {},
  insertUnit: nullInsertUnit,
  removeUnit: nullRemoveUnit,
  sleep: nullSleep,
  wake: nullWake,
  doSchedule: nullDoSchedule,
  pickResource: nullPickRes,
  migrate: nullMigrate,
  getDomainParams: () => ({ sched: 'null' }),
  setDomainParams: () => {},
  getPoolParams: () => ({ sched: 'null' }),
  setPoolParams: () => {},
  dump: (s) => [
    `null pool ${s.ctx.poolId}: free=${nullFree(s).join(',')}`,
    ...[...s.assigned].sort((a, b) => a[0] - b[0]).map(([c, u]) => `  cpu ${c}: ${u ? `d${u.domid}v${u.vcpuId}` : '-'}`),
    `  waitq: ${s.waitq.map((w) => `d${w.unit.domid}v${w.unit.vcpuId}`).join(' ')}`,
  ],
  inspectUnit: (s, unit) => ({ assigned: s.assigned.get(unit.pcpu) === unit, waiting: nu(unit).waiting }),
};

registerScheduler(nullOps);

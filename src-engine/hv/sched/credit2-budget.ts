/**
 * Credit2 caps: a per-domain budget pool refilled every cap period (10 ms), from which each vCPU
 * grabs a quota before running and to which it returns what it did not use; a vCPU that finds the
 * pool empty is parked until the next replenishment. xen/common/sched/credit2.c, spec section 2.8.
 */
import {
  CREDIT2_MIN_TIMER,
  CREDIT2_NO_BUDGET,
  c2u,
  credit2BurnCredits,
  credit2Rqd,
  credit2RunqInsert,
  credit2RunqRemove,
  credit2RunqTickle,
  credit2UpdateLoad,
  type Credit2Dom,
  type Credit2State,
  type Credit2Unit,
} from './credit2-runqueue';
import type { SchedUnit } from './sched-ops';

/** park_unit: no budget left, the vCPU is not runnable until some comes back. */
function credit2ParkUnit(s: Credit2State, svc: Credit2Unit): void {
  const unit = svc.unit as SchedUnit;
  s.ctx.setPauseFlag(unit, 'parked', true);
  if (svc.onRunq && svc.rqd) {
    credit2RunqRemove(svc);
    credit2UpdateLoad(s, svc.rqd, svc, -1, s.ctx.now());
  }
  svc.sdom?.parked.unshift(svc);
  svc.isParked = true;
}

/** unit_grab_budget: true if the vCPU has budget to run (grabbing some if needed). */
export function credit2GrabBudget(s: Credit2State, svc: Credit2Unit): boolean {
  const sdom = svc.sdom as Credit2Dom;
  if (svc.budget > 0) return true;
  sdom.budget += svc.budget;
  if (sdom.budget > 0) {
    const budget = sdom.budget >= svc.budgetQuota ? svc.budgetQuota : sdom.budget;
    svc.budget = budget;
    sdom.budget -= budget;
  } else {
    svc.budget = 0;
    credit2ParkUnit(s, svc);
  }
  return svc.budget > 0;
}

/** unit_return_budget: give back unused budget; returns the parked vCPUs to wake, if any. */
export function credit2ReturnBudget(svc: Credit2Unit): Credit2Unit[] {
  const sdom = svc.sdom as Credit2Dom;
  sdom.budget += svc.budget;
  svc.budget = 0;
  if (sdom.budget > 0) {
    const parked = sdom.parked;
    sdom.parked = [];
    return parked;
  }
  return [];
}

/** unpark_parked_units. */
export function credit2UnparkUnits(s: Credit2State, units: Credit2Unit[]): void {
  for (const svc of units) {
    const unit = svc.unit as SchedUnit;
    svc.isParked = false;
    s.ctx.setPauseFlag(unit, 'parked', false);
    if (svc.scheduled) {
      svc.delayedRunqAdd = true;
    } else if (unit.runnable() && svc.rqd) {
      const now = s.ctx.now();
      credit2UpdateLoad(s, svc.rqd, svc, 1, now);
      credit2RunqInsert(svc);
      credit2RunqTickle(s, svc, now);
    }
  }
}

/** replenish_domain_budget: the per-domain cap timer. */
export function credit2Replenish(s: Credit2State, sdom: Credit2Dom): void {
  const now = s.ctx.now();
  sdom.nextRepl += s.capPeriod;
  sdom.budget += sdom.totBudget;
  while (sdom.nextRepl <= now) {
    sdom.nextRepl += s.capPeriod;
    sdom.budget += sdom.totBudget;
  }
  if (sdom.budget > 0) {
    sdom.budget = Math.min(sdom.budget, sdom.totBudget);
    const parked = sdom.parked;
    sdom.parked = [];
    credit2UnparkUnits(s, parked);
  }
  sdom.replTimer.set(sdom.nextRepl);
}

/** The cap part of csched2_dom_cntl putinfo (cap already range-checked). */
export function credit2SetCap(s: Credit2State, sdom: Credit2Dom, cap: number): void {
  const units = sdom.dom.units;
  if (cap !== 0) {
    sdom.totBudget = Math.floor((s.capPeriod * cap) / 100);
    for (const unit of units) {
      c2u(unit).budgetQuota = Math.max(Math.floor(sdom.totBudget / sdom.nrUnits), CREDIT2_MIN_TIMER);
    }
    if (sdom.cap === 0) {
      const now = s.ctx.now();
      sdom.budget = sdom.totBudget;
      sdom.nextRepl = now + s.capPeriod;
      sdom.replTimer.set(sdom.nextRepl);
      for (const unit of units) {
        const svc = c2u(unit);
        if (unit.isRunning) {
          const rqd = credit2Rqd(s, unit.pcpu);
          credit2BurnCredits(rqd, svc, now);
          rqd.tickled.add(unit.pcpu);
          s.ctx.tickle(unit.pcpu);
        }
        svc.budget = 0;
      }
    }
    sdom.cap = cap;
  } else if (sdom.cap !== 0) {
    sdom.replTimer.stop();
    for (const unit of units) {
      const svc = c2u(unit);
      svc.budget = CREDIT2_NO_BUDGET;
      svc.budgetQuota = 0;
    }
    sdom.cap = 0;
    const parked = sdom.parked;
    sdom.parked = [];
    credit2UnparkUnits(s, parked);
  }
}

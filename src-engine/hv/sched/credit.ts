/**
 * Credit (credit1): proportional-share SMP scheduler, Xen's xen/common/sched/credit.c, restated in
 * spec/schedulers.md section 1.
 *
 * Design
 * ------
 * - One run queue per pCPU, ordered by priority (BOOST > UNDER > OVER > IDLE), FIFO inside a
 *   priority. The pCPU's idle vCPU is a real element of its queue whenever it is not running, so
 *   "insert behind all of my priority" and the yield rule work exactly as in Xen.
 * - Credits: 10 per ms of run time, burnt at every tick and every deschedule; earnt at the
 *   accounting period (one tslice, 30 ms) by *active* vCPUs in proportion to weight x active
 *   vCPUs. A vCPU becomes active only when a tick (every tslice/3) finds it running: the
 *   tick-sampled activation artefact is reproduced on purpose.
 * - Caps park a vCPU (scheduler pause) when its credit falls below -cap share; accounting unparks
 *   it when its credit is positive again. Not work-conserving.
 * - Load balancing: a pCPU whose best local choice is OVER or idle steals the first strictly
 *   higher-priority, not running, not yielding, not cache-hot vCPU it may run from another pCPU
 *   (soft step, then hard step). Ticks also push a running vCPU to an idle pCPU when its own
 *   queue has waiters.
 * - Flat topology (one socket, one node, no SMT): `_csched_cpu_pick` reduces to "current pCPU if
 *   allowed and idle, else the next allowed idle pCPU, else stay"; `sched_smt_power_savings` has
 *   no effect.
 * - Deviation: Xen keeps `last_tickle_cpu` per pCPU (the pCPU executing the wake); the single owner
 *   thread here keeps one per pool.
 */
import {
  PRI_BOOST,
  PRI_IDLE,
  PRI_OVER,
  PRI_UNDER,
  creditCpuPick,
  creditLoadBalance,
  creditPcpu,
  creditRunqInsert,
  creditRunqInsertRaw,
  creditRunqRemove,
  creditRunqRemoveRaw,
  creditRunqTickle,
  cu,
  type CreditDom,
  type CreditPcpu,
  type CreditState,
  type CreditUnit,
} from './credit-runq';
import { creditPeekBlock, creditPeekNext } from './credit-peek';
import { schedRefuse } from './sched-error';
import {
  SCHED_ID,
  registerScheduler,
  type DomainSchedParams,
  type DomainSchedUpdate,
  type PoolSchedParams,
  type PoolSchedUpdate,
  type SchedContext,
  type SchedDecision,
  type SchedDomain,
  type SchedOps,
  type SchedUnit,
} from './sched-ops';

export type { CreditState } from './credit-runq';

/** CSCHED_DEFAULT_WEIGHT. */
export const CREDIT_DEFAULT_WEIGHT = 256;
/** CSCHED_TICKS_PER_TSLICE: ticks per accounting period. */
const CREDIT_TICKS_PER_TSLICE = 3;
/** CSCHED_CREDITS_PER_MSEC: 1 credit = 100 us of run time. */
const CREDIT_CREDITS_PER_MSEC = 10;
/** CSCHED_MIN_TIMER = XEN_SYSCTL_SCHED_RATELIMIT_MIN: shortest slice, 100 us. */
const CREDIT_MIN_TIMER_NS = 100_000;
/** XEN_SYSCTL_CSCHED_TSLICE_MIN: shortest credit1 time slice, ms. */
export const CREDIT_TSLICE_MIN_MS = 1;
/** XEN_SYSCTL_CSCHED_TSLICE_MAX: longest credit1 time slice, ms. */
export const CREDIT_TSLICE_MAX_MS = 1000;
/** XEN_SYSCTL_SCHED_RATELIMIT_MIN: shortest non-zero rate limit, us. */
export const SCHED_RATELIMIT_MIN_US = 100;
/** XEN_SYSCTL_SCHED_RATELIMIT_MAX: longest rate limit, us. */
export const SCHED_RATELIMIT_MAX_US = 500_000;
/** XEN_SYSCTL_CSCHED_MGR_DLY_MAX_US: longest migration delay. */
export const CREDIT_MIGR_DELAY_MAX_US = 100_000;
/** Largest weight a domain may have (uint16). */
export const SCHED_WEIGHT_MAX = 65535;
const NS_PER_MS = 1_000_000;
const NS_PER_US = 1_000;
/** 2^32, for the uint32 arithmetic of csched_acct. */
const U32 = 4_294_967_296;
/** __csched_set_tslice. */
function creditSetTslice(s: CreditState, tsliceMs: number): void {
  s.tslice = tsliceMs * NS_PER_MS;
  s.ticksPerTslice = tsliceMs < CREDIT_TICKS_PER_TSLICE ? 1 : CREDIT_TICKS_PER_TSLICE;
  s.tickPeriodUs = Math.floor((tsliceMs * 1000) / s.ticksPerTslice);
  s.creditsPerTslice = CREDIT_CREDITS_PER_MSEC * tsliceMs;
  s.credit = s.creditsPerTslice * s.ncpus;
}
/** burn_credits: 10 credits per ms; the sub-credit remainder is kept in `residual`. */
function creditBurn(svc: CreditUnit, now: number): void {
  const delta = now - svc.startTime;
  if (delta <= 0) return;
  const val = delta * CREDIT_CREDITS_PER_MSEC + svc.residual;
  svc.residual = val % NS_PER_MS;
  const credits = Math.floor(val / NS_PER_MS);
  svc.credit -= credits;
  svc.startTime += (credits * NS_PER_MS) / CREDIT_CREDITS_PER_MSEC;
}
/** __csched_unit_acct_start: the vCPU starts earning credit. */
function creditAcctStart(s: CreditState, svc: CreditUnit): void {
  const sdom = svc.sdom;
  if (!sdom || svc.active) return;
  sdom.activeUnits.unshift(svc);
  svc.active = true;
  s.weight += sdom.weight;
  if (!sdom.active) {
    s.activeDoms.unshift(sdom);
    sdom.active = true;
  }
}

/** __csched_unit_acct_stop_locked. */
function creditAcctStop(s: CreditState, svc: CreditUnit): void {
  const sdom = svc.sdom;
  if (!sdom || !svc.active) return;
  sdom.activeUnits.splice(sdom.activeUnits.indexOf(svc), 1);
  svc.active = false;
  s.weight -= sdom.weight;
  if (sdom.activeUnits.length === 0 && sdom.active) {
    s.activeDoms.splice(s.activeDoms.indexOf(sdom), 1);
    sdom.active = false;
  }
}

/** csched_unit_acct: the tick found `unit` running on `cpu`. */
function creditUnitAcct(s: CreditState, cpu: number, unit: SchedUnit): void {
  const svc = cu(unit);
  if (svc.pri === PRI_BOOST) svc.pri = PRI_UNDER;
  creditBurn(svc, s.ctx.now());
  if (!svc.active) {
    creditAcctStart(s, svc);
  } else if (creditCpuPick(s, unit) !== cpu) {
    s.ctx.setPauseFlag(unit, 'migrating', true);
    s.ctx.tickle(cpu);
  }
}

/** csched_runq_sort: every UNDER/BOOST vCPU moves ahead of every OVER one, stably. */
function creditRunqSort(s: CreditState, cpu: number): void {
  const spc = creditPcpu(s, cpu);
  if (spc.runqSortLast === s.runqSort) return;
  spc.runqSortLast = s.runqSort;
  spc.runq = [...spc.runq.filter((v) => v.pri >= PRI_UNDER), ...spc.runq.filter((v) => v.pri < PRI_UNDER)];
}

/** csched_tick. */
function creditTick(s: CreditState, cpu: number): void {
  const spc = creditPcpu(s, cpu);
  spc.tick++;
  const cur = s.ctx.curr(cpu);
  if (cur) creditUnitAcct(s, cpu, cur);
  creditRunqSort(s, cpu);
  spc.ticker.set(s.ctx.now() + s.tickPeriodUs * NS_PER_US);
}

function u32(x: number): number {
  return ((x % U32) + U32) % U32;
}

/** csched_acct: hand out one accounting period of credit (spec 1.5). */
function creditAcct(s: CreditState): void {
  const weightTotal = s.weight;
  let creditTotal = s.credit;
  if (s.creditBalance < 0) creditTotal = u32(creditTotal - s.creditBalance);
  if (weightTotal === 0) {
    s.creditBalance = 0;
  } else {
    let weightLeft = weightTotal;
    let creditBalance = 0;
    let creditXtra = false;
    let creditCap = 0;
    for (const sdom of [...s.activeDoms]) {
      const n = sdom.activeUnits.length;
      weightLeft -= sdom.weight * n;
      let creditPeak = n * s.creditsPerTslice;
      if (s.creditBalance < 0) {
        creditPeak += Math.floor((-s.creditBalance * sdom.weight * n + (weightTotal - 1)) / weightTotal);
      }
      if (sdom.cap !== 0) {
        creditCap = Math.floor((sdom.cap * s.creditsPerTslice + 99) / 100);
        if (creditCap < creditPeak) creditPeak = creditCap;
        creditCap = Math.floor((creditCap + (n - 1)) / n);
      }
      let creditFair = Math.floor((u32(creditTotal * sdom.weight * n) + (weightTotal - 1)) / weightTotal);
      if (creditFair < creditPeak) {
        creditXtra = true;
      } else {
        if (weightLeft !== 0) {
          creditTotal = u32(
            creditTotal + Math.floor((u32((creditFair - creditPeak) * weightTotal) + (weightLeft - 1)) / weightLeft),
          );
        }
        if (creditXtra) {
          s.activeDoms.splice(s.activeDoms.indexOf(sdom), 1);
          s.activeDoms.unshift(sdom);
        }
        creditFair = creditPeak;
      }
      creditFair = Math.floor((creditFair + (n - 1)) / n);
      for (const svc of [...sdom.activeUnits]) {
        svc.credit += creditFair;
        let credit = svc.credit;
        const unit = svc.unit as SchedUnit;
        if (credit < 0) {
          svc.pri = PRI_OVER;
          if (sdom.cap !== 0 && credit < -creditCap && !svc.parked) {
            svc.parked = true;
            s.ctx.pauseUnit(unit);
          }
          if (credit < -s.creditsPerTslice) {
            credit = -s.creditsPerTslice;
            svc.credit = credit;
          }
        } else {
          svc.pri = PRI_UNDER;
          if (svc.parked) {
            // Unpause first, then clear PARKED, so the wake is not boosted.
            s.ctx.unpauseUnit(unit);
            svc.parked = false;
          }
          if (credit > s.creditsPerTslice) {
            creditAcctStop(s, svc);
            credit = Math.trunc(credit / 2);
            svc.credit = credit;
          }
        }
        creditBalance += credit;
      }
    }
    s.creditBalance = creditBalance;
    s.runqSort++;
  }
  s.masterTicker.set(s.ctx.now() + s.tslice);
}
/** csched_schedule. */
function creditDoSchedule(
  s: CreditState,
  cpu: number,
  prev: SchedUnit | null,
  now: number,
  forceIdle: boolean,
): SchedDecision {
  const spc = creditPcpu(s, cpu);
  const scurr = prev ? cu(prev) : spc.idle;
  const runtime = prev ? Math.max(0, now - prev.stateEntryTime) : 0;
  let snext: CreditUnit;
  let tslice: number;
  let migrated = false;
  if (prev) {
    creditBurn(scurr, now);
    scurr.startTime -= now;
    scurr.lastSchedTime = now;
  } else {
    scurr.pri = PRI_IDLE;
  }
  if (!scurr.yielding && !forceIdle && s.ratelimit > 0 && prev && prev.runnable() && runtime < s.ratelimit) {
    snext = scurr;
    snext.startTime += now;
    tslice = runtime < CREDIT_MIN_TIMER_NS ? CREDIT_MIN_TIMER_NS : s.ratelimit - runtime;
  } else {
    tslice = s.tslice;
    if (!prev || prev.runnable()) creditRunqInsertRaw(s, scurr);
    else spc.nrRunnable--;
    do {
      snext = spc.runq[0];
      if (forceIdle) {
        snext = spc.idle;
        snext.pri = PRI_BOOST;
      }
      if (snext.pri <= PRI_OVER && now - spc.lastLoadBalance > s.loadBalanceRatelimit) {
        spc.lastLoadBalance = now;
        const r = creditLoadBalance(s, cpu, snext);
        snext = r.svc;
        migrated = r.stolen;
      } else {
        creditRunqRemoveRaw(s, snext);
      }
    } while (snext.unit !== null && !snext.unit.runnable());
    if (!forceIdle && snext.pri === PRI_IDLE) s.idlers.add(cpu);
    else s.idlers.delete(cpu);
    if (snext.unit) snext.startTime += now;
  }
  const next = snext.unit;
  if (prev && !next) spc.ticker.stop();
  if (!prev && next) {
    const period = s.tickPeriodUs * NS_PER_US;
    spc.ticker.set(now + period - (now % period));
  }
  return { next, time: next ? tslice : -1, migrated };
}

function creditNewUnit(unit: SchedUnit | null, sdom: CreditDom | null, idleCpu: number): CreditUnit {
  return {
    unit,
    idleCpu,
    sdom,
    startTime: 0,
    pri: unit ? PRI_UNDER : PRI_IDLE,
    credit: 0,
    residual: 0,
    lastSchedTime: 0,
    parked: false,
    yielding: false,
    migrating: false,
    pinned: unit ? unit.hard.length === 1 : false,
    runqCpu: -1,
    active: false,
  };
}

function creditInit(ctx: SchedContext): CreditState {
  const masterTicker = ctx.createTimer(`credit acct pool ${ctx.poolId}`, () => creditAcct(s));
  const s: CreditState = {
    ctx,
    pcpus: new Map(),
    idlers: new Set(),
    balanceBias: 0,
    runqSort: 0,
    ncpus: 0,
    tickPeriodUs: 0,
    ticksPerTslice: 0,
    ratelimit: 0,
    tslice: 0,
    unitMigrDelay: ctx.boot.creditMigrationDelayUs * NS_PER_US,
    loadBalanceRatelimit: ctx.boot.creditLoadBalanceRatelimitUs * NS_PER_US,
    activeDoms: [],
    weight: 0,
    credit: 0,
    creditBalance: 0,
    creditsPerTslice: 0,
    master: -1,
    masterTicker,
    lastTickleCpu: 0,
  };
  creditSetTslice(s, ctx.boot.creditTsliceMs);
  const rl = ctx.boot.ratelimitUs * NS_PER_US;
  s.ratelimit = rl > s.tslice ? s.tslice : rl;
  return s;
}

function creditInitPcpu(s: CreditState, cpu: number): void {
  const now = s.ctx.now();
  s.credit += s.creditsPerTslice;
  s.ncpus++;
  if (s.ncpus === 1) {
    s.master = cpu;
    s.masterTicker.set(now + s.tslice);
    s.balanceBias = cpu;
  }
  const spc: CreditPcpu = {
    cpu,
    runq: [],
    runqSortLast: s.runqSort,
    nrRunnable: 0,
    lastLoadBalance: now,
    tick: 0,
    ticker: s.ctx.createTimer(`credit tick cpu ${cpu}`, () => creditTick(s, cpu)),
    idle: creditNewUnit(null, null, cpu),
  };
  spc.idle.pri = PRI_IDLE;
  s.pcpus.set(cpu, spc);
  spc.ticker.set(now + s.tickPeriodUs * NS_PER_US);
  s.idlers.add(cpu);
}

function creditDeinitPcpu(s: CreditState, cpu: number): void {
  const spc = creditPcpu(s, cpu);
  s.credit -= s.creditsPerTslice;
  s.ncpus--;
  s.idlers.delete(cpu);
  spc.ticker.stop();
  s.pcpus.delete(cpu);
  const rest = [...s.pcpus.keys()].sort((a, b) => a - b);
  if (s.master === cpu && s.ncpus > 0) s.master = rest[0];
  if (s.balanceBias === cpu && rest.length > 0) s.balanceBias = rest[0];
  if (s.ncpus === 0) s.masterTicker.stop();
}

function creditInsertUnit(s: CreditState, unit: SchedUnit): void {
  const sdom = unit.domain.priv as CreditDom;
  const svc = creditNewUnit(unit, sdom, -1);
  unit.priv = svc;
  svc.migrating = true;
  s.ctx.setRes(unit, creditCpuPick(s, unit));
  if (svc.runqCpu === -1 && unit.runnable() && !unit.isRunning) creditRunqInsert(s, svc);
}

function creditRemoveUnit(s: CreditState, unit: SchedUnit): void {
  const svc = cu(unit);
  if (svc.runqCpu !== -1) creditRunqRemove(s, svc);
  if (svc.parked) {
    svc.parked = false;
    s.ctx.unpauseUnit(unit);
  }
  creditAcctStop(s, svc);
}

function creditSleep(s: CreditState, unit: SchedUnit): void {
  const svc = cu(unit);
  if (s.ctx.curr(unit.pcpu) === unit) s.ctx.tickle(unit.pcpu);
  else if (svc.runqCpu !== -1) creditRunqRemove(s, svc);
}

function creditWake(s: CreditState, unit: SchedUnit): void {
  const svc = cu(unit);
  if (s.ctx.curr(unit.pcpu) === unit || svc.runqCpu !== -1) return;
  const migrating = svc.migrating;
  svc.migrating = false;
  if (!migrating && svc.pri === PRI_UNDER && !svc.parked && !s.ctx.boot.creditNoBoost) svc.pri = PRI_BOOST;
  creditRunqInsert(s, svc);
  creditRunqTickle(s, svc);
}

function creditGetDomainParams(_s: CreditState, dom: SchedDomain): DomainSchedParams {
  const sdom = dom.priv as CreditDom;
  return { sched: 'credit', weight: sdom.weight, cap: sdom.cap };
}

/** Checks libxl applies before xc_sched_credit{,2}_domain_set (spec 1.10, 2.9). */
export function creditCheckDomainUpdate(dom: SchedDomain, weight?: number, cap?: number): void {
  if (weight !== undefined && (!Number.isInteger(weight) || weight < 1 || weight > SCHED_WEIGHT_MAX)) {
    throw schedRefuse('sched.weight-range', 'EINVAL', `Weight ${weight} for domain ${dom.name} is out of range: use 1 to 65535.`, {
      libxl: 'Cpu weight out of range, valid values are within range from 1 to 65535',
      subject: dom.name,
    });
  }
  const capMax = dom.units.length * 100;
  if (cap !== undefined && (!Number.isInteger(cap) || cap < 0 || cap > capMax)) {
    throw schedRefuse('sched.cap-range', 'EINVAL', `Cap ${cap} for domain ${dom.name} is out of range: use 0 (no cap) to ${capMax} (100 per vCPU).`, {
      libxl: `Cpu cap out of range, valid range is from 0 to ${capMax} for specified number of vcpus`,
      subject: dom.name,
    });
  }
}

function creditSetDomainParams(s: CreditState, dom: SchedDomain, p: DomainSchedUpdate): void {
  if (p.sched !== 'credit') return;
  creditCheckDomainUpdate(dom, p.weight, p.cap);
  const sdom = dom.priv as CreditDom;
  if (p.weight !== undefined) {
    if (sdom.active) s.weight += (p.weight - sdom.weight) * sdom.activeUnits.length;
    sdom.weight = p.weight;
  }
  if (p.cap !== undefined) sdom.cap = p.cap;
}

function creditGetPoolParams(s: CreditState): PoolSchedParams {
  return {
    sched: 'credit',
    tsliceMs: s.tslice / NS_PER_MS,
    ratelimitUs: s.ratelimit / NS_PER_US,
    migrationDelayUs: s.unitMigrDelay / NS_PER_US,
  };
}

/** Checks of libxl_sched_credit_params_set (and the same ones in csched_sys_cntl). */
export function creditCheckPoolParams(tsliceMs: number, ratelimitUs: number, migrationDelayUs: number): void {
  if (!Number.isInteger(tsliceMs) || tsliceMs < CREDIT_TSLICE_MIN_MS || tsliceMs > CREDIT_TSLICE_MAX_MS) {
    throw schedRefuse('sched.tslice-range', 'EINVAL', `Time slice ${tsliceMs} ms is out of range: use 1 to 1000 ms.`, {
      libxl: 'Time slice out of range, valid range is from 1 to 1000',
    });
  }
  checkRatelimit(ratelimitUs);
  if (ratelimitUs > tsliceMs * 1000) {
    throw schedRefuse('sched.ratelimit-tslice', 'EINVAL', `Rate limit ${ratelimitUs} us is longer than the ${tsliceMs} ms time slice: lower it or raise the slice.`, {
      libxl: 'Ratelimit cannot be greater than timeslice',
    });
  }
  if (!Number.isInteger(migrationDelayUs) || migrationDelayUs < 0 || migrationDelayUs > CREDIT_MIGR_DELAY_MAX_US) {
    throw schedRefuse('sched.migration-delay-range', 'EINVAL', `Migration delay ${migrationDelayUs} us is out of range: use 0 to 100000 us.`, {
      libxl: 'vcpu migration delay should be >= 0 and <= 100000us',
    });
  }
}

/** sched_ratelimit_check (libxl): 0, or 100..500000 us. */
export function checkRatelimit(ratelimitUs: number): void {
  if (!Number.isInteger(ratelimitUs) || (ratelimitUs !== 0 && (ratelimitUs < SCHED_RATELIMIT_MIN_US || ratelimitUs > SCHED_RATELIMIT_MAX_US))) {
    throw schedRefuse('sched.ratelimit-range', 'EINVAL', `Rate limit ${ratelimitUs} us is out of range: use 0 (off) or 100 to 500000 us.`, {
      libxl: 'Ratelimit out of range, valid range is from 100 to 500000',
    });
  }
}

function creditSetPoolParams(s: CreditState, p: PoolSchedUpdate): void {
  if (p.sched !== 'credit') return;
  const cur = creditGetPoolParams(s) as { tsliceMs: number; ratelimitUs: number; migrationDelayUs: number };
  const tsliceMs = p.tsliceMs ?? cur.tsliceMs;
  const ratelimitUs = p.ratelimitUs ?? cur.ratelimitUs;
  const migrationDelayUs = p.migrationDelayUs ?? cur.migrationDelayUs;
  creditCheckPoolParams(tsliceMs, ratelimitUs, migrationDelayUs);
  creditSetTslice(s, tsliceMs);
  s.ratelimit = ratelimitUs * NS_PER_US;
  s.unitMigrDelay = migrationDelayUs * NS_PER_US;
}

function creditDump(s: CreditState): string[] {
  const lines = [
    `credit pool ${s.ctx.poolId}: ncpus=${s.ncpus} master=${s.master} credit=${s.credit} balance=${s.creditBalance} weight=${s.weight} runq_sort=${s.runqSort}`,
    `  tslice=${s.tslice / NS_PER_MS}ms ratelimit=${s.ratelimit / NS_PER_US}us ticks/tslice=${s.ticksPerTslice} migration-delay=${s.unitMigrDelay / NS_PER_US}us`,
  ];
  for (const [cpu, spc] of [...s.pcpus].sort((a, b) => a[0] - b[0])) {
    const q = spc.runq.map((v) => (v.unit ? `d${v.unit.domid}v${v.unit.vcpuId}(pri=${v.pri},cr=${v.credit})` : 'idle'));
    lines.push(`  cpu ${cpu}: nr_runnable=${spc.nrRunnable} runq=[${q.join(' ')}]`);
  }
  return lines;
}

/** The credit1 scheduler. */
export const creditOps: SchedOps<CreditState> = {
  name: 'credit',
  id: SCHED_ID.credit,
  longName: 'SMP Credit Scheduler',
  init: creditInit,
  deinit: (s) => s.masterTicker.stop(),
  initPcpu: creditInitPcpu,
  deinitPcpu: creditDeinitPcpu,
  initDomain: (_s, dom) => {
    dom.priv = { dom, activeUnits: [], weight: CREDIT_DEFAULT_WEIGHT, cap: 0, active: false } satisfies CreditDom;
  },
  destroyDomain: (_s, dom) => {
    dom.priv = undefined;
  },
  insertUnit: creditInsertUnit,
  removeUnit: creditRemoveUnit,
  sleep: creditSleep,
  wake: creditWake,
  yield: (_s, unit) => {
    cu(unit).yielding = true;
  },
  doSchedule: creditDoSchedule,
  peekNext: creditPeekNext,
  peekBlock: creditPeekBlock,
  pickResource: (s, unit) => {
    cu(unit).migrating = true;
    return creditCpuPick(s, unit);
  },
  adjustAffinity: (_s, unit, hard) => {
    if (hard) cu(unit).pinned = hard.length === 1;
  },
  getDomainParams: creditGetDomainParams,
  setDomainParams: creditSetDomainParams,
  getPoolParams: creditGetPoolParams,
  setPoolParams: creditSetPoolParams,
  dump: creditDump,
  inspectUnit: (_s, unit) => {
    const v = cu(unit);
    const pri = v.pri === PRI_BOOST ? 'BOOST' : v.pri === PRI_UNDER ? 'UNDER' : 'OVER';
    return { credit: v.credit, residual: v.residual, pri, active: v.active, parked: v.parked };
  },
};

registerScheduler(creditOps);

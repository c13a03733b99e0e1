/**
 * Credit's decisions as numbers a pCPU can step by itself (edge-model.ts; docs/architecture.md,
 * "Timer edges taken by a busy pCPU"). Not in Xen (Xen's pCPUs run the scheduler themselves).
 *
 * Credit picks by priority class (BOOST > UNDER > OVER), FIFO inside a class. Credits move classes
 * only in the 10 ms tick (csched_tick: BOOST to UNDER for the running unit, the runqueue sort) and
 * the 30 ms accounting, which are scheduler timers: a model loaded after a pass stands until the
 * scheduler's next timer at most (the caller bounds it with SchedCore.nextTimer), and inside that
 * span the classes change only where a wake promotes UNDER to BOOST. So the model carries each
 * unit's class, the queue order and the running unit's state entry time (the rate limit), and
 * mirrors: wake (csched_unit_wake's BOOST, __runq_insert before the first unit of a lower class
 * from the head, __runq_tickle on a pool of one busy pCPU: a tickle when the woken class is above the
 * running one), block of the running unit, and csched_schedule (the rate limit keeps a runnable
 * unit for its remainder, at least CSCHED_MIN_TIMER; else the unit goes back into the queue and the
 * head runs for a time slice; load balancing has no peer on one pCPU and only takes the head off).
 * Burnt credit is left to the replay: it moves no class before the next tick.
 *
 * What it covers: a pool of one pCPU running a unit, no caps (parking), no yield or migration
 * pending, no schedule pending. It answers MODEL_ASK where it leaves that part (an idle result, a
 * unit that is not blocked woken). Allocation-free; loops over the queued units only.
 */
import { hasSoftAffinity, maskHas } from './cpumask';
import { CREDIT_MIN_TIMER_NS } from './credit-peek';
import { PRI_BOOST, PRI_IDLE, PRI_UNDER, creditPcpu, cu, type CreditState, type CreditUnit } from './credit-runq';
import {
  EDGE_QUIET,
  EDGE_TICKLE,
  EdgeModelCore,
  edgeModelWords,
  EM_CAPACITY as H_CAPACITY,
  EM_COUNT as H_COUNT,
  EM_HEADER_WORDS as HEADER_WORDS,
  EM_RUNNING as H_RUNNING,
  EM_RUNQ_LEN as H_RUNQ_LEN,
  EM_SLICE as H_SLICE,
  EM_TICKLED as H_TICKLED,
  MODEL_ASK,
  type EdgeModel,
} from './edge-model';
import type { SchedUnit } from './sched-ops';

// Header words.
/** The pool's rate limit (ns; 0 = off) and time slice (ns). */
const H_RATELIMIT_NS = 1;
const H_TSLICE_NS = 2;
/** The boot option that turns the wake-up BOOST off (1). */
const H_NO_BOOST = 8;

// Unit fields, after the runqueue area.
const U_PRI = 0;
/** The unit's state entry time (when it last started or stopped running). */
const U_ENTRY = 1;
const U_STATE = 2;
/** The domain and VCPU, in that order (EdgeModelCore reads them there). */
const U_DOMID = 3;
const U_VCPU = 4;
const UNIT_WORDS = 5;

/** U_STATE values. */
const ST_BLOCKED = 0;
const ST_QUEUED = 1;
const ST_RUNNING = 2;
/** Running but blocked (a HLT not yet followed by schedule()). */
const ST_RUNNING_BLOCKED = 3;

/** Float64 words a model of `capacity` units needs. */
export function creditEdgeModelWords(capacity: number): number {
  return edgeModelWords(capacity, UNIT_WORDS);
}

/** A credit model over a Float64Array (see the file comment). */
export class CreditEdgeModel extends EdgeModelCore implements EdgeModel {
  constructor(m: Float64Array) {
    super(m, UNIT_WORDS, U_DOMID);
  }

  /**
   * Hypervisor side: copies pool state for pCPU `cpu` (its running unit, its runqueue, and the
   * blocked units `offered` it may wake). False if the pool is outside what the model mirrors (the
   * array is then left with no running unit, so every step asks). The caller must know that no
   * schedule() is pending for `cpu`, and must end the model's use at the scheduler's next timer.
   */
  load(s: CreditState, cpu: number, offered: readonly SchedUnit[]): boolean {
    const m = this.m;
    m[H_RUNNING] = -1;
    m[H_COUNT] = 0;
    m[H_RUNQ_LEN] = 0;
    const online = s.ctx.cpus();
    const cur = s.ctx.curr(cpu);
    if (online.length !== 1 || online[0] !== cpu || cur === null || !cur.runnable() || s.idlers.has(cpu)) return false;
    const runq = creditPcpu(s, cpu).runq;
    if (runq.length + offered.length > m[H_CAPACITY]) return false;
    m[H_RATELIMIT_NS] = s.ratelimit;
    m[H_TSLICE_NS] = s.tslice;
    m[H_TICKLED] = 0;
    m[H_NO_BOOST] = s.ctx.boot.creditNoBoost ? 1 : 0;
    if (!this.put(cu(cur), ST_RUNNING, cpu, online)) return false;
    m[H_RUNNING] = 0;
    for (let k = 0; k < runq.length; k++) {
      const svc = runq[k];
      const u = svc.unit;
      // The pCPU's idle vCPU is queued last, behind every class; the model leaves it implicit.
      if (u === null && k === runq.length - 1) break;
      if (u === null || !u.runnable() || u.isRunning || !this.put(svc, ST_QUEUED, cpu, online)) return this.fail();
      m[HEADER_WORDS + m[H_RUNQ_LEN]++] = m[H_COUNT] - 1;
    }
    for (const u of offered) {
      const svc = cu(u);
      if (svc.runqCpu !== -1 || u.runnable() || !this.put(svc, ST_BLOCKED, cpu, online)) return this.fail();
    }
    return true;
  }

  /** Leaves the model with no running unit (every later step asks); false. */
  private fail(): false {
    this.m[H_RUNNING] = -1;
    return false;
  }

  /** Leaves the model with no running unit (every later step asks); MODEL_ASK. */
  private ask(): number {
    this.m[H_RUNNING] = -1;
    return MODEL_ASK;
  }

  /** Appends one unit; false if it is outside the model (parked by a cap, a yield or move pending). */
  private put(svc: CreditUnit, state: number, cpu: number, online: readonly number[]): boolean {
    const u = svc.unit;
    if (u === null || svc.parked || svc.yielding || svc.migrating || u.pcpu !== cpu || svc.pri <= PRI_IDLE) return false;
    if (!maskHas(u.hard, cpu) || hasSoftAffinity(u, online)) return false;
    const m = this.m;
    const e = this.units + m[H_COUNT] * UNIT_WORDS;
    m[e + U_PRI] = svc.pri;
    m[e + U_ENTRY] = u.stateEntryTime;
    m[e + U_STATE] = state;
    m[e + U_DOMID] = u.domid;
    m[e + U_VCPU] = u.vcpuId;
    m[H_COUNT]++;
    return true;
  }

  /** __runq_insert: before the first queued unit of a lower class, scanning from the head. */
  private insert(i: number): void {
    const m = this.m;
    const pri = m[this.units + i * UNIT_WORDS + U_PRI];
    const len = m[H_RUNQ_LEN];
    // Scanned from the head as Xen does: the queue need not be sorted (the accounting moves queued
    // units between classes, and the tick's runq_sort only moves OVER units behind the others).
    let at = 0;
    while (at < len && !(pri > m[this.units + m[HEADER_WORDS + at] * UNIT_WORDS + U_PRI])) at++;
    for (let k = len; k > at; k--) m[HEADER_WORDS + k] = m[HEADER_WORDS + k - 1];
    m[HEADER_WORDS + at] = i;
    m[H_RUNQ_LEN]++;
    m[this.units + i * UNIT_WORDS + U_STATE] = ST_QUEUED;
  }

  /**
   * Blocked unit `i` wakes at `now`: EDGE_TICKLE if the pCPU is to stop its unit (a schedule() at
   * the stop follows; a second tickle before it is coalesced and answers EDGE_QUIET), EDGE_QUIET
   * if it runs on, or MODEL_ASK.
   */
  wake(i: number, _now: number): number {
    const m = this.m;
    const cur = m[H_RUNNING];
    if (cur < 0 || i < 0 || i >= m[H_COUNT] || m[this.units + i * UNIT_WORDS + U_STATE] !== ST_BLOCKED) return this.ask();
    const e = this.units + i * UNIT_WORDS;
    if (m[e + U_PRI] === PRI_UNDER && m[H_NO_BOOST] === 0) m[e + U_PRI] = PRI_BOOST;
    this.insert(i);
    if (!(m[e + U_PRI] > m[this.units + cur * UNIT_WORDS + U_PRI]) || m[H_TICKLED] !== 0) return EDGE_QUIET;
    m[H_TICKLED] = 1;
    return EDGE_TICKLE;
  }

  block(): boolean {
    const m = this.m;
    const cur = m[H_RUNNING];
    if (cur < 0 || m[this.units + cur * UNIT_WORDS + U_STATE] !== ST_RUNNING) return false;
    m[this.units + cur * UNIT_WORDS + U_STATE] = ST_RUNNING_BLOCKED;
    return true;
  }

  /** csched_schedule on the pCPU at `now` (see the file comment); the unit to run, or MODEL_ASK. */
  schedule(now: number): number {
    const m = this.m;
    const cur = m[H_RUNNING];
    if (cur < 0) return MODEL_ASK;
    m[H_TICKLED] = 0;
    const ce = this.units + cur * UNIT_WORDS;
    const runnable = m[ce + U_STATE] === ST_RUNNING;
    const runtime = Math.max(0, now - m[ce + U_ENTRY]);
    const rl = m[H_RATELIMIT_NS];
    if (rl > 0 && runnable && runtime < rl) {
      m[H_SLICE] = runtime < CREDIT_MIN_TIMER_NS ? CREDIT_MIN_TIMER_NS : rl - runtime;
      return cur;
    }
    if (runnable) this.insert(cur);
    // The head, or the idle vCPU behind everything (the real call then idles: ask).
    if (m[H_RUNQ_LEN] === 0) return this.ask();
    const next = m[HEADER_WORDS];
    const len = --m[H_RUNQ_LEN];
    for (let k = 0; k < len; k++) m[HEADER_WORDS + k] = m[HEADER_WORDS + k + 1];
    m[H_SLICE] = m[H_TSLICE_NS];
    const ne = this.units + next * UNIT_WORDS;
    m[ne + U_STATE] = ST_RUNNING;
    if (next !== cur) {
      m[ne + U_ENTRY] = now;
      m[H_RUNNING] = next;
      m[ce + U_ENTRY] = now;
      if (!runnable) m[ce + U_STATE] = ST_BLOCKED;
    }
    return next;
  }
}

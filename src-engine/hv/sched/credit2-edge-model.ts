/**
 * Credit2's decisions as numbers a pCPU can step by itself (docs/architecture.md, "Timer edges
 * taken by a busy pCPU"). Not in Xen (Xen's pCPUs run the scheduler themselves).
 *
 * Why a model and not a published decision. A pCPU that takes the timer edges of halted tick VCPUs
 * while it runs a busy VCPU must know, at each edge, whether the wake preempts (runq_tickle), and at
 * each stop what csched2_schedule picks. The tick VCPUs sit at nearly the same credit (an epoch end
 * lifts them all to the carry-over cap, each handler burns a few microseconds), so which runs first
 * depends on how long each handler ran: no window of instants (credit2-peek.ts) holds for such a
 * chain. But the replay burns credit by exactly the instants the pCPU writes into its ring. So the
 * hypervisor thread copies the pool's credit2 state into a Float64Array (load) and the pCPU steps it
 * with the same arithmetic, calls in the same order and the same instants as the replay's real
 * wake, block and schedule calls: wake (runq_insert, runq_tickle's score on the one busy pCPU),
 * block of the running unit, schedule (burn_credits, the rate limit, runq_candidate, reset_credit,
 * context_saved's re-insert, csched2_runtime through credit2SliceLength). Nothing is
 * approximated, so the answers are exact, not valid over a window.
 *
 * What it covers: a pool of one pCPU with one runqueue, a unit running, no caps, no soft affinity,
 * no yield or migration pending. An epoch end (reset_credit) is stepped too when the model carries
 * every unit of the runqueue (blocked ones it may not wake as well): it credits them all, and load
 * balancing has no other runqueue to look at. It answers MODEL_ASK (and is then not to be stepped
 * again) where it leaves that part: an epoch end with units not carried, a credit clamped at
 * CSCHED2_CREDIT_MIN, an idle result, a unit that is not blocked woken. Per step it loops over the
 * queued units only (a handful; an epoch end over the units carried) and allocates nothing. The
 * array can live in a SharedArrayBuffer: the hypervisor writes it while nothing may step it, the
 * pCPU then owns it.
 */
import { hasSoftAffinity, maskHas } from './cpumask';
import { CREDIT2_CREDIT_RESET, credit2SliceLength } from './credit2-peek';
import {
  CREDIT2_CARRYOVER_MAX,
  CREDIT2_CREDIT_INIT,
  CREDIT2_CREDIT_MIN,
  CREDIT2_RATELIMIT_TICKLE_TOLERANCE,
  c2u,
  credit2HasCap,
  credit2Rqd,
  type Credit2State,
  type Credit2Unit,
} from './credit2-runqueue';
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


const NS_PER_US = 1000;

// Header words.
/** The runqueue's max_weight (t2c's scale). */
const H_MAX_WEIGHT = 1;
/** The pool's rate limit (ns; 0 = off). */
const H_RATELIMIT_NS = 2;
/** Every unit of the runqueue is carried (1), so an epoch end can be stepped too. */
const H_COMPLETE = 8;

// Unit fields, after the runqueue area.
const U_CREDIT = 0;
const U_RESIDUAL = 1;
const U_WEIGHT = 2;
/** svc->start_time: credit is burnt from here. */
const U_START = 3;
/** The unit's state entry time (when it last started or stopped running). */
const U_ENTRY = 4;
const U_STATE = 5;
/** The domain and VCPU, in that order (EdgeModelCore reads them there). */
const U_DOMID = 6;
const U_VCPU = 7;
const UNIT_WORDS = 8;

/** U_STATE values. */
const ST_BLOCKED = 0;
const ST_QUEUED = 1;
const ST_RUNNING = 2;
/** Running but blocked (a HLT not yet followed by schedule()). */
const ST_RUNNING_BLOCKED = 3;
/** Blocked, and not the pCPU's to wake (carried for the epoch end's credit only). */
const ST_OTHER = 4;

/** Float64 words a model of `capacity` units needs. */
export function credit2EdgeModelWords(capacity: number): number {
  return edgeModelWords(capacity, UNIT_WORDS);
}

/** A credit2 model over a Float64Array (see the file comment). */
export class Credit2EdgeModel extends EdgeModelCore implements EdgeModel {
  /** credit2SliceLength's view of the pool and of the unit it sizes (reused). */
  private readonly pool = { ratelimitUs: 0 };
  private readonly sized = { isRunning: false, stateEntryTime: 0 };

  constructor(m: Float64Array) {
    super(m, UNIT_WORDS, U_DOMID);
  }

  /** Unit `i`'s credit (tests). */
  credit(i: number): number {
    return this.m[this.units + i * UNIT_WORDS + U_CREDIT];
  }

  /**
   * Hypervisor side: copies pool state for pCPU `cpu` (running its current unit, the runqueue,
   * and the blocked units `offered`, which the pCPU may wake). False if the pool is outside what
   * the model mirrors (the array is then left with no running unit, so every step asks). The
   * caller must also know that no schedule() is pending for `cpu` other than through the
   * runqueue's tickled mask (SchedCore.reschedPending).
   */
  load(s: Credit2State, cpu: number, offered: readonly SchedUnit[]): boolean {
    const m = this.m;
    m[H_RUNNING] = -1;
    m[H_COUNT] = 0;
    m[H_RUNQ_LEN] = 0;
    const rqd = credit2Rqd(s, cpu);
    const online = s.ctx.cpus();
    const cur = s.ctx.curr(cpu);
    if (rqd.nrCpus !== 1 || online.length !== 1 || cur === null || !cur.runnable()) return false;
    if (1 + rqd.runq.length + offered.length > m[H_CAPACITY]) return false;
    m[H_MAX_WEIGHT] = rqd.maxWeight;
    m[H_RATELIMIT_NS] = s.ratelimitUs * NS_PER_US;
    m[H_TICKLED] = rqd.tickled.has(cpu) ? 1 : 0;
    if (!this.put(c2u(cur), ST_RUNNING, cpu, online)) return false;
    m[H_RUNNING] = 0;
    for (const svc of rqd.runq) {
      const u = svc.unit;
      if (u === null || !u.runnable() || u.isRunning || !this.put(svc, ST_QUEUED, cpu, online)) return this.fail();
      m[HEADER_WORDS + m[H_RUNQ_LEN]++] = m[H_COUNT] - 1;
    }
    for (const u of offered) {
      const svc = c2u(u);
      if (svc.rqd !== rqd || svc.onRunq || svc.scheduled || u.runnable() || !this.put(svc, ST_BLOCKED, cpu, online)) return this.fail();
    }
    // The rest of the runqueue's units, so that an epoch end (which credits them all) is known too.
    m[H_COMPLETE] = 0;
    if (rqd.svc.length > m[H_CAPACITY]) return true;
    for (const svc of rqd.svc) {
      const u = svc.unit;
      if (u === null || u === cur || svc.onRunq || offered.includes(u)) continue;
      if (u.runnable() || svc.scheduled || !this.put(svc, ST_OTHER, cpu, online)) return true;
    }
    m[H_COMPLETE] = m[H_COUNT] === rqd.svc.length ? 1 : 0;
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

  /** Appends one unit; false if it is outside the model (a cap, soft affinity, a yield or move pending). */
  private put(svc: Credit2Unit, state: number, cpu: number, online: readonly number[]): boolean {
    const u = svc.unit;
    if (u === null || credit2HasCap(svc) || svc.yielding || svc.delayedRunqAdd || svc.runqMigrateRequest || u.pcpu !== cpu) return false;
    if (!maskHas(u.hard, cpu) || hasSoftAffinity(u, online)) return false;
    const m = this.m;
    const e = this.units + m[H_COUNT] * UNIT_WORDS;
    m[e + U_CREDIT] = svc.credit;
    m[e + U_RESIDUAL] = svc.residual;
    m[e + U_WEIGHT] = svc.weight;
    m[e + U_START] = svc.startTime;
    m[e + U_ENTRY] = u.stateEntryTime;
    m[e + U_STATE] = state;
    m[e + U_DOMID] = u.domid;
    m[e + U_VCPU] = u.vcpuId;
    m[H_COUNT]++;
    return true;
  }

  /** burn_credits of unit `i` up to `now`; false if the credit would be clamped (the model asks). */
  private burn(i: number, now: number): boolean {
    const m = this.m;
    const e = this.units + i * UNIT_WORDS;
    const delta = now - m[e + U_START];
    if (delta <= 0) return true;
    const weight = m[e + U_WEIGHT];
    const val = delta * m[H_MAX_WEIGHT] + m[e + U_RESIDUAL];
    const credit = m[e + U_CREDIT] - Math.floor(val / weight);
    if (credit < CREDIT2_CREDIT_MIN) return false;
    m[e + U_RESIDUAL] = val % weight;
    m[e + U_CREDIT] = credit;
    m[e + U_START] = now;
    return true;
  }

  /**
   * reset_credit at `now` for the unit picked with credit `picked`: every unit gains
   * CSCHED2_CREDIT_INIT (twice that if the pick was at CSCHED2_CREDIT_MIN) up to the carry-over cap,
   * and starts burning from `now` (the running unit was burnt up to `now` already). The queue is not
   * sorted again, as in Xen.
   */
  private resetCredit(now: number, picked: number): void {
    const m = this.m;
    const reset = picked === CREDIT2_CREDIT_MIN ? 2 * CREDIT2_CREDIT_INIT : CREDIT2_CREDIT_INIT;
    for (let i = 0; i < m[H_COUNT]; i++) {
      const e = this.units + i * UNIT_WORDS;
      const credit = m[e + U_CREDIT] + reset;
      m[e + U_CREDIT] = credit > CREDIT2_CREDIT_INIT + CREDIT2_CARRYOVER_MAX ? CREDIT2_CREDIT_INIT + CREDIT2_CARRYOVER_MAX : credit;
      m[e + U_START] = now;
    }
  }

  /** runq_insert: before the first queued unit with less credit. */
  private insert(i: number): void {
    const m = this.m;
    const c = m[this.units + i * UNIT_WORDS + U_CREDIT];
    const len = m[H_RUNQ_LEN];
    // Scanned from the head as runq_insert does, then the rest shifted one place back.
    let at = 0;
    while (at < len && !(c > m[this.units + m[HEADER_WORDS + at] * UNIT_WORDS + U_CREDIT])) at++;
    for (let k = len; k > at; k--) m[HEADER_WORDS + k] = m[HEADER_WORDS + k - 1];
    m[HEADER_WORDS + at] = i;
    m[H_RUNQ_LEN]++;
    m[this.units + i * UNIT_WORDS + U_STATE] = ST_QUEUED;
  }

  /** runq_tickle of queued unit `i` on the one pCPU, which runs a unit; EDGE_TICKLE if it tickled. */
  private tickle(i: number, now: number): number {
    const m = this.m;
    if (m[H_TICKLED] !== 0) return EDGE_QUIET;
    const cur = m[H_RUNNING];
    const rl = m[H_RATELIMIT_NS];
    const ce = this.units + cur * UNIT_WORDS;
    // is_preemptable
    if (rl > CREDIT2_RATELIMIT_TICKLE_TOLERANCE && !(now - m[ce + U_ENTRY] > rl - CREDIT2_RATELIMIT_TICKLE_TOLERANCE)) return EDGE_QUIET;
    if (!this.burn(cur, now)) return this.ask();
    if (m[this.units + i * UNIT_WORDS + U_CREDIT] - m[ce + U_CREDIT] <= 0) return EDGE_QUIET;
    m[H_TICKLED] = 1;
    return EDGE_TICKLE;
  }

  /**
   * Blocked unit `i` wakes at `now` (vcpu_wake, csched2_unit_wake): EDGE_TICKLE if the pCPU is
   * to stop its unit (a schedule() at the stop follows), EDGE_QUIET if it runs on, or MODEL_ASK.
   */
  wake(i: number, now: number): number {
    const m = this.m;
    if (m[H_RUNNING] < 0 || i < 0 || i >= m[H_COUNT] || m[this.units + i * UNIT_WORDS + U_STATE] !== ST_BLOCKED) return this.ask();
    this.insert(i);
    return this.tickle(i, now);
  }

  /** The running unit halts (vcpu_block); a schedule() at the same instant follows. */
  block(): boolean {
    const m = this.m;
    const cur = m[H_RUNNING];
    if (cur < 0 || m[this.units + cur * UNIT_WORDS + U_STATE] !== ST_RUNNING) return false;
    m[this.units + cur * UNIT_WORDS + U_STATE] = ST_RUNNING_BLOCKED;
    return true;
  }

  /**
   * csched2_schedule on the pCPU at `now` (a slice end, a tickle's stop, after block()): the index
   * of the unit to run (the running one kept, or another; slice() its slice length), or MODEL_ASK.
   */
  schedule(now: number): number {
    const m = this.m;
    const cur = m[H_RUNNING];
    if (cur < 0) return MODEL_ASK;
    m[H_TICKLED] = 0;
    if (!this.burn(cur, now)) return this.ask();
    const u = this.units;
    const ce = u + cur * UNIT_WORDS;
    const runnable = m[ce + U_STATE] === ST_RUNNING;
    const rl = m[H_RATELIMIT_NS];
    // runq_candidate: the rate limit keeps a runnable unit; else the queue's head if it has more credit.
    let next = runnable ? cur : -1;
    if (!(rl > 0 && runnable && now - m[ce + U_ENTRY] < rl) && m[H_RUNQ_LEN] > 0) {
      const head = m[HEADER_WORDS];
      if (next < 0 || m[u + head * UNIT_WORDS + U_CREDIT] > m[ce + U_CREDIT]) next = head;
    }
    if (next < 0) return this.ask();
    const ne = u + next * UNIT_WORDS;
    if (next !== cur) {
      // runq_remove of the head.
      const len = --m[H_RUNQ_LEN];
      for (let k = 0; k < len; k++) m[HEADER_WORDS + k] = m[HEADER_WORDS + k + 1];
    }
    const headCredit = m[H_RUNQ_LEN] > 0 ? m[u + m[HEADER_WORDS] * UNIT_WORDS + U_CREDIT] : undefined;
    const top = headCredit === undefined ? m[ne + U_CREDIT] : Math.max(m[ne + U_CREDIT], headCredit);
    // reset_credit: an epoch end, known only if every unit of the runqueue is carried (its load
    // balancing has no other runqueue to look at).
    if (top <= CREDIT2_CREDIT_RESET) {
      if (m[H_COMPLETE] === 0) return this.ask();
      this.resetCredit(now, m[ne + U_CREDIT]);
    }
    const waiting = m[H_RUNQ_LEN] > 0 ? m[u + m[HEADER_WORDS] * UNIT_WORDS + U_CREDIT] : undefined;
    const putBack = next !== cur && runnable;
    m[ne + U_START] = now;
    this.pool.ratelimitUs = rl / NS_PER_US;
    this.sized.isRunning = next === cur;
    this.sized.stateEntryTime = m[ne + U_ENTRY];
    m[H_SLICE] = credit2SliceLength(this.pool, m[H_MAX_WEIGHT], this.sized, m[ne + U_CREDIT], m[ne + U_WEIGHT], Infinity, now, waiting, putBack ? m[ce + U_CREDIT] : 0);
    if (next !== cur) {
      m[ne + U_ENTRY] = now;
      m[ne + U_STATE] = ST_RUNNING;
      m[H_RUNNING] = next;
      m[ce + U_ENTRY] = now;
      if (putBack) {
        // context_saved: the unit put back is queued. Its runq_tickle cannot tickle one pCPU: it has
        // less credit than the unit just picked, and burning that one at its start burns nothing.
        this.insert(cur);
      } else {
        m[ce + U_STATE] = ST_BLOCKED;
      }
    }
    return next;
  }
}

/**
 * The hypervisor thread's scheduling on behalf of pCPUs: the schedule() call of a pCPU that
 * stopped its VCPU (accounted at the instant it stopped), and published next decisions, which let
 * a pCPU switch VCPUs at its slice end without waiting for this thread.
 *
 * Published next decisions (docs/architecture.md, "The exit protocol"). At the end of every
 * pass, for each pCPU running a VCPU, the scheduler is asked what it would decide if that VCPU
 * stopped shortly after its deadline with nothing else changed (SchedCore.peekNext); the answer
 * goes into the pCPU's slot (PcpuSlots.publishNext). A pCPU that stops at its deadline inside the
 * window takes it with a compare-exchange, switches itself, and posts REQ_SWITCHED. At the start
 * of every pass, before anything can change scheduler state, each publication is revoked with the
 * same compare-exchange, or, if the pCPU won, replayed: the real schedule() runs at the instant the
 * pCPU stopped, after the posted requests the old VCPU made before it, and must pick the same VCPU
 * (tests and a logged error check it). Scheduler state changes only inside a pass, so a decision
 * the pCPU takes was computed from the state the replay sees; that is what a per-pool generation
 * word would guarantee, without a bump at every scheduler entry point.
 *
 * Halt decisions (docs/architecture.md, "Halt decisions") ride on the same publication: a chain of
 * what to run if the VCPU halts, then if the VCPU switched to halts in turn, and so on, with the
 * 8259 vector the pCPU may inject into each; the replay blocks, schedules and runs the INTA cycle.
 */
import type { SchedCore } from '../hv/sched/core';
import type { XenHost } from '../hv/xen/xen-host';
import { HCHAIN_SEQ_STEP, HCHAIN_STEPS, SCHED_HALTED, SCHED_PREEMPTED, TAKE_HALT } from './control-block';
import type { SchedulePeek } from '../hv/sched/core-records';
import type { HvDomain } from './hv-domain';
import { extIntPreAnswer, prepareEntry, replayExtInt } from './hv-exits';
import type { NextFields, PcpuSlots } from './hv-pcpu-slots';

/** The VCPU a pCPU runs, as the hypervisor thread knows it. */
export interface Running {
  dom: HvDomain;
  vcpu: number;
}

/**
 * A published window starts this long after the slice end: at the deadline itself credit2 may
 * see a tie and keep the running VCPU, and a nanosecond later switch. The pCPU runs on to the
 * window's start when it stops a little before it.
 */
export const NEXT_LEAD_NS = 1_000;
/**
 * Stop instants covered after the slice end. A pCPU thread preempted by its host stops late; at
 * load 5 on 2 cores 1-3% of slice ends came more than 0.5 ms late, well under 1% more than 2 ms.
 * Later, it asks.
 */
export const NEXT_WINDOW_NS = 2_000_000;
/**
 * The window tried when the decision changes within NEXT_WINDOW_NS (credit2 near an epoch end,
 * an RTDS budget running out): a pCPU on time stops within a few microseconds of its deadline.
 */
export const NEXT_NARROW_WINDOW_NS = 50_000;
/**
 * Halt instants a halt decision covers from the end of the pass that publishes it. What block()
 * then schedule() decide does not depend on the instant for credit2 (credit2-peek.ts) and RTDS, so
 * there this only bounds how long a decision may stand; any pass revokes it first. Under credit
 * (credit-peek.ts) a window this long on a pool of several pCPUs crosses the 1 ms load-balance rate
 * limit, so a step is published only when balancing would steal nothing either way.
 */
export const HALT_WINDOW_NS = 20_000_000;
/** Largest slice extension one word carries (ns, int32). */
const MAX_EXTEND_NS = 0x7fffffff;

/** What the scheduling part needs from the hypervisor. */
export interface PcpuSchedHost {
  readonly sched: SchedCore;
  readonly domains: ReadonlyMap<number, HvDomain>;
  readonly xen: XenHost;
  nowNs(): number;
  /**
   * The scheduler side of VCPU `prev` leaving its pCPU for `reason`; true if it halted with an
   * interrupt already waiting, so it should simply run on. `taken`: the pCPU already switched away
   * at the halt (a halt decision), so it blocks whatever is waiting (see wakeAfterHalt).
   */
  putAway(reason: number, prev: Running, taken: boolean): boolean;
  /**
   * After the replay of a halt decision: `prev` blocked at its halt, but its posted writes before
   * the halt (an EOI) may have raised an interrupt for it since; if so, it wakes now.
   */
  wakeAfterHalt(prev: Running): void;
  /** Local APICs of `d` may have changed (an INTA cycle replayed): poke or wake their VCPUs. */
  kicked(d: HvDomain): void;
  /** Serves pCPU `p`'s posted requests in order (a REQ_SWITCHED among them comes to switched()). */
  drainPosted(p: number): void;
  /** Reports an engine error to the host's log. */
  logError(message: string): void;
}

/** The per-pCPU arrays the hypervisor shares with this part. */
export interface PcpuSchedArrays {
  running: (Running | null)[];
  sliceEnd: number[];
  idle: boolean[];
  started: boolean[];
  directPending: Set<number>;
}

/**
 * The decisions published for one pCPU: at its slice end (domid, vcpu, len: the slice length the
 * pCPU starts from, the shortest over the window; domid -1 for none) and at a halt (hdomid, hvcpu,
 * hlen).
 */
interface Published extends NextFields {
  /** Its sequence number, 0 when nothing is published. */
  seq: number;
  /** Steps the pCPU took (known once the publication ended, settle()) and steps replayed so far. */
  taken: number;
  replayed: number;
}

/** Counts of published decisions, for tests and benchmarks. */
export interface SwitchCounts {
  published: number;
  revoked: number;
  replayed: number;
  /** Replays that picked another VCPU or an earlier slice end (engine bugs). */
  mismatches: number;
  /** Pass ends at which a running pCPU got no decision (the scheduler could not tell, or idle next). */
  declined: number;
  /** Publications that carried a halt decision. */
  haltPublished: number;
  /** Halt decisions taken and replayed. */
  haltReplayed: number;
}

/** Scheduling on behalf of the pCPUs (part of the hypervisor thread). */
export class PcpuScheduling {
  /** The pCPU stop time schedule() accounts at, or -1 (see schedNow). */
  private accountAt = -1;
  /** Latest time the scheduler has been given. */
  private schedLast = 0;
  /** The clock is accountAt exactly (runAt with `exact`). */
  private exact = false;
  /** The pCPU whose VCPU schedule() is putting away (its tickles are moot), or -1. */
  deciding = -1;
  private readonly pub: Published[];
  /** Pool switch tokens read at the start of publish(), by the pCPU whose slot holds them. */
  private readonly tokens: number[];
  /** pCPUs to preempt at the end of the pass, with a decision published for the stop (deferPreempt). */
  private readonly preemptLater: boolean[];
  private anyPreemptLater = false;
  /** Last sequence number used per pCPU. */
  private readonly seqs: number[];
  /** Sequence number of the last decision replayed per pCPU (its REQ_SWITCHED may come after). */
  private readonly replayedSeq: number[];
  /** Published decisions so far. */
  readonly counts: SwitchCounts = { published: 0, revoked: 0, replayed: 0, mismatches: 0, declined: 0, haltPublished: 0, haltReplayed: 0 };

  constructor(
    private readonly host: PcpuSchedHost,
    private readonly slots: PcpuSlots,
    private readonly a: PcpuSchedArrays,
  ) {
    const n = a.running.length;
    const steps = (): number[] => new Array<number>(HCHAIN_STEPS).fill(0);
    this.pub = Array.from({ length: n }, () => ({
      seq: 0, taken: 0, replayed: 0, domid: -1, vcpu: 0, from: 0, until: 0, len: 0, extint: 0,
      hsteps: 0, hfrom: 0, huntil: 0, hdom: steps(), hvcpu: steps(), hlen: steps(), hextint: steps(),
    }));
    this.seqs = new Array<number>(n).fill(0);
    this.preemptLater = new Array<boolean>(n).fill(false);
    this.tokens = new Array<number>(n).fill(0);
    this.replayedSeq = new Array<number>(n).fill(0);
  }

  /**
   * The scheduler's clock: engine time, except while a stopped VCPU is accounted (schedule()),
   * when it is the instant the pCPU stopped it. Never earlier than a time the scheduler has seen.
   */
  schedNow(): number {
    // A step of an edge publication is replayed at exactly its instant (the pCPU stepped the pool's
    // model there); another pool's replay may have shown the scheduler a later time meanwhile.
    if (this.exact && this.accountAt >= 0) return this.accountAt;
    const t = this.accountAt >= 0 ? Math.max(this.accountAt, this.schedLast) : this.host.nowNs();
    if (t > this.schedLast) this.schedLast = t;
    return t;
  }

  /**
   * A pCPU stopped its VCPU for `reason` (at `stopNs`, else at P_STOP_NS); returns [domid or -1,
   * vcpu, wake snapshot]. `haltTaken`: a HLT the pCPU followed with a timer take (hv-pcpu-timer.ts),
   * so it blocks whatever the VCPU's state says now (it runs again).
   */
  schedule(p: number, reason: number, stopNs = this.slots.stopNs(p), haltTaken = false): [number, number, number] {
    return this.scheduleAt(p, reason, stopNs, false, haltTaken);
  }

  /**
   * Runs `fn` with the scheduler's clock at `t` (a replayed event; never before a time it has seen,
   * unless `exact`: a step of an edge publication, replayed at its own instant).
   */
  runAt<T>(t: number, fn: () => T, exact = false): T {
    const was = this.accountAt;
    const wasExact = this.exact;
    this.accountAt = t;
    this.exact = exact;
    try {
      return fn();
    } finally {
      this.accountAt = was;
      this.exact = wasExact;
    }
  }

  /**
   * Replays a switch a pCPU made by stepping its edge publication's model (hv-pcpu-edges.ts): the
   * real schedule() (after the block of a halting VCPU, `halt`) at exactly `t`; returns the pick
   * [domid or -1, vcpu]; sliceEnd[p] holds its slice end.
   */
  replayEdgeSwitch(p: number, reason: number, t: number, halt: boolean): [number, number] {
    const wasExact = this.exact;
    this.exact = true;
    try {
      const [domid, vcpu] = this.scheduleAt(p, reason, t, true, halt);
      return [domid, vcpu];
    } finally {
      this.exact = wasExact;
    }
  }

  /** pCPUs with an edge publication standing (hv-pcpu-edges.ts): nothing else is published for them. */
  edgesStand: (p: number) => boolean = () => false;

  /**
   * schedule() with the run accounted up to `stopNs`. A replay (the pCPU already switched by
   * itself) leaves the pCPU's words alone: its preempt bit, wake word and slice end are its own.
   */
  private scheduleAt(p: number, reason: number, stopNs: number, replay: boolean, haltTaken: boolean): [number, number, number] {
    if (!this.a.started[p]) {
      this.a.started[p] = true;
      this.host.sched.setPcpuOnline(p);
    }
    const prev = this.a.running[p];
    // Account the run up to when the pCPU stopped it, not up to now (the request may have waited
    // for this thread to get a host CPU).
    this.accountAt = prev !== null ? (this.exact ? stopNs : Math.min(stopNs, this.host.nowNs())) : -1;
    try {
      return this.scheduleAfter(p, reason, prev, replay, haltTaken);
    } finally {
      this.accountAt = -1;
    }
  }

  private scheduleAfter(p: number, reason: number, prev: Running | null, replay: boolean, haltTaken: boolean): [number, number, number] {
    // Tickles of `p` while its old VCPU is put away are answered by the decision below; waking
    // the pCPU for them would only make a pCPU that posted its HLT ask again.
    this.deciding = p;
    try {
      // An interrupt is already waiting for a halting VCPU: no point blocking, run it again.
      if (prev !== null && this.host.putAway(reason, prev, haltTaken)) return [prev.dom.domid, prev.vcpu, this.slots.wakeWord(p)];
    } finally {
      this.deciding = -1;
    }
    // Snapshot the wake word and clear the preempt bit BEFORE deciding: a tickle for this pCPU
    // issued during (or after) the decision must not be lost, so the pCPU re-asks at once.
    const wake = replay ? 0 : this.slots.beginDecision(p);
    // A preemption deferred to the end of the pass is answered by this decision too.
    if (!replay) this.preemptLater[p] = false;
    this.a.idle[p] = false;
    this.a.directPending.delete(p);
    const [domid, vcpu] = this.decide(p, !replay);
    if (!replay) this.slots.setDeadline(p, this.a.sliceEnd[p]);
    return [domid, vcpu, wake];
  }

  /**
   * Runs the scheduler for pCPU `p` and records the outcome; returns [domid or -1, vcpu].
   * `enter`: the VCPU is not running yet, so its pending interrupt may be injected on entry.
   */
  decide(p: number, enter = true): [number, number] {
    const dec = this.host.sched.schedule(p);
    const d = dec.vcpu === null ? undefined : this.host.domains.get(dec.vcpu.domid);
    if (dec.vcpu === null || d === undefined || d.shutdown) {
      this.a.running[p] = null;
      // Idle until the scheduler's deadline (an ARINC 653 window start has no other timer).
      this.a.sliceEnd[p] = dec.until;
      this.a.idle[p] = true;
      return [-1, 0];
    }
    this.a.idle[p] = false;
    this.a.running[p] = { dom: d, vcpu: dec.vcpu.vcpu };
    this.a.sliceEnd[p] = dec.until;
    if (enter) prepareEntry(d, dec.vcpu.vcpu, this.host.xen);
    return [d.domid, dec.vcpu.vcpu];
  }

  /**
   * First thing in a pass: no published decision may stand while scheduler state changes. Each
   * publication is ended; the steps its pCPU took are replayed after the posted requests before
   * them, then VCPUs that halted that way and have an interrupt by now are woken.
   */
  settle(): void {
    for (let p = 0; p < this.pub.length; p++) {
      const pub = this.pub[p];
      if (pub.seq === 0) continue;
      const v = this.slots.endNext(p);
      if (v === pub.seq) {
        pub.seq = 0;
        this.counts.revoked++;
        continue;
      }
      // Taken: a slice end (0) or that many halt steps. Their REQ_SWITCHED are in the ring after
      // the posted requests before each, the last possibly still about to be posted.
      pub.taken = v === 0 ? 1 : v - pub.seq;
      pub.replayed = 0;
      this.host.drainPosted(p);
      if (pub.seq !== 0 && pub.replayed < pub.taken - 1) {
        this.host.logError(`pCPU ${p} took ${pub.taken} steps of decision ${pub.seq}, but reported only ${pub.replayed} before the last`);
      }
      while (pub.seq !== 0 && pub.replayed < pub.taken) this.replay(p, this.slots.takenKind(p) === TAKE_HALT, pub.replayed);
      pub.seq = 0;
    }
    const halted = this.halted;
    for (let i = 0; i < halted.length; i++) this.host.wakeAfterHalt(halted[i]);
    halted.length = 0;
  }

  /** A posted REQ_SWITCHED: pCPU `p` took step `step` (`kind`) of decision `seq`. */
  switched(p: number, seq: number, kind: number, step: number): void {
    const pub = this.pub[p];
    if (pub.seq === seq && pub.taken > 0 && step === pub.replayed) this.replay(p, kind === TAKE_HALT, step);
    else if (seq !== this.replayedSeq[p]) this.host.logError(`pCPU ${p} reports taking step ${step} of decision ${seq}, which was not published or not taken`);
  }

  /** VCPUs blocked by replayed halt steps, to be woken if an interrupt came since (settle()). */
  private readonly halted: Running[] = [];

  /**
   * Replays a switch pCPU `p` made by itself (a slice end, or step `step` of its halt chain): the
   * real schedule() at the instant it stopped, checked against what was published.
   */
  private replay(p: number, halt: boolean, step: number): void {
    const pub = this.pub[p];
    const t = halt ? this.slots.chainTakenNs(p, step) : this.slots.takenNs(p);
    const want = halt ? pub.hdom[step] : pub.domid;
    const wantVcpu = halt ? pub.hvcpu[step] : pub.vcpu;
    const provisional = t + (halt ? pub.hlen[step] : pub.len);
    const extint = halt ? pub.hextint[step] : pub.extint;
    const last = pub.replayed === pub.taken - 1;
    this.replayedSeq[p] = pub.seq;
    pub.replayed++;
    if (last) pub.seq = 0;
    this.counts.replayed++;
    if (halt) this.counts.haltReplayed++;
    const prev = this.a.running[p];
    const [domid, vcpu] = this.scheduleAt(p, halt ? SCHED_HALTED : SCHED_PREEMPTED, t, true, halt);
    const end = this.a.sliceEnd[p];
    if (domid !== want || vcpu !== wantVcpu || !(end >= provisional)) {
      // An engine bug: the pCPU runs something else than the scheduler now thinks. Make it ask.
      this.counts.mismatches++;
      this.host.logError(
        `pCPU ${p} switched ${halt ? `at a halt (step ${step}) ` : ''}to d${want}v${wantVcpu} until ${provisional} at ${t}, but the scheduler decided ` +
          `${domid < 0 ? 'idle' : `d${domid}v${vcpu}`} until ${end}; preempting it`,
      );
      this.slots.preempt(p);
      pub.seq = 0;
    } else if (last && end > provisional) {
      // Only the VCPU of the last step still runs that slice (the pCPU zeroes the word at a take).
      this.slots.extendSlice(p, Number.isFinite(end) ? Math.min(MAX_EXTEND_NS, Math.ceil(end - provisional)) : MAX_EXTEND_NS);
    }
    if (extint !== 0) this.replayInjection(p, extint - 1);
    if (halt && prev !== null) this.halted.push(prev);
  }

  /** The INTA cycle of the interrupt pCPU `p` injected into the VCPU it switched to (now running[p]). */
  private replayInjection(p: number, vector: number): void {
    const r = this.a.running[p];
    if (r === null) return;
    const got = replayExtInt(r.dom);
    if (got !== vector) {
      this.counts.mismatches++;
      this.host.logError(`pCPU ${p} injected vector ${vector} into d${r.dom.domid}v${r.vcpu}, but the 8259 acknowledged ${got}`);
    }
    this.host.kicked(r.dom);
  }

  /**
   * Last thing in a pass: publish, for every pCPU running a VCPU, what the scheduler will decide
   * when that VCPU stops just after its slice end, if it can tell.
   */
  /**
   * Asks pCPU `p`, which runs a VCPU, to stop it, at the end of the pass: publish() then first
   * publishes what schedule() will decide at the stop (a wake preemption), so the pCPU switches
   * without asking (docs/architecture.md, "Wake preemptions").
   */
  deferPreempt(p: number): void {
    this.preemptLater[p] = true;
    this.anyPreemptLater = true;
  }

  publish(): void {
    this.publishAll();
    if (!this.anyPreemptLater) return;
    this.anyPreemptLater = false;
    for (let p = 0; p < this.preemptLater.length; p++) {
      if (!this.preemptLater[p]) continue;
      this.preemptLater[p] = false;
      this.slots.preempt(p);
    }
  }

  private publishAll(): void {
    const now = this.host.nowNs();
    // Pool switch tokens before anything is published: a pCPU may take its decision (and move its
    // pool's token on) while its siblings' are still being computed, which must then not hold.
    const tokens = this.tokens;
    for (let p = 0; p < tokens.length; p++) tokens[p] = this.slots.poolToken(p);
    for (let p = 0; p < this.pub.length; p++) {
      const r = this.a.running[p];
      // PVH VCPUs (running or next) keep asking: their Xen state follows entries on this thread.
      if (r === null || this.pub[p].seq !== 0 || r.dom.shutdown || r.dom.pendingShutdown || r.dom.spec.pvh !== undefined || this.edgesStand(p)) continue;
      if (this.slots.preemptPending(p)) continue;
      const leader = this.host.sched.poolLeader(p);
      if (leader < 0) continue;
      const pub = this.pub[p];
      const atEnd = this.peekSliceEnd(p, now, pub);
      const atHalt = this.peekHalt(p, now, pub, r.dom);
      if (!atEnd && !atHalt) {
        this.counts.declined++;
        continue;
      }
      if (!atEnd) pub.domid = -1;
      pub.extint = atEnd ? this.preAnswer(pub.domid, pub.vcpu, r.dom) : 0;
      const seq = this.seqs[p] >= 0x7ffffff0 - HCHAIN_SEQ_STEP ? HCHAIN_SEQ_STEP : this.seqs[p] + HCHAIN_SEQ_STEP;
      this.seqs[p] = seq;
      pub.seq = seq;
      this.slots.publishNext(p, seq, pub, leader, tokens[leader]);
      this.counts.published++;
      if (atHalt) this.counts.haltPublished++;
    }
  }

  /** The 8259 vector (plus one) the pCPU may inject into VCPU `vcpu` of `domid` when it switches to it. */
  private preAnswer(domid: number, vcpu: number, running: HvDomain): number {
    const d = this.host.domains.get(domid);
    return d === undefined ? 0 : extIntPreAnswer(d, vcpu, running);
  }

  /** A VCPU a decision may name: an HVM VCPU of a live domain (a PVH VCPU's entry runs here). */
  private switchable(domid: number): boolean {
    const d = this.host.domains.get(domid);
    return d !== undefined && !d.shutdown && d.pendingShutdown === undefined && d.spec.pvh === undefined;
  }

  /** The decision for pCPU `p`'s slice end into `pub` (domid, vcpu, from, until, len); false if none. */
  private peekSliceEnd(p: number, now: number, pub: Published): boolean {
    // A pCPU about to be preempted stops within microseconds: the window starts now.
    const tickled = this.preemptLater[p];
    const end = tickled ? now : this.a.sliceEnd[p];
    if (!Number.isFinite(end)) return false;
    // Never before an instant the scheduler has seen: the replay accounts exactly there.
    const from = Math.ceil(Math.max(tickled ? now : end + NEXT_LEAD_NS, this.schedLast, now));
    let until = Math.floor(Math.max(end, now) + NEXT_WINDOW_NS);
    let peek = this.host.sched.peekNext(p, from, until, tickled);
    if (peek === null) {
      until = Math.floor(Math.max(end, now) + NEXT_NARROW_WINDOW_NS);
      peek = from <= until ? this.host.sched.peekNext(p, from, until, tickled) : null;
    }
    if (peek === null || peek.vcpu === null || !this.switchable(peek.vcpu.domid)) return false;
    pub.domid = peek.vcpu.domid;
    pub.vcpu = peek.vcpu.vcpu;
    pub.from = from;
    pub.until = until;
    pub.len = peek.len;
    return true;
  }

  /** Steps of a halt chain as the scheduler answered them (peekBlockChain; reused). */
  private readonly chain: SchedulePeek[] = [];

  /**
   * The chain of halt decisions for pCPU `p` (its VCPU, of `running`, halting; then the VCPU
   * switched to halting in turn, ...) into `pub` (hsteps, hfrom, huntil, hdom, hvcpu, hlen,
   * hextint); false if none. It ends before an idle result (lazy halts cover a pCPU with nothing
   * else to run) or a VCPU a pCPU may not switch to by itself.
   */
  private peekHalt(p: number, now: number, pub: Published, running: HvDomain): boolean {
    // Nothing else of the pool is runnable: a halt idles the pCPU (step 0 would be idle).
    if (!this.host.sched.waiting(p)) return false;
    const from = Math.ceil(Math.max(this.schedLast, now));
    const until = from + HALT_WINDOW_NS;
    const n = this.host.sched.peekBlockChain(p, from, until, HCHAIN_STEPS, this.chain);
    let k = 0;
    for (; k < n; k++) {
      const v = this.chain[k].vcpu;
      if (v === null || !this.switchable(v.domid)) break;
      pub.hdom[k] = v.domid;
      pub.hvcpu[k] = v.vcpu;
      pub.hlen[k] = this.chain[k].len;
      pub.hextint[k] = this.preAnswer(v.domid, v.vcpu, running);
    }
    pub.hsteps = k;
    pub.hfrom = from;
    pub.huntil = until;
    return k > 0;
  }
}

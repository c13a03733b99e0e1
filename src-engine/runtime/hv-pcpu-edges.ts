/**
 * Timer edges taken by a busy pCPU, the hypervisor thread's side (docs/architecture.md, "Timer
 * edges taken by a busy pCPU"; the pCPU's side is pcpu-edge-take.ts). Off unless DOMUS_EDGE_OFFERS=1.
 *
 * Publication. Before this thread sleeps, for a pCPU that runs an HVM VCPU of a one-pCPU credit2
 * pool (credit: EDGE_PUBLISH_CREDIT) with no preemption or reschedule pending, it collects the pool's blocked tick
 * VCPUs whose next wake source is their domain's PIT through the 8259 (tickOffer, the idle offers'
 * checks), copies the pool's scheduler state into a model (SchedCore.loadEdgeModel) and writes the
 * model, an edge table (per VCPU: its unit, its vector, first edge, period) and a limit (the
 * earliest of the offers' limits, the scheduler's next timer, 1 s) into the pCPU's slot, then the
 * sequence word. Nothing else is published for that pCPU meanwhile (no next decision, halt chain or
 * timer offer), and this thread does not wake for the covered domains' PIT deadlines.
 *
 * Replay. A pass first ends every publication with exchange(0), which tells how many steps the
 * pCPU made, then drains the rings in order. Each REQ_EDGE_STEP is replayed with the real calls at
 * exactly its instant, beside a copy of the model stepped the same way (the mirror): a take runs
 * the domain's devices (the PIT edge, IRR 0, INTR on LINT0) and the real wake, whose tickle of the
 * pCPU is compared with the posted bit instead of acted on; a switch (at a tickle's stop or a slice
 * end) runs schedule(), a halt block() then schedule(); the pick and the slice end must be the
 * mirror's, and a switch to a VCPU whose edge was taken runs the 8259's INTA cycle, which must give
 * the vector injected. A step whose entry is not posted yet (the pCPU won the compare-exchange just
 * before the exchange) is replayed from P_ELAST_*. Any disagreement is logged as an hv error and
 * the pCPU preempted.
 *
 * Concurrency: only this thread writes the publication's fields, while the word is 0; the pCPU
 * reads them into copies of its own (pcpu-edge-take.ts) and never writes them.
 */
import { Credit2EdgeModel } from '../hv/sched/credit2-edge-model';
import { CreditEdgeModel } from '../hv/sched/credit-edge-model';
import { EDGE_QUIET, EDGE_TICKLE, MODEL_ASK } from '../hv/sched/edge-model';
import type { SchedCore } from '../hv/sched/core';
import { lapicExtIntPending } from '../machine/lapic-core';
import {
  ATTN_PREEMPT, EDGE_ENTRIES, EDGE_ENTRY_WORDS, EDGE_MODEL_CREDIT, EDGE_MODEL_CREDIT2, EDGE_MODEL_UNITS, EDGE_MODEL_WORDS, EDGE_STEP_HALT,
  EDGE_STEP_SLICE_END, EDGE_STEP_TAKE, EDGE_STEP_TICKLE_STOP, EDGE_STEP_TICKLED, EDGE_STEP_UNIT_SHIFT, EE_FIRST, EE_PERIOD_PS, EE_STATE, EE_UNIT, EE_VECTOR, EES_BLOCKED, EES_EOI_OWED, EES_INJECT,
  ESEQ_STEP, P_ATTN, P_EBASE, P_ECOUNT, P_EKIND, P_ELAST_NS, P_ELAST_WHAT, P_ELIMIT, P_EMODEL, P_ESEQ, P_ETABLE, P_SLICE_EXTEND, P_WAKE,
  SCHED_HALTED, SCHED_PREEMPTED, getF64, putF64, slot,
} from './control-block';
import type { HvDomain } from './hv-domain';
import { extIntPreAnswer, replayExtInt } from './hv-exits';
import type { PcpuScheduling, Running } from './hv-pcpu-sched';
import { TIMER_OFFER_SPAN_NS, haltedTakesInterrupt, newTickOffer, tickOffer } from './hv-tick-offer';

/** The environment switch that turns edge publications on ("1"). */
export const EDGE_OFFERS_ENV = 'DOMUS_EDGE_OFFERS';
/**
 * Whether credit pools get publications (the credit model steps them). Not yet: with 50 tick
 * domains beside a spin domain the spin domain kept 2-8% of its pCPU (35-66% without publications);
 * the cause is not found (docs/performance.md). With 12 tick domains it measured as expected.
 */
const EDGE_PUBLISH_CREDIT = false;
/** Low bits of a REQ_EDGE_STEP's what word: the step's kind. */
const STEP_KIND_MASK = 0xf;
/** Largest slice extension one word carries (ns, int32). */
const MAX_EXTEND_NS = 0x7fffffff;

/** True if the environment turns edge publications on (read where a `process` global exists). */
export function edgeOffersFromEnvironment(): boolean {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> } };
  return g.process?.env?.[EDGE_OFFERS_ENV] === '1';
}

/** What the edge part needs from the hypervisor. */
export interface PcpuEdgeHost {
  readonly sched: SchedCore;
  readonly domains: ReadonlyMap<number, HvDomain>;
  /** Serves pCPU `p`'s posted requests in order (REQ_EDGE_STEP comes to posted()). */
  drainPosted(p: number): void;
  /** A VCPU blocked by a replayed halt wakes if an interrupt came since. */
  wakeAfterHalt(prev: Running): void;
  /** Local APICs of `d` may have changed: poke or wake their VCPUs. */
  kicked(d: HvDomain): void;
  logError(message: string): void;
}

/** Counts for tests and benchmarks. */
export interface EdgeCounts {
  published: number;
  /** Edges and switches replayed. */
  takes: number;
  switches: number;
  /** Replays that disagreed with the pCPU's step (engine bugs). */
  mismatches: number;
}

/** One pCPU's publication, as this thread knows it. */
class EdgePub {
  /** Its sequence number (0: none standing or being replayed). */
  seq = 0;
  /** Steps made (known once it ended) and replayed so far. */
  taken = 0;
  replayed = 0;
  base = 0;
  /** The word of the step replayed from the slot (its entry, posted later, is skipped). */
  slotReplayed = 0;
  /** The domain and VCPU of each model unit. */
  readonly doms: (HvDomain | null)[] = new Array<HvDomain | null>(EDGE_MODEL_UNITS).fill(null);
  readonly vcpus: number[] = new Array<number>(EDGE_MODEL_UNITS).fill(0);
  /** Per unit: the vector plus one a take injects (0: not in the table), and whether an edge was taken and not yet switched in. */
  readonly vectors: number[] = new Array<number>(EDGE_MODEL_UNITS).fill(0);
  readonly pending: boolean[] = new Array<boolean>(EDGE_MODEL_UNITS).fill(false);
  /** Domains whose PIT this publication covers. */
  readonly covered = new Set<HvDomain>();
  /** The mirror models (stepped beside the replay) and the one in use. */
  readonly c2 = new Credit2EdgeModel(new Float64Array(EDGE_MODEL_WORDS));
  readonly c1 = new CreditEdgeModel(new Float64Array(EDGE_MODEL_WORDS));
  mirror: Credit2EdgeModel | CreditEdgeModel = this.c2;
  /** The limit of the publication (engine ns). */
  limit = Infinity;
  /** VCPUs blocked by replayed halts (woken after the replay if an interrupt came since). */
  readonly halted: Running[] = [];
  /** A replay disagreed: the rest of its steps are not replayed (the pCPU was preempted). */
  broken = false;
}

/** Edge publications and their replays (part of the hypervisor thread). */
export class PcpuEdges {
  readonly counts: EdgeCounts = { published: 0, takes: 0, switches: 0, mismatches: 0 };
  private readonly pubs: EdgePub[];
  private readonly seqs: number[];
  /** The shared model area of each pCPU. */
  private readonly models: Float64Array[];
  private readonly tick = newTickOffer();
  private readonly candidates: number[] = new Array<number>(EDGE_ENTRIES).fill(0);
  private readonly refs: { domid: number; vcpu: number }[] = Array.from({ length: EDGE_ENTRIES }, () => ({ domid: 0, vcpu: 0 }));
  private readonly offered: { domid: number; vcpu: number }[] = [];
  /** The pCPU whose real wake is replayed, whose tickles are recorded instead of acted on (-1: none). */
  private capturing = -1;
  private captured = false;

  constructor(
    private readonly cb: Int32Array,
    private readonly host: PcpuEdgeHost,
    private readonly ps: PcpuScheduling,
    private readonly a: { running: (Running | null)[]; sliceEnd: number[] },
    readonly enabled: boolean,
  ) {
    const n = a.running.length;
    this.pubs = Array.from({ length: n }, () => new EdgePub());
    this.seqs = new Array<number>(n).fill(0);
    this.models = Array.from({ length: n }, (_, p) => new Float64Array(cb.buffer, slot(p, P_EMODEL) * 4, EDGE_MODEL_WORDS));
  }

  /** True if a publication stands for pCPU `p`. */
  stands(p: number): boolean {
    return this.pubs[p].seq !== 0 && this.pubs[p].taken === 0;
  }

  /** True if a standing publication covers domain `d`'s PIT. */
  covers(d: HvDomain): boolean {
    for (const pub of this.pubs) if (pub.seq !== 0 && pub.covered.has(d)) return true;
    return false;
  }

  /** True if any publication stands. */
  anyStands(): boolean {
    for (let p = 0; p < this.pubs.length; p++) if (this.stands(p)) return true;
    return false;
  }

  /**
   * The earliest device deadline of a live HVM domain among `domains` that `covered` does not hold
   * for (Infinity: none). A loop over the domains: EarliestDeadlines keeps too few deadlines for a
   * publication that covers dozens of domains.
   */
  firstUncovered(domains: Iterable<HvDomain>, covered: (d: HvDomain) => boolean): number {
    let next = Infinity;
    for (const d of domains) if (!d.shutdown && d.spec.pvh === undefined && d.nextTick < next && !covered(d)) next = d.nextTick;
    return next;
  }

  /** The earliest limit of the standing publications (Infinity: none); this thread wakes there. */
  limit(): number {
    let l = Infinity;
    for (const pub of this.pubs) if (pub.seq !== 0 && pub.limit < l) l = pub.limit;
    return l;
  }

  /** Hypervisor.tickle: true if the tickle of `p` is recorded (a replayed wake), not acted on. */
  captureTickle(p: number): boolean {
    if (p !== this.capturing) return false;
    this.captured = true;
    return true;
  }

  /** First thing in a pass: every publication ends; the steps made are replayed from the rings and by finish(). */
  end(): void {
    for (let p = 0; p < this.pubs.length; p++) {
      const pub = this.pubs[p];
      if (pub.seq === 0) continue;
      const v = Atomics.exchange(this.cb, slot(p, P_ESEQ), 0);
      pub.taken = v - pub.seq;
      pub.replayed = 0;
      pub.covered.clear();
      if (pub.taken === 0) pub.seq = 0;
    }
  }

  /** A posted REQ_EDGE_STEP of pCPU `p`: step `word` (sequence number plus index), `what`, at base + `rel`. */
  posted(p: number, word: number, what: number, rel: number): void {
    const pub = this.pubs[p];
    const k = word % ESEQ_STEP;
    if (pub.seq === word - k && k === pub.replayed && pub.replayed < pub.taken) this.replay(p, what, pub.base + rel);
    else if (word !== pub.slotReplayed) this.host.logError(`pCPU ${p} reports step ${k} of edge publication ${word - k}, which was not made or not taken`);
  }

  /** After the pass's first drain: a step whose entry is not posted yet is replayed from the slot. */
  finish(): void {
    for (let p = 0; p < this.pubs.length; p++) {
      const pub = this.pubs[p];
      if (pub.seq === 0) continue;
      if (pub.replayed < pub.taken) this.host.drainPosted(p);
      if (pub.replayed === pub.taken - 1) {
        pub.slotReplayed = pub.seq + pub.replayed;
        this.replay(p, this.cb[slot(p, P_ELAST_WHAT)], getF64(this.cb, slot(p, P_ELAST_NS)));
      } else if (pub.replayed < pub.taken) {
        this.host.logError(`pCPU ${p} made ${pub.taken} steps of edge publication ${pub.seq}, but reported only ${pub.replayed} before the last`);
      }
      pub.seq = 0;
      for (const h of pub.halted) this.host.wakeAfterHalt(h);
      pub.halted.length = 0;
    }
  }

  /** Replays step `what` of pCPU `p` at `t` with the real calls, beside the mirror. */
  private replay(p: number, what: number, t: number): void {
    const pub = this.pubs[p];
    pub.replayed++;
    if (pub.broken) return;
    const kind = what & STEP_KIND_MASK;
    const unit = what >> EDGE_STEP_UNIT_SHIFT;
    if (kind === EDGE_STEP_TAKE) this.replayTake(p, pub, unit, (what & EDGE_STEP_TICKLED) !== 0, t);
    else this.replaySwitch(p, pub, kind, unit, t);
  }

  /** A take: the domain's devices at `t`, the real wake there, its tickle compared with `tickled`. */
  private replayTake(p: number, pub: EdgePub, unit: number, tickled: boolean, t: number): void {
    this.counts.takes++;
    const d = pub.doms[unit];
    const v = pub.vcpus[unit];
    if (d === null || pub.vectors[unit] === 0) {
      this.mismatch(p, `pCPU ${p} took a timer edge of model unit ${unit}, which is not in its edge table`);
      return;
    }
    d.countExit('edge-take');
    const want = pub.mirror.wake(unit, t);
    let raised = false;
    this.capturing = p;
    this.captured = false;
    try {
      this.ps.runAt(t, () => {
        const warp = d.clock.offsetNs;
        d.nextTick = d.platform.tick(t + warp) - warp;
        // The edge raised LINT0 of the halted VCPU, which wakes (as processKicks would have at t).
        raised = d.kicks.delete(v) && lapicExtIntPending(d.lapics[v]);
        if (raised) {
          d.deadHalt[v] = false;
          this.host.sched.wake(d.domid, v);
        }
      }, true);
    } finally {
      this.capturing = -1;
    }
    pub.pending[unit] = true;
    this.host.kicked(d);
    const model = want === EDGE_TICKLE ? 'tickled' : want === EDGE_QUIET ? 'did not tickle' : 'asked';
    if (!raised || this.captured !== tickled || want === MODEL_ASK || (want === EDGE_TICKLE) !== tickled) {
      this.mismatch(
        p,
        `pCPU ${p} took a timer edge of d${d.domid}v${v} at ${t} (it ${tickled ? 'tickled' : 'did not tickle'}), but ` +
          `${raised ? `the real wake ${this.captured ? 'tickled' : 'did not tickle'} and the mirror ${model}` : 'the edge raised no interrupt'}`,
      );
    }
  }

  /** A switch of kind `kind` to model unit `unit` at `t`: the real schedule() (after block() at a halt), checked. */
  private replaySwitch(p: number, pub: EdgePub, kind: number, unit: number, t: number): void {
    this.counts.switches++;
    const halt = kind === EDGE_STEP_HALT;
    const prev = this.a.running[p];
    if (halt && !pub.mirror.block()) {
      this.mismatch(p, `pCPU ${p} halted its VCPU under edge publication ${pub.seq}, which the mirror model cannot step`);
      return;
    }
    const pick = pub.mirror.schedule(t);
    const provisional = t + pub.mirror.slice();
    const [domid, vcpu] = this.ps.replayEdgeSwitch(p, halt ? SCHED_HALTED : SCHED_PREEMPTED, t, halt);
    const end = this.a.sliceEnd[p];
    const d = pick >= 0 ? pub.doms[pick] : null;
    if (pick !== unit || d === null || domid !== d.domid || vcpu !== pub.vcpus[pick] || !(end >= provisional)) {
      const what = kind === EDGE_STEP_HALT ? 'a halt' : kind === EDGE_STEP_SLICE_END ? 'its slice end' : kind === EDGE_STEP_TICKLE_STOP ? 'a tickle' : `step kind ${kind}`;
      this.mismatch(
        p,
        `pCPU ${p} switched at ${what} at ${t} to model unit ${unit} (the mirror: ${pick}${d !== null ? `, d${d.domid}v${pub.vcpus[pick]}` : ''}) until ${provisional}, ` +
          `but the scheduler decided ${domid < 0 ? 'idle' : `d${domid}v${vcpu}`} until ${end}`,
      );
      return;
    }
    if (end > provisional && pub.replayed === pub.taken) {
      Atomics.store(this.cb, slot(p, P_SLICE_EXTEND), Number.isFinite(end) ? Math.min(MAX_EXTEND_NS, Math.ceil(end - provisional)) : MAX_EXTEND_NS);
    }
    if (halt && prev !== null) pub.halted.push(prev);
    if (pub.pending[pick]) {
      // The pCPU injected the edge's vector as it switched the VCPU in: the INTA cycle.
      pub.pending[pick] = false;
      const got = replayExtInt(d);
      if (got !== pub.vectors[pick] - 1) this.mismatch(p, `pCPU ${p} injected vector ${pub.vectors[pick] - 1} into d${d.domid}v${vcpu} after a timer edge, but the 8259 acknowledged ${got}`);
      this.host.kicked(d);
    }
  }

  private mismatch(p: number, message: string): void {
    this.counts.mismatches++;
    this.host.logError(`${message}; preempting it`);
    this.pubs[p].broken = true;
    Atomics.or(this.cb, slot(p, P_ATTN), ATTN_PREEMPT);
    Atomics.add(this.cb, slot(p, P_WAKE), 1);
    Atomics.notify(this.cb, slot(p, P_WAKE));
  }

  /**
   * At the end of a pass that will sleep: a publication for each pCPU `ok` allows (it runs an HVM
   * VCPU and nothing is pending for it) whose pool the models mirror and which has tick VCPUs to
   * offer. Returns true if any was made.
   */
  publish(now: number, ok: (p: number) => boolean): boolean {
    if (!this.enabled) return false;
    let any = false;
    const schedNext = this.host.sched.nextTimer();
    for (let p = 0; p < this.pubs.length; p++) {
      if (this.pubs[p].seq !== 0 || !ok(p)) continue;
      if (this.publishOne(p, now, schedNext)) any = true;
    }
    return any;
  }

  /** Writes table entry `k` of the slot at `b` from the last tickOffer answer, with state `state` (EES_*). */
  private putEntry(b: number, k: number, state: number): void {
    const cb = this.cb;
    const t = this.tick;
    const e = b + P_ETABLE + k * EDGE_ENTRY_WORDS;
    cb[e + EE_VECTOR] = t.vector + 1;
    cb[e + EE_STATE] = state;
    putF64(cb, e + EE_FIRST, t.first);
    putF64(cb, e + EE_PERIOD_PS, t.periodPs);
  }

  private publishOne(p: number, now: number, schedNext: number): boolean {
    const r = this.a.running[p];
    const sched = this.host.sched;
    if (r === null || r.dom.shutdown || r.dom.pendingShutdown !== undefined || r.dom.spec.pvh !== undefined || sched.reschedPending(p)) return false;
    const pub = this.pubs[p];
    const cb = this.cb;
    const b = slot(p, 0);
    const t = this.tick;
    const n = sched.edgeCandidates(p, this.candidates, EDGE_ENTRIES);
    const offered = this.offered;
    offered.length = 0;
    let limit = Math.min(schedNext, now + TIMER_OFFER_SPAN_NS);
    let entries = 0;
    for (let i = 0; i < n; i++) {
      const d = this.host.domains.get(this.candidates[i]);
      if (d === undefined || d === r.dom || !haltedTakesInterrupt(d, 0) || !tickOffer(d, 0, now, schedNext, t) || t.eoiOwed) continue;
      this.putEntry(b, entries, EES_BLOCKED);
      if (t.limit < limit) limit = t.limit;
      const ref = this.refs[entries++];
      ref.domid = d.domid;
      ref.vcpu = 0;
      offered.push(ref);
    }
    if (entries === 0) return false;
    const credit2 = sched.loadEdgeModel(p, offered, pub.c2);
    if (!credit2 && !(EDGE_PUBLISH_CREDIT && sched.loadEdgeModel(p, offered, pub.c1))) return false;
    const mirror = credit2 ? pub.c2 : pub.c1;
    pub.mirror = mirror;
    pub.vectors.fill(0);
    pub.pending.fill(false);
    pub.covered.clear();
    for (let i = 0; i < mirror.count(); i++) {
      pub.doms[i] = this.host.domains.get(mirror.domid(i)) ?? null;
      pub.vcpus[i] = mirror.vcpu(i);
    }
    for (let k = 0; k < entries; k++) cb[b + P_ETABLE + k * EDGE_ENTRY_WORDS + EE_UNIT] = mirror.indexOf(offered[k].domid, 0);
    // The running tick VCPU (in its handler) and queued ones whose raised edge the pCPU may inject:
    // their next edges too, once they halted.
    for (let i = 0; i < mirror.count() && entries < EDGE_ENTRIES; i++) {
      const d = pub.doms[i];
      if (d === null || pub.vcpus[i] !== 0 || d.vcpuState.length !== 1 || offered.some((o) => o.domid === d.domid)) continue;
      let state = 0;
      if (i === mirror.running()) {
        if (!tickOffer(d, 0, now, schedNext, t)) continue;
        if (t.eoiOwed) state = EES_EOI_OWED;
      } else {
        const pre = extIntPreAnswer(d, 0, r.dom);
        if (pre === 0 || !tickOffer(d, 0, now, schedNext, t, pre)) continue;
        state = EES_INJECT;
        pub.pending[i] = true;
      }
      this.putEntry(b, entries, state);
      cb[b + P_ETABLE + entries++ * EDGE_ENTRY_WORDS + EE_UNIT] = i;
      if (t.limit < limit) limit = t.limit;
    }
    for (let k = 0; k < entries; k++) {
      const e = b + P_ETABLE + k * EDGE_ENTRY_WORDS;
      const unit = cb[e + EE_UNIT];
      pub.vectors[unit] = cb[e + EE_VECTOR];
      pub.covered.add(pub.doms[unit] as HvDomain);
    }
    this.models[p].set(mirror.m);
    const base = Math.floor(now);
    cb[b + P_EKIND] = credit2 ? EDGE_MODEL_CREDIT2 : EDGE_MODEL_CREDIT;
    cb[b + P_ECOUNT] = entries;
    putF64(cb, b + P_EBASE, base);
    putF64(cb, b + P_ELIMIT, Math.floor(limit));
    const seq = this.seqs[p] >= 0x7fffffff - 2 * ESEQ_STEP ? ESEQ_STEP : this.seqs[p] + ESEQ_STEP;
    this.seqs[p] = seq;
    pub.seq = seq;
    pub.broken = false;
    pub.taken = 0;
    pub.replayed = 0;
    pub.base = base;
    pub.limit = Math.floor(limit);
    Atomics.store(cb, b + P_ESEQ, seq);
    this.counts.published++;
    return true;
  }
}

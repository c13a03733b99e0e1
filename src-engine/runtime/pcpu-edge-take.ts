/**
 * Timer edges taken by a busy pCPU, the pCPU's side (docs/architecture.md, "Timer edges taken by a
 * busy pCPU"; the hypervisor's side is hv-pcpu-edges.ts; control-block.ts, P_EDGES).
 *
 * While this pCPU runs a VCPU (a spin domain) beside blocked tick VCPUs of its one-pCPU pool, the
 * hypervisor may publish the pool's scheduler state as a model (hv/sched/edge-model.ts) and an edge
 * table. This class copies both when a new publication appears, keeps each entry's next PIT edge in
 * a min-heap (pcpu-edges.ts), and steps the model at the real instants: at the end of a run chunk
 * past an edge it takes the edge (wake; a tickle stops the running VCPU and schedule() picks the
 * next, switched in with the edge's 8259 vector injected); at a HLT it steps block() then
 * schedule(); at a slice end schedule(). Each step is made with compareExchange(word -> word + 1)
 * on P_ESEQ after writing it into P_ELAST_*, then posted (REQ_EDGE_STEP) without ringing; the
 * hypervisor replays it with the real calls at its next wake-up.
 *
 * The pCPU gives the publication up (declines, ringing the doorbell once: the hypervisor does not
 * wake for the covered edges by itself) when the model asks, when a tick VCPU posts anything but
 * the EOI of IRQ 0 or a POST-port write, halts owing that EOI, or when the pCPU stops running the
 * model's running VCPU without a step (a HLT the model cannot follow, an idle sleep). A step past
 * the publication's limit declines too. A failed compare-exchange means a pass ended the
 * publication: nothing is stepped any more, and the pCPU asks as usual.
 *
 * Nothing is allocated per step; the copies live in arrays made once.
 */
import { Credit2EdgeModel } from '../hv/sched/credit2-edge-model';
import { CreditEdgeModel } from '../hv/sched/credit-edge-model';
import { EDGE_TICKLE, MODEL_ASK } from '../hv/sched/edge-model';
import {
  EDGE_ENTRIES, EDGE_ENTRY_WORDS, EDGE_MODEL_CREDIT2, EDGE_MODEL_UNITS, EDGE_MODEL_WORDS, EDGE_STEP_HALT, EDGE_STEP_SLICE_END, EDGE_STEP_TAKE,
  EDGE_STEP_TICKLE_STOP, EDGE_STEP_TICKLED, EDGE_STEP_UNIT_SHIFT, EE_FIRST, EE_PERIOD_PS, EE_STATE, EE_UNIT, EE_VECTOR, EES_BLOCKED, EES_EOI_OWED, EES_INJECT, ESEQ_STEP, NO_DEADLINE, P_EBASE,
  P_ECOUNT, P_EDECLINES, P_EKIND, P_ELAST_NS, P_ELAST_WHAT, P_ELIMIT, P_EMODEL, P_ESEQ, P_ESWITCHES, P_ETABLE, P_ETAKES, P_SLICE_EXTEND,
  REQ_EDGE_STEP, getF64, putF64,
} from './control-block';
import { EdgeHeap, edgeAfter } from './pcpu-edges';
import type { PcpuPoster } from './pcpu-post';
import { TICK_WRITE_EOI, TICK_WRITE_HARMLESS, TIMER_TAKE_MARGIN_NS, tickWrite } from './pcpu-timer';

/** Bytes of an 8259 command write. */
const BYTE = 1;

/** takeDue(): nothing to do, the VCPU runs on. */
export const EDGES_RUN_ON = 0;
/** takeDue(): switch to `next` (a take tickled and the model picked). */
export const EDGES_SWITCH = 1;
/** takeDue(): a take tickled but no switch could be stepped: stop the VCPU and ask. */
export const EDGES_ASK = 2;

/** Where a step sends the pCPU: the VCPU, the 8259 vector plus one to inject (0: none) and the slice end. */
export interface EdgeNext {
  domid: number;
  vcpu: number;
  inject: number;
  deadline: number;
}

/** One pCPU's use of its edge publications. */
export class PcpuEdgeTaker {
  /** The publication in use (its sequence number) and the word of the next step; 0: none. */
  private seq = 0;
  private word = 0;
  /** The last publication given up (never looked at again). */
  private declinedSeq = 0;
  private base = 0;
  private limit = 0;
  private readonly shared: Float64Array;
  private readonly c2 = new Credit2EdgeModel(new Float64Array(EDGE_MODEL_WORDS));
  private readonly c1 = new CreditEdgeModel(new Float64Array(EDGE_MODEL_WORDS));
  private model: Credit2EdgeModel | CreditEdgeModel = this.c2;
  private readonly heap = new EdgeHeap(EDGE_ENTRIES);
  /** Per table entry: its unit, vector plus one, first edge, period, and the instant of its last take. */
  private readonly entryUnit = new Int32Array(EDGE_ENTRIES);
  private readonly entryVector = new Int32Array(EDGE_ENTRIES);
  private readonly entryFirst = new Float64Array(EDGE_ENTRIES);
  private readonly entryPeriod = new Float64Array(EDGE_ENTRIES);
  private readonly entryTook = new Float64Array(EDGE_ENTRIES);
  /** Per model unit: its table entry (-1: none); an edge taken and not yet switched in; the EOI owed since. */
  private readonly unitEntry = new Int32Array(EDGE_MODEL_UNITS);
  private readonly unitPending = new Uint8Array(EDGE_MODEL_UNITS);
  private readonly unitOwed = new Uint8Array(EDGE_MODEL_UNITS);
  /** Where the last step sends the pCPU (reused). */
  readonly next: EdgeNext = { domid: -1, vcpu: 0, inject: 0, deadline: 0 };

  constructor(
    private readonly cb: Int32Array,
    private readonly b: number,
    private readonly poster: PcpuPoster,
  ) {
    this.shared = new Float64Array(cb.buffer, (b + P_EMODEL) * 4, EDGE_MODEL_WORDS);
  }

  /**
   * Between run chunks and at stops: true if a publication is in use and the model's running unit
   * is the VCPU this pCPU runs (domid, vcpu). Copies a new publication first; gives up one whose
   * running VCPU this pCPU does not run.
   */
  sync(domid: number, vcpu: number): boolean {
    const w = Atomics.load(this.cb, this.b + P_ESEQ);
    if (w === 0) {
      this.seq = 0;
      return false;
    }
    const seq = w - (w % ESEQ_STEP);
    if (seq === this.declinedSeq) return false;
    if (seq !== this.seq && !this.attach(w)) return false;
    const r = this.model.running();
    if (r >= 0 && this.model.domid(r) === domid && this.model.vcpu(r) === vcpu) return true;
    this.decline();
    return false;
  }

  /** True if a publication stands that this pCPU neither uses nor gave up: it must decline it before it sleeps. */
  standing(): boolean {
    const w = Atomics.load(this.cb, this.b + P_ESEQ);
    return w !== 0 && w - (w % ESEQ_STEP) !== this.declinedSeq;
  }

  /** Copies publication `w` (a fresh sequence number); false if it moved meanwhile or is unusable. */
  private attach(w: number): boolean {
    const cb = this.cb;
    const b = this.b;
    this.seq = 0;
    if (w % ESEQ_STEP !== 0) {
      this.declinedSeq = w - (w % ESEQ_STEP);
      return false;
    }
    const model = cb[b + P_EKIND] === EDGE_MODEL_CREDIT2 ? this.c2 : this.c1;
    model.m.set(this.shared);
    const n = Math.min(cb[b + P_ECOUNT], EDGE_ENTRIES);
    this.base = getF64(cb, b + P_EBASE);
    this.limit = getF64(cb, b + P_ELIMIT);
    this.unitEntry.fill(-1);
    this.unitPending.fill(0);
    this.unitOwed.fill(0);
    this.heap.clear();
    for (let k = 0; k < n; k++) {
      const e = b + P_ETABLE + k * EDGE_ENTRY_WORDS;
      const unit = cb[e + EE_UNIT];
      this.entryUnit[k] = unit;
      this.entryVector[k] = cb[e + EE_VECTOR];
      this.entryFirst[k] = getF64(cb, e + EE_FIRST);
      this.entryPeriod[k] = getF64(cb, e + EE_PERIOD_PS);
      this.entryTook[k] = -Infinity;
      if (unit < 0 || unit >= EDGE_MODEL_UNITS) continue;
      this.unitEntry[unit] = k;
      const state = cb[e + EE_STATE];
      // Blocked: its first edge may be taken. Running or queued: once it halted (atHalt).
      if ((state & EES_BLOCKED) !== 0) this.heap.push(k, this.entryFirst[k] + TIMER_TAKE_MARGIN_NS);
      if ((state & EES_EOI_OWED) !== 0) this.unitOwed[unit] = 1;
      if ((state & EES_INJECT) !== 0) this.unitPending[unit] = 1;
    }
    // The fields were stable only if the word did not move while they were read.
    if (Atomics.load(cb, b + P_ESEQ) !== w) return false;
    this.model = model;
    this.seq = w;
    this.word = w;
    return true;
  }

  /** Gives the publication up: nothing more is stepped; the hypervisor is rung once (it serves the covered edges). */
  decline(): void {
    const w = Atomics.load(this.cb, this.b + P_ESEQ);
    const seq = this.seq !== 0 ? this.seq : w - (w % ESEQ_STEP);
    this.seq = 0;
    if (seq === 0 || seq === this.declinedSeq) return;
    this.declinedSeq = seq;
    this.cb[this.b + P_EDECLINES]++;
    this.poster.ring();
  }

  /** While a VCPU runs: the instant of the earliest offered edge (engine ns), or NO_DEADLINE. */
  dueNs(): number {
    return this.seq !== 0 && this.heap.size() > 0 ? this.heap.topAt() : NO_DEADLINE;
  }

  /**
   * A posted write of the VCPU this pCPU runs (after sync() held): true if it is what a tick
   * handler may do (the EOI of IRQ 0, the POST port), which the publication survives without the
   * hypervisor; otherwise the publication is given up.
   */
  noteWrite(port: number, size: number, value: number): boolean {
    if (this.seq === 0) return false;
    const unit = this.model.running();
    if (unit < 0 || this.unitEntry[unit] < 0) return false;
    const w = tickWrite(port, value);
    if (w === TICK_WRITE_EOI && size === BYTE) {
      this.unitOwed[unit] = 0;
      return true;
    }
    if (w === TICK_WRITE_HARMLESS) return true;
    this.decline();
    return false;
  }

  /**
   * At the end of a run chunk at engine time `now` (after sync() held): takes every edge due.
   * EDGES_RUN_ON, EDGES_SWITCH (`next` filled: stop the VCPU and switch) or EDGES_ASK.
   */
  takeDue(now: number): number {
    const t = Math.floor(now);
    const heap = this.heap;
    while (this.seq !== 0 && heap.size() > 0 && heap.topAt() <= t) {
      const e = heap.top();
      const unit = this.entryUnit[e];
      const res = this.model.wake(unit, t);
      if (res === MODEL_ASK) {
        this.decline();
        return EDGES_RUN_ON;
      }
      const tickled = res === EDGE_TICKLE;
      if (!this.step(EDGE_STEP_TAKE | (tickled ? EDGE_STEP_TICKLED : 0) | (unit << EDGE_STEP_UNIT_SHIFT), t)) return EDGES_RUN_ON;
      heap.remove(e);
      this.entryTook[e] = t;
      this.unitPending[unit] = 1;
      this.cb[this.b + P_ETAKES]++;
      if (tickled) return this.switchStep(EDGE_STEP_TICKLE_STOP, t) ? EDGES_SWITCH : EDGES_ASK;
    }
    return EDGES_RUN_ON;
  }

  /** At the slice end `t` (after sync() held): true with `next` filled, or false (ask as usual). */
  atSliceEnd(t: number): boolean {
    return this.switchStep(EDGE_STEP_SLICE_END, t);
  }

  /**
   * The running VCPU halted at `t` with interrupts on and nothing pending (after sync() held): true
   * with `next` filled, or false (the HLT goes the usual way; the publication was given up or ended).
   */
  atHalt(t: number): boolean {
    const unit = this.model.running();
    const e = this.unitEntry[unit];
    if ((e >= 0 && this.unitOwed[unit] !== 0) || !this.model.block()) {
      this.decline();
      return false;
    }
    if (!this.switchStep(EDGE_STEP_HALT, t)) return false;
    // Its next edge is the first after the take (a late take covered the ones before, as the PIT would).
    if (e >= 0) this.heap.push(e, edgeAfter(this.entryFirst[e], this.entryPeriod[e], this.entryTook[e]) + TIMER_TAKE_MARGIN_NS);
    return true;
  }

  /** Steps schedule() at `t` (a switch of kind `kind`) and fills `next`; false if it could not. */
  private switchStep(kind: number, t: number): boolean {
    const pick = this.model.schedule(t);
    if (pick === MODEL_ASK) {
      this.decline();
      return false;
    }
    Atomics.store(this.cb, this.b + P_SLICE_EXTEND, 0);
    if (!this.step(kind | (pick << EDGE_STEP_UNIT_SHIFT), t)) return false;
    const n = this.next;
    n.domid = this.model.domid(pick);
    n.vcpu = this.model.vcpu(pick);
    const slice = this.model.slice();
    n.deadline = Number.isFinite(slice) ? t + slice : NO_DEADLINE;
    n.inject = 0;
    const e = this.unitEntry[pick];
    if (this.unitPending[pick] !== 0 && e >= 0) {
      this.unitPending[pick] = 0;
      this.unitOwed[pick] = 1;
      n.inject = this.entryVector[e];
    }
    this.cb[this.b + P_ESWITCHES]++;
    return true;
  }

  /** Makes step `what` at `t`: past the limit it declines; a lost compare-exchange ends the use. */
  private step(what: number, t: number): boolean {
    const cb = this.cb;
    const b = this.b;
    if (t > this.limit || this.word - this.seq >= ESEQ_STEP - 1) {
      this.decline();
      return false;
    }
    cb[b + P_ELAST_WHAT] = what;
    putF64(cb, b + P_ELAST_NS, t);
    if (Atomics.compareExchange(cb, b + P_ESEQ, this.word, this.word + 1) !== this.word) {
      this.seq = 0;
      return false;
    }
    this.poster.postQuiet(REQ_EDGE_STEP, this.word, what, t - this.base);
    this.word++;
    return true;
  }
}

/**
 * Timer interrupts taken on the pCPU, the hypervisor thread's side (docs/architecture.md, "Timer
 * interrupts on the pCPU"; the pCPU's side is pcpu-timer.ts).
 *
 * An idle tick domain (PIT at 100 Hz through the 8259, `sti; hlt` between ticks) used to wake two
 * threads per tick: this one at the PIT's deadline, the pCPU for the hand-over. Now, for a pCPU
 * whose VCPU is blocked in HLT (or runs and may halt lazily) and whose next wake source is its
 * domain's PIT through the 8259, this thread publishes a timer offer with the lazy-halt offer: the
 * first edge, the period, the vector the INTA cycle will give, and a limit (the domain's next other
 * device deadline, the scheduler's next timer, a bound). It then does not wake for that domain's
 * PIT. The idle pCPU sleeps until the edge, takes it by compare-exchange, switches the VCPU in with
 * the vector injected and posts REQ_TIMER_TAKEN; the guest's EOI is a posted write and its next HLT
 * a lazy halt, so the pCPU takes the next edge too, and so on.
 *
 * At the start of its next pass (another domain's timer, console output, the posted ring filling,
 * the bound) this thread ends every offer with exchange(0), which tells how many edges were taken,
 * and replays the ring in order: each HLT blocks the VCPU at its instant, each take runs the
 * domain's devices at the take's instant (the PIT edge, IRR 0, INTR on LINT0), wakes the VCPU there
 * and decides for the pCPU, which must pick that VCPU, and runs the 8259's INTA cycle, which must
 * give the vector injected (a disagreement is logged as an error). A guest read of the PIT or the
 * 8259 is a synchronous exit, served after the replay. Nothing is allocated per tick, and nothing
 * here loops over every domain.
 */
import type { SchedCore } from '../hv/sched/core';
import { lapicExtIntPending } from '../machine/lapic-core';
import {
  ATTN_PREEMPT, P_ATTN, P_POST_TAIL, P_SLICE_EXTEND, P_TDOM, P_TEOIS, P_TFIRST, P_TIDLE, P_TLIMIT, P_TPERIOD_PS, P_TSEQ, P_TTAIL, P_TTAKEN_NS,
  P_TVCPU, P_TVECTOR, P_WAKE, TSEQ_STEP, getF64, putF64, slot,
} from './control-block';
import type { HvDomain } from './hv-domain';
import { replayExtInt } from './hv-exits';
import type { PcpuScheduling, Running } from './hv-pcpu-sched';
import { TIMER_TAKE_SLICE_NS } from './pcpu-timer';
import { haltedTakesInterrupt, newTickOffer, tickOffer } from './hv-tick-offer';

/** What the timer part needs from the hypervisor. */
export interface PcpuTimerHost {
  readonly sched: SchedCore;
  nowNs(): number;
  /** Serves pCPU `p`'s posted requests in order (REQ_TIMER_TAKEN comes to posted()). */
  drainPosted(p: number): void;
  /** Local APICs of `d` may have changed: poke or wake their VCPUs. */
  kicked(d: HvDomain): void;
  logError(message: string): void;
}

/** The per-pCPU arrays of the hypervisor this part reads and updates. */
export interface PcpuTimerArrays {
  running: (Running | null)[];
  sliceEnd: number[];
  idle: boolean[];
  directPending: Set<number>;
}

/** One pCPU's offer, as this thread knows it. */
interface Offer {
  /** Its sequence number (0: none standing or being replayed). */
  seq: number;
  dom: HvDomain | null;
  vcpu: number;
  /** The vector the takes inject. */
  vector: number;
  /** Takes made (known once the offer ended) and takes replayed so far. */
  taken: number;
  replayed: number;
}

/** Counts for tests and benchmarks. */
export interface TimerCounts {
  offered: number;
  replayed: number;
  /** Replays that disagreed with the take (engine bugs). */
  mismatches: number;
}

/** Timer offers and their replays (part of the hypervisor thread). */
export class PcpuTimers {
  private readonly offers: Offer[];
  /** The VCPU whose HLT left pCPU `p` idle, while nothing else ran there since. */
  private readonly lastHalt: (Running | null)[];
  /** The take replayed from the slot words before its REQ_TIMER_TAKEN arrived (that entry is then skipped). */
  private readonly slotReplayed: number[];
  private readonly seqs: number[];
  /** Domains with an offer standing (their PIT does not bound this thread's sleep). */
  private readonly covered: (HvDomain | null)[];
  readonly counts: TimerCounts = { offered: 0, replayed: 0, mismatches: 0 };
  /** The offer checks' answer (reused). */
  private readonly tick = newTickOffer();

  constructor(
    private readonly cb: Int32Array,
    private readonly host: PcpuTimerHost,
    private readonly ps: PcpuScheduling,
    private readonly a: PcpuTimerArrays,
  ) {
    const n = a.running.length;
    this.offers = Array.from({ length: n }, () => ({ seq: 0, dom: null, vcpu: 0, vector: 0, taken: 0, replayed: 0 }));
    this.lastHalt = new Array<Running | null>(n).fill(null);
    this.slotReplayed = new Array<number>(n).fill(0);
    this.seqs = new Array<number>(n).fill(0);
    this.covered = new Array<HvDomain | null>(n).fill(null);
  }

  /** True if an offer for pCPU `p` stands. */
  offered(p: number): boolean {
    return this.covered[p] !== null;
  }

  /** True if an offer for domain `d` stands (its PIT is left to the pCPU). */
  covers(d: HvDomain): boolean {
    const c = this.covered;
    for (let p = 0; p < c.length; p++) if (c[p] === d) return true;
    return false;
  }

  /**
   * First thing in a pass, before anything can change: every offer ends; the takes made are
   * replayed from the rings (posted()) and by finish().
   */
  end(): void {
    for (let p = 0; p < this.offers.length; p++) {
      const o = this.offers[p];
      this.covered[p] = null;
      if (o.seq === 0) continue;
      const v = Atomics.exchange(this.cb, slot(p, P_TSEQ), 0);
      o.taken = v - o.seq;
      o.replayed = 0;
      if (o.taken === 0) o.seq = 0;
    }
  }

  /** True if pCPU `p` took edges not replayed yet: a HLT in its ring before them blocked its VCPU. */
  takePending(p: number): boolean {
    const o = this.offers[p];
    return o.seq !== 0 && o.replayed < o.taken;
  }

  /** After the posted HLT of `prev` left pCPU `p` idle. */
  halted(p: number, prev: Running | null): void {
    this.lastHalt[p] = prev;
  }

  /** A posted REQ_TIMER_TAKEN of pCPU `p`: it took offer word `word` at `t`. */
  posted(p: number, word: number, t: number): void {
    const o = this.offers[p];
    const k = word % TSEQ_STEP;
    if (o.seq === word - k && k === o.replayed && o.replayed < o.taken) this.replay(p, t);
    else if (word !== this.slotReplayed[p]) this.host.logError(`pCPU ${p} reports taking timer offer ${word - k} (edge ${k}), which was not made or not taken`);
  }

  /** After the pass's first drain: takes whose REQ_TIMER_TAKEN is not posted yet are replayed from the slot. */
  finish(): void {
    for (let p = 0; p < this.offers.length; p++) {
      const o = this.offers[p];
      if (o.seq === 0) continue;
      if (o.replayed < o.taken) this.host.drainPosted(p);
      if (o.replayed === o.taken - 1) {
        this.slotReplayed[p] = o.seq + o.replayed;
        this.replay(p, getF64(this.cb, slot(p, P_TTAKEN_NS)));
      } else if (o.replayed < o.taken) {
        this.host.logError(`pCPU ${p} took ${o.taken} edges of timer offer ${o.seq}, but reported only ${o.replayed} before the last`);
      }
      o.seq = 0;
    }
  }

  /** Replays the take pCPU `p` made at `t`: the domain's devices, the wake, the decision and the INTA cycle. */
  private replay(p: number, t: number): void {
    const o = this.offers[p];
    const d = o.dom as HvDomain;
    const v = o.vcpu;
    o.replayed++;
    this.counts.replayed++;
    d.countExit('timer-take');
    if (this.a.running[p] !== null) {
      this.mismatch(p, `pCPU ${p} took a timer edge for d${d.domid}v${v} at ${t}, but runs d${this.a.running[p]?.dom.domid}v${this.a.running[p]?.vcpu} here`);
      return;
    }
    const ps = this.ps;
    const sched = this.host.sched;
    let raised = false;
    const [domid, vcpu] = ps.runAt(t, () => {
      const warp = d.clock.offsetNs;
      d.nextTick = d.platform.tick(t + warp) - warp;
      // The edge raised LINT0 of the halted VCPU, which wakes: as processKicks would have at t (it
      // looks at the VCPU's state now, and the VCPU runs again since the take).
      raised = d.kicks.delete(v) && lapicExtIntPending(d.lapics[v]);
      if (raised) {
        d.deadHalt[v] = false;
        sched.wake(d.domid, v);
      }
      return ps.decide(p, false);
    });
    this.a.directPending.delete(p);
    if (!raised || domid !== d.domid || vcpu !== v) {
      const what = raised ? `the scheduler decided ${domid < 0 ? 'idle' : `d${domid}v${vcpu}`}` : 'the edge raised no interrupt';
      this.mismatch(p, `pCPU ${p} took a timer edge for d${d.domid}v${v} at ${t}, but ${what}`);
      // The pCPU runs the VCPU: make it runnable so that the pCPU, preempted, gets it back.
      if (domid !== d.domid || vcpu !== v) sched.wake(d.domid, v);
      return;
    }
    const got = replayExtInt(d);
    if (got !== o.vector) this.mismatch(p, `pCPU ${p} injected vector ${o.vector} into d${d.domid}v${v} at a timer edge, but the 8259 acknowledged ${got}`);
    this.host.kicked(d);
    if (o.replayed === o.taken) {
      // The last take's VCPU still runs the provisional slice: lengthen it to the real one.
      const end = this.a.sliceEnd[p];
      const provisional = t + TIMER_TAKE_SLICE_NS;
      if (end > provisional) Atomics.store(this.cb, slot(p, P_SLICE_EXTEND), Number.isFinite(end) ? Math.min(0x7fffffff, Math.ceil(end - provisional)) : 0x7fffffff);
    }
  }

  private mismatch(p: number, message: string): void {
    this.counts.mismatches++;
    this.host.logError(`${message}; preempting it`);
    Atomics.or(this.cb, slot(p, P_ATTN), ATTN_PREEMPT);
    Atomics.add(this.cb, slot(p, P_WAKE), 1);
    Atomics.notify(this.cb, slot(p, P_WAKE));
  }

  /**
   * Before this thread sleeps: an offer for each pCPU whose VCPU is blocked in HLT there (idle
   * pCPU), or runs there and may halt lazily (`lazy(p)`), when its next wake source is its domain's
   * PIT through the 8259. Returns true if any offer was made.
   */
  publish(now: number, lazy: (p: number) => boolean): boolean {
    let any = false;
    const schedNext = this.host.sched.nextTimer();
    for (let p = 0; p < this.offers.length; p++) {
      const r = this.a.running[p];
      let dom: HvDomain;
      let vcpu: number;
      let idle = false;
      if (r !== null) {
        this.lastHalt[p] = null;
        if (!lazy(p)) continue;
        dom = r.dom;
        vcpu = r.vcpu;
      } else {
        const h = this.lastHalt[p];
        if (h === null || !this.a.idle[p] || h.dom.shutdown || this.host.sched.vcpuInfo(h.dom.domid, h.vcpu).state !== 'blocked') continue;
        // Moved to another cpupool or pinned elsewhere since it halted here: not this pCPU's to take.
        if (!this.host.sched.mayRunOn(h.dom.domid, h.vcpu, p)) {
          this.lastHalt[p] = null;
          continue;
        }
        dom = h.dom;
        vcpu = h.vcpu;
        idle = true;
        if (!haltedTakesInterrupt(dom, vcpu)) continue;
      }
      if (this.offer(p, dom, vcpu, now, schedNext, idle)) any = true;
    }
    return any;
  }

  /**
   * How long pCPU `p` stays idle once its VCPU is blocked (ns instant): a take must come before the
   * scheduler's idle deadline, which is a slice end, not a scheduler timer (ARINC 653's window end:
   * past it the window belongs to another domain). Idle: the deadline decided. Running (a lazy
   * halt to come): what a block would decide, or the slice end where the scheduler cannot tell.
   * Infinity for the work-conserving schedulers, whose idle pCPUs have no deadline.
   */
  private idleDeadline(p: number, idle: boolean, now: number): number {
    if (idle) return this.a.sliceEnd[p];
    const peek = this.host.sched.peekBlock(p, now, now);
    return peek !== null && peek.vcpu === null ? now + peek.len : this.a.sliceEnd[p];
  }

  /** Publishes an offer for pCPU `p` and VCPU `vcpu` of `d` if the next tick can be told; true if so. */
  private offer(p: number, d: HvDomain, vcpu: number, now: number, schedNext: number, idle: boolean): boolean {
    const t = this.tick;
    if (!tickOffer(d, vcpu, now, Math.min(schedNext, this.idleDeadline(p, idle, now)), t)) return false;
    const cb = this.cb;
    const b = slot(p, 0);
    const seq = this.seqs[p] >= 0x7fffffff - 2 * TSEQ_STEP ? TSEQ_STEP : this.seqs[p] + TSEQ_STEP;
    this.seqs[p] = seq;
    cb[b + P_TDOM] = d.domid;
    cb[b + P_TVCPU] = vcpu;
    cb[b + P_TVECTOR] = t.vector + 1;
    cb[b + P_TTAIL] = cb[b + P_POST_TAIL];
    cb[b + P_TEOIS] = t.eoiOwed ? 1 : 0;
    putF64(cb, b + P_TFIRST, t.first);
    putF64(cb, b + P_TPERIOD_PS, t.periodPs);
    putF64(cb, b + P_TLIMIT, t.limit);
    Atomics.store(cb, b + P_TSEQ, seq);
    const o = this.offers[p];
    o.seq = seq;
    o.dom = d;
    o.vcpu = vcpu;
    o.vector = t.vector;
    o.taken = 0;
    o.replayed = 0;
    this.covered[p] = d;
    this.counts.offered++;
    // An idle pCPU asleep without a timeout would not see the offer: wake it to sleep until the edge.
    if (idle && Atomics.load(cb, b + P_TIDLE) !== 0) {
      Atomics.add(cb, b + P_WAKE, 1);
      Atomics.notify(cb, b + P_WAKE);
    }
    return true;
  }
}


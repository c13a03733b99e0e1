/**
 * The pCPU's side of timer offers (docs/architecture.md, "Timer interrupts on the pCPU";
 * control-block.ts, P_TIMER): a pCPU whose VCPU halts, or which is idle with that VCPU blocked,
 * may sleep until the PIT's next edge and take the tick itself: switch the VCPU in with the 8259
 * vector injected and post REQ_TIMER_TAKEN, without waking the hypervisor thread. The hypervisor
 * replays the edge, the INTA cycle and the wake at the take's instant at its next pass.
 *
 * What the pCPU checks (the hypervisor checked the rest when it published): the offer was made for
 * the 8259 as the hypervisor saw it, with IRQ 0 in service or not (P_TEOIS); since then the guest
 * may only have posted EOIs of IRQ 0 (port 0x20: non-specific EOI, or specific EOI of level 0),
 * writes to the POST port and HLTs. After a take IRQ 0 is in service again and one EOI is owed.
 * Anything else the guest posted (another 8259 or PIT write, a UART write) could change what the
 * next edge does, so the pCPU does not take, and rings the doorbell instead: the hypervisor, which
 * did not plan to wake for that edge, must then serve it.
 */
import {
  P_POST_RING, P_SLICE_EXTEND, P_TDOM, P_TEOIS, P_TFIRST, P_TLIMIT, P_TPERIOD_PS, P_TSEQ, P_TTAIL, P_TTAKEN_NS, P_TTAKES, P_TVCPU, P_TVECTOR,
  NO_DEADLINE, POST_ENTRY_WORDS, POST_SLOTS, REQ_IO_OUT, REQ_SCHEDULE, REQ_TIMER_TAKEN, TSEQ_STEP, getF64, putF64,
} from './control-block';

/** The master 8259's command port (OCW2 EOIs). */
const PIC_MASTER_COMMAND = 0x20;
/** OCW2 non-specific EOI (R SL EOI = 001). */
const OCW2_NONSPECIFIC_EOI = 0x20;
/** OCW2 specific EOI of level 0 (R SL EOI = 011, L = 0). */
const OCW2_SPECIFIC_EOI_0 = 0x60;
/** The POST port (Linux's I/O delay): its writes change nothing the tick depends on. */
const POST_PORT = 0x80;
/** tickWrite(): a write a tick handler's interrupt depends on only by ending it (the EOI of IRQ 0). */
export const TICK_WRITE_EOI = 1;
/** tickWrite(): a write that changes nothing the tick depends on (the POST port). */
export const TICK_WRITE_HARMLESS = 2;
/** tickWrite(): any other write (the next edge may not do what was offered). */
export const TICK_WRITE_OTHER = 0;

/** What a byte written to `port` by a tick VCPU means for the PIT edges offered to its pCPU. */
export function tickWrite(port: number, value: number): number {
  if (port === PIC_MASTER_COMMAND && (value === OCW2_NONSPECIFIC_EOI || value === OCW2_SPECIFIC_EOI_0)) return TICK_WRITE_EOI;
  return port === POST_PORT ? TICK_WRITE_HARMLESS : TICK_WRITE_OTHER;
}

/**
 * A take happens this long after the PIT edge the hypervisor computed (ns): the pCPU derives edge j
 * from the first edge and the period, which may be off by a nanosecond per hundred ticks; the
 * replay must find the edge already due.
 */
export const TIMER_TAKE_MARGIN_NS = 1_000;
/**
 * The slice a pCPU gives the VCPU it switched in at a take, until the replay tells it the real one
 * (P_SLICE_EXTEND): a tick handler halts within microseconds.
 */
export const TIMER_TAKE_SLICE_NS = 1_000_000;
/** Nanoseconds per millisecond (Atomics.wait takes milliseconds). */
export const NS_PER_MS = 1e6;
/** Picoseconds per nanosecond. */
const PS_PER_NS = 1000;

/** The next take planned by planTake: the offer word, the instant, the edge index and what to switch in. */
export interface TimerPlan {
  word: number;
  at: number;
  edge: number;
  domid: number;
  vcpu: number;
  /** The 8259 vector plus one to inject. */
  vector: number;
}

/** A pCPU's timer-take state (one per pCPU worker). */
export class PcpuTimer {
  /** The offer (sequence number) of this pCPU's last take, the post count after it, the next edge index. */
  private tookSeq = 0;
  private tookFrom = 0;
  private nextEdge = 0;
  /** The offer this pCPU declined last (it rings the doorbell once per offer). */
  declinedSeq = 0;
  /** Reused plan (no allocation per tick). */
  readonly plan: TimerPlan = { word: 0, at: 0, edge: 0, domid: -1, vcpu: 0, vector: 0 };

  constructor(
    private readonly cb: Int32Array,
    private readonly base: number,
  ) {}

  /** The offer word now (0: none). */
  word(): number {
    return Atomics.load(this.cb, this.base + P_TSEQ);
  }


  /**
   * Plans the take of offer `word` into `plan`: the instant of the next PIT edge to take (plus the
   * margin) and its index; false if the guest's posts since (up to `postHead`) rule it out or no
   * edge is left before the offer's limit. The fields are stable while the word stands; a torn
   * read is caught by the compare-exchange in take().
   */
  planTake(word: number, postHead: number): boolean {
    const cb = this.cb;
    const b = this.base;
    const seq = word - (word % TSEQ_STEP);
    const again = seq === this.tookSeq;
    let from = again ? this.tookFrom : cb[b + P_TTAIL];
    let owed = again ? 1 : cb[b + P_TEOIS];
    if (postHead - from > POST_SLOTS || from > postHead) return false;
    for (; from < postHead; from++) {
      const e = b + P_POST_RING + (from % POST_SLOTS) * POST_ENTRY_WORDS;
      const kind = cb[e];
      // HLTs, and a take whose entry the ring had no room for until the hypervisor drained it.
      if (kind === REQ_SCHEDULE || kind === REQ_TIMER_TAKEN) continue;
      if (kind !== REQ_IO_OUT || cb[e + 2] !== 1) return false;
      const w = tickWrite(cb[e + 1], cb[e + 3]);
      if (w === TICK_WRITE_EOI) owed = 0;
      else if (w !== TICK_WRITE_HARMLESS) return false;
    }
    if (owed !== 0) return false;
    const edge = again ? this.nextEdge : 0;
    const at = this.edgeAt(edge);
    if (at > getF64(cb, b + P_TLIMIT)) return false;
    const plan = this.plan;
    plan.word = word;
    plan.at = at;
    plan.edge = edge;
    plan.domid = cb[b + P_TDOM];
    plan.vcpu = cb[b + P_TVCPU];
    plan.vector = cb[b + P_TVECTOR];
    return true;
  }

  /**
   * Takes the planned edge at engine time `t` (at least plan.at, at most the limit) with the
   * compare-exchange; true if this pCPU won. Then the caller posts REQ_TIMER_TAKEN (timerTakenPost)
   * and calls tookAt with the post count after it.
   */
  take(t: number): boolean {
    const cb = this.cb;
    const b = this.base;
    const word = this.plan.word;
    if (t > getF64(cb, b + P_TLIMIT)) return false;
    putF64(cb, b + P_TTAKEN_NS, t);
    Atomics.store(cb, b + P_SLICE_EXTEND, 0);
    return Atomics.compareExchange(cb, b + P_TSEQ, word, word + 1) === word;
  }

  /**
   * While a VCPU runs: true once (per offer) if the offer's next edge has come, so that the caller
   * rings the doorbell and the hypervisor, which left that edge to this pCPU, serves it.
   */
  edgePassed(now: number): boolean {
    const w = this.word();
    if (w === 0 || w === this.declinedSeq) return false;
    const edge = w - (w % TSEQ_STEP) === this.tookSeq ? this.nextEdge : 0;
    if (now < this.edgeAt(edge)) return false;
    this.declinedSeq = w;
    return true;
  }

  /**
   * While a VCPU runs: the instant of the offer's next edge (engine ns), or NO_DEADLINE; the pCPU
   * ends its run chunk there, so that edgePassed rings the doorbell on time.
   */
  dueNs(): number {
    const w = this.word();
    if (w === 0 || w === this.declinedSeq) return NO_DEADLINE;
    return this.edgeAt(w - (w % TSEQ_STEP) === this.tookSeq ? this.nextEdge : 0);
  }

  /** The instant edge `edge` of the offer may be taken at (engine ns). */
  private edgeAt(edge: number): number {
    const cb = this.cb;
    const b = this.base;
    return getF64(cb, b + P_TFIRST) + Math.ceil((edge * getF64(cb, b + P_TPERIOD_PS)) / PS_PER_NS) + TIMER_TAKE_MARGIN_NS;
  }

  /** After a take at `t` posted before post count `postHead`: the next edge to take is the one after `t`. */
  tookAt(t: number, postHead: number): void {
    const cb = this.cb;
    const b = this.base;
    const word = this.plan.word;
    this.tookSeq = word - (word % TSEQ_STEP);
    this.tookFrom = postHead;
    const period = getF64(cb, b + P_TPERIOD_PS) / PS_PER_NS;
    // A late take covers every edge up to t (the PIT delivers them as one, as on the round trip).
    let edge = Math.max(this.plan.edge, Math.floor((t - TIMER_TAKE_MARGIN_NS - getF64(cb, b + P_TFIRST)) / period) - 1);
    while (this.edgeAt(edge) <= t) edge++;
    this.nextEdge = edge;
    cb[b + P_TTAKES]++;
  }
}

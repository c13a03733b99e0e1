/**
 * The hypervisor thread's side of the pCPU slots of the control block (control-block.ts): the
 * mailbox a pCPU waits on, its ring of posted requests, direct assignment, tickles and pokes.
 * Hypervisor (hv-main.ts) decides what happens; this class only knows the words and their
 * Atomics protocol.
 */
import {
  HCHAIN_STEP_WORDS, HC_DOM, HC_EXTINT, HC_LEN, HC_TAKEN_NS, HC_VCPU, P_HCHAIN, P_NEXT_EXTINT, P_HNEXT_STEPS, P_HNEXT_FROM, P_HNEXT_UNTIL, P_TAKEN_KIND,
  P_NEXT_DOM, P_NEXT_FROM, P_NEXT_LEN, P_NEXT_SEQ, P_NEXT_TOKEN, P_NEXT_TOKEN_PCPU, P_NEXT_UNTIL, P_NEXT_VCPU, P_POOL_TOKEN, P_SLICE_EXTEND, P_TAKEN_NS,
  ATTN_EVENT, ATTN_PREEMPT, P_LAZY_HALT, P_ARG0, P_ARG1, P_ARG2, P_ASSIGN_DOM, P_ASSIGN_SEQ, P_ASSIGN_VCPU, P_ATTN, P_DEADLINE, P_POST_HEAD, P_POST_RING,
  P_POST_TAIL, P_REQ, P_RES0, P_RES1, P_RES2, P_RES_STATUS, P_RESP, P_STOP_NS, P_WAKE, POST_ENTRY_WORDS, POST_SLOTS, NO_DEADLINE, getF64, putF64,
  slot,
} from './control-block';

/** A request read from a mailbox or a posted-request ring. */
export interface PcpuRequest {
  kind: number;
  a0: number;
  a1: number;
  a2: number;
}

/** The fields of a published next decision (PcpuSlots.publishNext); one reused object per pCPU. */
export interface NextFields {
  /** The slice-end decision's VCPU (domid -1: none), window, slice length and injection. */
  domid: number;
  vcpu: number;
  from: number;
  until: number;
  len: number;
  /** The 8259 vector the pCPU injects into the slice-end decision's VCPU on entry, plus one; 0: none. */
  extint: number;
  /** Steps of the chain of halt decisions (0: none) and their window. */
  hsteps: number;
  hfrom: number;
  huntil: number;
  /** Per step: the VCPU, its slice length and the 8259 vector plus one to inject (0: none). */
  hdom: number[];
  hvcpu: number[];
  hlen: number[];
  hextint: number[];
}

/** The per-pCPU words of one control block, as the hypervisor thread uses them. */
export class PcpuSlots {
  /** Reused for every request read (the hypervisor serves one at a time). */
  private readonly req: PcpuRequest = { kind: 0, a0: 0, a1: 0, a2: 0 };
  /** Some P_LAZY_HALT word may be 1. */
  private lazyOffered = false;
  /** Per pCPU: its P_LAZY_HALT word is 1. */
  private readonly lazy: boolean[];

  constructor(
    private readonly cb: Int32Array,
    nrPcpus: number,
  ) {
    this.lazy = new Array<boolean>(nrPcpus).fill(false);
  }

  /** True if pCPU `p` waits for an answer in its mailbox. */
  hasRequest(p: number): boolean {
    return Atomics.load(this.cb, slot(p, P_REQ)) !== 0;
  }

  /** The request in pCPU `p`'s mailbox (valid until the next call). */
  request(p: number): PcpuRequest {
    const cb = this.cb;
    const r = this.req;
    r.kind = cb[slot(p, P_REQ)];
    r.a0 = cb[slot(p, P_ARG0)];
    r.a1 = cb[slot(p, P_ARG1)];
    r.a2 = cb[slot(p, P_ARG2)];
    return r;
  }

  /** Answers pCPU `p`'s request and wakes it. */
  answer(p: number, r0: number, r1: number, r2: number, status: number): void {
    const cb = this.cb;
    const base = slot(p, 0);
    cb[base + P_RES0] = r0;
    cb[base + P_RES1] = r1;
    cb[base + P_RES2] = r2;
    cb[base + P_RES_STATUS] = status;
    Atomics.store(cb, base + P_REQ, 0);
    Atomics.add(cb, base + P_RESP, 1);
    Atomics.notify(cb, base + P_RESP);
  }

  /** True if pCPU `p` has posted requests not served yet. */
  hasPosted(p: number): boolean {
    return Atomics.load(this.cb, slot(p, P_POST_HEAD)) !== this.cb[slot(p, P_POST_TAIL)];
  }

  /** Serves pCPU `p`'s posted requests in order with `serve`, then frees their ring entries. */
  drainPosted(p: number, serve: (r: PcpuRequest) => void): void {
    const cb = this.cb;
    const head = Atomics.load(cb, slot(p, P_POST_HEAD));
    let tail = cb[slot(p, P_POST_TAIL)];
    if (head === tail) return;
    const r = this.req;
    for (; tail !== head; tail++) {
      const e = slot(p, P_POST_RING + (tail % POST_SLOTS) * POST_ENTRY_WORDS);
      r.kind = cb[e];
      r.a0 = cb[e + 1];
      r.a1 = cb[e + 2];
      r.a2 = cb[e + 3];
      serve(r);
    }
    Atomics.store(cb, slot(p, P_POST_TAIL), tail);
    // A pCPU whose ring was full waits for the tail to move.
    Atomics.notify(cb, slot(p, P_POST_TAIL));
  }

  /** True if any pCPU has posted requests not served yet. */
  anyPosted(): boolean {
    for (let p = 0; p < this.lazy.length; p++) if (this.hasPosted(p)) return true;
    return false;
  }

  /**
   * Before the hypervisor sleeps: each pCPU for which `ok` holds (it runs a VCPU and nothing else
   * of its pool waits) may post its VCPU's next HLT without ringing the doorbell (P_LAZY_HALT).
   * The HLT is then served at the hypervisor's next wake-up and accounted at the instant the pCPU
   * stopped; an idle timer tick wakes the hypervisor once instead of twice. Returns true if any pCPU got the offer; the caller must then look at the rings once more
   * (anyPosted) before it sleeps: a HLT posted while an earlier offer stood rang no doorbell.
   */
  offerLazyHalts(ok: (p: number) => boolean): boolean {
    let any = false;
    for (let p = 0; p < this.lazy.length; p++) {
      if (!ok(p)) continue;
      Atomics.store(this.cb, slot(p, P_LAZY_HALT), 1);
      this.lazy[p] = true;
      any = true;
    }
    if (any) this.lazyOffered = true;
    return any;
  }

  /** Every pCPU rings the doorbell for its HLTs again (the hypervisor woke up). */
  endLazyHalts(): void {
    if (!this.lazyOffered) return;
    this.lazyOffered = false;
    for (let p = 0; p < this.lazy.length; p++) {
      if (!this.lazy[p]) continue;
      this.lazy[p] = false;
      Atomics.store(this.cb, slot(p, P_LAZY_HALT), 0);
    }
  }

  /** Wakes sleeping pCPU `p` with VCPU `vcpu` of `domid` to run until `sliceEnd`. */
  hand(p: number, domid: number, vcpu: number, sliceEnd: number): void {
    const cb = this.cb;
    cb[slot(p, P_ASSIGN_DOM)] = domid;
    cb[slot(p, P_ASSIGN_VCPU)] = vcpu;
    this.setDeadline(p, sliceEnd);
    Atomics.add(cb, slot(p, P_ASSIGN_SEQ), 1);
    this.wake(p);
  }

  /** Asks pCPU `p` to stop its VCPU and come back to the scheduler (waking it if it sleeps). */
  preempt(p: number): void {
    Atomics.or(this.cb, slot(p, P_ATTN), ATTN_PREEMPT);
    this.wake(p);
  }

  /** Tells pCPU `p` that its running VCPU's interrupt state changed. */
  poke(p: number): void {
    Atomics.or(this.cb, slot(p, P_ATTN), ATTN_EVENT);
  }

  /** Sets attention bits for pCPU `p` (flush, control messages). */
  attention(p: number, bits: number): void {
    Atomics.or(this.cb, slot(p, P_ATTN), bits);
  }

  /**
   * Before deciding for pCPU `p`: its wake word now (the pCPU sleeps on it if the answer is
   * idle, so a later tickle is not lost) and its preempt bit cleared.
   */
  beginDecision(p: number): number {
    const wake = Atomics.load(this.cb, slot(p, P_WAKE));
    Atomics.and(this.cb, slot(p, P_ATTN), ~ATTN_PREEMPT);
    return wake;
  }

  /** The wake word of pCPU `p` now. */
  wakeWord(p: number): number {
    return Atomics.load(this.cb, slot(p, P_WAKE));
  }

  /** When pCPU `p` stopped its last VCPU (engine ns). */
  stopNs(p: number): number {
    return getF64(this.cb, slot(p, P_STOP_NS));
  }

  /** The end of the slice pCPU `p` runs (engine ns; Infinity for none). */
  setDeadline(p: number, sliceEnd: number): void {
    putF64(this.cb, slot(p, P_DEADLINE), Number.isFinite(sliceEnd) ? sliceEnd : NO_DEADLINE);
  }

  /** True if pCPU `p` has been asked to stop its VCPU and has not seen it yet. */
  preemptPending(p: number): boolean {
    return (Atomics.load(this.cb, slot(p, P_ATTN)) & ATTN_PREEMPT) !== 0;
  }

  /** The switch token in pCPU `leader`'s slot (the pool's lowest pCPU; P_POOL_TOKEN). */
  poolToken(leader: number): number {
    return Atomics.load(this.cb, slot(leader, P_POOL_TOKEN));
  }

  /**
   * Publishes pCPU `p`'s next decisions under sequence number `seq` (a non-zero multiple of
   * HCHAIN_SEQ_STEP, never reused): run VCPU `next.domid`/`next.vcpu` for at least `next.len` ns
   * (Infinity: no end) if it stops at its slice end in [next.from, next.until] (domid -1: no such
   * decision), or step k of the halt chain if the VCPU running (that of step k-1) halts in
   * [next.hfrom, next.huntil]; either only if no other pCPU of its pool has switched by itself since the pool's
   * switch token (in `leader`'s slot) was `token`. Only while nothing is published for `p` (the
   * fields are then the hypervisor's alone).
   */
  publishNext(p: number, seq: number, next: NextFields, leader: number, token: number): void {
    const cb = this.cb;
    cb[slot(p, P_NEXT_TOKEN_PCPU)] = leader;
    cb[slot(p, P_NEXT_TOKEN)] = token;
    cb[slot(p, P_NEXT_DOM)] = next.domid;
    cb[slot(p, P_NEXT_VCPU)] = next.vcpu;
    putF64(cb, slot(p, P_NEXT_FROM), next.domid >= 0 ? next.from : NO_DEADLINE);
    putF64(cb, slot(p, P_NEXT_UNTIL), next.until);
    putF64(cb, slot(p, P_NEXT_LEN), Number.isFinite(next.len) ? next.len : NO_DEADLINE);
    cb[slot(p, P_NEXT_EXTINT)] = next.extint;
    cb[slot(p, P_HNEXT_STEPS)] = next.hsteps;
    putF64(cb, slot(p, P_HNEXT_FROM), next.hfrom);
    putF64(cb, slot(p, P_HNEXT_UNTIL), next.huntil);
    for (let k = 0; k < next.hsteps; k++) {
      const e = slot(p, P_HCHAIN + k * HCHAIN_STEP_WORDS);
      cb[e + HC_DOM] = next.hdom[k];
      cb[e + HC_VCPU] = next.hvcpu[k];
      cb[e + HC_EXTINT] = next.hextint[k];
      putF64(cb, e + HC_LEN, Number.isFinite(next.hlen[k]) ? next.hlen[k] : NO_DEADLINE);
    }
    Atomics.store(cb, slot(p, P_NEXT_SEQ), seq);
  }

  /**
   * Ends pCPU `p`'s publication: no step can be taken after this. Returns the word's last value:
   * the published sequence number if nothing was taken, 0 after a slice-end take, or the sequence
   * number plus the count of halt steps taken.
   */
  endNext(p: number): number {
    return Atomics.exchange(this.cb, slot(p, P_NEXT_SEQ), 0);
  }

  /** The halt instant at which pCPU `p` took step `k` of its chain of halt decisions (engine ns). */
  chainTakenNs(p: number, k: number): number {
    return getF64(this.cb, slot(p, P_HCHAIN + k * HCHAIN_STEP_WORDS + HC_TAKEN_NS));
  }

  /** Which of its published decisions pCPU `p` took last (TAKE_SLICE_END or TAKE_HALT). */
  takenKind(p: number): number {
    return this.cb[slot(p, P_TAKEN_KIND)];
  }

  /** The stop instant at which pCPU `p` took its last published decision (engine ns). */
  takenNs(p: number): number {
    return getF64(this.cb, slot(p, P_TAKEN_NS));
  }

  /** Lengthens the slice pCPU `p` took by `ns` (the real decision's end is later than the published lower bound). */
  extendSlice(p: number, ns: number): void {
    Atomics.store(this.cb, slot(p, P_SLICE_EXTEND), ns);
  }

  private wake(p: number): void {
    Atomics.add(this.cb, slot(p, P_WAKE), 1);
    Atomics.notify(this.cb, slot(p, P_WAKE));
  }
}

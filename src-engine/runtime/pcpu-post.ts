/**
 * A pCPU's two ways to reach the hypervisor thread (control-block.ts): posted requests, which it
 * does not wait for (a ring it writes and the hypervisor drains in order), and synchronous requests
 * through its mailbox, which it sleeps on until the answer comes.
 */
import { STOP } from '../cpu/fault';
import {
  P_ARG0, P_ARG1, P_ARG2, P_POST_HEAD, P_POST_RING, P_POST_TAIL, POST_ENTRY_WORDS, POST_SLOTS, P_REQ, P_RES0, P_RES_STATUS, P_RESP, REQ_SCHEDULE,
  RES_STOP, ringDoorbell,
} from './control-block';

/**
 * Unserved posted requests at which the pCPU rings the doorbell, unless it takes timer edges under
 * an edge publication (which fills the whole ring first): the ring held this many until the ring
 * grew for edge publications, and a timer offer's takes on a pool of several pCPUs are replayed in
 * pCPU order, not in time order, so the hypervisor should not leave more of them waiting.
 */
export const POST_RING_SOFT_SLOTS = 256;

/** One pCPU's posted ring and mailbox (the pCPU side). */
export class PcpuPoster {
  /** The whole ring may fill before the doorbell rings (an edge publication is in use). */
  fillRing = false;
  /** Posted requests written (the local copy of P_POST_HEAD). */
  head: number;
  /** Posted requests the hypervisor has not been told about (no doorbell rung since). */
  unrung = false;

  constructor(
    private readonly cb: Int32Array,
    private readonly base: number,
  ) {
    this.head = Atomics.load(cb, base + P_POST_HEAD);
  }

  /** Rings the hypervisor's doorbell: it looks at everything posted so far. */
  ring(): void {
    ringDoorbell(this.cb);
    this.unrung = false;
  }

  /** Rings the doorbell if something was posted without it. */
  ringIfUnrung(): void {
    if (this.unrung) this.ring();
  }

  /** Posts a request the pCPU does not wait for; `ring` wakes the hypervisor for it at once. */
  post(kind: number, a0: number, a1: number, a2: number, ring: boolean): void {
    const cb = this.cb;
    const base = this.base;
    for (;;) {
      const tail = Atomics.load(cb, base + P_POST_TAIL);
      if (this.head - tail < POST_SLOTS) break;
      // Full: let the hypervisor drain it.
      this.ring();
      Atomics.wait(cb, base + P_POST_TAIL, tail);
    }
    const e = base + P_POST_RING + (this.head % POST_SLOTS) * POST_ENTRY_WORDS;
    cb[e] = kind;
    cb[e + 1] = a0;
    cb[e + 2] = a1;
    cb[e + 3] = a2;
    this.head++;
    Atomics.store(cb, base + P_POST_HEAD, this.head);
    if (ring || (!this.fillRing && this.head - Atomics.load(cb, base + P_POST_TAIL) === POST_RING_SOFT_SLOTS)) this.ring();
    else this.unrung = true;
  }

  /**
   * Posts a request that needs no hypervisor soon (it replays it at its next wake-up): it leaves
   * the doorbell as it was, so the end of the run chunk does not ring for it either.
   */
  postQuiet(kind: number, a0: number, a1: number, a2: number): void {
    const rung = this.unrung;
    this.post(kind, a0, a1, a2, false);
    this.unrung = rung;
  }

  /** A synchronous request to the hypervisor thread; returns RES0 (throws STOP if the VCPU must stop). */
  call(kind: number, a0: number, a1: number, a2: number): number {
    const cb = this.cb;
    const base = this.base;
    this.unrung = false;
    cb[base + P_ARG0] = a0;
    cb[base + P_ARG1] = a1;
    cb[base + P_ARG2] = a2;
    const resp = Atomics.load(cb, base + P_RESP);
    Atomics.store(cb, base + P_REQ, kind);
    ringDoorbell(cb);
    while (Atomics.load(cb, base + P_RESP) === resp) Atomics.wait(cb, base + P_RESP, resp);
    if (cb[base + P_RES_STATUS] === RES_STOP && kind !== REQ_SCHEDULE) throw STOP;
    return cb[base + P_RES0];
  }
}

/**
 * The scheduler-internal timers of one core (Xen's per-pCPU timer heaps collapsed into one,
 * since one thread owns them all): credit1 ticks and accounting, credit2 cap replenishment,
 * the RTDS replenishment timer.
 *
 * Timers that expire at the same instant fire in the order they were armed (a sequence number
 * breaks ties), which keeps every simulation deterministic.
 */
import type { SchedTimer } from './sched-ops';

interface HeapEntry {
  when: number;
  seq: number;
  timer: CoreTimer;
  /** The timer's arm generation this entry belongs to; stale entries are skipped. */
  gen: number;
}

/** One timer; created through TimerQueue.create. */
class CoreTimer implements SchedTimer {
  active = false;
  expires = Infinity;
  gen = 0;

  constructor(
    private readonly queue: TimerQueue,
    readonly name: string,
    readonly fn: () => void,
  ) {}

  set(when: number): void {
    this.gen++;
    this.active = true;
    this.expires = when;
    this.queue.push(this, when, this.gen);
  }

  stop(): void {
    this.gen++;
    this.active = false;
    this.expires = Infinity;
  }
}

/** A min-heap of armed timers. */
export class TimerQueue {
  private heap: HeapEntry[] = [];
  private seq = 0;

  /** init_timer. */
  create(name: string, fn: () => void): SchedTimer {
    return new CoreTimer(this, name, fn);
  }

  /** Earliest expiry of an armed timer, Infinity if none. */
  next(): number {
    this.dropStale();
    return this.heap.length > 0 ? this.heap[0].when : Infinity;
  }

  /**
   * Fires every timer due at or before `now`, including timers armed for `now` by the handlers
   * themselves. Returns how many fired.
   */
  run(now: number): number {
    let fired = 0;
    for (;;) {
      this.dropStale();
      const top = this.heap[0];
      if (!top || top.when > now) return fired;
      this.pop();
      top.timer.active = false;
      top.timer.expires = Infinity;
      top.timer.fn();
      fired++;
      if (fired > 1_000_000) throw new Error('sched timers: runaway re-arming at one instant');
    }
  }

  /** Internal: called by CoreTimer.set. */
  push(timer: CoreTimer, when: number, gen: number): void {
    const e: HeapEntry = { when, seq: this.seq++, timer, gen };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private dropStale(): void {
    while (this.heap.length > 0) {
      const top = this.heap[0];
      if (top.timer.active && top.gen === top.timer.gen) return;
      this.pop();
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (h.length === 0 || !last) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && less(h[l], h[m])) m = l;
      if (r < h.length && less(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}

function less(a: HeapEntry, b: HeapEntry): boolean {
  return a.when < b.when || (a.when === b.when && a.seq < b.seq);
}

/**
 * The timer edges a busy pCPU is offered, kept in order (docs/architecture.md, "Timer edges taken
 * by a busy pCPU"; the pCPU side is not wired yet). A pCPU that runs a spin VCPU beside halted tick
 * VCPUs of its pool takes their PIT edges itself: it must end each run chunk at the earliest edge
 * among up to a few dozen offers, take every edge that has passed, and put an entry back once its
 * VCPU has run its handler and halted again. A binary min-heap of entry indices over typed arrays
 * does that without allocating and without looking at every entry per edge: O(log n) per push,
 * pop or removal, O(1) for the earliest instant.
 */

/** No edge offered (the chunk bound is then the slice end alone). */
export const NO_EDGE = Infinity;
/** Picoseconds per nanosecond (offers carry the PIT period in picoseconds, as P_TPERIOD_PS). */
const PS_PER_NS = 1000;

/**
 * The instant of the first edge after `t` of an offer whose edges fall at `first + j * period`
 * (j >= 0; period in picoseconds, rounded up to whole nanoseconds per edge as PcpuTimer does).
 */
export function edgeAfter(first: number, periodPs: number, t: number): number {
  if (t < first) return first;
  const period = periodPs / PS_PER_NS;
  let j = Math.max(0, Math.floor((t - first) / period) - 1);
  while (first + Math.ceil((j * periodPs) / PS_PER_NS) <= t) j++;
  return first + Math.ceil((j * periodPs) / PS_PER_NS);
}

/** A min-heap of offer entries (0 .. capacity-1) by their next edge instant. */
export class EdgeHeap {
  /** Each entry's next edge instant (valid while it is in the heap). */
  private readonly at: Float64Array;
  /** Entry indices, heap-ordered by `at`. */
  private readonly heap: Int32Array;
  /** Each entry's position in `heap`, or -1. */
  private readonly pos: Int32Array;
  private n = 0;

  constructor(readonly capacity: number) {
    this.at = new Float64Array(capacity);
    this.heap = new Int32Array(capacity);
    this.pos = new Int32Array(capacity).fill(-1);
  }

  /** Entries in the heap. */
  size(): number {
    return this.n;
  }

  /** True if entry `e` is in the heap. */
  has(e: number): boolean {
    return this.pos[e] >= 0;
  }

  /** The earliest entry, or -1. */
  top(): number {
    return this.n > 0 ? this.heap[0] : -1;
  }

  /** The earliest edge instant, or NO_EDGE: the pCPU ends its run chunk there. */
  topAt(): number {
    return this.n > 0 ? this.at[this.heap[0]] : NO_EDGE;
  }

  /** Entry `e`'s next edge instant (while it is in the heap). */
  edgeOf(e: number): number {
    return this.at[e];
  }

  /** Puts entry `e` in with its next edge at `at`, or moves it there if it is in already. */
  push(e: number, at: number): void {
    if (this.pos[e] >= 0) {
      const old = this.at[e];
      this.at[e] = at;
      if (at < old) this.up(this.pos[e]);
      else this.down(this.pos[e]);
      return;
    }
    this.at[e] = at;
    const i = this.n++;
    this.heap[i] = e;
    this.pos[e] = i;
    this.up(i);
  }

  /** Takes the earliest entry out and returns it (-1 if none). */
  pop(): number {
    if (this.n === 0) return -1;
    const e = this.heap[0];
    this.remove(e);
    return e;
  }

  /** Takes entry `e` out (its VCPU runs, or its offer ended); nothing if it is not in. */
  remove(e: number): void {
    const i = this.pos[e];
    if (i < 0) return;
    this.pos[e] = -1;
    const last = --this.n;
    if (i === last) return;
    const moved = this.heap[last];
    this.heap[i] = moved;
    this.pos[moved] = i;
    this.up(i);
    this.down(this.pos[moved]);
  }

  /** Empties the heap (a publication ended). */
  clear(): void {
    for (let i = 0; i < this.n; i++) this.pos[this.heap[i]] = -1;
    this.n = 0;
  }

  private up(i: number): void {
    const h = this.heap;
    const e = h[i];
    const at = this.at[e];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pe = h[parent];
      if (!(at < this.at[pe])) break;
      h[i] = pe;
      this.pos[pe] = i;
      i = parent;
    }
    h[i] = e;
    this.pos[e] = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = this.n;
    const e = h[i];
    const at = this.at[e];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.at[h[r]] < this.at[h[l]] ? r : l;
      if (!(this.at[h[c]] < at)) break;
      h[i] = h[c];
      this.pos[h[i]] = i;
      i = c;
    }
    h[i] = e;
    this.pos[e] = i;
  }
}

/**
 * What a pCPU steps to take timer edges by itself while it runs a busy VCPU (docs/architecture.md,
 * "Timer edges taken by a busy pCPU"): a scheduler's state for one pool copied into numbers by the
 * hypervisor thread, stepped on the pCPU with the same arithmetic, call order and instants as the
 * real wake, block and schedule calls the hypervisor replays later. Implemented for credit2
 * (credit2-edge-model.ts) and credit (credit-edge-model.ts).
 */

/** wake(): the unit is queued and the running unit runs on. */
export const EDGE_QUIET = 0;
/** wake(): the scheduler tickled the pCPU: schedule() at the stop that follows. */
export const EDGE_TICKLE = 1;
/** The model cannot tell (or left the part of the scheduler it mirrors): the pCPU must ask. */
export const MODEL_ASK = -1;

/** The steps (the pCPU's side); every answer after a MODEL_ASK is MODEL_ASK again. */
export interface EdgeModel {
  /** Units carried. */
  count(): number;
  /** The running unit's index, or -1 (nothing to step). */
  running(): number;
  /** Unit `i`'s domain and VCPU. */
  domid(i: number): number;
  vcpu(i: number): number;
  /** The index of (domid, vcpu), or -1 (a publication-time lookup; it loops over the units). */
  indexOf(domid: number, vcpu: number): number;
  /** Blocked unit `i` wakes at `now`: EDGE_TICKLE, EDGE_QUIET or MODEL_ASK. */
  wake(i: number, now: number): number;
  /** The running unit halts (vcpu_block); a schedule() at the same instant follows. False: ask. */
  block(): boolean;
  /** schedule() at `now`: the index of the unit to run (slice() its slice length), or MODEL_ASK. */
  schedule(now: number): number;
  /** The slice length the last schedule() gave (ns). */
  slice(): number;
  /** True while a tickle of the pCPU is pending (a schedule() must follow). */
  tickled(): boolean;
}

// The header both models share (Float64 words); each model's own words follow at 1, 2 and 8.
/** Units carried. */
export const EM_COUNT = 0;
/** The running unit's index (-1: none; the model then asks). */
export const EM_RUNNING = 3;
/** A tickle of the pCPU is pending (1) or not. */
export const EM_TICKLED = 4;
/** Units queued (their indices follow the header, in runqueue order). */
export const EM_RUNQ_LEN = 5;
/** The slice length the last schedule() gave (ns). */
export const EM_SLICE = 6;
/** The capacity (units) the array was sized for. */
export const EM_CAPACITY = 7;
/** Header words; the runqueue area (capacity words) follows, then the units. */
export const EM_HEADER_WORDS = 9;

/** Float64 words a model of `capacity` units of `unitWords` words each needs. */
export function edgeModelWords(capacity: number, unitWords: number): number {
  return EM_HEADER_WORDS + capacity + capacity * unitWords;
}

/**
 * The layout and accessors both models share: the header above, then the runqueue area, then
 * `unitWords` per unit with its domain and VCPU at `uDomid` and `uDomid + 1`.
 */
export abstract class EdgeModelCore {
  /** Where the units start. */
  protected readonly units: number;

  constructor(
    readonly m: Float64Array,
    private readonly unitWords: number,
    private readonly uDomid: number,
  ) {
    const capacity = m[EM_CAPACITY] > 0 ? m[EM_CAPACITY] : Math.floor((m.length - EM_HEADER_WORDS) / (1 + unitWords));
    m[EM_CAPACITY] = capacity;
    this.units = EM_HEADER_WORDS + capacity;
  }

  /** Units the model carries. */
  count(): number {
    return this.m[EM_COUNT];
  }

  /** The running unit's index, or -1. */
  running(): number {
    return this.m[EM_RUNNING];
  }

  /** The slice length the last schedule() gave (ns). */
  slice(): number {
    return this.m[EM_SLICE];
  }

  /** True while a tickle of the pCPU is pending (a schedule() must follow). */
  tickled(): boolean {
    return this.m[EM_TICKLED] !== 0;
  }

  /** Unit `i`'s domain and VCPU. */
  domid(i: number): number {
    return this.m[this.units + i * this.unitWords + this.uDomid];
  }

  vcpu(i: number): number {
    return this.m[this.units + i * this.unitWords + this.uDomid + 1];
  }

  /** The index of (domid, vcpu), or -1 (a publication-time lookup; it loops over the units). */
  indexOf(domid: number, vcpu: number): number {
    for (let i = 0; i < this.m[EM_COUNT]; i++) if (this.domid(i) === domid && this.vcpu(i) === vcpu) return i;
    return -1;
  }
}

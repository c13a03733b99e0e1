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

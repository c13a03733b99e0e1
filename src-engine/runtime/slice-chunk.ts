/**
 * How a pCPU sizes its run chunks so that it ends a slice at the slice's deadline itself. The
 * hypervisor thread does not wake for the slice end of a pCPU that runs a VCPU (a wake-up per
 * VCPU switch cost more than the switch), so the pCPU's own clock checks between chunks are what
 * end the slice. Far from the deadline a chunk is SLICE_CHECK_INSNS long; near it the chunk is
 * sized from the run rate measured over the chunks before, so the slice ends within a few
 * microseconds of the deadline instead of up to a whole chunk late.
 */

/**
 * Instructions between looks at the slice deadline far from it: about 0.1 ms compiled, 1 ms
 * interpreted, against slices of 0.5 ms (credit2's minimum) and more.
 */
export const SLICE_CHECK_INSNS = 50_000;
/** Fewest instructions in a chunk near the deadline (a few microseconds), so the clock is not read too often. */
export const SLICE_END_MIN_INSNS = 1_000;
/** The run rate assumed before any chunk has been timed: 1 ns per instruction (compiled code). */
export const FIRST_NS_PER_INSN = 1;
/** A timed chunk counts 1/RATE_SMOOTHING towards the rate estimate (exponential moving average). */
const RATE_SMOOTHING = 4;

/** The run-rate estimate of one pCPU. */
export interface SliceRateState {
  /** Nanoseconds per guest instruction. */
  nsPerInsn: number;
}

/** A fresh estimate. */
export function newSliceRate(): SliceRateState {
  return { nsPerInsn: FIRST_NS_PER_INSN };
}

/**
 * Instructions to run in the next chunk at engine time `now` for a slice ending at `deadline`
 * (engine ns; `noDeadline` for a slice without end).
 */
export function sliceChunk(rate: SliceRateState, now: number, deadline: number, noDeadline: number): number {
  if (deadline === noDeadline) return SLICE_CHECK_INSNS;
  const left = Math.ceil((deadline - now) / rate.nsPerInsn);
  if (!(left < SLICE_CHECK_INSNS)) return SLICE_CHECK_INSNS;
  return left > SLICE_END_MIN_INSNS ? left : SLICE_END_MIN_INSNS;
}

/** Folds a chunk that ran `insns` instructions in `ns` nanoseconds into the estimate. */
export function sliceRateUpdate(rate: SliceRateState, insns: number, ns: number): void {
  // Short chunks (a VCPU that exits often) say little about the rate.
  if (insns < SLICE_END_MIN_INSNS || !(ns >= 0)) return;
  rate.nsPerInsn += (ns / insns - rate.nsPerInsn) / RATE_SMOOTHING;
}

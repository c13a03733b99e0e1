import { describe, expect, it } from 'vitest';
import { FIRST_NS_PER_INSN, SLICE_CHECK_INSNS, SLICE_END_MIN_INSNS, newSliceRate, sliceChunk, sliceRateUpdate } from '../../../src-engine/runtime/slice-chunk';

const NONE = -1;

/** Runs a pCPU loop against a guest of `nsPerInsn` until `deadline`; returns [stop time, chunks]. */
function runSlice(nsPerInsn: number, deadline: number, rate = newSliceRate()): [number, number] {
  let now = 0;
  let chunks = 0;
  while (now < deadline) {
    const n = sliceChunk(rate, now, deadline, NONE);
    chunks++;
    sliceRateUpdate(rate, n, n * nsPerInsn);
    now += n * nsPerInsn;
  }
  return [now, chunks];
}

describe('slice chunks (a pCPU ends its slice at the deadline itself)', () => {
  it('runs full chunks when the slice has no end or the end is far away', () => {
    const rate = newSliceRate();
    expect(sliceChunk(rate, 0, NONE, NONE)).toBe(SLICE_CHECK_INSNS);
    expect(sliceChunk(rate, 0, 10e6, NONE)).toBe(SLICE_CHECK_INSNS);
  });

  it('sizes the last chunk to end at the deadline, never below the minimum', () => {
    const rate = newSliceRate();
    expect(rate.nsPerInsn).toBe(FIRST_NS_PER_INSN);
    expect(sliceChunk(rate, 0, 20_000, NONE)).toBe(20_000);
    expect(sliceChunk(rate, 0, 10, NONE)).toBe(SLICE_END_MIN_INSNS);
    expect(sliceChunk(rate, 50, 10, NONE)).toBe(SLICE_END_MIN_INSNS);
  });

  it('learns the run rate from timed chunks and ignores short or untimed ones', () => {
    const rate = newSliceRate();
    for (let i = 0; i < 40; i++) sliceRateUpdate(rate, 50_000, 50_000 * 20);
    expect(rate.nsPerInsn).toBeCloseTo(20, 3);
    sliceRateUpdate(rate, SLICE_END_MIN_INSNS - 1, 1e9);
    sliceRateUpdate(rate, 50_000, Number.NaN);
    expect(rate.nsPerInsn).toBeCloseTo(20, 3);
    // 20 ns an instruction (interpreted): 100 us left is 5000 instructions.
    expect(Math.abs(sliceChunk(rate, 0, 100_000, NONE) - 5_000)).toBeLessThanOrEqual(1);
  });

  it('ends a 1 ms slice within a few microseconds for compiled and interpreted guests', () => {
    for (const nsPerInsn of [0.8, 2, 20]) {
      const rate = newSliceRate();
      runSlice(nsPerInsn, 1e6, rate); // warm the estimate, as the slices before do
      const [stop, chunks] = runSlice(nsPerInsn, 1e6, rate);
      expect(stop - 1e6).toBeLessThanOrEqual(Math.max(SLICE_END_MIN_INSNS * nsPerInsn, 5_000));
      // Not a clock read per few instructions: a handful of chunks past the full ones.
      expect(chunks).toBeLessThan(Math.ceil(1e6 / nsPerInsn / SLICE_CHECK_INSNS) + 12);
    }
  });

  it('a fixed 50,000-instruction chunk would overshoot an interpreted slice by up to a chunk', () => {
    // What the sizing replaces: at 20 ns an instruction a chunk is 1 ms.
    const overshoot = Math.ceil(0.9e6 / (SLICE_CHECK_INSNS * 20)) * SLICE_CHECK_INSNS * 20 - 0.9e6;
    const [stop] = runSlice(20, 0.9e6, Object.assign(newSliceRate(), { nsPerInsn: 20 }));
    expect(stop - 0.9e6).toBeLessThan(overshoot);
  });
});

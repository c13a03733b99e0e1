import { describe, expect, it } from 'vitest';
import {
  balanceMask,
  hasSoftAffinity,
  maskAnd,
  maskCycle,
  maskIntersects,
  maskSubset,
  maskTestOrCycle,
  NO_CPU,
  softAffinityEffective,
} from '../../../src-engine/hv/sched/cpumask';

describe('cpumask helpers (Xen cpumask.h semantics)', () => {
  it('cycles to the next set pCPU, wrapping, like cpumask_cycle', () => {
    expect(maskCycle(1, [0, 1, 3])).toBe(3);
    expect(maskCycle(3, [0, 1, 3])).toBe(0);
    expect(maskCycle(2, [2])).toBe(2);
    expect(maskCycle(0, [])).toBe(NO_CPU);
    expect(maskTestOrCycle(1, [0, 1, 3])).toBe(1);
    expect(maskTestOrCycle(2, [0, 1, 3])).toBe(3);
  });
  it('intersects, ands and tests subsets of sorted sets', () => {
    expect(maskAnd([0, 2, 3, 5], [1, 2, 5, 7])).toEqual([2, 5]);
    expect(maskIntersects([0, 4], [1, 2, 3])).toBe(false);
    expect(maskSubset([1, 2], [0, 1, 2])).toBe(true);
    expect(maskSubset([1, 4], [0, 1, 2])).toBe(false);
  });
  it('uses soft affinity only when it narrows the choice (private.h has_soft_affinity)', () => {
    const pool = [0, 1, 2, 3];
    // hard ⊆ soft: soft adds nothing.
    expect(softAffinityEffective([1], [0, 1])).toBe(false);
    // soft ∩ hard = ∅: soft is unreachable.
    expect(softAffinityEffective([0, 1], [2])).toBe(false);
    expect(hasSoftAffinity({ hard: [0, 1, 2, 3], soft: [1] }, pool)).toBe(true);
    // pool ⊆ soft: prefers nothing.
    expect(hasSoftAffinity({ hard: [0, 1, 2, 3, 4, 5], soft: [0, 1, 2, 3, 4] }, pool)).toBe(false);
  });
  it('builds the soft balance step as soft ∩ hard, falling back to hard', () => {
    expect(balanceMask({ hard: [0, 1, 2], soft: [2, 3] }, 'soft')).toEqual([2]);
    expect(balanceMask({ hard: [0, 1], soft: [3] }, 'soft')).toEqual([0, 1]);
    expect(balanceMask({ hard: [0, 1], soft: [1] }, 'hard')).toEqual([0, 1]);
  });
});

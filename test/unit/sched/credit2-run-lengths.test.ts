/**
 * How often credit2 switches between two equal CPU hogs on one pCPU, against Xen's algorithm
 * (csched2_runtime, spec/schedulers.md section 2.5): each slice is "until your credit falls to the
 * waiter's", at least MIN_TIMER (500 us) and the ratelimit (1000 us by default) for a VCPU just
 * switched in. Equal hogs differ by less than the ratelimit, so each runs exactly 1 ms: 1000
 * switches a second is the algorithm, not an engine artefact (docs/performance.md, "The cost of a
 * VCPU switch"). Without a ratelimit the runs are still 1 ms: a 500 us slice ends with equal
 * credits, and a tie keeps the running VCPU (runq_candidate) for another 500 us.
 */
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../../src-engine/hv/sched/sim/simulator';
import { execIntervals } from '../../../src-engine/hv/sched/sim/trace-analysis';
import { CREDIT2_MIN_TIMER } from '../../../src-engine/hv/sched/credit2-runqueue';
import { MS, S } from './helpers';

function runLengths(ratelimitUs?: number): number[] {
  const sim = new Simulator({ nrCpus: 1, scheduler: 'credit2' });
  if (ratelimitUs !== undefined) {
    sim.core.setPoolParams('Pool-0', { sched: 'credit2', ratelimitUs });
    expect(sim.core.getPoolParams('Pool-0')).toMatchObject({ ratelimitUs });
  }
  for (let i = 1; i <= 2; i++) sim.addDomain({ domid: i, name: `hog${i}`, maxVcpus: 1, workload: { kind: 'hog' } });
  sim.runUntil(3 * S);
  return execIntervals(sim.records, sim.now)
    .filter((iv) => iv.start >= S && iv.end < 3 * S)
    .map((iv) => iv.end - iv.start);
}

describe('credit2: two equal CPU hogs on one pCPU', () => {
  it('alternate every 1 ms at the default ratelimit (1000 switches a second)', () => {
    const lens = runLengths();
    expect(lens.length).toBeGreaterThan(1990);
    for (const l of lens) expect(l).toBe(1 * MS);
  });

  it('alternate every 1 ms without a ratelimit too: two MIN_TIMER slices, the second won by the tie', () => {
    const lens = runLengths(0);
    expect(lens.length).toBeGreaterThan(1990);
    for (const l of lens) expect(l).toBe(2 * CREDIT2_MIN_TIMER);
  });
});

import { describe, expect, it } from 'vitest';
import { execIntervals } from '../../../src-engine/hv/sched/sim/trace-analysis';
import type { SchedTraceRecord } from '../../../src-engine/hv/sched/sched-trace';
import { checkAffinityAtStart, checkWindows, periodicWakeLatency, pinMoves, summarize } from './real-analysis';

const MS = 1e6;
type R = SchedTraceRecord;
const inn = (t: number, pcpu: number, domid: number): R => ({ t, pcpu, domid, vcpu: 0, event: 'in', reason: 'pick' });
const out = (t: number, pcpu: number, domid: number, reason: R['reason'] = 'slice'): R => ({ t, pcpu, domid, vcpu: 0, event: 'out', reason });
const aff = (t: number, pcpu: number, domid: number, hard: number[]): R => ({ t, pcpu, domid, vcpu: 0, event: 'affinity', hard, soft: [0, 1] });

describe('real-engine trace analysis', () => {
  it('checks hard affinity and pool membership at every switch-in, not while a pin takes effect', () => {
    const recs: R[] = [
      { t: 0, pcpu: 0, domid: 1, vcpu: 0, event: 'pool', pool: 0 },
      aff(0, 0, 1, [0]),
      inn(1, 0, 1),
      aff(2 * MS, 0, 1, [1]), // pinned away while running on 0: allowed to finish the instant
      out(2.5 * MS, 0, 1, 'migrate'),
      inn(2.6 * MS, 1, 1),
      out(3 * MS, 1, 1),
      inn(4 * MS, 0, 1), // violation: 0 is outside {1}
    ];
    const r = checkAffinityAtStart(recs, new Map([[0, [0, 1]]]));
    expect(r.checked).toBe(3);
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0]).toContain('pCPU 0, outside its hard affinity {1}');
    const pool = checkAffinityAtStart(recs, new Map([[0, [0]]]));
    expect(pool.violations.some((v) => v.includes("not one of the pool's {0}"))).toBe(true);
  });

  it('measures how long a pinned-away vCPU takes to leave its pCPU and to run again', () => {
    const recs: R[] = [inn(0, 0, 1), aff(10 * MS, 0, 1, [1]), out(10.4 * MS, 0, 1, 'migrate'), inn(10.9 * MS, 1, 1), aff(20 * MS, 1, 1, [0, 1])];
    const m = pinMoves(recs, 1, 0);
    expect(m).toHaveLength(1); // the second pin keeps pCPU 1: no move
    expect(m[0].from).toBe(0);
    expect(m[0].outAfter).toBeCloseTo(0.4 * MS, -2);
    expect(m[0].outReason).toBe('migrate');
    expect(m[0].inAfter).toBeCloseTo(0.9 * MS, -2);
    expect(m[0].inPcpu).toBe(1);
  });

  it('places intervals in ARINC 653 windows and measures overruns and window use', () => {
    const layout = { frameStart: 100 * MS, majorFrame: 30 * MS, windows: [{ domid: 1, runtime: 10 * MS }, { domid: 2, runtime: 8 * MS }, { domid: 3, runtime: 6 * MS }] };
    const recs: R[] = [
      inn(100 * MS, 1, 1), out(110.2 * MS, 1, 1), // 0.2 ms overrun into d2's window
      inn(110.2 * MS, 1, 2), out(118 * MS, 1, 2),
      inn(118 * MS, 1, 3), out(124 * MS, 1, 3),
      inn(125 * MS, 1, 2), out(126 * MS, 1, 2), // in the idle tail: outside
    ];
    const c = checkWindows(execIntervals(recs, 130 * MS), layout, 100 * MS, 130 * MS);
    expect(c.intervals).toBe(4);
    expect(c.startedOutside).toHaveLength(1);
    expect(c.startedOutside[0]).toContain('d2 started at +25.000 ms');
    expect(Math.max(...c.overrun.slice(0, 3))).toBeCloseTo(0.2 * MS, -3);
    expect(c.windowUse.get(1)).toBeCloseTo(1, 5);
    expect(c.windowUse.get(2)).toBeCloseTo(7.8 / 8, 5);
    expect(c.outside.get(1)).toBeCloseTo(0.2 * MS, -3);
    expect(c.outside.get(2)).toBeCloseTo(1 * MS, -3);
  });

  it('splits the wake-up of a 100 Hz vCPU into timer lateness, scheduling and handling', () => {
    const P = 10 * MS;
    const recs: R[] = [];
    // The first wake is late (no anchor), one is later than half a period, one period is lost.
    const lateness = [1.5, 0.03, 0.1, 7, 0.05, -1, 0.12];
    lateness.forEach((l, k) => {
      if (l < 0) return;
      const w = 50 * MS + k * P + l * MS;
      recs.push({ t: w, pcpu: 1, domid: 4, vcpu: 0, event: 'wake' });
      recs.push(inn(w + 0.2 * MS, 1, 4));
      recs.push({ t: w + 0.5 * MS, pcpu: 1, domid: 4, vcpu: 0, event: 'block' });
      recs.push(out(w + 0.5 * MS, 1, 4, 'block'));
    });
    const l = periodicWakeLatency(recs, 4, 0, P);
    // Phase = the earliest wake of the densest 0.3 ms cluster (0.03 ms late): a lower bound.
    expect(l.dueToWake.map((x) => Math.round(x / 1e3))).toEqual([1470, 0, 70, 6970, 20, 90]);
    expect(l.missed).toBe(1);
    expect(l.wakeToIn.every((x) => Math.abs(x - 0.2 * MS) < 1)).toBe(true);
    expect(l.inToBlock.every((x) => Math.abs(x - 0.3 * MS) < 1)).toBe(true);
    expect(summarize(l.dueToIn).max).toBeCloseTo(7.17 * MS, -3);
  });
});

import { describe, expect, it } from 'vitest';
import type { SchedTraceRecord } from '../../../src-engine/hv/sched/sched-trace';
import { SchedTrace } from '../../../src-engine/hv/sched/sched-trace';
import { Simulator } from '../../../src-engine/hv/sched/sim/simulator';
import {
  checkInvariants,
  execIntervals,
  maxIdleWhileWaiting,
  percentile,
  runnableTime,
  shares,
  wakeLatencies,
} from '../../../src-engine/hv/sched/sim/trace-analysis';
import { makeWorkload, seededRandom } from '../../../src-engine/hv/sched/sim/workloads';
import { TimerQueue } from '../../../src-engine/hv/sched/timer-queue';
import { MS, S } from './helpers';

/** A hand-written trace: one pool of pCPUs 0-1, vCPU 1.0 with hard affinity {0}. */
function base(): SchedTraceRecord[] {
  return [
    { t: 0, pcpu: -1, domid: -1, vcpu: -1, event: 'pool-cpus', pool: 0, cpus: [0, 1] },
    { t: 0, pcpu: 0, domid: 1, vcpu: 0, event: 'pool', pool: 0 },
    { t: 0, pcpu: 0, domid: 1, vcpu: 0, event: 'affinity', hard: [0], soft: [0, 1] },
    { t: 0, pcpu: 0, domid: 2, vcpu: 0, event: 'pool', pool: 0 },
    { t: 0, pcpu: 0, domid: 2, vcpu: 0, event: 'affinity', hard: [0, 1], soft: [0, 1] },
    { t: 0, pcpu: 0, domid: 1, vcpu: 0, event: 'runnable' },
    { t: 0, pcpu: 0, domid: 2, vcpu: 0, event: 'runnable' },
  ];
}

describe('invariant checker', () => {
  it('accepts a clean trace', () => {
    const ok = [...base(), { t: 5, pcpu: 0, domid: 1, vcpu: 0, event: 'in' as const }, { t: 9, pcpu: 1, domid: 2, vcpu: 0, event: 'in' as const }];
    expect(checkInvariants(ok)).toEqual([]);
  });

  it('reports two vCPUs on one pCPU and one vCPU on two pCPUs (P1)', () => {
    const bad = [...base(), { t: 5, pcpu: 0, domid: 1, vcpu: 0, event: 'in' as const }, { t: 6, pcpu: 0, domid: 2, vcpu: 0, event: 'in' as const }, { t: 7, pcpu: 1, domid: 2, vcpu: 0, event: 'in' as const }];
    const errs = checkInvariants(bad);
    expect(errs.some((e) => e.startsWith('P1: t=6 pCPU 0'))).toBe(true);
    expect(errs.some((e) => e.startsWith('P1: t=7 2.0 runs on pCPU 0 and 1'))).toBe(true);
  });

  it('reports a run outside hard affinity, and one left running after a pin (P2)', () => {
    expect(checkInvariants([...base(), { t: 5, pcpu: 1, domid: 1, vcpu: 0, event: 'in' }])[0]).toMatch(/^P2: t=5 1.0 runs on pCPU 1/);
    const late: SchedTraceRecord[] = [
      ...base(),
      { t: 5, pcpu: 1, domid: 2, vcpu: 0, event: 'in' },
      { t: 8, pcpu: 1, domid: 2, vcpu: 0, event: 'affinity', hard: [0], soft: [0, 1] },
      { t: 9, pcpu: 1, domid: 2, vcpu: 0, event: 'out', reason: 'migrate' },
    ];
    expect(checkInvariants(late)[0]).toMatch(/^P2: t=8 /);
    late[late.length - 1] = { ...late[late.length - 1], t: 8 };
    expect(checkInvariants(late)).toEqual([]);
  });

  it('reports a pCPU running a vCPU of a pool it left (P3) and a blocked vCPU running (P4)', () => {
    const p3: SchedTraceRecord[] = [...base(), { t: 5, pcpu: 1, domid: 2, vcpu: 0, event: 'in' }, { t: 6, pcpu: -1, domid: -1, vcpu: -1, event: 'pool-cpus', pool: 0, cpus: [0] }];
    expect(checkInvariants(p3)[0]).toMatch(/^P3: t=6 /);
    const p4: SchedTraceRecord[] = [...base(), { t: 5, pcpu: 0, domid: 1, vcpu: 0, event: 'in' }, { t: 6, pcpu: 0, domid: 1, vcpu: 0, event: 'unrunnable', reason: 'block' }];
    expect(checkInvariants(p4)[0]).toMatch(/^P4: t=6 1.0/);
  });

  it('measures idle-while-waiting, intervals, shares, latencies and runnable time', () => {
    const tr: SchedTraceRecord[] = [
      ...base(),
      { t: 0, pcpu: 0, domid: 1, vcpu: 0, event: 'in' },
      { t: 10, pcpu: 1, domid: 2, vcpu: 0, event: 'in' },
      { t: 20, pcpu: 1, domid: 2, vcpu: 0, event: 'out' },
      { t: 20, pcpu: 1, domid: 2, vcpu: 0, event: 'unrunnable' },
      { t: 30, pcpu: 1, domid: 2, vcpu: 0, event: 'wake' },
      { t: 30, pcpu: 1, domid: 2, vcpu: 0, event: 'runnable' },
      { t: 34, pcpu: 1, domid: 2, vcpu: 0, event: 'in' },
    ];
    expect(maxIdleWhileWaiting(tr, 40)).toBe(10);
    const ivs = execIntervals(tr, 40);
    expect(ivs.map((i) => [i.domid, i.start, i.end])).toEqual([
      [1, 0, 40],
      [2, 10, 20],
      [2, 34, 40],
    ]);
    expect(shares(ivs, 0, 40).get('2.0')).toBeCloseTo(16 / 40, 9);
    expect(wakeLatencies(tr, 2, 0)).toEqual([4]);
    expect(runnableTime(tr, 2, 0, 0, 40)).toBe(30);
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
  });
});

describe('simulator', () => {
  it('is deterministic', () => {
    const run = () => {
      const sim = new Simulator({ nrCpus: 2, scheduler: 'credit2' });
      for (let d = 1; d <= 3; d++) sim.addDomain({ domid: d, name: `d${d}`, maxVcpus: 1, workload: { kind: 'io', meanRunNs: 1 * MS, meanBlockNs: 1 * MS, seed: d } });
      sim.runUntil(300 * MS);
      return sim.records;
    };
    expect(run()).toEqual(run());
  });

  it('runs scripted actions before anything else at their instant', () => {
    const sim = new Simulator({ nrCpus: 1, scheduler: 'credit' });
    sim.addDomain({ domid: 1, name: 'a', maxVcpus: 1, workload: { kind: 'hog' } });
    sim.at(30 * MS, (s) => s.core.pauseDomain(1));
    sim.runUntil(40 * MS);
    const outAt30 = sim.records.filter((r) => r.event === 'out' && r.t === 30 * MS);
    expect(outAt30.map((r) => r.reason)).toEqual(['pause']);
  });

  it('stops a yielding workload through the core', () => {
    const sim = new Simulator({ nrCpus: 1, scheduler: 'credit2' });
    sim.addDomain({ domid: 1, name: 'y', maxVcpus: 1, workload: { kind: 'yielder', runNs: 2 * MS } });
    sim.addDomain({ domid: 2, name: 'h', maxVcpus: 1, workload: { kind: 'hog' } });
    sim.runUntil(1 * S);
    expect(sim.records.filter((r) => r.event === 'yield' && r.domid === 1).length).toBeGreaterThan(20);
    expect(sim.records.some((r) => r.event === 'out' && r.reason === 'yield')).toBe(true);
  });
});

describe('workloads', () => {
  it('releases timer jobs at exact instants and queues missed ones', () => {
    const w = makeWorkload({ kind: 'timer', periodNs: 10, runNs: 3, phaseNs: 5 });
    expect(w.next(0)).toEqual({ blockUntil: 5 });
    expect(w.next(5)).toEqual({ run: 3 });
    expect(w.next(8)).toEqual({ blockUntil: 15 });
    expect(w.next(37)).toEqual({ run: 3 });
    expect(w.next(40)).toEqual({ run: 3 });
    expect(w.next(41)).toEqual({ run: 3 });
    expect(w.next(44)).toEqual({ blockUntil: 45 });
  });

  it('draws the same I/O pattern for the same seed', () => {
    const a = makeWorkload({ kind: 'io', meanRunNs: 1000, meanBlockNs: 5000, seed: 9 });
    const b = makeWorkload({ kind: 'io', meanRunNs: 1000, meanBlockNs: 5000, seed: 9 });
    for (let i = 0; i < 20; i++) expect(a.next(i * 100)).toEqual(b.next(i * 100));
    expect(seededRandom(1)()).not.toBe(seededRandom(2)());
  });
});

describe('timer queue and trace ring', () => {
  it('fires timers in expiry order, ties in arming order, re-arming replaces', () => {
    const q = new TimerQueue();
    const fired: string[] = [];
    const a = q.create('a', () => fired.push('a'));
    const b = q.create('b', () => fired.push('b'));
    const c = q.create('c', () => fired.push('c'));
    b.set(20);
    a.set(20);
    c.set(5);
    c.set(30);
    expect(q.next()).toBe(20);
    q.run(25);
    expect(fired).toEqual(['b', 'a']);
    c.stop();
    expect(q.next()).toBe(Infinity);
    expect(c.active).toBe(false);
  });

  it('keeps the last records of a full ring and filters by time window', () => {
    const tr = new SchedTrace(3);
    for (let t = 0; t < 5; t++) tr.emit({ t, pcpu: 0, domid: 1, vcpu: 0, event: 'wake' });
    expect(tr.all().map((r) => r.t)).toEqual([2, 3, 4]);
    expect(tr.since(4, 1).map((r) => r.t)).toEqual([3, 4]);
  });
});

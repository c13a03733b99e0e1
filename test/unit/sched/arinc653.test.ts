import { describe, expect, it } from 'vitest';
import { Simulator } from '../../../src-engine/hv/sched/sim/simulator';
import { execIntervals, runTime } from '../../../src-engine/hv/sched/sim/trace-analysis';
import { manualCore, MS, S, thrown } from './helpers';

describe('ARINC 653 default schedule', () => {
  it('gives each control-domain vCPU a 10 ms window, the frame growing after the first', () => {
    const h = manualCore(1, 'arinc653');
    h.core.addDomain({ domid: 0, name: 'Domain-0', uuid: 'dom0', maxVcpus: 2 });
    h.core.addDomain({ domid: 1, name: 'vm', uuid: 'vm', maxVcpus: 1 });
    expect(h.core.getPoolParams(0)).toEqual({
      sched: 'arinc653',
      majorFrame: 20 * MS,
      entries: [
        { uuid: 'dom0', vcpu: 0, runtime: 10 * MS },
        { uuid: 'dom0', vcpu: 1, runtime: 10 * MS },
      ],
    });
  });

  it('idles a pool without dom0 until a schedule is installed', () => {
    const sim = new Simulator({ nrCpus: 1, scheduler: 'arinc653' });
    sim.addDomain({ domid: 1, name: 'a', uuid: 'a', maxVcpus: 1, workload: { kind: 'hog' } });
    sim.runUntil(1 * S);
    expect(sim.records.filter((r) => r.event === 'in')).toHaveLength(0);
  });
});

describe('ARINC 653 schedules', () => {
  it('resolves entries naming absent partitions to idle windows and re-resolves on creation', () => {
    const sim = new Simulator({ nrCpus: 1, scheduler: 'arinc653' });
    sim.core.setPoolParams(0, { sched: 'arinc653', majorFrame: 20 * MS, entries: [{ uuid: 'late', vcpu: 0, runtime: 5 * MS }] });
    sim.runUntil(50 * MS);
    sim.addDomain({ domid: 1, name: 'late', uuid: 'late', maxVcpus: 1, workload: { kind: 'hog' } });
    sim.runUntil(100 * MS);
    const ivs = execIntervals(sim.records, sim.now);
    expect(ivs.map((i) => [i.start / MS, i.end / MS])).toEqual([
      [60, 65],
      [80, 85],
    ]);
  });

  it('shares one frame between the pool’s pCPUs: each runs only its own vCPUs, one at a time', () => {
    const sim = new Simulator({ nrCpus: 2, scheduler: 'arinc653' });
    sim.addDomain({ domid: 1, name: 'a', uuid: 'a', maxVcpus: 2, workload: { kind: 'hog' } });
    sim.core.setPoolParams(0, {
      sched: 'arinc653',
      majorFrame: 20 * MS,
      entries: [
        { uuid: 'a', vcpu: 0, runtime: 10 * MS },
        { uuid: 'a', vcpu: 1, runtime: 10 * MS },
      ],
    });
    sim.runUntil(200 * MS);
    const ivs = execIntervals(sim.records, sim.now);
    expect(sim.core.vcpuInfo(1, 1).pcpu).toBe(1);
    expect(runTime(ivs, 1, 0, 0, 200 * MS)).toBe(100 * MS);
    expect(runTime(ivs, 1, 1, 0, 200 * MS)).toBe(100 * MS);
    expect(new Set(ivs.filter((i) => i.vcpu === 0).map((i) => i.pcpu))).toEqual(new Set([0]));
    expect(new Set(ivs.filter((i) => i.vcpu === 1).map((i) => i.pcpu))).toEqual(new Set([1]));
    for (const a of ivs) for (const b of ivs) if (a !== b) expect(a.end <= b.start || b.end <= a.start).toBe(true);
  });

  it('refuses invalid schedules with EINVAL and keeps the previous one (P19)', () => {
    const h = manualCore(1, 'arinc653');
    const good = { sched: 'arinc653' as const, majorFrame: 50 * MS, entries: [{ uuid: 'x', vcpu: 0, runtime: 20 * MS }] };
    h.core.setPoolParams(0, good);
    const entry = (runtime: number) => ({ uuid: 'x', vcpu: 0, runtime });
    const bad = [
      { majorFrame: 50 * MS, entries: [entry(30 * MS), entry(21 * MS)] },
      { majorFrame: 50 * MS, entries: [] },
      { majorFrame: 100 * S, entries: Array.from({ length: 65 }, () => entry(1 * MS)) },
      { majorFrame: 50 * MS, entries: [entry(0)] },
      { majorFrame: 0, entries: [entry(1)] },
    ];
    for (const b of bad) {
      const e = thrown(() => h.core.setPoolParams(0, { sched: 'arinc653', ...b }));
      expect([e.errno, e.code]).toEqual(['EINVAL', 'sched.arinc653-schedule']);
    }
    h.core.setPoolParams(0, { sched: 'arinc653', majorFrame: 100 * S, entries: Array.from({ length: 64 }, () => entry(1 * MS)) });
    expect((h.core.getPoolParams(0) as { entries: unknown[] }).entries).toHaveLength(64);
    h.core.setPoolParams(0, good);
    expect(h.core.getPoolParams(0)).toEqual({ sched: 'arinc653', majorFrame: 50 * MS, entries: [{ uuid: 'x', vcpu: 0, runtime: 20 * MS }] });
  });
});

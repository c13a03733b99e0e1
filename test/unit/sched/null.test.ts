import { describe, expect, it } from 'vitest';
import { Simulator } from '../../../src-engine/hv/sched/sim/simulator';
import { checkInvariants, execIntervals, runTime } from '../../../src-engine/hv/sched/sim/trace-analysis';
import { MS, S } from './helpers';

describe('null scheduler', () => {
  it('never lends a pCPU: a blocked vCPU leaves its pCPU idle even with waiters', () => {
    const sim = new Simulator({ nrCpus: 1, scheduler: 'null' });
    sim.addDomain({ domid: 1, name: 'io', maxVcpus: 1, workload: { kind: 'periodic', runNs: 1 * MS, blockNs: 9 * MS } });
    sim.addDomain({ domid: 2, name: 'hog', maxVcpus: 1, workload: { kind: 'hog' } });
    sim.runUntil(1 * S);
    const ivs = execIntervals(sim.records, sim.now);
    expect(runTime(ivs, 1, 0, 0, 1 * S)).toBe(100 * MS);
    expect(runTime(ivs, 2, 0, 0, 1 * S)).toBe(0);
    expect(sim.core.vcpuSchedState(2, 0)).toEqual({ assigned: false, waiting: true });
  });

  it('gives a pCPU freed by an offline vCPU to the first waiter and slices nobody', () => {
    const sim = new Simulator({ nrCpus: 2, scheduler: 'null' });
    sim.addDomain({ domid: 1, name: 'a', maxVcpus: 2, workload: { kind: 'hog' } });
    sim.addDomain({ domid: 2, name: 'b', maxVcpus: 1, workload: { kind: 'hog' } });
    sim.at(500 * MS, (s) => s.core.setVcpuOnline(1, 1, false));
    sim.runUntil(1 * S);
    const ivs = execIntervals(sim.records, sim.now);
    expect(runTime(ivs, 2, 0, 0, 500 * MS)).toBe(0);
    expect(runTime(ivs, 2, 0, 500 * MS, 1 * S)).toBe(500 * MS);
    expect(sim.records.filter((r) => r.event === 'out' && r.reason === 'slice')).toHaveLength(0);
    expect(checkInvariants(sim.records)).toEqual([]);
  });

  it('re-places a vCPU whose affinity changes, waiting if its new pCPU is taken', () => {
    const sim = new Simulator({ nrCpus: 2, scheduler: 'null' });
    sim.addDomain({ domid: 1, name: 'a', maxVcpus: 2, workload: { kind: 'hog' } });
    const before = sim.core.vcpuInfo(1, 0).pcpu;
    sim.at(100 * MS, (s) => s.core.setAffinity(1, 0, [1 - before]));
    sim.runUntil(200 * MS);
    expect(sim.core.vcpuSchedState(1, 0)).toEqual({ assigned: false, waiting: true });
    sim.at(300 * MS, (s) => s.core.setAffinity(1, 1, [before]));
    sim.runUntil(400 * MS);
    expect(sim.core.vcpuInfo(1, 0)).toMatchObject({ pcpu: 1 - before, state: 'running' });
    expect(sim.core.vcpuInfo(1, 1)).toMatchObject({ pcpu: before, state: 'running' });
    expect(checkInvariants(sim.records)).toEqual([]);
  });
});

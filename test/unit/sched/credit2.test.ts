import { describe, expect, it } from 'vitest';
import { Simulator } from '../../../src-engine/hv/sched/sim/simulator';
import { checkInvariants, execIntervals, pcpuBusy, runTime } from '../../../src-engine/hv/sched/sim/trace-analysis';
import { manualCore, MS, S, thrown } from './helpers';

describe('credit2 credit', () => {
  it('burns credit at max_weight / weight units per ns and runs until credits meet', () => {
    const h = manualCore(1, 'credit2');
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 1, weight: 256 });
    h.core.addDomain({ domid: 2, name: 'b', maxVcpus: 1, weight: 512 });
    // Equal credit: the minimum slice, max(MIN_TIMER 0.5 ms, ratelimit 1 ms).
    expect(h.core.schedule(0)).toMatchObject({ vcpu: { domid: 1, vcpu: 0 }, until: 1 * MS });
    h.host.t = 1 * MS;
    const d = h.core.schedule(0);
    expect(h.core.vcpuSchedState(1, 0).credit).toBe(8 * MS);
    // b runs until its credit falls to a's in-flight 8 ms: 2 ms at 1 unit/ns.
    expect(d).toMatchObject({ vcpu: { domid: 2, vcpu: 0 }, until: 3 * MS });
  });

  it('ends an epoch when the best credit reaches 0: everybody gets CREDIT_INIT, carry-over clipped at 10.5 ms', () => {
    const sim = new Simulator({ nrCpus: 1, scheduler: 'credit2' });
    sim.addDomain({ domid: 1, name: 'hog', maxVcpus: 1, workload: { kind: 'hog' } });
    sim.addDomain({ domid: 2, name: 'sleeper', maxVcpus: 1, workload: { kind: 'script', steps: [{ run: 0.1 * MS }, { block: 10 * S }] } });
    sim.runUntil(25 * MS);
    expect(sim.core.vcpuSchedState(2, 0).credit).toBe(10.5 * MS);
    expect(sim.records.filter((r) => r.event === 'out' && r.domid === 1)).toHaveLength(1);
  });

  it('has no wake-up boost: a waker with less credit than the runner waits for the slice end', () => {
    const h = manualCore(1, 'credit2');
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 1 });
    h.core.addDomain({ domid: 2, name: 'b', maxVcpus: 1, paused: true });
    h.core.schedule(0);
    h.host.t = 1 * MS;
    h.core.schedule(0);
    h.host.t = 5 * MS;
    h.core.block(1, 0);
    h.core.schedule(0);
    h.host.t = 6 * MS;
    h.core.unpauseDomain(2);
    h.core.schedule(0);
    h.host.t = 7 * MS;
    // a woke with 5 ms of credit, b (running) has 9 ms: nobody is tickled.
    h.host.take();
    h.core.wake(1, 0);
    expect(h.host.take()).toEqual([]);
  });
});

describe('credit2 runqueues', () => {
  it('puts a flat pool in one runqueue, or one per pCPU with "cpu", and splits beyond 16 pCPUs', () => {
    const rqIds = (nrCpus: number, runqueue: 'socket' | 'cpu') => {
      const h = manualCore(nrCpus, 'credit2', { boot: { credit2Runqueue: runqueue } });
      h.core.addDomain({ domid: 1, name: 'a', maxVcpus: nrCpus });
      return new Set(h.core.vcpus().map((v) => h.core.vcpuSchedState(1, v.vcpu).runqueue)).size;
    };
    expect(rqIds(4, 'socket')).toBe(1);
    expect(rqIds(4, 'cpu')).toBe(4);
    expect(rqIds(20, 'socket')).toBe(2);
  });

  it('balances load between per-pCPU runqueues and can rearrange them at run time', () => {
    const sim = new Simulator({ nrCpus: 2, scheduler: 'credit2', boot: { credit2Runqueue: 'cpu' } });
    for (let d = 1; d <= 2; d++) sim.addDomain({ domid: d, name: `h${d}`, maxVcpus: 1, hard: [0], workload: { kind: 'hog' } });
    sim.runUntil(1 * S);
    sim.core.setAffinity(1, 0, [0, 1]);
    sim.core.setAffinity(2, 0, [0, 1]);
    sim.runUntil(4 * S);
    let ivs = execIntervals(sim.records, sim.now);
    expect(pcpuBusy(ivs, 1, 3 * S, 4 * S)).toBe(1 * S);
    sim.core.setPoolParams(0, { sched: 'credit2', runqueue: 'all' });
    expect(sim.core.getPoolParams(0)).toEqual({ sched: 'credit2', ratelimitUs: 1000, runqueue: 'all' });
    sim.runUntil(6 * S);
    ivs = execIntervals(sim.records, sim.now);
    expect(runTime(ivs, 1, 0, 5 * S, 6 * S) + runTime(ivs, 2, 0, 5 * S, 6 * S)).toBe(2 * S);
    expect(checkInvariants(sim.records)).toEqual([]);
  });

  it('validates the pool parameters', () => {
    const h = manualCore(1, 'credit2');
    expect(thrown(() => h.core.setPoolParams(0, { sched: 'credit2', ratelimitUs: 99 })).errno).toBe('EINVAL');
    expect(thrown(() => h.core.setPoolParams(0, { sched: 'credit2', runqueue: 'die' as never })).code).toBe('sched.credit2-runqueue');
    h.core.setPoolParams(0, { sched: 'credit2', ratelimitUs: 0 });
    expect(h.core.getPoolParams(0)).toMatchObject({ ratelimitUs: 0 });
  });
});

describe('credit2 caps', () => {
  it('parks a capped vCPU when the domain budget is gone and lifts everything with cap 0', () => {
    const sim = new Simulator({ nrCpus: 2, scheduler: 'credit2' });
    sim.addDomain({ domid: 1, name: 'a', maxVcpus: 2, cap: 40, workload: { kind: 'hog' } });
    sim.runUntil(1 * S);
    let ivs = execIntervals(sim.records, sim.now);
    const capped = runTime(ivs, 1, 0, 0.5 * S, 1 * S) + runTime(ivs, 1, 1, 0.5 * S, 1 * S);
    expect(capped / (0.5 * S)).toBeCloseTo(0.4, 2);
    expect(sim.records.some((r) => r.event === 'out' && r.reason === 'park')).toBe(true);
    sim.core.setDomainParams(1, { sched: 'credit2', cap: 0 });
    sim.runUntil(2 * S);
    ivs = execIntervals(sim.records, sim.now);
    expect(runTime(ivs, 1, 0, 1.5 * S, 2 * S) + runTime(ivs, 1, 1, 1.5 * S, 2 * S)).toBe(1 * S);
    expect(checkInvariants(sim.records)).toEqual([]);
  });

  it('refuses a cap above 100 per vCPU', () => {
    const h = manualCore(2, 'credit2');
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 1 });
    expect(thrown(() => h.core.setDomainParams(1, { sched: 'credit2', cap: 101 })).errno).toBe('EINVAL');
  });
});

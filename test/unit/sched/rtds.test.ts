import { describe, expect, it } from 'vitest';
import { Simulator } from '../../../src-engine/hv/sched/sim/simulator';
import { execIntervals, runTime } from '../../../src-engine/hv/sched/sim/trace-analysis';
import { manualCore, MS, S, thrown } from './helpers';

describe('RTDS servers', () => {
  it('aligns deadlines to multiples of the period and gives the first partial period a full budget', () => {
    const h = manualCore(1, 'rtds');
    h.host.t = 3 * MS;
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 1 });
    expect(h.core.vcpuSchedState(1, 0)).toMatchObject({ curDeadline: 10 * MS, curBudget: 4 * MS, priorityLevel: 0 });
    expect(h.core.schedule(0)).toMatchObject({ vcpu: { domid: 1, vcpu: 0 }, until: 7 * MS });
  });

  it('drops an exhausted extratime vCPU one level and refills it; without extratime it waits depleted', () => {
    const sim = new Simulator({ nrCpus: 1, scheduler: 'rtds' });
    sim.addDomain({ domid: 1, name: 'x', maxVcpus: 1, rtds: { periodUs: 10_000, budgetUs: 2_000, extratime: true }, workload: { kind: 'hog' } });
    sim.runUntil(9 * MS);
    expect(sim.core.vcpuSchedState(1, 0)).toMatchObject({ priorityLevel: 4, curBudget: 2 * MS });
    sim.core.setVcpuParams(1, 0, { periodUs: 10_000, budgetUs: 2_000, extratime: false });
    sim.runUntil(26 * MS);
    expect(sim.core.vcpuSchedState(1, 0)).toMatchObject({ priorityLevel: 0, curBudget: 0, depleted: true, queue: 'depletedq' });
    const ivs = execIntervals(sim.records, sim.now);
    expect(runTime(ivs, 1, 0, 20 * MS, 30 * MS)).toBe(2 * MS);
  });

  it('refills a depleted vCPU at once when extratime is switched on (but, like Xen, tickles nobody)', () => {
    const sim = new Simulator({ nrCpus: 1, scheduler: 'rtds' });
    sim.addDomain({ domid: 1, name: 'x', maxVcpus: 1, rtds: { periodUs: 10_000, budgetUs: 2_000, extratime: false }, workload: { kind: 'hog' } });
    sim.runUntil(5 * MS);
    expect(sim.core.vcpuSchedState(1, 0)).toMatchObject({ depleted: true });
    sim.core.setVcpuParams(1, 0, { periodUs: 10_000, budgetUs: 2_000, extratime: true });
    expect(sim.core.vcpuSchedState(1, 0)).toMatchObject({ priorityLevel: 1, curBudget: 2 * MS, depleted: false, queue: 'runq' });
    sim.runUntil(10 * MS);
    expect(runTime(execIntervals(sim.records, sim.now), 1, 0, 5 * MS, 10 * MS)).toBe(0);
    // Any event that tickles a pCPU (here a pause/unpause) lets it run its refilled budget.
    sim.core.pauseDomain(1);
    sim.core.unpauseDomain(1);
    sim.runUntil(15 * MS);
    expect(runTime(execIntervals(sim.records, sim.now), 1, 0, 10 * MS, 15 * MS)).toBe(5 * MS);
  });

  it('returns the defaults for the domain and writes period and budget into every vCPU', () => {
    const h = manualCore(1, 'rtds');
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 2, vcpus: [{ rtds: { periodUs: 300, budgetUs: 150, extratime: false } }] });
    expect(h.core.getDomainParams(1)).toEqual({ sched: 'rtds', periodUs: 10000, budgetUs: 4000, extratime: true });
    h.core.setDomainParams(1, { sched: 'rtds', periodUs: 20000, budgetUs: 5000 });
    expect(h.core.getVcpuParams(1, 0)).toEqual({ periodUs: 20000, budgetUs: 5000, extratime: false });
    expect(h.core.getVcpuParams(1, 1)).toEqual({ periodUs: 20000, budgetUs: 5000, extratime: true });
  });

  it('validates like libxl, then like Xen (10 us minimum)', () => {
    const h = manualCore(1, 'rtds');
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 1 });
    const set = (periodUs: number, budgetUs: number) => thrown(() => h.core.setVcpuParams(1, 0, { periodUs, budgetUs, extratime: true }));
    expect(set(0, 0).libxl).toBe('Invalid VCPU period of 0 (it should be >= 1)');
    expect(set(100, 0).libxl).toBe('Invalid VCPU budget of 0 (it should be >= 1)');
    expect(set(100, 200).libxl).toBe('VCPU budget must be smaller than or equal to period, but 200 > 100');
    expect(set(5, 5).errno).toBe('EINVAL');
  });

  it('applies a parameter change at the next deadline, not mid-period', () => {
    const sim = new Simulator({ nrCpus: 1, scheduler: 'rtds' });
    sim.addDomain({ domid: 1, name: 'v', maxVcpus: 1, rtds: { periodUs: 10_000, budgetUs: 4_000, extratime: false }, workload: { kind: 'hog' } });
    sim.at(12 * MS, (s) => s.core.setVcpuParams(1, 0, { periodUs: 10_000, budgetUs: 1_000, extratime: false }));
    sim.runUntil(40 * MS);
    const ivs = execIntervals(sim.records, sim.now);
    expect([10, 20, 30].map((k) => runTime(ivs, 1, 0, k * MS, (k + 10) * MS) / MS)).toEqual([4, 1, 1]);
    expect(S).toBe(1e9);
  });
});

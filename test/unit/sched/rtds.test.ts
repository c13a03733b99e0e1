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

  it('pays back budget used past depletion from the next period (a pCPU thread stopped late by its host), at most one period owed', () => {
    const h = manualCore(1, 'rtds');
    h.core.addDomain({ domid: 1, name: 'v', maxVcpus: 1, vcpus: [{ rtds: { periodUs: 10_000, budgetUs: 4_000, extratime: false } }] });
    expect(h.core.schedule(0)).toMatchObject({ vcpu: { domid: 1, vcpu: 0 }, until: 4 * MS });
    // The pCPU stops 3 ms after its slice end: 7 ms used of a 4 ms budget.
    h.host.t = 7 * MS;
    expect(h.core.schedule(0).vcpu).toBeNull();
    expect(h.core.vcpuSchedState(1, 0)).toMatchObject({ curBudget: 0, depleted: true });
    // Next period: 4 ms less the 3 ms owed.
    h.host.t = 10 * MS;
    h.core.runTimers();
    expect(h.core.vcpuSchedState(1, 0)).toMatchObject({ curDeadline: 20 * MS, curBudget: 1 * MS });
    expect(h.core.schedule(0)).toMatchObject({ vcpu: { domid: 1, vcpu: 0 }, until: 11 * MS });
    // On time from then on: full budgets again.
    h.host.t = 11 * MS;
    expect(h.core.schedule(0).vcpu).toBeNull();
    h.host.t = 20 * MS;
    h.core.runTimers();
    expect(h.core.vcpuSchedState(1, 0)).toMatchObject({ curBudget: 4 * MS });
    // A stop 50 ms late, while the replenishments come on time, owes one period (10 ms), paid as
    // 3.99 ms, 3.99 ms and 2.02 ms.
    expect(h.core.schedule(0)).toMatchObject({ until: 24 * MS });
    for (let t = 30; t <= 70; t += 10) {
      h.host.t = t * MS;
      h.core.runTimers();
    }
    h.host.t = 74 * MS;
    expect(h.core.schedule(0).vcpu).toBeNull();
    const paid: number[] = [];
    for (let k = 8; k <= 10; k++) {
      h.host.t = k * 10 * MS;
      h.core.runTimers();
      const b = h.core.vcpuSchedState(1, 0).curBudget as number;
      paid.push(4 * MS - b);
      h.core.schedule(0);
      h.host.t += b;
      expect(h.core.schedule(0).vcpu).toBeNull();
    }
    expect(paid).toEqual([3.99 * MS, 3.99 * MS, 2.02 * MS]);
  });

  it('forgives what is owed when a whole period passes without running, or when extratime is switched on', () => {
    const h = manualCore(1, 'rtds');
    h.core.addDomain({ domid: 1, name: 'v', maxVcpus: 1, vcpus: [{ rtds: { periodUs: 10_000, budgetUs: 4_000, extratime: false } }] });
    h.core.schedule(0);
    h.host.t = 7 * MS;
    h.core.schedule(0);
    h.core.pauseDomain(1);
    h.host.t = 35 * MS;
    h.core.unpauseDomain(1);
    expect(h.core.vcpuSchedState(1, 0)).toMatchObject({ curDeadline: 40 * MS, curBudget: 4 * MS });
  });
});

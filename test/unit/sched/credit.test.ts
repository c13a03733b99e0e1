import { describe, expect, it } from 'vitest';
import { Simulator } from '../../../src-engine/hv/sched/sim/simulator';
import { checkInvariants } from '../../../src-engine/hv/sched/sim/trace-analysis';
import { manualCore, MS, S, thrown, US } from './helpers';

describe('credit1 credit burning (burn_credits)', () => {
  it('charges 10 credits per ms and keeps the remainder, double-counting it like Xen', () => {
    const h = manualCore(1, 'credit');
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 1 });
    h.core.schedule(0);
    h.host.t = 1.05 * MS;
    h.core.block(1, 0);
    h.core.schedule(0);
    expect(h.core.vcpuSchedState(1, 0)).toMatchObject({ credit: -10, residual: 500_000 });
    h.host.t = 2 * MS;
    h.core.wake(1, 0);
    h.core.schedule(0);
    h.host.t = 2.1 * MS;
    h.core.block(1, 0);
    h.core.schedule(0);
    // 1.15 ms of real run time cost 12 credits: start_time and residual both keep the 50 us.
    expect(h.core.vcpuSchedState(1, 0)).toMatchObject({ credit: -12, residual: 0 });
  });
});

describe('credit1 priorities', () => {
  it('does not boost the first wake after creation (it follows a pick_resource), boosts later wakes', () => {
    const h = manualCore(1, 'credit');
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 1 });
    expect(h.core.vcpuSchedState(1, 0).pri).toBe('UNDER');
    h.core.schedule(0);
    h.host.t = 1 * MS;
    h.core.block(1, 0);
    h.core.schedule(0);
    h.core.wake(1, 0);
    expect(h.core.vcpuSchedState(1, 0).pri).toBe('BOOST');
    h.core.schedule(0);
    h.host.t = 10 * MS;
    h.core.runTimers();
    expect(h.core.vcpuSchedState(1, 0)).toMatchObject({ pri: 'UNDER', active: true });
  });

  it('keeps a vCPU that never runs across a tick inactive: it is boosted forever and its credit is never clamped', () => {
    const run = (phaseNs: number) => {
      const sim = new Simulator({ nrCpus: 1, scheduler: 'credit' });
      sim.addDomain({ domid: 1, name: 'H', maxVcpus: 1, workload: { kind: 'hog' } });
      sim.addDomain({ domid: 2, name: 'L', maxVcpus: 1, workload: { kind: 'timer', periodNs: 10 * MS, runNs: 0.5 * MS, phaseNs } });
      sim.runUntil(3 * S);
      return sim.core.vcpuSchedState(2, 0);
    };
    const between = run(2 * MS);
    expect(between.active).toBe(false);
    expect(between.credit as number).toBeLessThan(-1000);
    const across = run(9.8 * MS);
    expect(across.credit as number).toBeGreaterThanOrEqual(-300);
  });
});

describe('credit1 rate limiting', () => {
  it('keeps the current vCPU until it has run ratelimit, with the 100 us minimum-timer quirk', () => {
    const h = manualCore(1, 'credit');
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 1 });
    expect(h.core.schedule(0).until).toBe(30 * MS);
    h.host.t = 50 * US;
    // runtime < CSCHED_MIN_TIMER: Xen uses the minimum timer, not ratelimit - runtime.
    expect(h.core.schedule(0)).toMatchObject({ vcpu: { domid: 1, vcpu: 0 }, until: 150 * US });
    h.host.t = 150 * US;
    expect(h.core.schedule(0).until).toBe(1 * MS);
    h.host.t = 1 * MS;
    expect(h.core.schedule(0).until).toBe(31 * MS);
  });

  it('lets a yield bypass the rate limit', () => {
    const h = manualCore(1, 'credit');
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 1 });
    h.core.addDomain({ domid: 2, name: 'b', maxVcpus: 1 });
    const first = h.core.schedule(0).vcpu?.domid as number;
    h.host.t = 10 * US;
    h.core.yield(first, 0);
    expect(h.core.schedule(0).vcpu?.domid).toBe(3 - first);
  });
});

describe('credit1 caps', () => {
  it('parks a capped vCPU (a scheduler pause) and unparks it without a boost', () => {
    const sim = new Simulator({ nrCpus: 1, scheduler: 'credit' });
    sim.addDomain({ domid: 1, name: 'a', maxVcpus: 1, cap: 30, workload: { kind: 'hog' } });
    sim.runUntil(1 * S);
    const parks = sim.records.filter((r) => r.event === 'unrunnable' && r.reason === 'park');
    const unparks = sim.records.filter((r) => r.event === 'runnable' && r.reason === 'park');
    expect(parks.length).toBeGreaterThan(5);
    expect(unparks.length).toBeGreaterThan(5);
    expect(sim.records.some((r) => r.event === 'out' && r.reason === 'park')).toBe(true);
    expect(checkInvariants(sim.records)).toEqual([]);
  });
});

describe('credit1 pool parameters', () => {
  it('validates like libxl_sched_credit_params_set and keeps unset values', () => {
    const h = manualCore(1, 'credit');
    expect(thrown(() => h.core.setPoolParams(0, { sched: 'credit', tsliceMs: 0 })).libxl).toBe('Time slice out of range, valid range is from 1 to 1000');
    expect(thrown(() => h.core.setPoolParams(0, { sched: 'credit', tsliceMs: 1001 })).errno).toBe('EINVAL');
    expect(thrown(() => h.core.setPoolParams(0, { sched: 'credit', ratelimitUs: 50 })).libxl).toBe('Ratelimit out of range, valid range is from 100 to 500000');
    expect(thrown(() => h.core.setPoolParams(0, { sched: 'credit', tsliceMs: 1, ratelimitUs: 2000 })).libxl).toBe('Ratelimit cannot be greater than timeslice');
    expect(thrown(() => h.core.setPoolParams(0, { sched: 'credit', migrationDelayUs: 100_001 })).libxl).toBe('vcpu migration delay should be >= 0 and <= 100000us');
    h.core.setPoolParams(0, { sched: 'credit', ratelimitUs: 0 });
    h.core.setPoolParams(0, { sched: 'credit', migrationDelayUs: 500 });
    expect(h.core.getPoolParams(0)).toEqual({ sched: 'credit', tsliceMs: 30, ratelimitUs: 0, migrationDelayUs: 500 });
  });

  it('ticks three times per slice, or once when the slice is shorter than 3 ms', () => {
    const h = manualCore(1, 'credit');
    h.core.setPoolParams(0, { sched: 'credit', tsliceMs: 2, ratelimitUs: 100 });
    h.host.t = 10 * MS;
    h.core.runTimers();
    expect(h.core.nextTimer()).toBe(12 * MS);
    h.core.setPoolParams(0, { sched: 'credit', tsliceMs: 9 });
    h.host.t = 12 * MS;
    h.core.runTimers();
    expect(h.core.nextTimer()).toBe(15 * MS);
  });

  it('steals less with a migration delay (cache-hot vCPUs stay where they are)', () => {
    const migrations = (delayUs: number) => {
      const sim = new Simulator({ nrCpus: 2, scheduler: 'credit' });
      sim.core.setPoolParams(0, { sched: 'credit', migrationDelayUs: delayUs });
      for (let d = 1; d <= 3; d++) sim.addDomain({ domid: d, name: `h${d}`, maxVcpus: 1, workload: { kind: 'hog' } });
      sim.runUntil(3 * S);
      return sim.records.filter((r) => r.event === 'in' && r.reason === 'migrate').length;
    };
    expect(migrations(100_000)).toBeLessThan(migrations(0));
  });
});

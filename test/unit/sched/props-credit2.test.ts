/**
 * Credit2 properties P10-P13 and P22 of spec/schedulers.md section 11, in the simulator.
 */
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../../src-engine/hv/sched/sim/simulator';
import {
  checkInvariants,
  domainRunTime,
  execIntervals,
  maxIdleWhileWaiting,
  pcpuBusy,
  runTime,
  wakeLatencies,
} from '../../../src-engine/hv/sched/sim/trace-analysis';
import { MS, S } from './helpers';

const WARMUP = 1 * S;

function hogs(nrCpus: number, doms: { weight?: number; cap?: number; vcpus?: number }[]) {
  const sim = new Simulator({ nrCpus, scheduler: 'credit2' });
  doms.forEach((d, i) => sim.addDomain({ domid: i + 1, name: `d${i + 1}`, maxVcpus: d.vcpus ?? 1, weight: d.weight, cap: d.cap, workload: { kind: 'hog' } }));
  return sim;
}

describe('P10 credit2 weights', () => {
  it('gives B (w=512) twice what A (w=256) gets, within ±3%', () => {
    const sim = hogs(1, [{ weight: 256 }, { weight: 512 }]);
    sim.runUntil(WARMUP + 6 * S);
    const ivs = execIntervals(sim.records, sim.now);
    const ratio = runTime(ivs, 2, 0, WARMUP, sim.now) / runTime(ivs, 1, 0, WARMUP, sim.now);
    expect(Math.abs(ratio - 2)).toBeLessThan(0.06);
    expect(pcpuBusy(ivs, 0, WARMUP, sim.now)).toBe(6 * S);
  });

  it('counts weight per vCPU: 2 vCPUs against 1 get 66.7% ± 2%', () => {
    const sim = hogs(1, [{ vcpus: 2 }, {}]);
    sim.runUntil(WARMUP + 6 * S);
    const share = domainRunTime(execIntervals(sim.records, sim.now), 1, WARMUP, sim.now) / (6 * S);
    expect(Math.abs(share - 2 / 3)).toBeLessThan(0.02);
  });
});

describe('P11 credit2 cap', () => {
  it('holds a cap=50 hog at 50% ± 2% and at most 5.5 ms in every 10 ms replenishment period', () => {
    const sim = hogs(1, [{ cap: 50 }]);
    sim.runUntil(WARMUP + 1 * S);
    const ivs = execIntervals(sim.records, sim.now);
    expect(Math.abs(runTime(ivs, 1, 0, WARMUP, sim.now) / S - 0.5)).toBeLessThan(0.02);
    // The domain's replenishment timer was armed when the cap was set, at t = 0.
    for (let k = 0; k < 200; k++) expect(runTime(ivs, 1, 0, k * 10 * MS, (k + 1) * 10 * MS)).toBeLessThanOrEqual(5.5 * MS);
    expect(checkInvariants(sim.records)).toEqual([]);
  });
});

describe('P12 credit2 SMP fairness and work conservation', () => {
  it('shares 2 pCPUs between 3 equal hogs (66.7% ± 3% each) with idle < 0.5%', () => {
    const sim = hogs(2, [{}, {}, {}]);
    sim.runUntil(WARMUP + 6 * S);
    const ivs = execIntervals(sim.records, sim.now);
    for (const d of [1, 2, 3]) expect(Math.abs(domainRunTime(ivs, d, WARMUP, sim.now) / (6 * S) - 2 / 3)).toBeLessThan(0.03);
    const idle = 2 - (pcpuBusy(ivs, 0, WARMUP, sim.now) + pcpuBusy(ivs, 1, WARMUP, sim.now)) / (6 * S);
    expect(idle).toBeLessThan(0.005);
  });

  it('never leaves an allowed pCPU idle while a vCPU waits (I/O mix)', () => {
    const sim = new Simulator({ nrCpus: 2, scheduler: 'credit2' });
    for (let d = 1; d <= 4; d++) sim.addDomain({ domid: d, name: `io${d}`, maxVcpus: 1, workload: { kind: 'io', meanRunNs: 2 * MS, meanBlockNs: 3 * MS, seed: d } });
    sim.addDomain({ domid: 5, name: 'pinned', maxVcpus: 1, hard: [1], workload: { kind: 'periodic', runNs: 1 * MS, blockNs: 2 * MS } });
    sim.runUntil(3 * S);
    expect(maxIdleWhileWaiting(sim.records, sim.now)).toBe(0);
    expect(checkInvariants(sim.records)).toEqual([]);
  });
});

describe('P13 credit2 wake latency', () => {
  it('runs a light waker within the rate limit for >= 99% of wakes', () => {
    const sim = new Simulator({ nrCpus: 1, scheduler: 'credit2' });
    sim.addDomain({ domid: 1, name: 'H', maxVcpus: 1, workload: { kind: 'hog' } });
    sim.addDomain({ domid: 2, name: 'L', maxVcpus: 1, workload: { kind: 'periodic', runNs: 0.2 * MS, blockNs: 10 * MS } });
    sim.runUntil(WARMUP + 6 * S);
    const lat = wakeLatencies(
      sim.records.filter((r) => r.t >= WARMUP),
      2,
      0,
    );
    expect(lat.length).toBeGreaterThan(500);
    expect(lat.filter((l) => l <= 1 * MS).length / lat.length).toBeGreaterThanOrEqual(0.99);
  });
});

describe('P22 credit2: no starvation', () => {
  it('runs each of 8 equal hogs per pCPU every second, shares within ±3%', () => {
    const sim = hogs(2, Array.from({ length: 16 }, () => ({})));
    sim.runUntil(4 * S);
    const ivs = execIntervals(sim.records, sim.now);
    for (let w = 0; w < 4; w++) for (let d = 1; d <= 16; d++) expect(runTime(ivs, d, 0, w * S, (w + 1) * S)).toBeGreaterThan(0);
    for (let d = 1; d <= 16; d++) expect(Math.abs(runTime(ivs, d, 0, WARMUP, sim.now) / (3 * S) - 0.125)).toBeLessThan(0.125 * 0.03);
  });
});

/**
 * Credit (credit1) properties P5-P9, P12 and P22 of spec/schedulers.md section 11, measured in
 * the deterministic simulator. Besides the spec's tolerances, the exact deterministic values are
 * pinned as golden numbers to ±1% (the spec's calibration note); docs/schedulers.md lists them.
 */
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../../src-engine/hv/sched/sim/simulator';
import {
  checkInvariants,
  domainRunTime,
  execIntervals,
  maxIdleWhileWaiting,
  pcpuBusy,
  percentile,
  runTime,
  wakeLatencies,
} from '../../../src-engine/hv/sched/sim/trace-analysis';
import { MS, S, US } from './helpers';

const WARMUP = 1 * S;

function hogs(nrCpus: number, doms: { weight?: number; cap?: number; vcpus?: number }[], boot = {}) {
  const sim = new Simulator({ nrCpus, scheduler: 'credit', boot });
  doms.forEach((d, i) => sim.addDomain({ domid: i + 1, name: `d${i + 1}`, maxVcpus: d.vcpus ?? 1, weight: d.weight, cap: d.cap, workload: { kind: 'hog' } }));
  return sim;
}

describe('P5 credit weight ratio', () => {
  it('gives B (w=512) twice what A (w=256) gets on one pCPU, and keeps the pCPU busy', () => {
    const sim = hogs(1, [{ weight: 256 }, { weight: 512 }]);
    sim.runUntil(WARMUP + 6 * S);
    const ivs = execIntervals(sim.records, sim.now);
    const a = runTime(ivs, 1, 0, WARMUP, sim.now);
    const b = runTime(ivs, 2, 0, WARMUP, sim.now);
    expect(b / a).toBeGreaterThan(1.8);
    expect(b / a).toBeLessThan(2.2);
    expect((a + b) / (6 * S)).toBeCloseTo(1, 2);
    expect(b / a).toBeCloseTo(1.985, 1); // golden
    expect(checkInvariants(sim.records)).toEqual([]);
  });
});

describe('P6 credit weight is per vCPU', () => {
  it('gives a 2-vCPU domain two thirds against a 1-vCPU domain of equal weight', () => {
    const sim = hogs(1, [{ vcpus: 2 }, {}]);
    sim.runUntil(WARMUP + 6 * S);
    const ivs = execIntervals(sim.records, sim.now);
    const share = domainRunTime(ivs, 1, WARMUP, sim.now) / (6 * S);
    expect(Math.abs(share - 2 / 3)).toBeLessThan(0.05);
    expect(share).toBeCloseTo(0.6667, 2); // golden
  });
});

describe('P7 credit cap', () => {
  it('holds a lone cap=50 hog at 50% and leaves the pCPU idle otherwise', () => {
    const sim = hogs(1, [{ cap: 50 }]);
    sim.runUntil(WARMUP + 6 * S);
    const ivs = execIntervals(sim.records, sim.now);
    const share = runTime(ivs, 1, 0, WARMUP, sim.now) / (6 * S);
    expect(Math.abs(share - 0.5)).toBeLessThan(0.03);
    expect(pcpuBusy(ivs, 0, WARMUP, sim.now) / (6 * S)).toBeCloseTo(share, 6);
    expect(share).toBeCloseTo(0.5, 2); // golden
  });

  it('holds a 4-vCPU cap=150 domain at 150% of one pCPU on a 4-pCPU pool', () => {
    const sim = hogs(4, [{ vcpus: 4, cap: 150 }]);
    sim.runUntil(WARMUP + 6 * S);
    const ivs = execIntervals(sim.records, sim.now);
    const total = domainRunTime(ivs, 1, WARMUP, sim.now) / (6 * S);
    expect(Math.abs(total - 1.5)).toBeLessThan(0.075);
    expect(total).toBeCloseTo(1.4933, 2); // golden
    expect(checkInvariants(sim.records)).toEqual([]);
  });
});

describe('P8 credit BOOST latency', () => {
  function latencies(boot: { ratelimitUs: number; creditNoBoost?: boolean }) {
    const sim = new Simulator({ nrCpus: 1, scheduler: 'credit', boot });
    sim.addDomain({ domid: 1, name: 'H', maxVcpus: 1, workload: { kind: 'hog' } });
    sim.addDomain({ domid: 2, name: 'L', maxVcpus: 1, workload: { kind: 'periodic', runNs: 0.2 * MS, blockNs: 10 * MS } });
    sim.runUntil(WARMUP + 6 * S);
    return wakeLatencies(
      sim.records.filter((r) => r.t >= WARMUP),
      2,
      0,
    );
  }

  it('runs a boosted waker within the rate limit, far below one tick', () => {
    const lat = latencies({ ratelimitUs: 1000 });
    expect(lat.length).toBeGreaterThan(500);
    expect(lat.filter((l) => l <= 1 * MS).length / lat.length).toBeGreaterThanOrEqual(0.99);
  });

  it('runs it at once with the rate limit off', () => {
    const lat = latencies({ ratelimitUs: 0 });
    expect(lat.filter((l) => l === 0).length / lat.length).toBeGreaterThanOrEqual(0.99);
  });

  it('without boosting (test hook) makes it wait for the running slice: tens of ms', () => {
    const lat = latencies({ ratelimitUs: 1000, creditNoBoost: true });
    expect(percentile(lat, 99)).toBeGreaterThan(10 * MS);
    expect(Math.max(...lat)).toBeLessThanOrEqual(30 * MS);
    expect(Math.max(...lat)).toBe(20 * MS); // golden: the hog's slice began 10 ms before the wake
  });
});

describe('P9 credit time slice and rate limit', () => {
  for (const tsliceMs of [30, 10]) {
    it(`switches two equal hogs only at multiples of the ${tsliceMs} ms slice`, () => {
      const sim = hogs(1, [{}, {}]);
      sim.core.setPoolParams(0, { sched: 'credit', tsliceMs });
      sim.runUntil(3 * S);
      const outs = sim.records.filter((r) => r.event === 'out');
      expect(outs.length).toBeGreaterThan(10);
      for (const o of outs) expect(o.t % (tsliceMs * MS)).toBe(0);
      const runs = execIntervals(sim.records, sim.now).filter((i) => i.end < sim.now);
      for (const iv of runs) expect((iv.end - iv.start) % (tsliceMs * MS)).toBe(0);
    });
  }

  it('never preempts a vCPU involuntarily before it has run the rate limit', () => {
    const R = 2 * MS;
    const sim = new Simulator({ nrCpus: 1, scheduler: 'credit', boot: { ratelimitUs: R / US } });
    sim.addDomain({ domid: 1, name: 'H', maxVcpus: 1, workload: { kind: 'hog' } });
    sim.addDomain({ domid: 2, name: 'L', maxVcpus: 1, workload: { kind: 'periodic', runNs: 0.3 * MS, blockNs: 1.1 * MS } });
    sim.runUntil(3 * S);
    const ins = new Map<number, number>();
    let preempts = 0;
    for (const r of sim.records) {
      if (r.event === 'in') ins.set(r.pcpu, r.t);
      if (r.event === 'out' && (r.reason === 'preempt' || r.reason === 'slice')) {
        preempts++;
        expect(r.t - (ins.get(r.pcpu) as number)).toBeGreaterThanOrEqual(R);
      }
    }
    expect(preempts).toBeGreaterThan(100);
  });
});

describe('P12 credit SMP fairness and work conservation', () => {
  it('shares 2 pCPUs between 3 equal hogs (66.7% ± 7% each, idle < 2%)', () => {
    const sim = hogs(2, [{}, {}, {}]);
    sim.runUntil(WARMUP + 6 * S);
    const ivs = execIntervals(sim.records, sim.now);
    const shares = [1, 2, 3].map((d) => domainRunTime(ivs, d, WARMUP, sim.now) / (6 * S));
    for (const s of shares) expect(Math.abs(s - 2 / 3)).toBeLessThan(0.07);
    const idle = 2 - (pcpuBusy(ivs, 0, WARMUP, sim.now) + pcpuBusy(ivs, 1, WARMUP, sim.now)) / (6 * S);
    expect(idle).toBeLessThan(0.02);
    expect(shares.map((s) => Math.round(s * 1000))).toEqual([662, 668, 670]); // golden (per mille)
    expect(maxIdleWhileWaiting(sim.records, sim.now)).toBeLessThanOrEqual(1 * MS);
  });

  it('lets a waiting vCPU sit next to an idle pCPU for at most one tick (I/O mix)', () => {
    // Spec P12 asks for <= 1 ms. Xen's code does worse: a tickled idle pCPU that balanced less
    // than load-balance-ratelimit ago does not steal and goes back to sleep without a timer; the
    // waiter moves only when its pCPU reschedules or its next tick (10 ms) pushes the running
    // vCPU to the idle pCPU. We reproduce the code; docs/schedulers.md records the difference.
    const sim = new Simulator({ nrCpus: 2, scheduler: 'credit' });
    for (let d = 1; d <= 4; d++) sim.addDomain({ domid: d, name: `io${d}`, maxVcpus: 1, workload: { kind: 'io', meanRunNs: 2 * MS, meanBlockNs: 3 * MS, seed: d } });
    sim.runUntil(6 * S);
    const worst = maxIdleWhileWaiting(sim.records, sim.now);
    expect(worst).toBeGreaterThan(1 * MS);
    expect(worst).toBeLessThanOrEqual(10 * MS);
    expect(checkInvariants(sim.records)).toEqual([]);
  });
});

describe('P22 credit: no starvation', () => {
  it('runs each of 8 equal hogs per pCPU at least once per second, shares within ±10%', () => {
    const sim = hogs(2, Array.from({ length: 16 }, () => ({})));
    sim.runUntil(6 * S);
    const ivs = execIntervals(sim.records, sim.now);
    for (let w = 0; w < 6; w++) for (let d = 1; d <= 16; d++) expect(runTime(ivs, d, 0, w * S, (w + 1) * S)).toBeGreaterThan(0);
    for (let d = 1; d <= 16; d++) {
      const share = runTime(ivs, d, 0, WARMUP, sim.now) / (5 * S);
      expect(Math.abs(share - 0.125) / 0.125).toBeLessThan(0.1);
    }
  });
});

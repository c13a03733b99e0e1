/**
 * RTDS properties P14-P17 of spec/schedulers.md section 11, in the simulator (extratime off
 * unless stated). All budgets are checked per full period [kP, (k+1)P) to ±1 us.
 */
import { describe, expect, it } from 'vitest';
import type { RtdsVcpuParams } from '../../../src-engine/hv/sched/sched-ops';
import { Simulator } from '../../../src-engine/hv/sched/sim/simulator';
import { checkInvariants, execIntervals, pcpuBusy, runTime, type ExecInterval } from '../../../src-engine/hv/sched/sim/trace-analysis';
import { MS, S, US } from './helpers';

function rt(periodMs: number, budgetMs: number, extratime = false): RtdsVcpuParams {
  return { periodUs: periodMs * 1000, budgetUs: budgetMs * 1000, extratime };
}

function rtdsHogs(nrCpus: number, params: RtdsVcpuParams[]) {
  const sim = new Simulator({ nrCpus, scheduler: 'rtds' });
  params.forEach((p, i) => sim.addDomain({ domid: i + 1, name: `v${i + 1}`, maxVcpus: 1, rtds: p, workload: { kind: 'hog' } }));
  return sim;
}

/** Run time of each full period k >= 1 of vCPU `domid`.0 up to `end`. */
function perPeriod(ivs: ExecInterval[], domid: number, periodNs: number, end: number): number[] {
  const out: number[] = [];
  for (let k = 1; (k + 1) * periodNs <= end; k++) out.push(runTime(ivs, domid, 0, k * periodNs, (k + 1) * periodNs));
  return out;
}

describe('P14 RTDS budget guarantee on one pCPU', () => {
  it('gives every vCPU exactly its budget in every full period (EDF, U = 0.9), pCPU idle 10%', () => {
    const ps = [rt(10, 3), rt(20, 8), rt(50, 10)];
    const sim = rtdsHogs(1, ps);
    sim.runUntil(2 * S);
    const ivs = execIntervals(sim.records, sim.now);
    ps.forEach((p, i) => {
      for (const got of perPeriod(ivs, i + 1, p.periodUs * US, sim.now)) expect(Math.abs(got - p.budgetUs * US)).toBeLessThanOrEqual(1 * US);
    });
    const idle = 1 - pcpuBusy(ivs, 0, 1 * S, 2 * S) / S;
    expect(Math.abs(idle - 0.1)).toBeLessThanOrEqual(0.001);
    expect(checkInvariants(sim.records)).toEqual([]);
  });
});

describe('P15 RTDS on several pCPUs', () => {
  it('meets 4 x (10 ms, 3.5 ms) on 2 pCPUs (U = 1.4 <= 1.65, the GFB bound)', () => {
    const sim = rtdsHogs(2, [rt(10, 3.5), rt(10, 3.5), rt(10, 3.5), rt(10, 3.5)]);
    sim.runUntil(1 * S);
    const ivs = execIntervals(sim.records, sim.now);
    for (let d = 1; d <= 4; d++) for (const got of perPeriod(ivs, d, 10 * MS, sim.now)) expect(Math.abs(got - 3.5 * MS)).toBeLessThanOrEqual(1 * US);
    expect(checkInvariants(sim.records)).toEqual([]);
  });

  it('documents the Dhall effect: V3 = (11 ms, 10 ms) gets only 9 ms by its first deadline (expected miss)', () => {
    const sim = rtdsHogs(2, [rt(10, 2), rt(10, 2), rt(11, 10)]);
    sim.runUntil(11 * MS);
    expect(runTime(execIntervals(sim.records, sim.now), 3, 0, 0, 11 * MS)).toBe(9 * MS);
  });
});

describe('P16 RTDS extratime', () => {
  it('never lets extratime delay a level-0 vCPU, and hands A the slack', () => {
    for (const extra of [true, false]) {
      const sim = rtdsHogs(1, [rt(10, 6), rt(10, 2, extra)]);
      sim.runUntil(1 * S);
      const ivs = execIntervals(sim.records, sim.now);
      for (const got of perPeriod(ivs, 1, 10 * MS, sim.now)) expect(got).toBe(6 * MS);
      for (const got of perPeriod(ivs, 2, 10 * MS, sim.now)) expect(got).toBe((extra ? 4 : 2) * MS);
      const idle = 1 - pcpuBusy(ivs, 0, 10 * MS, 990 * MS) / (980 * MS);
      expect(idle).toBeCloseTo(extra ? 0 : 0.2, 6);
    }
  });
});

describe('P17 RTDS deferrable server', () => {
  it('keeps the budget while blocked and never carries it over', () => {
    const sim = new Simulator({ nrCpus: 1, scheduler: 'rtds' });
    sim.addDomain({
      domid: 1,
      name: 'v',
      maxVcpus: 1,
      rtds: rt(10, 4),
      workload: { kind: 'script', steps: [{ blockUntil: 20 * MS }, { run: 1 * MS }, { block: 5 * MS }, { hog: true }] },
    });
    sim.runUntil(60 * MS);
    const ivs = execIntervals(sim.records, sim.now);
    expect(runTime(ivs, 1, 0, 21 * MS, 30 * MS)).toBe(3 * MS);
    expect(runTime(ivs, 1, 0, 26 * MS, 26 * MS + 3 * MS)).toBe(3 * MS);
    expect(runTime(ivs, 1, 0, 30 * MS, 40 * MS)).toBe(4 * MS);
    expect(runTime(ivs, 1, 0, 40 * MS, 50 * MS)).toBe(4 * MS);
  });
});

/**
 * ARINC 653, null and affinity properties P18-P21 of spec/schedulers.md section 11
 * (P19, schedule validation, is in arinc653.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { SchedName } from '../../../src-engine/hv/sched/sched-ops';
import type { SchedTraceRecord } from '../../../src-engine/hv/sched/sched-trace';
import { Simulator } from '../../../src-engine/hv/sched/sim/simulator';
import { checkInvariants, execIntervals, runTime, runnableTime } from '../../../src-engine/hv/sched/sim/trace-analysis';
import { MS, S } from './helpers';

describe('P18 ARINC 653 windows', () => {
  const T = 7.25 * MS;
  const FRAME = {
    sched: 'arinc653' as const,
    majorFrame: 100 * MS,
    entries: [
      { uuid: 'A', vcpu: 0, runtime: 20 * MS },
      { uuid: 'B', vcpu: 0, runtime: 30 * MS },
      { uuid: 'A', vcpu: 0, runtime: 10 * MS },
    ],
  };

  it('plays the frame exactly from the install instant; C, not in the schedule, never runs', () => {
    const sim = new Simulator({ nrCpus: 1, scheduler: 'arinc653' });
    for (const [i, n] of ['A', 'B', 'C'].entries()) sim.addDomain({ domid: i + 1, name: n, uuid: n, maxVcpus: 1, workload: { kind: 'hog' } });
    sim.at(T, (s) => s.core.setPoolParams(0, FRAME));
    sim.runUntil(T + 1 * S);
    const got = execIntervals(sim.records, sim.now).map((i) => [i.domid, i.start - T, i.end - T]);
    const want: number[][] = [];
    for (let k = 0; k < 10; k++) {
      const f = 100 * MS * k;
      want.push([1, f, f + 20 * MS], [2, f + 20 * MS, f + 50 * MS], [1, f + 50 * MS, f + 60 * MS]);
    }
    expect(got).toEqual(want);
    expect(checkInvariants(sim.records)).toEqual([]);
  });

  it('idles the rest of a window whose partition blocks (not work-conserving)', () => {
    const sim = new Simulator({ nrCpus: 1, scheduler: 'arinc653' });
    sim.addDomain({ domid: 1, name: 'A', uuid: 'A', maxVcpus: 1, workload: { kind: 'hog' } });
    sim.addDomain({ domid: 2, name: 'B', uuid: 'B', maxVcpus: 1, workload: { kind: 'script', steps: [{ run: 5 * MS }, { blockUntil: T + 70 * MS }, { hog: true }] } });
    sim.at(T, (s) => s.core.setPoolParams(0, FRAME));
    sim.runUntil(T + 100 * MS);
    expect(execIntervals(sim.records, sim.now).map((i) => [i.domid, i.start - T, i.end - T])).toEqual([
      [1, 0, 20 * MS],
      [2, 20 * MS, 25 * MS],
      [1, 50 * MS, 60 * MS],
    ]);
  });
});

describe('P20 null static assignment', () => {
  it('keeps each vCPU on its pCPU with no guest-to-guest switch; waiters run only when a pCPU frees', () => {
    const sim = new Simulator({ nrCpus: 4, scheduler: 'null' });
    for (let d = 1; d <= 3; d++) sim.addDomain({ domid: d, name: `v${d}`, maxVcpus: 1, workload: { kind: 'periodic', runNs: 3 * MS, blockNs: 2 * MS } });
    sim.runUntil(1 * S);
    let ivs = execIntervals(sim.records, sim.now);
    for (let d = 1; d <= 3; d++) expect(new Set(ivs.filter((i) => i.domid === d).map((i) => i.pcpu)).size).toBe(1);
    for (let c = 0; c < 4; c++) expect(new Set(ivs.filter((i) => i.pcpu === c).map((i) => i.domid)).size).toBeLessThanOrEqual(1);
    sim.addDomain({ domid: 4, name: 'v4', maxVcpus: 1, workload: { kind: 'hog' } });
    sim.addDomain({ domid: 5, name: 'fifo-first', maxVcpus: 1, workload: { kind: 'hog' } });
    const victimCpu = sim.core.vcpuInfo(2, 0).pcpu;
    sim.addDomain({ domid: 6, name: 'soft-affine', maxVcpus: 1, soft: [victimCpu], workload: { kind: 'hog' } });
    sim.runUntil(2 * S);
    ivs = execIntervals(sim.records, sim.now);
    expect(runTime(ivs, 5, 0, 0, sim.now)).toBe(0);
    expect(runTime(ivs, 6, 0, 0, sim.now)).toBe(0);
    sim.removeDomain(2);
    sim.runUntil(3 * S);
    expect(sim.core.vcpuInfo(6, 0)).toMatchObject({ pcpu: victimCpu, state: 'running' });
    expect(runTime(execIntervals(sim.records, sim.now), 5, 0, 0, sim.now)).toBe(0);
    const freed = sim.core.vcpuInfo(1, 0).pcpu;
    sim.removeDomain(1);
    sim.runUntil(4 * S);
    expect(sim.core.vcpuInfo(5, 0)).toMatchObject({ pcpu: freed, state: 'running' });
    ivs = execIntervals(sim.records, sim.now);
    for (const d of [3, 4, 5, 6]) expect(new Set(ivs.filter((i) => i.domid === d).map((i) => i.pcpu)).size).toBe(1);
    expect(checkInvariants(sim.records)).toEqual([]);
  });
});

describe('P21 soft affinity', () => {
  for (const sched of ['credit', 'credit2', 'null'] as SchedName[]) {
    it(`${sched}: prefers the soft pCPU, yet runs elsewhere rather than wait`, () => {
      const sim = new Simulator({ nrCpus: 2, scheduler: sched });
      sim.addDomain({ domid: 1, name: 'V', maxVcpus: 1, soft: [1], workload: { kind: 'periodic', runNs: 1 * MS, blockNs: 9 * MS } });
      sim.runUntil(3 * S);
      let ivs = execIntervals(sim.records, sim.now);
      const total = runTime(ivs, 1, 0, 0, sim.now);
      const onSoft = ivs.filter((i) => i.domid === 1 && i.pcpu === 1).reduce((t, i) => t + i.end - i.start, 0);
      expect(onSoft / total).toBeGreaterThanOrEqual(0.99);
      sim.addDomain({ domid: 2, name: 'pinned-hog', maxVcpus: 1, hard: [1], workload: { kind: 'hog' } });
      sim.runUntil(6 * S);
      ivs = execIntervals(sim.records, sim.now);
      const run = runTime(ivs, 1, 0, 3 * S, sim.now);
      const wait = runnableTime(sim.records, 1, 0, 3 * S, sim.now) - run;
      expect(run).toBeGreaterThan(290 * MS);
      expect(wait / run).toBeLessThan(0.05);
      const onZero = ivs.filter((i) => i.domid === 1 && i.pcpu === 0 && i.start >= 3 * S).length;
      // Null never lends pCPU 1: the pinned hog waits instead of V.
      if (sched === 'null') expect(runTime(ivs, 2, 0, 0, sim.now)).toBe(0);
      else expect(onZero).toBeGreaterThan(250);
      expect(checkInvariants(sim.records)).toEqual([]);
    });
  }

  for (const sched of ['rtds', 'arinc653'] as SchedName[]) {
    it(`${sched}: soft affinity changes nothing`, () => {
      const trace = (soft: number[] | undefined): SchedTraceRecord[] => {
        const sim = new Simulator({ nrCpus: 2, scheduler: sched });
        sim.addDomain({ domid: 1, name: 'V', uuid: 'V', maxVcpus: 2, soft, workload: { kind: 'periodic', runNs: 1 * MS, blockNs: 3 * MS } });
        sim.addDomain({ domid: 2, name: 'W', uuid: 'W', maxVcpus: 1, workload: { kind: 'hog' } });
        if (sched === 'arinc653') {
          sim.core.setPoolParams(0, {
            sched: 'arinc653',
            majorFrame: 30 * MS,
            entries: [
              { uuid: 'V', vcpu: 0, runtime: 10 * MS },
              { uuid: 'W', vcpu: 0, runtime: 10 * MS },
            ],
          });
        }
        sim.runUntil(1 * S);
        return sim.records.filter((r) => r.event !== 'affinity');
      };
      const withSoft = trace([1]);
      expect(withSoft.filter((r) => r.event === 'in').length).toBeGreaterThan(50);
      expect(withSoft).toEqual(trace(undefined));
    });
  }
});

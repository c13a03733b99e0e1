import { describe, expect, it } from 'vitest';
import { whatIf } from '../../../src-engine/hv/sched/sim/what-if';
import { MS, S } from './helpers';

describe('what-if previews', () => {
  it('answers per-vCPU shares, pCPU load and a timeline for a credit2 pool', () => {
    const r = whatIf({
      sched: 'credit2',
      nrCpus: 2,
      durationNs: 3 * S,
      domains: [
        { name: 'web', weight: 512, vcpus: [{ workload: { kind: 'hog' } }] },
        { name: 'batch', weight: 256, vcpus: [{ workload: { kind: 'hog' } }, { workload: { kind: 'hog' } }] },
        { name: 'io', vcpus: [{ workload: { kind: 'periodic', runNs: 0.5 * MS, blockNs: 4.5 * MS }, soft: [1] }] },
      ],
    });
    expect(r.window).toEqual({ from: 1 * S, to: 3 * S });
    expect(r.violations).toEqual([]);
    expect(r.vcpus.map((v) => `${v.domain}.${v.vcpu}`)).toEqual(['web.0', 'batch.0', 'batch.1', 'io.0']);
    const total = r.vcpus.reduce((t, v) => t + v.share, 0);
    expect(total).toBeCloseTo(2, 2);
    expect(r.pcpus.every((p) => p.busyShare > 0.99)).toBe(true);
    const io = r.vcpus[3];
    expect(io.share).toBeCloseTo(0.1, 2);
    expect(io.wakeLatency.count).toBeGreaterThan(300);
    expect(io.wakeLatency.max).toBeLessThanOrEqual(1 * MS);
    expect(r.domains.find((d) => d.name === 'web')?.share).toBeGreaterThan(r.vcpus[1].share);
    expect(r.timeline.length).toBeGreaterThan(100);
    expect(r.timeline.every((iv) => iv.start >= 1 * S && iv.end <= 2 * S)).toBe(true);
  });

  it('previews an ARINC 653 frame and RTDS reservations by domain name', () => {
    const a = whatIf({
      sched: 'arinc653',
      nrCpus: 1,
      durationNs: 2 * S,
      domains: [
        { name: 'P1', vcpus: [{ workload: { kind: 'hog' } }] },
        { name: 'P2', vcpus: [{ workload: { kind: 'hog' } }] },
      ],
      arinc653: { majorFrameNs: 50 * MS, entries: [{ domain: 'P1', vcpu: 0, runtimeNs: 10 * MS }, { domain: 'P2', vcpu: 0, runtimeNs: 30 * MS }] },
    });
    expect(a.vcpus.map((v) => v.share)).toEqual([0.2, 0.6]);
    const r = whatIf({
      sched: 'rtds',
      nrCpus: 1,
      durationNs: 2 * S,
      domains: [
        { name: 'rt', vcpus: [{ workload: { kind: 'hog' }, rtds: { periodUs: 10000, budgetUs: 2500, extratime: false } }] },
        { name: 'be', vcpus: [{ workload: { kind: 'hog' }, rtds: { periodUs: 100000, budgetUs: 10000, extratime: true } }] },
      ],
    });
    expect(r.vcpus[0].share).toBeCloseTo(0.25, 6);
    expect(r.vcpus[1].share).toBeCloseTo(0.75, 6);
    expect(r.vcpus[1].waitNs).toBeGreaterThan(0);
  });
});

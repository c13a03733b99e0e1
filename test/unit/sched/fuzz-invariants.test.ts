/**
 * Invariants P1-P4 under randomised sequences of create / destroy / pin / pool changes /
 * cpupool-migrate / parameter changes / pause / vCPU up-down, for every scheduler as Pool-0's
 * scheduler (other pools get random schedulers). Deterministic: seeded.
 */
import { describe, expect, it } from 'vitest';
import { SchedError } from '../../../src-engine/hv/sched/sched-error';
import { SCHED_NAMES, type SchedName } from '../../../src-engine/hv/sched/sched-ops';
import { Simulator } from '../../../src-engine/hv/sched/sim/simulator';
import { checkInvariants } from '../../../src-engine/hv/sched/sim/trace-analysis';
import { seededRandom, type WorkloadSpec } from '../../../src-engine/hv/sched/sim/workloads';
import { MS, S } from './helpers';

const NR_CPUS = 4;

interface FuzzStats {
  applied: number;
  refused: number;
  migrations: number;
}

/** Thrown when a random choice has nothing to choose from; the operation is skipped. */
class Skip extends Error {}

function fuzz(sched: SchedName, seed: number, steps: number): { sim: Simulator; stats: FuzzStats } {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => {
    if (xs.length === 0) throw new Skip();
    return xs[Math.floor(rnd() * xs.length)];
  };
  const subset = (n: number): number[] => {
    const s = Array.from({ length: n }, (_, i) => i).filter(() => rnd() < 0.5);
    return s.length > 0 ? s : [Math.floor(rnd() * n)];
  };
  const workload = (): WorkloadSpec =>
    pick<WorkloadSpec>([
      { kind: 'hog' },
      { kind: 'periodic', runNs: (0.2 + rnd() * 3) * MS, blockNs: (0.5 + rnd() * 8) * MS },
      { kind: 'io', meanRunNs: 1 * MS, meanBlockNs: 2 * MS, seed: Math.floor(rnd() * 1000) },
      { kind: 'yielder', runNs: (0.1 + rnd()) * MS },
      { kind: 'timer', periodNs: 5 * MS, runNs: 1 * MS },
    ]);
  const sim = new Simulator({ nrCpus: NR_CPUS, scheduler: sched });
  sim.core.poolRemoveCpu(0, 3);
  sim.core.createPool('side', pick(SCHED_NAMES), [3]);
  sim.addDomain({ domid: 0, name: 'Domain-0', uuid: 'dom0', maxVcpus: 2, workload: { kind: 'periodic', runNs: 0.5 * MS, blockNs: 5 * MS } });
  const stats: FuzzStats = { applied: 0, refused: 0, migrations: 0 };
  let nextDomid = 1;
  const doms = (): number[] => sim.core.domainIds();
  const pools = (): number[] => sim.core.xlCpupoolList().map((p) => p.id);
  const poolSched = (p: number): SchedName => sim.core.xlCpupoolList().find((x) => x.id === p)?.sched ?? 'credit2';

  const ops: (() => void)[] = [
    () => {
      const pool = pick(pools());
      const n = 1 + Math.floor(rnd() * 3);
      const s = poolSched(pool);
      const domid = nextDomid++;
      sim.addDomain({
        domid,
        name: `vm${domid}`,
        uuid: `u${domid}`,
        pool,
        maxVcpus: n,
        onlineVcpus: 1 + Math.floor(rnd() * n),
        hard: rnd() < 0.3 ? subset(NR_CPUS) : undefined,
        soft: rnd() < 0.3 ? subset(NR_CPUS) : undefined,
        weight: s === 'credit' || s === 'credit2' ? pick([128, 256, 512]) : undefined,
        cap: (s === 'credit' || s === 'credit2') && rnd() < 0.3 ? pick([30, 50, 100]) : undefined,
        rtds: s === 'rtds' ? { periodUs: pick([5000, 10000]), budgetUs: pick([1000, 2000, 4000]), extratime: rnd() < 0.5 } : undefined,
        workload: Array.from({ length: n }, workload),
      });
    },
    () => sim.removeDomain(pick(doms().filter((d) => d !== 0))),
    () => {
      const d = pick(doms());
      const v = Math.floor(rnd() * sim.core.vcpus().filter((x) => x.domid === d).length);
      sim.core.setAffinity(d, v, rnd() < 0.8 ? subset(NR_CPUS) : null, rnd() < 0.5 ? subset(NR_CPUS) : null);
    },
    () => sim.core.createPool(`p${Math.floor(rnd() * 1e6)}`, pick(SCHED_NAMES)),
    () => sim.core.destroyPool(pick(pools().filter((p) => p !== 0))),
    () => {
      const p = pick(pools().filter((x) => rnd() < 0.2 || sim.core.poolCpus(x).length > 1));
      sim.core.poolRemoveCpu(p, pick(sim.core.poolCpus(p)));
    },
    () => sim.core.poolAddCpu(pick(pools()), pick(sim.core.freeCpus())),
    () => {
      const d = rnd() < 0.2 ? 0 : pick(doms().filter((x) => x !== 0));
      const target = pick(pools().filter((p) => p !== sim.core.domainPool(d) && (rnd() < 0.1 || sim.core.poolCpus(p).length > 0)));
      sim.core.migrateDomain(d, target);
      stats.migrations++;
      for (const v of sim.core.vcpus().filter((x) => x.domid === d)) {
        expect(sim.core.xlVcpuList().find((r) => r.domid === d && r.vcpu === v.vcpu)).toMatchObject({ hard: 'all', soft: 'all' });
      }
    },
    () => {
      const p = pick(pools());
      const s = poolSched(p);
      if (s === 'credit') sim.core.setPoolParams(p, { sched: s, tsliceMs: pick([1, 5, 30]), ratelimitUs: pick([0, 100, 1000]) });
      else if (s === 'credit2') sim.core.setPoolParams(p, { sched: s, ratelimitUs: pick([0, 500, 1000]), runqueue: pick(['cpu', 'socket'] as const) });
      else if (s === 'arinc653') {
        const entries = doms().map((d) => ({ uuid: d === 0 ? 'dom0' : `u${d}`, vcpu: 0, runtime: pick([2, 5]) * MS }));
        sim.core.setPoolParams(p, { sched: s, majorFrame: 40 * MS, entries });
      }
    },
    () => {
      const d = pick(doms());
      const s = poolSched(sim.core.domainPool(d));
      if (s === 'credit' || s === 'credit2') sim.core.setDomainParams(d, { sched: s, weight: pick([64, 256, 1024]), cap: pick([0, 0, 40]) });
      else if (s === 'rtds') sim.core.setVcpuParams(d, 0, { periodUs: pick([2000, 10000]), budgetUs: pick([500, 1500]), extratime: rnd() < 0.5 });
    },
    () => {
      const d = pick(doms());
      if (rnd() < 0.5) sim.core.pauseDomain(d);
      else sim.core.unpauseDomain(d);
    },
    () => {
      const d = pick(doms());
      const n = sim.core.vcpus().filter((x) => x.domid === d).length;
      sim.core.setVcpuOnline(d, Math.floor(rnd() * n), rnd() < 0.6);
    },
  ];
  const weights = [4, 2, 4, 1, 1, 1, 1, 4, 2, 2, 2, 2];
  const total = weights.reduce((a, b) => a + b, 0);
  let t = 0;
  for (let i = 0; i < steps; i++) {
    t += Math.floor(rnd() * 20 * MS);
    let r = rnd() * total;
    let k = 0;
    while (r >= weights[k]) r -= weights[k++];
    const op = ops[k];
    sim.at(t, () => {
      try {
        op();
        stats.applied++;
      } catch (e) {
        if (e instanceof Skip) return;
        if (!(e instanceof SchedError)) throw e;
        stats.refused++;
      }
    });
  }
  sim.runUntil(t + 0.5 * S);
  return { sim, stats };
}

describe('P1-P4 invariants under random administrative churn', () => {
  for (const sched of SCHED_NAMES) {
    for (const seed of [1, 2]) {
      it(`${sched}, seed ${seed}: exclusivity, hard affinity, pool isolation, only runnable vCPUs run`, () => {
        const { sim, stats } = fuzz(sched, seed * 7919 + sched.length, 250);
        expect(checkInvariants(sim.records)).toEqual([]);
        expect(stats.applied).toBeGreaterThan(60);
        expect(stats.refused).toBeGreaterThan(0);
        expect(stats.migrations).toBeGreaterThan(0);
        expect(sim.records.filter((r) => r.event === 'in').length).toBeGreaterThan(50);
      });
    }
  }
});

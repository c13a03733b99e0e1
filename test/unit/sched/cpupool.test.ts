import { describe, expect, it } from 'vitest';
import { XEN_ERRNO } from '../../../src-engine/hv/sched/sched-error';
import { checkInvariants } from '../../../src-engine/hv/sched/sim/trace-analysis';
import { Simulator } from '../../../src-engine/hv/sched/sim/simulator';
import { manualCore, MS, S, thrown } from './helpers';

/** A 4-pCPU host with pCPUs 2-3 moved into a credit pool "p1". */
function twoPools() {
  const h = manualCore(4, 'credit2');
  h.core.poolRemoveCpu(0, 2);
  h.core.poolRemoveCpu(0, 3);
  const id = h.core.createPool('p1', 'credit', [2, 3]);
  return { ...h, id };
}

describe('cpupool create / destroy / rename', () => {
  it('numbers new pools after the highest id and lists their pCPUs', () => {
    const h = twoPools();
    expect(h.id).toBe(1);
    expect(h.core.createPool('empty', 'null')).toBe(2);
    expect(h.core.xlCpupoolList().map((p) => [p.id, p.name, p.nrCpus, p.sched])).toEqual([
      [0, 'Pool-0', 2, 'credit2'],
      [1, 'p1', 2, 'credit'],
      [2, 'empty', 0, 'null'],
    ]);
    h.core.destroyPool('p1');
    expect(h.core.freeCpus()).toEqual([2, 3]);
    expect(h.core.createPool('again')).toBe(3);
    expect(h.core.xlCpupoolList().at(-1)?.sched).toBe('credit2');
  });

  it('refuses what xl cpupool-create refuses, with its messages', () => {
    const h = twoPools();
    expect(thrown(() => h.core.createPool('', 'credit')).xl).toBe('Missing cpupool name!');
    expect(thrown(() => h.core.createPool('p1', 'credit')).xl).toBe('Pool name "p1" already exists');
    expect(thrown(() => h.core.createPool('x', 'sedf')).xl).toBe('Unknown scheduler');
    const busy = thrown(() => h.core.createPool('x', 'credit', [1]));
    expect([busy.errno, busy.xl]).toEqual(['ENODEV', 'cpu 1 illegal or not free']);
    expect(thrown(() => h.core.createPool('x', 'credit', [9])).xl).toBe('cpu 9 illegal or not free');
  });

  it('allows at most 2 x nr_cpus pools (ENOSPC)', () => {
    const h = manualCore(2);
    h.core.createPool('a');
    h.core.createPool('b');
    h.core.createPool('c');
    const e = thrown(() => h.core.createPool('d'));
    expect([e.errno, e.libxl, e.xl]).toEqual(['ENOSPC', 'Could not create cpupool: No space left on device', 'error on creating cpupool']);
  });

  it('refuses to destroy a pool with domains, and Pool-0 because pCPU 0 cannot leave', () => {
    const h = twoPools();
    h.core.addDomain({ domid: 1, name: 'vm1', maxVcpus: 1, pool: 'p1' });
    const e = thrown(() => h.core.destroyPool('p1'));
    expect([e.errno, e.xl]).toEqual(['EBUSY', "Can't destroy cpupool 'p1'"]);
    const h2 = manualCore(2);
    const e0 = thrown(() => h2.core.destroyPool(0));
    expect([e0.errno, e0.libxl, e0.xl]).toEqual(['EINVAL', 'Error removing cpu from cpupool: Invalid argument', "Can't destroy cpupool 'Pool-0'"]);
  });

  it('renames pools and resolves them by name or id', () => {
    const h = twoPools();
    h.core.renamePool(1, 'rt');
    expect(h.core.poolId('rt')).toBe(1);
    expect(h.core.poolId('1')).toBe(1);
    expect(thrown(() => h.core.renamePool('rt', 'Pool-0')).code).toBe('cpupool.name-exists');
    const e = thrown(() => h.core.poolId('nope'));
    expect([e.errno, e.xl]).toEqual(['ENOENT', "unknown cpupool 'nope'"]);
  });
});

describe('cpupool pCPU add / remove', () => {
  it('refuses the removals Xen refuses, with errno and libxl/xl text', () => {
    const h = twoPools();
    const cpu0 = thrown(() => h.core.poolRemoveCpu(0, 0));
    expect([cpu0.errno, cpu0.libxl]).toEqual(['EINVAL', 'Error removing cpu 0 from cpupool: Invalid argument']);
    const notIn = thrown(() => h.core.poolRemoveCpu('p1', 1));
    expect([notIn.errno, notIn.libxl]).toEqual(['EADDRNOTAVAIL', 'Error removing cpu 1 from cpupool: Cannot assign requested address']);
    expect(notIn.xl).toBe("Some cpus may have not or only partially been removed from 'p1'.\nIf a cpu can't be added to another cpupool, add it to 'p1' again and retry.");
    h.core.addDomain({ domid: 1, name: 'vm1', maxVcpus: 1, pool: 'p1' });
    h.core.poolRemoveCpu('p1', 3);
    const last = thrown(() => h.core.poolRemoveCpu('p1', 2));
    expect(last.errno).toBe('EBUSY');
    expect(XEN_ERRNO[last.errno as keyof typeof XEN_ERRNO]).toBe(16);
  });

  it('refuses to add a pCPU that is not free or does not exist', () => {
    const h = twoPools();
    const e = thrown(() => h.core.poolAddCpu('p1', 0));
    expect([e.errno, e.libxl, e.xl]).toEqual(['ENODEV', 'Error moving cpu 0 to cpupool: No such device', 'some cpus may not have been added to p1']);
    expect(thrown(() => h.core.poolAddCpu('p1', 4)).errno).toBe('EINVAL');
  });

  it('moves vCPUs off a removed pCPU and breaks affinity that had nowhere else to go', () => {
    const sim = new Simulator({ nrCpus: 3, scheduler: 'credit' });
    sim.addDomain({ domid: 1, name: 'a', maxVcpus: 3, workload: { kind: 'hog' } });
    sim.runUntil(100 * MS);
    sim.core.setAffinity(1, 2, [2]);
    sim.runUntil(200 * MS);
    expect(sim.core.vcpuInfo(1, 2).pcpu).toBe(2);
    sim.at(250 * MS, (s) => s.core.poolRemoveCpu(0, 2));
    sim.runUntil(1 * S);
    expect(sim.core.poolCpus(0)).toEqual([0, 1]);
    expect(sim.core.vcpuInfo(1, 2).hard).toEqual([0, 1, 2]);
    expect(sim.core.pcpus()[2]).toMatchObject({ pool: null, current: null });
    expect(sim.records.filter((r) => r.event === 'out' && r.reason === 'cpu-remove')).toHaveLength(1);
    expect(sim.records.filter((r) => r.event === 'in' && r.pcpu === 2 && r.t >= 250 * MS)).toHaveLength(0);
    expect(checkInvariants(sim.records)).toEqual([]);
  });
});

describe('cpupool-migrate', () => {
  it('moves a running domain, resets its affinities to all/all and spreads its vCPUs', () => {
    const sim = new Simulator({ nrCpus: 4, scheduler: 'credit2' });
    sim.core.poolRemoveCpu(0, 2);
    sim.core.poolRemoveCpu(0, 3);
    sim.core.createPool('rt', 'rtds', [2, 3]);
    sim.addDomain({ domid: 1, name: 'vm1', maxVcpus: 2, hard: [0, 1], soft: [1], workload: { kind: 'hog' } });
    sim.runUntil(100 * MS);
    sim.at(150 * MS, (s) => s.core.migrateDomain(1, 'rt'));
    sim.runUntil(400 * MS);
    expect(sim.core.domainPool(1)).toBe(1);
    expect(sim.core.xlVcpuList().map((r) => [r.cpu, r.hard, r.soft])).toEqual([
      [2, 'all', 'all'],
      [3, 'all', 'all'],
    ]);
    expect(sim.records.some((r) => r.event === 'out' && r.reason === 'pool-move')).toBe(true);
    expect(sim.records.filter((r) => r.event === 'in' && r.t > 150 * MS).every((r) => r.pcpu >= 2)).toBe(true);
    expect(checkInvariants(sim.records)).toEqual([]);
  });

  it('refuses moving the control domain, or into a pool without pCPUs', () => {
    const h = manualCore(2);
    h.core.addDomain({ domid: 0, name: 'Domain-0', maxVcpus: 1 });
    h.core.addDomain({ domid: 1, name: 'vm1', maxVcpus: 1 });
    h.core.createPool('empty', 'credit');
    const e = thrown(() => h.core.migrateDomain(0, 'empty'));
    expect(e.errno).toBe('EPERM');
    const e2 = thrown(() => h.core.migrateDomain(1, 'empty'));
    expect([e2.errno, e2.libxl]).toEqual(['ENOENT', 'Error moving domain to cpupool: No such file or directory']);
    const e3 = thrown(() => h.core.addDomain({ domid: 2, name: 'vm2', maxVcpus: 1, pool: 'empty' }));
    expect(e3.errno).toBe('ENODEV');
    const e4 = thrown(() => h.core.addDomain({ domid: 2, name: 'vm2', maxVcpus: 1, pool: 7 }));
    expect(e4.errno).toBe('ESRCH');
  });

  it('keeps scheduler parameters per pool', () => {
    const h = manualCore(4, 'credit');
    h.core.poolRemoveCpu(0, 3);
    h.core.createPool('fast', 'credit', [3]);
    h.core.setPoolParams('fast', { sched: 'credit', tsliceMs: 5, ratelimitUs: 500 });
    expect(h.core.getPoolParams(0)).toEqual({ sched: 'credit', tsliceMs: 30, ratelimitUs: 1000, migrationDelayUs: 0 });
    expect(h.core.getPoolParams('fast')).toEqual({ sched: 'credit', tsliceMs: 5, ratelimitUs: 500, migrationDelayUs: 0 });
  });
});

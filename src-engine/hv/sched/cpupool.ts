/**
 * Cpupools: create, destroy, rename, add and remove pCPUs, move domains, per-pool scheduler
 * parameters. Xen's xen/common/sched/cpupool.c with libxl's and xl's checks and messages on top
 * (tools/libs/light/libxl_cpupool.c, tools/xl/xl_cpupool.c); spec/schedulers.md section 6.
 */
import { formatCpuSet, type CpuSet } from '../../base/cpulist';
import { maskHas, maskIntersects, maskWith, maskWithout } from './cpumask';
import { coreFindPool, coreInsertUnits, corePauseSync, coreRemoveUnits, coreUnpauseDomain } from './core-domains';
import {
  coreAllCpus,
  coreEvict,
  coreMakeContext,
  coreMigrateFinish,
  coreMigrateStart,
  coreRequestResched,
  type CoreState,
  type DomainRecord,
  type PoolRecord,
} from './core-records';
import { STRERROR, schedRefuse } from './sched-error';
import { findScheduler, type PoolSchedParams, type PoolSchedUpdate, type SchedName } from './sched-ops';

/** Id of the boot pool. */
export const POOL0_ID = 0;
/** Name of the boot pool. */
export const POOL0_NAME = 'Pool-0';
/** cpupool_create: at most this many pools per pCPU of the host. */
const POOLS_PER_CPU = 2;

function emitPoolCpus(cs: CoreState, pool: PoolRecord): void {
  cs.trace.emit({ t: cs.host.now(), pcpu: -1, domid: -1, vcpu: -1, event: 'pool-cpus', pool: pool.id, cpus: [...pool.cpus] });
}

/** Creates a pool (cpupool_create + adding its pCPUs, as libxl_cpupool_create does). */
export function poolCreate(cs: CoreState, name: string, sched: string | undefined, cpus: CpuSet, id?: number): PoolRecord {
  if (!name) throw schedRefuse('cpupool.no-name', 'EINVAL', 'A cpupool needs a name.', { xl: 'Missing cpupool name!' });
  if (cs.pools.some((p) => p.name === name)) {
    throw schedRefuse('cpupool.name-exists', 'EEXIST', `A cpupool named ${name} already exists: pick another name.`, { xl: `Pool name "${name}" already exists`, subject: name });
  }
  const schedName = sched ?? cs.defaultSched;
  const ops = findScheduler(schedName);
  if (!ops) {
    throw schedRefuse('cpupool.unknown-scheduler', 'EINVAL', `Unknown scheduler "${schedName}": use credit, credit2, rtds, arinc653 or null.`, { xl: 'Unknown scheduler', subject: schedName });
  }
  for (const c of cpus) {
    if (!Number.isInteger(c) || c < 0 || c >= cs.nrCpus || cs.pcpus[c].pool !== null) {
      throw schedRefuse('cpupool.cpu-not-free', 'ENODEV', `pCPU ${c} does not exist or already belongs to a cpupool: free it with xl cpupool-cpu-remove first.`, { xl: `cpu ${c} illegal or not free`, subject: String(c) });
    }
  }
  if (cs.pools.length >= POOLS_PER_CPU * cs.nrCpus) {
    throw schedRefuse('cpupool.too-many', 'ENOSPC', `No more cpupools can be created (at most ${POOLS_PER_CPU * cs.nrCpus} on this host).`, {
      libxl: `Could not create cpupool: ${STRERROR.ENOSPC}`,
      xl: 'error on creating cpupool',
    });
  }
  const poolId = id ?? Math.max(-1, ...cs.pools.map((p) => p.id)) + 1;
  const pool: PoolRecord = { id: poolId, name, sched: ops.name, ops, state: undefined, cpus: [], domains: [] };
  pool.state = ops.init(coreMakeContext(cs, () => pool, poolId));
  cs.pools.push(pool);
  cs.pools.sort((a, b) => a.id - b.id);
  for (const c of cpus) poolCpuAdd(cs, pool, c);
  return pool;
}

/** cpupool-destroy: libxl removes every pCPU first, then destroys. */
export function poolDestroy(cs: CoreState, pool: PoolRecord): void {
  if (pool.domains.length > 0) {
    throw schedRefuse('cpupool.busy', 'EBUSY', `Cpupool ${pool.name} still has domains (${pool.domains.map((d) => d.name).join(', ')}): move or destroy them first.`, {
      xl: `Can't destroy cpupool '${pool.name}'`,
      subject: pool.name,
    });
  }
  for (const c of [...pool.cpus]) {
    try {
      poolCpuRemove(cs, pool, c);
    } catch (e) {
      const err = e as { libxl?: string; errno?: keyof typeof STRERROR };
      throw schedRefuse('cpupool.destroy-failed', err.errno ?? 'EINVAL', `Cpupool ${pool.name} cannot be destroyed: pCPU ${c} cannot leave it.`, {
        libxl: `Error removing cpu from cpupool: ${STRERROR[err.errno ?? 'EINVAL']}`,
        xl: `Can't destroy cpupool '${pool.name}'`,
        subject: pool.name,
      });
    }
  }
  pool.ops.deinit(pool.state);
  cs.pools.splice(cs.pools.indexOf(pool), 1);
}

/** cpupool-rename. Refusing a duplicate name is our addition (libxl writes any name). */
export function poolRename(cs: CoreState, pool: PoolRecord, name: string): void {
  if (!name) throw schedRefuse('cpupool.no-name', 'EINVAL', 'A cpupool needs a name.', { xl: `Can't rename cpupool '${pool.name}'` });
  if (cs.pools.some((p) => p !== pool && p.name === name)) {
    throw schedRefuse('cpupool.name-exists', 'EEXIST', `A cpupool named ${name} already exists: pick another name.`, { xl: `Can't rename cpupool '${pool.name}'`, subject: name });
  }
  pool.name = name;
}

/** XEN_SYSCTL_CPUPOOL_OP_ADDCPU. */
export function poolCpuAdd(cs: CoreState, pool: PoolRecord, cpu: number): void {
  const xl = `some cpus may not have been added to ${pool.name}`;
  if (!Number.isInteger(cpu) || cpu < 0 || cpu >= cs.nrCpus) {
    throw schedRefuse('cpupool.cpu-range', 'EINVAL', `There is no pCPU ${cpu}: this host has pCPUs 0-${cs.nrCpus - 1}.`, {
      libxl: `Error moving cpu ${cpu} to cpupool: ${STRERROR.EINVAL}`,
      xl,
      subject: String(cpu),
    });
  }
  const p = cs.pcpus[cpu];
  if (p.pool !== null) {
    throw schedRefuse('cpupool.cpu-not-free', 'ENODEV', `pCPU ${cpu} belongs to cpupool ${p.pool.name}: remove it from there first.`, {
      libxl: `Error moving cpu ${cpu} to cpupool: ${STRERROR.ENODEV}`,
      xl,
      subject: String(cpu),
    });
  }
  pool.cpus = [...maskWith(pool.cpus, cpu)];
  p.pool = pool;
  p.curr = null;
  p.deadline = Infinity;
  pool.ops.initPcpu(pool.state, cpu);
  emitPoolCpus(cs, pool);
  // Let the new pCPU look for work at once (null's wait queue, queued vCPUs elsewhere).
  if (pool.domains.length > 0) coreRequestResched(cs, cpu);
}

/** XEN_SYSCTL_CPUPOOL_OP_RMCPU (cpupool_unassign_cpu + cpu_disable_scheduler). */
export function poolCpuRemove(cs: CoreState, pool: PoolRecord, cpu: number): void {
  const libxl = (errno: keyof typeof STRERROR): string => `Error removing cpu ${cpu} from cpupool: ${STRERROR[errno]}`;
  const xl = `Some cpus may have not or only partially been removed from '${pool.name}'.\nIf a cpu can't be added to another cpupool, add it to '${pool.name}' again and retry.`;
  if (pool.id === POOL0_ID && cpu === 0) {
    throw schedRefuse('cpupool.cpu0', 'EINVAL', 'pCPU 0 must stay in Pool-0.', { libxl: libxl('EINVAL'), xl, subject: '0' });
  }
  if (!maskHas(pool.cpus, cpu)) {
    throw schedRefuse('cpupool.cpu-not-in-pool', 'EADDRNOTAVAIL', `pCPU ${cpu} is not in cpupool ${pool.name} (${formatCpuSet(pool.cpus, cs.nrCpus)}).`, {
      libxl: libxl('EADDRNOTAVAIL'),
      xl,
      subject: String(cpu),
    });
  }
  if (pool.cpus.length === 1 && pool.domains.length > 0) {
    throw schedRefuse('cpupool.last-cpu', 'EBUSY', `pCPU ${cpu} is the last one of cpupool ${pool.name}, which still has domains: move them away first.`, {
      libxl: libxl('EBUSY'),
      xl,
      subject: String(cpu),
    });
  }
  pool.cpus = [...maskWithout(pool.cpus, cpu)];
  emitPoolCpus(cs, pool);
  const all = coreAllCpus(cs);
  for (const d of pool.domains) {
    for (const v of d.units) {
      if (!maskIntersects(v.hard, pool.cpus) && maskHas(v.hard, cpu)) {
        // "Breaking affinity": the vCPU could run nowhere else in the pool.
        pool.ops.adjustAffinity?.(pool.state, v, all, null);
        v.hard = all;
        cs.trace.emit({ t: cs.host.now(), pcpu: v.pcpu, domid: d.domid, vcpu: v.vcpuId, event: 'affinity', hard: v.hard, soft: v.soft });
      }
      if (v.pcpu !== cpu) continue;
      coreMigrateStart(cs, v);
      coreMigrateFinish(cs, v);
    }
  }
  coreEvict(cs, cpu, 'cpu-remove', true);
  const p = cs.pcpus[cpu];
  if (p.curr) throw new Error(`sched: pCPU ${cpu} still runs d${p.curr.domid}v${p.curr.vcpuId} after eviction`);
  pool.ops.deinitPcpu(pool.state, cpu);
  p.pool = null;
  p.deadline = Infinity;
  coreRequestResched(cs, cpu);
}

/** cpupool-migrate (sched_move_domain): affinities are reset to all/all. */
export function poolMoveDomain(cs: CoreState, d: DomainRecord, target: PoolRecord): void {
  if (d.pool === target) return;
  if (d.isControl) {
    throw schedRefuse('cpupool.move-control', 'EPERM', `${d.name} is the control domain and cannot be moved to another cpupool.`, {
      libxl: `Error moving domain to cpupool: ${STRERROR.EPERM}`,
      subject: d.name,
    });
  }
  if (target.cpus.length === 0) {
    throw schedRefuse('cpupool.empty', 'ENOENT', `Cpupool ${target.name} has no pCPUs: add some before moving ${d.name} there.`, {
      libxl: `Error moving domain to cpupool: ${STRERROR.ENOENT}`,
      subject: target.name,
    });
  }
  corePauseSync(cs, d, 'pool-move');
  coreRemoveUnits(cs, d);
  d.pool = target;
  target.domains.push(d);
  const all = coreAllCpus(cs);
  for (const v of d.units) {
    v.hard = all;
    v.soft = all;
  }
  coreInsertUnits(cs, d, true);
  coreUnpauseDomain(cs, d);
}

/** Resolves a pool by id or name. */
export function poolFind(cs: CoreState, q: number | string): PoolRecord {
  return coreFindPool(cs, q);
}

/** adjust_global getinfo. */
export function poolGetParams(pool: PoolRecord): PoolSchedParams {
  return pool.ops.getPoolParams(pool.state);
}

/** adjust_global putinfo (EINVAL if meant for another scheduler). */
export function poolSetParams(pool: PoolRecord, p: PoolSchedUpdate): void {
  if (p.sched !== pool.sched) {
    throw schedRefuse('sched.wrong-scheduler', 'EINVAL', `Cpupool ${pool.name} uses the ${pool.sched} scheduler, not ${p.sched}.`, { subject: pool.name });
  }
  pool.ops.setPoolParams(pool.state, p);
}

/** The scheduler name a pool would get by default. */
export function poolDefaultScheduler(cs: CoreState): SchedName {
  return cs.defaultSched;
}

/**
 * The API's VCPU, scheduler and cpupool methods: thin translations to the scheduler core on the
 * hypervisor thread (src-engine/hv/sched), with CPU lists in Xen's syntax.
 */
import { allCpus, parseCpuList } from '../../base/cpulist';
import { HypervisorError } from '../../base/errors';
import type { EngineMethod, EngineMethods } from '../../api/methods';
import type { PoolInfo, SchedulerName, VcpuInfo } from '../../api/types';
import type { EngineService } from './engine-service';
import type { ServiceConnection } from './api-service';

type P<M extends EngineMethod> = EngineMethods[M]['params'];
type Methods = Record<string, (params: never, conn: ServiceConnection) => unknown>;

interface CoreVcpu {
  domid: number;
  name: string;
  vcpu: number;
  state: VcpuInfo['state'];
  pcpu: number;
  cpuTimeNs: number;
  online: boolean;
  hard: number[];
  soft: number[];
  pool: string;
}

interface CorePoolRow {
  name: string;
  id?: number;
  cpus: number[] | number;
  sched: string;
  domains: number;
}

/** The methods, bound to a service. */
export function schedMethods(svc: EngineService): Methods {
  const sched = <T>(op: string, ...args: unknown[]) => svc.engine.call<T>('sched', { op, args });
  const cpus = (list: string) => [...parseCpuList(list, svc.topology())];

  async function poolInfo(ref: number | string): Promise<PoolInfo> {
    const id = await sched<number>('poolId', ref);
    const list = await sched<CorePoolRow[]>('xlCpupoolList');
    const params = await sched<Record<string, unknown>>('getPoolParams', id);
    const poolCpus = await sched<number[]>('poolCpus', id);
    const doms = await sched<number[]>('domainIds');
    const members: number[] = [];
    for (const d of doms) if ((await sched<number>('domainPool', d)) === id) members.push(d);
    const row = list.find((r) => r.id === id) ?? list.find((r) => typeof ref === 'string' && r.name === ref);
    const scheduler = (params.sched ?? row?.sched) as SchedulerName;
    const info: PoolInfo = {
      id,
      name: row?.name ?? String(ref),
      scheduler,
      cpus: poolCpus,
      domains: members,
      params: {
        tsliceMs: params.tsliceMs as number | undefined,
        ratelimitUs: params.ratelimitUs as number | undefined,
        migrationDelayUs: params.migrationDelayUs as number | undefined,
      },
    };
    if (scheduler === 'arinc653') {
      const uuids = new Map<string, number>();
      for (const d of svc.domains.values()) uuids.set((await svc.summary(d)).uuid, d.domid);
      info.arinc653 = {
        majorFrameUs: (params.majorFrame as number) / 1000,
        entries: ((params.entries as { uuid: string; vcpu: number; runtime: number }[]) ?? []).map((e) => ({
          domain: uuids.get(e.uuid) ?? e.uuid,
          vcpu: e.vcpu,
          runtimeUs: e.runtime / 1000,
        })),
      };
    }
    return info;
  }

  const methods: Methods = {
    'vcpu.list': async (p: P<'vcpu.list'>) => {
      const all = await sched<CoreVcpu[]>('vcpus');
      const only = p.domain === undefined ? undefined : svc.resolve(p.domain).domid;
      const out: VcpuInfo[] = [];
      const poolCpuCache = new Map<string, number[]>();
      for (const v of all) {
        if (only !== undefined && v.domid !== only) continue;
        if (!svc.domains.has(v.domid)) continue;
        let pc = poolCpuCache.get(v.pool);
        if (!pc) poolCpuCache.set(v.pool, (pc = await sched<number[]>('poolCpus', v.pool)));
        out.push({
          domid: v.domid,
          name: v.name,
          vcpu: v.vcpu,
          pcpu: v.online ? v.pcpu : -1,
          state: v.state,
          cpuSeconds: v.cpuTimeNs / 1e9,
          hard: [...v.hard],
          soft: [...v.soft],
          effective: v.hard.filter((c) => pc.includes(c)),
        });
      }
      return out;
    },
    'vcpu.pin': async (p: P<'vcpu.pin'>) => {
      const d = svc.resolve(p.domain);
      const hard = p.hard === undefined || p.hard === '-' ? null : cpus(p.hard);
      const soft = p.soft === undefined || p.soft === '-' ? null : cpus(p.soft);
      const targets = p.vcpu === 'all' ? Array.from({ length: d.config.maxvcpus }, (_, i) => i) : [p.vcpu];
      for (const v of targets) {
        if (v >= d.config.maxvcpus) throw new HypervisorError('vcpu.range', `Error: Invalid argument ${v} as VCPU.`, String(v));
        await sched('setAffinity', d.domid, v, hard, soft);
      }
      return null;
    },
    'sched.get': async (p: P<'sched.get'>) => {
      const d = svc.resolve(p.domain);
      const params = await sched<Record<string, unknown>>('getDomainParams', d.domid);
      const s = params.sched as SchedulerName;
      if (s === 'rtds') {
        const rtds = [];
        for (let v = 0; v < d.config.maxvcpus; v++) rtds.push(await sched<{ periodUs: number; budgetUs: number; extratime: boolean }>('getVcpuParams', d.domid, v));
        return { scheduler: s, rtds };
      }
      return { scheduler: s, weight: params.weight as number | undefined, cap: params.cap as number | undefined };
    },
    'sched.set': async (p: P<'sched.set'>) => {
      const d = svc.resolve(p.domain);
      const cur = await sched<{ sched: SchedulerName }>('getDomainParams', d.domid);
      if (p.weight !== undefined || p.cap !== undefined) {
        if (cur.sched !== 'credit' && cur.sched !== 'credit2') {
          throw new HypervisorError('sched.wrong', `Domain "${d.name}" runs under ${cur.sched}; weight and cap belong to credit and credit2.`, d.name);
        }
        await sched('setDomainParams', d.domid, { sched: cur.sched, weight: p.weight, cap: p.cap });
      }
      for (const r of p.rtds ?? []) {
        const vs = r.vcpu === 'all' ? Array.from({ length: d.config.maxvcpus }, (_, i) => i) : [r.vcpu];
        for (const v of vs) await sched('setVcpuParams', d.domid, v, r.params);
      }
      return null;
    },
    'pool.list': async () => {
      const rows = await sched<CorePoolRow[]>('xlCpupoolList');
      const out: PoolInfo[] = [];
      for (const r of rows) out.push(await poolInfo(r.id ?? r.name));
      return out;
    },
    'pool.create': async (p: P<'pool.create'>) => {
      const id = await sched<number>('createPool', p.name, p.scheduler, p.cpus ? cpus(p.cpus) : []);
      svc.note('info', 'cpupool', `created ${p.name} (${p.scheduler ?? 'default scheduler'})`);
      return poolInfo(id);
    },
    'pool.destroy': async (p: P<'pool.destroy'>) => {
      await sched('destroyPool', p.pool);
      return null;
    },
    'pool.rename': async (p: P<'pool.rename'>) => {
      await sched('renamePool', p.pool, p.name);
      return null;
    },
    'pool.cpuAdd': async (p: P<'pool.cpuAdd'>) => {
      for (const c of cpus(p.cpus)) await sched('poolAddCpu', p.pool, c);
      return null;
    },
    'pool.cpuRemove': async (p: P<'pool.cpuRemove'>) => {
      for (const c of cpus(p.cpus)) await sched('poolRemoveCpu', p.pool, c);
      return null;
    },
    'pool.migrate': async (p: P<'pool.migrate'>) => {
      const d = svc.resolve(p.domain);
      await sched('migrateDomain', d.domid, p.pool);
      return null;
    },
    'pool.setParams': async (p: P<'pool.setParams'>) => {
      const cur = await sched<{ sched: string }>('getPoolParams', p.pool);
      await sched('setPoolParams', p.pool, { sched: cur.sched, ...p.params });
      return null;
    },
    'pool.setArinc653': async (p: P<'pool.setArinc653'>) => {
      const entries = [];
      for (const e of p.schedule.entries) {
        const d = svc.resolve(e.domain);
        entries.push({ uuid: (await svc.summary(d)).uuid, vcpu: e.vcpu, runtime: e.runtimeUs * 1000 });
      }
      await sched('setPoolParams', p.pool, { sched: 'arinc653', majorFrame: p.schedule.majorFrameUs * 1000, entries });
      return null;
    },
    'pool.setScheduler': async (p: P<'pool.setScheduler'>) => {
      // Xen cannot change a live pool's scheduler; do what an administrator would: move the
      // pool's domains to a helper pool, recreate the pool with the new scheduler on the same
      // pCPUs, move the domains back (their affinities reset to all, as cpupool-migrate does).
      const before = await poolInfo(p.pool);
      if (before.scheduler === p.scheduler) return before;
      if (before.id === 0) {
        throw new HypervisorError(
          'pool.pool0',
          'Pool-0 keeps the scheduler the engine started with (Xen sched=); create another pool with the scheduler you want and move domains there, or restart the engine with --scheduler.',
          'Pool-0',
        );
      }
      // Park the domains in Pool-0 (it always keeps pCPU 0), rebuild the pool, bring them back.
      for (const d of before.domains) await sched('migrateDomain', d, 0);
      for (const c of before.cpus) await sched('poolRemoveCpu', before.id, c);
      await sched('destroyPool', before.id);
      await sched('createPool', before.name, p.scheduler, before.cpus);
      for (const d of before.domains) await sched('migrateDomain', d, before.name);
      svc.note('info', 'cpupool', `${before.name}: scheduler ${before.scheduler} -> ${p.scheduler}`);
      return poolInfo(before.name);
    },
  };
  void allCpus;
  return methods;
}

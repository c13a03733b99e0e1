/**
 * Read-only views of the scheduling core: per-vCPU and per-pCPU state for the GUI and
 * `domus top`, and the plain data behind `xl list`, `xl vcpu-list`, `xl sched-credit`,
 * `xl sched-credit2`, `xl sched-rtds` and `xl cpupool-list` (spec/schedulers.md section 8).
 * The printers live elsewhere; these objects carry exactly what they print.
 */
import { formatCpuSet, type CpuSet } from '../../base/cpulist';
import type { CoreState, DomainRecord, PoolRecord, VcpuRecord } from './core-records';
import type { RtdsVcpuParams, SchedName } from './sched-ops';

/** Run state of a vCPU as the GUI shows it. */
export type VcpuRunState = 'running' | 'runnable' | 'blocked' | 'paused' | 'offline';

/** One vCPU, live. */
export interface VcpuInfo {
  domid: number;
  name: string;
  vcpu: number;
  state: VcpuRunState;
  /** Assigned pCPU (where it runs or will run). */
  pcpu: number;
  /** CPU time in ns, including the current run. */
  cpuTimeNs: number;
  online: boolean;
  hard: CpuSet;
  soft: CpuSet;
  pool: string;
}

/** One pCPU, live. */
export interface PcpuInfo {
  pcpu: number;
  /** Pool name, or null for a free pCPU. */
  pool: string | null;
  current: { domid: number; vcpu: number } | null;
  /** Busy (non-idle) time in ns, including the current run. */
  busyNs: number;
  /** End of the current slice (Infinity: none). */
  deadline: number;
}

/** Row data of `xl list [-c]`. */
export interface XlListRow {
  name: string;
  domid: number;
  /** Memory in MiB as given at creation (the scheduler does not track memory). */
  memMiB: number;
  /** Online vCPUs. */
  vcpus: number;
  /** `r`: some vCPU is running. */
  running: boolean;
  /** `b`: every online vCPU is blocked (getdomaininfo's XEN_DOMINF_blocked). */
  blocked: boolean;
  /** `p`: paused. */
  paused: boolean;
  /** CPU time in seconds. */
  cpuSeconds: number;
  pool: string;
}

/** Row data of `xl vcpu-list`. */
export interface XlVcpuListRow {
  name: string;
  domid: number;
  vcpu: number;
  online: boolean;
  /** v->processor. */
  cpu: number;
  running: boolean;
  blocked: boolean;
  cpuSeconds: number;
  /** print_bitmap text of the stored masks, e.g. "all", "0-1,3". */
  hard: string;
  soft: string;
}

/** `xl sched-credit` / `xl sched-credit2` data for one pool. */
export interface XlSchedCreditPool {
  pool: string;
  sched: 'credit' | 'credit2';
  tsliceMs?: number;
  ratelimitUs: number;
  migrationDelayUs?: number;
  domains: { name: string; domid: number; weight: number; cap: number }[];
}

/** `xl sched-rtds [-v all]` data for one pool. */
export interface XlSchedRtdsPool {
  pool: string;
  /** Domain-level (default) parameters, as Xen returns them. */
  domains: { name: string; domid: number; periodUs: number; budgetUs: number; extratime: boolean }[];
  vcpus: ({ name: string; domid: number; vcpu: number } & RtdsVcpuParams)[];
}

/** `xl cpupool-list [-c]` row. */
export interface XlCpupoolRow {
  name: string;
  id: number;
  nrCpus: number;
  sched: SchedName;
  nDom: number;
  cpus: number[];
}

function vcpuCpuTime(cs: CoreState, v: VcpuRecord): number {
  return v.cpuTime + (v.isRunning ? cs.host.now() - v.runStart : 0);
}

function vcpuState(v: VcpuRecord): VcpuRunState {
  if (v.isRunning) return 'running';
  if (!v.online) return 'offline';
  if (v.blocked) return 'blocked';
  return v.runnable() ? 'runnable' : 'paused';
}

/** Live state of one vCPU. */
export function viewVcpu(cs: CoreState, v: VcpuRecord): VcpuInfo {
  return {
    domid: v.domid,
    name: v.domain.name,
    vcpu: v.vcpuId,
    state: vcpuState(v),
    pcpu: v.pcpu,
    cpuTimeNs: vcpuCpuTime(cs, v),
    online: v.online,
    hard: v.hard,
    soft: v.soft,
    pool: v.domain.pool.name,
  };
}

/** Live state of every pCPU. */
export function viewPcpus(cs: CoreState): PcpuInfo[] {
  const now = cs.host.now();
  return cs.pcpus.map((p) => ({
    pcpu: p.cpu,
    pool: p.pool ? p.pool.name : null,
    current: p.curr ? { domid: p.curr.domid, vcpu: p.curr.vcpuId } : null,
    busyNs: p.busyTime + (p.curr ? now - p.busySince : 0),
    deadline: p.deadline,
  }));
}

function sortedDomains(cs: CoreState): DomainRecord[] {
  return [...cs.domains.values()].sort((a, b) => a.domid - b.domid);
}

/** `xl list` data, by domid. */
export function viewXlList(cs: CoreState): XlListRow[] {
  return sortedDomains(cs).map((d) => {
    const online = d.units.filter((v) => v.online);
    return {
      name: d.name,
      domid: d.domid,
      memMiB: d.memoryMiB,
      vcpus: online.length,
      running: d.units.some((v) => v.isRunning),
      blocked: online.length > 0 && online.every((v) => v.blocked),
      paused: d.pauseCount > 0,
      cpuSeconds: d.units.reduce((t, v) => t + vcpuCpuTime(cs, v), 0) / 1e9,
      pool: d.pool.name,
    };
  });
}

/** `xl vcpu-list` data, by domid then vCPU. */
export function viewXlVcpuList(cs: CoreState): XlVcpuListRow[] {
  return sortedDomains(cs).flatMap((d) =>
    d.units.map((v) => ({
      name: d.name,
      domid: d.domid,
      vcpu: v.vcpuId,
      online: v.online,
      cpu: v.pcpu,
      running: v.isRunning,
      blocked: v.blocked,
      cpuSeconds: vcpuCpuTime(cs, v) / 1e9,
      hard: formatCpuSet(v.hard, cs.nrCpus),
      soft: formatCpuSet(v.soft, cs.nrCpus),
    })),
  );
}

/** `xl sched-credit` (sched = 'credit') or `xl sched-credit2` data for every pool of that scheduler. */
export function viewXlSchedCredit(cs: CoreState, sched: 'credit' | 'credit2'): XlSchedCreditPool[] {
  return cs.pools
    .filter((p) => p.sched === sched)
    .map((p) => {
      const g = p.ops.getPoolParams(p.state);
      const domains = p.domains
        .slice()
        .sort((a, b) => a.domid - b.domid)
        .map((d) => {
          const dp = p.ops.getDomainParams(p.state, d);
          const wc = dp.sched === 'credit' || dp.sched === 'credit2' ? dp : { weight: 0, cap: 0 };
          return { name: d.name, domid: d.domid, weight: wc.weight, cap: wc.cap };
        });
      const base = { pool: p.name, sched, ratelimitUs: 'ratelimitUs' in g ? g.ratelimitUs : 0, domains };
      return g.sched === 'credit' ? { ...base, tsliceMs: g.tsliceMs, migrationDelayUs: g.migrationDelayUs } : base;
    });
}

/** `xl sched-rtds` data for every RTDS pool. */
export function viewXlSchedRtds(cs: CoreState): XlSchedRtdsPool[] {
  return cs.pools
    .filter((p) => p.sched === 'rtds')
    .map((p) => {
      const doms = p.domains.slice().sort((a, b) => a.domid - b.domid);
      return {
        pool: p.name,
        domains: doms.map((d) => {
          const dp = p.ops.getDomainParams(p.state, d);
          const r = dp.sched === 'rtds' ? dp : { periodUs: 0, budgetUs: 0, extratime: false };
          return { name: d.name, domid: d.domid, periodUs: r.periodUs, budgetUs: r.budgetUs, extratime: r.extratime };
        }),
        vcpus: doms.flatMap((d) =>
          d.units.map((v) => ({ name: d.name, domid: d.domid, vcpu: v.vcpuId, ...(p.ops.getVcpuParams?.(p.state, v) ?? { periodUs: 0, budgetUs: 0, extratime: false }) })),
        ),
      };
    });
}

/** `xl cpupool-list` data, by pool id. */
export function viewXlCpupoolList(cs: CoreState): XlCpupoolRow[] {
  return cs.pools.map((p: PoolRecord) => ({ name: p.name, id: p.id, nrCpus: p.cpus.length, sched: p.sched, nDom: p.domains.length, cpus: [...p.cpus] }));
}

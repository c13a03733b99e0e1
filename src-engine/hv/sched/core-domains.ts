/**
 * Domain and vCPU operations of the scheduling core: create/destroy (sched_init_vcpu,
 * sched_destroy_domain), pause/unpause, vCPU up/down, block/wake/yield, affinity
 * (vcpu_set_affinity) and per-domain / per-vCPU parameters (sched_adjust).
 * Facts: spec/schedulers.md "Core behaviour" and sections 6, 7 and 9.
 */
import { formatCpuSet, type CpuSet } from '../../base/cpulist';
import { maskCycle, maskFirst, maskIntersects } from './cpumask';
import {
  coreAllCpus,
  coreEvict,
  coreMigrateFinish,
  coreMigrateStart,
  coreNoteRunnable,
  coreRequestResched,
  coreVcpuSleep,
  coreVcpuWake,
  DomainRecord,
  VcpuRecord,
  type CoreState,
  type PoolRecord,
} from './core-records';
import { SchedError, schedRefuse } from './sched-error';
import type { DomainSchedParams, DomainSchedUpdate, RtdsVcpuParams } from './sched-ops';
import type { SchedTraceReason } from './sched-trace';

/** Per-vCPU settings at domain creation. */
export interface VcpuConfig {
  /** Hard affinity (xl.cfg cpus=); default all pCPUs. */
  hard?: CpuSet;
  /** Soft affinity (xl.cfg cpus_soft=); default all pCPUs. */
  soft?: CpuSet;
  /** RTDS parameters for this vCPU (RTDS pools only). */
  rtds?: RtdsVcpuParams;
}

/** What the core needs to know about a new domain. */
export interface SchedDomainConfig {
  domid: number;
  name: string;
  /** Domain handle; default derived from the domid. */
  uuid?: string;
  /** Pool id or name (xl.cfg pool=); default Pool-0. */
  pool?: number | string;
  /** vCPUs that exist (xl.cfg maxvcpus=). */
  maxVcpus: number;
  /** vCPUs online at start (xl.cfg vcpus=); default maxVcpus. */
  onlineVcpus?: number;
  /** Hard/soft affinity for every vCPU (overridden per vCPU by `vcpus`). */
  hard?: CpuSet;
  soft?: CpuSet;
  vcpus?: VcpuConfig[];
  /** credit/credit2 weight (cpu_weight=). */
  weight?: number;
  /** credit/credit2 cap (cap=). */
  cap?: number;
  /** RTDS domain defaults applied to every vCPU. */
  rtds?: RtdsVcpuParams;
  /** Leave the domain paused after creation (xl create -p). */
  paused?: boolean;
  /** Control domain; default domid === 0. */
  isControl?: boolean;
  /** Memory in MiB, only carried for `xl list`. */
  memoryMiB?: number;
}

/** Finds a pool by id or name, or refuses like xl ("unknown cpupool 'X'"). */
export function coreFindPool(cs: CoreState, q: number | string, errno: 'ENOENT' | 'ESRCH' = 'ENOENT'): PoolRecord {
  const pool = typeof q === 'number' ? cs.pools.find((p) => p.id === q) : (cs.pools.find((p) => p.name === q) ?? (/^\d+$/.test(q) ? cs.pools.find((p) => p.id === Number(q)) : undefined));
  if (!pool) {
    throw schedRefuse('cpupool.unknown', errno, `There is no cpupool '${q}'. List them with xl cpupool-list.`, { xl: `unknown cpupool '${q}'`, subject: String(q) });
  }
  return pool;
}

/** Finds a domain, or refuses like xl ("unknown domain"). */
export function coreFindDomain(cs: CoreState, domid: number): DomainRecord {
  const d = cs.domains.get(domid);
  if (!d) throw schedRefuse('domain.unknown', 'ESRCH', `There is no domain with id ${domid}.`, { xl: `unknown domain '${domid}'`, subject: String(domid) });
  return d;
}

/** Finds a vCPU, or refuses with xl's vcpu-pin message. */
export function coreFindVcpu(cs: CoreState, domid: number, vcpu: number): VcpuRecord {
  const d = coreFindDomain(cs, domid);
  const v = d.units[vcpu];
  if (!v) {
    throw schedRefuse('vcpu.unknown', 'EINVAL', `Domain ${d.name} has no vCPU ${vcpu} (it has ${d.units.length}).`, {
      xl: `Error: Invalid argument ${vcpu} as VCPU.`,
      subject: d.name,
    });
  }
  return v;
}

function checkHardInPool(pool: PoolRecord, hard: CpuSet, who: string, vcpu: number, nrCpus: number): void {
  if (!maskIntersects(hard, pool.cpus)) {
    throw schedRefuse('affinity.empty', 'EINVAL', `Hard affinity ${formatCpuSet(hard, nrCpus)} of ${who} vCPU ${vcpu} contains no pCPU of cpupool ${pool.name} (${formatCpuSet(pool.cpus, nrCpus)}): pin it to at least one of them.`, {
      libxl: 'Setting vcpu affinity: Invalid argument',
      xl: `Could not set affinity for vcpu \`${vcpu}'.`,
      subject: who,
    });
  }
}

/** Pauses a domain (domain_pause, without waiting): its vCPUs stop at their next schedule. */
export function corePauseDomain(cs: CoreState, d: DomainRecord): void {
  d.pauseCount++;
  for (const v of d.units) {
    coreNoteRunnable(cs, v, 'pause');
    coreVcpuSleep(cs, v);
  }
}

/** Unpauses a domain (domain_unpause): when the count reaches 0 its vCPUs are woken. */
export function coreUnpauseDomain(cs: CoreState, d: DomainRecord): void {
  if (d.pauseCount === 0) {
    throw schedRefuse('domain.not-paused', 'EINVAL', `Domain ${d.name} is not paused.`, { subject: d.name });
  }
  d.pauseCount--;
  if (d.pauseCount > 0) return;
  for (const v of d.units) {
    coreNoteRunnable(cs, v, 'pause');
    coreVcpuWake(cs, v);
  }
}

/** Pauses the domain and takes every running vCPU off its pCPU at once (domain_pause's sync part). */
export function corePauseSync(cs: CoreState, d: DomainRecord, reason: SchedTraceReason): void {
  corePauseDomain(cs, d);
  for (const v of d.units) if (v.isRunning) coreEvict(cs, v.pcpu, reason, false);
}

/** Inserts a domain's vCPUs into its pool's scheduler, spreading them like Xen does. */
export function coreInsertUnits(cs: CoreState, d: DomainRecord, spreadFromFirst: boolean): void {
  const pool = d.pool;
  const ops = pool.ops;
  ops.initDomain(pool.state, d);
  let cpu = maskFirst(pool.cpus);
  for (const v of d.units) {
    if (spreadFromFirst) {
      v.pcpu = cpu;
      cpu = maskCycle(cpu, pool.cpus);
    } else {
      // sched_select_initial_cpu: vCPU 0 on the first pCPU, then cycling from the previous one.
      v.pcpu = v.vcpuId === 0 ? maskFirst(pool.cpus) : maskCycle(d.units[v.vcpuId - 1].pcpu, pool.cpus);
    }
    cs.trace.emit({ t: cs.host.now(), pcpu: v.pcpu, domid: d.domid, vcpu: v.vcpuId, event: 'pool', pool: pool.id });
    cs.trace.emit({ t: cs.host.now(), pcpu: v.pcpu, domid: d.domid, vcpu: v.vcpuId, event: 'affinity', hard: v.hard, soft: v.soft });
    ops.insertUnit(pool.state, v);
  }
}

/** Removes a (paused, descheduled) domain's vCPUs from its pool's scheduler. */
export function coreRemoveUnits(_cs: CoreState, d: DomainRecord): void {
  const pool = d.pool;
  for (const v of d.units) {
    if (v.isRunning) throw new Error(`sched: removing d${d.domid}v${v.vcpuId} while it runs`);
    pool.ops.removeUnit(pool.state, v);
    v.priv = undefined;
  }
  pool.ops.destroyDomain(pool.state, d);
  pool.domains.splice(pool.domains.indexOf(d), 1);
}

function defaultUuid(domid: number): string {
  const hex = domid.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}

/** Creates a domain in its pool (sched_init_domain + sched_init_vcpu for each vCPU). */
export function coreAddDomain(cs: CoreState, cfg: SchedDomainConfig): DomainRecord {
  if (!Number.isInteger(cfg.domid) || cfg.domid < 0 || cs.domains.has(cfg.domid)) {
    throw schedRefuse('domain.domid', 'EEXIST', `Domain id ${cfg.domid} is already in use or invalid.`, { subject: String(cfg.domid) });
  }
  if (!Number.isInteger(cfg.maxVcpus) || cfg.maxVcpus < 1) {
    throw schedRefuse('domain.vcpus', 'EINVAL', `Domain ${cfg.name} needs at least one vCPU (got ${cfg.maxVcpus}).`, { subject: cfg.name });
  }
  const online = Math.max(1, Math.min(cfg.onlineVcpus ?? cfg.maxVcpus, cfg.maxVcpus));
  const pool = coreFindPool(cs, cfg.pool ?? 0, 'ESRCH');
  if (pool.cpus.length === 0) {
    throw schedRefuse('cpupool.empty', 'ENODEV', `Cpupool ${pool.name} has no pCPUs, so domain ${cfg.name} cannot be created in it: add pCPUs with xl cpupool-cpu-add first.`, { subject: pool.name });
  }
  const all = coreAllCpus(cs);
  const now = cs.host.now();
  const d = new DomainRecord(cfg.domid, cfg.name, cfg.uuid ?? defaultUuid(cfg.domid), cfg.isControl ?? cfg.domid === 0, pool);
  d.memoryMiB = cfg.memoryMiB ?? 0;
  for (let i = 0; i < cfg.maxVcpus; i++) {
    const vc = cfg.vcpus?.[i];
    const hard = vc?.hard ?? cfg.hard ?? all;
    const soft = vc?.soft ?? cfg.soft ?? all;
    checkHardInPool(pool, hard, cfg.name, i, cs.nrCpus);
    d.units.push(new VcpuRecord(d, i, hard, soft, 0, i < online, now));
  }
  cs.domains.set(d.domid, d);
  pool.domains.push(d);
  coreInsertUnits(cs, d, false);
  try {
    const s = pool.sched;
    if ((s === 'credit' || s === 'credit2') && (cfg.weight !== undefined || cfg.cap !== undefined)) {
      coreSetDomainParams(cs, d, { sched: s, weight: cfg.weight, cap: cfg.cap });
    }
    if (s === 'rtds') {
      for (const v of d.units) {
        const p = cfg.vcpus?.[v.vcpuId]?.rtds ?? cfg.rtds;
        if (p) coreSetVcpuParams(cs, v, p);
      }
    }
  } catch (e) {
    coreRemoveUnits(cs, d);
    cs.domains.delete(d.domid);
    throw e;
  }
  if (!cfg.paused) coreUnpauseDomain(cs, d);
  return d;
}

/** Destroys a domain: pause, take its vCPUs off the pCPUs, remove them from the scheduler. */
export function coreRemoveDomain(cs: CoreState, d: DomainRecord): void {
  corePauseSync(cs, d, 'destroy');
  coreRemoveUnits(cs, d);
  for (const v of d.units) cs.trace.emit({ t: cs.host.now(), pcpu: v.pcpu, domid: d.domid, vcpu: v.vcpuId, event: 'destroy' });
  cs.domains.delete(d.domid);
}

/** VCPUOP_up / VCPUOP_down. */
export function coreSetVcpuOnline(cs: CoreState, v: VcpuRecord, online: boolean): void {
  if (v.online === online) return;
  v.online = online;
  coreNoteRunnable(cs, v, 'offline');
  if (online) coreVcpuWake(cs, v);
  else coreVcpuSleep(cs, v);
}

/** vcpu_block: the running vCPU halted. */
export function coreBlock(cs: CoreState, v: VcpuRecord): void {
  if (v.blocked) return;
  v.blocked = true;
  cs.trace.emit({ t: cs.host.now(), pcpu: v.pcpu, domid: v.domid, vcpu: v.vcpuId, event: 'block' });
  coreNoteRunnable(cs, v, 'block');
  if (v.isRunning) coreRequestResched(cs, v.pcpu);
  else coreVcpuSleep(cs, v);
}

/** vcpu_unblock: an event arrived for a blocked vCPU. */
export function coreWake(cs: CoreState, v: VcpuRecord): void {
  if (!v.blocked) return;
  v.blocked = false;
  cs.trace.emit({ t: cs.host.now(), pcpu: v.pcpu, domid: v.domid, vcpu: v.vcpuId, event: 'wake' });
  coreNoteRunnable(cs, v, 'block');
  coreVcpuWake(cs, v);
}

/** vcpu_yield. */
export function coreYield(cs: CoreState, v: VcpuRecord): void {
  const pool = v.domain.pool;
  pool.ops.yield?.(pool.state, v);
  v.yieldPending = true;
  cs.trace.emit({ t: cs.host.now(), pcpu: v.pcpu, domid: v.domid, vcpu: v.vcpuId, event: 'yield' });
  if (v.isRunning) coreRequestResched(cs, v.pcpu);
}

/** vcpu_set_affinity for hard and/or soft affinity, then re-place the vCPU. */
export function coreSetAffinity(cs: CoreState, v: VcpuRecord, hard: CpuSet | null, soft: CpuSet | null): void {
  const pool = v.domain.pool;
  if (hard) checkHardInPool(pool, hard, v.domain.name, v.vcpuId, cs.nrCpus);
  pool.ops.adjustAffinity?.(pool.state, v, hard, soft);
  if (hard) v.hard = [...hard];
  if (soft) v.soft = [...soft];
  cs.trace.emit({ t: cs.host.now(), pcpu: v.pcpu, domid: v.domid, vcpu: v.vcpuId, event: 'affinity', hard: v.hard, soft: v.soft });
  coreMigrateStart(cs, v);
  coreMigrateFinish(cs, v);
}

function checkSched(d: DomainRecord, sched: string): void {
  if (sched !== d.pool.sched) {
    throw schedRefuse('sched.wrong-scheduler', 'EINVAL', `Domain ${d.name} is in cpupool ${d.pool.name}, which uses the ${d.pool.sched} scheduler, not ${sched}.`, {
      subject: d.name,
    });
  }
}

/** sched_adjust getinfo. */
export function coreGetDomainParams(d: DomainRecord): DomainSchedParams {
  return d.pool.ops.getDomainParams(d.pool.state, d);
}

/** sched_adjust putinfo. */
export function coreSetDomainParams(_cs: CoreState, d: DomainRecord, p: DomainSchedUpdate): void {
  checkSched(d, p.sched);
  d.pool.ops.setDomainParams(d.pool.state, d, p);
}

/** sched_adjust getvcpuinfo (RTDS). */
export function coreGetVcpuParams(v: VcpuRecord): RtdsVcpuParams {
  const ops = v.domain.pool.ops;
  checkSched(v.domain, 'rtds');
  if (!ops.getVcpuParams) throw new SchedError({ code: 'sched.no-vcpu-params', errno: 'EINVAL', message: 'This scheduler has no per-vCPU parameters.' });
  return ops.getVcpuParams(v.domain.pool.state, v);
}

/** sched_adjust putvcpuinfo (RTDS). */
export function coreSetVcpuParams(_cs: CoreState, v: VcpuRecord, p: RtdsVcpuParams): void {
  const d = v.domain;
  if (d.pool.sched !== 'rtds') {
    throw schedRefuse('sched.no-vcpu-params', 'EINVAL', `Per-vCPU parameters exist only under RTDS; domain ${d.name} is in a ${d.pool.sched} pool.`, {
      libxl: 'per-VCPU parameter setting not supported for this scheduler',
      subject: d.name,
    });
  }
  d.pool.ops.setVcpuParams?.(d.pool.state, v, p);
}

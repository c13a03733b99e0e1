/**
 * The scheduling core's records and its central paths: the context switch (Xen's schedule() /
 * sched_switch_units / context_saved), wake and sleep of vCPUs, migration (vcpu_migrate_start /
 * finish) and the per-pool SchedContext given to scheduler instances. Xen's
 * xen/common/sched/core.c restated for a single owner thread.
 *
 * Everything here operates on one `CoreState`; the public API is the SchedCore class (core.ts).
 */
import { allCpus, type CpuSet } from '../../base/cpulist';
import { maskAnd, maskFirst, maskHas, softAffinityEffective } from './cpumask';
import {
  type SchedBootParams,
  type SchedContext,
  type SchedDomain,
  type SchedName,
  type SchedOps,
  type SchedPauseFlag,
  type SchedUnit,
} from './sched-ops';
import { SchedTrace, type SchedTraceReason } from './sched-trace';
import { TimerQueue } from './timer-queue';

/** What the owner of the core provides: the clock and the way to poke a pCPU. */
export interface SchedHost {
  /** Monotonic time in ns. */
  now(): number;
  /** Ask `pcpu` to stop its current vCPU soon and call `schedule(pcpu)` again. */
  tickle(pcpu: number): void;
}

/** Which (domain, vCPU) a pCPU should run. */
export interface VcpuRef {
  domid: number;
  vcpu: number;
}

/** The answer of schedule(pcpu). */
export interface ScheduleDecision {
  pcpu: number;
  /** The vCPU to run, or null to idle. */
  vcpu: VcpuRef | null;
  /** Absolute deadline (ns) at which to call schedule again; Infinity = only when tickled. */
  until: number;
}

/** A vCPU as the core keeps it (implements the scheduler's view, SchedUnit). */
export class VcpuRecord implements SchedUnit {
  hard: CpuSet;
  soft: CpuSet;
  pcpu: number;
  isRunning = false;
  stateEntryTime: number;
  online: boolean;
  priv: unknown = undefined;
  /** VPF_blocked. */
  blocked = false;
  /** Per-vCPU pause count (scheduler parking in credit1). */
  pauseCount = 0;
  /** VPF_parked (credit2 caps). */
  parked = false;
  /** VPF_migrating. */
  migrating = false;
  /** A yield is pending for the trace reason of the next switch out. */
  yieldPending = false;
  /** Accumulated run time in ns (not counting the current run). */
  cpuTime = 0;
  /** Start of the current run. */
  runStart = 0;
  /** pCPU of the previous run, -1 before the first. */
  lastRunPcpu = -1;
  /** Last runnable state reported in the trace. */
  tracedRunnable = false;

  constructor(
    readonly domain: DomainRecord,
    readonly vcpuId: number,
    hard: CpuSet,
    soft: CpuSet,
    pcpu: number,
    online: boolean,
    now: number,
  ) {
    this.hard = hard;
    this.soft = soft;
    this.pcpu = pcpu;
    this.online = online;
    this.stateEntryTime = now;
  }

  get domid(): number {
    return this.domain.domid;
  }

  runnable(): boolean {
    return this.online && !this.blocked && this.pauseCount === 0 && this.domain.pauseCount === 0 && !this.parked && !this.migrating;
  }
}

/** A domain as the core keeps it. */
export class DomainRecord implements SchedDomain {
  units: VcpuRecord[] = [];
  priv: unknown = undefined;
  /** Domain pause count; domains are created paused (count 1). */
  pauseCount = 1;
  /** Optional memory for `xl list` (MiB); the scheduler never uses it. */
  memoryMiB = 0;

  constructor(
    readonly domid: number,
    public name: string,
    readonly uuid: string,
    readonly isControl: boolean,
    public pool: PoolRecord,
  ) {}
}

/** A cpupool with its scheduler instance. */
export interface PoolRecord {
  id: number;
  name: string;
  sched: SchedName;
  ops: SchedOps<unknown>;
  state: unknown;
  cpus: number[];
  domains: DomainRecord[];
}

/** A physical CPU. */
export interface PcpuRecord {
  cpu: number;
  pool: PoolRecord | null;
  curr: VcpuRecord | null;
  /** SCHEDULE_SOFTIRQ pending. */
  resched: boolean;
  /** Absolute time the current slice ends. */
  deadline: number;
  /** Busy (non-idle) time accumulated, ns. */
  busyTime: number;
  /** Time the current vCPU was switched in. */
  busySince: number;
}

/** All state of one scheduling core. */
export interface CoreState {
  host: SchedHost;
  nrCpus: number;
  boot: SchedBootParams;
  pcpus: PcpuRecord[];
  pools: PoolRecord[];
  domains: Map<number, DomainRecord>;
  timers: TimerQueue;
  trace: SchedTrace;
  /** Name of the default scheduler (Pool-0's and cpupool-create's default). */
  defaultSched: SchedName;
  /** pCPUs not online yet (SchedCoreConfig.offlineCpus); empty once every worker runs. */
  offline: Set<number>;
}

/** Raises the schedule softirq on a pCPU, coalescing repeated requests. */
export function coreRequestResched(cs: CoreState, cpu: number): void {
  const p = cs.pcpus[cpu];
  if (p.resched) return;
  p.resched = true;
  cs.host.tickle(cpu);
}

/** Emits 'runnable'/'unrunnable' when a vCPU's runnability changed since the last record. */
export function coreNoteRunnable(cs: CoreState, v: VcpuRecord, reason: SchedTraceReason): void {
  const r = v.runnable();
  if (r === v.tracedRunnable) return;
  v.tracedRunnable = r;
  cs.trace.emit({ t: cs.host.now(), pcpu: v.pcpu, domid: v.domid, vcpu: v.vcpuId, event: r ? 'runnable' : 'unrunnable', reason });
}

/** vcpu_wake: tell the scheduler if the vCPU is runnable now. */
export function coreVcpuWake(_cs: CoreState, v: VcpuRecord): void {
  if (v.runnable()) v.domain.pool.ops.wake(v.domain.pool.state, v);
}

/** vcpu_sleep_nosync: tell the scheduler if the vCPU is not runnable any more. */
export function coreVcpuSleep(_cs: CoreState, v: VcpuRecord): void {
  if (!v.runnable()) v.domain.pool.ops.sleep(v.domain.pool.state, v);
}

/** sched_unit_migrate_start: flag it, take it off the run queues. */
export function coreMigrateStart(cs: CoreState, v: VcpuRecord): void {
  v.migrating = true;
  coreNoteRunnable(cs, v, 'migrate');
  coreVcpuSleep(cs, v);
}

/** sched_unit_migrate_finish: once it is not running, pick a pCPU, move it, wake it. */
export function coreMigrateFinish(cs: CoreState, v: VcpuRecord): void {
  if (v.isRunning || !v.migrating) return;
  const pool = v.domain.pool;
  let cpu = pool.ops.pickResource(pool.state, v);
  const allowed = maskAnd(v.hard, pool.cpus);
  if (!maskHas(allowed, cpu)) cpu = maskFirst(allowed.length > 0 ? allowed : pool.cpus);
  v.migrating = false;
  if (pool.ops.migrate) pool.ops.migrate(pool.state, v, cpu);
  else v.pcpu = cpu;
  coreNoteRunnable(cs, v, 'migrate');
  coreVcpuWake(cs, v);
}

function coreOutReason(v: VcpuRecord, p: PcpuRecord, now: number): SchedTraceReason {
  if (v.blocked) return 'block';
  if (v.yieldPending) return 'yield';
  if (!v.online) return 'offline';
  if (v.migrating) return 'migrate';
  if (v.domain.pauseCount > 0) return 'pause';
  if (v.parked || v.pauseCount > 0) return 'park';
  return now >= p.deadline ? 'slice' : 'preempt';
}

/**
 * schedule() on one pCPU: ask the pool's scheduler, switch, account, call context_saved.
 * `forced` runs Xen's tasklet path (idle forced) for evictions, with the given trace reason.
 */
export function coreSchedule(cs: CoreState, cpu: number, forced?: { forceIdle: boolean; reason: SchedTraceReason }): ScheduleDecision {
  const p = cs.pcpus[cpu];
  if (!p) throw new RangeError(`schedule: there is no pCPU ${cpu} (the host has ${cs.nrCpus})`);
  const now = cs.host.now();
  p.resched = false;
  const prev = p.curr;
  const pool = p.pool;
  if (!pool) {
    p.deadline = Infinity;
    return { pcpu: cpu, vcpu: null, until: Infinity };
  }
  const d = pool.ops.doSchedule(pool.state, cpu, prev, now, forced?.forceIdle ?? false);
  const next = d.next as VcpuRecord | null;
  if (next && next !== prev) {
    if (next.isRunning) throw new Error(`sched: d${next.domid}v${next.vcpuId} picked on pCPU ${cpu} while running on pCPU ${next.pcpu}`);
    if (next.domain.pool !== pool) throw new Error(`sched: pool ${pool.name} picked d${next.domid}v${next.vcpuId} of another pool`);
  }
  if (next !== prev) {
    if (prev) {
      const reason = forced?.reason ?? coreOutReason(prev, p, now);
      cs.trace.emit({ t: now, pcpu: cpu, domid: prev.domid, vcpu: prev.vcpuId, event: 'out', reason });
      prev.cpuTime += now - prev.runStart;
      p.busyTime += now - p.busySince;
    }
    if (next) {
      const moved = next.lastRunPcpu !== -1 && next.lastRunPcpu !== cpu;
      next.pcpu = cpu;
      next.isRunning = true;
      next.stateEntryTime = now;
      next.runStart = now;
      next.lastRunPcpu = cpu;
      p.busySince = now;
      cs.trace.emit({ t: now, pcpu: cpu, domid: next.domid, vcpu: next.vcpuId, event: 'in', reason: moved ? 'migrate' : 'pick' });
    }
    p.curr = next;
    if (prev) {
      prev.isRunning = false;
      prev.stateEntryTime = now;
      prev.yieldPending = false;
      pool.ops.contextSaved?.(pool.state, prev);
      coreMigrateFinish(cs, prev);
    }
  } else if (prev) {
    prev.yieldPending = false;
  }
  p.deadline = d.time < 0 ? Infinity : now + d.time;
  const cur = p.curr;
  return { pcpu: cpu, vcpu: cur ? { domid: cur.domid, vcpu: cur.vcpuId } : null, until: p.deadline };
}

/** A decision known in advance (corePeekNext). */
export interface SchedulePeek {
  /** The vCPU schedule(pcpu) would run (possibly the current one), or null to idle. */
  vcpu: VcpuRef | null;
  /**
   * Shortest slice length over the window, from the instant of the call (ns); Infinity = no
   * deadline. The call itself may give a longer one (credit keeps burning), never a shorter one.
   */
  len: number;
}

/**
 * What coreSchedule(cpu) would decide at any instant of [from, until] if nothing else happened
 * first, or null if the pool's scheduler cannot tell (no peekNext, a tickle pending unless
 * `tickled`: the caller asks exactly for the schedule() that tickle requests, an idle pCPU).
 * Changes nothing.
 */
export function corePeekNext(cs: CoreState, cpu: number, from: number, until: number, tickled = false): SchedulePeek | null {
  const p = cs.pcpus[cpu];
  const pool = p?.pool;
  if (!pool || !pool.ops.peekNext || (p.resched && !tickled) || !p.curr || !(from <= until)) return null;
  const prev = p.curr;
  const d = pool.ops.peekNext(pool.state, cpu, prev, from, until);
  if (d === undefined) return null;
  const next = d.next as VcpuRecord | null;
  if (next && next !== prev && (next.isRunning || next.domain.pool !== pool || !next.runnable())) return null;
  return { vcpu: next ? { domid: next.domid, vcpu: next.vcpuId } : null, len: d.time < 0 ? Infinity : d.time };
}

/**
 * What block(running vCPU) then coreSchedule(cpu) would decide at any instant of [from, until] if
 * nothing else happened first, or null if the pool's scheduler cannot tell (no peekBlock, a tickle
 * pending, an idle pCPU). With `picked` (a chain of halts), the same for the last of those vCPUs,
 * which earlier steps switched to and which blocked in turn. Changes nothing.
 */
export function corePeekBlock(cs: CoreState, cpu: number, from: number, until: number, picked: readonly VcpuRecord[] = []): (SchedulePeek & { final: boolean }) | null {
  const p = cs.pcpus[cpu];
  const pool = p?.pool;
  if (!pool || !pool.ops.peekBlock || p.resched || !p.curr || !(from <= until)) return null;
  const prev = picked.length > 0 ? picked[picked.length - 1] : p.curr;
  if (p.curr.blocked || p.curr.migrating || prev.migrating) return null;
  const d = pool.ops.peekBlock(pool.state, cpu, prev, from, until, picked);
  if (d === undefined) return null;
  const next = d.next as VcpuRecord | null;
  if (next === p.curr || (next && (picked.includes(next) || next.isRunning || next.domain.pool !== pool || !next.runnable()))) return null;
  return { vcpu: next ? { domid: next.domid, vcpu: next.vcpuId } : null, len: d.time < 0 ? Infinity : d.time, final: d.final === true };
}

/** Switches a running vCPU off its pCPU at once (domain destroy, pool moves, pCPU removal). */
export function coreEvict(cs: CoreState, cpu: number, reason: SchedTraceReason, forceIdle: boolean): void {
  const p = cs.pcpus[cpu];
  if (!p.curr) return;
  coreSchedule(cs, cpu, { forceIdle, reason });
  p.resched = false;
  coreRequestResched(cs, cpu);
}

/**
 * Xen's cpupool_online_cpumask: the pool's pCPUs that are online. A pool whose pCPUs are all
 * still offline keeps them all, so its work waits for them rather than for nothing.
 */
function coreOnlineCpus(cs: CoreState, pool: PoolRecord): readonly number[] {
  if (cs.offline.size === 0) return pool.cpus;
  const on = pool.cpus.filter((c) => !cs.offline.has(c));
  return on.length > 0 ? on : pool.cpus;
}

/** Builds the SchedContext a pool's scheduler instance talks to. */
export function coreMakeContext(cs: CoreState, pool: () => PoolRecord, poolId: number): SchedContext {
  return {
    poolId,
    nrCpus: cs.nrCpus,
    boot: cs.boot,
    now: () => cs.host.now(),
    cpus: () => coreOnlineCpus(cs, pool()),
    curr: (cpu) => cs.pcpus[cpu]?.curr ?? null,
    tickle: (cpu) => coreRequestResched(cs, cpu),
    setRes: (unit, cpu) => {
      (unit as VcpuRecord).pcpu = cpu;
    },
    setPauseFlag: (unit, flag: SchedPauseFlag, on) => {
      const v = unit as VcpuRecord;
      if (flag === 'parked') v.parked = on;
      else v.migrating = on;
      coreNoteRunnable(cs, v, flag === 'parked' ? 'park' : 'migrate');
    },
    pauseUnit: (unit) => {
      const v = unit as VcpuRecord;
      v.pauseCount++;
      coreNoteRunnable(cs, v, 'park');
      coreVcpuSleep(cs, v);
    },
    unpauseUnit: (unit) => {
      const v = unit as VcpuRecord;
      if (v.pauseCount === 0) return;
      v.pauseCount--;
      coreNoteRunnable(cs, v, 'park');
      if (v.pauseCount === 0) coreVcpuWake(cs, v);
    },
    createTimer: (name, fn) => cs.timers.create(name, fn),
    domains: () => pool().domains,
  };
}

/** The default soft/hard mask: every pCPU of the host (Xen's cpumask_all). */
export function coreAllCpus(cs: CoreState): CpuSet {
  return allCpus(cs.nrCpus);
}

/** True if the vCPU's soft affinity is effective (for views). */
export function coreSoftEffective(v: VcpuRecord): boolean {
  return softAffinityEffective(v.hard, v.soft);
}

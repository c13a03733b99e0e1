/**
 * SchedCore: the scheduling core of the hypervisor (Xen's common/sched/core.c + cpupool.c) behind
 * one class. The five schedulers plug in through SchedOps (sched-ops.ts); the same core runs under
 * the pCPU workers of the engine and under the deterministic simulator (sim/simulator.ts).
 *
 * Design
 * ------
 * - The core keeps pools, domains, vCPUs and pCPUs; each pool has one scheduler instance.
 * - A pCPU calls `schedule(pcpu)` whenever its vCPU stopped (slice over, blocked, yielded, or it
 *   was tickled) and gets back which vCPU to run and until when. The core accounts the run time of
 *   the vCPU that was current on that pCPU and emits switch records to the trace.
 * - Execution events come in as `block`, `wake` and `yield`; administrative operations (create,
 *   destroy, pause, online/offline, pin, pools, parameters) may arrive at any time.
 * - Scheduler timers (credit ticks and accounting, credit2 cap replenishment, RTDS replenishment)
 *   are kept in one queue: the owner calls `runTimers()` when `nextTimer()` is due.
 *
 * Concurrency
 * -----------
 * One thread owns a SchedCore (JavaScript objects cannot be shared between workers); Xen's
 * per-pCPU and runqueue locks become that single owner. pCPU workers reach it through mailboxes:
 * the owner calls `schedule(pcpu)` for them and posts the decision back. `host.tickle(pcpu)` is
 * the owner's way to interrupt a worker; tickles are coalesced until the next schedule of that pCPU.
 * Operations that need a vCPU off its pCPU at once (destroy, cpupool-migrate, cpupool-cpu-remove)
 * reschedule that pCPU internally and tickle it; the worker learns the new decision by calling
 * `schedule(pcpu)` again (a repeated call at the same instant is harmless).
 */
import { maskHas } from './cpumask';
import type { CpuSet } from '../../base/cpulist';
import {
  coreAddDomain,
  coreBlock,
  coreFindDomain,
  coreFindVcpu,
  coreGetDomainParams,
  coreGetVcpuParams,
  corePauseDomain,
  coreRemoveDomain,
  coreSetAffinity,
  coreSetDomainParams,
  coreSetVcpuOnline,
  coreSetVcpuParams,
  coreUnpauseDomain,
  coreWake,
  coreYield,
  type SchedDomainConfig,
} from './core-domains';
import { Credit2EdgeModel } from './credit2-edge-model';
import { CreditEdgeModel } from './credit-edge-model';
import type { CreditState } from './credit-runq';
import { credit2Rqd, type Credit2State } from './credit2-runqueue';
import { corePeekBlock, corePeekNext, coreSchedule, type CoreState, type VcpuRecord, type PcpuRecord, type ScheduleDecision, type SchedHost, type SchedulePeek, type VcpuRef } from './core-records';
import { viewPcpus, viewVcpu, viewXlCpupoolList, viewXlList, viewXlSchedCredit, viewXlSchedRtds, viewXlVcpuList } from './core-view';
import type { PcpuInfo, VcpuInfo, XlCpupoolRow, XlListRow, XlSchedCreditPool, XlSchedRtdsPool, XlVcpuListRow } from './core-view';
import { POOL0_ID, POOL0_NAME, poolCpuAdd, poolCpuRemove, poolCreate, poolDestroy, poolFind, poolGetParams, poolMoveDomain, poolRename, poolSetParams } from './cpupool';
import { schedRefuse } from './sched-error';
import {
  DEFAULT_BOOT_PARAMS,
  findScheduler,
  type DomainSchedParams,
  type DomainSchedUpdate,
  type PoolSchedParams,
  type PoolSchedUpdate,
  type RtdsVcpuParams,
  type SchedBootParams,
  type SchedName,
  type SchedUnitState,
} from './sched-ops';
import { SchedTrace, type SchedTraceListener, type SchedTraceRecord } from './sched-trace';
import { TimerQueue } from './timer-queue';
import './schedulers';

export type { SchedHost, ScheduleDecision, SchedulePeek, VcpuRef } from './core-records';
export type { SchedDomainConfig, VcpuConfig } from './core-domains';

/** How to build a core. */
export interface SchedCoreConfig {
  /** pCPUs of the host (the engine: one per pCPU worker). */
  nrCpus: number;
  /** Scheduler of Pool-0 and default of new pools (Xen's `sched=`); default credit2. */
  scheduler?: SchedName;
  /** Boot options (Xen command line); unspecified ones take Xen's defaults. */
  boot?: Partial<SchedBootParams>;
  /** Trace ring capacity in records. */
  traceCapacity?: number;
  /** A trace subscriber that also sees the boot records (Pool-0's creation). */
  traceListener?: SchedTraceListener;
  /**
   * pCPUs that are not online yet (the engine starts their workers late). They belong to Pool-0
   * and may be named in affinities, but no scheduler places or tickles work on them until
   * setPcpuOnline(); their pools' schedulers see them as Xen sees a CPU not yet brought up.
   */
  offlineCpus?: readonly number[];
}

/** Scheduler core of one host. */
export class SchedCore {
  private readonly cs: CoreState;

  constructor(host: SchedHost, config: SchedCoreConfig) {
    const n = config.nrCpus;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`SchedCore needs at least one pCPU (got ${n})`);
    const sched = config.scheduler ?? 'credit2';
    if (!findScheduler(sched)) throw schedRefuse('sched.unknown', 'EINVAL', `Unknown scheduler "${sched}".`);
    const pcpus: PcpuRecord[] = [];
    for (let cpu = 0; cpu < n; cpu++) pcpus.push({ cpu, pool: null, curr: null, resched: false, deadline: Infinity, busyTime: 0, busySince: 0 });
    this.cs = {
      host,
      nrCpus: n,
      boot: { ...DEFAULT_BOOT_PARAMS, ...config.boot },
      pcpus,
      pools: [],
      domains: new Map(),
      timers: new TimerQueue(),
      trace: new SchedTrace(config.traceCapacity),
      defaultSched: sched,
      offline: new Set(config.offlineCpus?.filter((c) => c > 0 && c < n)),
    };
    if (config.traceListener) this.cs.trace.subscribe(config.traceListener);
    poolCreate(this.cs, POOL0_NAME, sched, pcpus.map((p) => p.cpu), POOL0_ID);
  }

  /** Number of pCPUs. */
  get nrCpus(): number {
    return this.cs.nrCpus;
  }

  /** Boot options in force. */
  get boot(): Readonly<SchedBootParams> {
    return this.cs.boot;
  }

  // ---- pCPU side ------------------------------------------------------------------------------

  /** A pCPU asks what to run next (after its slice ended, a block, a yield or a tickle). */
  schedule(pcpu: number): ScheduleDecision {
    return coreSchedule(this.cs, pcpu);
  }

  /**
   * Which vCPU schedule(pcpu) would pick if the pCPU's vCPU stopped at any instant of
   * [from, until] and nothing else happened first (no wake, block, tickle, parameter change, other
   * pCPU's schedule ...), with the shortest slice it would give there; null if its scheduler
   * cannot tell. Changes nothing. The engine publishes it
   * so the pCPU can switch at its deadline without a round trip, and replays the real schedule()
   * afterwards. `tickled`: answer even though the pCPU has a reschedule pending (the caller asks
   * for the very schedule() that request will make, to publish it with the preemption).
   */
  peekNext(pcpu: number, from: number, until: number, tickled = false): SchedulePeek | null {
    return corePeekNext(this.cs, pcpu, from, until, tickled);
  }

  /**
   * What schedule(pcpu) would decide if the vCPU running there blocked (block(), as for HLT) at
   * any instant of [from, until] with nothing else happening first, or null if the pool's
   * scheduler cannot tell. Side-effect free (the engine's halt decisions).
   */
  peekBlock(pcpu: number, from: number, until: number): SchedulePeek | null {
    return corePeekBlock(this.cs, pcpu, from, until);
  }

  /** The vCPUs a chain's earlier steps picked (peekBlockChain; reused). */
  private readonly chainPicked: VcpuRecord[] = [];

  /**
   * A chain of halt decisions: step 0 is peekBlock's answer; step k what schedule(pcpu) would then
   * decide if the vCPU of step k-1 blocked in turn. Fills `out` (reused by the caller; at most
   * `max` steps, ending before an idle answer or one the scheduler cannot tell) and returns the
   * number of steps. Side-effect free.
   */
  peekBlockChain(pcpu: number, from: number, until: number, max: number, out: SchedulePeek[]): number {
    const picked = this.chainPicked;
    picked.length = 0;
    for (let k = 0; k < max; k++) {
      const d = corePeekBlock(this.cs, pcpu, from, until, picked);
      if (d === null || d.vcpu === null) return k;
      if (out.length <= k) out.push({ vcpu: null, len: 0 });
      out[k].vcpu = d.vcpu;
      out[k].len = d.len;
      if (d.final) return k + 1;
      picked.push(coreFindVcpu(this.cs, d.vcpu.domid, d.vcpu.vcpu));
    }
    return max;
  }

  /** The offered vCPUs of a loadEdgeModel call (reused). */
  private readonly edgeOffered: VcpuRecord[] = [];

  /**
   * Copies pCPU `pcpu`'s pool into `model` (edge-model.ts: the numbers a pCPU steps to take timer
   * edges by itself; a Credit2EdgeModel for a credit2 pool, a CreditEdgeModel for credit), with the
   * blocked vCPUs `offered` it may wake. False if the model is not the pool's scheduler's, a
   * reschedule is pending (under credit2, other than through its tickled mask), or the pool is
   * outside what the model mirrors. Side-effect free.
   */
  loadEdgeModel(pcpu: number, offered: readonly VcpuRef[], model: Credit2EdgeModel | CreditEdgeModel): boolean {
    const p = this.cs.pcpus[pcpu];
    const pool = p?.pool;
    if (!pool) return false;
    const units = this.edgeOffered;
    units.length = 0;
    for (const r of offered) {
      const v = coreFindVcpu(this.cs, r.domid, r.vcpu);
      if (v.domain.pool !== pool) return false;
      units.push(v);
    }
    if (pool.sched === 'credit2' && model instanceof Credit2EdgeModel) {
      const s = pool.state as Credit2State;
      if (p.resched && !credit2Rqd(s, pcpu).tickled.has(pcpu)) return false;
      return model.load(s, pcpu, units);
    }
    if (pool.sched === 'credit' && model instanceof CreditEdgeModel && !p.resched) return model.load(pool.state as CreditState, pcpu, units);
    return false;
  }

  /**
   * The domains of pCPU `pcpu`'s pool with one vCPU that is blocked (online, VPF_blocked, neither it
   * nor its domain paused, not running): the candidates whose timer edges a busy pCPU may take
   * (loadEdgeModel). Writes up to `max` domids into `out` and returns how many. Side-effect free.
   */
  edgeCandidates(pcpu: number, out: number[], max: number): number {
    const pool = this.cs.pcpus[pcpu]?.pool;
    if (!pool) return 0;
    let n = 0;
    for (const d of pool.domains) {
      if (n >= max) break;
      if (d.units.length !== 1 || d.pauseCount !== 0) continue;
      const v = d.units[0];
      if (v.online && v.blocked && v.pauseCount === 0 && !v.isRunning) out[n++] = d.domid;
    }
    return n;
  }

  /** True if vCPU `domid.vcpu` may run on pCPU `pcpu`: that pCPU is in its domain's pool and in its hard affinity. */
  mayRunOn(domid: number, vcpu: number, pcpu: number): boolean {
    const v = coreFindVcpu(this.cs, domid, vcpu);
    return this.cs.pcpus[pcpu]?.pool === v.domain.pool && maskHas(v.hard, pcpu);
  }

  /**
   * True if a runnable vCPU of `pcpu`'s pool runs nowhere (it waits for a pCPU). When none
   * waits, a vCPU of that pool that blocks leaves nothing for its pCPU to pick up, so the owner
   * may learn of the block later (the engine's lazy halts).
   */
  waiting(pcpu: number): boolean {
    const pool = this.cs.pcpus[pcpu]?.pool;
    if (!pool) return false;
    for (const d of pool.domains) {
      for (const v of d.units) if (!v.isRunning && v.runnable()) return true;
    }
    return false;
  }

  /** The lowest pCPU of `pcpu`'s cpupool, or -1 for a pCPU in no pool. */
  poolLeader(pcpu: number): number {
    const pool = this.cs.pcpus[pcpu]?.pool;
    if (!pool || pool.cpus.length === 0) return -1;
    let low = pool.cpus[0];
    for (const c of pool.cpus) if (c < low) low = c;
    return low;
  }

  /** pCPU `pcpu` came online (its worker runs): schedulers may now place and tickle work on it. */
  setPcpuOnline(pcpu: number): void {
    this.cs.offline.delete(pcpu);
  }

  /** True if a tickle for `pcpu` is pending (the next schedule call will clear it). */
  reschedPending(pcpu: number): boolean {
    return this.cs.pcpus[pcpu]?.resched ?? false;
  }

  /** The running vCPU `domid.vcpu` halted (HLT / SCHEDOP_block). */
  block(domid: number, vcpu: number): void {
    coreBlock(this.cs, coreFindVcpu(this.cs, domid, vcpu));
  }

  /** An event (interrupt, event channel, timer) arrived for a blocked vCPU. */
  wake(domid: number, vcpu: number): void {
    coreWake(this.cs, coreFindVcpu(this.cs, domid, vcpu));
  }

  /** The running vCPU yielded (SCHEDOP_yield). */
  yield(domid: number, vcpu: number): void {
    coreYield(this.cs, coreFindVcpu(this.cs, domid, vcpu));
  }

  /** Earliest scheduler timer (ns), Infinity if none. */
  nextTimer(): number {
    return this.cs.timers.next();
  }

  /** Runs every scheduler timer due at host.now(). */
  runTimers(): void {
    this.cs.timers.run(this.cs.host.now());
  }

  // ---- domains and vCPUs ----------------------------------------------------------------------

  /** Creates a domain (running unless `paused`). */
  addDomain(cfg: SchedDomainConfig): void {
    coreAddDomain(this.cs, cfg);
  }

  /** Destroys a domain. */
  removeDomain(domid: number): void {
    coreRemoveDomain(this.cs, coreFindDomain(this.cs, domid));
  }

  /** xl pause: pause count + 1. */
  pauseDomain(domid: number): void {
    corePauseDomain(this.cs, coreFindDomain(this.cs, domid));
  }

  /** xl unpause: pause count - 1. */
  unpauseDomain(domid: number): void {
    coreUnpauseDomain(this.cs, coreFindDomain(this.cs, domid));
  }

  /** VCPUOP_up / VCPUOP_down (xl vcpu-set). */
  setVcpuOnline(domid: number, vcpu: number, online: boolean): void {
    coreSetVcpuOnline(this.cs, coreFindVcpu(this.cs, domid, vcpu), online);
  }

  /** xl vcpu-pin: hard and/or soft affinity (null = unchanged). EINVAL if hard misses the pool. */
  setAffinity(domid: number, vcpu: number, hard: CpuSet | null, soft: CpuSet | null = null): void {
    coreSetAffinity(this.cs, coreFindVcpu(this.cs, domid, vcpu), hard, soft);
  }

  /** Domain scheduling parameters (weight/cap, or RTDS defaults). */
  getDomainParams(domid: number): DomainSchedParams {
    return coreGetDomainParams(coreFindDomain(this.cs, domid));
  }

  /** Sets domain scheduling parameters; EINVAL if `p.sched` is not the domain's pool scheduler. */
  setDomainParams(domid: number, p: DomainSchedUpdate): void {
    coreSetDomainParams(this.cs, coreFindDomain(this.cs, domid), p);
  }

  /** RTDS per-vCPU parameters. */
  getVcpuParams(domid: number, vcpu: number): RtdsVcpuParams {
    return coreGetVcpuParams(coreFindVcpu(this.cs, domid, vcpu));
  }

  /** Sets RTDS per-vCPU parameters (take effect at the next replenishment). */
  setVcpuParams(domid: number, vcpu: number, p: RtdsVcpuParams): void {
    coreSetVcpuParams(this.cs, coreFindVcpu(this.cs, domid, vcpu), p);
  }

  // ---- cpupools -------------------------------------------------------------------------------

  /** xl cpupool-create; returns the new pool id. */
  createPool(name: string, sched?: SchedName | string, cpus: CpuSet = []): number {
    return poolCreate(this.cs, name, sched, cpus).id;
  }

  /** xl cpupool-destroy. */
  destroyPool(pool: number | string): void {
    poolDestroy(this.cs, poolFind(this.cs, pool));
  }

  /** xl cpupool-rename. */
  renamePool(pool: number | string, name: string): void {
    poolRename(this.cs, poolFind(this.cs, pool), name);
  }

  /** xl cpupool-cpu-add (one pCPU). */
  poolAddCpu(pool: number | string, cpu: number): void {
    poolCpuAdd(this.cs, poolFind(this.cs, pool), cpu);
  }

  /** xl cpupool-cpu-remove (one pCPU). */
  poolRemoveCpu(pool: number | string, cpu: number): void {
    poolCpuRemove(this.cs, poolFind(this.cs, pool), cpu);
  }

  /** xl cpupool-migrate. */
  migrateDomain(domid: number, pool: number | string): void {
    poolMoveDomain(this.cs, coreFindDomain(this.cs, domid), poolFind(this.cs, pool));
  }

  /** Per-pool scheduler parameters (or the ARINC 653 schedule). */
  getPoolParams(pool: number | string): PoolSchedParams {
    return poolGetParams(poolFind(this.cs, pool));
  }

  /** Sets per-pool parameters; EINVAL if `p.sched` is not the pool's scheduler. */
  setPoolParams(pool: number | string, p: PoolSchedUpdate): void {
    poolSetParams(poolFind(this.cs, pool), p);
  }

  /** Id of a pool given by name or id. */
  poolId(pool: number | string): number {
    return poolFind(this.cs, pool).id;
  }

  /** Pool id of a domain. */
  domainPool(domid: number): number {
    return coreFindDomain(this.cs, domid).pool.id;
  }

  /** pCPUs of a pool. */
  poolCpus(pool: number | string): number[] {
    return [...poolFind(this.cs, pool).cpus];
  }

  /** pCPUs in no pool. */
  freeCpus(): number[] {
    return this.cs.pcpus.filter((p) => p.pool === null).map((p) => p.cpu);
  }

  /** Scheduler debug dump (Xen's 'r' key) for every pool. */
  dump(): string[] {
    return this.cs.pools.flatMap((p) => p.ops.dump(p.state));
  }

  // ---- observability --------------------------------------------------------------------------

  /** Live state of one vCPU. */
  vcpuInfo(domid: number, vcpu: number): VcpuInfo {
    return viewVcpu(this.cs, coreFindVcpu(this.cs, domid, vcpu));
  }

  /** What the vCPU's scheduler privately holds about it (credit, priority, budget ...). */
  vcpuSchedState(domid: number, vcpu: number): SchedUnitState {
    const v = coreFindVcpu(this.cs, domid, vcpu);
    return v.domain.pool.ops.inspectUnit(v.domain.pool.state, v);
  }

  /** Live state of every vCPU, by domid then vCPU. */
  vcpus(): VcpuInfo[] {
    return [...this.cs.domains.values()].sort((a, b) => a.domid - b.domid).flatMap((d) => d.units.map((v) => viewVcpu(this.cs, v)));
  }

  /** Live state of every pCPU. */
  pcpus(): PcpuInfo[] {
    return viewPcpus(this.cs);
  }

  /** Domain ids, ascending. */
  domainIds(): number[] {
    return [...this.cs.domains.keys()].sort((a, b) => a - b);
  }

  /** Subscribes to the schedule trace; returns the unsubscribe function. */
  subscribeTrace(l: SchedTraceListener): () => void {
    return this.cs.trace.subscribe(l);
  }

  /** Trace records of the last `windowNs` (as far as the ring still holds them). */
  traceSince(windowNs: number): SchedTraceRecord[] {
    return this.cs.trace.since(this.cs.host.now(), windowNs);
  }

  /** Data of `xl list`. */
  xlList(): XlListRow[] {
    return viewXlList(this.cs);
  }

  /** Data of `xl vcpu-list`. */
  xlVcpuList(): XlVcpuListRow[] {
    return viewXlVcpuList(this.cs);
  }

  /** Data of `xl sched-credit`. */
  xlSchedCredit(): XlSchedCreditPool[] {
    return viewXlSchedCredit(this.cs, 'credit');
  }

  /** Data of `xl sched-credit2`. */
  xlSchedCredit2(): XlSchedCreditPool[] {
    return viewXlSchedCredit(this.cs, 'credit2');
  }

  /** Data of `xl sched-rtds`. */
  xlSchedRtds(): XlSchedRtdsPool[] {
    return viewXlSchedRtds(this.cs);
  }

  /** Data of `xl cpupool-list`. */
  xlCpupoolList(): XlCpupoolRow[] {
    return viewXlCpupoolList(this.cs);
  }
}

/**
 * The scheduler plug-in interface: what a scheduler sees of the core (units, domains, services)
 * and the hooks it implements. It mirrors Xen's `struct sched_ops` and the helpers of
 * xen/common/sched/private.h (spec/schedulers.md, "Common scheduler hooks").
 *
 * Design
 * ------
 * One scheduler *instance* per cpupool, created by `init(ctx)`; its private state `S` is what Xen
 * keeps in `ops->sched_data`, and per-pCPU / per-domain / per-unit data live in the scheduler's
 * own maps and in `unit.priv` / `domain.priv` (Xen's sched_priv pointers). Schedulers never
 * touch the CPU emulator or wall-clock time: `ctx.now()` is the injected clock in nanoseconds
 * and every timer goes through `ctx.createTimer`.
 *
 * Concurrency
 * -----------
 * None inside: one hypervisor thread owns every scheduler instance (see core.ts). Where Xen takes
 * runqueue, private or budget locks we simply run the code; lock-ordering tricks that exist only
 * to dodge deadlocks (trylock fallbacks) take the path the lock-free case takes.
 */
import type { CpuSet } from '../../base/cpulist';

/** Scheduler names as libxl_types.idl spells them. */
export type SchedName = 'credit' | 'credit2' | 'rtds' | 'arinc653' | 'null';

/** Every scheduler name, in the order the GUI lists them. */
export const SCHED_NAMES: readonly SchedName[] = ['credit', 'credit2', 'rtds', 'arinc653', 'null'];

/** Xen scheduler ids (xen/include/public/domctl.h XEN_SCHEDULER_*). */
export const SCHED_ID: Record<SchedName, number> = {
  credit: 5,
  credit2: 6,
  arinc653: 7,
  rtds: 8,
  null: 9,
};

/** The core's domain record as schedulers see it (Xen's struct domain, the parts they read). */
export interface SchedDomain {
  readonly domid: number;
  readonly name: string;
  /** Xen domain handle (16-byte UUID) as text; ARINC 653 schedule entries refer to it. */
  readonly uuid: string;
  /** Control domain (dom0): ARINC 653 appends its vCPUs to the default schedule. */
  readonly isControl: boolean;
  /** Every vCPU (0..maxvcpus-1), online or not. */
  readonly units: readonly SchedUnit[];
  /** Scheduler-private per-domain data (Xen's d->sched_priv). */
  priv: unknown;
}

/** The core's vCPU record as schedulers see it (Xen's struct sched_unit with granularity 1). */
export interface SchedUnit {
  readonly domain: SchedDomain;
  readonly domid: number;
  readonly vcpuId: number;
  /** Hard affinity exactly as stored (may name pCPUs outside the pool). */
  readonly hard: CpuSet;
  /** Soft affinity exactly as stored. */
  readonly soft: CpuSet;
  /** The pCPU the unit is assigned to (Xen's unit->res / v->processor). */
  readonly pcpu: number;
  /** True while the unit is the current one on its pCPU. */
  readonly isRunning: boolean;
  /** Time of the last run-state change (switch in / out), Xen's state_entry_time. */
  readonly stateEntryTime: number;
  /** Not offline (Xen's is_unit_online: VPF_down clear). */
  readonly online: boolean;
  /** Xen's unit_runnable: not blocked, offline, paused, parked or migrating. */
  runnable(): boolean;
  /** Scheduler-private per-unit data (Xen's unit->priv). */
  priv: unknown;
}

/** A one-shot timer owned by a scheduler (Xen's struct timer with set_timer/stop_timer). */
export interface SchedTimer {
  /** Arms (or re-arms) the timer to fire at `when` (absolute ns). */
  set(when: number): void;
  /** Disarms it. */
  stop(): void;
  /** True while armed. */
  readonly active: boolean;
  /** Expiry time while armed. */
  readonly expires: number;
}

/** Pause flags a scheduler may set or clear without going through sleep/wake. */
export type SchedPauseFlag = 'parked' | 'migrating';

/** Boot-time ("Xen command line") options, fixed for the life of the core. */
export interface SchedBootParams {
  /** sched_ratelimit_us, default for credit and credit2 pools. */
  ratelimitUs: number;
  /** sched_credit_tslice_ms. */
  creditTsliceMs: number;
  /** vcpu_migration_delay (credit), us. */
  creditMigrationDelayUs: number;
  /** load-balance-ratelimit (credit), us. */
  creditLoadBalanceRatelimitUs: number;
  /** tickle_one_idle_cpu (credit). */
  creditTickleOneIdle: boolean;
  /** Test hook, not in Xen: credit1 never boosts waking vCPUs (spec P8 control run). */
  creditNoBoost: boolean;
  /** credit2_runqueue: runqueue arrangement for new credit2 pools. */
  credit2Runqueue: Credit2Runqueue;
  /** sched_credit2_migrate_resist, us. */
  credit2MigrateResistUs: number;
  /** credit2_cap_period_ms. */
  credit2CapPeriodMs: number;
  /** credit2_load_window_shift. */
  credit2LoadWindowShift: number;
  /** credit2_load_precision_shift. */
  credit2LoadPrecisionShift: number;
  /** credit2_balance_under. */
  credit2BalanceUnder: number;
  /** credit2_balance_over. */
  credit2BalanceOver: number;
  /** sched_credit2_max_cpus_runqueue. */
  credit2MaxCpusRunqueue: number;
}

/** credit2 runqueue arrangements (boot `credit2_runqueue`). */
export type Credit2Runqueue = 'cpu' | 'core' | 'socket' | 'node' | 'all';

/** Xen's defaults for every boot option (spec sections 1.1, 1.10, 2.1). */
export const DEFAULT_BOOT_PARAMS: SchedBootParams = {
  ratelimitUs: 1000,
  creditTsliceMs: 30,
  creditMigrationDelayUs: 0,
  creditLoadBalanceRatelimitUs: 1000,
  creditTickleOneIdle: true,
  creditNoBoost: false,
  credit2Runqueue: 'socket',
  credit2MigrateResistUs: 500,
  credit2CapPeriodMs: 10,
  credit2LoadWindowShift: 30,
  credit2LoadPrecisionShift: 18,
  credit2BalanceUnder: 0,
  credit2BalanceOver: -3,
  credit2MaxCpusRunqueue: 16,
};

/** The services the core offers a scheduler instance (Xen's core.c/private.h helpers). */
export interface SchedContext {
  /** Cpupool id of this instance. */
  readonly poolId: number;
  /** Number of pCPUs of the host (Xen's nr_cpu_ids / num_online_cpus). */
  readonly nrCpus: number;
  /** Boot options. */
  readonly boot: SchedBootParams;
  /** NOW(): current time in ns. */
  now(): number;
  /** The pool's pCPUs (cpupool cpu_valid), sorted. */
  cpus(): CpuSet;
  /** curr_on_cpu: the unit running on a pCPU, or null for its idle vCPU. */
  curr(cpu: number): SchedUnit | null;
  /** cpu_raise_softirq(cpu, SCHEDULE_SOFTIRQ). */
  tickle(cpu: number): void;
  /** sched_set_res: assign a unit to a pCPU. */
  setRes(unit: SchedUnit, cpu: number): void;
  /** sched_set_pause_flags / sched_clear_pause_flags (no sleep/wake hook is called). */
  setPauseFlag(unit: SchedUnit, flag: SchedPauseFlag, on: boolean): void;
  /** sched_unit_pause_nosync: pause count + sleep hook (credit1 parking). */
  pauseUnit(unit: SchedUnit): void;
  /** sched_unit_unpause: pause count - 1 and wake when it reaches 0. */
  unpauseUnit(unit: SchedUnit): void;
  /** init_timer: a timer whose expiry runs `fn` on the owner thread. */
  createTimer(name: string, fn: () => void): SchedTimer;
  /** Domains of this pool, in creation order. */
  domains(): readonly SchedDomain[];
}

/** do_schedule's answer (Xen's prev->next_task and prev->next_time). */
export interface SchedDecision {
  /** Unit to run next, or null for the idle vCPU. */
  next: SchedUnit | null;
  /** Slice length in ns; -1 = no timer. */
  time: number;
  /** True if `next` was pulled from another pCPU. */
  migrated: boolean;
}

/**
 * A decision known in advance (peekNext): the unit doSchedule would pick at every instant of a
 * window, and the shortest slice it would give over the window (the exact length depends on the
 * instant: credit keeps burning).
 */
export interface SchedPeek {
  /** Unit to run next (possibly the current one), or null for the idle vCPU. */
  next: SchedUnit | null;
  /** Shortest slice length over the window in ns; -1 = no timer. */
  time: number;
  /** peekBlock: the decision changes state a later step of a chain depends on (an epoch end). */
  final?: boolean;
}

/** Per-domain credit/credit2 parameters (xen_domctl_sched_credit{,2}). */
export interface CreditDomainParams {
  weight: number;
  /** Percent of one pCPU; 0 = no cap. */
  cap: number;
}

/** Per-vCPU RTDS parameters as the interface carries them (microseconds). */
export interface RtdsVcpuParams {
  periodUs: number;
  budgetUs: number;
  extratime: boolean;
}

/** Domain-level parameters, tagged with the scheduler they are meant for. */
export type DomainSchedParams =
  | ({ sched: 'credit' } & CreditDomainParams)
  | ({ sched: 'credit2' } & CreditDomainParams)
  | ({ sched: 'rtds' } & RtdsVcpuParams)
  | { sched: 'arinc653' }
  | { sched: 'null' };

/** Partial domain-level update: fields left out keep their values. */
export type DomainSchedUpdate =
  | ({ sched: 'credit' } & Partial<CreditDomainParams>)
  | ({ sched: 'credit2' } & Partial<CreditDomainParams>)
  | ({ sched: 'rtds' } & Partial<RtdsVcpuParams>)
  | { sched: 'arinc653' }
  | { sched: 'null' };

/** credit1 per-pool parameters (xen_sysctl_credit_schedule). */
export interface CreditPoolParams {
  tsliceMs: number;
  ratelimitUs: number;
  migrationDelayUs: number;
}

/** credit2 per-pool parameters (xen_sysctl_credit2_schedule, plus our runqueue extension). */
export interface Credit2PoolParams {
  ratelimitUs: number;
  /** Runqueue arrangement; a boot option in Xen, changeable at run time here (extension). */
  runqueue: Credit2Runqueue;
}

/** One ARINC 653 schedule entry (xen_sysctl_arinc653_schedule.sched_entries[]). */
export interface Arinc653Entry {
  /** Domain handle (UUID) of the partition. */
  uuid: string;
  vcpu: number;
  /** Window length in ns. */
  runtime: number;
}

/** An ARINC 653 schedule (xen_sysctl_arinc653_schedule). */
export interface Arinc653Schedule {
  /** Major frame in ns. */
  majorFrame: number;
  entries: Arinc653Entry[];
}

/** Pool-level parameters, tagged with the scheduler. */
export type PoolSchedParams =
  | ({ sched: 'credit' } & CreditPoolParams)
  | ({ sched: 'credit2' } & Credit2PoolParams)
  | { sched: 'rtds' }
  | ({ sched: 'arinc653' } & Arinc653Schedule)
  | { sched: 'null' };

/** Partial pool-level update. */
export type PoolSchedUpdate =
  | ({ sched: 'credit' } & Partial<CreditPoolParams>)
  | ({ sched: 'credit2' } & Partial<Credit2PoolParams>)
  | { sched: 'rtds' }
  | ({ sched: 'arinc653' } & Arinc653Schedule)
  | { sched: 'null' };

/**
 * The hooks of one scheduler. `S` is the instance state created by `init`. Methods use the
 * shorthand syntax so an `SchedOps<CreditState>` can sit in the registry as `SchedOps<unknown>`.
 */
export interface SchedOps<S> {
  /** libxl name (`opt_name`). */
  readonly name: SchedName;
  /** XEN_SCHEDULER_* id. */
  readonly id: number;
  /** Xen's long name, e.g. "SMP Credit Scheduler". */
  readonly longName: string;
  /** init: create the per-pool instance. */
  init(ctx: SchedContext): S;
  /** deinit: the pool is destroyed (it has no pCPUs and no domains any more). */
  deinit(s: S): void;
  /** switch_sched/init_pdata: a pCPU joins the pool (it runs its idle vCPU). */
  initPcpu(s: S, cpu: number): void;
  /** deinit_pdata: a pCPU leaves the pool (no unit is assigned to it any more). */
  deinitPcpu(s: S, cpu: number): void;
  /** alloc_domdata: a domain enters the pool. */
  initDomain(s: S, dom: SchedDomain): void;
  /** free_domdata: a domain leaves the pool (its units were removed already). */
  destroyDomain(s: S, dom: SchedDomain): void;
  /** alloc_udata + insert_unit: the unit is not runnable yet (its domain is paused). */
  insertUnit(s: S, unit: SchedUnit): void;
  /** remove_unit + free_udata: the unit is not running and not runnable. */
  removeUnit(s: S, unit: SchedUnit): void;
  /** sleep: the unit stopped being runnable. */
  sleep(s: S, unit: SchedUnit): void;
  /** wake: the unit became runnable. */
  wake(s: S, unit: SchedUnit): void;
  /** yield: SCHEDOP_yield (optional in Xen). */
  yield?(s: S, unit: SchedUnit): void;
  /** do_schedule on `cpu` (`forceIdle` = Xen's tasklet_work_scheduled). */
  doSchedule(s: S, cpu: number, prev: SchedUnit | null, now: number, forceIdle: boolean): SchedDecision;
  /**
   * Not in Xen: the unit doSchedule(cpu, prev, t) would pick for EVERY instant t in [from, until]
   * if nothing else happened first, and a slice length no longer than it would give at any of
   * them, without changing any state; undefined when the scheduler
   * cannot tell (the pCPU then asks at its deadline as usual). Lets a pCPU switch VCPUs at its
   * slice end without a round trip to the hypervisor thread (docs/architecture.md, "The exit
   * protocol"). `prev` is the unit running on `cpu`.
   */
  peekNext?(s: S, cpu: number, prev: SchedUnit, from: number, until: number): SchedPeek | undefined;
  /**
   * Not in Xen: like peekNext, but for `prev` blocking (HLT) at an instant of [from, until] rather
   * than being preempted: what sleep then doSchedule would pick. Lets a pCPU switch to the next
   * vCPU when its vCPU halts, without a round trip (docs/architecture.md, "Halt decisions").
   * `picked` (a chain): the units earlier steps switched to, each blocking in turn; `prev` is the
   * last of them.
   */
  peekBlock?(s: S, cpu: number, prev: SchedUnit, from: number, until: number, picked?: readonly SchedUnit[]): SchedPeek | undefined;
  /** context_saved: `unit` has been switched out. */
  contextSaved?(s: S, unit: SchedUnit): void;
  /** pick_resource: a pCPU for the unit (within hard affinity ∩ pool). */
  pickResource(s: S, unit: SchedUnit): number;
  /** migrate: move the unit to `cpu` (default: setRes). */
  migrate?(s: S, unit: SchedUnit, cpu: number): void;
  /** adjust_affinity: hard and/or soft affinity are about to change to the given masks. */
  adjustAffinity?(s: S, unit: SchedUnit, hard: CpuSet | null, soft: CpuSet | null): void;
  /** adjust getinfo. */
  getDomainParams(s: S, dom: SchedDomain): DomainSchedParams;
  /** adjust putinfo (already checked to be for this scheduler). */
  setDomainParams(s: S, dom: SchedDomain, p: DomainSchedUpdate): void;
  /** adjust getvcpuinfo (RTDS only). */
  getVcpuParams?(s: S, unit: SchedUnit): RtdsVcpuParams;
  /** adjust putvcpuinfo (RTDS only). */
  setVcpuParams?(s: S, unit: SchedUnit, p: RtdsVcpuParams): void;
  /** adjust_global getinfo. */
  getPoolParams(s: S): PoolSchedParams;
  /** adjust_global putinfo (already checked to be for this scheduler). */
  setPoolParams(s: S, p: PoolSchedUpdate): void;
  /** dump_settings + dump_cpu_state, as text lines ('r' debug key). */
  dump(s: S): string[];
  /** What the scheduler privately thinks of a unit (credit, priority, budget ...), for the GUI. */
  inspectUnit(s: S, unit: SchedUnit): SchedUnitState;
}

/** Scheduler-private facts about one unit, e.g. { credit: -120, pri: 'OVER' }. */
export type SchedUnitState = Record<string, number | string | boolean>;

const registry = new Map<SchedName, SchedOps<unknown>>();

/** REGISTER_SCHEDULER: called once at the end of each scheduler file. */
export function registerScheduler<S>(ops: SchedOps<S>): void {
  registry.set(ops.name, ops as SchedOps<unknown>);
}

/** Looks a scheduler up by name; undefined if it is not registered. */
export function findScheduler(name: string): SchedOps<unknown> | undefined {
  return registry.get(name as SchedName);
}

/** Names of the registered schedulers. */
export function registeredSchedulers(): SchedName[] {
  return [...registry.keys()];
}

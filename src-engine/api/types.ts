/**
 * Data the engine API returns: hosts, domains, VCPUs, pools, schedulers, consoles, statistics.
 * Plain JSON-safe data (console bytes excepted, which carriers encode), so the same values travel
 * in-process, over Electron's MessagePort, over the daemon's socket and over WebSocket.
 */
import type { DomainConfig } from './domain-config';

/** A domain or a VCPU is named by ID or by name, as in xl. */
export type DomainRef = number | string;

/** The five Xen schedulers Domus implements. */
export type SchedulerName = 'credit' | 'credit2' | 'rtds' | 'arinc653' | 'null';

/** Run state of a domain, as `xl list` shows it (r b p s c d) plus the engine's view. */
export type DomainRunState = 'running' | 'blocked' | 'paused' | 'shutdown' | 'crashed' | 'dying';

/** Why a domain shut down. */
export type ShutdownReasonName = 'poweroff' | 'reboot' | 'suspend' | 'crash' | 'watchdog' | 'soft_reset' | 'debug-exit' | 'halted';

/** `xl info`-like facts about the host and the engine. */
export interface HostInfo {
  hostname: string;
  engineVersion: string;
  /** pCPU workers the engine runs. */
  nrPcpus: number;
  /** CPUs of the host machine. */
  hostCpus: number;
  /** More pCPUs than host CPUs. */
  oversubscribed: boolean;
  totalMemoryMiB: number;
  freeMemoryMiB: number;
  /** Scheduler of Pool-0. */
  defaultScheduler: SchedulerName;
  uptimeSeconds: number;
}

/** One row of `xl list`, plus what the GUI shows beside it. */
export interface DomainSummary {
  domid: number;
  name: string;
  uuid: string;
  type: 'hvm' | 'pvh';
  state: DomainRunState;
  shutdownReason: ShutdownReasonName | undefined;
  /** Detail of a crash or shutdown (triple fault message, debug-exit status). */
  shutdownDetail: string | undefined;
  memoryMiB: number;
  /** Balloon target (xl mem-set); the guest gives memory back only with a balloon driver. */
  targetMiB: number;
  maxmemMiB: number;
  onlineVcpus: number;
  maxVcpus: number;
  cpuSeconds: number;
  pool: string;
  /** The library entry this domain was started from, if any. */
  libraryName: string | undefined;
}

/** A domain with its configuration and VCPUs. */
/** A text-mode screen (VGA mode 3) as the guest shows it. */
export interface TextScreen {
  cols: number;
  rows: number;
  /** The rows as text (code page 437 decoded to Unicode), each `cols` characters long. */
  lines: string[];
  /** One attribute byte per cell, row-major (bits 0-3 foreground, 4-6 background, 7 blink). */
  attrs: number[];
  cursor: { row: number; col: number; visible: boolean };
}

export interface DomainDetail extends DomainSummary {
  config: DomainConfig;
  vcpus: VcpuInfo[];
  /** VM exits by reason since creation. */
  exits: Record<string, number>;
  instructions: number;
}

/** One row of `xl vcpu-list`. */
export interface VcpuInfo {
  domid: number;
  name: string;
  vcpu: number;
  /** pCPU it runs on, or last ran on; -1 if never / offline. */
  pcpu: number;
  state: 'running' | 'runnable' | 'blocked' | 'paused' | 'offline';
  cpuSeconds: number;
  /** Hard and soft affinity as stored (CPU numbers). */
  hard: number[];
  soft: number[];
  /** Effective hard affinity: hard ∩ the pool's pCPUs. */
  effective: number[];
}

/** Per-pool scheduler parameters (the -s forms of xl sched-*). */
export interface PoolSchedParams {
  /** credit: time slice and migration delay. */
  tsliceMs?: number;
  ratelimitUs?: number;
  migrationDelayUs?: number;
}

/** One minor frame of an ARINC 653 schedule. */
export interface Arinc653Entry {
  domain: DomainRef;
  vcpu: number;
  runtimeUs: number;
}

/** An ARINC 653 schedule (major frame of minor frames). */
export interface Arinc653Schedule {
  majorFrameUs: number;
  entries: Arinc653Entry[];
}

/** A cpupool (`xl cpupool-list`). */
export interface PoolInfo {
  id: number;
  name: string;
  scheduler: SchedulerName;
  cpus: number[];
  domains: number[];
  params: PoolSchedParams;
  arinc653?: Arinc653Schedule;
}

/** RTDS parameters of one VCPU. */
export interface RtdsVcpuParams {
  periodUs: number;
  budgetUs: number;
  extratime: boolean;
}

/** A domain's scheduler parameters. */
export interface DomainSchedInfo {
  scheduler: SchedulerName;
  weight?: number;
  cap?: number;
  rtds?: RtdsVcpuParams[];
}

/** One schedule trace record: at time t, pCPU ran (domid, vcpu) from then on (-1 = idle). */
/** What a schedule trace record reports (the scheduler core's events). */
export type TraceEventName =
  | 'in' | 'out' | 'wake' | 'block' | 'yield' | 'runnable' | 'unrunnable' | 'affinity' | 'pool' | 'destroy' | 'pool-cpus';

/**
 * One schedule trace record. Switches are 'in' (a VCPU starts on the pCPU) and 'out' (it stops);
 * the other events are state changes of the VCPU (domid/vcpu -1 for pool-wide records).
 */
export interface TraceRecord {
  /** Engine time, ns. */
  t: number;
  pcpu: number;
  domid: number;
  vcpu: number;
  event: TraceEventName;
  /** Why it was switched ('slice', 'preempt', 'block', ...); '' when the event has no reason. */
  reason: string;
}

/** Periodic statistics for graphs. */
export interface StatsSample {
  /** Engine time of the sample, ms since the engine started. */
  t: number;
  /** Load of each pCPU over the last interval, 0..1. */
  pcpuLoad: number[];
  domains: {
    domid: number;
    /** CPU use over the last interval, in % of one pCPU (can exceed 100 with several VCPUs). */
    cpuPercent: number;
    vcpuPercent: number[];
    memoryMiB: number;
    /** Exits per second by reason over the last interval. */
    exitRates: Record<string, number>;
    mips: number;
  }[];
}

/** A configuration in the domain library (the user's .cfg files). */
export interface LibraryEntry {
  name: string;
  file: string;
  /** The parsed config, if it is valid. */
  config: DomainConfig | undefined;
  /** Problems that make it unusable (file:line:column messages). */
  errors: string[];
  warnings: string[];
  /** Domain ID if it is running. */
  domid: number | undefined;
}

/** An engine log record (`domus dmesg`). */
export interface LogEntry {
  time: number;
  level: 'debug' | 'info' | 'warn' | 'error';
  source: string;
  message: string;
}

/** An API error as it crosses a carrier. */
export interface ApiError {
  code: string;
  message: string;
  subject?: string;
}

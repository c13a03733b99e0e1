/**
 * The engine API: every request a client can make, with its parameters and result types, and the
 * runtime schema each carrier validates inbound parameters against. One definition, carried
 * in-process (tests), over Electron's MessagePort, over the daemon's local socket (the CLI) and
 * over WebSocket (`domus serve`).
 */
import type { DomainConfig } from './domain-config';
import type {
  Arinc653Schedule, DomainDetail, DomainRef, TextScreen, DomainSchedInfo, DomainSummary, HostInfo, LibraryEntry, LogEntry,
  PoolInfo, PoolSchedParams, RtdsVcpuParams, SchedulerName, StatsSample, TraceRecord, VcpuInfo,
} from './types';
import type { EngineEventName } from './events';
import type { IsoWizardPreview, IsoWizardRequest, WhatIfRequest, WhatIfResult } from './tools';
import {
  any, arrayOf, bool, bytes, domainRef, either, int, object, oneOf, optional, range, str, type Check,
} from './validate';

const schedName = oneOf(['credit', 'credit2', 'rtds', 'arinc653', 'null']);
const poolRef = either(range(0, 1024), str);
const rtdsParams = object({ periodUs: range(1, 0x7fffffff), budgetUs: range(1, 0x7fffffff), extratime: bool });

/** Request name -> parameters and result. */
export interface EngineMethods {
  'host.info': { params: Record<string, never>; result: HostInfo };
  'domain.list': { params: Record<string, never>; result: DomainSummary[] };
  'domain.get': { params: { domain: DomainRef }; result: DomainDetail };
  /** The VGA text screen of a BIOS-booted domain (null for direct boots, which have no VGA). */
  'domain.screen': { params: { domain: DomainRef }; result: TextScreen | null };
  /**
   * Creates and (unless paused) starts a domain from an xl.cfg text, a typed config, or a library
   * entry; `overrides` are xl's `key=value` command-line settings.
   */
  'domain.create': {
    params: { xlcfg?: string; file?: string; config?: DomainConfig; library?: string; overrides?: string[]; paused?: boolean };
    result: { domid: number; name: string; warnings: string[] };
  };
  'domain.pause': { params: { domain: DomainRef }; result: null };
  'domain.unpause': { params: { domain: DomainRef }; result: null };
  'domain.shutdown': { params: { domain: DomainRef }; result: null };
  'domain.reboot': { params: { domain: DomainRef }; result: null };
  'domain.destroy': { params: { domain: DomainRef }; result: null };
  'domain.save': { params: { domain: DomainRef; file?: string }; result: { file: string } };
  'domain.restore': { params: { file: string; paused?: boolean }; result: { domid: number; name: string } };
  'domain.setVcpus': { params: { domain: DomainRef; count: number }; result: null };
  'domain.memSet': { params: { domain: DomainRef; mib: number }; result: null };
  'domain.memMax': { params: { domain: DomainRef; mib: number }; result: null };
  'vcpu.list': { params: { domain?: DomainRef }; result: VcpuInfo[] };
  /** `xl vcpu-pin DOMAIN VCPU HARD [SOFT]`: CPU lists in Xen syntax, "-" keeps the current one. */
  'vcpu.pin': { params: { domain: DomainRef; vcpu: number | 'all'; hard?: string; soft?: string }; result: null };
  'sched.get': { params: { domain: DomainRef }; result: DomainSchedInfo };
  'sched.set': {
    params: { domain: DomainRef; weight?: number; cap?: number; rtds?: { vcpu: number | 'all'; params: RtdsVcpuParams }[] };
    result: null;
  };
  'pool.list': { params: Record<string, never>; result: PoolInfo[] };
  'pool.create': { params: { name: string; scheduler?: SchedulerName; cpus?: string }; result: PoolInfo };
  'pool.destroy': { params: { pool: number | string }; result: null };
  'pool.rename': { params: { pool: number | string; name: string }; result: null };
  'pool.cpuAdd': { params: { pool: number | string; cpus: string }; result: null };
  'pool.cpuRemove': { params: { pool: number | string; cpus: string }; result: null };
  'pool.migrate': { params: { domain: DomainRef; pool: number | string }; result: null };
  'pool.setParams': { params: { pool: number | string; params: PoolSchedParams }; result: null };
  /** Switches a pool's scheduler (its domains move out and back; affinities reset, as in Xen). */
  'pool.setScheduler': { params: { pool: number | string; scheduler: SchedulerName }; result: PoolInfo };
  'pool.setArinc653': { params: { pool: number | string; schedule: Arinc653Schedule }; result: null };
  /** The scheduler simulator's preview of a pool configuration (no guest is touched). */
  'sim.whatIf': { params: { scenario: WhatIfRequest }; result: WhatIfResult };
  'console.write': { params: { domain: DomainRef; com?: number; data: Uint8Array | string }; result: null };
  /** The last bytes a console printed (scrollback for a new client). */
  'console.history': { params: { domain: DomainRef; com?: number }; result: { data: Uint8Array } };
  'trace.recent': { params: { seconds: number }; result: TraceRecord[] };
  'stats.last': { params: Record<string, never>; result: StatsSample | undefined };
  'log.dmesg': { params: { clear?: boolean }; result: LogEntry[] };
  'library.list': { params: Record<string, never>; result: LibraryEntry[] };
  'library.get': { params: { name: string }; result: LibraryEntry & { text: string } };
  /** Validates and writes (atomically) a config; refuses invalid text with its file:line:col errors. */
  'library.save': { params: { name: string; text: string }; result: LibraryEntry };
  'library.delete': { params: { name: string }; result: null };
  /** Domain 0's view of xenstore: xenstore.ls is the tree below `path` as xenstore-ls prints it. */
  'xenstore.ls': { params: { path: string }; result: string };
  'xenstore.read': { params: { path: string }; result: string };
  'xenstore.write': { params: { path: string; value: string }; result: null };
  'xenstore.rm': { params: { path: string }; result: null };
  /** Sets a watch on `path` for this connection: xenstore events follow until unwatch or disconnect. */
  'xenstore.watch': { params: { path: string }; result: { watchId: number } };
  'xenstore.unwatch': { params: { watchId: number }; result: null };
  /** Parses and validates an xl.cfg text as library.save would, without writing anything. */
  'library.check': { params: { name?: string; text: string }; result: LibraryEntry };
  /**
   * Adds the "Debian test VM" (the Linux test image of docs/linux-guests.md, booted directly) to
   * the library, or returns it if it is there; refused, naming the command, before the image is built.
   */
  'library.addDebianTestVm': { params: Record<string, never>; result: LibraryEntry };
  'events.subscribe': { params: { events: EngineEventName[]; domains?: number[] }; result: null };
  'iso.preview': { params: { input: IsoWizardRequest }; result: IsoWizardPreview };
  /** Starts a build; progress arrives as task events, whose final `result` is an IsoBuildReport. */
  'iso.build': { params: { input: IsoWizardRequest }; result: { taskId: string } };
}

/** A request name. */
export type EngineMethod = keyof EngineMethods;
/** Parameters of a request. */
export type ParamsOf<M extends EngineMethod> = EngineMethods[M]['params'];
/** Result of a request. */
export type ResultOf<M extends EngineMethod> = EngineMethods[M]['result'];

const none = object({});
const dom = object({ domain: domainRef });

/** The schema of every method's parameters (carriers validate against it). */
export const METHOD_SCHEMAS: Record<EngineMethod, Check> = {
  'host.info': none,
  'domain.list': none,
  'domain.get': dom,
  'domain.screen': dom,
  'domain.create': object({
    xlcfg: optional(str),
    file: optional(str),
    config: optional(any),
    library: optional(str),
    overrides: optional(arrayOf(str, 256)),
    paused: optional(bool),
  }),
  'domain.pause': dom,
  'domain.unpause': dom,
  'domain.shutdown': dom,
  'domain.reboot': dom,
  'domain.destroy': dom,
  'domain.save': object({ domain: domainRef, file: optional(str) }),
  'domain.restore': object({ file: str, paused: optional(bool) }),
  'domain.setVcpus': object({ domain: domainRef, count: range(1, 128) }),
  'domain.memSet': object({ domain: domainRef, mib: range(1, 1 << 20) }),
  'domain.memMax': object({ domain: domainRef, mib: range(1, 1 << 20) }),
  'vcpu.list': object({ domain: optional(domainRef) }),
  'vcpu.pin': object({ domain: domainRef, vcpu: either(range(0, 127), oneOf(['all'])), hard: optional(str), soft: optional(str) }),
  'sched.get': dom,
  'sched.set': object({
    domain: domainRef,
    weight: optional(range(1, 65535)),
    cap: optional(range(0, 65535)),
    rtds: optional(arrayOf(object({ vcpu: either(range(0, 127), oneOf(['all'])), params: rtdsParams }), 128)),
  }),
  'pool.list': none,
  'pool.create': object({ name: str, scheduler: optional(schedName), cpus: optional(str) }),
  'pool.destroy': object({ pool: poolRef }),
  'pool.rename': object({ pool: poolRef, name: str }),
  'pool.cpuAdd': object({ pool: poolRef, cpus: str }),
  'pool.cpuRemove': object({ pool: poolRef, cpus: str }),
  'pool.migrate': object({ domain: domainRef, pool: poolRef }),
  'pool.setParams': object({
    pool: poolRef,
    params: object({ tsliceMs: optional(range(1, 1000)), ratelimitUs: optional(range(0, 500000)), migrationDelayUs: optional(range(0, 100000)) }),
  }),
  'pool.setScheduler': object({ pool: poolRef, scheduler: schedName }),
  'pool.setArinc653': object({
    pool: poolRef,
    schedule: object({
      majorFrameUs: range(1, 0x7fffffff),
      entries: arrayOf(object({ domain: domainRef, vcpu: range(0, 127), runtimeUs: range(1, 0x7fffffff) }), 64),
    }),
  }),
  'sim.whatIf': object({ scenario: any }),
  'console.write': object({ domain: domainRef, com: optional(range(0, 4)), data: either(bytes, str) }),
  'console.history': object({ domain: domainRef, com: optional(range(0, 4)) }),
  'trace.recent': object({ seconds: range(1, 600) }),
  'stats.last': none,
  'log.dmesg': object({ clear: optional(bool) }),
  'library.list': none,
  'library.get': object({ name: str }),
  'library.save': object({ name: str, text: str }),
  'library.delete': object({ name: str }),
  'library.check': object({ name: optional(str), text: str }),
  'library.addDebianTestVm': none,
  'xenstore.ls': object({ path: str }),
  'xenstore.read': object({ path: str }),
  'xenstore.write': object({ path: str, value: str }),
  'xenstore.rm': object({ path: str }),
  'xenstore.watch': object({ path: str }),
  'xenstore.unwatch': object({ watchId: int }),
  'events.subscribe': object({ events: arrayOf(oneOf(['console', 'domain', 'pool', 'stats', 'trace', 'task', 'log', 'engine']), 16), domains: optional(arrayOf(int, 4096)) }),
  'iso.preview': object({ input: any }),
  'iso.build': object({ input: any }),
};

/** Checks a request; returns an error message or undefined. */
export function validateRequest(method: string, params: unknown): string | undefined {
  const schema = (METHOD_SCHEMAS as Record<string, Check | undefined>)[method];
  if (schema === undefined) return `unknown method "${method}"`;
  const e = schema(params ?? {}, '');
  return e === undefined ? undefined : `bad parameters for ${method}: ${e}`;
}

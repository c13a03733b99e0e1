/**
 * EngineService: the engine plus the toolstack around it (dom0's job in Xen): domain names, the
 * library of configs, console history and logs, statistics and the schedule trace, and the
 * implementation of every API method. One instance per engine process; the daemon, `domus
 * serve` and the Electron app's utility process each run one.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { DomusError, errorMessage, HypervisorError } from '../../base/errors';
import type { CpuTopology } from '../../base/cpulist';
import type { DomainConfig } from '../../api/domain-config';
import type { EngineMethod, EngineMethods } from '../../api/methods';
import type { DomainSummary, HostInfo, LogEntry, StatsSample, TraceRecord } from '../../api/types';
import { parseDomainConfig } from '../../config/domain-config-parse';
import { formatProblem } from '../../config/xlcfg-problems';
import { Engine, type EngineOptions } from '../../runtime/engine';
import type { EngineHost } from '../../runtime/thread-env';
import { ApiConnection, ApiService, EventHub, ServiceConnection } from './api-service';
import { appendConsoleLog, ConsoleRing } from './console-ring';
import { DomainLibrary } from './library';
import { offerDemoDomain } from './demo-seed';
import type { DomusPaths } from './paths';
import { buildDomainSpec } from './spec-builder';
import { schedMethods } from './service-sched';
import { libraryMethods } from './service-library';
import { saveMethods } from './service-save';
import type { DomainRestore, PvhSpec } from '../../runtime/hv-domain';
import { whatIf, type WhatIfRequest } from '../../hv/sched/sim/what-if';
import { buildIsoFromWizard, previewIsoWizard, type IsoWizardRequest } from '../iso/iso-service';

/** What the hypervisor thread reports for a domain. */
export interface HvSummary {
  domid: number;
  name: string;
  uuid: string;
  paused: boolean;
  shutdown: { reason: string; code?: number; detail?: string } | undefined;
  running: boolean;
  blocked: boolean;
  cpuSeconds: number;
  pool: string;
  onlineVcpus: number;
  maxVcpus: number;
  memoryMiB: number;
  /** Balloon target and maximum (xl mem-set / mem-max). */
  targetMiB: number;
  maxmemMiB: number;
  instructions: number;
  exits: Record<string, number>;
}

/** The console `xl console` attaches to by default: the PV console (0) of a PVH guest, else COM1. */
export function primaryConsole(c: DomainConfig): number {
  return c.type === 'pvh' ? 0 : 1;
}

/** Methods after which the cpupool list (pools, their pCPUs, parameters or domain counts) may differ. */
const POOL_CHANGING: ReadonlySet<string> = new Set([
  'pool.create', 'pool.destroy', 'pool.rename', 'pool.cpuAdd', 'pool.cpuRemove', 'pool.migrate', 'pool.setParams',
  'pool.setScheduler', 'domain.create', 'domain.destroy', 'domain.restore',
]);

export interface ServiceDomain {
  domid: number;
  name: string;
  config: DomainConfig;
  configFile: string | undefined;
  libraryName: string | undefined;
  consoles: Map<number, ConsoleRing>;
  /** Where serial output is also written (serial = ['file:PATH']), and the console log. */
  serialFile: string | undefined;
  logFile: string;
  shutdown: { reason: string; code?: number; detail?: string } | undefined;
}

/** Options of the service. */
export interface EngineServiceOptions extends EngineOptions {
  paths: DomusPaths;
  version: string;
}

const LOG_CAPACITY = 2000;
/** Limits of a what-if preview (it runs on the service's thread). */
const WHATIF_MAX_NS = 60e9;
const WHATIF_MAX_DOMAINS = 64;
const WHATIF_MAX_VCPUS = 256;

/** Checks an ISO wizard request's shape (paths are on the engine's host). */
function checkIsoRequest(raw: unknown): IsoWizardRequest {
  const bad = (why: string): never => {
    throw new DomusError('api.bad-request', `ISO wizard: ${why}`);
  };
  if (typeof raw !== 'object' || raw === null) bad('the request must be an object');
  const r = raw as Partial<IsoWizardRequest>;
  if (typeof r.kernel !== 'string' || r.kernel === '') bad('say which loader or kernel to boot (kernel)');
  if (typeof r.output !== 'string' || r.output === '') bad('say where to write the ISO (output)');
  if (r.modules !== undefined && (!Array.isArray(r.modules) || r.modules.some((m) => typeof m?.path !== 'string'))) bad('modules must be a list of { path, args }');
  if (r.grubCfg !== undefined && typeof r.grubCfg !== 'string') bad('grubCfg must be text');
  return r as IsoWizardRequest;
}

/** Checks a what-if scenario's shape and size before simulating it. */
function checkWhatIf(raw: unknown): WhatIfRequest {
  const bad = (why: string): never => {
    throw new DomusError('api.bad-request', `sim.whatIf: ${why}`);
  };
  if (typeof raw !== 'object' || raw === null) bad('the scenario must be an object');
  const r = raw as Partial<WhatIfRequest>;
  if (!['credit', 'credit2', 'rtds', 'arinc653', 'null'].includes(r.sched as string)) bad('sched must be credit, credit2, rtds, arinc653 or null');
  if (!Number.isInteger(r.nrCpus) || (r.nrCpus as number) < 1 || (r.nrCpus as number) > 64) bad('nrCpus must be 1..64');
  if (typeof r.durationNs !== 'number' || !(r.durationNs > 0) || r.durationNs > WHATIF_MAX_NS) bad(`durationNs must be in (0, ${WHATIF_MAX_NS}]`);
  if (!Array.isArray(r.domains) || r.domains.length === 0 || r.domains.length > WHATIF_MAX_DOMAINS) bad(`domains must list 1..${WHATIF_MAX_DOMAINS} domains`);
  let vcpus = 0;
  for (const d of r.domains as unknown[]) {
    const dd = d as { name?: unknown; vcpus?: unknown };
    if (typeof dd?.name !== 'string' || !Array.isArray(dd.vcpus) || dd.vcpus.length === 0) bad('every domain needs a name and at least one vcpu');
    vcpus += (dd.vcpus as unknown[]).length;
  }
  if (vcpus > WHATIF_MAX_VCPUS) bad(`at most ${WHATIF_MAX_VCPUS} vcpus in all`);
  return r as WhatIfRequest;
}
const STATS_INTERVAL_MS = 1000;
const TRACE_INTERVAL_MS = 250;

/** The engine service. */
export class EngineService implements ApiService {
  readonly engine: Engine;
  readonly library: DomainLibrary;
  readonly hub = new EventHub();
  readonly domains = new Map<number, ServiceDomain>();
  private readonly log: LogEntry[] = [];
  private readonly started = Date.now();
  private lastStats: StatsSample | undefined;
  private prevStats: { t: number; busy: number[]; vcpuNs: Map<string, number>; insns: Map<number, number>; exits: Map<number, Record<string, number>> } | undefined;
  private statsTimer: ReturnType<typeof setInterval>;
  private traceTimer: ReturnType<typeof setInterval>;
  private traceCursor = 0;
  private taskSeq = 0;
  private readonly methods: Record<string, (params: never, conn: ServiceConnection) => unknown>;

  constructor(
    host: EngineHost,
    readonly options: EngineServiceOptions,
  ) {
    this.engine = new Engine(host, options, {
      console: (domid, com, data) => this.onConsole(domid, com, data),
      shutdown: (domid, reason, code, detail) => void this.onShutdown(domid, reason, code, detail),
      destroyed: (domid) => this.onDestroyed(domid),
      halted: (domid) => this.note('info', `dom${domid}`, 'every VCPU halted with interrupts disabled; the domain can only be destroyed'),
      xenstoreWatch: (watchId, path) => this.hub.emit('xenstore', { watchId, path }),
      log: (level, source, message) => this.note(level as LogEntry['level'], source, message),
      message: (domid, text) => this.note('info', this.domainSource(domid), text),
      fatal: (message) => {
        this.note('error', 'engine', message);
        this.hub.emit('engine', { state: 'failed', message });
      },
    });
    this.library = new DomainLibrary(options.paths.domainsDir, () => this.topology());
    offerDemoDomain(this.library, options.paths, (level, message) => this.note(level, 'library', message));
    mkdirSync(options.paths.logsDir, { recursive: true });
    this.methods = { ...this.domainMethods(), ...schedMethods(this), ...saveMethods(this), ...libraryMethods(this), ...this.miscMethods() };
    this.statsTimer = setInterval(() => void this.sampleStats(), STATS_INTERVAL_MS);
    this.traceTimer = setInterval(() => void this.pumpTrace(), TRACE_INTERVAL_MS);
    this.statsTimer.unref?.();
    this.traceTimer.unref?.();
    this.note('info', 'engine', `started with ${this.engine.nrPcpus} pCPUs${this.engine.oversubscribed ? ' (oversubscribed)' : ''} and ${this.engine.poolBytes / 2 ** 20} MiB of machine memory`);
  }

  /** The host's CPU topology as CPU lists see it (one node). */
  topology(): CpuTopology {
    return { nrCpus: this.engine.nrPcpus };
  }

  connect(send: (m: import('../../api/wire').ServerMessage) => void, label: string): ApiConnection {
    const c = new ServiceConnection(this.hub, send, label, (m, p, conn) => this.dispatch(m, p, conn));
    this.hub.conns.add(c);
    return c;
  }

  private async dispatch(method: EngineMethod, params: unknown, conn: ServiceConnection): Promise<unknown> {
    const impl = this.methods[method];
    if (!impl) throw new DomusError('api.not-implemented', `The engine does not implement ${method} yet.`);
    const result = await impl(params as never, conn);
    if (POOL_CHANGING.has(method)) void this.emitPools();
    return result;
  }

  /** Sends the cpupools to subscribers after a change. */
  private async emitPools(): Promise<void> {
    if (!this.hub.listening('pool')) return;
    try {
      this.hub.emit('pool', { pools: await this.request('pool.list', {}) });
    } catch (e) {
      this.note('warn', 'engine', `pool event: ${errorMessage(e)}`);
    }
  }

  /** Calls the in-process API (tests, the CLI's `domus run`-style uses). */
  request<M extends EngineMethod>(method: M, params: EngineMethods[M]['params']): Promise<EngineMethods[M]['result']> {
    return this.dispatch(method, params, undefined as unknown as ServiceConnection) as Promise<EngineMethods[M]['result']>;
  }

  /** "dom3 (name)" for log lines about a domain. */
  private domainSource(domid: number): string {
    const name = this.domains.get(domid)?.name;
    return name === undefined ? `dom${domid}` : `dom${domid} (${name})`;
  }

  note(level: LogEntry['level'], source: string, message: string): void {
    const e: LogEntry = { time: Date.now(), level, source, message };
    this.log.push(e);
    if (this.log.length > LOG_CAPACITY) this.log.splice(0, this.log.length - LOG_CAPACITY);
    this.hub.emit('log', e);
  }

  /** Finds a domain by ID or name. */
  resolve(ref: number | string): ServiceDomain {
    if (typeof ref === 'number' || /^\d+$/.test(ref)) {
      const d = this.domains.get(Number(ref));
      if (d) return d;
    } else {
      for (const d of this.domains.values()) if (d.name === ref) return d;
    }
    throw new HypervisorError('domain.not-found', `Domain '${ref}' does not exist.`, String(ref));
  }

  async hvSummaries(): Promise<HvSummary[]> {
    return this.engine.call<HvSummary[]>('domains', {});
  }

  summaryOf(d: ServiceDomain, hv: HvSummary | undefined): DomainSummary {
    const sd = hv?.shutdown ?? d.shutdown;
    const state: DomainSummary['state'] = sd
      ? sd.reason === 'crash' ? 'crashed' : 'shutdown'
      : hv?.paused ? 'paused' : hv?.running ? 'running' : 'blocked';
    return {
      domid: d.domid,
      name: d.name,
      uuid: hv?.uuid ?? d.config.uuid ?? '',
      type: d.config.type,
      state,
      shutdownReason: sd?.reason as DomainSummary['shutdownReason'],
      shutdownDetail: sd?.detail ?? (sd?.code !== undefined ? `status ${sd.code}` : undefined),
      memoryMiB: hv?.memoryMiB ?? d.config.memoryMiB,
      targetMiB: hv?.targetMiB ?? d.config.memoryMiB,
      maxmemMiB: hv?.maxmemMiB ?? d.config.maxmemMiB,
      onlineVcpus: hv?.onlineVcpus ?? 0,
      maxVcpus: d.config.maxvcpus,
      cpuSeconds: hv?.cpuSeconds ?? 0,
      pool: hv?.pool ?? d.config.pool ?? 'Pool-0',
      libraryName: d.libraryName,
    };
  }

  async summary(d: ServiceDomain): Promise<DomainSummary> {
    const all = await this.hvSummaries();
    return this.summaryOf(d, all.find((h) => h.domid === d.domid));
  }

  private async emitDomain(domid: number): Promise<void> {
    const d = this.domains.get(domid);
    this.hub.emit('domain', { domid, summary: d ? await this.summary(d) : undefined });
  }

  private onConsole(domid: number, com: number, data: Uint8Array): void {
    const d = this.domains.get(domid);
    if (d) {
      let ring = d.consoles.get(com);
      if (!ring) d.consoles.set(com, (ring = new ConsoleRing()));
      ring.push(data);
      if (com === primaryConsole(d.config)) this.appendConsoleLog(d, data);
    }
    this.hub.emit('console', { domid, com, data });
  }

  private appendConsoleLog(d: ServiceDomain, data: Uint8Array): void {
    try {
      appendConsoleLog(d.logFile, d.serialFile, data);
    } catch (e) {
      this.note('warn', d.name, `cannot write the console log: ${errorMessage(e)}`);
    }
  }

  private async onShutdown(domid: number, reason: string, code: number | undefined, detail: string | undefined): Promise<void> {
    const d = this.domains.get(domid);
    if (!d) return;
    d.shutdown = { reason, code, detail };
    this.note(reason === 'crash' ? 'error' : 'info', d.name, `shut down: ${reason}${code !== undefined ? ` (${code})` : ''}${detail ? `: ${detail}` : ''}`);
    await this.emitDomain(domid);
    const action =
      reason === 'reboot' ? d.config.onReboot : reason === 'crash' ? d.config.onCrash : reason === 'watchdog' ? d.config.onWatchdog : d.config.onPoweroff;
    if (action === 'preserve') return;
    try {
      await this.engine.destroyDomain(domid);
      if (action === 'restart' || action === 'rename-restart') {
        const r = await this.createFromConfig(d.config, d.configFile, d.libraryName, false);
        this.note('info', d.name, `restarted as domain ${r.domid} (${action})`);
      }
    } catch (e) {
      // Destroyed meanwhile (xl destroy while the action was on its way): nothing is left to act
      // on, and that is what the user asked for; a restart is not done either, as with xl.
      if (e instanceof DomusError && e.code === 'domain.not-found') {
        this.note('info', d.name, `on_${reason} action ${action} skipped: the domain was destroyed first`);
        return;
      }
      this.note('error', d.name, `on_${reason} action ${action} failed: ${errorMessage(e)}`);
    }
  }

  private onDestroyed(domid: number): void {
    this.domains.delete(domid);
    this.hub.emit('domain', { domid, summary: undefined });
    void this.emitPools();
  }

  /** Rebuilds a saved domain (no kernel loading: memory and Xen state are in `restore`; `pvh`: its PV disks). */
  async restoreFromImage(config: DomainConfig, restore: DomainRestore, uuid: string, paused: boolean, pvh?: PvhSpec): Promise<{ domid: number; name: string }> {
    for (const d of this.domains.values()) {
      if (d.name === config.name && !d.shutdown) throw new HypervisorError('domain.exists', `Domain with name "${config.name}" already exists.`, config.name);
    }
    const spec = {
      name: config.name,
      uuid,
      memoryMiB: config.memoryMiB,
      vcpus: config.vcpus,
      maxVcpus: config.maxvcpus,
      pool: config.pool,
      weight: config.cpuWeight,
      cap: config.cap,
      uarts: [1 as const],
      pvh,
    };
    const created = await this.engine.createDomain(spec, { paused: true, restore });
    this.domains.set(created.domid, {
      domid: created.domid,
      name: config.name,
      config,
      configFile: undefined,
      libraryName: undefined,
      consoles: new Map(),
      serialFile: undefined,
      logFile: path.join(this.options.paths.logsDir, `${config.name.replace(/[^A-Za-z0-9._-]/g, '_')}.log`),
      shutdown: undefined,
    });
    if (!paused) await this.engine.unpauseDomain(created.domid);
    await this.emitDomain(created.domid);
    return { domid: created.domid, name: config.name };
  }

  /** Builds and starts a domain from a typed config. */
  async createFromConfig(config: DomainConfig, file: string | undefined, libraryName: string | undefined, paused: boolean): Promise<{ domid: number; name: string }> {
    for (const d of this.domains.values()) {
      if (d.name === config.name && !d.shutdown) {
        throw new HypervisorError('domain.exists', `Domain with name "${config.name}" already exists.`, config.name);
      }
    }
    const baseDir = file ? path.dirname(file) : process.cwd();
    const spec = buildDomainSpec(config, baseDir, this.topology());
    const created = await this.engine.createDomain(spec, { paused: true });
    const serial = config.serial.find((s) => s.kind === 'file');
    const d: ServiceDomain = {
      domid: created.domid,
      name: config.name,
      config,
      configFile: file,
      libraryName,
      consoles: new Map(),
      serialFile: serial && serial.kind === 'file' ? path.resolve(baseDir, serial.path) : undefined,
      logFile: path.join(this.options.paths.logsDir, `${config.name.replace(/[^A-Za-z0-9._-]/g, '_')}.log`),
      shutdown: undefined,
    };
    this.domains.set(d.domid, d);
    if (!paused) await this.engine.unpauseDomain(d.domid);
    this.note('info', d.name, `created as domain ${d.domid}${paused ? ' (paused)' : ''}`);
    await this.emitDomain(d.domid);
    return { domid: d.domid, name: d.name };
  }

  private domainMethods(): Record<string, (params: never, conn: ServiceConnection) => unknown> {
    type P<M extends EngineMethod> = EngineMethods[M]['params'];
    return {
      'domain.list': async () => {
        const hv = await this.hvSummaries();
        return [...this.domains.values()].sort((a, b) => a.domid - b.domid).map((d) => this.summaryOf(d, hv.find((h) => h.domid === d.domid)));
      },
      'domain.get': async (p: P<'domain.get'>) => {
        const d = this.resolve(p.domain);
        const hv = (await this.hvSummaries()).find((h) => h.domid === d.domid);
        const vcpus = await schedMethods(this)['vcpu.list']({ domain: d.domid } as never, undefined as never);
        return { ...this.summaryOf(d, hv), config: d.config, vcpus, exits: hv?.exits ?? {}, instructions: hv?.instructions ?? 0 };
      },
      'domain.screen': (p: P<'domain.screen'>) => this.engine.domainScreen(this.resolve(p.domain).domid),
      'domain.create': async (p: P<'domain.create'>) => {
        let config: DomainConfig;
        let warnings: string[] = [];
        let file = p.file;
        let libraryName: string | undefined;
        if (p.config !== undefined) {
          config = p.config;
        } else {
          let text = p.xlcfg;
          if (p.library !== undefined) {
            text = this.library.read(p.library);
            file = this.library.fileOf(p.library);
            libraryName = p.library;
          }
          if (text === undefined) throw new DomusError('api.bad-request', 'domain.create needs xlcfg text, a config or a library name.');
          const r = parseDomainConfig(text, { file: file ?? 'xl.cfg', overrides: p.overrides, topology: this.topology() });
          config = r.config;
          warnings = r.warnings.map(formatProblem);
        }
        const r = await this.createFromConfig(config, file, libraryName, p.paused ?? false);
        return { ...r, warnings };
      },
      'domain.pause': async (p: P<'domain.pause'>) => {
        const d = this.resolve(p.domain);
        await this.engine.pauseDomain(d.domid);
        await this.emitDomain(d.domid);
        return null;
      },
      'domain.unpause': async (p: P<'domain.unpause'>) => {
        const d = this.resolve(p.domain);
        await this.engine.unpauseDomain(d.domid);
        await this.emitDomain(d.domid);
        return null;
      },
      'domain.destroy': async (p: P<'domain.destroy'>) => {
        const d = this.resolve(p.domain);
        await this.engine.destroyDomain(d.domid);
        this.note('info', d.name, 'destroyed');
        return null;
      },
      // PVH: xenstore control/shutdown (as libxl does); HVM: the ACPI power button, no reboot.
      'domain.shutdown': async (p: P<'domain.shutdown'>) => {
        const d = this.resolve(p.domain);
        const how = await this.engine.call<string>('shutdown-request', { domid: d.domid, reason: 'poweroff' });
        this.note('info', d.name, `asked to shut down (${how})`);
        return null;
      },
      'domain.reboot': async (p: P<'domain.reboot'>) => {
        const d = this.resolve(p.domain);
        const how = await this.engine.call<string>('shutdown-request', { domid: d.domid, reason: 'reboot' });
        this.note('info', d.name, `asked to reboot (${how})`);
        return null;
      },
      'domain.setVcpus': async (p: P<'domain.setVcpus'>) => {
        const d = this.resolve(p.domain);
        await this.engine.call('vcpu-set', { domid: d.domid, count: p.count });
        this.note('info', d.name, `VCPUs set to ${p.count}`);
        await this.emitDomain(d.domid);
        return null;
      },
      'domain.memSet': async (p: P<'domain.memSet'>) => {
        const d = this.resolve(p.domain);
        await this.engine.call('mem-set', { domid: d.domid, mib: p.mib });
        this.note('info', d.name, `balloon target set to ${p.mib} MiB`);
        await this.emitDomain(d.domid);
        return null;
      },
      'domain.memMax': async (p: P<'domain.memMax'>) => {
        const d = this.resolve(p.domain);
        await this.engine.call('mem-max', { domid: d.domid, mib: p.mib });
        this.note('info', d.name, `maximum memory set to ${p.mib} MiB`);
        await this.emitDomain(d.domid);
        return null;
      },
      'console.write': async (p: P<'console.write'>) => {
        const d = this.resolve(p.domain);
        const data = typeof p.data === 'string' ? new TextEncoder().encode(p.data) : p.data;
        this.engine.consoleInput(d.domid, p.com ?? primaryConsole(d.config), data);
        return null;
      },
      'console.history': async (p: P<'console.history'>) => {
        const d = this.resolve(p.domain);
        return { data: d.consoles.get(p.com ?? primaryConsole(d.config))?.contents() ?? new Uint8Array(0) };
      },
    };
  }

  private miscMethods(): Record<string, (params: never, conn: ServiceConnection) => unknown> {
    type P<M extends EngineMethod> = EngineMethods[M]['params'];
    return {
      'host.info': async (): Promise<HostInfo> => {
        const h = await this.engine.call<{ nrPcpus: number; totalFrames: number; freeFrames: number }>('host', {});
        const pools = await this.engine.call<{ name: string; sched: string }[]>('sched', { op: 'xlCpupoolList', args: [] });
        return {
          hostname: os.hostname(),
          engineVersion: this.options.version,
          nrPcpus: h.nrPcpus,
          hostCpus: os.availableParallelism?.() ?? os.cpus().length,
          oversubscribed: this.engine.oversubscribed,
          totalMemoryMiB: h.totalFrames / 256,
          freeMemoryMiB: h.freeFrames / 256,
          defaultScheduler: (pools[0]?.sched ?? 'credit2') as HostInfo['defaultScheduler'],
          uptimeSeconds: (Date.now() - this.started) / 1000,
        };
      },
      'log.dmesg': async (p: P<'log.dmesg'>) => {
        const out = [...this.log];
        if (p.clear) this.log.length = 0;
        return out;
      },
      'stats.last': async () => this.lastStats,
      'sim.whatIf': async (p: P<'sim.whatIf'>) => whatIf(checkWhatIf(p.scenario)),
      'iso.preview': async (p: P<'iso.preview'>) => previewIsoWizard(checkIsoRequest(p.input)),
      'iso.build': async (p: P<'iso.build'>) => {
        const req = checkIsoRequest(p.input);
        const taskId = `iso-${++this.taskSeq}`;
        this.hub.emit('task', { taskId, progress: 0, message: `building ${req.output}`, done: false });
        buildIsoFromWizard(req, (prog) => {
          this.hub.emit('task', { taskId, progress: prog.fraction, message: prog.message, done: false });
        }).then(
          (report) => {
            this.note('info', 'iso', `built ${report.output} (${report.bytes} bytes in ${Math.round(report.elapsedMs)} ms)`);
            this.hub.emit('task', { taskId, progress: 1, message: 'done', done: true, result: report });
          },
          (e) => {
            this.note('error', 'iso', `building ${req.output} failed: ${errorMessage(e)}`);
            this.hub.emit('task', { taskId, progress: 1, message: 'failed', done: true, error: errorMessage(e) });
          },
        );
        return { taskId };
      },
      'trace.recent': async (p: P<'trace.recent'>) => this.traceSince(p.seconds * 1e9),
      'events.subscribe': async (p: P<'events.subscribe'>, conn: ServiceConnection) => {
        if (!conn) return null;
        for (const e of p.events) conn.events.add(e);
        conn.consoleDomains = p.domains ? new Set(p.domains) : undefined;
        return null;
      },
    };
  }

  private async traceSince(windowNs: number): Promise<TraceRecord[]> {
    const recs = await this.engine.call<TraceRecord[]>('sched', { op: 'traceSince', args: [windowNs] });
    return recs.map((r) => ({ t: Math.round(r.t), pcpu: r.pcpu, domid: r.domid, vcpu: r.vcpu, event: r.event, reason: r.reason ?? '' }));
  }

  private async pumpTrace(): Promise<void> {
    if (!this.hub.listening('trace')) return;
    try {
      const recs = (await this.traceSince(2e9)).filter((r) => r.t > this.traceCursor);
      if (recs.length === 0) return;
      this.traceCursor = recs[recs.length - 1].t;
      this.hub.emit('trace', { records: recs });
    } catch {
      // The engine is going away.
    }
  }

  private async sampleStats(): Promise<void> {
    try {
      const now = Date.now();
      const busy = this.engine.pcpuStats().map((p) => p.busyNs);
      const vcpus = await this.engine.call<{ domid: number; vcpu: number; cpuTimeNs: number }[]>('sched', { op: 'vcpus', args: [] });
      const hv = await this.hvSummaries();
      const vcpuNs = new Map(vcpus.map((v) => [`${v.domid}.${v.vcpu}`, v.cpuTimeNs]));
      const insns = new Map(hv.map((h) => [h.domid, h.instructions]));
      const exits = new Map(hv.map((h) => [h.domid, h.exits]));
      const prev = this.prevStats;
      this.prevStats = { t: now, busy, vcpuNs, insns, exits };
      if (!prev) return;
      const dtMs = Math.max(1, now - prev.t);
      const sample: StatsSample = {
        t: now - this.started,
        pcpuLoad: busy.map((b, i) => Math.min(1, Math.max(0, (b - (prev.busy[i] ?? 0)) / (dtMs * 1e6)))),
        domains: hv.filter((h) => !h.shutdown).map((h) => {
          const mine = vcpus.filter((v) => v.domid === h.domid);
          const vcpuPercent = mine.map((v) => (100 * (v.cpuTimeNs - (prev.vcpuNs.get(`${v.domid}.${v.vcpu}`) ?? v.cpuTimeNs))) / (dtMs * 1e6));
          const rates: Record<string, number> = {};
          const pe = prev.exits.get(h.domid) ?? {};
          for (const [k, v] of Object.entries(h.exits)) rates[k] = ((v - (pe[k] ?? 0)) * 1000) / dtMs;
          return {
            domid: h.domid,
            cpuPercent: vcpuPercent.reduce((a, b) => a + b, 0),
            vcpuPercent,
            memoryMiB: h.memoryMiB,
            exitRates: rates,
            mips: (h.instructions - (prev.insns.get(h.domid) ?? h.instructions)) / (dtMs * 1000),
          };
        }),
      };
      this.lastStats = sample;
      this.hub.emit('stats', sample);
    } catch {
      // The engine is going away.
    }
  }

  async close(): Promise<void> {
    clearInterval(this.statsTimer);
    clearInterval(this.traceTimer);
    this.hub.emit('engine', { state: 'stopping', message: 'the engine is shutting down' });
    await this.engine.close();
  }
}

/**
 * The GUI's picture of the engine: host, domains, library, pools, recent statistics, log and
 * tasks, kept current from the engine's events and refreshed on (re)connection. Components read
 * immutable snapshots through useSyncExternalStore; console bytes live beside it in ConsoleBuffers
 * (they change far too often to re-render the app).
 */
import type { EngineEvents } from '../../src-engine/api/events';
import type { DomainSummary, HostInfo, LibraryEntry, LogEntry, PoolInfo, StatsSample, TraceRecord } from '../../src-engine/api/types';
import type { ConnectionState, EngineClient } from '../api/client';
import { ConsoleBuffers } from './console-buffers';

/** Statistics samples kept (one a second: two minutes of graphs). */
export const STATS_KEEP = 120;
/** Log records kept. */
export const LOG_KEEP = 500;
/** How long a notice stays, ms (errors longer: they say what to do). */
export const NOTICE_MS = { info: 5000, error: 15000 } as const;
/** Schedule trace kept, ns of engine time (the timeline shows at most this much). */
export const TRACE_KEEP_NS = 30e9;
/** Console number of the PV console (`console` events and `console.*` methods, com 0). */
export const PV_CONSOLE = 0;
/** Console number of the first UART, COM1 (I/O 3F8h, IRQ 4). */
export const SERIAL_COM1 = 1;

/**
 * The console the GUI shows for a guest type, as `xl console` picks it: a PVH guest has no
 * emulated UART and talks on the PV console; an HVM guest's primary console is COM1.
 */
export function primaryCom(type: DomainSummary['type']): number {
  return type === 'pvh' ? PV_CONSOLE : SERIAL_COM1;
}

/** How the GUI names a guest type's primary console. */
export function consoleLabel(type: DomainSummary['type']): string {
  return type === 'pvh' ? 'PV console' : 'Serial 0 (COM1)';
}

/** A long task (ISO build) as its events describe it. */
export type TaskState = EngineEvents['task'] & { startedAt: number };

/** A user-visible notice (an action failed or finished). */
export interface Notice {
  id: number;
  level: 'error' | 'info';
  text: string;
}

/** What components render. */
export interface EngineSnapshot {
  connection: ConnectionState;
  /** The engine reported a fatal failure (worker died); it must be restarted. */
  engineFailure: string | undefined;
  host: HostInfo | undefined;
  domains: readonly DomainSummary[];
  library: readonly LibraryEntry[];
  pools: readonly PoolInfo[];
  stats: readonly StatsSample[];
  log: readonly LogEntry[];
  tasks: readonly TaskState[];
  notices: readonly Notice[];
  /** True once the first full load after connecting finished. */
  loaded: boolean;
}

const EMPTY: EngineSnapshot = {
  connection: { kind: 'connecting', attempt: 0 },
  engineFailure: undefined,
  host: undefined,
  domains: [],
  library: [],
  pools: [],
  stats: [],
  log: [],
  tasks: [],
  notices: [],
  loaded: false,
};

/** The store. */
export class EngineStore {
  readonly consoles = new ConsoleBuffers();
  private snap: EngineSnapshot = EMPTY;
  private readonly listeners = new Set<() => void>();
  private readonly traceListeners = new Set<(r: TraceRecord[]) => void>();
  private trace: TraceRecord[] = [];
  /** Engine time of the newest trace record and the wall time it arrived (to estimate "now"). */
  private traceClock: { t: number; wall: number } | undefined;
  private traceWanted = false;
  private noticeId = 1;
  private readonly historyLoaded = new Set<number>();

  constructor(readonly client: EngineClient) {
    client.onState((s) => {
      this.set({ connection: s });
      if (s.kind === 'lost') this.historyLoaded.clear();
    });
    client.onOpen(() => void this.reload());
    client.on('domain', (e) => this.onDomain(e));
    client.on('stats', (s) => this.set({ stats: [...this.snap.stats.slice(-(STATS_KEEP - 1)), s] }));
    client.on('console', (e) => this.consoles.push(e.domid, e.com, e.data));
    client.on('log', (e) => this.set({ log: [...this.snap.log.slice(-(LOG_KEEP - 1)), e] }));
    client.on('task', (e) => this.onTask(e));
    client.on('pool', (e) => this.set({ pools: e.pools }));
    client.on('trace', (e) => this.onTrace(e.records));
    client.on('engine', (e) => {
      if (e.state === 'failed') this.set({ engineFailure: e.message });
    });
  }

  /** Current snapshot. */
  getSnapshot = (): EngineSnapshot => this.snap;

  /** useSyncExternalStore's subscribe. */
  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  private set(patch: Partial<EngineSnapshot>): void {
    this.snap = { ...this.snap, ...patch };
    for (const l of this.listeners) l();
  }

  /** Shows a notice for a while. */
  notify(level: Notice['level'], text: string): void {
    const n: Notice = { id: this.noticeId++, level, text };
    this.set({ notices: [...this.snap.notices.slice(-4), n] });
    setTimeout(() => this.dismiss(n.id), NOTICE_MS[level]);
  }

  /** Removes a notice. */
  dismiss(id: number): void {
    this.set({ notices: this.snap.notices.filter((n) => n.id !== id) });
  }

  /** Reloads everything (after connecting). */
  async reload(): Promise<void> {
    try {
      await this.client.subscribe(['stats', 'console', 'pool']);
      if (this.traceWanted) await this.client.subscribe(['trace']);
      const [host, domains, library, pools, log] = await Promise.all([
        this.client.call('host.info', {}),
        this.client.call('domain.list', {}),
        this.client.call('library.list', {}),
        this.client.call('pool.list', {}),
        this.client.call('log.dmesg', {}),
      ]);
      this.set({ host, domains, library, pools, log: log.slice(-LOG_KEEP), loaded: true, engineFailure: undefined });
      for (const d of domains) void this.loadHistory(d.domid, primaryCom(d.type));
    } catch (e) {
      this.notify('error', `Loading from the engine failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Refreshes the library list. */
  async refreshLibrary(): Promise<void> {
    this.set({ library: await this.client.call('library.list', {}) });
  }

  /** Refreshes the pools (the `pool` event keeps them current; actions call this to show their result at once). */
  async refreshPools(): Promise<void> {
    this.set({ pools: await this.client.call('pool.list', {}) });
  }

  /** Refreshes host facts (free memory). */
  async refreshHost(): Promise<void> {
    this.set({ host: await this.client.call('host.info', {}) });
  }

  private async loadHistory(domid: number, com: number): Promise<void> {
    if (this.historyLoaded.has(domid)) return;
    this.historyLoaded.add(domid);
    this.consoles.beginHistory(domid, com);
    try {
      const h = await this.client.call('console.history', { domain: domid, com });
      this.consoles.endHistory(domid, com, h.data);
    } catch {
      this.consoles.endHistory(domid, com, new Uint8Array(0));
    }
  }

  private onDomain(e: EngineEvents['domain']): void {
    const rest = this.snap.domains.filter((d) => d.domid !== e.domid);
    if (e.summary) {
      const isNew = rest.length === this.snap.domains.length;
      this.set({ domains: [...rest, e.summary].sort((a, b) => a.domid - b.domid) });
      // A new domain's pool membership arrives as a `pool` event.
      if (isNew) {
        void this.loadHistory(e.domid, primaryCom(e.summary.type));
        void this.refreshLibrary().catch(() => undefined);
      }
    } else {
      this.set({ domains: rest });
      this.historyLoaded.delete(e.domid);
      this.consoles.drop(e.domid);
      void this.refreshLibrary().catch(() => undefined);
    }
  }

  private onTask(e: EngineEvents['task']): void {
    const old = this.snap.tasks.find((t) => t.taskId === e.taskId);
    const t: TaskState = { ...e, startedAt: old?.startedAt ?? Date.now() };
    this.set({ tasks: [...this.snap.tasks.filter((x) => x.taskId !== e.taskId), t] });
  }

  /** Starts the schedule trace stream (the first timeline shown asks for it). */
  wantTrace(): void {
    if (this.traceWanted) return;
    this.traceWanted = true;
    void this.client.subscribe(['trace']).catch(() => undefined);
    void this.client.call('trace.recent', { seconds: TRACE_KEEP_NS / 1e9 }).then((r) => this.onTrace(r), () => undefined);
  }

  /** The engine's trace clock now, ns (estimated from the newest record), or undefined before any record. */
  traceNow(): number | undefined {
    return this.traceClock ? this.traceClock.t + (Date.now() - this.traceClock.wall) * 1e6 : undefined;
  }

  /** The trace kept. */
  traceRecords(): readonly TraceRecord[] {
    return this.trace;
  }

  /** Listens to new trace records. */
  onTraceRecords(l: (r: TraceRecord[]) => void): () => void {
    this.traceListeners.add(l);
    return () => this.traceListeners.delete(l);
  }

  private onTrace(records: TraceRecord[]): void {
    if (records.length === 0) return;
    const seen = new Set(this.trace.map((r) => `${r.t}:${r.pcpu}`));
    const merged = [...this.trace, ...records.filter((r) => !seen.has(`${r.t}:${r.pcpu}`))].sort((a, b) => a.t - b.t);
    const last = merged[merged.length - 1].t;
    if (!this.traceClock || last > this.traceClock.t) this.traceClock = { t: last, wall: Date.now() };
    // Keep the last record of each pCPU even when older than the window: it says what runs there now.
    const lastOf = new Map<number, TraceRecord>();
    for (const r of merged) lastOf.set(r.pcpu, r);
    this.trace = merged.filter((r) => r.t >= last - TRACE_KEEP_NS || lastOf.get(r.pcpu) === r);
    for (const l of this.traceListeners) l(records);
  }
}

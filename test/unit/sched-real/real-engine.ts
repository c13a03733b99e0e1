/**
 * A real engine for scheduler measurements on real guests: an EngineService with worker threads
 * (as the daemon runs it), the shared test guests (spin.elf: CPU-bound; tick.elf: idle at 100 Hz),
 * a poller that keeps the whole schedule trace although the engine's ring holds only the last
 * 65 536 records, and the host-side figures a loaded machine needs beside every result (per-thread
 * CPU and run-queue wait from /proc, load average).
 *
 * Used by test/slow/sched-real-*.test.ts and test/bench/{sched,idle}.bench.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineService } from '../../../src-engine/node/service/engine-service';
import { domusPaths } from '../../../src-engine/node/service/paths';
import { NodeEngineHost, monotonicNs } from '../../../src-engine/node/worker-host';
import type { SchedulerName } from '../../../src-engine/api/types';
import type { SchedTraceRecord } from '../../../src-engine/hv/sched/sched-trace';

/** The test guests (copies of ../shared/guests/sched). DOMUS_GUESTS_FIXTURES overrides. */
export const GUESTS = process.env.DOMUS_GUESTS_FIXTURES ?? path.resolve('test/fixtures/guests');

/** Engine-clock nanoseconds per second. */
export const NS_PER_S = 1e9;
/** Engine-clock nanoseconds per millisecond. */
export const NS_PER_MS = 1e6;

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A running engine service in a throw-away DOMUS_HOME. */
export interface RealEngine {
  svc: EngineService;
  home: string;
  close(): Promise<void>;
}

/** How to start an engine for a measurement. */
export interface RealEngineConfig {
  /** pCPU workers (default 2: this machine's core count). */
  pcpus?: number;
  /** Scheduler of Pool-0 (engine default: credit2). */
  scheduler?: SchedulerName;
  /** Machine memory pool (default 256 MiB; 50 tick domains of 4 MiB fit). */
  memoryPoolMiB?: number;
}

/** Starts an engine (hypervisor thread + one worker per pCPU) and waits until it serves. */
export async function startRealEngine(cfg: RealEngineConfig = {}): Promise<RealEngine> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'domus-sched-real-'));
  const paths = domusPaths({ DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home });
  const svc = new EngineService(new NodeEngineHost(), {
    pcpus: cfg.pcpus ?? 2,
    memoryPoolMiB: cfg.memoryPoolMiB ?? 256,
    scheduler: cfg.scheduler,
    paths,
    version: 'sched-real',
  });
  await svc.engine.whenReady();
  return {
    svc,
    home,
    close: async () => {
      // A pCPU switch the hypervisor's replay disagreed with is an engine bug (hv-pcpu-sched.ts):
      // every measurement on a real engine fails on one.
      const log = await svc.request('log.dmesg', {}).catch(() => []);
      const replayErrors = log.filter((e) => e.level === 'error' && e.source === 'hypervisor').map((e) => e.message);
      await svc.close();
      rmSync(home, { recursive: true, force: true });
      if (replayErrors.length > 0) throw new Error(`the hypervisor logged errors:\n${replayErrors.join('\n')}`);
    },
  };
}

/** A test guest domain. */
export interface GuestSpec {
  name: string;
  guest: 'spin' | 'tick';
  /** MiB of RAM (default 16 for spin, 4 for tick). */
  memoryMiB?: number;
  pool?: string;
  /** xl.cfg cpu_weight / cap / cpus. */
  weight?: number;
  cap?: number;
  cpus?: string;
}

/** The xl.cfg text of a test guest. */
export function guestCfg(g: GuestSpec): string {
  const lines = [
    `name = "${g.name}"`,
    'type = "hvm"',
    `memory = ${g.memoryMiB ?? (g.guest === 'spin' ? 16 : 4)}`,
    `kernel = "${path.join(GUESTS, `${g.guest}.elf`)}"`,
    `cmdline = "${g.name}"`,
  ];
  if (g.pool !== undefined) lines.push(`pool = "${g.pool}"`);
  if (g.weight !== undefined) lines.push(`cpu_weight = ${g.weight}`);
  if (g.cap !== undefined) lines.push(`cap = ${g.cap}`);
  if (g.cpus !== undefined) lines.push(`cpus = "${g.cpus}"`);
  return `${lines.join('\n')}\n`;
}

/** Creates (and starts) a test guest; returns its domid. */
export async function createGuest(svc: EngineService, g: GuestSpec, paused = false): Promise<number> {
  const r = await svc.request('domain.create', { xlcfg: guestCfg(g), paused });
  return r.domid;
}

/**
 * Makes a one-pCPU pool the way xl does (pCPU 0 never leaves Pool-0): cpupool-cpu-remove Pool-0
 * CPU, then cpupool-create NAME with it.
 */
export async function onePcpuPool(svc: EngineService, name: string, scheduler: SchedulerName, cpu = 1): Promise<void> {
  await svc.request('pool.cpuRemove', { pool: 'Pool-0', cpus: String(cpu) });
  await svc.request('pool.create', { name, scheduler, cpus: String(cpu) });
}

/** CPU seconds per domain name (sum over its VCPUs), from vcpu.list (the scheduler's accounting). */
export async function domainCpu(svc: EngineService): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const v of await svc.request('vcpu.list', {})) m.set(v.name, (m.get(v.name) ?? 0) + v.cpuSeconds);
  return m;
}

/** The full trace records (with their event kind) of the last `windowNs`, from the scheduler core. */
export function rawTrace(svc: EngineService, windowNs: number): Promise<SchedTraceRecord[]> {
  return svc.engine.call<SchedTraceRecord[]>('sched', { op: 'traceSince', args: [windowNs] });
}

/** Engine-thread scheduler state dump (Xen's 'r' key), e.g. the ARINC 653 frame position. */
export function schedDump(svc: EngineService): Promise<string[]> {
  return svc.engine.call<string[]>('sched', { op: 'dump', args: [] });
}

/** How often the trace poller reads the ring (ms); 50 ticking domains fill it in about 3 s. */
const TRACE_POLL_MS = 400;

/**
 * Keeps every trace record from start() to stop() by polling the ring often enough, and says
 * whether records may have been lost (the first polled record was already past the last kept one).
 */
export class TraceCollector {
  readonly records: SchedTraceRecord[] = [];
  /** True if the ring wrapped between two polls (records in between are missing). */
  gap = false;
  private lastT = -Infinity;
  private atLast = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private busy: Promise<void> = Promise.resolve();

  constructor(
    private readonly svc: EngineService,
    private readonly pollMs = TRACE_POLL_MS,
  ) {}

  /** Starts polling; `sinceWindowNs` also keeps what the ring holds from that far back. */
  async start(sinceWindowNs = 1): Promise<void> {
    await this.poll(sinceWindowNs);
    this.timer = setInterval(() => {
      this.busy = this.busy.then(() => this.poll());
    }, this.pollMs);
  }

  /** Stops polling after one last read. */
  async stop(): Promise<SchedTraceRecord[]> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.busy;
    await this.poll();
    return this.records;
  }

  private async poll(windowNs?: number): Promise<void> {
    const now = monotonicNs();
    const win = windowNs ?? Math.max(NS_PER_S, now - this.lastT + NS_PER_S);
    let recs: SchedTraceRecord[];
    try {
      recs = await rawTrace(this.svc, Math.min(win, 600 * NS_PER_S));
    } catch {
      return; // the engine is closing
    }
    const fresh = recs.filter((r) => r.t > this.lastT || (r.t === this.lastT && !this.atLast.has(JSON.stringify(r))));
    if (this.records.length > 0 && fresh.length === recs.length && recs.length > 0) this.gap = true;
    for (const r of fresh) {
      if (r.t > this.lastT) {
        this.lastT = r.t;
        this.atLast.clear();
      }
      this.atLast.add(JSON.stringify(r));
      this.records.push(r);
    }
  }
}

/** CPU use of one OS thread over an interval, from /proc/<pid>/task/<tid>/schedstat. */
export interface ThreadUse {
  tid: number;
  /** Fraction of the interval on a host CPU. */
  run: number;
  /** Fraction of the interval runnable but waiting for a host CPU (host contention). */
  wait: number;
  /** Times it was switched in, per second. */
  switchesPerS: number;
}

/** A snapshot of every thread's schedstat of a process. */
export interface ThreadSnapshot {
  wallNs: number;
  threads: Map<number, [run: number, wait: number, slices: number]>;
}

/** Reads the schedstat of every thread of `pid` (default: this process). */
export function threadSnapshot(pid: number | 'self' = 'self'): ThreadSnapshot {
  const threads = new Map<number, [number, number, number]>();
  const dir = `/proc/${pid}/task`;
  for (const t of readdirSync(dir)) {
    try {
      const [run, wait, slices] = readFileSync(`${dir}/${t}/schedstat`, 'utf8').trim().split(' ').map(Number);
      threads.set(Number(t), [run, wait, slices]);
    } catch {
      // the thread ended
    }
  }
  return { wallNs: monotonicNs(), threads };
}

/** Per-thread use between two snapshots, busiest first, and the process total (host CPUs). */
export function threadUse(a: ThreadSnapshot, b: ThreadSnapshot): { total: number; waitTotal: number; threads: ThreadUse[] } {
  const wall = b.wallNs - a.wallNs;
  const threads: ThreadUse[] = [];
  let total = 0;
  let waitTotal = 0;
  for (const [tid, [run, wait, slices]] of b.threads) {
    const p = a.threads.get(tid) ?? [0, 0, 0];
    const u = { tid, run: (run - p[0]) / wall, wait: (wait - p[1]) / wall, switchesPerS: ((slices - p[2]) * NS_PER_S) / wall };
    total += u.run;
    waitTotal += u.wait;
    threads.push(u);
  }
  threads.sort((x, y) => y.run - x.run);
  return { total, waitTotal, threads };
}

/** One line about host contention: load average and how long the busiest threads waited. */
export function hostLine(use?: { threads: ThreadUse[] }): string {
  const [l1] = os.loadavg();
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  const busiest = use ? use.threads.slice(0, 3).map((t) => `run ${(100 * t.run).toFixed(0)}% wait ${(100 * t.wait).toFixed(0)}%`).join('; ') : '';
  return `host load ${l1.toFixed(1)} on ${cores} cores${busiest ? `; busiest engine threads: ${busiest}` : ''}`;
}

/** What measureWindow saw: CPU seconds each domain got, the wall time, host thread use and the trace. */
export interface WindowMeasurement {
  /** CPU seconds per domain name over the window. */
  cpu: Map<string, number>;
  /** Window length in seconds. */
  wall: number;
  use: ReturnType<typeof threadUse>;
  records: SchedTraceRecord[];
  /** True if the trace ring wrapped while it was read. */
  traceGap: boolean;
}

/** Waits `warmupMs`, then measures a `windowMs` window: domain CPU time, host threads and the trace. */
export async function measureWindow(svc: EngineService, warmupMs: number, windowMs: number): Promise<WindowMeasurement> {
  await sleep(warmupMs);
  const trace = new TraceCollector(svc);
  await trace.start();
  const c0 = await domainCpu(svc);
  const s0 = threadSnapshot();
  const t0 = performance.now();
  await sleep(windowMs);
  const c1 = await domainCpu(svc);
  const wall = (performance.now() - t0) / 1000;
  const use = threadUse(s0, threadSnapshot());
  const records = await trace.stop();
  const cpu = new Map<string, number>();
  for (const [name, t] of c1) cpu.set(name, t - (c0.get(name) ?? 0));
  return { cpu, wall, use, records, traceGap: trace.gap };
}

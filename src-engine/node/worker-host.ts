/**
 * The Node.js implementation of the engine's thread interfaces (runtime/thread-env.ts):
 * worker_threads for the hypervisor and pCPU threads, receiveMessageOnPort for synchronous
 * polling, and one monotonic clock for every thread.
 */
import { Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineHost, MessageEnd, WorkerEnv, WorkerHandle, WorkerKind } from '../runtime/thread-env';
import { loadCachedBundle } from './code-cache';
import { startupMark } from './startup-trace';
import { adoptEarlyWorker } from './early-worker';

/** Content hash of hv-thread.cjs, written in by scripts/build.mjs (absent when run from sources). */
declare const DOMUS_HV_THREAD_KEY: string | undefined;

/**
 * Monotonic nanoseconds, consistent across threads: CLOCK_MONOTONIC (hrtime) sampled once per
 * thread to anchor performance.now(), which is allocation-free for the hot paths.
 */
const clockBase = anchorClock();

/**
 * hrtime minus performance.now(), from the tightest of a few paired samples: a thread preempted
 * between the two reads would otherwise skew its clock against the others' by the preemption.
 */
function anchorClock(): number {
  const SAMPLES = 16;
  let best = Infinity;
  let base = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = performance.now();
    const [s, ns] = process.hrtime();
    const t1 = performance.now();
    if (t1 - t0 < best) {
      best = t1 - t0;
      base = s * 1e9 + ns - ((t0 + t1) / 2) * 1e6;
    }
  }
  return base;
}
/** Monotonic nanoseconds (CLOCK_MONOTONIC), the same clock in every engine thread. */
export function monotonicNs(): number {
  return performance.now() * 1e6 + clockBase;
}

/**
 * Where the bundled worker programs live: dist/engine beside dist/node when running bundled;
 * the repository's dist/engine when running from sources (tests); DOMUS_ENGINE_DIR overrides.
 */
export function engineDir(): string {
  if (process.env.DOMUS_ENGINE_DIR) return process.env.DOMUS_ENGINE_DIR;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const parts = here.split(path.sep);
  const src = parts.lastIndexOf('src-engine');
  if (src >= 0) return path.join(parts.slice(0, src).join(path.sep) || path.sep, 'dist', 'engine');
  return path.join(path.dirname(here), 'engine');
}

/** The entry file of an engine thread (CommonJS: it spares each thread Node's ES module loader). */
function workerFile(kind: WorkerKind): string {
  return path.join(engineDir(), kind === 'hv' ? 'hv-worker.cjs' : 'pcpu-worker.cjs');
}

/** How a NodeEngineHost runs the engine's threads. */
export interface NodeEngineHostOptions {
  /**
   * Runs the hypervisor on the calling thread instead of a worker (runtime/hv-inline.ts): for a
   * process that only runs guests and whose event loop has little else to do (`domus run`).
   * It saves the hypervisor worker's start (~40 ms of CPU) on the way to the guest's first output.
   */
  inlineHypervisor?: boolean;
}

/** Spawns engine threads with worker_threads. */
export class NodeEngineHost implements EngineHost {
  private spawned = 0;

  constructor(private readonly options: NodeEngineHostOptions = {}) {}

  spawn(kind: WorkerKind, data: unknown): WorkerHandle {
    if (kind === 'hv' && this.options.inlineHypervisor) return inlineHypervisor(data);
    const name = kind === 'hv' ? 'domus-hv' : `domus-pcpu${this.spawned++}`;
    // `domus run` started its first pCPU worker before the CLI loaded (early-worker.ts).
    const early = kind === 'pcpu' ? adoptEarlyWorker(data) : undefined;
    const w = early ?? new Worker(workerFile(kind), { workerData: data, stdout: false, stderr: false, name });
    let exited = false;
    return {
      postMessage: (m) => w.postMessage(m),
      onMessage: (h) => w.on('message', h),
      onExit: (h) => {
        w.on('error', (err) => {
          exited = true;
          h(1, err);
        });
        w.on('exit', (code) => {
          if (!exited) h(code, undefined);
        });
      },
      terminate: async () => {
        exited = true;
        await w.terminate();
      },
    };
  }
  nowNs(): number {
    return monotonicNs();
  }
  wallMs(): number {
    return Date.now();
  }
  hostCpus(): number {
    return os.availableParallelism?.() ?? os.cpus().length;
  }
  hostMemory(): number {
    return os.totalmem();
  }
  later(ms: number, fn: () => void): () => void {
    // A pending start of late workers must not keep the process alive by itself.
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  }
}

/**
 * The hypervisor on this thread: dist/engine/hv-thread.cjs loaded through the code cache at the
 * next event-loop turn (so the engine's pCPU workers start first), then driven by its
 * startHvInline. Until it is loaded, messages and handlers wait here.
 */
function inlineHypervisor(data: unknown): WorkerHandle {
  const queued: unknown[] = [];
  const onMessage: ((m: unknown) => void)[] = [];
  const onExit: ((code: number, error: Error | undefined) => void)[] = [];
  let real: WorkerHandle | undefined;
  const loaded = new Promise<void>((resolve) =>
    setImmediate(() => {
      try {
        const file = path.join(engineDir(), 'hv-thread.cjs');
        const key = typeof DOMUS_HV_THREAD_KEY === 'string' ? DOMUS_HV_THREAD_KEY : undefined;
        // Run from sources the key is unknown: no cache then (a stale one could not be told apart).
        const bundle = loadCachedBundle(file, { contentKey: key ?? 'none', env: key === undefined ? { DOMUS_CODE_CACHE: '0' } : undefined });
        startupMark(`hv-thread.cjs loaded (code cache: ${bundle.status}), on the main thread`);
        const start = bundle.exports.startHvInline;
        if (typeof start !== 'function') throw new Error(`${file} has no function startHvInline: rebuild with node scripts/build.mjs`);
        const handle = (start as (d: unknown, save: () => void) => WorkerHandle)(data, () => {
          if (bundle.save()) startupMark(`hv-thread.cjs: code cache written to ${bundle.cacheFile}`);
        });
        for (const h of onMessage) handle.onMessage(h);
        for (const h of onExit) handle.onExit(h);
        for (const m of queued) handle.postMessage(m);
        real = handle;
      } catch (e) {
        for (const h of onExit) h(1, e instanceof Error ? e : new Error(String(e)));
      }
      resolve();
    }),
  );
  return {
    postMessage: (m) => (real ? real.postMessage(m) : void queued.push(m)),
    onMessage: (h) => (real ? real.onMessage(h) : void onMessage.push(h)),
    onExit: (h) => (real ? real.onExit(h) : void onExit.push(h)),
    terminate: async () => {
      await loaded;
      await real?.terminate();
    },
  };
}

/** Optional observers of a worker thread's environment (used to time the code cache save). */
export interface WorkerEnvHooks {
  /** Called after each message the thread posts to its parent. */
  afterPost?: (message: unknown) => void;
  /** Called with each message the thread takes from its parent. */
  afterPoll?: (message: unknown) => void;
  /** Replaces the thread's clock (it must be monotonicNs or read it). */
  nowNs?: () => number;
}

/** The WorkerEnv of a worker thread. */
export function workerEnv(port: MessagePort, data: unknown, hooks: WorkerEnvHooks = {}): WorkerEnv {
  const { afterPost, afterPoll } = hooks;
  const parent: MessageEnd = {
    postMessage: afterPost
      ? (m) => {
          port.postMessage(m);
          afterPost(m);
        }
      : (m) => port.postMessage(m),
    poll: afterPoll
      ? () => {
          const m = receiveMessageOnPort(port)?.message;
          if (m !== undefined) afterPoll(m);
          return m;
        }
      : () => receiveMessageOnPort(port)?.message,
  };
  return {
    data,
    parent,
    nowNs: hooks.nowNs ?? monotonicNs,
    wallMs: () => Date.now(),
    debug: (text) => process.stderr.write(`${text}\n`),
  };
}

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

/** Spawns engine threads with worker_threads. */
export class NodeEngineHost implements EngineHost {
  private spawned = 0;

  spawn(kind: WorkerKind, data: unknown): WorkerHandle {
    const name = kind === 'hv' ? 'domus-hv' : `domus-pcpu${this.spawned++}`;
    const w = new Worker(workerFile(kind), { workerData: data, stdout: false, stderr: false, name });
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

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

/** Monotonic nanoseconds, consistent across threads (CLOCK_MONOTONIC via hrtime). */
export function monotonicNs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e9 + ns;
}

/** Where the bundled worker programs live (dist/engine next to dist/node). */
function workerFile(kind: WorkerKind): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dist = path.basename(here) === 'node' || path.basename(here) === 'engine' ? path.dirname(here) : here;
  return path.join(dist, 'engine', kind === 'hv' ? 'hv-worker.js' : 'pcpu-worker.js');
}

/** Spawns engine threads with worker_threads. */
export class NodeEngineHost implements EngineHost {
  spawn(kind: WorkerKind, data: unknown): WorkerHandle {
    const w = new Worker(workerFile(kind), { workerData: data, stdout: false, stderr: false });
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
}

/** The WorkerEnv of a worker thread. */
export function workerEnv(port: MessagePort, data: unknown): WorkerEnv {
  const parent: MessageEnd = {
    postMessage: (m) => port.postMessage(m),
    poll: () => receiveMessageOnPort(port)?.message,
  };
  return {
    data,
    parent,
    nowNs: monotonicNs,
    wallMs: () => Date.now(),
    debug: (text) => process.stderr.write(`${text}\n`),
  };
}

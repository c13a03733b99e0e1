/**
 * Engine threads started before the engine exists. Starting a worker thread costs tens of ms
 * (Node's own bootstrap, then loading the thread's program); `domus run` starts its hypervisor
 * and pCPU threads as its first act, so that this overlaps loading the command, reading the
 * kernel and building the engine on the main thread. Each prestarted thread loads its program
 * and then blocks until the engine adopts it with its real start data (what workerData carries
 * for a thread started the usual way).
 *
 * Concurrency. One Int32 word per thread, shared: 0 while waiting, 1 once the host has posted the
 * start data as the first message on the thread's port. The thread reads that message with
 * receiveMessageOnPort, so every later message stays queued for the engine's own polling.
 */
import { Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { WorkerKind } from '../runtime/thread-env';

/** workerData of a prestarted thread. */
interface PrestartData {
  domusPrestart: SharedArrayBuffer;
}

/** How a thread ended before anybody adopted it. */
export interface EarlyEnd {
  code: number;
  error: Error | undefined;
}

interface Prestarted {
  kind: WorkerKind;
  worker: Worker;
  flag: Int32Array;
}

/** The word's values. */
const WAITING = 0;
const ADOPTED = 1;
/** Poll interval (ms) if the start message is not yet readable after the wake (never expected). */
const RECHECK_MS = 1;

const waiting: Prestarted[] = [];
const earlyEnds = new WeakMap<Worker, EarlyEnd>();

/** True if `data` is the workerData of a prestarted thread. */
export function isPrestarted(data: unknown): data is PrestartData {
  return typeof data === 'object' && data !== null && (data as PrestartData).domusPrestart instanceof SharedArrayBuffer;
}

/** Thread side: blocks until the engine adopts this thread; returns the start data it sent. */
export function awaitAdoption(port: MessagePort, data: PrestartData): unknown {
  const flag = new Int32Array(data.domusPrestart);
  for (;;) {
    Atomics.wait(flag, 0, WAITING);
    const m = receiveMessageOnPort(port);
    if (m !== undefined) return (m.message as { init: unknown }).init;
    Atomics.wait(flag, 0, ADOPTED, RECHECK_MS);
  }
}

/**
 * Host side: starts `count` threads of `kind` from `file` (names given in order), waiting to be
 * adopted. They do not keep the process alive until adopted.
 */
export function prestartThreads(kind: WorkerKind, file: string, names: string[]): void {
  for (const name of names) {
    const buf = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    const worker = new Worker(file, { workerData: { domusPrestart: buf } satisfies PrestartData, stdout: false, stderr: false, name });
    worker.unref();
    // Until adopted, an ending is only recorded; the adopter hears of it (earlyEnd).
    worker.on('error', (error) => {
      if (!earlyEnds.has(worker)) earlyEnds.set(worker, { code: 1, error });
    });
    worker.on('exit', (code) => {
      if (!earlyEnds.has(worker)) earlyEnds.set(worker, { code, error: undefined });
    });
    waiting.push({ kind, worker, flag: new Int32Array(buf) });
  }
}

/** Host side: hands `data` to the oldest waiting thread of `kind` and returns it, if there is one. */
export function adoptPrestarted(kind: WorkerKind, data: unknown): Worker | undefined {
  const i = waiting.findIndex((p) => p.kind === kind);
  if (i < 0) return undefined;
  const [p] = waiting.splice(i, 1);
  p.worker.ref();
  p.worker.postMessage({ init: data });
  Atomics.store(p.flag, 0, ADOPTED);
  Atomics.notify(p.flag, 0);
  return p.worker;
}

/** How an adopted thread ended before it was adopted, if it did. */
export function earlyEnd(worker: Worker): EarlyEnd | undefined {
  return earlyEnds.get(worker);
}

/** Host side: stops the threads nobody adopted. */
export async function discardPrestarted(): Promise<void> {
  const left = waiting.splice(0);
  await Promise.all(left.map((p) => p.worker.terminate()));
}

/**
 * A pCPU worker started before the CLI is loaded. `domus run` always needs one, and a worker
 * costs ~40-50 ms before it can run a guest (Node's bootstrap, then the pCPU program), which on
 * the way to the first COM1 byte was the longest wait once the hypervisor ran on the main thread
 * (docs/performance.md). bin/domus starts it first thing for `run` (cli-boot.ts): it loads its
 * program and then sleeps until the engine adopts it with its start data (worker-host.ts), so its
 * start overlaps the CLI's own. Unadopted (bad arguments, --help) it does not keep the process
 * alive. The two bundles involved (cli-boot.cjs, cli.cjs) each carry this module; they meet
 * through a global symbol.
 */
import { Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

/** Where the early worker waits for the engine (globalThis). */
const EARLY_KEY = Symbol.for('domus.early-pcpu-worker');

/** The workerData of an early worker until it is adopted. */
export interface EarlyStart {
  /** One Int32 word: 0 while waiting, 1 once the start data has been posted. */
  earlyStart: SharedArrayBuffer;
}

interface Early {
  worker: Worker;
  word: Int32Array;
}

/** True if a worker's workerData says it was started early and waits to be adopted. */
export function isEarlyStart(data: unknown): data is EarlyStart {
  return typeof data === 'object' && data !== null && (data as EarlyStart).earlyStart instanceof SharedArrayBuffer;
}

/** Starts the pCPU worker entry `file` early, to be adopted by adoptEarlyWorker. */
export function startEarlyPcpuWorker(file: string): void {
  const shared = new SharedArrayBuffer(4);
  const data: EarlyStart = { earlyStart: shared };
  const worker = new Worker(file, { workerData: data, name: 'domus-pcpu0', stdout: false, stderr: false });
  worker.unref();
  const early: Early = { worker, word: new Int32Array(shared) };
  // An early worker that failed before it was adopted is dropped; the engine then starts its own.
  const drop = (): void => {
    if ((globalThis as Record<symbol, unknown>)[EARLY_KEY] === early) delete (globalThis as Record<symbol, unknown>)[EARLY_KEY];
  };
  worker.on('error', drop);
  worker.on('exit', drop);
  (globalThis as Record<symbol, unknown>)[EARLY_KEY] = early;
}

/** Takes the early pCPU worker (once) and hands it its start `data`; undefined if there is none. */
export function adoptEarlyWorker(data: unknown): Worker | undefined {
  const early = (globalThis as Record<symbol, unknown>)[EARLY_KEY] as Early | undefined;
  if (early === undefined) return undefined;
  delete (globalThis as Record<symbol, unknown>)[EARLY_KEY];
  early.worker.ref();
  early.worker.postMessage(data);
  Atomics.store(early.word, 0, 1);
  Atomics.notify(early.word, 0);
  return early.worker;
}

/** Longest an adopted worker waits for its start data to arrive on its port (ms). */
const DATA_WAIT_MS = 1;

/** In an early worker: sleeps until it is adopted, then returns its start data. */
export function awaitAdoption(port: MessagePort, start: EarlyStart): unknown {
  const word = new Int32Array(start.earlyStart);
  while (Atomics.load(word, 0) === 0) Atomics.wait(word, 0, 0);
  // The data was posted before the word was set; it is normally on the port already.
  for (;;) {
    const m = receiveMessageOnPort(port);
    if (m !== undefined) return m.message;
    Atomics.wait(word, 0, 1, DATA_WAIT_MS);
  }
}

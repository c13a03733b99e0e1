/**
 * A pCPU worker thread's program (bundled to dist/engine/pcpu-thread.cjs). The thread's entry,
 * pcpu-worker.ts, loads it through the V8 code cache (code-cache.ts) and calls startPcpuThread.
 */
import { parentPort } from 'node:worker_threads';
import { primeInterpreter } from '../cpu/exec-prime';
import { pcpuMain } from '../runtime/pcpu-main';
import { monotonicNs, workerEnv } from './worker-host';

/**
 * How long after its first domain arrives a pCPU saves its code cache (ns): by then the guest's
 * first instructions, exits and the interpreter paths they use have been compiled.
 */
const WARM_AFTER_NS = 30e6;

/** Runs the pCPU loop on this worker thread with its start `data`; `saveCodeCache` is called once, when warm. */
export function startPcpuThread(data: unknown, saveCodeCache: () => void): void {
  if (!parentPort) return;
  // The first Cpu would prime the interpreter (exec-prime.ts, 10-20 ms); done now, it overlaps
  // the hypervisor's creation of the first domain instead of following it.
  primeInterpreter();
  // The pCPU loop never returns to the event loop, so the save rides on its clock reads: one
  // comparison per read until the moment has come.
  let saveAt = Infinity;
  const nowNs = (): number => {
    const t = monotonicNs();
    if (t >= saveAt) {
      saveAt = Infinity;
      saveCodeCache();
    }
    return t;
  };
  let waiting = true;
  const afterPoll = (m: unknown): void => {
    if (waiting && (m as { t?: string } | undefined)?.t === 'domain') {
      waiting = false;
      saveAt = monotonicNs() + WARM_AFTER_NS;
    }
  };
  pcpuMain(workerEnv(parentPort, data, { nowNs, afterPoll }));
}

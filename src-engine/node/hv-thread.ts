/**
 * The hypervisor thread's program (bundled to dist/engine/hv-thread.cjs). The thread's entry,
 * hv-worker.ts, loads it through the V8 code cache (code-cache.ts) and calls startHvThread.
 */
import { parentPort } from 'node:worker_threads';
import { hvMain } from '../runtime/hv-main';
import { startHypervisorInline } from '../runtime/hv-inline';
import type { HvServices } from '../runtime/hv-bios';
import type { HvInit } from '../runtime/messages';
import type { WorkerHandle } from '../runtime/thread-env';
import { monotonicNs, workerEnv } from './worker-host';
import { openFileBlockBackend } from './disk/file-block-backend';

/**
 * Messages after which the code a guest's start needs has run (domain creation, exits, console
 * output), so a code cache written then covers it.
 */
const WARM_MESSAGES: ReadonlySet<string> = new Set(['console', 'domain-shutdown', 'domain-halted']);

/** The hypervisor's services in Node: disks and CD-ROMs are files. */
const services: HvServices = {
  openBlock: (d) => openFileBlockBackend({ path: d.path, medium: d.medium, readOnly: d.readOnly }),
};

/** Calls `save` once, after the first message that shows the start-up code has run. */
function saveWhenWarm(save: () => void): (m: unknown) => void {
  let cold = true;
  return (m) => {
    if (cold && WARM_MESSAGES.has((m as { t?: string }).t ?? '')) {
      cold = false;
      save();
    }
  };
}

/** Runs the hypervisor loop on this worker thread with its start `data`; `saveCodeCache` is called once, when warm. */
export function startHvThread(data: unknown, saveCodeCache: () => void): void {
  if (!parentPort) return;
  hvMain(workerEnv(parentPort, data, { afterPost: saveWhenWarm(saveCodeCache) }), services);
}

/**
 * Runs the hypervisor on the calling thread (runtime/hv-inline.ts) with the start `data` a
 * hypervisor worker would get; `saveCodeCache` is called once, when warm.
 */
export function startHvInline(data: unknown, saveCodeCache: () => void): WorkerHandle {
  const host = {
    nowNs: monotonicNs,
    wallMs: () => Date.now(),
    debug: (text: string) => process.stderr.write(`${text}\n`),
    immediate: (fn: () => void) => void setImmediate(fn),
    afterPost: saveWhenWarm(saveCodeCache),
  };
  return startHypervisorInline(data as HvInit, host, services);
}

/**
 * The hypervisor thread's program (bundled to dist/engine/hv-thread.cjs). The thread's entry,
 * hv-worker.ts, loads it through the V8 code cache (code-cache.ts) and calls startHvThread.
 */
import { parentPort } from 'node:worker_threads';
import { hvMain } from '../runtime/hv-main';
import { workerEnv } from './worker-host';
import { openFileBlockBackend } from './disk/file-block-backend';

/**
 * Messages after which the code a guest's start needs has run (domain creation, exits, console
 * output), so a code cache written then covers it.
 */
const WARM_MESSAGES: ReadonlySet<string> = new Set(['console', 'domain-shutdown', 'domain-halted']);

/** Runs the hypervisor loop on this worker thread with its start `data`; `saveCodeCache` is called once, when warm. */
export function startHvThread(data: unknown, saveCodeCache: () => void): void {
  if (!parentPort) return;
  let cold = true;
  const afterPost = (m: unknown): void => {
    if (cold && WARM_MESSAGES.has((m as { t?: string }).t ?? '')) {
      cold = false;
      saveCodeCache();
    }
  };
  hvMain(workerEnv(parentPort, data, { afterPost }), {
    openBlock: (d) => openFileBlockBackend({ path: d.path, medium: d.medium, readOnly: d.readOnly }),
  });
}

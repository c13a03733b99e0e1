/**
 * Starting an engine thread's program from its entry file: the program is a CommonJS bundle
 * beside the entry (dist/engine/*-thread.cjs) loaded through the V8 code cache (code-cache.ts).
 * The program's start function gets the thread's start data (workerData) and the cache's save(),
 * to call once its start-up code has run.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { loadCachedBundle } from './code-cache';
import { startupMark } from './startup-trace';
import { awaitAdoption, isEarlyStart } from './early-worker';

/** The start function a thread program exports. */
export type ThreadStart = (data: unknown, saveCodeCache: () => void) => void;

/** Loads `bundle` (a file beside this entry) and calls its export `start`. */
export function startThreadBundle(bundle: string, contentKey: string, start: string): void {
  if (!parentPort) return;
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), bundle);
  const loaded = loadCachedBundle(file, { contentKey });
  startupMark(`${bundle} loaded (code cache: ${loaded.status})`);
  const fn = loaded.exports[start];
  if (typeof fn !== 'function') throw new Error(`${file} has no function ${start}: rebuild with node scripts/build.mjs`);
  // A worker started before the engine existed (early-worker.ts) gets its data when adopted.
  let data: unknown = workerData;
  if (isEarlyStart(data)) {
    data = awaitAdoption(parentPort, data);
    startupMark(`${bundle}: adopted by the engine`);
  }
  (fn as ThreadStart)(data, () => {
    if (loaded.save()) startupMark(`${bundle}: code cache written to ${loaded.cacheFile}`);
  });
}

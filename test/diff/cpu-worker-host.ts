/**
 * Runs the CPU replayer in a worker thread (cpu-worker.ts). Node cannot load TypeScript in a
 * worker, so the worker entry and test/support/cpu-harness.ts are first bundled with esbuild
 * into a temporary directory under node_modules/.cache/domus-diff (so bare imports resolve).
 * A replay that takes longer than the timeout is reported as a divergence at the step the
 * worker had reached ("our CPU did not finish the step"), and the worker is replaced.
 */
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CaseRecording, DiffCase } from './case';
import { CPU_HARNESS_PATH, cpuHarnessPresent, CPU_HARNESS_MISSING } from './cpu-harness-api';
import type { Divergence } from './cpu-replay';
import type { InjectedBug } from './fault-injection';
import { DIFF_DIR, DiffHarnessError, type RunnerLayout } from './runner-layout';

/** How long one case may take on our CPU (a normal replay takes well under a millisecond). */
export const DEFAULT_REPLAY_TIMEOUT_MS = 10_000;
/** Boot of the runner on our CPU. */
const BOOT_TIMEOUT_MS = 60_000;

/** Bundles older than this are left over from killed runs and are removed. */
const STALE_BUNDLE_MS = 24 * 60 * 60 * 1000;

/** Bundles the worker and the harness into a fresh directory; returns it and the file URLs. */
async function bundle(): Promise<{ dir: string; worker: string; harness: string }> {
  const buildRoot = path.resolve(DIFF_DIR, '..', '..', 'node_modules', '.cache', 'domus-diff');
  mkdirSync(buildRoot, { recursive: true });
  for (const name of readdirSync(buildRoot)) {
    const p = path.join(buildRoot, name);
    if (Date.now() - statSync(p).mtimeMs > STALE_BUNDLE_MS) rmSync(p, { recursive: true, force: true });
  }
  const dir = mkdtempSync(path.join(buildRoot, 'cpu-worker-'));
  const harness = process.env.DOMUS_DIFF_HARNESS_MODULE;
  await build({
    entryPoints: { 'cpu-worker': path.join(DIFF_DIR, 'cpu-worker.ts'), ...(harness ? {} : { 'cpu-harness': CPU_HARNESS_PATH }) },
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
    banner: { js: "import { createRequire as __domusCreateRequire } from 'node:module'; const require = __domusCreateRequire(import.meta.url);" },
  });
  return {
    dir,
    worker: pathToFileURL(path.join(dir, 'cpu-worker.mjs')).href,
    harness: harness ?? pathToFileURL(path.join(dir, 'cpu-harness.mjs')).href,
  };
}

/** Options of the replay worker. */
export interface CpuWorkerOptions {
  /** How long one case may take (default 10 s). */
  timeoutMs?: number;
  /** Give our CPU a known bug (the harness's self-tests). */
  inject?: InjectedBug;
}

interface Pending {
  resolve: (d: Divergence | undefined) => void;
  reject: (e: Error) => void;
}

/** The replayer in its thread. Create with CpuWorker.start(). */
export class CpuWorker {
  private worker!: Worker;
  private progress!: Int32Array;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly layout: RunnerLayout;
  private readonly timeoutMs: number;
  private readonly inject: InjectedBug | undefined;
  /** Workers replaced after a hang. */
  restarts = 0;

  private constructor(layout: RunnerLayout, options: CpuWorkerOptions) {
    this.layout = layout;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REPLAY_TIMEOUT_MS;
    this.inject = options.inject;
  }

  /** Bundles, starts the worker and boots the runner on our CPU. */
  static async start(layout: RunnerLayout, options: CpuWorkerOptions = {}): Promise<CpuWorker> {
    if (!cpuHarnessPresent()) throw new DiffHarnessError('diff.no-harness', `${CPU_HARNESS_MISSING}: ${CPU_HARNESS_PATH} does not exist.`);
    const w = new CpuWorker(layout, options);
    await w.spawn();
    return w;
  }

  /** Replays one case; calls are serialised. */
  replay(c: DiffCase, expected: CaseRecording): Promise<Divergence | undefined> {
    const run = this.queue.then(() => this.replayNow(c, expected));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private async spawn(): Promise<void> {
    const urls = await bundle();
    const sab = new SharedArrayBuffer(4);
    this.progress = new Int32Array(sab);
    const worker = new Worker(new URL(urls.worker), { workerData: { harnessUrl: urls.harness, elfPath: this.layout.elfPath, progress: sab, inject: this.inject } });
    this.worker = worker;
    // Once the worker has loaded its modules the bundle is no longer needed.
    const cleanUp = (): void => rmSync(urls.dir, { recursive: true, force: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new DiffHarnessError('diff.cpu-boot', `Our CPU did not boot the runner within ${BOOT_TIMEOUT_MS} ms.`)), BOOT_TIMEOUT_MS);
      worker.once('error', (err) => {
        clearTimeout(timer);
        cleanUp();
        reject(err);
      });
      worker.on('message', (msg: { ready?: boolean; fatal?: string; id?: number; divergence?: Divergence; error?: string }) => {
        if (msg.ready) {
          clearTimeout(timer);
          cleanUp();
          resolve();
        } else if (msg.fatal) {
          clearTimeout(timer);
          cleanUp();
          reject(new DiffHarnessError('diff.cpu-boot', `Our CPU could not boot the runner kernel: ${msg.fatal}`));
        } else if (msg.id !== undefined) {
          const p = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          if (msg.error) p?.reject(new DiffHarnessError('diff.cpu-replay', `Replaying on our CPU failed: ${msg.error}`));
          else p?.resolve(msg.divergence);
        }
      });
    });
  }

  private async replayNow(c: DiffCase, expected: CaseRecording): Promise<Divergence | undefined> {
    const id = this.nextId++;
    const result = new Promise<Divergence | undefined>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.worker.postMessage({ id, case: c, expected });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.timeoutMs)));
    const outcome = await Promise.race([result, timeout]);
    clearTimeout(timer);
    if (outcome !== 'timeout') return outcome;
    const step = Math.max(0, Atomics.load(this.progress, 0));
    this.pending.delete(id);
    this.restarts++;
    await this.worker.terminate();
    await this.spawn();
    const before = step === 0 ? c.regs : expected.states[step - 1].regs;
    return { step, before, flagsMask: 0, regs: [], mem: [], error: `our CPU did not finish this step within ${this.timeoutMs} ms (hang); the worker was restarted` };
  }
}

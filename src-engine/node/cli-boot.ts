/**
 * How bin/domus starts the CLI (bundled to dist/node/cli-boot.cjs): the whole CLI as one
 * CommonJS bundle (dist/node/cli.cjs) compiled from the V8 code cache (code-cache.ts). The
 * main thread then needs neither Node's ES module loader nor a full compile of the CLI, which
 * is about 10 ms of CPU off every command's start (docs/performance.md).
 */
import path from 'node:path';
import { loadCachedBundle } from './code-cache';
import { startupMark } from './startup-trace';
import { startEarlyPcpuWorker } from './early-worker';

/** Content hash of cli.cjs, written in by scripts/build.mjs. */
declare const DOMUS_CLI_KEY: string;

/** Runs the CLI on this process's arguments. */
export function bootCli(): void {
  // `domus run` needs a pCPU worker: start it now, so that its start overlaps the CLI's
  // (early-worker.ts). DOMUS_EARLY_PCPU=0 leaves it to the engine.
  if (process.argv[2] === 'run' && process.env.DOMUS_EARLY_PCPU !== '0') {
    startEarlyPcpuWorker(path.join(process.env.DOMUS_ENGINE_DIR ?? path.join(__dirname, '..', 'engine'), 'pcpu-worker.cjs'));
  }
  const loaded = loadCachedBundle(path.join(__dirname, 'cli.cjs'), { contentKey: DOMUS_CLI_KEY });
  startupMark(`cli.cjs loaded (code cache: ${loaded.status})`);
  const runCli = loaded.exports.runCli as (saveCodeCache?: () => void) => void;
  runCli(() => loaded.save());
}

/**
 * A real engine service (worker threads, 2 pCPUs) in a temporary home for one test file, and a
 * poll with a deadline that names what it waited for.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineService } from '../../../src-engine/node/service/engine-service';
import { domusPaths } from '../../../src-engine/node/service/paths';
import { NodeEngineHost } from '../../../src-engine/node/worker-host';

/** How long a poll waits before it fails. */
export const WAIT_MS = 20000;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every 20 ms until it holds; throws naming `what` after WAIT_MS. */
export async function until(fn: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > WAIT_MS) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A started service with a 64 MiB pool, and how to close it and remove its home. */
export async function startService(prefix: string): Promise<{ svc: EngineService; home: string; close: () => Promise<void> }> {
  const home = mkdtempSync(path.join(os.tmpdir(), prefix));
  const paths = domusPaths({ DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home });
  const svc = new EngineService(new NodeEngineHost(), { pcpus: 2, memoryPoolMiB: 64, paths, version: 'test' });
  await svc.engine.whenReady();
  return {
    svc,
    home,
    close: async () => {
      await svc.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Console `com` of domain `domid` as text. */
export function consoleText(svc: EngineService, domid: number, com: number): string {
  return new TextDecoder().decode(svc.domains.get(domid)?.consoles.get(com)?.contents());
}

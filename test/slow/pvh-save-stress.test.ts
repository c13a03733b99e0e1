// PVH save and restore at random moments (`npm run test:slow`): the 2-VCPU smp guest is saved
// 0-60 ms after both its VCPUs are up - anywhere in its shared-spinlock, event-channel ping-pong
// and timer phases - and restored in a second engine, where it must reach DONE with no failed
// check. DOMUS_SAVE_STRESS_ROUNDS sets the number of rounds (default 60). Output is read from
// each engine's console log, which outlives the domain (on_poweroff=destroy removes it at once).
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineService } from '../../src-engine/node/service/engine-service';
import { domusPaths } from '../../src-engine/node/service/paths';
import { NodeEngineHost } from '../../src-engine/node/worker-host';
import { DomusError } from '../../src-engine/base/errors';

const SMP = path.resolve('test/guests-pvh/build/smp.elf');
const ROUNDS = Number(process.env.DOMUS_SAVE_STRESS_ROUNDS ?? 60);
const LATEST_SAVE_MS = 60;
const WAIT_MS = 30000;

function service(home: string): EngineService {
  const paths = domusPaths({ DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home });
  return new EngineService(new NodeEngineHost(), { pcpus: 2, memoryPoolMiB: 128, paths, version: 'test' });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(fn: () => boolean, ms = WAIT_MS): Promise<boolean> {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > ms) return false;
    await sleep(5);
  }
  return true;
}

/** The console log of pvh-smp kept by service `s`. */
function logFile(s: EngineService): string {
  const f = path.join(s.options.paths.logsDir, 'pvh-smp.log');
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
}

describe('PVH save and restore at random moments', () => {
  it(`restores the smp guest saved at ${ROUNDS} random points`, async () => {
    const homeA = mkdtempSync(path.join(os.tmpdir(), 'domus-stress-a-'));
    const homeB = mkdtempSync(path.join(os.tmpdir(), 'domus-stress-b-'));
    const a = service(homeA);
    const b = service(homeB);
    const bad: string[] = [];
    let restored = 0;
    try {
      for (let i = 0; i < ROUNDS; i++) {
        const markA = logFile(a).length;
        const r = await a.request('domain.create', { xlcfg: `name = "pvh-smp"\ntype = "pvh"\nmemory = 8\nvcpus = 2\nkernel = "${SMP}"\n` });
        await until(() => /^PASS smp-up$/m.test(logFile(a).slice(markA)) || !a.domains.has(r.domid));
        await sleep(Math.random() * LATEST_SAVE_MS);
        const file = path.join(homeA, `round${i}.save`);
        try {
          await a.request('domain.save', { domain: r.domid, file });
        } catch (e) {
          // The guest finished first: nothing to save this round.
          if (!(e instanceof DomusError) || (e.code !== 'domain.not-found' && !/shut down/.test(e.message))) throw e;
          await a.request('domain.destroy', { domain: r.domid }).catch(() => {});
          await until(() => !a.domains.has(r.domid));
          continue;
        }
        await until(() => !a.domains.has(r.domid));
        const before = logFile(a).slice(markA);
        const markB = logFile(b).length;
        const res = await b.request('domain.restore', { file });
        const after = () => logFile(b).slice(markB);
        // A save can land between the guest's DONE line and its power-off: restored, it must
        // then power off (on_poweroff=destroy removes it) without printing anything more.
        const doneBefore = before.includes('DONE');
        const done = doneBefore ? await until(() => !b.domains.has(res.domid)) : await until(() => after().includes('DONE'));
        const what = doneBefore ? 'saved after DONE, no power-off after the restore' : 'no DONE';
        if (!done || /^FAIL/m.test(after())) bad.push(`round ${i}: ${done ? 'a check failed' : what}\nbefore the save:\n${before}after the restore:\n${after()}`);
        else restored++;
        await b.request('domain.destroy', { domain: res.domid }).catch(() => {});
        await until(() => !b.domains.has(res.domid));
        rmSync(file, { force: true });
      }
    } finally {
      await a.close();
      await b.close();
      rmSync(homeA, { recursive: true, force: true });
      rmSync(homeB, { recursive: true, force: true });
    }
    expect(bad).toEqual([]);
    // Most rounds save before the guest finishes (it runs about a second).
    expect(restored).toBeGreaterThan(ROUNDS / 2);
  }, 1800000);
});

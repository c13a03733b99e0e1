// PVH save and restore through the real runtime (engine service, hypervisor thread, pCPU worker
// threads): the smp guest is saved while both its VCPUs are up and restored in a fresh engine,
// where both VCPUs run again and it reaches its DONE line with no failed check. The guest runs
// on real time, so the save may come too late (the guest already finished); then it is tried
// again from the start.
//
// Both engines' output is read from their console logs, which outlive the domain: the restored
// guest may finish within milliseconds, and on_poweroff=destroy then removes it (and its console
// buffer) before a poll of the live domain would see its last lines.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineService } from '../../../src-engine/node/service/engine-service';
import { domusPaths } from '../../../src-engine/node/service/paths';
import { NodeEngineHost } from '../../../src-engine/node/worker-host';
import { DomusError } from '../../../src-engine/base/errors';
import { guestResults } from '../../support/pvh-machine';

const SMP = path.resolve('test/guests-pvh/build/smp.elf');
const ATTEMPTS = 5;
const WAIT_MS = 60000;
const POLL_MS = 20;

function service(home: string): EngineService {
  const paths = domusPaths({ DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home });
  return new EngineService(new NodeEngineHost(), { pcpus: 2, memoryPoolMiB: 128, paths, version: 'test' });
}

async function until(what: string, fn: () => boolean, ms = WAIT_MS, show: () => string = () => ''): Promise<void> {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}\n${show()}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

describe('PVH save and restore in the real engine', () => {
  it('restores a 2-VCPU PVH guest in a fresh engine, both VCPUs running on', async () => {
    const homeA = mkdtempSync(path.join(os.tmpdir(), 'domus-pvh-a-'));
    const homeB = mkdtempSync(path.join(os.tmpdir(), 'domus-pvh-b-'));
    const a = service(homeA);
    const b = service(homeB);
    try {
      const file = path.join(homeA, 'smp.save');
      let saved = false;
      let mark = 0;
      for (let attempt = 0; attempt < ATTEMPTS && !saved; attempt++) {
        mark = logFile(a).length;
        const r = await a.request('domain.create', { xlcfg: `name = "pvh-smp"\ntype = "pvh"\nmemory = 8\nvcpus = 2\nkernel = "${SMP}"\n` });
        const con = () => new TextDecoder().decode(a.domains.get(r.domid)?.consoles.get(0)?.contents());
        const gone = () => a.domains.get(r.domid)?.shutdown !== undefined || !a.domains.has(r.domid);
        await until('both VCPUs up', () => /^PASS smp-up$/m.test(con()) || gone());
        try {
          await a.request('domain.save', { domain: r.domid, file });
          saved = true;
        } catch (e) {
          // Too late: the guest finished (and may already be destroyed by on_poweroff).
          if (!(e instanceof DomusError) || (e.code !== 'domain.not-found' && !/shut down/.test(e.message))) throw e;
          await a.request('domain.destroy', { domain: r.domid }).catch(() => {});
          await until('the finished domain to go', () => !a.domains.has(r.domid));
        }
      }
      expect(saved).toBe(true);
      // The console log is written as the console events arrive; wait until it has settled.
      let seen = -1;
      await until('the first engine\'s console log to settle', () => {
        const n = logFile(a).length;
        const settled = n === seen && /^PASS smp-up$/m.test(logFile(a).slice(mark));
        seen = n;
        return settled;
      });
      const before = logFile(a).slice(mark);
      // Nothing after the save point ran in the first engine: no DONE there.
      expect(before).toMatch(/^PASS smp-up$/m);
      expect(before.split('\n').filter((l) => l.startsWith('DONE'))).toEqual([]);
      const restored = await b.request('domain.restore', { file });
      const con = () => logFile(b);
      await until('the restored guest to finish', () => con().includes('DONE'), WAIT_MS, () => {
        const info = b.domains.get(restored.domid);
        return `before the save:\n${before}\nafter the restore:\n${con()}\nshutdown: ${JSON.stringify(info?.shutdown)}`;
      });
      const r = guestResults(before + con());
      expect(r.fail, before + con()).toEqual([]);
      expect(r.pass).toEqual(expect.arrayContaining(['smp-up', 'smp-ipi-ping-pong', 'smp-locked-counter', 'smp-ap-timer', 'smp-ap-down']));
      expect(con()).not.toContain('smp: domain');
    } finally {
      await a.close();
      await b.close();
      rmSync(homeA, { recursive: true, force: true });
      rmSync(homeB, { recursive: true, force: true });
    }
  }, 180000);
});

/** The console log of pvh-smp kept by service `s` (it outlives the saved domain). */
function logFile(s: EngineService): string {
  const f = path.join(s.options.paths.logsDir, 'pvh-smp.log');
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
}

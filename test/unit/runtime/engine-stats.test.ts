/**
 * Statistics of a VCPU that never leaves its pCPU: under the null scheduler a spinning guest has
 * no slice end and makes no exits, yet the pCPU's busy time and instruction count (and the
 * domain's instruction count) must keep moving while it runs.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Engine } from '../../../src-engine/runtime/engine';
import { NodeEngineHost } from '../../../src-engine/node/worker-host';

const SPIN = path.resolve('test/fixtures/guests/spin.elf');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('engine statistics', () => {
  it('publish a running VCPU busy time and instructions without waiting for it to stop', async () => {
    let out = '';
    const engine = new Engine(new NodeEngineHost(), { pcpus: 1, memoryPoolMiB: 64, scheduler: 'null' }, {
      console: (_d, _c, data) => void (out += new TextDecoder().decode(data)),
    });
    try {
      const { domid } = await engine.createDomain({ name: 'spin', memoryMiB: 16, vcpus: 1, kernel: { data: readFileSync(SPIN), path: SPIN, cmdline: '', modules: [] } });
      for (let i = 0; i < 200 && !out.includes('SPIN START'); i++) await sleep(25);
      expect(out).toContain('SPIN START');
      engine.pcpuStats();
      await sleep(300);
      const a = engine.pcpuStats()[0];
      const da = (await engine.domainStats(domid)).instructions;
      await sleep(500);
      const b = engine.pcpuStats()[0];
      expect(b.busyNs - a.busyNs).toBeGreaterThan(50e6);
      expect(b.instructions).toBeGreaterThan(a.instructions);
      // pcpuStats() asks the pCPU to publish; the state block's count follows once it has seen the
      // request, which may be after domainStats() has read it: ask until it moves.
      let db = da;
      for (let i = 0; i < 50 && db <= da; i++) {
        engine.pcpuStats();
        await sleep(50);
        db = (await engine.domainStats(domid)).instructions;
      }
      expect(db).toBeGreaterThan(da);
    } finally {
      await engine.close();
    }
  }, 30_000);
});

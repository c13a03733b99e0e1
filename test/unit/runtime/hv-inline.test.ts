/**
 * The hypervisor on the host's own thread (runtime/hv-inline.ts, used by `domus run`): guests run,
 * the host's calls are answered while they do, the host's own timers still fire while the
 * hypervisor sleeps between passes, and the engine closes.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Engine } from '../../../src-engine/runtime/engine';
import { NodeEngineHost } from '../../../src-engine/node/worker-host';

const TICK = path.resolve('test/fixtures/guests/tick.elf');
const BENCH = path.resolve('test/fixtures/guests/bench.elf');
const kernel = (file: string) => ({ data: readFileSync(file), path: file, cmdline: '', modules: [] });

describe('inline hypervisor', () => {
  it('runs an idle guest while the host thread keeps its timers and gets answers', async () => {
    let out = '';
    const destroyed: number[] = [];
    const engine = new Engine(new NodeEngineHost({ inlineHypervisor: true }), { pcpus: 1, memoryPoolMiB: 64 }, {
      console: (_d, _c, data) => void (out += new TextDecoder().decode(data)),
      destroyed: (d) => void destroyed.push(d),
    });
    try {
      const { domid } = await engine.createDomain({ name: 'tick', memoryMiB: 16, vcpus: 1, kernel: kernel(TICK) });
      // The guest sleeps in HLT between PIT ticks, so the host thread spends most of its time in
      // Atomics.wait; a timer of the host must still fire, and more than once.
      const fired: number[] = [];
      await new Promise<void>((resolve) => {
        const t = setInterval(() => {
          fired.push(performance.now());
          if (fired.length === 5) {
            clearInterval(t);
            resolve();
          }
        }, 20);
      });
      expect(fired.length).toBe(5);
      // Seconds pass in the guest: it prints TICK lines (one a second).
      for (let i = 0; i < 100 && !/TICK 1\b/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out).toMatch(/TICK 1\b/);
      const st = await engine.domainStats(domid);
      expect(st.instructions).toBeGreaterThan(0);
      await engine.pauseDomain(domid);
      await engine.unpauseDomain(domid);
      await engine.destroyDomain(domid);
      for (let i = 0; i < 40 && destroyed.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(destroyed).toEqual([domid]);
    } finally {
      await engine.close();
    }
  }, 30_000);

  it('runs a busy guest to its debug exit with the same results as a worker hypervisor', async () => {
    const run = async (inlineHypervisor: boolean) => {
      let out = '';
      let exitCode: number | undefined;
      const engine = new Engine(new NodeEngineHost({ inlineHypervisor }), { pcpus: 2, memoryPoolMiB: 64 }, {
        console: (_d, _c, data) => void (out += new TextDecoder().decode(data)),
        shutdown: (_d, reason, code) => void (exitCode = reason === 'debug-exit' ? code : -1),
      });
      try {
        await engine.createDomain({ name: 'bench', memoryMiB: 32, vcpus: 1, kernel: kernel(BENCH), debugExit: true });
        const started = performance.now();
        while (exitCode === undefined && performance.now() - started < 60_000) await new Promise((r) => setTimeout(r, 20));
      } finally {
        await engine.close();
      }
      return { results: out.split('\n').filter((l) => l.startsWith('END ')).map((l) => l.replace(/tsc=\d+ /, '')), exitCode };
    };
    const inline = await run(true);
    expect(inline.exitCode).toBe(1);
    expect(inline.results).toHaveLength(3);
    expect(inline).toEqual(await run(false));
  }, 120_000);
});

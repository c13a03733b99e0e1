/**
 * Differential test of the Domus CPU against QEMU (qemu-system-i386 and its gdbstub): random
 * instruction sequences (test/diff/generator.ts) are single-stepped on both and every state
 * compared; divergences are minimised and listed. docs/differential-testing.md explains it.
 *
 *   npm run test:slow                                   10,000 cases (seed 1)
 *   DOMUS_DIFF_CASES=100000 npm run test:slow           the full 100,000-sequence run
 *   DOMUS_DIFF_SEED=7 DOMUS_DIFF_JOBS=4 DOMUS_DIFF_WRITE=1 ...   other seed, 3 QEMUs, store regressions
 */
import { describe, expect, it } from 'vitest';
import { recordingKey } from '../diff/case-json';
import { cpuHarnessPresent, CPU_HARNESS_MISSING } from '../diff/cpu-harness-api';
import { runDifferential } from '../diff/diff-run';
import { generateCase } from '../diff/generator';
import { DEFAULT_POOL_SIZE, QemuPool } from '../diff/qemu-pool';
import { qemuVersion } from '../diff/qemu-process';
import { loadRunnerLayout } from '../diff/runner-layout';

const env = (name: string, fallback: number): number => {
  const v = process.env[name];
  const n = v === undefined || v === '' ? fallback : Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${v}"`);
  return n;
};
const CASES = env('DOMUS_DIFF_CASES', 10_000);
const SEED = env('DOMUS_DIFF_SEED', 1);
const JOBS = Math.max(1, env('DOMUS_DIFF_JOBS', DEFAULT_POOL_SIZE));
const WRITE = process.env.DOMUS_DIFF_WRITE === '1';
/** Cases recorded twice to show QEMU's recordings are stable. */
const STABILITY_CASES = 2000;

const layout = loadRunnerLayout();
const version = qemuVersion();
const hasHarness = cpuHarnessPresent();
if (!version) console.warn('qemu-diff: qemu-system-i386 is not installed (Debian package qemu-system-x86); skipped.');
else if (!hasHarness) console.warn(`qemu-diff: ${CPU_HARNESS_MISSING}; only QEMU's side is checked.`);

describe.skipIf(!version)(`differential test against ${version ?? 'QEMU'}`, () => {
  it(`records ${STABILITY_CASES} cases identically twice (fresh processes, second pass reversed)`, async () => {
    const cases = Array.from({ length: STABILITY_CASES }, (_, i) => generateCase(SEED + 1000, i, layout));
    const pass = async (order: number[]): Promise<string[]> => {
      const pool = await QemuPool.start(layout, JOBS);
      const keys = new Array<string>(cases.length);
      let next = 0;
      try {
        await Promise.all(Array.from({ length: JOBS * 2 }, async () => {
          while (next < order.length) {
            const i = order[next++];
            keys[i] = recordingKey(await pool.record(cases[i]));
          }
        }));
      } finally {
        await pool.close();
      }
      return keys;
    };
    const order = [...cases.keys()];
    const a = await pass(order);
    const b = await pass(order.reverse());
    expect(cases.filter((_, i) => a[i] !== b[i]).map((c) => c.name)).toEqual([]);
  });

  it.skipIf(!hasHarness)(`${CASES} random cases (seed ${SEED}) run on the Domus CPU exactly as on QEMU`, async () => {
    const r = await runDifferential({ seed: SEED, count: CASES, jobs: JOBS, write: WRITE, log: (l) => console.log(`qemu-diff: ${l}`) }, layout, true);
    console.log(`qemu-diff: ${r.cases} cases, ${r.steps} steps in ${r.seconds.toFixed(1)} s = ${r.casesPerSecond} cases/s (${JOBS} QEMU processes); outcomes: ${
      Object.entries(r.ends).sort((x, y) => y[1] - x[1]).slice(0, 8).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    expect(r.divergences.map((d) => `${d.report}${d.file ? `\nstored as ${d.file}` : ''}`).join('\n\n')).toBe('');
    expect(r.cases).toBe(CASES);
  });
});

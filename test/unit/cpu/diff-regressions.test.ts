/**
 * Replays every stored differential case (test/unit/cpu/diff-regressions/cases: minimised
 * divergences recorded from QEMU; qemu-wrong: cases where the expected states follow the SDM
 * instead of QEMU) on the Domus CPU through test/support/cpu-harness.ts. No QEMU needed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASE_FORMAT, storedCaseToJson } from '../../diff/case-json';
import { cpuHarnessPresent, CPU_HARNESS_MISSING } from '../../diff/cpu-harness-api';
import { CpuWorker } from '../../diff/cpu-worker-host';
import { CASES_DIR, QEMU_WRONG_DIR, readStoredCases } from '../../diff/regressions';
import { formatDivergence } from '../../diff/report';
import { loadRunnerLayout } from '../../diff/runner-layout';
import { readFileSync } from 'node:fs';

const layout = loadRunnerLayout();
const stored = [...readStoredCases(CASES_DIR), ...readStoredCases(QEMU_WRONG_DIR)];
const hasHarness = cpuHarnessPresent();
if (!hasHarness) console.warn(`diff-regressions: ${CPU_HARNESS_MISSING} (test/support/cpu-harness.ts); stored cases are only validated, not replayed.`);

describe('stored differential cases', () => {
  it('are well-formed and serialise back to the same text', () => {
    for (const { file, stored: s } of stored) {
      expect(readFileSync(file, 'utf8'), file).toBe(storedCaseToJson(s));
      expect(s.case.code.length, file).toBeGreaterThan(0);
      expect(s.case.data.length, file).toBe(layout.dataWindowSize);
      expect(s.expected.states.length, file).toBeLessThanOrEqual(s.case.maxSteps);
      if (file.startsWith(QEMU_WRONG_DIR)) expect(s.sdm, `${file} must cite the SDM`).toBeTruthy();
    }
    expect(CASE_FORMAT).toMatch(/^domus-diff-case\//);
  });

  describe.skipIf(!hasHarness)('replayed on the Domus CPU', () => {
    let worker: CpuWorker;
    beforeAll(async () => {
      worker = await CpuWorker.start(layout);
    });
    afterAll(async () => {
      await worker?.close();
    });
    it.each(stored.map((s) => [s.file.slice(s.file.indexOf('diff-regressions/')), s] as const))('%s', async (_name, { stored: s }) => {
      const d = await worker.replay(s.case, s.expected);
      expect(d ? formatDivergence(s.case, s.expected, d, layout) : 'matches').toBe('matches');
    });
    it('has a replayer that reports a divergence when the expected state is wrong', async () => {
      // A guard against a replay that can never fail: tamper with a recorded register.
      const s = stored[0]?.stored;
      if (!s) return;
      const bad = { ...s.expected, states: s.expected.states.map((st) => ({ ...st, regs: { ...st.regs, ebx: (st.regs.ebx ^ 0x5a5a5a5a) >>> 0 } })) };
      const d = await worker.replay(s.case, bad);
      expect(d?.regs.some((r) => r.reg === 'ebx')).toBe(true);
    });
  });
});

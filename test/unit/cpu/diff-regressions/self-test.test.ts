/**
 * The differential harness end to end, against the Domus CPU with a known bug injected (CMC that
 * leaves CF alone): the run must find the divergence and minimise the case to the CMC itself.
 * Needs qemu-system-i386 and test/support/cpu-harness.ts.
 */
import { describe, expect, it } from 'vitest';
import { cpuHarnessPresent, CPU_HARNESS_MISSING } from '../../../diff/cpu-harness-api';
import { runDifferential } from '../../../diff/diff-run';
import { generateCase } from '../../../diff/generator';
import { qemuVersion } from '../../../diff/qemu-process';
import { loadRunnerLayout } from '../../../diff/runner-layout';

const layout = loadRunnerLayout();
const hasQemu = qemuVersion() !== undefined;
const hasHarness = cpuHarnessPresent();
if (!hasQemu) console.warn('diff self-test: qemu-system-i386 is not installed (Debian package qemu-system-x86); skipped.');
else if (!hasHarness) console.warn(`diff self-test: ${CPU_HARNESS_MISSING}; skipped.`);
const SEED = 31;

describe.skipIf(!hasQemu || !hasHarness)('differential harness self-test', () => {
  it('finds an injected CMC bug and minimises the case to the CMC instruction', async () => {
    const withCmc: number[] = [];
    for (let i = 0; withCmc.length < 10; i++) {
      const c = generateCase(SEED, i, layout, { modes: ['pm32'] });
      const k = c.program.findIndex((p) => p.form === 'cmc');
      if (k >= 2 && !c.program.some((p) => p.fixup)) withCmc.push(i);
    }
    let found;
    for (const first of withCmc) {
      const r = await runDifferential({ seed: SEED, first, count: 1, jobs: 1, inject: 'cmc-keeps-cf', maxDivergences: 1, generator: { modes: ['pm32'] } }, layout, true);
      if (r.divergences.length > 0) {
        found = r.divergences[0];
        break;
      }
    }
    expect(found, 'no generated case with a CMC reached it').toBeDefined();
    expect(found!.original.program.length).toBeGreaterThan(2);
    expect(found!.case.program.map((p) => p.form)).toEqual(['cmc']);
    expect(found!.divergence.regs.map((r) => r.reg)).toEqual(['eflags']);
    expect(found!.report).toMatch(/cmc/);
    expect(found!.report).toMatch(/differ \[CF\]/);
  });
});

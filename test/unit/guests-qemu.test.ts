// Runs every CPU test guest (test/guests, docs/test-guests.md) under QEMU TCG, the oracle the
// guests are validated against: each must print PASS for every check (FAIL only for the checks
// listed as known QEMU deviations), a consistent DONE line, and exit through isa-debug-exit.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  QEMU_EXIT_ALL_PASSED, QEMU_EXIT_SOME_FAILED, TEST_GUESTS, judgeGuestOutput, parseGuestOutput, qemuArgs,
} from '../guests/index';

const QEMU = 'qemu-system-i386';
const GUEST_TIMEOUT_MS = 20_000;
const hasQemu = spawnSync(QEMU, ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasQemu) console.warn(`guests-qemu: skipped, ${QEMU} is not installed (Debian package qemu-system-x86)`);

describe('CPU test guests under QEMU TCG', () => {
  it('lists every guest with its checks', () => {
    expect(TEST_GUESTS.length).toBeGreaterThan(0);
    for (const g of TEST_GUESTS) {
      expect(g.checkCount, g.name).toBe(g.checks.length);
      expect(new Set(g.checks).size, `${g.name}: duplicate check names`).toBe(g.checks.length);
      for (const d of g.qemuDeviations) expect(g.checks, `${g.name}: deviation ${d}`).toContain(d);
    }
  });

  for (const g of TEST_GUESTS) {
    if (g.qemuUnusable) {
      it.skip(`${g.name}: not run under QEMU (${g.qemuUnusable})`, () => {});
      continue;
    }
    it.skipIf(!hasQemu)(`${g.name}: ${g.checkCount} checks pass`, () => {
      const run = spawnSync(QEMU, qemuArgs(g.elfPath), { encoding: 'utf8', timeout: GUEST_TIMEOUT_MS });
      expect(run.error, `${g.name}: QEMU did not finish in ${GUEST_TIMEOUT_MS} ms`).toBeUndefined();
      const out = parseGuestOutput(run.stdout);
      expect(judgeGuestOutput(g, out, g.qemuDeviations)).toEqual([]);
      const failed = out.failed.length > 0;
      expect(run.status).toBe(failed ? QEMU_EXIT_SOME_FAILED : QEMU_EXIT_ALL_PASSED);
    });
  }
});

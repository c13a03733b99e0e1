// The CPU helper's bare-metal guests (test/guests-cpu) on the Domus CPU, in-process over the PC
// devices, and under QEMU (the oracle they are validated against) when qemu-system-i386 is
// installed. Every check must pass on Domus; under QEMU only the listed QEMU deviations may fail.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createPcMachine } from '../../support/pc-machine';
import { judgeGuestOutput, parseGuestOutput, qemuArgs, QEMU_EXIT_ALL_PASSED, QEMU_EXIT_SOME_FAILED } from '../../guests/index';
import { CPU_TEST_GUESTS } from '../../guests-cpu/index';
import { DEFAULT_FEATURES } from '../../../src-engine/cpu/cpuid';

const QEMU = 'qemu-system-i386';
const GUEST_TIMEOUT_MS = 20_000;
const MEM_BYTES = 64 << 20;
const BUDGET = 200_000_000;
const hasQemu = spawnSync(QEMU, ['--version']).status === 0;
if (!hasQemu) console.warn(`guests-cpu: QEMU runs skipped, ${QEMU} is not installed (Debian package qemu-system-x86)`);

describe('CPU completeness guests on the Domus CPU', () => {
  for (const g of CPU_TEST_GUESTS) {
    it(`${g.name}: all ${g.checkCount} checks pass`, () => {
      const m = createPcMachine({ memBytes: MEM_BYTES, features: { ...DEFAULT_FEATURES, ...g.domusFeatures } });
      m.loadMultiboot(new Uint8Array(readFileSync(g.elfPath)));
      const end = m.run(BUDGET);
      expect(judgeGuestOutput(g, parseGuestOutput(m.serial())), m.serial().slice(-2000)).toEqual([]);
      expect(end).toBe('debug-exit');
      expect(m.debugExit()).toBe(QEMU_EXIT_ALL_PASSED);
    });
  }
});

describe('CPU completeness guests under QEMU TCG', () => {
  for (const g of CPU_TEST_GUESTS) {
    it.skipIf(!hasQemu)(`${g.name}: passes except for the listed QEMU deviations`, () => {
      const run = spawnSync(QEMU, [...g.qemuExtraArgs, ...qemuArgs(g.elfPath)], { encoding: 'utf8', timeout: GUEST_TIMEOUT_MS });
      expect(run.error, `${g.name}: QEMU did not finish in ${GUEST_TIMEOUT_MS} ms`).toBeUndefined();
      const out = parseGuestOutput(run.stdout);
      expect(judgeGuestOutput(g, out, g.qemuDeviations)).toEqual([]);
      // The deviations are real: QEMU fails each of them.
      expect(out.failed.map((f) => f.check).sort()).toEqual([...g.qemuDeviations].sort());
      expect(run.status).toBe(out.failed.length > 0 ? QEMU_EXIT_SOME_FAILED : QEMU_EXIT_ALL_PASSED);
    });
  }
});

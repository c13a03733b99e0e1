// Every bare-metal CPU test guest of test/guests, run with the JIT compiling every block into a
// region the first time it runs (jitAllConfig), so each check the guests make is made by
// compiled code; guests.test.ts runs them with the normal thresholds, and DOMUS_JIT=off runs the
// whole suite on the pure interpreter.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createPcMachine } from '../../support/pc-machine';
import { judgeGuestOutput, parseGuestOutput, TEST_GUESTS } from '../../guests/index';
import { jitAllConfig } from '../../../src-engine/cpu/jit/jit-config';

/** Guest memory (as QEMU's -m 64). */
const MEM_BYTES = 64 << 20;
/** Every guest finishes in far fewer instructions. */
const BUDGET = 400_000_000;

describe('CPU test guests with every block compiled', () => {
  for (const guest of TEST_GUESTS) {
    it(`${guest.name}: every check passes in compiled code`, () => {
      const m = createPcMachine({ memBytes: MEM_BYTES });
      m.cpu.jit = jitAllConfig();
      m.loadMultiboot(new Uint8Array(readFileSync(guest.elfPath)));
      const end = m.run(BUDGET);
      const out = parseGuestOutput(m.serial());
      expect(judgeGuestOutput(guest, out, []), m.serial().slice(-2000)).toEqual([]);
      expect(end).toBe('debug-exit');
      const st = m.cpu.jitRegistry.stats;
      expect(st.failures).toBe(0);
      expect(st.compiles).toBeGreaterThan(10);
      expect(st.insnsTemplated).toBeGreaterThan(st.insnsCompiled / 2);
    });
  }
});

// Runs every bare-metal CPU test guest of test/guests (they pass under QEMU) on Domus's own CPU,
// in-process, over the real PC devices (test/support/pc-machine.ts), and requires every check to
// pass. NOT_YET lists the checks that still fail, each with the reason; a listed check that
// passes fails this test too, so the list can only shrink.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createPcMachine } from '../../support/pc-machine';
import { judgeGuestOutput, parseGuestOutput, TEST_GUESTS } from '../../guests/index';

/** Guest memory (as QEMU's -m 64). */
const MEM_BYTES = 64 << 20;
/** Every guest finishes in far fewer instructions. */
const BUDGET = 400_000_000;

/** Checks that fail on this CPU today, and why. */
const NOT_YET: Readonly<Record<string, Readonly<Record<string, string>>>> = {
};

describe('CPU test guests on the Domus CPU', () => {
  for (const guest of TEST_GUESTS) {
    it(`${guest.name}: every check passes`, () => {
      const m = createPcMachine({ memBytes: MEM_BYTES });
      m.loadMultiboot(new Uint8Array(readFileSync(guest.elfPath)));
      const end = m.run(BUDGET);
      const out = parseGuestOutput(m.serial());
      const pending = NOT_YET[guest.name] ?? {};
      const problems = judgeGuestOutput(guest, out, Object.keys(pending));
      expect(problems, m.serial().slice(-2000)).toEqual([]);
      expect(end).toBe('debug-exit');
      const failed = new Set(out.failed.map((f) => f.check));
      const nowPassing = Object.keys(pending).filter((c) => !failed.has(c));
      expect(nowPassing, 'listed in NOT_YET but passing: remove them from the list').toEqual([]);
    });
  }
});

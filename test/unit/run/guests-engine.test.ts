// Runs the bare-metal CPU test guests of test/guests through `domus run`, that is through the
// real engine: the hypervisor thread serving the devices and a pCPU worker running the VCPU.
// guests.test.ts runs the same guests on a single-threaded machine; here the exits cross threads,
// synchronously or posted (writes to the 8259s are posted without waiting, and the system guest
// reads the PIC's ISR right after selecting it with a posted OCW3, so a posted write served out of
// order fails its check).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { judgeGuestOutput, parseGuestOutput, TEST_GUESTS } from '../../guests/index';

/** debug-exit status of a guest that wrote 0 to port 0xf4: (0 << 1) | 1. */
const GUEST_DONE = 1;

describe('CPU test guests through the real engine (domus run)', () => {
  for (const guest of TEST_GUESTS) {
    it(`${guest.name}: every check passes across the hypervisor and pCPU threads`, () => {
      const r = spawnSync(process.execPath, ['bin/domus', 'run', '--kernel', guest.elfPath, '--debug-exit', '--timeout', '60'], {
        encoding: 'latin1',
        timeout: 90_000,
      });
      const problems = judgeGuestOutput(guest, parseGuestOutput(r.stdout), []);
      expect(problems, `${r.stdout.slice(-1500)}\n${r.stderr}`).toEqual([]);
      expect(r.status).toBe(GUEST_DONE);
    }, 100_000);
  }
});

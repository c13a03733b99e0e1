// A PVH test guest with 2 VCPUs (test/guests-pvh/smp) on 2 pCPUs of the in-process Xen host:
// VCPU 1 is brought up with VCPUOP_initialise/VCPUOP_up, both VCPUs count, exchange IPIs and
// take their own timer interrupts, and VCPU 1 goes down again.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { S_RUNNING } from '../../../src-engine/cpu/state';
import { guestResults, PvhMachine } from '../../support/pvh-machine';

const GUEST = fileURLToPath(new URL('../../guests-pvh/build/smp.elf', import.meta.url));

describe('smp PVH guest', () => {
  it('runs 2 VCPUs on 2 pCPUs', () => {
    const m = new PvhMachine(64, 2);
    const id = m.addDomain({ name: 'pvh-smp', kernel: readFileSync(GUEST), memMiB: 8, vcpus: 2 });
    expect(m.run({ maxNs: 4e9 })).toBe('all-shutdown');
    const d = m.domain(id);
    const r = guestResults(d.console);
    expect(r.fail, d.console).toEqual([]);
    expect(r.done).toBe(true);
    expect(r.pass).toContain('smp-locked-counter');
    expect(m.ranOn.has(`${id}.0@0`)).toBe(true);
    expect(m.ranOn.has(`${id}.1@1`)).toBe(true);
    // VCPUOP_up after the AP went down brought it back online.
    expect(d.cpus[1].s[S_RUNNING]).toBe(1);
  });
});

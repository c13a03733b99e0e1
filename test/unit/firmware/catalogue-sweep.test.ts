/**
 * Every catalogue entry is reachable through the real path (IVT -> ROM stub -> trap -> dispatcher
 * -> IRET) and selects itself; not-yet entries give their vector's "unsupported" answer. The
 * simple functions not covered by the per-vector test files get their contract checked here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createHvmMachine, type HvmMachine } from '../../support/hvm-machine';
import { biosCall } from './rig';
import { makeCd, makeDisk } from './media';
import type { BiosService } from '../../../src-engine/firmware/bios/service';
import type { BiosCallEvent } from '../../../src-engine/firmware/bios/bios';

let m: HvmMachine;
beforeAll(() => {
  m = createHvmMachine({ memoryMiB: 16, cdroms: [makeCd()], disks: [makeDisk(2048, true)], bootOrder: ['cdrom'] });
});

/** AX that selects an entry (AL=0 unless the entry is keyed by AX). */
const axOf = (s: BiosService) => s.ax ?? ((s.ah ?? 0) << 8);
/** Calls that would wait or transfer control are left to their own tests. */
const SKIP = new Set(['16:0000', '16:1000', '15:8600', '18:0000', '19:0000']);

describe('the service catalogue, end to end', () => {
  it('every entry is reached by its AH/AX and answers by its status', () => {
    const events: BiosCallEvent[] = [];
    m.bios.trace = (e) => void events.push(e);
    for (const s of m.bios.catalogue) {
      const key = `${s.vector.toString(16)}:${axOf(s).toString(16).padStart(4, '0')}`;
      if (SKIP.has(key) || s.vector === 0x08 || s.vector === 0x09) continue;
      events.length = 0;
      // DS:SI / ES:DI / ES:BX point into scratch memory with a plausible size word; DL = the hard disk.
      m.memory.fill(0x1000, 0x100, 0);
      m.memory.writeU16(0x1000, 0x1e);
      const r = biosCall(m, s.vector, { eax: axOf(s), ebx: 0x55aa, ecx: 1, edx: 0x0080, esi: 0x1000, edi: 0x1000, es: 0, ds: 0, flags: 0x0002 });
      expect(r.stop, key).toBe('halted');
      expect(events.at(-1)?.service, key).toBe(s);
      if (s.status === 'not-yet' && s.run === undefined) {
        if (s.vector === 0x13 || s.vector === 0x15) expect(r.cf, key).toBe(true);
        if (s.vector === 0x13) expect(r.ah, key).toBe(0x01);
        if (s.vector === 0x15) expect(r.ah, key).toBe(0x86);
        if (s.vector === 0x1a) expect(r.cf, key).toBe(true);
      }
    }
  });
});

describe('simple functions', () => {
  it('INT 13h no-op functions succeed on an existing drive and fail on a missing one', () => {
    for (const ah of [0x09, 0x0c, 0x0d, 0x11, 0x14, 0x45]) {
      expect(biosCall(m, 0x13, { eax: ah << 8, edx: 0x80, flags: 0x0003 }), ah.toString(16)).toMatchObject({ cf: false, ah: 0 });
      expect(biosCall(m, 0x13, { eax: ah << 8, edx: 0x81 })).toMatchObject({ cf: true, ah: 0x01 });
    }
    expect(biosCall(m, 0x13, { eax: 0x0500, edx: 0x80 })).toMatchObject({ cf: true, ah: 0x01 });
    for (const al of [1, 3, 4, 6]) expect(biosCall(m, 0x13, { eax: 0x4e00 | al, edx: 0x80 }).cf).toBe(false);
    expect(biosCall(m, 0x13, { eax: 0x4e02, edx: 0x80 })).toMatchObject({ cf: true, ah: 0x01 });
  });

  it('INT 10h: light pen AH=0, palette/DAC calls accepted, graphics pixels and fonts not available', () => {
    expect(biosCall(m, 0x10, { eax: 0x0400, ebx: 0x1234 })).toMatchObject({ ah: 0, bx: 0x1234 });
    expect(biosCall(m, 0x10, { eax: 0x0b00, ebx: 0x0001 }).ax).toBe(0x0b00);
    expect(biosCall(m, 0x10, { eax: 0x1010, ebx: 0x0001 }).ax).toBe(0x1010);
    expect(biosCall(m, 0x10, { eax: 0x0c0f, ecx: 5, edx: 5 }).ax).toBe(0x0c0f);
    expect(biosCall(m, 0x10, { eax: 0x1100 }).ax).toBe(0x1100);
  });

  it('INT 16h AH=12h returns the shift flags with AH=0; INT 1Ah AH=07h fails', () => {
    expect(biosCall(m, 0x16, { eax: 0x1200 })).toMatchObject({ ah: 0, al: 0 });
    expect(biosCall(m, 0x1a, { eax: 0x0700 }).cf).toBe(true);
  });
});

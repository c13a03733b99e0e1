import { beforeEach, describe, expect, it } from 'vitest';
import { createHvmMachine, type HvmMachine } from '../../support/hvm-machine';
import { biosCall, runCode } from './rig';
import { TICKS_PER_DAY, TickClock } from '../../../src-engine/firmware/bios/services-time';

let m: HvmMachine;
beforeEach(() => {
  m = createHvmMachine({ memoryMiB: 16 });
});

const bcd = (v: number) => ((Math.floor(v / 10) % 10) << 4) | (v % 10);
/** Ticks since midnight UTC now, by the PC formula. */
const ticksNow = () => Math.floor(((Date.now() % 86_400_000) * 1e6) / TickClock.tickNs);

describe('INT 1Ah', () => {
  it('AH=00h returns the ticks since midnight in CX:DX (18.2 Hz) and keeps the BDA count', () => {
    const r = biosCall(m, 0x1a, { eax: 0 });
    const t = r.cx * 0x10000 + r.dx;
    expect(r.cf).toBe(false);
    expect(Math.abs(t - ticksNow())).toBeLessThanOrEqual(3);
    expect(m.memory.readU32(0x46c)).toBe(t);
  });

  it('AH=01h sets the count; passing midnight sets AL=1 once', () => {
    // A wall clock the test moves, so a loaded host cannot pass midnight between two calls.
    let wall = Date.UTC(2026, 10, 22, 12);
    const mc = createHvmMachine({ memoryMiB: 16, wallMs: () => wall });
    biosCall(mc, 0x1a, { eax: 0x0100, ecx: 0x0012, edx: 0x3456 });
    expect(biosCall(mc, 0x1a, { eax: 0 })).toMatchObject({ cx: 0x0012, dx: 0x3456, al: 0 });
    wall += 1000;
    const r = biosCall(mc, 0x1a, { eax: 0 });
    expect(r.cx * 0x10000 + r.dx - 0x123456).toBe(18);
    const last = TICKS_PER_DAY - 1;
    biosCall(mc, 0x1a, { eax: 0x0100, ecx: Math.floor(last / 0x10000), edx: last & 0xffff });
    expect(biosCall(mc, 0x1a, { eax: 0 }).al).toBe(0);
    wall += 200;
    const after = biosCall(mc, 0x1a, { eax: 0 });
    expect(after.al).toBe(1);
    expect(after.cx * 0x10000 + after.dx).toBeLessThan(10);
    expect(biosCall(mc, 0x1a, { eax: 0 }).al).toBe(0);
  });

  it('AH=02h/04h read the RTC in BCD (UTC, as the CMOS keeps it); AH=03h/05h set it', () => {
    const now = new Date();
    const t = biosCall(m, 0x1a, { eax: 0x0200 });
    expect(t.cf).toBe(false);
    expect((t.cx >> 8) & 0xff).toBe(bcd(now.getUTCHours()));
    expect([bcd(now.getUTCMinutes()), bcd((now.getUTCMinutes() + 1) % 60)]).toContain(t.cx & 0xff);
    const d = biosCall(m, 0x1a, { eax: 0x0400 });
    expect(d).toMatchObject({ cf: false, cx: (bcd(Math.floor(now.getUTCFullYear() / 100)) << 8) | bcd(now.getUTCFullYear() % 100) });
    expect(d.dx).toBe((bcd(now.getUTCMonth() + 1) << 8) | bcd(now.getUTCDate()));
    biosCall(m, 0x1a, { eax: 0x0300, ecx: 0x2359, edx: 0x5800 });
    expect(biosCall(m, 0x1a, { eax: 0x0200 }).cx).toBe(0x2359);
    biosCall(m, 0x1a, { eax: 0x0500, ecx: 0x2031, edx: 0x1224 });
    expect(biosCall(m, 0x1a, { eax: 0x0400 })).toMatchObject({ cx: 0x2031, dx: 0x1224 });
  });

  it('alarms and the PCI BIOS are not available: CF=1 (PCI: AH=81h)', () => {
    expect(biosCall(m, 0x1a, { eax: 0x0600 }).cf).toBe(true);
    expect(biosCall(m, 0x1a, { eax: 0xb101 })).toMatchObject({ cf: true, ah: 0x81 });
    expect(biosCall(m, 0x1a, { eax: 0x4200 }).cf).toBe(true);
  });
});

describe('IRQ0 (INT 08h)', () => {
  it('runs at 18.2 Hz after POST, keeps the BDA count and calls the INT 1Ch hook', () => {
    // INT 1Ch hook at 0000:0700: inc word [0x0780]; iret
    m.memory.write(0x0700, Uint8Array.of(0xff, 0x06, 0x80, 0x07, 0xcf));
    m.memory.writeU32(0x1c * 4, 0x0700);
    m.memory.writeU16(0x0780, 0);
    const t0 = biosCall(m, 0x1a, { eax: 0 });
    const before = t0.cx * 0x10000 + t0.dx;
    // sti; hlt; jmp back to the hlt: sleeps with interrupts on until the time limit
    expect(runCode(m, Uint8Array.of(0xfb, 0xf4, 0xeb, 0xfd), {}, 300).stop).toBe('timeout');
    const hooks = m.memory.readU16(0x0780);
    expect(hooks).toBeGreaterThanOrEqual(3);
    expect(hooks).toBeLessThanOrEqual(8);
    expect(m.memory.readU32(0x46c) - before).toBeGreaterThanOrEqual(hooks - 1);
  });
});

import { describe, expect, it } from 'vitest';
import { IoBus } from '../../../src-engine/machine/io-bus';
import { PIT_FREQUENCY_HZ, Pit8254, pitNsFor, pitTicksIn } from '../../../src-engine/machine/pit-8254';
import { FakeClock, RecordingIrq } from './fake-clock';

function setup() {
  const clock = new FakeClock();
  const irq = new RecordingIrq();
  const pit = new Pit8254({ clock, irq0: irq });
  const bus = new IoBus();
  bus.register(0x40, 4, pit);
  bus.register(0x61, 1, pit.portB);
  const out = (port: number, value: number) => bus.write(port, 1, value);
  const inb = (port: number) => bus.read(port, 1);
  /** Advances the clock by whole PIT clocks. */
  const ticks = (n: number) => clock.advance(pitNsFor(pitTicksIn(clock.ns) + n) - clock.ns);
  return { clock, irq, pit, out, inb, ticks };
}

const PORTB_GATE2 = 0x01;
const PORTB_OUT2 = 0x20;

describe('8254 clock arithmetic', () => {
  it('converts between nanoseconds and 1.193182 MHz clocks without drift', () => {
    expect(PIT_FREQUENCY_HZ).toBe(1193182);
    expect(pitTicksIn(1e9)).toBe(1193182);
    expect(pitTicksIn(30 * 86400 * 1e9)).toBe(30 * 86400 * 1193182); // a month, exactly
    for (const n of [1, 2, 0xffff, 11932, 1193181, 123456789]) {
      const ns = pitNsFor(n);
      expect(pitTicksIn(ns)).toBe(n);
      expect(pitTicksIn(ns - 1)).toBe(n - 1);
    }
  });
});

describe('8254 channel 2 calibration through port 0x61', () => {
  it('runs GRUB\'s TSC calibration with real timing: OUT2 rises after 0xFFFF clocks (54.9 ms)', () => {
    const { clock, out, inb } = setup();
    clock.advanceMs(3);
    out(0x61, inb(0x61) & ~0x03); // gate and speaker off
    out(0x43, 0xb0); // channel 2, LSB then MSB, mode 0, binary
    out(0x42, 0xff);
    out(0x42, 0xff);
    clock.advanceMs(1); // the gate is still low: nothing counts
    out(0x61, inb(0x61) | PORTB_GATE2);
    const start = clock.ns;
    expect(inb(0x61) & PORTB_OUT2).toBe(0); // else GRUB would skip the calibration
    clock.ns = start + pitNsFor(0xffff) - 1;
    expect(inb(0x61) & PORTB_OUT2).toBe(0);
    clock.ns = start + pitNsFor(0xffff);
    expect(inb(0x61) & PORTB_OUT2).toBe(PORTB_OUT2);
    expect((clock.ns - start) / 1e6).toBeCloseTo(54.925, 2);
  });

  it('lets Linux read the live count LSB then MSB while it falls', () => {
    const { clock, out, inb } = setup();
    out(0x61, (inb(0x61) & ~0x02) | PORTB_GATE2);
    out(0x43, 0xb0);
    out(0x42, 0xff);
    out(0x42, 0xff);
    clock.advanceMs(1);
    const count = inb(0x42) | (inb(0x42) << 8);
    expect(count).toBe(0xffff - pitTicksIn(1e6));
    clock.advanceMs(10);
    const later = inb(0x42) | (inb(0x42) << 8);
    expect(later).toBe(0xffff - pitTicksIn(11e6));
  });

  it('holds a mode 0 count while GATE is low and continues when it rises', () => {
    const { out, inb, ticks } = setup();
    out(0x61, PORTB_GATE2);
    out(0x43, 0xb0);
    out(0x42, 100);
    out(0x42, 0);
    ticks(40);
    out(0x61, 0); // gate low: counting suspended
    ticks(1000);
    out(0x61, PORTB_GATE2);
    ticks(59);
    expect(inb(0x61) & PORTB_OUT2).toBe(0);
    ticks(1);
    expect(inb(0x61) & PORTB_OUT2).toBe(PORTB_OUT2);
  });

  it('starts a mode 1 one-shot on a rising GATE and restarts it on the next', () => {
    const { out, inb, ticks } = setup();
    out(0x43, 0xb2); // channel 2, mode 1
    out(0x42, 50);
    out(0x42, 0);
    ticks(500);
    expect(inb(0x61) & PORTB_OUT2).toBe(PORTB_OUT2); // not triggered yet: OUT high
    out(0x61, PORTB_GATE2);
    ticks(10);
    expect(inb(0x61) & PORTB_OUT2).toBe(0);
    out(0x61, 0);
    out(0x61, PORTB_GATE2); // retrigger: 50 more clocks from here
    ticks(49);
    expect(inb(0x61) & PORTB_OUT2).toBe(0);
    ticks(1);
    expect(inb(0x61) & PORTB_OUT2).toBe(PORTB_OUT2);
  });

  it('toggles the refresh bit every 15.085 us and keeps bits 1-3 as written', () => {
    const { clock, out, inb } = setup();
    out(0x61, 0x0e);
    const first = inb(0x61);
    expect(first & 0x0f).toBe(0x0e);
    clock.advance(15_085);
    expect((inb(0x61) ^ first) & 0x10).toBe(0x10);
  });
});

describe('8254 channel 0 and IRQ0', () => {
  it('raises IRQ0 at 100 Hz in mode 2 as Linux programs it, with tick deadlines on the edges', () => {
    const { clock, irq, pit, out } = setup();
    const LATCH = Math.round(PIT_FREQUENCY_HZ / 100);
    out(0x43, 0x34); // channel 0, LSB/MSB, mode 2
    out(0x40, LATCH & 0xff);
    out(0x40, LATCH >> 8);
    const start = clock.ns;
    const risesBefore = irq.rises;
    let deadline = pit.tick(clock.ns);
    expect(deadline).toBe(start + pitNsFor(LATCH));
    for (let i = 0; i < 5; i++) {
      clock.ns = deadline;
      deadline = pit.tick(clock.ns);
    }
    expect(irq.rises - risesBefore).toBe(5);
    expect(deadline).toBe(start + pitNsFor(6 * LATCH));
  });

  it('still delivers an edge when the host ticks late, after OUT went low and high again', () => {
    const { clock, irq, pit, out } = setup();
    out(0x43, 0x34);
    out(0x40, 0x9c);
    out(0x40, 0x2e);
    pit.tick(clock.ns);
    const rises = irq.rises;
    clock.advanceMs(35); // three periods and a half late
    pit.tick(clock.ns);
    expect(irq.rises - rises).toBe(1); // late periods coalesce into one interrupt
    expect(irq.level).toBe(true);
  });

  it('interrupts once at terminal count in mode 0 and once after count + 1 in mode 4', () => {
    const { clock, irq, pit, out } = setup();
    out(0x43, 0x30); // mode 0
    expect(irq.level).toBe(false); // OUT goes low at the control word
    out(0x40, 0x00);
    out(0x40, 0x10); // 0x1000 clocks
    const rises = irq.rises;
    const t = pit.tick(clock.ns);
    expect(t).toBe(clock.ns + pitNsFor(0x1000));
    clock.ns = t;
    expect(pit.tick(clock.ns)).toBe(Infinity);
    expect(irq.rises - rises).toBe(1);

    out(0x43, 0x38); // mode 4, Linux's one-shot clock event
    out(0x40, 100);
    out(0x40, 0);
    const r4 = irq.rises;
    const start = clock.ns;
    expect(pit.tick(clock.ns)).toBe(start + pitNsFor(101));
    clock.ns = start + pitNsFor(101);
    expect(pit.tick(clock.ns)).toBe(Infinity);
    expect(irq.rises - r4).toBe(1);
  });

  it('computes the counter from the clock even after a month of uptime', () => {
    const { clock, out, inb, pit } = setup();
    out(0x43, 0x34);
    out(0x40, 0x00);
    out(0x40, 0x00); // 0x10000
    clock.advance(30 * 86400 * 1e9 + pitNsFor(5));
    const elapsed = pitTicksIn(clock.ns);
    out(0x43, 0x00); // latch channel 0
    const value = inb(0x40) | (inb(0x40) << 8);
    expect(value).toBe((0x10000 - (elapsed % 0x10000)) % 0x10000);
    expect(Number.isFinite(pit.tick(clock.ns))).toBe(true);
  });
});

describe('8254 register contract', () => {
  it('holds a latched count until read, while the live count moves on', () => {
    const { out, inb, ticks } = setup();
    out(0x43, 0x34);
    out(0x40, 0x00);
    out(0x40, 0x10);
    ticks(0x100);
    out(0x43, 0x00); // counter latch command
    ticks(0x200);
    expect(inb(0x40) | (inb(0x40) << 8)).toBe(0x0f00);
    expect(inb(0x40) | (inb(0x40) << 8)).toBe(0x0d00);
  });

  it('answers the read-back command with status then count', () => {
    const { out, inb, ticks } = setup();
    out(0x43, 0x34); // mode 2, LSB/MSB
    out(0x43, 0xe2); // read-back: status of channel 0
    // Programmed but no count yet: null count set, OUT high in mode 2.
    expect(inb(0x40)).toBe(0x80 | 0x40 | 0x30 | 0x04);
    out(0x40, 0x00);
    out(0x40, 0x02);
    ticks(3);
    out(0x43, 0xe2); // status only
    expect(inb(0x40)).toBe(0x80 | 0x30 | 0x04);
    out(0x43, 0xd2); // count only
    expect(inb(0x40) | (inb(0x40) << 8)).toBe(0x200 - 3);
  });

  it('counts in BCD when asked', () => {
    const { out, inb, ticks } = setup();
    out(0x43, 0x31); // mode 0, BCD
    out(0x40, 0x00);
    out(0x40, 0x10); // 1000 decimal
    ticks(11);
    expect(inb(0x40)).toBe(0x89);
    expect(inb(0x40)).toBe(0x09); // 989
  });

  it('supports LSB-only and MSB-only access', () => {
    const { out, inb, ticks } = setup();
    out(0x43, 0x10); // LSB only, mode 0
    out(0x40, 0x80);
    ticks(0x10);
    expect(inb(0x40)).toBe(0x70);
    out(0x43, 0x20); // MSB only, mode 0
    out(0x40, 0x02);
    ticks(0x100);
    expect(inb(0x40)).toBe(0x01);
  });

  it('gives a square wave on OUT in mode 3', () => {
    const { out, inb, ticks } = setup();
    out(0x61, PORTB_GATE2);
    out(0x43, 0xb6); // channel 2, mode 3
    out(0x42, 100);
    out(0x42, 0);
    ticks(10);
    expect(inb(0x61) & PORTB_OUT2).toBe(PORTB_OUT2);
    ticks(50);
    expect(inb(0x61) & PORTB_OUT2).toBe(0);
    ticks(50);
    expect(inb(0x61) & PORTB_OUT2).toBe(PORTB_OUT2);
  });
});

describe('8254 save and restore', () => {
  it('continues counting from where the saved PIT was', () => {
    const a = setup();
    a.out(0x61, PORTB_GATE2 | 0x08);
    a.out(0x43, 0xb0);
    a.out(0x42, 0x00);
    a.out(0x42, 0x40);
    const loaded = a.clock.ns;
    a.clock.advance(3_456_789);
    a.out(0x43, 0x34);
    a.out(0x40, 0x34);
    a.out(0x40, 0x12);
    const saved = JSON.parse(JSON.stringify(a.pit.saveState()));
    const beforeSave = a.clock.ns - loaded;

    const b = setup();
    b.clock.advanceMs(777); // another process, another clock origin
    b.pit.loadState(saved);
    expect(b.inb(0x61) & 0x0f).toBe(PORTB_GATE2 | 0x08);
    b.clock.advance(5_000_000);
    expect(b.inb(0x42) | (b.inb(0x42) << 8)).toBe(0x4000 - pitTicksIn(beforeSave + 5_000_000));
    const deadline = b.pit.tick(b.clock.ns);
    expect(deadline).toBeGreaterThan(b.clock.ns);
    expect(deadline - b.clock.ns).toBeLessThanOrEqual(pitNsFor(0x1234));
  });
});

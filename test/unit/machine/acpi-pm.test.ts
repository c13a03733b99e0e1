import { describe, expect, it } from 'vitest';
import { AcpiPm, pmTimerTicks } from '../../../src-engine/machine/acpi-pm';
import { IoBus } from '../../../src-engine/machine/io-bus';
import { FakeClock, RecordingIrq } from './fake-clock';

function setup() {
  const clock = new FakeClock();
  const sci = new RecordingIrq();
  let powerOffs = 0;
  const pm = new AcpiPm({ clock, sci, onPowerOff: () => powerOffs++ });
  const bus = new IoBus();
  for (const [base, count] of AcpiPm.RANGES) bus.register(base, count, pm, { width: 'any' });
  return { clock, sci, pm, bus, powerOffs: () => powerOffs };
}

describe('ACPI PM timer', () => {
  it('counts at 3.579545 MHz', () => {
    const { clock, bus } = setup();
    const t0 = bus.read(0x608, 4) >>> 0;
    clock.advance(1_000_000_000);
    expect((bus.read(0x608, 4) >>> 0) - t0).toBe(3_579_545);
  });

  it('is exact far from time zero and wraps at 24 bits', () => {
    expect(pmTimerTicks(3600e9)).toBe(3600 * 3_579_545);
    const { clock, pm } = setup();
    clock.ns = 10_000e9 + 123;
    expect(pm.timerValue()).toBe(pmTimerTicks(clock.ns) & 0xffffff);
    expect(pm.timerValue()).toBeLessThan(2 ** 24);
  });

  it('sets TMR_STS when bit 23 changes and raises the SCI if TMR_EN is set', () => {
    const { clock, bus, pm, sci } = setup();
    bus.write(0x602, 2, 0x0001); // TMR_EN
    const next = pm.tick(clock.now());
    expect(next).toBeGreaterThan(2.3e9);
    expect(next).toBeLessThan(2.4e9);
    clock.ns = next;
    pm.tick(clock.now());
    expect(bus.read(0x600, 2) & 1).toBe(1);
    expect(sci.level).toBe(true);
    bus.write(0x600, 2, 0x0001); // write 1 to clear
    expect(sci.level).toBe(false);
  });
});

describe('ACPI PM1 control: sleep states', () => {
  it('powers off on SLP_EN with SLP_TYP 0 (S5), the way test kernels do it on QEMU: outw(0x604, 0x2000)', () => {
    const { bus, powerOffs } = setup();
    bus.write(0x604, 2, 0x2000);
    expect(powerOffs()).toBe(1);
  });

  it('ignores other sleep types and keeps SLP_EN reading 0', () => {
    const { bus, powerOffs } = setup();
    bus.write(0x604, 2, 0x2000 | (5 << 10) | 1);
    expect(powerOffs()).toBe(0);
    expect(bus.read(0x604, 2)).toBe((5 << 10) | 1);
  });

  it('starts in ACPI mode (SCI_EN set)', () => {
    const { bus } = setup();
    expect(bus.read(0x604, 2) & 1).toBe(1);
  });

  it('sees SLP_EN in the high byte of a byte-wise write too', () => {
    const { bus, powerOffs } = setup();
    bus.write(0x605, 1, 0x20);
    expect(powerOffs()).toBe(1);
  });
});

describe('ACPI PM1 events', () => {
  it('raises the SCI for the power button only once PWRBTN_EN is set', () => {
    const { bus, pm, sci } = setup();
    pm.pressPowerButton();
    expect(bus.read(0x600, 2)).toBe(0x0100);
    expect(sci.level).toBe(false);
    bus.write(0x602, 2, 0x0100);
    expect(sci.level).toBe(true);
    expect(bus.read(0x600, 4) >>> 0).toBe(0x01000100);
    bus.write(0x600, 2, 0x0100);
    expect(sci.level).toBe(false);
  });

  it('keeps the SCI low while SCI_EN is clear', () => {
    const { bus, pm, sci } = setup();
    bus.write(0x604, 2, 0);
    bus.write(0x602, 2, 0x0100);
    pm.pressPowerButton();
    expect(sci.level).toBe(false);
  });

  it('has a GPE0 block with status and enable words and no sources', () => {
    const { bus } = setup();
    bus.write(0x622, 2, 0xffff);
    expect(bus.read(0x620, 4) >>> 0).toBe(0xffff0000);
  });
});

describe('ACPI PM save state', () => {
  it('keeps the PM timer value across a restore at another engine time', () => {
    const a = setup();
    a.clock.ns = 5e9;
    const saved = a.pm.saveState();
    const b = setup();
    b.clock.ns = 1e9;
    b.pm.loadState(saved);
    expect(b.pm.timerValue()).toBe(a.pm.timerValue());
  });
});

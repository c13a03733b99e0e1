import { describe, expect, it } from 'vitest';
import { CmosRtc } from '../../../src-engine/machine/cmos-rtc';
import { cmosChecksum, pcCmosBytes } from '../../../src-engine/machine/cmos-layout';
import { IoBus } from '../../../src-engine/machine/io-bus';
import { FakeClock, RecordingIrq } from './fake-clock';

// FakeClock starts at Saturday 2024-03-09 13:45:30.000 UTC.
function setup() {
  const clock = new FakeClock();
  const irq = new RecordingIrq();
  const rtc = new CmosRtc({ clock, irq });
  const bus = new IoBus();
  bus.register(0x70, 2, rtc);
  const read = (index: number) => {
    bus.write(0x70, 1, index);
    return bus.read(0x71, 1);
  };
  const write = (index: number, value: number) => {
    bus.write(0x70, 1, index);
    bus.write(0x71, 1, value);
  };
  return { clock, irq, rtc, bus, read, write };
}

const REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c, REG_D = 0x0d;

describe('MC146818 time registers', () => {
  it('shows the wall clock in BCD, 24-hour, with the century byte', () => {
    const { read } = setup();
    expect([read(0), read(2), read(4), read(6), read(7), read(8), read(9), read(0x32)]).toEqual([0x30, 0x45, 0x13, 0x07, 0x09, 0x03, 0x24, 0x20]);
    expect(read(REG_A)).toBe(0x26);
    expect(read(REG_B)).toBe(0x02);
    expect(read(REG_D)).toBe(0x80);
  });

  it('shows binary 12-hour time when register B asks for it', () => {
    const { read, write } = setup();
    write(REG_B, 0x04); // binary, 12-hour
    expect(read(4)).toBe(0x80 | 1); // 1 PM
    expect(read(2)).toBe(45);
  });

  it('advances with the clock', () => {
    const { read, clock } = setup();
    clock.advanceMs(30_000);
    expect(read(0)).toBe(0x00);
    expect(read(2)).toBe(0x46);
    clock.advanceMs(10 * 3600 * 1000 + 14 * 60 * 1000);
    expect([read(4), read(2), read(7), read(6)]).toEqual([0x00, 0x00, 0x10, 0x01]); // Sunday the 10th
  });

  it('takes a new time written under SET and runs from it when SET clears', () => {
    const { read, write, clock, rtc } = setup();
    write(REG_B, 0x82); // SET: updates stop
    write(0, 0x00); write(2, 0x30); write(4, 0x23); write(7, 0x31); write(8, 0x12); write(9, 0x99); write(0x32, 0x19);
    clock.advanceMs(5000);
    expect(read(0)).toBe(0x00); // held while SET
    write(REG_B, 0x02);
    clock.advanceMs(30 * 60 * 1000);
    expect([read(4), read(2), read(7), read(8), read(9), read(0x32)]).toEqual([0x00, 0x00, 0x01, 0x01, 0x00, 0x20]);
    expect(new Date(rtc.timeMs()).toISOString()).toBe('2000-01-01T00:00:00.000Z');
  });

  it('raises UIP in the last 244 us before each update and clears it at the update', () => {
    const { read, clock } = setup();
    clock.advance(999_700_000);
    expect(read(REG_A) & 0x80).toBe(0);
    clock.advance(100_000);
    expect(read(REG_A) & 0x80).toBe(0x80);
    expect(read(0)).toBe(0x30); // the old second until the update
    clock.advance(300_000);
    expect(read(REG_A) & 0x80).toBe(0);
    expect(read(0)).toBe(0x31);
  });

  it('holds the time while the divider is in reset and updates 500 ms after release', () => {
    const { read, write, clock } = setup();
    write(REG_A, 0x70); // divider chain reset
    clock.advanceMs(3000);
    expect(read(0)).toBe(0x30);
    write(REG_A, 0x26);
    clock.advanceMs(499);
    expect(read(0)).toBe(0x30);
    clock.advanceMs(1);
    expect(read(0)).toBe(0x31);
  });
});

describe('MC146818 interrupts', () => {
  it('gives periodic interrupts at the programmed rate, cleared by reading register C', () => {
    const { read, write, clock, rtc, irq } = setup();
    write(REG_A, 0x26); // 1024 Hz
    write(REG_B, 0x42); // PIE
    const deadline = rtc.tick(clock.ns);
    expect(deadline - clock.ns).toBeGreaterThanOrEqual(976_562);
    expect(deadline - clock.ns).toBeLessThan(976_562 + 2000);
    clock.ns = deadline;
    expect(rtc.tick(clock.ns)).toBe(Infinity); // waiting for C to be read
    expect(irq.level).toBe(true);
    expect(read(REG_C)).toBe(0xc0);
    expect(irq.level).toBe(false);
    expect(read(REG_C)).toBe(0);
    const next = rtc.tick(clock.ns);
    expect(next - deadline).toBeGreaterThan(976_000);
    expect(next - deadline).toBeLessThan(977_600);
  });

  it('uses 3.90625 ms for rate 1, like rate 8', () => {
    const { write, clock, rtc } = setup();
    write(REG_A, 0x21);
    write(REG_B, 0x42);
    expect(rtc.tick(clock.ns) - clock.ns).toBeCloseTo(3_906_250, -4);
  });

  it('raises the update-ended interrupt at the next second', () => {
    const { read, write, clock, rtc, irq } = setup();
    clock.advanceMs(250);
    write(REG_B, 0x12); // UIE
    const deadline = rtc.tick(clock.ns);
    expect((deadline - clock.ns) / 1e6).toBeCloseTo(750, 0);
    clock.ns = deadline;
    rtc.tick(clock.ns);
    expect(irq.level).toBe(true);
    expect(read(REG_C) & ~0x40).toBe(0x90); // IRQF and UF (PF is set too: 1024 Hz runs, unenabled)
    expect(read(0)).toBe(0x31);
  });

  it('raises the alarm interrupt when hours, minutes and seconds match, with don\'t-care codes', () => {
    const { read, write, clock, rtc, irq } = setup();
    write(1, 0x35); // seconds alarm :35
    write(3, 0xff); // any minute
    write(5, 0xc0); // any hour
    write(REG_B, 0x22); // AIE
    for (let second = 31; second <= 34; second++) {
      clock.ns = rtc.tick(clock.ns);
      rtc.tick(clock.ns);
      expect(irq.level).toBe(false);
    }
    clock.ns = rtc.tick(clock.ns);
    rtc.tick(clock.ns); // 13:45:35
    expect(irq.level).toBe(true);
    expect(read(REG_C) & 0xa0).toBe(0xa0);
    expect(read(0)).toBe(0x35);
  });

  it('sets the flags without interrupting when the enables are off', () => {
    const { read, clock, irq } = setup();
    clock.advanceMs(1500);
    expect(read(REG_C)).toBe(0x50); // PF (1024 Hz is running) and UF, no IRQF
    expect(irq.rises).toBe(0);
  });
});

describe('CMOS index port and memory', () => {
  it('keeps the NMI-disable bit of the index write and reads the index port as 0xFF', () => {
    const { bus, rtc } = setup();
    bus.write(0x70, 1, 0x8f);
    expect(rtc.nmiMasked()).toBe(true);
    expect(bus.read(0x70, 1)).toBe(0xff);
    bus.write(0x71, 1, 0x0a); // index 0x0F: shutdown status
    expect(rtc.cmosByte(0x0f)).toBe(0x0a);
    bus.write(0x70, 1, 0x0f);
    expect(rtc.nmiMasked()).toBe(false);
  });

  it('lays out the PC memory bytes with the checksum a BIOS verifies', () => {
    const bytes = pcCmosBytes({ ramBelow4G: 256 * 1024 * 1024, ramAbove4G: 1024 * 1024 * 1024, cpus: 2, bootOrder: ['cdrom', 'disk'] });
    const byte = (i: number) => bytes.get(i) ?? 0;
    expect(byte(0x15) | (byte(0x16) << 8)).toBe(640);
    expect(byte(0x17) | (byte(0x18) << 8)).toBe(0xffff); // 255 MiB of extended memory is over 64 MiB
    expect(byte(0x30) | (byte(0x31) << 8)).toBe(0xffff);
    expect(byte(0x34) | (byte(0x35) << 8)).toBe(240 * 16); // 240 MiB above 16 MiB in 64 KiB units
    expect(byte(0x5b) | (byte(0x5c) << 8) | (byte(0x5d) << 16)).toBe(16384);
    expect(byte(0x5f)).toBe(1);
    expect(byte(0x3d)).toBe(0x23);
    expect(byte(0x14)).toBe(0x02);
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += byte(i);
    expect((byte(0x2e) << 8) | byte(0x2f)).toBe(sum & 0xffff);
    expect(cmosChecksum(byte)).toBe(sum & 0xffff);

    const small = pcCmosBytes({ ramBelow4G: 32 * 1024 * 1024 });
    expect((small.get(0x17) ?? 0) | ((small.get(0x18) ?? 0) << 8)).toBe(31 * 1024);
    expect((small.get(0x34) ?? 0) | ((small.get(0x35) ?? 0) << 8)).toBe(256);
  });
});

describe('MC146818 save and restore', () => {
  it('round-trips registers, CMOS memory and the guest time offset', () => {
    const a = setup();
    a.write(REG_B, 0x82);
    a.write(9, 0x30); // year 2030
    a.write(REG_B, 0x06); // running, binary
    a.write(0x40, 0x5a);
    a.write(REG_A, 0x2f);
    const saved = JSON.parse(JSON.stringify(a.rtc.saveState()));

    const b = setup();
    b.clock.advanceMs(2000); // restored two seconds later by the host's clock
    b.rtc.loadState(saved);
    expect(b.read(0x40)).toBe(0x5a);
    expect(b.read(REG_A)).toBe(0x2f);
    expect(b.read(REG_B)).toBe(0x06);
    expect(b.read(9)).toBe(30);
    expect(b.read(0)).toBe(32); // guest time follows the host wall clock plus the guest's offset
  });
});

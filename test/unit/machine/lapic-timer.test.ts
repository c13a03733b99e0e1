import { describe, expect, it } from 'vitest';
import { lapicPendingVector, lapicPowerOn } from '../../../src-engine/machine/lapic-core';
import { LAPIC_MSR_FAULT, lapicAcknowledge, lapicMmioRead, lapicMmioWrite, lapicReadMsr, lapicWriteMsr, newLapicWriteOut } from '../../../src-engine/machine/lapic';
import { LapicBus } from '../../../src-engine/machine/lapic-bus';
import { lapicRegions, lapicRegionsBytes } from '../../../src-engine/machine/lapic-regs';
import { LAPIC_MIN_PERIOD_NS, timerDivider } from '../../../src-engine/machine/lapic-timer';
import { loadLapicState, saveLapicState } from '../../../src-engine/machine/lapic-state';
import { SaveImageError } from '../../../src-engine/base/errors';

const SVR = 0xf0;
const EOI = 0xb0;
const LVT_TIMER = 0x320;
const INITIAL = 0x380;
const CURRENT = 0x390;
const DIVIDE = 0x3e0;
const ONE_SHOT = 0x00000;
const PERIODIC = 0x20000;
const TSC_DEADLINE = 0x40000;
const MASKED = 0x10000;
const DIVIDE_BY_1 = 0xb;
const DIVIDE_BY_16 = 0x3;

function timerSetup(opts: { tscDeadline?: boolean } = {}) {
  const [r] = lapicRegions(new SharedArrayBuffer(lapicRegionsBytes(1)), 1);
  lapicPowerOn(r, { vcpu: 0, tscDeadline: opts.tscDeadline });
  const kicks: number[] = [];
  const bus = new LapicBus({ regions: [r], kick: (v) => kicks.push(v) });
  const out = newLapicWriteOut();
  const wr = (off: number, value: number, now: number) => lapicMmioWrite(r, off, 4, value, now, out);
  const rd = (off: number, now: number) => lapicMmioRead(r, off, 4, now) >>> 0;
  wr(SVR, 0x1ff, 0);
  /** Takes every timer interrupt now in IRR (acknowledge + EOI) and counts them. */
  const take = () => {
    let n = 0;
    while (lapicPendingVector(r) === 0x30) {
      lapicAcknowledge(r);
      wr(EOI, 0, 0);
      n++;
    }
    return n;
  };
  return { r, bus, kicks, wr, rd, take };
}

describe('local APIC timer divider (SDM Figure 10-10)', () => {
  it('decodes every divide configuration value', () => {
    expect([0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xa, 0xb].map(timerDivider)).toEqual([2, 4, 8, 16, 32, 64, 128, 1]);
  });
});

describe('local APIC timer, one-shot mode', () => {
  it('counts down at bus clock / divider and fires once at zero', () => {
    const { bus, kicks, wr, rd, take } = timerSetup();
    wr(DIVIDE, DIVIDE_BY_16, 0);
    wr(LVT_TIMER, ONE_SHOT | 0x30, 0);
    wr(INITIAL, 1000, 1_000);
    expect(rd(CURRENT, 1_000)).toBe(1000);
    expect(rd(CURRENT, 1_000 + 160)).toBe(990);
    expect(bus.tick(1_000 + 8_000)).toBe(1_000 + 16_000);
    expect(take()).toBe(0);
    expect(bus.tick(1_000 + 16_000)).toBe(Infinity);
    expect(kicks).toEqual([0]);
    expect(take()).toBe(1);
    expect(rd(CURRENT, 1_000 + 16_000)).toBe(0);
    expect(bus.tick(1_000 + 50_000)).toBe(Infinity);
    expect(take()).toBe(0);
  });

  it('restarts the countdown on every initial-count write and stops on a write of 0', () => {
    const { bus, wr, take } = timerSetup();
    wr(DIVIDE, DIVIDE_BY_1, 0);
    wr(LVT_TIMER, 0x30, 0);
    wr(INITIAL, 1000, 0);
    wr(INITIAL, 1000, 900);
    expect(bus.tick(1000)).toBe(1900);
    expect(take()).toBe(0);
    wr(INITIAL, 0, 1000);
    expect(bus.tick(5000)).toBe(Infinity);
    expect(take()).toBe(0);
  });

  it('expires silently while the LVT entry is masked', () => {
    const { bus, wr, take } = timerSetup();
    wr(DIVIDE, DIVIDE_BY_1, 0);
    wr(LVT_TIMER, MASKED | 0x30, 0);
    wr(INITIAL, 100, 0);
    expect(bus.tick(1000)).toBe(Infinity);
    wr(LVT_TIMER, 0x30, 1000);
    expect(bus.tick(2000)).toBe(Infinity);
    expect(take()).toBe(0);
  });
});

describe('local APIC timer, periodic mode', () => {
  it('reloads the count and fires every period', () => {
    const { bus, wr, rd, take } = timerSetup();
    wr(DIVIDE, DIVIDE_BY_1, 0);
    wr(LVT_TIMER, PERIODIC | 0x30, 0);
    wr(INITIAL, 1_000_000, 0);
    expect(rd(CURRENT, 250_000)).toBe(750_000);
    expect(rd(CURRENT, 1_250_000)).toBe(750_000);
    let fired = 0;
    for (let t = 100_000; t <= 10_000_000; t += 100_000) {
      bus.tick(t);
      fired += take();
    }
    expect(fired).toBe(10);
  });

  it('coalesces expirations the hypervisor missed into one interrupt and keeps the phase', () => {
    const { bus, wr, take } = timerSetup();
    wr(DIVIDE, DIVIDE_BY_1, 0);
    wr(LVT_TIMER, PERIODIC | 0x30, 0);
    wr(INITIAL, 1_000_000, 0);
    expect(bus.tick(5_500_000)).toBe(6_000_000);
    expect(take()).toBe(1);
  });

  it('spaces interrupts of very short periods at least LAPIC_MIN_PERIOD_NS apart', () => {
    const { bus, wr } = timerSetup();
    wr(DIVIDE, DIVIDE_BY_1, 0);
    wr(LVT_TIMER, PERIODIC | 0x30, 0);
    wr(INITIAL, 10, 0);
    expect(bus.tick(1)).toBe(LAPIC_MIN_PERIOD_NS);
  });
});

describe('local APIC timer, TSC-deadline mode (SDM 10.5.4.1)', () => {
  it('raises #GP on IA32_TSC_DEADLINE and keeps bit 18 clear when not advertised', () => {
    const { r, wr, rd } = timerSetup();
    wr(LVT_TIMER, TSC_DEADLINE | 0x30, 0);
    expect(rd(LVT_TIMER, 0)).toBe(0x30);
    expect(lapicWriteMsr(r, 0x6e0, 5000, 0, 0, 0)).toBe(LAPIC_MSR_FAULT);
  });

  it('fires when the TSC passes the deadline and reads 0 afterwards', () => {
    const { r, bus, wr, rd, take } = timerSetup({ tscDeadline: true });
    wr(LVT_TIMER, TSC_DEADLINE | 0x30, 0);
    expect(rd(LVT_TIMER, 0)).toBe(TSC_DEADLINE | 0x30);
    // Guest TSC runs 1e6 ahead of engine time.
    lapicWriteMsr(r, 0x6e0, 1_005_000, 0, 1000, 1_001_000);
    expect(lapicReadMsr(r, 0x6e0, 1000)).toEqual([1_005_000, 0]);
    expect(bus.tick(2000)).toBe(5000);
    expect(bus.tick(5000)).toBe(Infinity);
    expect(take()).toBe(1);
    expect(lapicReadMsr(r, 0x6e0, 5000)).toEqual([0, 0]);
    expect(rd(CURRENT, 5000)).toBe(0);
  });

  it('disarms when the mode changes, and ignores the initial count in TSC-deadline mode', () => {
    const { r, bus, wr, take } = timerSetup({ tscDeadline: true });
    wr(LVT_TIMER, TSC_DEADLINE | 0x30, 0);
    lapicWriteMsr(r, 0x6e0, 5000, 0, 0, 0);
    wr(INITIAL, 100, 0);
    wr(LVT_TIMER, ONE_SHOT | 0x30, 10);
    expect(bus.tick(10_000)).toBe(Infinity);
    expect(take()).toBe(0);
  });
});

describe('local APIC save state', () => {
  it('restores registers and a running timer at the same point of its countdown', () => {
    const a = timerSetup();
    a.wr(DIVIDE, DIVIDE_BY_1, 0);
    a.wr(LVT_TIMER, PERIODIC | 0x30, 0);
    a.wr(INITIAL, 1_000_000, 0);
    a.wr(0x80, 0x20, 0);
    a.bus.tick(1_500_000);
    const saved = JSON.parse(JSON.stringify(saveLapicState(a.r, 1_500_000)));
    const b = timerSetup();
    loadLapicState(b.r, saved, 50_000_000);
    expect(b.rd(CURRENT, 50_000_000)).toBe(a.rd(CURRENT, 1_500_000));
    expect(b.rd(0x80, 0)).toBe(0x20);
    expect(b.take()).toBe(1); // the interrupt pending at saving is still in IRR
    expect(b.bus.tick(50_400_000)).toBe(50_500_000);
    expect(b.take()).toBe(0);
    b.bus.tick(50_500_000);
    expect(b.take()).toBe(1);
  });

  it('refuses a state of another version', () => {
    const a = timerSetup();
    const saved = { ...saveLapicState(a.r, 0), version: 2 } as unknown as ReturnType<typeof saveLapicState>;
    expect(() => loadLapicState(a.r, saved, 0)).toThrow(SaveImageError);
  });
});

import { describe, expect, it } from 'vitest';
import { Pit8254 } from '../../../src-engine/machine/pit-8254';
import { GrubCalibrationShortcut } from '../../../src-engine/firmware/bios/pit-shortcut';
import { WarpClock, advanceTscOffsets } from '../../../src-engine/firmware/bios/hvm-firmware';
import { STATE_BYTES, S_TSC_OFFSET_F64 } from '../../../src-engine/cpu/state';

/** A PIT on a hand-driven clock, with the shortcut watching its ports as the runtime would. */
function rig(enabled = true) {
  let host = 1e9;
  let warp = 0;
  const clock = { now: () => host + warp, wallMs: () => 0 };
  const pit = new Pit8254({ clock });
  const sc = new GrubCalibrationShortcut();
  sc.enabled = enabled;
  const outb = (port: number, v: number) => {
    if (port === 0x61) pit.portB.ioWrite(port, 1, v);
    else pit.ioWrite(port, 1, v);
    warp += sc.onWrite(port, v);
  };
  const inb = (port: number) => {
    sc.onRead(port);
    return port === 0x61 ? pit.portB.ioRead(port, 1) : pit.ioRead(port);
  };
  /** Guest time (what the TSC shows: the same clock, warps included). */
  const tsc = () => clock.now();
  const pass = (ns: number) => void (host += ns);
  return { sc, outb, inb, tsc, pass, warp: () => warp };
}

/** grub-core/kern/i386/tsc_pit.c, step by step; returns [polls, TSC ns measured]. */
function grubCalibration(r: ReturnType<typeof rig>, count = 0xffff): [number, number] {
  const start = r.tsc();
  r.outb(0x61, r.inb(0x61) & ~0x03);
  r.outb(0x43, 0xb0);
  r.outb(0x42, count & 0xff);
  r.outb(0x42, count >> 8);
  r.outb(0x61, (r.inb(0x61) & ~0x02) | 0x01);
  let polls = 0;
  while ((r.inb(0x61) & 0x20) === 0 && polls < 1e6) {
    polls++;
    r.pass(1000);
  }
  return [polls, r.tsc() - start];
}

describe("GRUB's PIT calibration shortcut", () => {
  it("fires on GRUB's sequence: OUT2 is already high at the first poll and the TSC saw the whole 54.9 ms", () => {
    const r = rig();
    const [polls, ns] = grubCalibration(r);
    expect(polls).toBe(0);
    expect(r.sc.fired).toBe(1);
    expect(ns).toBeGreaterThanOrEqual(0x10000 / 1_193_182 * 1e9);
    expect(ns).toBeLessThan(55.1e6);
    // GRUB: rate = (55 << 32) / ticks; with our 1 GHz TSC it must come out as 1 ms = 1e6 ticks.
    const ticksPerMs = ns / 55;
    expect(Math.abs(ticksPerMs - 1e6) / 1e6).toBeLessThan(0.002);
  });

  it('fires again for a second calibration and not for other counts', () => {
    const r = rig();
    grubCalibration(r);
    grubCalibration(r);
    expect(r.sc.fired).toBe(2);
    const [polls] = grubCalibration(r, 0x2e9b);
    expect(r.sc.fired).toBe(2);
    expect(polls).toBeGreaterThan(9000); // 10 ms of real (simulated) time in 1 us polls
  });

  it("leaves Linux's pit_calibrate_tsc alone: gate raised before programming, >= 1000 polls of real time", () => {
    const r = rig();
    const latch = Math.floor(1_193_182 / 100); // 10 ms
    const start = r.tsc();
    r.outb(0x61, (r.inb(0x61) & ~0x02) | 0x01);
    r.outb(0x43, 0xb0);
    r.outb(0x42, latch & 0xff);
    r.outb(0x42, latch >> 8);
    let polls = 0;
    while ((r.inb(0x61) & 0x20) === 0) {
      polls++;
      r.pass(5000);
    }
    expect(r.sc.fired).toBe(0);
    expect(r.warp()).toBe(0);
    expect(polls).toBeGreaterThanOrEqual(1000 / 5);
    expect((r.tsc() - start) / 1e6).toBeCloseTo(10, 0);
  });

  it("leaves Linux's quick_pit_calibrate alone (it reads the counter) and the legacy PIT users", () => {
    const r = rig();
    r.outb(0x61, (r.inb(0x61) & ~0x02) | 0x01);
    r.outb(0x43, 0xb0);
    r.outb(0x42, 0xff);
    r.outb(0x42, 0xff);
    r.inb(0x42);
    r.inb(0x42);
    r.outb(0x61, r.inb(0x61) & ~0x01);
    r.outb(0x61, r.inb(0x61) | 0x01);
    expect(r.sc.fired).toBe(0);
    // Same program as GRUB but the counter is read before the gate rises: no shortcut either.
    r.outb(0x61, r.inb(0x61) & ~0x03);
    r.outb(0x43, 0xb0);
    r.outb(0x42, 0xff);
    r.outb(0x42, 0xff);
    r.inb(0x42);
    r.outb(0x61, r.inb(0x61) | 0x01);
    expect(r.sc.fired).toBe(0);
  });

  it('when disabled, GRUB waits the full 55 ms of guest time', () => {
    const r = rig(false);
    const [polls, ns] = grubCalibration(r);
    expect(r.sc.fired).toBe(0);
    expect(polls).toBeGreaterThan(54_000);
    expect(ns).toBeGreaterThan(54.9e6);
  });
});

describe('the time warp the runtime applies', () => {
  it('WarpClock moves device time and wall time forward only; advanceTscOffsets moves every VCPU TSC', () => {
    const base = { now: () => 1000, wallMs: () => 5 };
    const clock = new WarpClock(base);
    clock.advance(2_000_000);
    clock.advance(-5);
    expect([clock.now(), clock.wallMs(), clock.offsetNs]).toEqual([2_001_000, 7, 2_000_000]);
    const states = new SharedArrayBuffer(2 * STATE_BYTES);
    const views = [0, 1].map((v) => new Int32Array(states, v * STATE_BYTES, STATE_BYTES / 4));
    new Float64Array(states, STATE_BYTES, STATE_BYTES / 8)[S_TSC_OFFSET_F64 / 2] = 10;
    advanceTscOffsets(views, 54_925_402);
    expect(new Float64Array(states, 0, 1 + S_TSC_OFFSET_F64 / 2)[S_TSC_OFFSET_F64 / 2]).toBe(54_925_402);
    expect(new Float64Array(states, STATE_BYTES, 1 + S_TSC_OFFSET_F64 / 2)[S_TSC_OFFSET_F64 / 2]).toBe(54_925_412);
  });
});

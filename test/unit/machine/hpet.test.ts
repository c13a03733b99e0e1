import { describe, expect, it } from 'vitest';
import { Hpet, type HpetState } from '../../../src-engine/machine/hpet';
import { FakeClock, RecordingIrq } from './fake-clock';
import { SaveImageError } from '../../../src-engine/base/errors';

const CAP = 0x000;
const PERIOD = 0x004;
const CONFIG = 0x010;
const STATUS = 0x020;
const COUNTER = 0x0f0;
const COUNTER_HI = 0x0f4;
const T0_CFG = 0x100;
const T0_CMP = 0x108;
const T1_CFG = 0x120;
const T1_CMP = 0x128;
const T2_CFG = 0x140;
const T2_ROUTE_CAP = 0x144;
const T2_CMP = 0x148;
const ENABLE = 0x1;
const LEGACY = 0x2;
const TN_LEVEL = 0x2;
const TN_ENB = 0x4;
const TN_PERIODIC = 0x8;
const TN_VAL_SET = 0x40;
const TN_32BIT = 0x100;

function setup() {
  const clock = new FakeClock();
  const gsi = new Map<number, RecordingIrq>();
  const isa = new Map<number, RecordingIrq>();
  const legacy: boolean[] = [];
  const line = (m: Map<number, RecordingIrq>, n: number) => {
    if (!m.has(n)) m.set(n, new RecordingIrq());
    return m.get(n)!;
  };
  const hpet = new Hpet({ clock, gsiLine: (n) => line(gsi, n), isaLine: (n) => line(isa, n), onLegacyChange: (on) => legacy.push(on) });
  const wr = (off: number, v: number) => hpet.mmioWrite(off, 4, v);
  const rd = (off: number) => hpet.mmioRead(off, 4);
  return { clock, hpet, gsi, isa, legacy, wr, rd, line };
}

describe('HPET capabilities (IA-PC HPET 1.0a 2.3.4)', () => {
  it('reports vendor 8086, legacy routing, a 64-bit counter, three timers and a 10 ns period', () => {
    const { rd } = setup();
    expect(rd(CAP)).toBe(0x8086a201);
    expect(rd(PERIOD)).toBe(10_000_000);
    expect(rd(T0_CFG) & 0x30).toBe(0x30); // periodic-capable, 64-bit comparator
    expect(rd(T2_ROUTE_CAP)).toBe(0x00ff0104);
  });
});

describe('HPET main counter', () => {
  it('stands still until enabled, then counts at 100 MHz', () => {
    const { clock, wr, rd } = setup();
    clock.advance(5000);
    expect(rd(COUNTER)).toBe(0);
    wr(CONFIG, ENABLE);
    clock.advance(1000);
    expect(rd(COUNTER)).toBe(100);
    wr(CONFIG, 0);
    clock.advance(1000);
    expect(rd(COUNTER)).toBe(100);
  });

  it('takes a written value in both halves and continues from it', () => {
    const { clock, wr, rd } = setup();
    wr(COUNTER, 0xfffffff0);
    wr(COUNTER_HI, 0x1);
    wr(CONFIG, ENABLE);
    clock.advance(200);
    expect(rd(COUNTER)).toBe(0x00000004);
    expect(rd(COUNTER_HI)).toBe(0x2);
  });
});

describe('HPET comparators', () => {
  it('fires a one-shot 64-bit timer once when the counter reaches the comparator', () => {
    const { clock, hpet, gsi, wr } = setup();
    wr(T2_CFG, TN_ENB | (16 << 9));
    wr(T2_CMP, 500);
    wr(CONFIG, ENABLE);
    expect(hpet.tick(clock.now())).toBe(clock.now() + 5000);
    clock.advance(4990);
    hpet.tick(clock.now());
    expect(gsi.get(16)?.rises ?? 0).toBe(0);
    clock.advance(10);
    expect(hpet.tick(clock.now())).toBe(Infinity);
    expect(gsi.get(16)!.rises).toBe(1);
    clock.advance(1e9);
    hpet.tick(clock.now());
    expect(gsi.get(16)!.rises).toBe(1);
  });

  it('never matches a 64-bit comparator already passed, but a 32-bit one after the wrap', () => {
    const { clock, hpet, wr } = setup();
    wr(CONFIG, ENABLE);
    clock.advance(10_000); // counter 1000
    wr(T2_CFG, TN_ENB | (16 << 9));
    wr(T2_CMP, 10);
    expect(hpet.tick(clock.now())).toBe(Infinity);
    wr(T2_CFG, TN_ENB | TN_32BIT | (16 << 9));
    wr(T2_CMP, 10);
    expect(hpet.tick(clock.now())).toBe(clock.now() + (2 ** 32 - 990) * 10);
  });

  it('runs a periodic timer as Linux programs it: VAL_SET comparator, then the period', () => {
    const { clock, hpet, wr, rd, line, isa } = setup();
    wr(CONFIG, ENABLE | LEGACY);
    const irq0 = line(isa, 0);
    wr(T0_CFG, TN_ENB | TN_PERIODIC | TN_VAL_SET | TN_32BIT);
    wr(T0_CMP, 1000); // first match at counter 1000
    wr(T0_CMP, 250); // then every 250 ticks
    expect(rd(T0_CFG) & TN_VAL_SET).toBe(0);
    for (let i = 0; i < 10; i++) {
      clock.advance(2500); // 250 ticks
      hpet.tick(clock.now());
    }
    // matches at 1000, 1250, 1500, 1750, 2000, 2250, 2500 (the counter is now 2500)
    expect(irq0.rises).toBe(7);
    expect(rd(T0_CMP)).toBe(2750);
  });

  it('coalesces periods missed between two ticks into one interrupt and keeps the phase', () => {
    const { clock, hpet, wr, rd, line, gsi } = setup();
    wr(CONFIG, ENABLE);
    wr(T2_CFG, TN_ENB | TN_PERIODIC | TN_VAL_SET | (17 << 9));
    wr(T2_CMP, 100);
    wr(T2_CMP, 100);
    clock.advance(10_550); // counter 1055
    hpet.tick(clock.now());
    expect(line(gsi, 17).rises).toBe(1);
    expect(rd(T2_CMP)).toBe(1100);
  });

  it('keeps a level-triggered timer line high until the status bit is cleared', () => {
    const { clock, hpet, wr, rd, isa } = setup();
    wr(CONFIG, ENABLE | LEGACY);
    wr(T1_CFG, TN_ENB | TN_LEVEL);
    wr(T1_CMP, 10);
    clock.advance(100);
    hpet.tick(clock.now());
    expect(isa.get(8)!.level).toBe(true);
    expect(rd(STATUS)).toBe(0x2);
    wr(STATUS, 0x2);
    expect(isa.get(8)!.level).toBe(false);
    expect(rd(STATUS)).toBe(0);
  });

  it('sets the status bit of a level timer whose interrupt is disabled, without raising the line', () => {
    const { clock, hpet, wr, rd, gsi, line } = setup();
    wr(CONFIG, ENABLE);
    wr(T2_CFG, TN_LEVEL | (16 << 9));
    wr(T2_CMP, 10);
    clock.advance(100);
    hpet.tick(clock.now());
    expect(rd(STATUS)).toBe(0x4);
    expect(line(gsi, 16).level).toBe(false);
  });
});

describe('HPET routing', () => {
  it('sends timers 0 and 1 to ISA IRQ 0 and 8 in legacy replacement mode and reports the switch', () => {
    const { clock, hpet, wr, isa, gsi, legacy } = setup();
    wr(CONFIG, ENABLE | LEGACY);
    expect(legacy).toEqual([true]);
    wr(T0_CFG, TN_ENB | (2 << 9));
    wr(T0_CMP, 5);
    clock.advance(100);
    hpet.tick(clock.now());
    expect(isa.get(0)!.rises).toBe(1);
    expect(gsi.size).toBe(0);
    wr(CONFIG, ENABLE);
    expect(legacy).toEqual([true, false]);
  });

  it('keeps the old route when software asks for a GSI the timer cannot use', () => {
    const { wr, rd } = setup();
    wr(T2_CFG, 16 << 9);
    wr(T2_CFG, 5 << 9);
    expect((rd(T2_CFG) >> 9) & 0x1f).toBe(16);
  });
});

describe('HPET save state', () => {
  it('restores the counter and a pending match relative to the new clock', () => {
    const a = setup();
    a.wr(CONFIG, ENABLE);
    a.wr(T2_CFG, TN_ENB | (16 << 9));
    a.wr(T2_CMP, 1000);
    a.clock.advance(4000); // counter 400
    const saved = structuredClone(a.hpet.saveState());
    const b = setup();
    b.clock.advance(77_000);
    b.hpet.loadState(saved);
    expect(b.rd(COUNTER)).toBe(400);
    expect(b.hpet.tick(b.clock.now())).toBe(b.clock.now() + 6000);
    expect(() => b.hpet.loadState({ ...saved, version: 9 } as unknown as HpetState)).toThrow(SaveImageError);
  });
});

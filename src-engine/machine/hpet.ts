/**
 * The High Precision Event Timer of a PC: a 64-bit up-counter at 100 MHz and three comparators,
 * at 0xFED00000.
 *
 * References:
 * - IA-PC HPET Specification 1.0a: General Capabilities and ID (0x000: REV_ID, NUM_TIM_CAP,
 *   COUNT_SIZE_CAP, LEG_RT_CAP, VENDOR_ID, COUNTER_CLK_PERIOD in fs), General Configuration
 *   (0x010: ENABLE_CNF, LEG_RT_CNF), General Interrupt Status (0x020, write 1 to clear), Main
 *   Counter (0x0F0), Timer N Configuration and Capability (0x100 + 0x20 N: Tn_INT_TYPE_CNF,
 *   Tn_INT_ENB_CNF, Tn_TYPE_CNF, Tn_PER_INT_CAP, Tn_SIZE_CAP, Tn_VAL_SET_CNF, Tn_32MODE_CNF,
 *   Tn_INT_ROUTE_CNF, Tn_INT_ROUTE_CAP), Comparator (+0x08), FSB route (+0x10); legacy
 *   replacement routing (timer 0 on ISA IRQ0 / IOAPIC pin 2, timer 1 on IRQ8, PIT and RTC
 *   interrupts cut off).
 * - QEMU hw/timer/hpet.c for what guests observe: 10 ns period (100 MHz), three timers, all
 *   periodic-capable with 64-bit comparators; in periodic mode a comparator write with
 *   Tn_VAL_SET_CNF sets both comparator and period, a later write only the period (Linux's
 *   hpet_set_periodic relies on this); a one-shot timer fires once per comparator write.
 *
 * A comparator matches when the counter (its low 32 bits in 32-bit mode) reaches it; a value in
 * the past matches only after the counter wraps (2^32 ticks, 43 s, in 32-bit mode; never in
 * 64-bit mode), as the specification says. The extra interrupt a 32-bit one-shot timer raises
 * at counter wrap-around is not generated. FSB (MSI) delivery is not offered.
 *
 * Time: the counter is computed from the injected clock; `tick(now)` raises due interrupts and
 * returns the next comparator match.
 */
import type { Clock, IoSize, IrqLine, MmioDevice, Persistent, TimedDevice } from './device';
import { requireSaved, requireStateVersion } from './save-state';

// ---- Registers ------------------------------------------------------------------------------------

/** Default base address on a PC. */
export const HPET_DEFAULT_BASE = 0xfed00000;
/** Bytes of MMIO the HPET decodes (QEMU: 1 KiB). */
export const HPET_MMIO_BYTES = 0x400;
/** Register offsets. */
const HPET_CAPABILITIES = 0x000;
const HPET_PERIOD = 0x004;
const HPET_CONFIG = 0x010;
const HPET_STATUS = 0x020;
const HPET_COUNTER = 0x0f0;
const HPET_COUNTER_HIGH = 0x0f4;
const HPET_TIMER_BASE = 0x100;
const HPET_TIMER_STRIDE = 0x20;
const TN_CONFIG = 0x00;
const TN_ROUTE_CAP = 0x04;
const TN_COMPARATOR = 0x08;
const TN_COMPARATOR_HIGH = 0x0c;
const TN_FSB = 0x10;
const TN_FSB_HIGH = 0x14;

/** Number of timers (comparators). */
export const HPET_TIMERS = 3;
/** Counter period in femtoseconds: 10 ns, a 100 MHz counter (QEMU's HPET_CLK_PERIOD). */
export const HPET_PERIOD_FS = 10_000_000;
/** Nanoseconds per counter tick. */
export const HPET_TICK_NS = 10;
/** Capabilities low half: vendor 0x8086, LEG_RT_CAP, COUNT_SIZE_CAP, NUM_TIM_CAP = timers - 1, REV_ID 1. */
export const HPET_CAPABILITIES_LOW = (0x8086 << 16) | 0x8000 | 0x2000 | ((HPET_TIMERS - 1) << 8) | 0x01;
// General configuration bits.
/** General configuration ENABLE_CNF: the main counter runs and timers may interrupt. */
export const HPET_CFG_ENABLE = 0x1;
/** General configuration LEG_RT_CNF: legacy replacement routing. */
export const HPET_CFG_LEGACY = 0x2;
// Timer configuration bits.
/** Timer configuration Tn_INT_TYPE_CNF: level-triggered interrupt. */
export const TN_INT_TYPE_LEVEL = 0x2;
/** Timer configuration Tn_INT_ENB_CNF: the timer may interrupt. */
export const TN_INT_ENABLE = 0x4;
/** Timer configuration Tn_TYPE_CNF: periodic mode. */
export const TN_PERIODIC = 0x8;
const TN_PERIODIC_CAP = 0x10;
const TN_SIZE_CAP_64 = 0x20;
/** Timer configuration Tn_VAL_SET_CNF: the next comparator write sets the accumulator. */
export const TN_VAL_SET = 0x40;
/** Timer configuration Tn_32MODE_CNF: 32-bit comparator. */
export const TN_32BIT = 0x100;
const TN_ROUTE_SHIFT = 9;
const TN_ROUTE_MASK = 0x1f;
/** Bits software may write in a timer's configuration (no FSB: Tn_FSB_INT_DEL_CAP is 0). */
const TN_WRITABLE = TN_INT_TYPE_LEVEL | TN_INT_ENABLE | TN_PERIODIC | TN_VAL_SET | TN_32BIT | (TN_ROUTE_MASK << TN_ROUTE_SHIFT);
/** Read-only capability bits every timer reports. */
const TN_CAPS = TN_PERIODIC_CAP | TN_SIZE_CAP_64;
/** Tn_INT_ROUTE_CAP: GSIs 2, 8 and 16-23 (our choice, following the PC's free IOAPIC pins). */
export const HPET_ROUTE_CAP = 0x00ff0104;
/** Legacy replacement: timer 0 -> ISA IRQ 0, timer 1 -> ISA IRQ 8. */
const LEGACY_IRQ = [0, 8];
const TWO32 = 4294967296;

// ---- State ---------------------------------------------------------------------------------------

interface HpetTimer {
  config: number;
  /** Comparator and period, 64-bit values as numbers (exact below 2^53). */
  comparator: number;
  period: number;
  fsb: [number, number];
  /** Counter value of the next match, or Infinity. */
  nextMatch: number;
  /** The line this timer holds high (level mode), if any. */
  raised: IrqLine | null;
}

/** Saved state of one timer. */
export interface HpetTimerState {
  config: number;
  comparator: number;
  period: number;
  fsb: [number, number];
  /** Ticks from the saved counter to the next match, or null. */
  matchIn: number | null;
}

/** Saved state of the HPET. */
export interface HpetState {
  version: 1;
  config: number;
  status: number;
  counter: number;
  timers: HpetTimerState[];
}

/** Options of the HPET. */
export interface HpetConfig {
  clock: Clock;
  /** The line of a GSI a timer may be routed to (one of HPET_ROUTE_CAP's bits). */
  gsiLine: (gsi: number) => IrqLine;
  /** The line of an ISA IRQ (legacy replacement routes timer 0 to IRQ0, timer 1 to IRQ8). */
  isaLine: (irq: number) => IrqLine;
  /** Legacy replacement was switched on or off: cut or restore the PIT's IRQ0 and the RTC's IRQ8. */
  onLegacyChange?: (enabled: boolean) => void;
}

/** The HPET. Place it on the MMIO bus (HPET_MMIO_BYTES at HPET_DEFAULT_BASE). */
export class Hpet implements MmioDevice, TimedDevice, Persistent<HpetState> {
  readonly name = 'hpet';
  private config = 0;
  private status = 0;
  /** Counter value at `runningSince` (or the halted value). */
  private counterBase = 0;
  private runningSince = 0;
  private readonly timers: HpetTimer[];
  private readonly clock: Clock;
  private readonly gsiLine: (gsi: number) => IrqLine;
  private readonly isaLine: (irq: number) => IrqLine;
  private readonly onLegacyChange: (enabled: boolean) => void;

  constructor(cfg: HpetConfig) {
    this.clock = cfg.clock;
    this.gsiLine = cfg.gsiLine;
    this.isaLine = cfg.isaLine;
    this.onLegacyChange = cfg.onLegacyChange ?? (() => {});
    this.timers = Array.from({ length: HPET_TIMERS }, () => freshTimer());
  }

  /** The main counter at engine time `now`. */
  counter(now = this.clock.now()): number {
    if ((this.config & HPET_CFG_ENABLE) === 0) return this.counterBase;
    return this.counterBase + Math.floor(Math.max(0, now - this.runningSince) / HPET_TICK_NS);
  }

  mmioRead(offset: number, size: IoSize): number {
    const value = this.readRegister(offset & ~3) >>> ((offset & 3) * 8);
    return size === 4 ? value >>> 0 : value & ((1 << (size * 8)) - 1);
  }

  mmioWrite(offset: number, size: IoSize, value: number): void {
    if (size !== 4 || (offset & 3) !== 0) return; // registers are written 32 or 64 bits at a time
    const now = this.clock.now();
    if (offset >= HPET_TIMER_BASE && offset < HPET_TIMER_BASE + HPET_TIMERS * HPET_TIMER_STRIDE) {
      this.writeTimer((offset - HPET_TIMER_BASE) >> 5, offset & (HPET_TIMER_STRIDE - 1), value >>> 0, now);
      return;
    }
    switch (offset) {
      case HPET_CONFIG:
        this.writeConfig(value, now);
        break;
      case HPET_STATUS:
        this.status &= ~value;
        for (let n = 0; n < HPET_TIMERS; n++) this.updateLevel(n);
        break;
      case HPET_COUNTER:
      case HPET_COUNTER_HIGH: {
        const c = this.counter(now);
        const hi = Math.floor(c / TWO32);
        const next = offset === HPET_COUNTER ? hi * TWO32 + (value >>> 0) : (value >>> 0) * TWO32 + (c - hi * TWO32);
        this.counterBase = next;
        this.runningSince = now;
        for (let n = 0; n < HPET_TIMERS; n++) this.arm(n, next);
        break;
      }
      default:
        break;
    }
  }

  tick(now: number): number {
    if ((this.config & HPET_CFG_ENABLE) === 0) return Infinity;
    const c = this.counter(now);
    let next = Infinity;
    for (let n = 0; n < HPET_TIMERS; n++) {
      const t = this.timers[n];
      if (t.nextMatch <= c) this.expire(n, c);
      if (t.nextMatch < next) next = t.nextMatch;
    }
    if (next === Infinity) return Infinity;
    return this.runningSince + (next - this.counterBase) * HPET_TICK_NS;
  }

  /** Power-on state: counter halted at 0, timers disabled, legacy routing off. */
  reset(): void {
    const legacy = (this.config & HPET_CFG_LEGACY) !== 0;
    for (let n = 0; n < HPET_TIMERS; n++) this.lower(n);
    this.config = 0;
    this.status = 0;
    this.counterBase = 0;
    for (let n = 0; n < HPET_TIMERS; n++) this.timers[n] = freshTimer();
    if (legacy) this.onLegacyChange(false);
  }

  saveState(): HpetState {
    const c = this.counter();
    return {
      version: 1,
      config: this.config,
      status: this.status,
      counter: c,
      timers: this.timers.map((t) => ({
        config: t.config,
        comparator: t.comparator,
        period: t.period,
        fsb: [t.fsb[0], t.fsb[1]],
        matchIn: t.nextMatch === Infinity ? null : t.nextMatch - c,
      })),
    };
  }

  loadState(state: HpetState): void {
    requireStateVersion(state, 1, 'the HPET');
    requireSaved(Array.isArray(state.timers) && state.timers.length === HPET_TIMERS, 'the HPET', 'timers');
    for (let n = 0; n < HPET_TIMERS; n++) this.lower(n);
    const wasLegacy = (this.config & HPET_CFG_LEGACY) !== 0;
    this.config = state.config;
    this.status = state.status;
    this.counterBase = state.counter;
    this.runningSince = this.clock.now();
    state.timers.forEach((s, n) => {
      const t = this.timers[n];
      t.config = s.config;
      t.comparator = s.comparator;
      t.period = s.period;
      t.fsb = [s.fsb[0], s.fsb[1]];
      t.nextMatch = s.matchIn === null ? Infinity : state.counter + s.matchIn;
    });
    const legacy = (this.config & HPET_CFG_LEGACY) !== 0;
    if (legacy !== wasLegacy) this.onLegacyChange(legacy);
    for (let n = 0; n < HPET_TIMERS; n++) this.updateLevel(n);
  }

  // ---- Registers ----------------------------------------------------------------------------------

  private readRegister(offset: number): number {
    if (offset >= HPET_TIMER_BASE && offset < HPET_TIMER_BASE + HPET_TIMERS * HPET_TIMER_STRIDE) {
      const t = this.timers[(offset - HPET_TIMER_BASE) >> 5];
      switch (offset & (HPET_TIMER_STRIDE - 1)) {
        case TN_CONFIG:
          return t.config | TN_CAPS;
        case TN_ROUTE_CAP:
          return HPET_ROUTE_CAP;
        case TN_COMPARATOR:
          return t.comparator % TWO32;
        case TN_COMPARATOR_HIGH:
          return Math.floor(t.comparator / TWO32);
        case TN_FSB:
          return t.fsb[0];
        case TN_FSB_HIGH:
          return t.fsb[1];
        default:
          return 0;
      }
    }
    switch (offset) {
      case HPET_CAPABILITIES:
        return HPET_CAPABILITIES_LOW;
      case HPET_PERIOD:
        return HPET_PERIOD_FS;
      case HPET_CONFIG:
        return this.config;
      case HPET_STATUS:
        return this.status;
      case HPET_COUNTER:
        return this.counter() % TWO32;
      case HPET_COUNTER_HIGH:
        return Math.floor(this.counter() / TWO32) % TWO32;
      default:
        return 0;
    }
  }

  private writeConfig(value: number, now: number): void {
    const old = this.config;
    const next = value & (HPET_CFG_ENABLE | HPET_CFG_LEGACY);
    if ((old & HPET_CFG_ENABLE) !== 0 && (next & HPET_CFG_ENABLE) === 0) this.counterBase = this.counter(now);
    if ((next & HPET_CFG_ENABLE) !== 0 && (old & HPET_CFG_ENABLE) === 0) this.runningSince = now;
    for (let n = 0; n < HPET_TIMERS; n++) this.lower(n);
    this.config = next;
    if ((old ^ next) & HPET_CFG_LEGACY) this.onLegacyChange((next & HPET_CFG_LEGACY) !== 0);
    const c = this.counter(now);
    for (let n = 0; n < HPET_TIMERS; n++) {
      if ((next & HPET_CFG_ENABLE) !== 0 && (old & HPET_CFG_ENABLE) === 0) this.arm(n, c);
      this.updateLevel(n);
    }
  }

  private writeTimer(n: number, reg: number, value: number, now: number): void {
    const t = this.timers[n];
    const c = this.counter(now);
    switch (reg) {
      case TN_CONFIG: {
        this.lower(n);
        let next = value & TN_WRITABLE;
        const route = (next >>> TN_ROUTE_SHIFT) & TN_ROUTE_MASK;
        // A route the timer cannot take is not stored: the old one reads back (specification 2.3.9.2).
        if (((HPET_ROUTE_CAP >>> route) & 1) === 0) next = (next & ~(TN_ROUTE_MASK << TN_ROUTE_SHIFT)) | (t.config & (TN_ROUTE_MASK << TN_ROUTE_SHIFT));
        const modeChanged = ((t.config ^ next) & (TN_PERIODIC | TN_32BIT)) !== 0;
        t.config = next;
        if ((next & TN_32BIT) !== 0) {
          t.comparator %= TWO32;
          t.period %= TWO32;
        }
        if (modeChanged) this.arm(n, c);
        this.updateLevel(n);
        break;
      }
      case TN_COMPARATOR:
      case TN_COMPARATOR_HIGH: {
        const high = reg === TN_COMPARATOR_HIGH;
        if (high && (t.config & TN_32BIT) !== 0) break;
        const periodic = (t.config & TN_PERIODIC) !== 0;
        if (!periodic || (t.config & TN_VAL_SET) !== 0) t.comparator = setHalf(t.comparator, value, high);
        if (periodic) t.period = setHalf(t.period, value, high);
        t.config &= ~TN_VAL_SET;
        this.arm(n, c);
        break;
      }
      case TN_FSB:
        t.fsb[0] = value;
        break;
      case TN_FSB_HIGH:
        t.fsb[1] = value;
        break;
      default:
        break;
    }
  }

  // ---- Matching and interrupts --------------------------------------------------------------------

  /** Computes the next match of timer `n` from the counter value `c`. */
  private arm(n: number, c: number): void {
    const t = this.timers[n];
    if ((t.config & TN_32BIT) !== 0) {
      const delta = (((t.comparator % TWO32) - (c % TWO32)) % TWO32 + TWO32) % TWO32;
      t.nextMatch = c + delta;
    } else {
      t.nextMatch = t.comparator >= c ? t.comparator : Infinity;
    }
  }

  /** Timer `n` matched (counter now `c`): raise its interrupt, advance a periodic comparator. */
  private expire(n: number, c: number): void {
    const t = this.timers[n];
    const matched = t.nextMatch;
    if ((t.config & TN_PERIODIC) !== 0 && t.period > 0) {
      // Missed periods coalesce into this one interrupt; the comparator keeps its phase.
      const steps = Math.floor((c - matched) / t.period) + 1;
      t.nextMatch = matched + steps * t.period;
      t.comparator = (t.config & TN_32BIT) !== 0 ? (t.comparator + steps * t.period) % TWO32 : t.comparator + steps * t.period;
    } else {
      t.nextMatch = Infinity;
    }
    if ((t.config & TN_INT_TYPE_LEVEL) !== 0) {
      this.status |= 1 << n;
      this.updateLevel(n);
    } else if ((t.config & TN_INT_ENABLE) !== 0) {
      const line = this.route(n);
      line.set(true);
      line.set(false);
    }
  }

  /** The line timer `n` drives now. */
  private route(n: number): IrqLine {
    if ((this.config & HPET_CFG_LEGACY) !== 0 && n < LEGACY_IRQ.length) return this.isaLine(LEGACY_IRQ[n]);
    return this.gsiLine((this.timers[n].config >>> TN_ROUTE_SHIFT) & TN_ROUTE_MASK);
  }

  /** A level-mode timer holds its line high while its status bit is set and interrupts are on. */
  private updateLevel(n: number): void {
    const t = this.timers[n];
    const on =
      (t.config & TN_INT_TYPE_LEVEL) !== 0 && (t.config & TN_INT_ENABLE) !== 0 &&
      (this.config & HPET_CFG_ENABLE) !== 0 && (this.status & (1 << n)) !== 0;
    if (!on) {
      this.lower(n);
      return;
    }
    const line = this.route(n);
    if (t.raised === line) return;
    this.lower(n);
    t.raised = line;
    line.set(true);
  }

  private lower(n: number): void {
    const t = this.timers[n];
    if (t.raised === null) return;
    t.raised.set(false);
    t.raised = null;
  }
}

function freshTimer(): HpetTimer {
  return { config: 0, comparator: 0, period: 0, fsb: [0, 0], nextMatch: Infinity, raised: null };
}

/** Replaces the low or high 32 bits of a 64-bit value held in a number. */
function setHalf(old: number, value: number, high: boolean): number {
  const hi = Math.floor(old / TWO32);
  const lo = old - hi * TWO32;
  return high ? (value >>> 0) * TWO32 + lo : hi * TWO32 + (value >>> 0);
}

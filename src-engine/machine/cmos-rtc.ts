/**
 * The Motorola MC146818 real-time clock with its CMOS RAM, at ports 0x70 (index, bit 7 = NMI
 * disable) and 0x71 (data), interrupting on ISA IRQ8.
 *
 * References:
 * - Motorola MC146818A datasheet: time registers 0x00-0x09, alarm "don't care" codes (0xC0-0xFF),
 *   register A (UIP, DV2-0 divider, RS3-0 rate), B (SET, PIE, AIE, UIE, SQWE, DM, 24/12, DSE),
 *   C (IRQF, PF, AF, UF; cleared by reading), D (VRT); the update cycle and its 244 us UIP warning;
 *   periodic rates (RS 1 and 2 repeat rates 8 and 9 at 32.768 kHz); first update 500 ms after the
 *   divider leaves reset.
 * - IBM PC/AT Technical Reference: CMOS layout (0x0F shutdown status, 0x10-0x2D checksummed area,
 *   0x2E/0x2F checksum, 0x32 century); the memory bytes are set by cmos-layout.ts.
 * - QEMU hw/rtc/mc146818rtc.c: guest time = host time + offset, UIP high during the last 244 us of
 *   each second, register B SET clears UIE, day of week 1 = Sunday.
 *
 * Time: the clock counts from the injected Clock (monotonic nanoseconds), starting from its wall
 * clock, so it is deterministic under a fake clock. Flags are brought up to date lazily on every
 * access and in `tick(now)`, which returns when the next enabled interrupt is due.
 */
import type { Clock, IoSize, IrqLine, Persistent, PortDevice, TimedDevice } from './device';
import { unconnectedIrq } from './device';
import { requireSaved, requireStateVersion } from './save-state';

// ---- Registers -----------------------------------------------------------------------------------

/** Port offsets: index (0x70) and data (0x71). */
const OFFSET_DATA = 1;
/** Index register: bit 7 disables NMI, bits 6-0 select one of 128 bytes. */
const INDEX_NMI_DISABLE = 0x80;
const INDEX_MASK = 0x7f;
/** CMOS size in bytes. */
export const CMOS_SIZE = 128;

/** Time and alarm registers. */
const REG_SECONDS = 0x00;
const REG_SECONDS_ALARM = 0x01;
const REG_MINUTES = 0x02;
const REG_MINUTES_ALARM = 0x03;
const REG_HOURS = 0x04;
const REG_HOURS_ALARM = 0x05;
const REG_DAY_OF_WEEK = 0x06;
const REG_DAY_OF_MONTH = 0x07;
const REG_MONTH = 0x08;
const REG_YEAR = 0x09;
/** Status register A: UIP, divider, rate. */
export const REG_A = 0x0a;
/** Status register B: SET, interrupt enables, data mode, 24/12. */
export const REG_B = 0x0b;
/** Status register C: interrupt flags, cleared by reading. */
export const REG_C = 0x0c;
/** Status register D: valid RAM and time. */
export const REG_D = 0x0d;
/** The PC's century byte (BCD or binary like the other time registers). */
export const REG_CENTURY = 0x32;

/** Register A: update in progress (read-only), divider chain (bits 6-4), rate select (bits 3-0). */
const A_UIP = 0x80;
const A_DIVIDER_RESET = 0x60; // DV2 and DV1 both set: divider chain held in reset
const A_RATE_MASK = 0x0f;
/** Register A after power-on on a PC: 32.768 kHz time base, 1024 Hz periodic rate. */
const A_RESET = 0x26;
/** Register B: SET (halt updates), PIE, AIE, UIE, SQWE, DM (1 = binary), 24/12 (1 = 24 h), DSE. */
const B_SET = 0x80;
const B_PIE = 0x40;
const B_AIE = 0x20;
const B_UIE = 0x10;
const B_BINARY = 0x04;
const B_SQWE = 0x08;
const B_24H = 0x02;
/** Register B after power-on on a PC: BCD, 24-hour. */
const B_RESET = 0x02;
/** Register C: IRQF, PF, AF, UF. An interrupt flag counts when the same bit of B enables it. */
const C_IRQF = 0x80;
const C_PF = 0x40;
const C_AF = 0x20;
const C_UF = 0x10;
const C_FLAGS = C_PF | C_AF | C_UF;
/** Register D: VRT, valid RAM and time (the battery is good). */
const D_VRT = 0x80;
/** Hours register bit 7 in 12-hour mode: PM. */
const HOUR_PM = 0x80;
/** An alarm byte of 0xC0-0xFF matches every value. */
const ALARM_DONT_CARE = 0xc0;

/** Time base of the divider chain. */
const TIME_BASE_HZ = 32_768;
/** UIP rises this long before each update: 8 cycles of the 32.768 kHz time base (244.1 us). */
const UIP_LEAD_MS = (8 * 1000) / TIME_BASE_HZ;
/** Rates 1 and 2 give the same periods as rates 8 and 9. */
const LOW_RATE_ALIAS = 7;
const NS_PER_MS = 1_000_000;
const MS_PER_SECOND = 1000;
const SECONDS_PER_DAY = 86_400;
/** After the divider leaves reset the first update comes half a second later. */
const FIRST_UPDATE_DELAY_MS = 500;
/** Slack added to deadlines so that tick(deadline) surely sees the event despite rounding. */
const DEADLINE_SLACK_NS = 1000;

// ---- State ---------------------------------------------------------------------------------------

/** Saved state of the RTC and CMOS. */
export interface CmosRtcState {
  version: 1;
  index: number;
  nmiDisabled: boolean;
  /** All 128 bytes; the time registers' bytes are not used (time is kept as `offsetMs`). */
  ram: number[];
  regA: number;
  regB: number;
  regC: number;
  /** Guest RTC time minus host wall time, in ms, while the clock runs. */
  offsetMs: number;
  /** Guest RTC time in ms since 1970 while held (SET or divider reset), else null. */
  heldMs: number | null;
  /** Nanoseconds since the last periodic tick. */
  periodicPhaseNs: number;
}

/** Options of the RTC. */
export interface CmosRtcConfig {
  clock: Clock;
  /** ISA IRQ8. */
  irq?: IrqLine;
}

function toBcd(v: number): number {
  return (Math.floor(v / 10) << 4) | v % 10;
}

function fromBcd(v: number): number {
  return (v >> 4) * 10 + (v & 0x0f);
}

// ---- The device ----------------------------------------------------------------------------------

/** The MC146818 RTC and CMOS RAM. Place it on 2 ports at 0x70. */
export class CmosRtc implements PortDevice, TimedDevice, Persistent<CmosRtcState> {
  readonly name = 'cmos-rtc';
  private readonly clock: Clock;
  private readonly irq: IrqLine;

  private ram = new Uint8Array(CMOS_SIZE);
  private index = 0;
  private nmiDisabled = false;
  private regA = A_RESET;
  private regB = B_RESET;
  private regC = 0;
  /** Host wall time (ms) at monotonic time 0. */
  private epochMs = 0;
  private offsetMs = 0;
  private heldMs: number | null = null;
  /** The last whole guest second whose update was processed. */
  private lastUpdateSecond = 0;
  private periodicAnchorNs = 0;
  private periodicSeen = 0;
  private irqLevel = false;

  constructor(config: CmosRtcConfig) {
    this.clock = config.clock;
    this.irq = config.irq ?? unconnectedIrq;
    this.powerOn();
  }

  // ---- Predicates and time ----

  private binary(): boolean {
    return (this.regB & B_BINARY) !== 0;
  }

  private hours24(): boolean {
    return (this.regB & B_24H) !== 0;
  }

  private dividerReset(): boolean {
    return (this.regA & A_DIVIDER_RESET) === A_DIVIDER_RESET;
  }

  /** The time registers advance: divider running and SET clear. */
  private running(): boolean {
    return !this.dividerReset() && !(this.regB & B_SET);
  }

  /** Periodic interrupt period in ns, or 0 if the rate is off or the divider is held. */
  private periodNs(): number {
    const rate = this.regA & A_RATE_MASK;
    if (rate === 0 || this.dividerReset()) return 0;
    const shift = (rate <= 2 ? rate + LOW_RATE_ALIAS : rate) - 1;
    return ((1 << shift) * 1e9) / TIME_BASE_HZ;
  }

  private hostWallMs(now: number): number {
    return now / NS_PER_MS + this.epochMs;
  }

  /** Guest RTC time now, ms since 1970-01-01 UTC. */
  timeMs(now = this.clock.now()): number {
    return this.heldMs ?? this.hostWallMs(now) + this.offsetMs;
  }

  /** Sets the guest RTC time (as a host tool would: `domus` config `rtc_timeoffset`, tests). */
  setTimeMs(ms: number, now = this.clock.now()): void {
    if (this.heldMs !== null) this.heldMs = ms;
    else this.offsetMs = ms - this.hostWallMs(now);
    this.lastUpdateSecond = Math.floor(ms / MS_PER_SECOND);
  }

  private encode(v: number): number {
    return this.binary() ? v : toBcd(v);
  }

  private decode(v: number): number {
    return this.binary() ? v : fromBcd(v);
  }

  private encodeHour(h: number): number {
    if (this.hours24()) return this.encode(h);
    return this.encode(h % 12 || 12) | (h >= 12 ? HOUR_PM : 0);
  }

  private decodeHour(v: number): number {
    if (this.hours24()) return this.decode(v);
    return (this.decode(v & ~HOUR_PM) % 12) + (v & HOUR_PM ? 12 : 0);
  }

  // ---- Port access ----

  ioRead(port: number): number {
    if ((port & 1) !== OFFSET_DATA) return 0xff; // the index register is write-only
    return this.readRegister(this.index, this.clock.now());
  }

  ioWrite(port: number, _size: IoSize, value: number): void {
    value &= 0xff;
    if ((port & 1) !== OFFSET_DATA) {
      this.index = value & INDEX_MASK;
      this.nmiDisabled = (value & INDEX_NMI_DISABLE) !== 0;
      return;
    }
    this.writeRegister(this.index, value, this.clock.now());
  }

  /** True while the guest has set bit 7 of port 0x70 (NMI masked). */
  nmiMasked(): boolean {
    return this.nmiDisabled;
  }

  /** A CMOS byte as the guest would read it. */
  readRegister(index: number, now = this.clock.now()): number {
    this.advance(now);
    const date = new Date(this.timeMs(now));
    switch (index) {
      case REG_SECONDS:
        return this.encode(date.getUTCSeconds());
      case REG_MINUTES:
        return this.encode(date.getUTCMinutes());
      case REG_HOURS:
        return this.encodeHour(date.getUTCHours());
      case REG_DAY_OF_WEEK:
        return this.encode(date.getUTCDay() + 1);
      case REG_DAY_OF_MONTH:
        return this.encode(date.getUTCDate());
      case REG_MONTH:
        return this.encode(date.getUTCMonth() + 1);
      case REG_YEAR:
        return this.encode(date.getUTCFullYear() % 100);
      case REG_CENTURY:
        return this.encode(Math.floor(date.getUTCFullYear() / 100));
      case REG_A:
        return this.regA | (this.updateInProgress(now) ? A_UIP : 0);
      case REG_B:
        return this.regB;
      case REG_C: {
        const value = this.regC;
        this.regC = 0;
        this.updateIrq();
        return value;
      }
      case REG_D:
        return D_VRT;
      default:
        return this.ram[index];
    }
  }

  /** A CMOS byte write as the guest would make it. */
  writeRegister(index: number, value: number, now = this.clock.now()): void {
    this.advance(now);
    switch (index) {
      case REG_SECONDS:
      case REG_MINUTES:
      case REG_HOURS:
      case REG_DAY_OF_MONTH:
      case REG_MONTH:
      case REG_YEAR:
      case REG_CENTURY:
        this.writeTimeField(index, value, now);
        return;
      case REG_DAY_OF_WEEK:
        return; // derived from the date here
      case REG_A:
        this.writeA(value, now);
        return;
      case REG_B:
        this.writeB(value, now);
        return;
      case REG_C:
      case REG_D:
        return; // read-only
      default:
        this.ram[index] = value; // alarms and CMOS memory
    }
  }

  /** Platform set-up of a CMOS memory byte (memory size, boot order ...). */
  setCmosByte(index: number, value: number): void {
    this.ram[index & INDEX_MASK] = value & 0xff;
  }

  /** A stored CMOS memory byte (not the time registers). */
  cmosByte(index: number): number {
    return this.ram[index & INDEX_MASK];
  }

  /** Brings the flags up to `now` and returns when the next enabled interrupt is due. */
  tick(now: number): number {
    this.advance(now);
    if (this.regC & C_IRQF) return Infinity; // nothing new can be signalled until C is read
    let next = Infinity;
    const period = this.periodNs();
    if (this.regB & B_PIE && period > 0) {
      next = Math.ceil(this.periodicAnchorNs + (this.periodicSeen + 1) * period) + DEADLINE_SLACK_NS;
    }
    if (this.regB & (B_UIE | B_AIE) && this.running()) {
      const intoSecond = this.timeMs(now) - this.lastUpdateSecond * MS_PER_SECOND;
      next = Math.min(next, Math.ceil(now + (MS_PER_SECOND - intoSecond) * NS_PER_MS) + DEADLINE_SLACK_NS);
    }
    return next;
  }

  /**
   * The RESET pin (a machine reset): interrupt enables and SQWE cleared, flags cleared. The time,
   * registers A, the format bits and the CMOS memory survive, as on a battery-backed PC.
   */
  reset(): void {
    this.regB &= ~(B_PIE | B_AIE | B_UIE | B_SQWE);
    this.regC = 0;
    this.updateIrq();
  }

  /** Power-on: registers A-D to their PC defaults, time from the host wall clock, RAM kept. */
  powerOn(): void {
    const now = this.clock.now();
    this.epochMs = this.clock.wallMs() - now / NS_PER_MS;
    this.regA = A_RESET;
    this.regB = B_RESET;
    this.regC = 0;
    this.index = 0;
    this.nmiDisabled = false;
    this.offsetMs = 0;
    this.heldMs = null;
    this.lastUpdateSecond = Math.floor(this.timeMs(now) / MS_PER_SECOND);
    this.periodicAnchorNs = now;
    this.periodicSeen = 0;
    this.updateIrq();
  }

  saveState(): CmosRtcState {
    const now = this.clock.now();
    this.advance(now);
    const period = this.periodNs();
    return {
      version: 1,
      index: this.index,
      nmiDisabled: this.nmiDisabled,
      ram: Array.from(this.ram),
      regA: this.regA,
      regB: this.regB,
      regC: this.regC,
      offsetMs: this.offsetMs,
      heldMs: this.heldMs,
      periodicPhaseNs: period > 0 ? now - this.periodicAnchorNs - this.periodicSeen * period : 0,
    };
  }

  loadState(state: CmosRtcState): void {
    requireStateVersion(state, 1, 'the CMOS RTC');
    requireSaved(Array.isArray(state.ram) && state.ram.length === CMOS_SIZE, 'the CMOS RTC', 'ram');
    const now = this.clock.now();
    this.epochMs = this.clock.wallMs() - now / NS_PER_MS;
    this.ram = Uint8Array.from(state.ram);
    this.index = state.index & INDEX_MASK;
    this.nmiDisabled = state.nmiDisabled;
    this.regA = state.regA & ~A_UIP;
    this.regB = state.regB;
    this.regC = state.regC;
    this.offsetMs = state.offsetMs;
    this.heldMs = state.heldMs;
    this.lastUpdateSecond = Math.floor(this.timeMs(now) / MS_PER_SECOND);
    this.periodicAnchorNs = now - state.periodicPhaseNs;
    this.periodicSeen = 0;
    this.irqLevel = false;
    this.updateIrq();
  }

  // ---- Behaviour ----

  private updateInProgress(now: number): boolean {
    if (!this.running()) return false;
    const intoSecond = this.timeMs(now) - this.lastUpdateSecond * MS_PER_SECOND;
    return intoSecond >= MS_PER_SECOND - UIP_LEAD_MS;
  }

  /** Sets UF, AF and PF for the updates and periodic ticks that happened up to `now`. */
  private advance(now: number): void {
    if (this.running()) {
      const second = Math.floor(this.timeMs(now) / MS_PER_SECOND);
      if (second > this.lastUpdateSecond) {
        this.regC |= C_UF;
        // A day of updates covers every alarm pattern (alarms compare hours, minutes, seconds).
        const first = Math.max(this.lastUpdateSecond + 1, second - SECONDS_PER_DAY);
        for (let s = first; s <= second; s++) {
          if (this.alarmMatches(s)) {
            this.regC |= C_AF;
            break;
          }
        }
      }
      this.lastUpdateSecond = second;
    }
    const period = this.periodNs();
    if (period > 0) {
      const ticks = Math.floor((now - this.periodicAnchorNs) / period);
      if (ticks > this.periodicSeen) {
        this.regC |= C_PF;
        this.periodicSeen = ticks;
      }
    }
    this.updateIrq();
  }

  /** Whether the alarm registers match guest second `s` (seconds since 1970, UTC). */
  private alarmMatches(s: number): boolean {
    const ofDay = ((s % SECONDS_PER_DAY) + SECONDS_PER_DAY) % SECONDS_PER_DAY;
    const matches = (alarm: number, now: number) => (alarm & ALARM_DONT_CARE) === ALARM_DONT_CARE || alarm === now;
    return (
      matches(this.ram[REG_SECONDS_ALARM], this.encode(ofDay % 60)) &&
      matches(this.ram[REG_MINUTES_ALARM], this.encode(Math.floor(ofDay / 60) % 60)) &&
      matches(this.ram[REG_HOURS_ALARM], this.encodeHour(Math.floor(ofDay / 3600)))
    );
  }

  private writeTimeField(index: number, value: number, now: number): void {
    const ms = this.timeMs(now);
    const d = new Date(ms);
    const fields = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
    const v = index === REG_HOURS ? this.decodeHour(value) : this.decode(value);
    switch (index) {
      case REG_SECONDS: fields[5] = v; break;
      case REG_MINUTES: fields[4] = v; break;
      case REG_HOURS: fields[3] = v; break;
      case REG_DAY_OF_MONTH: fields[2] = v; break;
      case REG_MONTH: fields[1] = v - 1; break;
      case REG_YEAR: fields[0] = fields[0] - (fields[0] % 100) + v; break;
      default: fields[0] = v * 100 + (fields[0] % 100); // century
    }
    const subSecond = ms - Math.floor(ms / MS_PER_SECOND) * MS_PER_SECOND;
    const [year, month, day, hours, minutes, seconds] = fields;
    this.setTimeMs(Date.UTC(year, month, day, hours, minutes, seconds) + subSecond, now);
  }

  private writeA(value: number, now: number): void {
    const wasRunning = this.running();
    const wasReset = this.dividerReset();
    const oldRate = this.regA & A_RATE_MASK;
    this.regA = value & ~A_UIP;
    this.changedRunning(wasRunning, now, wasReset && !this.dividerReset());
    if (oldRate !== (this.regA & A_RATE_MASK) || wasReset !== this.dividerReset()) {
      this.periodicAnchorNs = now;
      this.periodicSeen = 0;
    }
  }

  private writeB(value: number, now: number): void {
    const wasRunning = this.running();
    if (value & B_SET) value &= ~B_UIE; // SET disables update-ended interrupts
    this.regB = value;
    this.changedRunning(wasRunning, now, false);
    this.updateIrq();
  }

  /** Holds or releases the time when SET or the divider reset changed. */
  private changedRunning(wasRunning: boolean, now: number, fromDividerReset: boolean): void {
    const running = this.running();
    if (running === wasRunning) return;
    if (!running) {
      this.heldMs = this.timeMs(now);
      return;
    }
    let ms = this.heldMs ?? this.timeMs(now);
    if (fromDividerReset) ms = Math.floor(ms / MS_PER_SECOND) * MS_PER_SECOND + FIRST_UPDATE_DELAY_MS;
    this.heldMs = null;
    this.setTimeMs(ms, now);
  }

  private updateIrq(): void {
    if (this.regC & this.regB & C_FLAGS) this.regC |= C_IRQF;
    const level = (this.regC & C_IRQF) !== 0;
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.irq.set(level);
  }
}

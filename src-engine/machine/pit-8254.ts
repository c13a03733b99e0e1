/**
 * The 8254 programmable interval timer of the PC (ports 0x40-0x43) and system control port B
 * (port 0x61), through which software gates channel 2 and reads its output.
 *
 * References:
 * - Intel 8254 datasheet (231164): control word, modes 0-5, read/write of LSB/MSB, counter latch,
 *   read-back command and status byte, BCD counting, GATE behaviour per mode.
 * - IBM PC/AT Technical Reference: input clock 1.193182 MHz; channel 0 OUT -> IRQ0, channel 1 DRAM
 *   refresh (every 15.085 us), channel 2 -> speaker, its GATE and OUT on port 0x61 bits 0 and 5.
 * - QEMU hw/timer/i8254_common.c for what guests observe (counter value from elapsed time, mode 3
 *   decrementing by two, reset to mode 3 with count 0x10000).
 * - GRUB and Linux calibrate the TSC through channel 2 (spec/grub-iso-and-bios.md section 4.3):
 *   mode 0 with count 0xFFFF, gate on, spin until port 0x61 bit 5 (OUT2) reads 1.
 *
 * Time: the counter and OUT are computed from the injected clock (nanoseconds), never by counting
 * in a loop. `tick(now)` raises IRQ0 edges that fell due and returns the next one.
 */
import type { Clock, IoSize, IrqLine, Persistent, PortDevice, TimedDevice } from './device';
import { unconnectedIrq } from './device';
import { requireSaved, requireStateVersion } from './save-state';

// ---- Constants -----------------------------------------------------------------------------------

/** The PIT input clock of a PC in Hz (14.31818 MHz / 12). */
export const PIT_FREQUENCY_HZ = 1_193_182;
const NS_PER_SECOND = 1_000_000_000;
/** Number of counters. */
const CHANNEL_COUNT = 3;
/** Channel whose OUT drives IRQ0. */
const CHANNEL_IRQ0 = 0;
/** Channel gated and read through port 0x61. */
const CHANNEL_SPEAKER = 2;

/** Port offsets (A1 A0): counters 0-2, control word. */
const OFFSET_CONTROL = 3;
/** Control word SC field (bits 7-6); 3 is the read-back command. */
const CW_SELECT_SHIFT = 6;
const CW_SELECT_READBACK = 3;
/** Control word RW field (bits 5-4): 0 latch, 1 LSB only, 2 MSB only, 3 LSB then MSB. */
const CW_ACCESS_SHIFT = 4;
const ACCESS_LATCH = 0;
const ACCESS_LSB = 1;
const ACCESS_MSB = 2;
const ACCESS_WORD = 3;
/** Control word M field (bits 3-1); modes 6 and 7 are modes 2 and 3. */
const CW_MODE_SHIFT = 1;
const CW_MODE_MASK = 0x7;
/** Control word BCD bit. */
const CW_BCD = 0x01;
/** Read-back: COUNT bit (0 = latch the count), STATUS bit (0 = latch the status), CNT2-CNT0 bits 3-1. */
const RB_NO_COUNT = 0x20;
const RB_NO_STATUS = 0x10;
const RB_CHANNEL_SHIFT = 1;
/** Status byte: OUT (bit 7), NULL COUNT (bit 6); RW, M and BCD as in the control word. */
const STATUS_OUT = 0x80;
const STATUS_NULL_COUNT = 0x40;
/** A count of 0 means 2^16 in binary and 10^4 in BCD. */
const BINARY_RANGE = 0x10000;
const BCD_RANGE = 10000;

/** Port 0x61 bits (PC/AT system control port B). */
const PORTB_GATE2 = 0x01;
const PORTB_SPEAKER_DATA = 0x02;
/** Bits 2-3 (parity and I/O channel check disables) are stored and read back. */
const PORTB_WRITABLE = 0x0f;
const PORTB_REFRESH_TOGGLE = 0x10;
const PORTB_OUT2 = 0x20;
/** The refresh request (channel 1, count 18) toggles port 0x61 bit 4 every 15.085 us. */
const REFRESH_PERIOD_NS = 15_085;

/** Counter phases. */
type Phase =
  /** A control word was written; no count yet. */
  | 'idle'
  /** Modes 1 and 5: count loaded, waiting for a rising GATE edge. */
  | 'armed'
  | 'counting';

// ---- Clock arithmetic ----------------------------------------------------------------------------

/** Whole PIT clocks in `ns` nanoseconds (exact for ns up to 2^53, no overflow of the product). */
export function pitTicksIn(ns: number): number {
  if (ns <= 0) return 0;
  const seconds = Math.floor(ns / NS_PER_SECOND);
  const rest = ns - seconds * NS_PER_SECOND;
  return seconds * PIT_FREQUENCY_HZ + Math.floor((rest * PIT_FREQUENCY_HZ) / NS_PER_SECOND);
}

/** The fewest whole nanoseconds in which `ticks` PIT clocks have passed. */
export function pitNsFor(ticks: number): number {
  if (ticks <= 0) return 0;
  const seconds = Math.floor(ticks / PIT_FREQUENCY_HZ);
  const rest = ticks - seconds * PIT_FREQUENCY_HZ;
  let ns = seconds * NS_PER_SECOND + Math.ceil((rest * NS_PER_SECOND) / PIT_FREQUENCY_HZ);
  while (pitTicksIn(ns) < ticks) ns++;
  return ns;
}

function toBcd(value: number): number {
  return (value % 10) | (Math.floor(value / 10) % 10) << 4 | (Math.floor(value / 100) % 10) << 8 | (Math.floor(value / 1000) % 10) << 12;
}

function fromBcd(value: number): number {
  return (value & 0xf) + ((value >> 4) & 0xf) * 10 + ((value >> 8) & 0xf) * 100 + ((value >> 12) & 0xf) * 1000;
}

// ---- State ---------------------------------------------------------------------------------------

/** Saved state of one counter. Times are relative to the moment of saving. */
export interface Pit8254ChannelState {
  mode: number;
  access: number;
  bcd: boolean;
  /** Count last written (binary clocks, 1..0x10000). */
  reload: number;
  /** Count in use by the running countdown. */
  active: number;
  gate: boolean;
  phase: Phase;
  /** Clocks counted before the current run began (runs are split by a low GATE). */
  elapsed: number;
  /** Counting now (false while a low GATE holds it). */
  running: boolean;
  /** Nanoseconds the current run has lasted (0 unless running); restores the clock phase exactly. */
  runningForNs: number;
  /** OUT rising edges already delivered since the countdown started. */
  edgesSeen: number;
  /** Counter value shown while idle. */
  idleCount: number;
  writeLatch: number;
  writeHighNext: boolean;
  readHighNext: boolean;
  latchedCount: number | null;
  latchedHighNext: boolean;
  latchedStatus: number | null;
}

/** Saved state of the PIT and port 0x61. */
export interface Pit8254State {
  version: 1;
  channels: Pit8254ChannelState[];
  /** Port 0x61 bits 1-3 as last written. */
  portB: number;
}

/** Options of the PIT. */
export interface Pit8254Config {
  clock: Clock;
  /** Channel 0 OUT (ISA IRQ0). */
  irq0?: IrqLine;
}

function freshChannel(gate: boolean): Pit8254ChannelState {
  return {
    mode: 3, access: ACCESS_WORD, bcd: false, reload: BINARY_RANGE, active: BINARY_RANGE, gate, phase: 'counting',
    elapsed: 0, running: gate, runningForNs: 0, edgesSeen: 0, idleCount: 0, writeLatch: 0, writeHighNext: false, readHighNext: false,
    latchedCount: null, latchedHighNext: false, latchedStatus: null,
  };
}

// ---- One counter ---------------------------------------------------------------------------------

class Channel {
  s: Pit8254ChannelState;
  /** Clock time (ns) at which `s.elapsed` was taken, while running. */
  since = 0;

  constructor(gate: boolean, now: number) {
    this.s = freshChannel(gate);
    this.since = now;
  }

  elapsedAt(now: number): number {
    return this.s.running ? this.s.elapsed + pitTicksIn(now - this.since) : this.s.elapsed;
  }

  /** Stops the count at `now` (a low GATE); the clocks counted so far are kept. */
  private hold(now: number): void {
    this.s.elapsed = this.elapsedAt(now);
    this.s.running = false;
  }

  /** Continues a held count from `now`. */
  private resume(now: number): void {
    this.since = now;
    this.s.running = true;
  }

  start(now: number, running: boolean): void {
    const s = this.s;
    s.phase = 'counting';
    s.active = s.reload;
    s.elapsed = 0;
    s.edgesSeen = 0;
    s.running = running;
    this.since = now;
  }

  /** Modes 2 and 3 hold OUT high while GATE is low. */
  private gateForcesHigh(): boolean {
    return (this.s.mode === 2 || this.s.mode === 3) && !this.s.gate;
  }

  out(now: number): boolean {
    const s = this.s;
    if (s.phase === 'idle') return s.mode !== 0;
    if (s.phase === 'armed' || this.gateForcesHigh()) return true;
    const d = this.elapsedAt(now);
    const n = s.active;
    switch (s.mode) {
      case 0:
      case 1:
        return d >= n;
      case 2:
        return n < 2 || d % n !== n - 1;
      case 3:
        return d % n < Math.ceil(n / 2);
      default:
        return d !== n; // modes 4 and 5: one clock low at terminal count
    }
  }

  /** OUT rising edges from the start of the countdown to elapsed clock `d`. */
  private edgesAt(d: number): number {
    const n = this.s.active;
    switch (this.s.mode) {
      case 0:
      case 1:
        return d >= n ? 1 : 0;
      case 2:
      case 3:
        return Math.floor(d / n);
      default:
        return d >= n + 1 ? 1 : 0;
    }
  }

  /** The elapsed clock of the next OUT rising edge after `d`, or Infinity. */
  private nextEdgeAfter(d: number): number {
    const n = this.s.active;
    switch (this.s.mode) {
      case 0:
      case 1:
        return d < n ? n : Infinity;
      case 2:
      case 3:
        return (Math.floor(d / n) + 1) * n;
      default:
        return d < n + 1 ? n + 1 : Infinity;
    }
  }

  /** Rising edges that happened and were not yet delivered (and marks them delivered). */
  takeEdges(now: number): number {
    const s = this.s;
    if (s.phase !== 'counting' || this.gateForcesHigh()) return 0;
    const edges = this.edgesAt(this.elapsedAt(now));
    const fresh = Math.max(0, edges - s.edgesSeen);
    s.edgesSeen = Math.max(edges, s.edgesSeen);
    return fresh;
  }

  /** Clock time of the next OUT rising edge, or Infinity if none will come without an access. */
  nextEdgeTime(now: number): number {
    const s = this.s;
    if (s.phase !== 'counting' || !s.running) return Infinity;
    const next = this.nextEdgeAfter(this.elapsedAt(now));
    if (next === Infinity) return Infinity;
    // Whole nanoseconds from a whole start time, so that tick(deadline) surely sees the edge.
    return Math.ceil(this.since) + pitNsFor(next - s.elapsed);
  }

  /** The counter's value now, binary (0 stands for 0x10000 or 10000). */
  counter(now: number): number {
    const s = this.s;
    if (s.phase === 'idle') return s.idleCount;
    if (s.phase === 'armed') return s.reload % this.range();
    const d = this.elapsedAt(now);
    const n = s.active;
    const range = this.range();
    switch (s.mode) {
      case 2:
        return (n - (d % n)) % range;
      case 3:
        return (n - ((2 * d) % n)) % range;
      default:
        return (((n - d) % range) + range) % range;
    }
  }

  range(): number {
    return this.s.bcd ? BCD_RANGE : BINARY_RANGE;
  }

  /** The counter in the format software reads it (BCD if so programmed). */
  readable(now: number): number {
    const value = this.counter(now);
    return this.s.bcd ? toBcd(value) : value;
  }

  status(now: number): number {
    const s = this.s;
    return (
      (this.out(now) ? STATUS_OUT : 0) |
      (s.phase !== 'counting' ? STATUS_NULL_COUNT : 0) |
      (s.access << CW_ACCESS_SHIFT) |
      (s.mode << CW_MODE_SHIFT) |
      (s.bcd ? CW_BCD : 0)
    );
  }

  latchCount(now: number): void {
    if (this.s.latchedCount !== null) return; // a latched count is held until read
    this.s.latchedCount = this.readable(now);
    this.s.latchedHighNext = false;
  }

  latchStatus(now: number): void {
    if (this.s.latchedStatus === null) this.s.latchedStatus = this.status(now);
  }

  program(controlWord: number, now: number): void {
    const s = this.s;
    s.idleCount = this.counter(now);
    s.access = (controlWord >> CW_ACCESS_SHIFT) & 3;
    const mode = (controlWord >> CW_MODE_SHIFT) & CW_MODE_MASK;
    s.mode = mode > 5 ? mode - 4 : mode;
    s.bcd = (controlWord & CW_BCD) !== 0;
    s.phase = 'idle';
    s.running = false;
    s.writeHighNext = false;
    s.readHighNext = false;
    s.latchedCount = null;
    s.latchedStatus = null;
  }

  readData(now: number): number {
    const s = this.s;
    if (s.latchedStatus !== null) {
      const status = s.latchedStatus;
      s.latchedStatus = null;
      return status;
    }
    if (s.latchedCount !== null) {
      const value = s.latchedCount;
      if (s.access === ACCESS_WORD && !s.latchedHighNext) {
        s.latchedHighNext = true;
        return value & 0xff;
      }
      s.latchedCount = null;
      return s.access === ACCESS_LSB ? value & 0xff : value >> 8;
    }
    const value = this.readable(now);
    if (s.access === ACCESS_LSB) return value & 0xff;
    if (s.access === ACCESS_MSB) return value >> 8;
    s.readHighNext = !s.readHighNext;
    return s.readHighNext ? value & 0xff : value >> 8;
  }

  writeData(byte: number, now: number): void {
    const s = this.s;
    let value: number;
    if (s.access === ACCESS_LSB) value = byte;
    else if (s.access === ACCESS_MSB) value = byte << 8;
    else if (!s.writeHighNext) {
      s.writeLatch = byte;
      s.writeHighNext = true;
      // Mode 0: writing the first byte stops the count (OUT stays low).
      if (s.mode === 0) {
        s.idleCount = this.counter(now);
        s.phase = 'idle';
        s.running = false;
      }
      return;
    } else {
      value = s.writeLatch | (byte << 8);
      s.writeHighNext = false;
    }
    this.load(value, now);
  }

  private load(raw: number, now: number): void {
    const s = this.s;
    const count = s.bcd ? fromBcd(raw) : raw;
    s.reload = count === 0 ? this.range() : count;
    if (s.mode === 1 || s.mode === 5) {
      if (s.phase === 'idle') s.phase = 'armed'; // the next GATE edge starts it
      return;
    }
    this.start(now, s.gate); // a low GATE holds modes 0, 2, 3 and 4 until it rises
  }

  setGate(level: boolean, now: number): void {
    const s = this.s;
    if (level === s.gate) return;
    s.gate = level;
    if (s.phase === 'idle') return;
    switch (s.mode) {
      case 0:
      case 4: // a low GATE suspends counting, a high one continues it
        if (!level) this.hold(now);
        else if (s.phase === 'counting') this.resume(now);
        break;
      case 1:
      case 5: // the rising edge (re)triggers; a low GATE does not matter
        if (level) this.start(now, true);
        break;
      default: // 2, 3: a low GATE stops the count and holds OUT high; the rising edge reloads
        if (level) this.start(now, true);
        else this.hold(now);
    }
  }
}

// ---- The device ----------------------------------------------------------------------------------

/** The 8254 PIT with port 0x61. Place `this` at 0x40 (4 ports) and `portB` at 0x61. */
export class Pit8254 implements PortDevice, TimedDevice, Persistent<Pit8254State> {
  readonly name = 'pit';
  /** System control port B (0x61): channel 2 gate, speaker data, refresh toggle, OUT2. */
  readonly portB: PortDevice;

  private readonly clock: Clock;
  private readonly irq0: IrqLine;
  private channels: Channel[] = [];
  private portBBits = 0;
  private irqLevel = false;

  constructor(config: Pit8254Config) {
    this.clock = config.clock;
    this.irq0 = config.irq0 ?? unconnectedIrq;
    this.portB = {
      name: 'system-control-b',
      ioRead: () => this.readPortB(),
      ioWrite: (_port: number, _size: IoSize, value: number) => this.writePortB(value),
    };
    this.reset();
  }

  /** Power-on state as QEMU gives it: every channel mode 3, count 0x10000; GATE2 low. */
  reset(): void {
    const now = this.clock.now();
    this.channels = Array.from({ length: CHANNEL_COUNT }, (_, i) => new Channel(i !== CHANNEL_SPEAKER, now));
    this.portBBits = 0;
    this.syncIrq(now);
  }

  ioRead(port: number): number {
    const offset = port & 3;
    if (offset === OFFSET_CONTROL) return 0xff; // the control register is write-only
    return this.channels[offset].readData(this.clock.now());
  }

  ioWrite(port: number, _size: IoSize, value: number): void {
    const now = this.clock.now();
    const offset = port & 3;
    value &= 0xff;
    if (offset !== OFFSET_CONTROL) {
      this.channels[offset].writeData(value, now);
    } else {
      const select = value >> CW_SELECT_SHIFT;
      if (select === CW_SELECT_READBACK) this.readBack(value, now);
      else if (((value >> CW_ACCESS_SHIFT) & 3) === ACCESS_LATCH) this.channels[select].latchCount(now);
      else this.channels[select].program(value, now);
    }
    this.syncIrq(now);
  }

  /** Brings IRQ0 up to `now` and returns when its next rising edge is due. */
  tick(now: number): number {
    this.syncIrq(now);
    return this.channels[CHANNEL_IRQ0].nextEdgeTime(now);
  }

  /**
   * IRQ 0's period in PIT clocks while channel 0 ticks periodically (mode 2 or 3, counting, GATE
   * high), else 0. With irq0NextEdge it tells the hypervisor when the next ticks come, so that a
   * pCPU may take them itself (docs/architecture.md, "Timer interrupts on the pCPU"). Changes nothing.
   */
  irq0Period(): number {
    const s = this.channels[CHANNEL_IRQ0].s;
    if (s.phase !== 'counting' || !s.running || !s.gate || (s.mode !== 2 && s.mode !== 3)) return 0;
    return s.active;
  }

  /** When IRQ 0's next rising edge is due after `now` (ns; Infinity if none comes without an access). Changes nothing. */
  irq0NextEdge(now: number): number {
    return this.channels[CHANNEL_IRQ0].nextEdgeTime(now);
  }

  /** OUT of a channel now (channel 2's is port 0x61 bit 5). */
  out(channel: number): boolean {
    return this.channels[channel].out(this.clock.now());
  }

  /** Drives a channel's GATE (only channel 2's is wired to anything on a PC: port 0x61 bit 0). */
  setGate(channel: number, level: boolean): void {
    const now = this.clock.now();
    this.channels[channel].setGate(level, now);
    this.syncIrq(now);
  }

  saveState(): Pit8254State {
    const now = this.clock.now();
    return {
      version: 1,
      channels: this.channels.map((ch) => ({ ...ch.s, runningForNs: ch.s.running ? now - ch.since : 0 })),
      portB: this.portBBits,
    };
  }

  loadState(state: Pit8254State): void {
    requireStateVersion(state, 1, 'the 8254 PIT');
    requireSaved(Array.isArray(state.channels) && state.channels.length === CHANNEL_COUNT, 'the 8254 PIT', 'channels');
    const now = this.clock.now();
    this.channels = state.channels.map((saved) => {
      const ch = new Channel(saved.gate, now);
      ch.s = { ...saved };
      ch.since = now - saved.runningForNs;
      return ch;
    });
    this.portBBits = state.portB & PORTB_WRITABLE;
    this.irqLevel = this.channels[CHANNEL_IRQ0].out(now);
    this.irq0.set(this.irqLevel);
  }

  private readBack(value: number, now: number): void {
    for (let i = 0; i < CHANNEL_COUNT; i++) {
      if (!(value & (1 << (i + RB_CHANNEL_SHIFT)))) continue;
      if (!(value & RB_NO_STATUS)) this.channels[i].latchStatus(now);
      if (!(value & RB_NO_COUNT)) this.channels[i].latchCount(now);
    }
  }

  private readPortB(): number {
    const now = this.clock.now();
    const refresh = Math.floor(now / REFRESH_PERIOD_NS) & 1;
    return (
      (this.portBBits & PORTB_WRITABLE & ~PORTB_GATE2) |
      (this.channels[CHANNEL_SPEAKER].s.gate ? PORTB_GATE2 : 0) |
      (refresh ? PORTB_REFRESH_TOGGLE : 0) |
      (this.channels[CHANNEL_SPEAKER].out(now) ? PORTB_OUT2 : 0)
    );
  }

  private writePortB(value: number): void {
    this.portBBits = value & PORTB_WRITABLE;
    this.setGate(CHANNEL_SPEAKER, (value & PORTB_GATE2) !== 0);
  }

  /** True while the speaker is driven (GATE2 and speaker data both on). */
  speakerEnabled(): boolean {
    return (this.portBBits & (PORTB_GATE2 | PORTB_SPEAKER_DATA)) === (PORTB_GATE2 | PORTB_SPEAKER_DATA);
  }

  /**
   * Makes the IRQ0 line follow channel 0's OUT, and turns every rising edge that fell due since the
   * last call into a visible low-to-high transition even if the host was too late to see OUT low.
   */
  private syncIrq(now: number): void {
    const channel = this.channels[CHANNEL_IRQ0];
    if (channel.takeEdges(now) > 0) {
      if (this.irqLevel) this.irq0.set(false);
      this.irq0.set(true);
      this.irqLevel = true;
    }
    const out = channel.out(now);
    if (out !== this.irqLevel) {
      this.irqLevel = out;
      this.irq0.set(out);
    }
  }
}

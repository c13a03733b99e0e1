/**
 * INT 1Ah time of day and the IRQ0 (INT 08h) timer handler.
 *
 * The BDA tick count (0x46C, 18.2 Hz since midnight) follows the domain's clock rather than
 * counting interrupts, so it stays right when the guest masks IRQ0 or runs with interrupts off;
 * the IRQ0 handler and INT 1Ah refresh it. The real-time clock functions read and write the
 * MC146818 CMOS through ports 0x70/0x71, in the BCD format it keeps.
 *
 * References: RBIL INT 1Ah and INT 08h; IBM PC/AT Technical Reference (1193180 / 65536 ticks per
 * second, 1800B0h ticks a day); MC146818A datasheet (registers 0-9, A, B).
 */
import type { BiosCall } from './call';
import type { BiosContext, BiosService } from './service';
import { BDA, BDA_BASE } from './layout';

/** INT 1Ah. */
const V = 0x1a;
/** Timer ticks per day and per second (PIT input clock / 65536). */
export const TICKS_PER_DAY = 0x1800b0;
const PIT_HZ = 1193182;
const TICK_NS = (65536 / PIT_HZ) * 1e9;
const MS_PER_DAY = 86_400_000;
/** CMOS index/data ports and registers. */
const CMOS_INDEX = 0x70;
const CMOS_DATA = 0x71;
const RTC_SECONDS = 0x00;
const RTC_MINUTES = 0x02;
const RTC_HOURS = 0x04;
const RTC_DAY = 0x07;
const RTC_MONTH = 0x08;
const RTC_YEAR = 0x09;
const RTC_STATUS_A = 0x0a;
const RTC_STATUS_B = 0x0b;
/** IBM century byte in CMOS. */
const RTC_CENTURY = 0x32;
/** Status A: update in progress. Status B: daylight saving enable, SET (halt updates). */
const RTC_UIP = 0x80;
const RTC_DSE = 0x01;
const RTC_SET = 0x80;
/** Reads of status A to wait out an update in progress (an update lasts < 2 ms of RTC time). */
const UIP_POLLS = 1000;
/** PCI BIOS status: function not supported (no PCI bus on this platform). */
const PCI_UNSUPPORTED = 0x81;

/** The tick counter the BIOS keeps: ticks since midnight of the clock, plus what the guest set. */
export class TickClock {
  /** Ticks added by INT 1Ah AH=01h (set count). */
  private offset = 0;
  private last = -1;

  constructor(private readonly wallMs: () => number) {}

  private raw(): number {
    const ms = this.wallMs();
    return Math.floor(((ms % MS_PER_DAY) * 1e6) / TICK_NS);
  }

  /** Ticks since midnight now; sets the BDA midnight flag when the count wrapped. */
  update(bios: BiosContext): number {
    const m = bios.host.memory;
    const t = (((this.raw() + this.offset) % TICKS_PER_DAY) + TICKS_PER_DAY) % TICKS_PER_DAY;
    if (this.last >= 0 && t < this.last) m.writeU8(BDA_BASE + BDA.midnight, 1);
    this.last = t;
    m.writeU32(BDA_BASE + BDA.ticks, t);
    return t;
  }

  /** INT 1Ah AH=01h. */
  set(ticks: number): void {
    this.offset = ticks - this.raw();
    this.last = -1;
  }

  /** Nanoseconds per tick. */
  static readonly tickNs = TICK_NS;
}

function cmosRead(bios: BiosContext, reg: number): number {
  bios.host.ioWrite(CMOS_INDEX, 1, reg);
  return bios.host.ioRead(CMOS_DATA, 1);
}

function cmosWrite(bios: BiosContext, reg: number, value: number): void {
  bios.host.ioWrite(CMOS_INDEX, 1, reg);
  bios.host.ioWrite(CMOS_DATA, 1, value & 0xff);
}

/** Waits until the RTC is not updating; false if it never settles (CF=1 for the caller). */
function rtcReady(bios: BiosContext): boolean {
  for (let i = 0; i < UIP_POLLS; i++) if ((cmosRead(bios, RTC_STATUS_A) & RTC_UIP) === 0) return true;
  return false;
}

function readTime(c: BiosCall, bios: BiosContext): void {
  if (!rtcReady(bios)) return void (c.carry = true);
  c.dh = cmosRead(bios, RTC_SECONDS);
  c.cl = cmosRead(bios, RTC_MINUTES);
  c.ch = cmosRead(bios, RTC_HOURS);
  c.dl = cmosRead(bios, RTC_STATUS_B) & RTC_DSE;
  c.ah = 0;
  c.carry = false;
}

function setTime(c: BiosCall, bios: BiosContext): void {
  const b = cmosRead(bios, RTC_STATUS_B);
  cmosWrite(bios, RTC_STATUS_B, b | RTC_SET);
  cmosWrite(bios, RTC_SECONDS, c.dh);
  cmosWrite(bios, RTC_MINUTES, c.cl);
  cmosWrite(bios, RTC_HOURS, c.ch);
  cmosWrite(bios, RTC_STATUS_B, (b & ~(RTC_SET | RTC_DSE)) | (c.dl & RTC_DSE));
  c.ah = 0;
  c.carry = false;
}

function readDate(c: BiosCall, bios: BiosContext): void {
  if (!rtcReady(bios)) return void (c.carry = true);
  c.dl = cmosRead(bios, RTC_DAY);
  c.dh = cmosRead(bios, RTC_MONTH);
  c.cl = cmosRead(bios, RTC_YEAR);
  c.ch = cmosRead(bios, RTC_CENTURY);
  c.ah = 0;
  c.carry = false;
}

function setDate(c: BiosCall, bios: BiosContext): void {
  const b = cmosRead(bios, RTC_STATUS_B);
  cmosWrite(bios, RTC_STATUS_B, b | RTC_SET);
  cmosWrite(bios, RTC_DAY, c.dl);
  cmosWrite(bios, RTC_MONTH, c.dh);
  cmosWrite(bios, RTC_YEAR, c.cl);
  cmosWrite(bios, RTC_CENTURY, c.ch);
  cmosWrite(bios, RTC_STATUS_B, b & ~RTC_SET);
  c.ah = 0;
  c.carry = false;
}

/** INT 1Ah catalogue (and the IRQ0 handler). */
export function timeServices(ticks: TickClock): BiosService[] {
  return [
    {
      vector: V, ah: 0x00, name: 'get tick count', status: 'supported', contract: '-> CX:DX=ticks since midnight (18.2 Hz), AL=midnight-passed flag (then cleared), CF=0.',
      run: (c, b) => {
        const t = ticks.update(b);
        const m = b.host.memory;
        c.cx = Math.floor(t / 0x10000);
        c.dx = t & 0xffff;
        c.al = m.readU8(BDA_BASE + BDA.midnight);
        m.writeU8(BDA_BASE + BDA.midnight, 0);
        c.carry = false;
      },
    },
    {
      vector: V, ah: 0x01, name: 'set tick count', status: 'supported', contract: 'CX:DX=ticks -> CF=0.',
      run: (c, b) => {
        ticks.set((c.cx * 0x10000 + c.dx) % TICKS_PER_DAY);
        b.host.memory.writeU8(BDA_BASE + BDA.midnight, 0);
        ticks.update(b);
        c.carry = false;
      },
    },
    { vector: V, ah: 0x02, name: 'read RTC time', status: 'supported', contract: '-> CH=hours, CL=minutes, DH=seconds (BCD), DL=daylight saving flag, CF=0 (CF=1 if the clock is stuck updating).', run: readTime },
    { vector: V, ah: 0x03, name: 'set RTC time', status: 'supported', contract: 'CH, CL, DH (BCD), DL=daylight saving -> CF=0.', run: setTime },
    { vector: V, ah: 0x04, name: 'read RTC date', status: 'supported', contract: '-> CH=century, CL=year, DH=month, DL=day (BCD), CF=0.', run: readDate },
    { vector: V, ah: 0x05, name: 'set RTC date', status: 'supported', contract: 'CH, CL, DH, DL (BCD) -> CF=0.', run: setDate },
    { vector: V, ah: 0x06, name: 'set RTC alarm', status: 'not-yet', contract: 'CF=1.' },
    { vector: V, ah: 0x07, name: 'cancel RTC alarm', status: 'not-yet', contract: 'CF=1.' },
    { vector: V, ah: 0xb1, name: 'PCI BIOS', status: 'not-yet', contract: 'No PCI bus: AH=81h, CF=1.', run: (c) => c.status(PCI_UNSUPPORTED) },
    { vector: 0x08, name: 'timer interrupt (IRQ0)', status: 'supported', contract: 'Brings the BDA tick count up to date; the ROM stub calls INT 1Ch and sends the EOI.', run: (_c, b) => void ticks.update(b) },
  ];
}

/** What INT 1Ah does with a function it does not have. */
export function timeUnsupported(c: BiosCall): void {
  c.carry = true;
}

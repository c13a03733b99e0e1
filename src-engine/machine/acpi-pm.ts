/**
 * ACPI fixed hardware of the PC's power management block: PM1a event and control registers, the
 * PM timer and the GPE0 block, with the SCI on ISA IRQ 9. GPE0 events come from other devices
 * through `raiseGpe` (bit 2: CPU hotplug, machine/acpi-cpu-hotplug.ts).
 *
 * References:
 * - ACPI Specification 6.5, 4.8 "ACPI Hardware Model": PM1 status (TMR_STS bit 0, BM_STS 4,
 *   GBL_STS 5, PWRBTN_STS 8, SLPBTN_STS 9, RTC_STS 10, WAK_STS 15; write 1 to clear), PM1 enable,
 *   PM1 control (SCI_EN bit 0, BM_RLD 1, GBL_RLS 2, SLP_TYPx bits 12-10, SLP_ENx bit 13, write-only),
 *   the PM timer (24-bit here, TMR_VAL_EXT = 0, 3.579545 MHz, TMR_STS on every change of bit 23),
 *   GPE0 status/enable halves; 7.4.2 \_S5 gives the SLP_TYP value for soft-off.
 * - QEMU hw/acpi/core.c acpi_pm1_cnt_write: SLP_EN with SLP_TYP 0 is soft power-off. We use the
 *   same value (the DSDT's \_S5 package says 0), so the well-known `outw(0x604, 0x2000)` that
 *   test kernels use on QEMU powers the domain off here too.
 *
 * Ports (our choice, the layout of QEMU's q35 PM base 0x600):
 *   0x600-0x603  PM1a_EVT_BLK (status word, enable word)
 *   0x604-0x605  PM1a_CNT_BLK
 *   0x608-0x60B  PM_TMR_BLK
 *   0x620-0x623  GPE0_BLK (status word, enable word)
 * The FADT (firmware/tables) points at these. ACPI mode is on from reset (SCI_EN = 1) and the
 * FADT's SMI_CMD is 0, so no SMI handshake is needed. Register the device with width `any`:
 * a 32-bit PM timer read must not be split into four byte reads of a moving counter.
 */
import type { Clock, IoSize, IrqLine, Persistent, PortDevice, TimedDevice } from './device';
import { requireStateVersion } from './save-state';

/** PM base (our choice, as QEMU's q35). */
export const ACPI_PM_BASE = 0x600;
/** PM1a event block (status word, enable word). */
export const ACPI_PM1A_EVT_BLK = ACPI_PM_BASE;
/** Ports of the PM1a event block. */
export const ACPI_PM1_EVT_LEN = 4;
/** PM1a control block. */
export const ACPI_PM1A_CNT_BLK = ACPI_PM_BASE + 4;
/** Ports of the PM1a control block. */
export const ACPI_PM1_CNT_LEN = 2;
/** PM timer block. */
export const ACPI_PM_TMR_BLK = ACPI_PM_BASE + 8;
/** Ports of the PM timer block. */
export const ACPI_PM_TMR_LEN = 4;
/** GPE0 block (status word, enable word). */
export const ACPI_GPE0_BLK = ACPI_PM_BASE + 0x20;
/** Ports of the GPE0 block. */
export const ACPI_GPE0_BLK_LEN = 4;
/** GPE0 events: the status half of the block is 2 bytes. */
const GPE0_BITS = (ACPI_GPE0_BLK_LEN / 2) * 8;
/** The SCI's ISA IRQ (level, active high: the MADT says so in an interrupt source override). */
export const ACPI_SCI_IRQ = 9;
/** PM timer frequency in Hz. */
export const ACPI_PM_TIMER_HZ = 3_579_545;
/** SLP_TYP value of S5 (soft-off), as the DSDT's \_S5 package gives it. */
export const ACPI_SLP_TYP_S5 = 0;

// PM1 status / enable bits.
/** PM1 status/enable bit 0: TMR_STS / TMR_EN. */
export const PM1_TMR = 0x0001;
/** PM1 status bit 4: BM_STS (bus master activity; never set here). */
export const PM1_BM_STS = 0x0010;
/** PM1 status/enable bit 5: GBL_STS / GBL_EN (global lock release). */
export const PM1_GBL = 0x0020;
/** PM1 status/enable bit 8: PWRBTN_STS / PWRBTN_EN. */
export const PM1_PWRBTN = 0x0100;
/** PM1 status/enable bit 9: SLPBTN_STS / SLPBTN_EN. */
export const PM1_SLPBTN = 0x0200;
/** PM1 status/enable bit 10: RTC_STS / RTC_EN. */
export const PM1_RTC = 0x0400;
/** PM1 status bit 15: WAK_STS. */
export const PM1_WAK_STS = 0x8000;
/** Status bits that can raise the SCI when enabled. */
const PM1_SCI_SOURCES = PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | PM1_RTC;
/** Enable bits that exist. */
const PM1_ENABLE_WRITABLE = PM1_SCI_SOURCES;
// PM1 control bits.
/** PM1 control bit 0: SCI_EN (power management events raise the SCI). */
export const PM1_CNT_SCI_EN = 0x0001;
/** PM1 control bit 13: SLP_EN (write-only: enter the sleep state SLP_TYP names). */
export const PM1_CNT_SLP_EN = 0x2000;
const PM1_CNT_SLP_TYP_SHIFT = 10;
const PM1_CNT_SLP_TYP_MASK = 0x7;
/** Control bits software may write and read back (SLP_EN always reads 0). */
const PM1_CNT_WRITABLE = 0x1c07;
/** The PM timer is 24 bits wide. */
const PM_TIMER_MASK = 0xffffff;
/** TMR_STS is set whenever bit 23 of the timer changes: every 2^23 ticks. */
const PM_TIMER_STATUS_PERIOD = 0x800000;
const NS_PER_SECOND = 1_000_000_000;
const BYTE_BITS = 8;
const SIZE_MASK: Readonly<Record<IoSize, number>> = { 1: 0xff, 2: 0xffff, 4: 0xffffffff };

/** PM timer ticks in `ns` nanoseconds (exact for any ns below 2^53). */
export function pmTimerTicks(ns: number): number {
  const seconds = Math.floor(ns / NS_PER_SECOND);
  const rest = ns - seconds * NS_PER_SECOND;
  return seconds * ACPI_PM_TIMER_HZ + Math.floor((rest * ACPI_PM_TIMER_HZ) / NS_PER_SECOND);
}

/** The fewest whole nanoseconds after which `ticks` PM timer ticks have passed. */
function pmTimerNs(ticks: number): number {
  const seconds = Math.floor(ticks / ACPI_PM_TIMER_HZ);
  const rest = ticks - seconds * ACPI_PM_TIMER_HZ;
  let ns = seconds * NS_PER_SECOND + Math.ceil((rest * NS_PER_SECOND) / ACPI_PM_TIMER_HZ);
  while (pmTimerTicks(ns) < ticks) ns++;
  return ns;
}

/** Saved state of the ACPI PM block. */
export interface AcpiPmState {
  version: 1;
  status: number;
  enable: number;
  control: number;
  gpeStatus: number;
  gpeEnable: number;
  /** PM timer value (full count, not wrapped) at saving. */
  timerTicks: number;
}

/** Options of the ACPI PM block. */
export interface AcpiPmConfig {
  clock: Clock;
  /** The SCI (ISA IRQ 9). */
  sci: IrqLine;
  /** The guest entered S5 (SLP_EN with SLP_TYP = ACPI_SLP_TYP_S5): power the domain off. */
  onPowerOff: () => void;
}

/** The ACPI PM block. Register its four blocks with `registerPorts`. */
export class AcpiPm implements PortDevice, TimedDevice, Persistent<AcpiPmState> {
  readonly name = 'acpi-pm';
  private status = 0;
  private enable = 0;
  private control = PM1_CNT_SCI_EN;
  private gpeStatus = 0;
  private gpeEnable = 0;
  /** Added to the clock's tick count (restores keep the timer where it was). */
  private tickOffset = 0;
  /** Number of bit-23 changes already turned into TMR_STS. */
  private timerPeriodsSeen: number;
  private sciLevel = false;
  private readonly clock: Clock;
  private readonly sci: IrqLine;
  private readonly onPowerOff: () => void;

  constructor(config: AcpiPmConfig) {
    this.clock = config.clock;
    this.sci = config.sci;
    this.onPowerOff = config.onPowerOff;
    this.timerPeriodsSeen = Math.floor(this.ticks(this.clock.now()) / PM_TIMER_STATUS_PERIOD);
  }

  /** The ranges to place on the port bus (all with width `any`). */
  static readonly RANGES: readonly [base: number, count: number][] = [
    [ACPI_PM1A_EVT_BLK, ACPI_PM1_EVT_LEN],
    [ACPI_PM1A_CNT_BLK, ACPI_PM1_CNT_LEN],
    [ACPI_PM_TMR_BLK, ACPI_PM_TMR_LEN],
    [ACPI_GPE0_BLK, ACPI_GPE0_BLK_LEN],
  ];

  /**
   * A general-purpose event: sets GPE0 status bit `bit` (0-15) and raises the SCI if the guest
   * enabled that GPE. The guest clears the status bit by writing 1 to it.
   */
  raiseGpe(bit: number): void {
    if (!Number.isInteger(bit) || bit < 0 || bit >= GPE0_BITS) throw new RangeError(`GPE0 has bits 0 to ${GPE0_BITS - 1}, not ${bit}`);
    this.gpeStatus |= 1 << bit;
    this.updateSci();
  }

  /** The PM timer register (24 bits) at engine time `now`. */
  timerValue(now = this.clock.now()): number {
    return this.ticks(now) & PM_TIMER_MASK;
  }

  /** The power button was pressed (e.g. `xl shutdown`): PWRBTN_STS, and the SCI if enabled. */
  pressPowerButton(): void {
    this.status |= PM1_PWRBTN;
    this.updateSci();
  }

  ioRead(port: number, size: IoSize): number {
    this.updateTimerStatus(this.clock.now());
    const [base, dword] = this.block(port);
    return ((dword >>> ((port - base) * BYTE_BITS)) & SIZE_MASK[size]) >>> 0;
  }

  ioWrite(port: number, size: IoSize, value: number): void {
    const [base] = this.block(port);
    const shift = (port - base) * BYTE_BITS;
    const mask = (SIZE_MASK[size] * 2 ** shift) % 2 ** 32;
    const bits = ((value & SIZE_MASK[size]) * 2 ** shift) % 2 ** 32;
    if (base === ACPI_PM1A_EVT_BLK) {
      this.status &= ~(bits & mask & 0xffff);
      if (mask >>> 16) this.enable = ((this.enable & ~(mask >>> 16)) | (bits >>> 16)) & PM1_ENABLE_WRITABLE;
    } else if (base === ACPI_PM1A_CNT_BLK) {
      this.writeControl(((this.control & ~mask) | (bits & mask)) & 0xffff, (bits & mask & PM1_CNT_SLP_EN) !== 0);
    } else if (base === ACPI_GPE0_BLK) {
      this.gpeStatus &= ~(bits & mask & 0xffff);
      if (mask >>> 16) this.gpeEnable = (this.gpeEnable & ~(mask >>> 16)) | (bits >>> 16);
    }
    this.updateSci();
  }

  /** Raises TMR_STS at the next bit-23 change while the timer's SCI is enabled. */
  tick(now: number): number {
    this.updateTimerStatus(now);
    this.updateSci();
    if ((this.enable & PM1_TMR) === 0) return Infinity;
    const next = (this.timerPeriodsSeen + 1) * PM_TIMER_STATUS_PERIOD - this.tickOffset;
    return pmTimerNs(Math.max(0, next));
  }

  /** Power-on state: events cleared and disabled, ACPI mode on. */
  reset(): void {
    this.status = 0;
    this.enable = 0;
    this.control = PM1_CNT_SCI_EN;
    this.gpeStatus = 0;
    this.gpeEnable = 0;
    this.updateSci();
  }

  saveState(): AcpiPmState {
    const now = this.clock.now();
    return {
      version: 1, status: this.status, enable: this.enable, control: this.control,
      gpeStatus: this.gpeStatus, gpeEnable: this.gpeEnable, timerTicks: this.ticks(now),
    };
  }

  loadState(state: AcpiPmState): void {
    requireStateVersion(state, 1, 'the ACPI power management block');
    this.status = state.status;
    this.enable = state.enable;
    this.control = state.control;
    this.gpeStatus = state.gpeStatus;
    this.gpeEnable = state.gpeEnable;
    this.tickOffset = state.timerTicks - pmTimerTicks(this.clock.now());
    this.timerPeriodsSeen = Math.floor(state.timerTicks / PM_TIMER_STATUS_PERIOD);
    this.updateSci();
  }

  private ticks(now: number): number {
    return pmTimerTicks(now) + this.tickOffset;
  }

  /** The block `port` belongs to and its registers as one little-endian dword. */
  private block(port: number): [base: number, dword: number] {
    if (port < ACPI_PM1A_CNT_BLK) return [ACPI_PM1A_EVT_BLK, (this.status | (this.enable << 16)) >>> 0];
    if (port < ACPI_PM_TMR_BLK) return [ACPI_PM1A_CNT_BLK, this.control];
    if (port < ACPI_GPE0_BLK) return [ACPI_PM_TMR_BLK, this.timerValue()];
    return [ACPI_GPE0_BLK, (this.gpeStatus | (this.gpeEnable << 16)) >>> 0];
  }

  private writeControl(value: number, sleepEnable: boolean): void {
    this.control = value & PM1_CNT_WRITABLE;
    if (!sleepEnable) return;
    const slpTyp = (value >>> PM1_CNT_SLP_TYP_SHIFT) & PM1_CNT_SLP_TYP_MASK;
    if (slpTyp === ACPI_SLP_TYP_S5) this.onPowerOff();
    // Other sleep states are not offered (the DSDT has only \_S5); the request is ignored.
  }

  private updateTimerStatus(now: number): void {
    const periods = Math.floor(this.ticks(now) / PM_TIMER_STATUS_PERIOD);
    if (periods !== this.timerPeriodsSeen) {
      this.timerPeriodsSeen = periods;
      this.status |= PM1_TMR;
    }
  }

  private updateSci(): void {
    const level =
      (this.control & PM1_CNT_SCI_EN) !== 0 &&
      ((this.status & this.enable & PM1_SCI_SOURCES) !== 0 || (this.gpeStatus & this.gpeEnable) !== 0);
    if (level === this.sciLevel) return;
    this.sciLevel = level;
    this.sci.set(level);
  }
}

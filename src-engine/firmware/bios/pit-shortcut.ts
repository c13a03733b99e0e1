/**
 * GRUB's TSC calibration without the 55 ms wait.
 *
 * GRUB 2.06 (grub-core/kern/i386/tsc_pit.c) calibrates the TSC like this: port 0x61 gate and
 * speaker off; control word B0h (channel 2, lobyte/hibyte, mode 0, binary); count FFh FFh; gate
 * on; then it spins until port 0x61 bit 5 (OUT2) reads 1 and divides the TSC ticks that passed by
 * 55 ms. Emulated, that spin costs 55 ms of real time on every boot.
 *
 * The spec's trick (make bit 5 read 1 at once) is sound only in part: GRUB then sees "no PIT",
 * falls back to a hard-coded 800 MHz TSC, and its clock runs 25% fast on our 1 GHz TSC. Linux
 * calibrates through channel 2 too (arch/x86/kernel/tsc.c: pit_calibrate_tsc polls bit 5 and
 * rejects a run with fewer than 1000 polls; quick_pit_calibrate reads the counter), so a
 * blanket shortcut would break it.
 *
 * What we do instead: recognise GRUB's exact sequence, whose distinguishing mark is that the
 * count is loaded while the gate is low and the gate is raised afterwards (Linux raises the gate
 * first, then programs the counter), and then move the domain's time forward by the whole count
 * (0xFFFF + 1 PIT clocks, about 54.9 ms) the moment the gate rises. Time moves for everything at
 * once - the PIT, the other devices and the TSC - so GRUB reads OUT2 = 1 on its first poll and
 * measures 54.9 ms of TSC ticks: an exact calibration, and no waiting. Every other use of channel
 * 2 sees real time. The shortcut is an option (`GrubCalibrationShortcut.enabled`).
 *
 * The runtime applies the warp: add it to the domain's device clock and to every VCPU's TSC
 * offset (state.ts S_TSC_OFFSET_F64). The in-process test machine does the same.
 */
import { pitNsFor } from '../../machine/pit-8254';

/** PIT ports: channel 2 data and the control word register; system control port B. */
const PIT_CHANNEL2 = 0x42;
const PIT_CONTROL = 0x43;
const PORT_B = 0x61;
/** Port 0x61 bit 0: channel 2 gate. */
const PORTB_GATE2 = 0x01;
/** Control word GRUB writes: channel 2, lobyte then hibyte, mode 0, binary. */
const GRUB_CONTROL_WORD = 0xb0;
/** Control words that select channel 2 (bits 7-6 = 10b). */
const SELECT_MASK = 0xc0;
const SELECT_CHANNEL2 = 0x80;
/** The count GRUB loads (0xFFFF, byte by byte). */
const GRUB_COUNT_BYTE = 0xff;
/** Mode 0 raises OUT after count + 1 input clocks. */
const GRUB_COUNT = 0xffff;

type Stage = 'idle' | 'control' | 'low-byte' | 'loaded';

/**
 * Watches the port writes of one domain for GRUB's calibration sequence. Feed it every port
 * write after the device has seen it; it returns the nanoseconds to move the domain's time forward
 * (0 almost always).
 */
export class GrubCalibrationShortcut {
  /** Off: watch nothing, never warp. */
  enabled = true;
  /** Number of times the shortcut fired (statistics, tests). */
  fired = 0;
  private stage: Stage = 'idle';
  private gateHigh = false;

  /** A port write the domain made (after the device handled it). Returns the warp in ns. */
  onWrite(port: number, value: number): number {
    if (!this.enabled) return 0;
    if (port === PORT_B) {
      const gate = (value & PORTB_GATE2) !== 0;
      const rising = gate && !this.gateHigh;
      this.gateHigh = gate;
      if (rising && this.stage === 'loaded') {
        this.stage = 'idle';
        this.fired++;
        return pitNsFor(GRUB_COUNT + 1);
      }
      if (gate && this.stage !== 'loaded') this.stage = 'idle';
      return 0;
    }
    if (port === PIT_CONTROL) {
      if ((value & SELECT_MASK) === SELECT_CHANNEL2) {
        this.stage = value === GRUB_CONTROL_WORD && !this.gateHigh ? 'control' : 'idle';
      }
      return 0;
    }
    if (port === PIT_CHANNEL2) {
      if (value === GRUB_COUNT_BYTE && this.stage === 'control') this.stage = 'low-byte';
      else if (value === GRUB_COUNT_BYTE && this.stage === 'low-byte') this.stage = 'loaded';
      else this.stage = 'idle';
    }
    return 0;
  }

  /** A port read: reading the channel 2 counter means someone measures it; forget the sequence. */
  onRead(port: number): void {
    if (port === PIT_CHANNEL2) this.stage = 'idle';
  }
}

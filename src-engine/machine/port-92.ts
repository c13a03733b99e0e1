/**
 * System control port A (port 0x92, "fast A20 and reset", PS/2 and every chipset since).
 *
 * References: IBM PS/2 Hardware Interface Technical Reference, port 0x92: bit 1 A20 gate (1 =
 * enabled), bit 0 fast reset (a 0 -> 1 transition resets the CPU); other bits read back as written.
 * QEMU hw/i386/pc.c port92: the register reads back the last value written; reset on a rising
 * bit 0; the A20 output follows bit 1.
 */
import type { IoSize, Persistent, PortDevice } from './device';
import { requireStateVersion } from './save-state';

/** Bit 0: fast reset (rising edge). */
const PORT92_RESET = 0x01;
/** Bit 1: A20 gate. */
const PORT92_A20 = 0x02;

/** Saved state of port 0x92. */
export interface Port92State {
  version: 1;
  value: number;
}

/** Options of port 0x92. */
export interface Port92Config {
  /** The A20 gate output of this port changed. */
  onA20Change?: (enabled: boolean) => void;
  /** The guest asked for a CPU reset. */
  onReset?: () => void;
}

/** System control port A. */
export class Port92 implements PortDevice, Persistent<Port92State> {
  readonly name = 'port-92';
  private value = 0;
  private readonly onA20Change: (enabled: boolean) => void;
  private readonly onReset: () => void;

  constructor(config: Port92Config = {}) {
    this.onA20Change = config.onA20Change ?? (() => {});
    this.onReset = config.onReset ?? (() => {});
  }

  /** This port's A20 gate bit. */
  a20(): boolean {
    return (this.value & PORT92_A20) !== 0;
  }

  ioRead(): number {
    return this.value;
  }

  ioWrite(_port: number, _size: IoSize, value: number): void {
    const old = this.value;
    this.value = value & 0xff;
    if ((old ^ this.value) & PORT92_A20) this.onA20Change(this.a20());
    if (this.value & PORT92_RESET && !(old & PORT92_RESET)) this.onReset();
  }

  /** Power-on value (A20 off here; the keyboard controller's output port enables it). */
  reset(): void {
    this.value = 0;
  }

  saveState(): Port92State {
    return { version: 1, value: this.value };
  }

  loadState(state: Port92State): void {
    requireStateVersion(state, 1, 'port 0x92');
    this.value = state.value & 0xff;
  }
}

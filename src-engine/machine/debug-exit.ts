/**
 * QEMU's isa-debug-exit device: a guest ends the emulator with a status of its choosing, which is
 * how bare-metal test guests report PASS/FAIL (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`).
 *
 * Reference: QEMU hw/misc/debugexit.c: any write of value v (access size 1, 2 or 4, anywhere in
 * the range) exits QEMU with status (v << 1) | 1, so a guest can never produce status 0.
 * Reads are not defined by QEMU; here they see the floating bus (all ones).
 */
import type { IoSize, PortDevice } from './device';

/** The usual placement of the device (QEMU's own default iobase is 0x501). */
export const DEBUG_EXIT_DEFAULT_BASE = 0xf4;
/** The usual size of its range in ports. */
export const DEBUG_EXIT_DEFAULT_PORTS = 4;
/** All ones for each access size. */
const ONES: Readonly<Record<IoSize, number>> = { 1: 0xff, 2: 0xffff, 4: 0xffffffff };

/** Options of the debug-exit device. */
export interface DebugExitConfig {
  /** Called with the exit status (v << 1) | 1 the guest asked for. */
  onExit: (status: number, value: number) => void;
}

/** The status QEMU exits with after the guest writes `value`. */
export function debugExitStatus(value: number): number {
  return value * 2 + 1;
}

/** isa-debug-exit. Register it with width `any` so 16/32-bit writes arrive whole. */
export class DebugExit implements PortDevice {
  readonly name = 'isa-debug-exit';
  private readonly onExit: DebugExitConfig['onExit'];

  constructor(config: DebugExitConfig) {
    this.onExit = config.onExit;
  }

  ioRead(_port: number, size: IoSize): number {
    return ONES[size];
  }

  ioWrite(_port: number, _size: IoSize, value: number): void {
    this.onExit(debugExitStatus(value), value);
  }
}

/**
 * QEMU's isa-debugcon ("port E9" debug console), placed where QEMU users put it for SeaBIOS:
 * `-debugcon file:LOG -global isa-debugcon.iobase=0x402`. Every byte written to the port goes to
 * the debug log; a read returns the readback value, which firmware uses to tell that the console
 * is there (SeaBIOS reads the port and logs to it only if it answers 0xE9).
 *
 * Reference: QEMU hw/char/debugcon.c: writes send the low byte to the character device, reads
 * return the "readback" property (default 0xE9); the region is one byte wide (a 16-bit access
 * reaches the port only with its low byte). SeaBIOS src/hw/serialio.c (qemu_debug_preinit).
 */
import type { PortDevice } from './device';

/** The debug console port SeaBIOS's QEMU build logs to (CONFIG_DEBUG_IO, DEBUG_IO_PORT). */
export const DEBUGCON_PORT = 0x402;
/** What a read of the port returns: QEMU's default "readback" value, the Bochs port number. */
export const DEBUGCON_READBACK = 0xe9;
/**
 * The console stream number debug console output travels on beside the COM ports (1-4) and the
 * PV console (0): the port number itself.
 */
export const DEBUGCON_STREAM = DEBUGCON_PORT;

/** Options of the debug console. */
export interface DebugconConfig {
  /** Receives every byte the guest writes. */
  onOutput: (byte: number) => void;
}

/** isa-debugcon. Register it on one port with the default byte width. */
export class Debugcon implements PortDevice {
  readonly name = 'isa-debugcon';
  private readonly onOutput: DebugconConfig['onOutput'];

  constructor(config: DebugconConfig) {
    this.onOutput = config.onOutput;
  }

  ioRead(): number {
    return DEBUGCON_READBACK;
  }

  ioWrite(_port: number, _size: number, value: number): void {
    this.onOutput(value & 0xff);
  }
}

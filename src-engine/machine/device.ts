/**
 * The contracts every emulated device is written against. Devices do not know where they sit:
 * the platform file (machine/platform-pc.ts) places each one on the port bus and wires its IRQ.
 * Time is injected: a time-driven device exposes `tick(now)` and returns its next deadline.
 *
 * Times are nanoseconds of the engine's monotonic clock (a JS number; exact to 2^53 ns = 104 days).
 */

/** Width of a port or MMIO access in bytes. */
export type IoSize = 1 | 2 | 4;

/** A device reachable through x86 port I/O. Ports are absolute port numbers. */
export interface PortDevice {
  /** Short name shown in bus listings and error messages, e.g. "uart0". */
  readonly name: string;
  /** Reads `size` bytes at `port`; the result is zero-extended. */
  ioRead(port: number, size: IoSize): number;
  /** Writes the low `size` bytes of `value` at `port`. */
  ioWrite(port: number, size: IoSize, value: number): void;
}

/** A device reachable through memory-mapped I/O at guest-physical addresses. */
export interface MmioDevice {
  readonly name: string;
  mmioRead(addr: number, size: IoSize): number;
  mmioWrite(addr: number, size: IoSize, value: number): void;
}

/**
 * An interrupt request line from a device to an interrupt controller input.
 * `set(true)` drives the line high, `set(false)` low. Edge-triggered inputs react to low->high.
 */
export interface IrqLine {
  set(level: boolean): void;
}

/** An IrqLine that goes nowhere (an input not wired on this machine). */
export const unconnectedIrq: IrqLine = { set() {} };

/** A device with behaviour in time (PIT, RTC, UART transmit timing, LAPIC timer). */
export interface TimedDevice {
  /**
   * Brings the device up to time `now` (raising any interrupts that became due) and returns the
   * next time it must be called, or `Infinity` if it needs no call until it is next accessed.
   */
  tick(now: number): number;
}

/** The engine's clock as devices see it. */
export interface Clock {
  /** Monotonic time in nanoseconds. */
  now(): number;
  /** Wall-clock time in milliseconds since the Unix epoch (RTC, Xen wallclock). */
  wallMs(): number;
}

/** The interrupt controller as the CPU sees it: the INTR pin and the INTA cycle. */
export interface InterruptController {
  /** True while an unmasked interrupt waits for the CPU. */
  hasInterrupt(): boolean;
  /** The INTA cycle: returns the vector to deliver and moves the request into service. */
  acknowledge(): number;
}

/**
 * A component whose state can be saved and restored. The state is a plain JSON-compatible object
 * (typed arrays allowed) with named fields and a `version` number; `loadState` refuses versions
 * it does not know with a SaveImageError.
 */
export interface Persistent<S extends { version: number }> {
  saveState(): S;
  loadState(state: S): void;
}

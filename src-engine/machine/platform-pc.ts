/**
 * The PC platform: the one place that says which device sits at which ports on which ISA IRQ.
 *
 *   device            ports                     ISA IRQ
 *   8259A master      0x20-0x21                 (INTR to the CPU)
 *   8259A slave       0xA0-0xA1                 cascade on master IR2
 *   ELCR              0x4D0-0x4D1
 *   8254 PIT          0x40-0x43                 0 (channel 0)
 *   port B            0x61                      (PIT channel 2 gate/OUT, speaker)
 *   8042 + keyboard   0x60, 0x64                1 (keyboard), 12 (auxiliary)
 *   MC146818 RTC      0x70-0x71                 8
 *   port A            0x92                      (A20, fast reset)
 *   POST codes        0x80
 *   COM1 16550A       0x3F8-0x3FF               4
 *   COM2 16550A       0x2F8-0x2FF               3
 *   COM3 16550A       0x3E8-0x3EF               4
 *   COM4 16550A       0x2E8-0x2EF               3
 *   isa-debug-exit    0xF4-0xF7 (only if asked)
 *
 * References: IBM PC/AT Technical Reference (I/O address map, IRQ assignment); QEMU hw/i386/pc.c
 * and hw/char/serial-isa.c (COM bases and IRQs). The A20 gate is the OR of the 8042 output port
 * and port 0x92, as on chipsets with both (Intel ICH: A20GATE OR ALT_A20_GATE).
 *
 * ISA IRQs go through an IsaIrqRouter, so an IOAPIC can later be attached beside the PIC.
 *
 * Concurrency: none inside. One thread (the domain's device-model worker) owns a PcPlatform and
 * makes every call on it: port accesses forwarded by the pCPU workers, `tick` when the earliest
 * deadline passes or `timersChanged` is set, console input, and the INTA (`acknowledge`) a VCPU
 * asks for after `onIntrChange(true)`. The callbacks run on that thread, inside those calls.
 */
import type { Clock, InterruptController, IoSize, Persistent, PortDevice, TimedDevice } from './device';
import { CmosRtc, type CmosRtcState } from './cmos-rtc';
import { pcCmosBytes, type CmosBootDevice } from './cmos-layout';
import { DebugExit, DEBUG_EXIT_DEFAULT_BASE, DEBUG_EXIT_DEFAULT_PORTS } from './debug-exit';
import { I8042, type I8042State } from './i8042';
import { IoBus } from './io-bus';
import { IsaIrqRouter, picIsaSink } from './isa-irq-router';
import { Pic8259Pair, type Pic8259State } from './pic-8259';
import { Pit8254, type Pit8254State } from './pit-8254';
import { Port92, type Port92State } from './port-92';
import { PostPort, type PostPortState } from './post-port';
import { requireSaved, requireStateVersion } from './save-state';
import { Uart16550, type Uart16550State } from './uart-16550';

// ---- Port and IRQ map ----------------------------------------------------------------------------

/** A PC COM port number. */
export type ComPort = 1 | 2 | 3 | 4;

/** I/O base and ISA IRQ of each COM port. */
export const PC_COM_PORTS: Readonly<Record<ComPort, { base: number; irq: number }>> = {
  1: { base: 0x3f8, irq: 4 },
  2: { base: 0x2f8, irq: 3 },
  3: { base: 0x3e8, irq: 4 },
  4: { base: 0x2e8, irq: 3 },
};
/** Ports a 16550A occupies. */
const UART_PORTS = 8;
const PIC_MASTER_BASE = 0x20;
const PIC_SLAVE_BASE = 0xa0;
const PIC_PORTS = 2;
const ELCR_BASE = 0x4d0;
const ELCR_PORTS = 2;
const PIT_BASE = 0x40;
const PIT_PORTS = 4;
const PORT_B = 0x61;
const KBC_DATA = 0x60;
const KBC_STATUS = 0x64;
const RTC_BASE = 0x70;
const RTC_PORTS = 2;
const PORT_A = 0x92;
const POST_PORT = 0x80;
/** ISA IRQ of the PIT (channel 0). */
export const IRQ_PIT = 0;
/** ISA IRQ of the 8042's keyboard data. */
export const IRQ_KEYBOARD = 1;
/** ISA IRQ of the RTC. */
export const IRQ_RTC = 8;
/** ISA IRQ of the 8042's auxiliary (mouse) data. */
export const IRQ_AUX = 12;

// ---- Configuration and state ---------------------------------------------------------------------

/** What the platform factory needs. */
export interface PcPlatformConfig {
  clock: Clock;
  /** Guest RAM below 4 GiB in bytes (for the CMOS memory bytes). */
  ramBelow4G: number;
  /** Guest RAM above 4 GiB in bytes. */
  ramAbove4G?: number;
  /** CPUs (CMOS 0x5F). */
  cpus?: number;
  /** Boot devices for CMOS 0x3D/0x38. */
  bootOrder?: readonly CmosBootDevice[];
  /** COM ports to fit (default: COM1 only). */
  uarts?: readonly ComPort[];
  /** Fit isa-debug-exit: `true` for 0xF4 (4 ports), or a base and size. */
  debugExit?: boolean | { base: number; ports: number };
  /** A byte the guest sent on a COM port. */
  onUartTransmit?: (com: ComPort, byte: number) => void;
  /** The guest wrote to isa-debug-exit: stop the domain with this status. */
  onDebugExit?: (status: number) => void;
  /** The guest asked for a CPU reset ("port-92" or "i8042"). */
  onResetRequest?: (source: string) => void;
  /** The A20 gate changed. */
  onA20Change?: (enabled: boolean) => void;
  /** The CPU's INTR input changed (the engine then signals the VCPU). */
  onIntrChange?: (level: boolean) => void;
}

/** Saved state of every PC device. */
export interface PcPlatformState {
  version: 1;
  pic: Pic8259State;
  pit: Pit8254State;
  rtc: CmosRtcState;
  kbc: I8042State;
  port92: Port92State;
  post: PostPortState;
  /** Keyed "com1".."com4". */
  uarts: Record<string, Uart16550State>;
}

/** The devices of one PC domain, placed on its port bus. */
export interface PcPlatform extends TimedDevice, Persistent<PcPlatformState> {
  readonly bus: IoBus;
  readonly irqRouter: IsaIrqRouter;
  readonly pic: Pic8259Pair;
  /** What the CPU asks at an interrupt window (the PIC now; LAPIC/IOAPIC later). */
  readonly interruptController: InterruptController;
  readonly pit: Pit8254;
  readonly rtc: CmosRtc;
  readonly kbc: I8042;
  readonly port92: Port92;
  readonly post: PostPort;
  readonly uarts: ReadonlyMap<ComPort, Uart16550>;
  readonly debugExit: DebugExit | undefined;
  /**
   * True when a port access or console input may have moved a device deadline since the last
   * `tick`: call `tick(now)` again before sleeping until the old deadline.
   */
  readonly timersChanged: boolean;
  /** Console input for a COM port (waits in the UART's queue; never lost). */
  consoleInput(com: ComPort, bytes: Uint8Array | readonly number[]): void;
  /** The A20 gate: the 8042 output port's OR port 0x92's. */
  a20(): boolean;
  /** A machine reset (RESET line): every device to its reset state; CMOS time and memory survive. */
  reset(): void;
}

// ---- Factory -------------------------------------------------------------------------------------

/** Builds the PC devices, places them on a fresh port bus and wires their IRQs. */
export function createPcPlatform(config: PcPlatformConfig): PcPlatform {
  return new PcPlatformImpl(config);
}

class PcPlatformImpl implements PcPlatform {
  readonly bus = new IoBus();
  readonly irqRouter = new IsaIrqRouter();
  readonly pic: Pic8259Pair;
  readonly interruptController: InterruptController;
  readonly pit: Pit8254;
  readonly rtc: CmosRtc;
  readonly kbc: I8042;
  readonly port92: Port92;
  readonly post = new PostPort();
  readonly uarts = new Map<ComPort, Uart16550>();
  readonly debugExit: DebugExit | undefined;
  timersChanged = true;
  private a20Level: boolean;
  private readonly onA20Change: (enabled: boolean) => void;

  constructor(config: PcPlatformConfig) {
    const clock = config.clock;
    const resetRequest = config.onResetRequest ?? (() => {});
    this.onA20Change = config.onA20Change ?? (() => {});

    this.pic = new Pic8259Pair({ onIntrChange: config.onIntrChange });
    this.interruptController = this.pic;
    this.irqRouter.addSink(picIsaSink(this.pic));
    const line = (irq: number) => this.irqRouter.line(irq);

    this.pit = new Pit8254({ clock, irq0: line(IRQ_PIT) });
    this.rtc = new CmosRtc({ clock, irq: line(IRQ_RTC) });
    for (const [index, value] of pcCmosBytes(config)) this.rtc.setCmosByte(index, value);
    this.kbc = new I8042({
      irq1: line(IRQ_KEYBOARD),
      irq12: line(IRQ_AUX),
      onA20Change: () => this.updateA20(),
      onReset: () => resetRequest('i8042'),
    });
    this.port92 = new Port92({ onA20Change: () => this.updateA20(), onReset: () => resetRequest('port-92') });
    this.a20Level = this.a20();

    const bus = this.bus;
    bus.register(PIC_MASTER_BASE, PIC_PORTS, this.pic.master);
    bus.register(PIC_SLAVE_BASE, PIC_PORTS, this.pic.slave);
    bus.register(ELCR_BASE, ELCR_PORTS, this.pic.elcr);
    // Reading the PIT or port 0x61 moves no deadline (GRUB polls 0x61 for 55 ms): only writes count.
    bus.register(PIT_BASE, PIT_PORTS, this.timed(this.pit, false));
    bus.register(PORT_B, 1, this.timed(this.pit.portB, false));
    bus.register(KBC_DATA, 1, this.kbc);
    bus.register(KBC_STATUS, 1, this.kbc);
    bus.register(RTC_BASE, RTC_PORTS, this.timed(this.rtc));
    bus.register(PORT_A, 1, this.port92);
    bus.register(POST_PORT, 1, this.post);

    for (const com of config.uarts ?? [1]) {
      const { base, irq } = PC_COM_PORTS[com];
      const uart = new Uart16550({
        name: `uart-com${com}`,
        clock,
        irq: line(irq),
        onTransmit: config.onUartTransmit ? (byte) => config.onUartTransmit?.(com, byte) : undefined,
      });
      this.uarts.set(com, uart);
      bus.register(base, UART_PORTS, this.timed(uart));
    }

    if (config.debugExit) {
      const place = config.debugExit === true ? { base: DEBUG_EXIT_DEFAULT_BASE, ports: DEBUG_EXIT_DEFAULT_PORTS } : config.debugExit;
      this.debugExit = new DebugExit({ onExit: (status) => config.onDebugExit?.(status) });
      bus.register(place.base, place.ports, this.debugExit, { width: 'any' });
    }
  }

  a20(): boolean {
    return this.kbc.a20() || this.port92.a20();
  }

  consoleInput(com: ComPort, bytes: Uint8Array | readonly number[]): void {
    const uart = this.uarts.get(com);
    if (!uart) return;
    uart.receive(bytes);
    this.timersChanged = true;
  }

  tick(now: number): number {
    this.timersChanged = false;
    let next = Math.min(this.pit.tick(now), this.rtc.tick(now));
    for (const uart of this.uarts.values()) next = Math.min(next, uart.tick(now));
    return next;
  }

  reset(): void {
    this.pic.reset();
    this.pit.reset();
    this.rtc.reset();
    this.kbc.reset();
    this.port92.reset();
    for (const uart of this.uarts.values()) uart.reset();
    this.timersChanged = true;
    this.updateA20();
  }

  saveState(): PcPlatformState {
    const uarts: Record<string, Uart16550State> = {};
    for (const [com, uart] of this.uarts) uarts[`com${com}`] = uart.saveState();
    return {
      version: 1,
      pic: this.pic.saveState(),
      pit: this.pit.saveState(),
      rtc: this.rtc.saveState(),
      kbc: this.kbc.saveState(),
      port92: this.port92.saveState(),
      post: this.post.saveState(),
      uarts,
    };
  }

  loadState(state: PcPlatformState): void {
    requireStateVersion(state, 1, 'the PC platform');
    for (const com of this.uarts.keys()) {
      requireSaved(typeof state.uarts === 'object' && state.uarts !== null && `com${com}` in state.uarts, 'the PC platform', `uarts.com${com}`);
    }
    // Devices re-drive their IRQ outputs as they load; the PIC then loads over whatever edges
    // that produced, so its IRR/ISR are exactly the saved ones.
    this.irqRouter.clearSilently();
    this.pit.loadState(state.pit);
    this.rtc.loadState(state.rtc);
    this.kbc.loadState(state.kbc);
    this.port92.loadState(state.port92);
    this.post.loadState(state.post);
    for (const [com, uart] of this.uarts) uart.loadState(state.uarts[`com${com}`]);
    this.pic.loadState(state.pic);
    this.timersChanged = true;
    this.a20Level = this.a20();
  }

  private updateA20(): void {
    const level = this.a20();
    if (level === this.a20Level) return;
    this.a20Level = level;
    this.onA20Change(level);
  }

  /**
   * Wraps a timed device's ports so that its accesses mark the deadlines as possibly moved (reads
   * too, unless `readsMoveDeadlines` is false: a UART read refills the FIFO and starts a timeout,
   * reading RTC register C re-arms its interrupts).
   */
  private timed(device: PortDevice, readsMoveDeadlines = true): PortDevice {
    return {
      name: device.name,
      ioRead: (port: number, size: IoSize) => {
        if (readsMoveDeadlines) this.timersChanged = true;
        return device.ioRead(port, size);
      },
      ioWrite: (port: number, size: IoSize, value: number) => {
        this.timersChanged = true;
        device.ioWrite(port, size, value);
      },
    };
  }
}

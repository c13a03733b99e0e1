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
 * With `smp` (the SMP/ACPI platform Linux and QEMU test kernels expect):
 *   local APICs       0xFEE00000 (per VCPU, served    LINT0 = 8259 INTR, LINT1 = NMI
 *                     by the pCPUs from shared memory)
 *   IOAPIC            MMIO 0xFEC00000-0xFEC00FFF    ISA IRQ n on pin n, IRQ0 on pin 2
 *   HPET              MMIO 0xFED00000-0xFED003FF    legacy mode: IRQ0/IRQ8 (PIT/RTC cut off)
 *   ACPI PM block     0x600-0x603, 0x604-0x605,     9 (SCI, level)
 *                     0x608-0x60B (PM timer), 0x620-0x623 (GPE0)
 *   CPU hotplug       0xAF00-0xAF1F (present      (GPE0 bit 2 -> SCI)
 *                     bitmap), 0xAF20 (eject)
 *   fw_cfg            0x510-0x511
 *   PCI host (empty)  0xCF8-0xCFF (0xCF9: reset control)
 * With `pcTestdev` (QEMU's pc-testdev; not with the BIOS, whose trap port is 0xE0):
 *   pc-testdev        0xE0-0xEB, 0x2000-0x2017, MMIO 0xFF000000-0xFF00FFFF
 *   isa-debugcon      0x402 (SeaBIOS's debug log; reads 0xE9)
 *   fw_cfg files      etc/e820, etc/boot-fail-wait (qemu-fw-files.ts)
 *
 * References: IBM PC/AT Technical Reference (I/O address map, IRQ assignment); QEMU hw/i386/pc.c
 * and hw/char/serial-isa.c (COM bases and IRQs). The A20 gate is the OR of the 8042 output port
 * and port 0x92, as on chipsets with both (Intel ICH: A20GATE OR ALT_A20_GATE).
 *
 * ISA IRQs go through an IsaIrqRouter to the PIC and, with `smp`, the IOAPIC beside it.
 *
 * Concurrency: none inside. One thread (the domain's device-model worker) owns a PcPlatform and
 * makes every call on it: port accesses forwarded by the pCPU workers, `tick` when the earliest
 * deadline passes or `timersChanged` is set, console input, and the INTA (`acknowledge`) a VCPU
 * asks for after `onIntrChange(true)`. The callbacks run on that thread, inside those calls.
 * The local APIC regions are shared with the pCPU workers; the platform touches them only through
 * the APIC bus (lapic-bus.ts), whose words are Atomics or hypervisor-owned, except in `reset` and
 * `loadState`, which must run while no VCPU of the domain runs.
 */
import type { Clock, InterruptController, IoSize, IrqLine, MmioDevice, PortDevice } from './device';
import { unconnectedIrq } from './device';
import { CmosRtc } from './cmos-rtc';
import { pcCmosBytes } from './cmos-layout';
import { DebugExit, DEBUG_EXIT_DEFAULT_BASE, DEBUG_EXIT_DEFAULT_PORTS } from './debug-exit';
import { I8042 } from './i8042';
import { IoBus } from './io-bus';
import { IsaIrqRouter, ISA_IRQ_COUNT as ISA_IRQS, picIsaSink } from './isa-irq-router';
import { Pic8259Pair } from './pic-8259';
import { Pit8254 } from './pit-8254';
import { Port92 } from './port-92';
import { PostPort } from './post-port';
import { requireSaved } from './save-state';
import { Uart16550, type Uart16550State } from './uart-16550';
import { SaveImageError } from '../base/errors';
import { MmioBus } from './mmio-bus';
import { LapicBus } from './lapic-bus';
import { lapicPowerOn } from './lapic-core';
import { lapicBiosSetup } from './lapic';
import { loadLapicState, saveLapicState } from './lapic-state';
import { IoApic, IOAPIC_DEFAULT_BASE, IOAPIC_MMIO_BYTES } from './ioapic';
import { Hpet, HPET_DEFAULT_BASE, HPET_MMIO_BYTES } from './hpet';
import { AcpiPm, ACPI_SCI_IRQ } from './acpi-pm';
import { AcpiCpuHotplug, ACPI_GPE_CPU_HOTPLUG } from './acpi-cpu-hotplug';
import { FwCfg, FW_CFG_PORT_SEL, FW_CFG_PORTS } from './fw-cfg';
import { PciHost, PCI_CONFIG_ADDRESS, PCI_HOST_PORTS } from './pci-host';
import {
  PcTestdev, TESTDEV_IOMEM_BASE, TESTDEV_IOMEM_BYTES, TESTDEV_IRQ_LINES, TESTDEV_PORT_DATA, TESTDEV_PORT_IRQ,
  TESTDEV_WINDOW_PORTS,
} from './pc-testdev';
import { Debugcon, DEBUGCON_PORT } from './debugcon';
import { qemuFwCfgFiles } from './qemu-fw-files';
import type { ComPort, PcPlatform, PcPlatformConfig, PcPlatformState, PcSmpConfig } from './platform-pc-types';
import { publishLsr } from './uart-lsr-cache';

export type { ComPort, PcPlatform, PcPlatformConfig, PcPlatformState, PcSmpConfig, PcSmpState } from './platform-pc-types';

// ---- Port and IRQ map ----------------------------------------------------------------------------


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
/** The 8259 initialisation a PC BIOS performs (SeaBIOS pic_setup, firmware/bios/post.ts). */
const BIOS_PIC_ICW1 = 0x11;
const BIOS_PIC_VECTOR_MASTER = 0x08;
const BIOS_PIC_VECTOR_SLAVE = 0x70;
const BIOS_PIC_ICW3_MASTER = 0x04;
const BIOS_PIC_ICW3_SLAVE = 0x02;
const BIOS_PIC_ICW4 = 0x01;
/** Masks a BIOS leaves: timer, keyboard and cascade open on the master; the slave closed. */
const BIOS_PIC_MASK_MASTER = 0xf8;
const BIOS_PIC_MASK_SLAVE = 0xff;
/** Largest IOAPIC ID (4 bits). */
const IOAPIC_ID_LIMIT = 0x0f;

/** The IOAPIC's APIC ID on a PC with `vcpus` VCPUs: the first ID after the local APICs (0 if none is free). */
export function pcIoApicId(vcpus: number): number {
  return vcpus <= IOAPIC_ID_LIMIT ? vcpus : 0;
}

// ---- Configuration and state ---------------------------------------------------------------------

/** Builds the PC devices, places them on fresh buses and wires their IRQs. */
export function createPcPlatform(config: PcPlatformConfig): PcPlatform {
  return new PcPlatformImpl(config);
}

/** An IRQ output that legacy-replacement HPET routing can cut off (the PIT's IRQ0, the RTC's IRQ8). */
class GatedIrq implements IrqLine {
  private level = false;
  private cut = false;

  constructor(private readonly out: IrqLine) {}

  set(level: boolean): void {
    this.level = level;
    if (!this.cut) this.out.set(level);
  }

  setCut(cut: boolean): void {
    this.cut = cut;
    this.out.set(cut ? false : this.level);
  }
}

class PcPlatformImpl implements PcPlatform {
  readonly bus = new IoBus();
  readonly mmio = new MmioBus();
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
  readonly lapicBus: LapicBus | undefined;
  readonly ioapic: IoApic | undefined;
  readonly hpet: Hpet | undefined;
  readonly acpiPm: AcpiPm | undefined;
  readonly cpuHotplug: AcpiCpuHotplug | undefined;
  readonly fwCfg: FwCfg | undefined;
  readonly pciHost: PciHost | undefined;
  readonly testdev: PcTestdev | undefined;
  readonly debugcon: Debugcon | undefined;
  /** A port access, MMIO write or console input may have moved a device deadline. */
  private dirty = true;
  private a20Level: boolean;
  private readonly onA20Change: (enabled: boolean) => void;
  private readonly clock: Clock;
  private readonly smp: PcSmpConfig | undefined;
  private readonly pitIrq: GatedIrq;
  private readonly rtcIrq: GatedIrq;
  /** Where the UARTs' LSRs are published for the pCPUs (uart-lsr-cache.ts), if anywhere. */
  private readonly lsrCache: Int32Array | undefined;

  constructor(config: PcPlatformConfig) {
    const clock = config.clock;
    this.clock = clock;
    this.lsrCache = config.lsrCache;
    this.smp = config.smp;
    const resetRequest = config.onResetRequest ?? (() => {});
    this.onA20Change = config.onA20Change ?? (() => {});

    this.pic = new Pic8259Pair({
      onIntrChange: (level) => {
        config.onIntrChange?.(level);
        this.lapicBus?.setLint(0, level);
      },
    });
    this.interruptController = this.pic;
    this.irqRouter.addSink(picIsaSink(this.pic));
    const line = (irq: number) => this.irqRouter.line(irq);

    this.pitIrq = new GatedIrq(line(IRQ_PIT));
    this.rtcIrq = new GatedIrq(line(IRQ_RTC));
    this.pit = new Pit8254({ clock, irq0: this.pitIrq });
    this.rtc = new CmosRtc({ clock, irq: this.rtcIrq });
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
      bus.register(base, UART_PORTS, this.lsrPublished(com, this.timed(uart)));
    }
    this.publishLsrs();

    if (config.debugExit) {
      const place = config.debugExit === true ? { base: DEBUG_EXIT_DEFAULT_BASE, ports: DEBUG_EXIT_DEFAULT_PORTS } : config.debugExit;
      this.debugExit = new DebugExit({ onExit: (status) => config.onDebugExit?.(status) });
      bus.register(place.base, place.ports, this.debugExit, { width: 'any' });
    }

    const smp = config.smp;
    if (smp) {
      const vcpus = smp.lapics.length;
      smp.lapics.forEach((r, vcpu) => lapicPowerOn(r, { vcpu, tscDeadline: smp.tscDeadline }));
      const lapicBus = new LapicBus({ regions: smp.lapics, kick: smp.kick });
      this.lapicBus = lapicBus;
      const ioapic = new IoApic({ id: pcIoApicId(vcpus), deliver: (m) => lapicBus.deliverMessage(m) });
      this.ioapic = ioapic;
      this.irqRouter.addSink(ioapic);
      this.mmio.register(IOAPIC_DEFAULT_BASE, IOAPIC_MMIO_BYTES, ioapic);
      if (smp.hpet ?? true) {
        this.hpet = new Hpet({
          clock,
          gsiLine: (gsi) => ioapic.pin(gsi),
          isaLine: (irq) => line(irq),
          onLegacyChange: (on) => {
            this.pitIrq.setCut(on);
            this.rtcIrq.setCut(on);
          },
        });
        this.mmio.register(HPET_DEFAULT_BASE, HPET_MMIO_BYTES, this.timedMmio(this.hpet));
      }
      this.acpiPm = new AcpiPm({ clock, sci: line(ACPI_SCI_IRQ), onPowerOff: () => config.onPowerOff?.() });
      for (const [base, count] of AcpiPm.RANGES) bus.register(base, count, this.timed(this.acpiPm, false), { width: 'any' });
      const acpiPm = this.acpiPm;
      this.cpuHotplug = new AcpiCpuHotplug({
        cpus: vcpus,
        present: smp.onlineCpus ?? vcpus,
        raiseGpe: () => acpiPm.raiseGpe(ACPI_GPE_CPU_HOTPLUG),
        onEject: (cpu) => config.onCpuEject?.(cpu),
      });
      for (const [base, count] of AcpiCpuHotplug.RANGES) bus.register(base, count, this.cpuHotplug, { width: 'any' });
      this.fwCfg = new FwCfg({ ramSize: config.ramBelow4G + (config.ramAbove4G ?? 0), cpus: config.cpus ?? vcpus, maxCpus: vcpus, uuid: smp.uuid });
      bus.register(FW_CFG_PORT_SEL, FW_CFG_PORTS, this.fwCfg, { width: 'any' });
      this.pciHost = new PciHost({ onReset: () => resetRequest('pci-reset-control') });
      bus.register(PCI_CONFIG_ADDRESS, PCI_HOST_PORTS, this.pciHost, { width: 'any' });
    }

    if (config.pcTestdev) {
      const ioapic = this.ioapic;
      this.testdev = new PcTestdev({
        irqLine: (n) => (n < ISA_IRQS ? line(n) : ioapic ? ioapic.pin(n) : unconnectedIrq),
      });
      bus.register(TESTDEV_PORT_DATA, TESTDEV_WINDOW_PORTS * 3, this.testdev, { width: 'any' });
      bus.register(TESTDEV_PORT_IRQ, TESTDEV_IRQ_LINES, this.testdev, { width: 'any' });
      this.mmio.register(TESTDEV_IOMEM_BASE, TESTDEV_IOMEM_BYTES, this.testdev.iomem);
      this.debugcon = new Debugcon({ onOutput: (byte) => config.onDebugcon?.(byte) });
      bus.register(DEBUGCON_PORT, 1, this.debugcon);
      for (const f of qemuFwCfgFiles(config.ramBelow4G, config.ramAbove4G)) this.fwCfg?.addFile(f.name, f.data);
    }
  }

  get timersChanged(): boolean {
    return this.dirty || (this.lapicBus?.timersMoved() ?? false);
  }

  a20(): boolean {
    return this.kbc.a20() || this.port92.a20();
  }

  consoleInput(com: ComPort, bytes: Uint8Array | readonly number[]): void {
    const uart = this.uarts.get(com);
    if (!uart) return;
    uart.receive(bytes);
    this.publishLsrs();
    this.dirty = true;
  }

  endOfInterrupt(vector: number): void {
    this.ioapic?.endOfInterrupt(vector);
  }

  pressPowerButton(): void {
    this.acpiPm?.pressPowerButton();
  }

  directBootSetup(): void {
    const out = (port: number, value: number) => this.bus.write(port, 1, value);
    out(PIC_MASTER_BASE, BIOS_PIC_ICW1);
    out(PIC_SLAVE_BASE, BIOS_PIC_ICW1);
    out(PIC_MASTER_BASE + 1, BIOS_PIC_VECTOR_MASTER);
    out(PIC_SLAVE_BASE + 1, BIOS_PIC_VECTOR_SLAVE);
    out(PIC_MASTER_BASE + 1, BIOS_PIC_ICW3_MASTER);
    out(PIC_SLAVE_BASE + 1, BIOS_PIC_ICW3_SLAVE);
    out(PIC_MASTER_BASE + 1, BIOS_PIC_ICW4);
    out(PIC_SLAVE_BASE + 1, BIOS_PIC_ICW4);
    out(PIC_MASTER_BASE + 1, BIOS_PIC_MASK_MASTER);
    out(PIC_SLAVE_BASE + 1, BIOS_PIC_MASK_SLAVE);
    this.localApicVirtualWire();
  }

  localApicVirtualWire(): void {
    const bsp = this.smp?.lapics[0];
    if (bsp) {
      lapicBiosSetup(bsp);
      this.lapicBus?.setLint(0, this.pic.hasInterrupt());
    }
  }

  tick(now: number): number {
    this.dirty = false;
    let next = Math.min(this.pit.tick(now), this.rtc.tick(now));
    for (const uart of this.uarts.values()) next = Math.min(next, uart.tick(now));
    if (this.lapicBus) next = Math.min(next, this.lapicBus.tick(now));
    if (this.hpet) next = Math.min(next, this.hpet.tick(now));
    if (this.acpiPm) next = Math.min(next, this.acpiPm.tick(now));
    return next;
  }

  reset(): void {
    this.pic.reset();
    this.pit.reset();
    this.rtc.reset();
    this.kbc.reset();
    this.port92.reset();
    for (const uart of this.uarts.values()) uart.reset();
    this.hpet?.reset();
    this.ioapic?.reset();
    this.acpiPm?.reset();
    this.fwCfg?.reset();
    this.pciHost?.reset();
    const smp = this.smp;
    if (smp) smp.lapics.forEach((r, vcpu) => lapicPowerOn(r, { vcpu, tscDeadline: smp.tscDeadline }));
    this.publishLsrs();
    this.dirty = true;
    this.updateA20();
  }

  saveState(): PcPlatformState {
    const uarts: Record<string, Uart16550State> = {};
    for (const [com, uart] of this.uarts) uarts[`com${com}`] = uart.saveState();
    const now = this.clock.now();
    return {
      version: 2,
      pic: this.pic.saveState(),
      pit: this.pit.saveState(),
      rtc: this.rtc.saveState(),
      kbc: this.kbc.saveState(),
      port92: this.port92.saveState(),
      post: this.post.saveState(),
      uarts,
      smp: this.smp && this.ioapic && this.acpiPm && this.fwCfg && this.pciHost
        ? {
            lapics: this.smp.lapics.map((r) => saveLapicState(r, now)),
            ioapic: this.ioapic.saveState(),
            hpet: this.hpet ? this.hpet.saveState() : null,
            acpiPm: this.acpiPm.saveState(),
            cpuHotplug: this.cpuHotplug?.saveState(),
            fwCfg: this.fwCfg.saveState(),
            pciHost: this.pciHost.saveState(),
          }
        : null,
      testdev: this.testdev ? this.testdev.saveState() : null,
    };
  }

  loadState(state: PcPlatformState): void {
    const version = typeof state === 'object' && state !== null ? (state as { version?: unknown }).version : undefined;
    if (version !== 1 && version !== 2) {
      throw new SaveImageError(
        'save.device-version',
        `The saved state of the PC platform has version ${String(version)}, but this Domus reads only versions 1 and 2. ` +
          'Restore the image with the Domus release that saved it, or boot the domain afresh.',
        'the PC platform',
      );
    }
    for (const com of this.uarts.keys()) {
      requireSaved(typeof state.uarts === 'object' && state.uarts !== null && `com${com}` in state.uarts, 'the PC platform', `uarts.com${com}`);
    }
    const smp = state.smp ?? null;
    requireSaved((smp !== null) === (this.smp !== undefined), 'the PC platform', 'smp');
    requireSaved(smp === null || (Array.isArray(smp.lapics) && smp.lapics.length === this.smp?.lapics.length), 'the PC platform', 'smp.lapics');
    requireSaved(((state.testdev ?? null) !== null) === (this.testdev !== undefined), 'the PC platform', 'testdev');
    // Devices re-drive their IRQ outputs as they load; the interrupt controllers then load over
    // whatever edges that produced, so their state is exactly the saved one.
    this.irqRouter.clearSilently();
    this.pit.loadState(state.pit);
    this.rtc.loadState(state.rtc);
    this.kbc.loadState(state.kbc);
    this.port92.loadState(state.port92);
    this.post.loadState(state.post);
    for (const [com, uart] of this.uarts) uart.loadState(state.uarts[`com${com}`]);
    this.publishLsrs();
    if (smp !== null) {
      if (this.hpet && smp.hpet) this.hpet.loadState(smp.hpet);
      this.acpiPm?.loadState(smp.acpiPm);
      if (smp.cpuHotplug !== undefined) this.cpuHotplug?.loadState(smp.cpuHotplug);
      this.fwCfg?.loadState(smp.fwCfg);
      this.pciHost?.loadState(smp.pciHost);
    }
    if (this.testdev && state.testdev) this.testdev.loadState(state.testdev);
    this.pic.loadState(state.pic);
    if (smp !== null) {
      this.ioapic?.loadState(smp.ioapic);
      const now = this.clock.now();
      this.smp?.lapics.forEach((r, v) => loadLapicState(r, smp.lapics[v], now));
    }
    this.dirty = true;
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
        if (readsMoveDeadlines) this.dirty = true;
        return device.ioRead(port, size);
      },
      ioWrite: (port: number, size: IoSize, value: number) => {
        this.dirty = true;
        device.ioWrite(port, size, value);
      },
    };
  }

  /** Wraps COM `com`'s ports so that every access publishes its LSR afterwards. */
  private lsrPublished(com: ComPort, device: PortDevice): PortDevice {
    const cache = this.lsrCache;
    const uart = this.uarts.get(com);
    if (cache === undefined || uart === undefined) return device;
    return {
      name: device.name,
      ioRead: (port: number, size: IoSize) => {
        const v = device.ioRead(port, size);
        publishLsr(cache, com, uart.cachedLsr());
        return v;
      },
      ioWrite: (port: number, size: IoSize, value: number) => {
        device.ioWrite(port, size, value);
        publishLsr(cache, com, uart.cachedLsr());
      },
    };
  }

  /** Publishes every UART's LSR (after console input, a reset or a restore). */
  private publishLsrs(): void {
    const cache = this.lsrCache;
    if (cache === undefined) return;
    for (const [com, uart] of this.uarts) publishLsr(cache, com, uart.cachedLsr());
  }

  /** The same for an MMIO device whose writes may move its deadline (HPET). */
  private timedMmio(device: MmioDevice): MmioDevice {
    return {
      name: device.name,
      mmioRead: (offset: number, size: IoSize) => device.mmioRead(offset, size),
      mmioWrite: (offset: number, size: IoSize, value: number) => {
        this.dirty = true;
        device.mmioWrite(offset, size, value);
      },
    };
  }
}

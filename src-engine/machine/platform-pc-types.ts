/**
 * The PC platform's configuration, saved state and public interface (platform-pc.ts builds it):
 * the device set a PcPlatformConfig asks for, the versioned PcPlatformState a save image holds,
 * and the PcPlatform the hypervisor thread drives.
 */
import type { Clock, InterruptController, Persistent, TimedDevice } from './device';
import type { CmosRtc, CmosRtcState } from './cmos-rtc';
import type { CmosBootDevice } from './cmos-layout';
import type { DebugExit } from './debug-exit';
import type { I8042, I8042State } from './i8042';
import type { IoBus } from './io-bus';
import type { IsaIrqRouter } from './isa-irq-router';
import type { Pic8259Pair, Pic8259State } from './pic-8259';
import type { Pit8254, Pit8254State } from './pit-8254';
import type { Port92, Port92State } from './port-92';
import type { PostPort, PostPortState } from './post-port';
import type { Uart16550, Uart16550State } from './uart-16550';
import type { MmioBus } from './mmio-bus';
import type { LapicBus } from './lapic-bus';
import type { LapicState } from './lapic-state';
import type { IoApic, IoApicState } from './ioapic';
import type { Hpet, HpetState } from './hpet';
import type { AcpiPm, AcpiPmState } from './acpi-pm';
import type { AcpiCpuHotplug, AcpiCpuHotplugState } from './acpi-cpu-hotplug';
import type { FwCfg, FwCfgState } from './fw-cfg';
import type { PciHost, PciHostState } from './pci-host';
import type { PcTestdev, PcTestdevState } from './pc-testdev';
import type { Debugcon } from './debugcon';

/** A PC COM port number. */
export type ComPort = 1 | 2 | 3 | 4;

// ---- Configuration and state ---------------------------------------------------------------------

/** The SMP/ACPI part of the platform. */
export interface PcSmpConfig {
  /** One local APIC region per VCPU (lapicRegions over a SharedArrayBuffer of lapicRegionsBytes). */
  lapics: readonly Int32Array[];
  /** Something arrived for VCPU `vcpu`'s local APIC: wake it if blocked, poke its pCPU if running. */
  kick: (vcpu: number) => void;
  /** Allow the TSC-deadline timer mode (the CPU's CPUID.1:ECX[24] must advertise it). Default false. */
  tscDeadline?: boolean;
  /** Fit the HPET (default true). */
  hpet?: boolean;
  /** The domain's UUID for fw_cfg (16 bytes). */
  uuid?: Uint8Array;
  /** VCPUs plugged in at power-on (vcpus=; default all): the others can be hot-added through ACPI. */
  onlineCpus?: number;
}

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
  /** Fit the SMP/ACPI devices: local APICs, IOAPIC, HPET, ACPI PM block, fw_cfg, empty PCI host. */
  smp?: PcSmpConfig;
  /**
   * Fit QEMU's pc-testdev (test kernels; conflicts with the BIOS's trap port 0xE0), isa-debugcon
   * at 0x402 and (with `smp`) QEMU's fw_cfg files for firmware.
   */
  pcTestdev?: boolean;
  /** A byte the guest wrote to isa-debugcon (with `pcTestdev`). */
  onDebugcon?: (byte: number) => void;
  /**
   * Where the UARTs publish their line status for the pCPUs (uart-lsr-cache.ts layout), or
   * nothing to publish.
   */
  lsrCache?: Int32Array;
  /** A byte the guest sent on a COM port. */
  onUartTransmit?: (com: ComPort, byte: number) => void;
  /** The guest wrote to isa-debug-exit: stop the domain with this status. */
  onDebugExit?: (status: number) => void;
  /** The guest asked for a CPU reset ("port-92", "i8042" or "pci-reset-control"). */
  onResetRequest?: (source: string) => void;
  /** The guest entered ACPI S5 (soft-off): power the domain off. */
  onPowerOff?: () => void;
  /** The guest released a CPU the toolstack had pulled out (its _EJ0 ran): take the VCPU offline. */
  onCpuEject?: (cpu: number) => void;
  /** The A20 gate changed. */
  onA20Change?: (enabled: boolean) => void;
  /** The 8259's INTR output changed (without local APICs, the engine then signals VCPU 0). */
  onIntrChange?: (level: boolean) => void;
}

/** Saved state of the SMP/ACPI devices. */
export interface PcSmpState {
  lapics: LapicState[];
  ioapic: IoApicState;
  hpet: HpetState | null;
  acpiPm: AcpiPmState;
  /** Absent in images saved before CPU hotplug existed (the power-on state is kept). */
  cpuHotplug?: AcpiCpuHotplugState;
  fwCfg: FwCfgState;
  pciHost: PciHostState;
}

/** Saved state of every PC device. Version 1 images (no SMP devices) still load. */
export interface PcPlatformState {
  version: 1 | 2;
  pic: Pic8259State;
  pit: Pit8254State;
  rtc: CmosRtcState;
  kbc: I8042State;
  port92: Port92State;
  post: PostPortState;
  /** Keyed "com1".."com4". */
  uarts: Record<string, Uart16550State>;
  /** Version 2: the SMP/ACPI devices, if fitted. */
  smp?: PcSmpState | null;
  /** Version 2: pc-testdev, if fitted. */
  testdev?: PcTestdevState | null;
}

/** The devices of one PC domain, placed on its port and MMIO buses. */
export interface PcPlatform extends TimedDevice, Persistent<PcPlatformState> {
  readonly bus: IoBus;
  /** MMIO devices (IOAPIC, HPET, pc-testdev memory); serve the VCPUs' MMIO exits from here. */
  readonly mmio: MmioBus;
  readonly irqRouter: IsaIrqRouter;
  readonly pic: Pic8259Pair;
  /** What the CPU asks at an interrupt window without local APICs, and for ExtINT with them. */
  readonly interruptController: InterruptController;
  readonly pit: Pit8254;
  readonly rtc: CmosRtc;
  readonly kbc: I8042;
  readonly port92: Port92;
  readonly post: PostPort;
  readonly uarts: ReadonlyMap<ComPort, Uart16550>;
  readonly debugExit: DebugExit | undefined;
  /** With `smp`: the APIC bus over the VCPUs' local APICs, and the other SMP/ACPI devices. */
  readonly lapicBus: LapicBus | undefined;
  readonly ioapic: IoApic | undefined;
  readonly hpet: Hpet | undefined;
  readonly acpiPm: AcpiPm | undefined;
  /** With `smp`: which CPUs are plugged in (xl vcpu-set on an HVM guest). */
  readonly cpuHotplug: AcpiCpuHotplug | undefined;
  readonly fwCfg: FwCfg | undefined;
  readonly pciHost: PciHost | undefined;
  readonly testdev: PcTestdev | undefined;
  /** With `pcTestdev`: QEMU's debug console at 0x402. */
  readonly debugcon: Debugcon | undefined;
  /**
   * True when a port access or console input may have moved a device deadline since the last
   * `tick`: call `tick(now)` again before sleeping until the old deadline.
   */
  readonly timersChanged: boolean;
  /** Console input for a COM port (waits in the UART's queue; never lost). */
  consoleInput(com: ComPort, bytes: Uint8Array | readonly number[]): void;
  /** The A20 gate: the 8042 output port's OR port 0x92's. */
  a20(): boolean;
  /** A local APIC ended a level-triggered `vector` (LAPIC_EFFECT_EOI): tell the IOAPIC. */
  endOfInterrupt(vector: number): void;
  /** The ACPI power button (xl shutdown): the guest sees PWRBTN_STS and the SCI. */
  pressPowerButton(): void;
  /**
   * What a PC BIOS leaves behind, for direct kernel boots that skip it: the 8259s at vectors
   * 0x08/0x70 with timer, keyboard and cascade unmasked, and (with local APICs) the BSP's APIC
   * software-enabled in virtual wire mode (LINT0 ExtINT, LINT1 NMI).
   */
  directBootSetup(): void;
  /**
   * The BSP's local APIC as a PC BIOS's POST leaves it (SeaBIOS smp_setup): software-enabled,
   * LINT0 ExtINT (virtual wire: the 8259's INTR reaches the CPU), LINT1 NMI. Without it an
   * enabled APIC masks LINT0 and no 8259 interrupt arrives. Nothing to do without local APICs.
   */
  localApicVirtualWire(): void;
  /**
   * A machine reset (RESET line): every device to its reset state; CMOS time and memory survive.
   * Local APICs return to their power-up state: call it only while no VCPU of the domain runs.
   */
  reset(): void;
}

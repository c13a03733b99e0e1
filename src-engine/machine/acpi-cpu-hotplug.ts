/**
 * The ACPI CPU hotplug controller of a Domus PC: which processors are plugged in, as the
 * toolstack (`xl vcpu-set`) says, read by the DSDT's methods; and the eject handshake the guest
 * completes when it has let a removed processor go.
 *
 * References:
 * - QEMU docs/specs/acpi_cpu_hotplug.rst, "Legacy ACPI CPU hotplug": a 32-byte bitmap at I/O port
 *   0xAF00 with one bit per CPU (bit n of byte n/8 for CPU n; 1 = present), read with byte
 *   accesses; a change raises the SCI with GPE0 status bit 2.
 * - Xen tools/libacpi/mk_dsdt.c: the same bitmap ("PRST"), read by a GPE method that compares each
 *   bit with what the OS was last told and sends Notify 1 (Device Check) for a CPU that appeared
 *   and Notify 3 (Eject Request) for one that went away.
 * - ACPI Specification 6.5, 5.6.6 (Device Object Notifications), 6.3.3 _EJx (the OS calls _EJ0
 *   once it has released the device).
 *
 * Ports:
 *   0xAF00-0xAF1F  present bitmap (read; writes are ignored)
 *   0xAF20         eject register (write a CPU number: the guest has released that CPU)
 * The eject register is Domus's own (QEMU's legacy interface never implemented removal; Xen's
 * DSDT's _EJ0 only sleeps): the DSDT's _EJ0 writes the processor's UID here, and if the toolstack
 * had removed that CPU the device reports it (`onEject`) so the VCPU can leave the scheduler.
 *
 * The bitmap belongs to the toolstack: a machine reset leaves it as it is, as unplugging a CPU
 * from a real board survives a reset.
 */
import type { IoSize, Persistent, PortDevice } from './device';
import { requireSaved, requireStateVersion } from './save-state';

/** First port of the present bitmap (QEMU's legacy PIIX4 CPU hotplug base). */
export const ACPI_CPU_HOTPLUG_BASE = 0xaf00;
/** Bytes of the present bitmap: 256 CPUs. */
export const ACPI_CPU_PRESENT_BYTES = 32;
/** The eject register (Domus): the guest writes the UID of a CPU it has released. */
export const ACPI_CPU_EJECT_PORT = ACPI_CPU_HOTPLUG_BASE + ACPI_CPU_PRESENT_BYTES;
/** Ports of the eject register. */
export const ACPI_CPU_EJECT_PORTS = 1;
/** GPE0 status/enable bit of CPU hotplug events (QEMU PIIX4 and Xen: bit 2, method \_GPE._E02). */
export const ACPI_GPE_CPU_HOTPLUG = 2;
/** Most CPUs the bitmap can describe. */
export const ACPI_CPU_HOTPLUG_MAX = ACPI_CPU_PRESENT_BYTES * 8;
const BYTE_BITS = 8;
const BYTE_MASK = 0xff;

/** Saved state of the CPU hotplug controller. */
export interface AcpiCpuHotplugState {
  version: 1;
  /** CPUs present (plugged in), ascending. */
  present: number[];
  /** CPUs removed by the toolstack whose eject the guest has not confirmed yet, ascending. */
  ejecting: number[];
}

/** Options of the CPU hotplug controller. */
export interface AcpiCpuHotplugConfig {
  /** CPUs the machine may ever have (maxvcpus). */
  cpus: number;
  /** CPUs present at power-on: 0 .. present-1 (vcpus). */
  present: number;
  /** Raise the CPU hotplug GPE (AcpiPm.raiseGpe(ACPI_GPE_CPU_HOTPLUG)). */
  raiseGpe: () => void;
  /** The guest released removed CPU `cpu` (its _EJ0 ran). */
  onEject: (cpu: number) => void;
}

/** The CPU hotplug controller. Register the bitmap and the eject register with width `any`. */
export class AcpiCpuHotplug implements PortDevice, Persistent<AcpiCpuHotplugState> {
  readonly name = 'acpi-cpu-hotplug';
  readonly cpus: number;
  private readonly present: boolean[];
  private readonly ejecting: boolean[];
  private readonly raiseGpe: () => void;
  private readonly onEject: (cpu: number) => void;

  /** The port ranges to place on the bus. */
  static readonly RANGES: readonly [base: number, count: number][] = [
    [ACPI_CPU_HOTPLUG_BASE, ACPI_CPU_PRESENT_BYTES],
    [ACPI_CPU_EJECT_PORT, ACPI_CPU_EJECT_PORTS],
  ];

  constructor(config: AcpiCpuHotplugConfig) {
    if (!Number.isInteger(config.cpus) || config.cpus < 1 || config.cpus > ACPI_CPU_HOTPLUG_MAX) {
      throw new RangeError(`the CPU hotplug bitmap describes 1 to ${ACPI_CPU_HOTPLUG_MAX} CPUs, not ${config.cpus}`);
    }
    this.cpus = config.cpus;
    const present = Math.max(1, Math.min(config.present, config.cpus));
    this.present = Array.from({ length: config.cpus }, (_, c) => c < present);
    this.ejecting = new Array<boolean>(config.cpus).fill(false);
    this.raiseGpe = config.raiseGpe;
    this.onEject = config.onEject;
  }

  /** True if CPU `cpu` is plugged in. */
  isPresent(cpu: number): boolean {
    return this.present[cpu] === true;
  }

  /** True if CPU `cpu` was removed and the guest has not released it yet. */
  isEjecting(cpu: number): boolean {
    return this.ejecting[cpu] === true;
  }

  /** CPUs plugged in. */
  presentCount(): number {
    return this.present.filter((p) => p).length;
  }

  /**
   * Plugs CPU `cpu` in or pulls it out and raises the hotplug GPE; returns false if nothing
   * changed. CPU 0 (the boot processor) cannot be pulled out. A pulled CPU stays "ejecting" until
   * the guest confirms through the eject register (or the CPU is plugged in again).
   */
  setPresent(cpu: number, present: boolean): boolean {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus) throw new RangeError(`CPU ${cpu} is not one of the ${this.cpus} hotplug slots`);
    if (cpu === 0 && !present) throw new RangeError('CPU 0 (the boot processor) cannot be removed');
    if (this.present[cpu] === present) return false;
    this.present[cpu] = present;
    this.ejecting[cpu] = !present;
    this.raiseGpe();
    return true;
  }

  ioRead(port: number, size: IoSize): number {
    if (port >= ACPI_CPU_EJECT_PORT) return 0;
    let value = 0;
    for (let i = 0; i < size; i++) value += this.bitmapByte(port - ACPI_CPU_HOTPLUG_BASE + i) * 2 ** (BYTE_BITS * i);
    return value;
  }

  ioWrite(port: number, _size: IoSize, value: number): void {
    if (port !== ACPI_CPU_EJECT_PORT) return;
    const cpu = value & BYTE_MASK;
    if (cpu >= this.cpus || !this.ejecting[cpu]) return;
    this.ejecting[cpu] = false;
    this.onEject(cpu);
  }

  saveState(): AcpiCpuHotplugState {
    const list = (bits: boolean[]) => bits.flatMap((b, c) => (b ? [c] : []));
    return { version: 1, present: list(this.present), ejecting: list(this.ejecting) };
  }

  loadState(state: AcpiCpuHotplugState): void {
    requireStateVersion(state, 1, 'the ACPI CPU hotplug controller');
    const valid = (l: unknown) => Array.isArray(l) && l.every((c) => Number.isInteger(c) && c >= 0 && c < this.cpus);
    requireSaved(valid(state.present) && state.present.includes(0), 'the ACPI CPU hotplug controller', 'present');
    requireSaved(valid(state.ejecting), 'the ACPI CPU hotplug controller', 'ejecting');
    this.present.fill(false);
    this.ejecting.fill(false);
    for (const c of state.present) this.present[c] = true;
    for (const c of state.ejecting) this.ejecting[c] = true;
  }

  /** Byte `index` of the present bitmap (bit n = CPU index*8 + n). */
  private bitmapByte(index: number): number {
    let byte = 0;
    for (let bit = 0; bit < BYTE_BITS; bit++) if (this.present[index * BYTE_BITS + bit]) byte |= 1 << bit;
    return byte;
  }
}

/**
 * What the BIOS needs from whoever runs it (the hypervisor thread's domain, or the in-process
 * test machine), and what it is configured with.
 *
 * Concurrency: every call into the BIOS happens on the thread that owns the domain's devices,
 * while the calling VCPU is stopped in its port-I/O exit (or before it first runs). The BIOS
 * reads and writes that VCPU's state block through `callingCpu()` and guest memory through
 * `memory`; nothing else touches them meanwhile.
 */
import type { Cpu } from '../../cpu/cpu';
import type { BlockBackend, BlockMedium } from '../../machine/block-backend';
import type { CmosBootDevice } from '../../machine/cmos-layout';
import type { Clock, IoSize } from '../../machine/device';
import type { GuestPhysMemory } from '../../machine/guest-memory';

/** The runtime side of the BIOS. */
export interface FirmwareHost {
  /** The domain's guest-physical memory (RAM from 0; the BIOS area 0xF0000-0xFFFFF must be RAM). */
  readonly memory: GuestPhysMemory;
  /** The domain's clock (monotonic ns and wall-clock ms), as its devices see it. */
  readonly clock: Clock;
  /**
   * The Cpu view bound to the state block of the VCPU whose trap is being served (the one that
   * executed `OUT 0xE0, AL`). Only called from inside a trap.
   */
  callingCpu(): Cpu;
  /**
   * A service changed the calling VCPU's segment registers (or, at POST through the reset
   * vector, its whole register state): the VCPU must drop state derived from them before its next
   * instruction (e.g. set ATTN_FLUSH so its pCPU calls Cpu.afterStateLoad()).
   */
  reloadCpuState(cpu: Cpu): void;
  /** Port input from the domain's devices (the PIC, PIT, UARTs, 8042, VGA), as the guest would. */
  ioRead(port: number, size: IoSize): number;
  /** Port output to the domain's devices. */
  ioWrite(port: number, size: IoSize, value: number): void;
  /** A line for the user (the domain's console log / the CLI), e.g. "No bootable device.". */
  message(text: string): void;
  /**
   * Booting gave up: no device in the boot order could be booted. `reasons` has one line per
   * device tried. The BIOS parks the VCPU in `cli; hlt` afterwards, so the domain stops either way;
   * the runtime may stop it at once and show the reasons.
   */
  bootFailed?(reasons: readonly string[]): void;
  /**
   * Optional: make guest-physical 0xFFFF0000-0xFFFFFFFF show the same frames as 0xF0000-0xFFFFF
   * (so a CPU reset, which starts at 0xFFFFFFF0, enters the BIOS). Called once at power-on.
   */
  aliasBiosHigh?(): void;
  /**
   * Optional: POST has just rebuilt low memory (IVT, BDA, EBDA); the runtime writes what lives
   * there besides the BIOS's own data (the ACPI RSDP and MP floating pointer).
   */
  afterPost?(): void;
  /**
   * Optional: set the bootstrap processor's local APIC to virtual wire mode (software-enabled,
   * LINT0 ExtINT, LINT1 NMI), as SeaBIOS's smp_setup does during POST, so the 8259s' interrupts
   * reach the CPU. A machine without local APICs leaves it out.
   */
  localApicVirtualWire?(): void;
}

/** A drive the BIOS offers through INT 13h. */
export interface BiosDriveConfig {
  /** Hard disk (0x80, 0x81, ... in list order) or CD-ROM (0xE0, 0xE1, ...). */
  medium: BlockMedium;
  /** The medium; absent when the image could not be opened (then `problem` says why). */
  backend?: BlockBackend;
  /** Why there is no backend, for the boot failure message (e.g. "/x.iso does not exist"). */
  problem?: string;
}

/** How the BIOS is set up for a domain. */
export interface BiosConfig {
  /** Bytes of guest RAM from address 0 (below the 4 GiB hole). */
  ramSize: number;
  /** Devices to try, in order (xl.cfg boot="dc" -> ['cdrom', 'disk']). Default: cdrom, disk. */
  bootOrder?: readonly CmosBootDevice[];
  /** Disks and CD-ROMs, in the order they get BIOS drive numbers. */
  drives?: readonly BiosDriveConfig[];
  /** I/O bases of the fitted COM ports, COM1 first (BDA 0x400). Default [0x3F8]. */
  comPorts?: readonly number[];
  /**
   * Keyboard input for INT 16h from the first COM port's receiver (the serial console), besides
   * the 8042 keyboard. Default true.
   */
  serialKeyboard?: boolean;
}

/**
 * The HVM BIOS: a high-level PC BIOS in TypeScript (DOSBox-style). Guest-visible code is only the
 * ROM stubs (rom.ts); each interrupt service is a TypeScript function reached through the trap
 * port, run on the thread that owns the domain's devices while the calling VCPU waits in its
 * port-I/O exit.
 *
 * Design.
 * - powerOn(cpu): POST in TypeScript before the first instruction, then the boot: the VCPU's
 *   registers are set to the hand-off state (spec section 4.4) or, if nothing boots, to the
 *   `cli; hlt` loop after "No bootable device." is shown and reported.
 * - The trap port (`trapDevice`, at BIOS_TRAP_PORT): an OUT from a ROM stub runs the service its
 *   address names. Results go into the caller's registers and into the FLAGS image the INT
 *   pushed (CF/ZF as callers read them after IRET).
 * - A CPU reset starts at F000:FFF0 -> the POST stub traps -> POST and boot again, entering the
 *   boot image through the stub's IRET (the host must alias the ROM at the top of 4 GiB for that).
 *
 * Concurrency: see host.ts. The BIOS keeps per-domain state (boot record, tick offset, waits);
 * one HvmBios serves one domain.
 */
import type { Cpu } from '../../cpu/cpu';
import {
  CR0_PE, EAX, EBP, EBX, ECX, EDI, EDX, EFLAGS_FIXED1, ESI, ESP, S_CR0, S_EFLAGS, S_EIP, S_IDTR_BASE, S_IDTR_LIMIT, S_LF_OP, S_SEG_BASE,
  S_SEG_SEL, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS, VM,
} from '../../cpu/state';
import type { PortDevice } from '../../machine/device';
import type { CmosBootDevice } from '../../machine/cmos-layout';
import { buildE820Map, type E820Entry } from '../../boot/e820';
import { BiosCall } from './call';
import { BiosDispatcher, biosCatalogue } from './catalogue';
import { assignDrives, type BiosDrive } from './drives';
import type { BiosConfig, FirmwareHost } from './host';
import { KeyboardBuffer } from './keyboard-buffer';
import {
  BIOS_BASE, BIOS_HIGH_ALIAS, BIOS_SEGMENT, BIOS_SIZE, BIOS_TRAP_PORT, BOOT_AX, BOOT_FLAGS, BOOT_STACK_TOP, TRAP_INSN_BYTES,
} from './layout';
import { buildBiosRom, TRAP_POST, type BiosRomImage } from './rom';
import { postDevices, postMemory } from './post';
import type { BiosContext, BiosService, BootRecord } from './service';
import { TextConsole } from './text-console';
import { TickClock } from './services-time';
import { DEFAULT_BOOT_ORDER, tryBoot, type BootEntry } from './boot';

/** RAM kept at the top of guest memory for firmware tables (same place and size as SeaBIOS). */
export const FIRMWARE_TABLES_BYTES = 128 * 1024;
/** The flash window SeaBIOS's 256 KiB image occupies below 4 GiB (reserved in E820). */
export const FLASH_WINDOW_BASE = 0xfffc0000;
export const FLASH_WINDOW_BYTES = 0x40000;
/** Vectors of INT 18h and INT 19h. */
const INT_BOOT_FAILURE = 0x18;
const INT_BOOTSTRAP = 0x19;
/** FLAGS of the halt loop: interrupts off. */
const HALT_FLAGS = EFLAGS_FIXED1;
/** IDTR limit of the real-mode IVT (256 vectors x 4 bytes - 1). */
const IVT_LIMIT = 0x3ff;
/** Bytes of the IRET frame (IP, CS, FLAGS). */
const IRET_FRAME_BYTES = 6;

/** What a BIOS call did, for tracing and tests. */
export interface BiosCallEvent {
  vector: number;
  /** AX at entry. */
  ax: number;
  /** The catalogue entry that ran, undefined when the vector's "unsupported" answer was given. */
  service: BiosService | undefined;
}

/** The result of POST and boot. */
export interface BiosBootResult {
  /** True if a boot image was entered. */
  booted: boolean;
  /** The device booted ("DVD/CD", "Hard Disk"). */
  device?: string;
  /** Why each device of the boot order could not boot. */
  failures: string[];
}

/** E820 map of a BIOS-booted PC with `ramSize` bytes, laid out as SeaBIOS does (spec 4.4). */
export function biosE820Map(ramSize: number): E820Entry[] {
  return buildE820Map({
    ramSize,
    extraReserved: [
      { base: ramSize - FIRMWARE_TABLES_BYTES, length: FIRMWARE_TABLES_BYTES },
      { base: FLASH_WINDOW_BASE, length: FLASH_WINDOW_BYTES },
    ],
  });
}

/** The BIOS of one HVM domain. */
export class HvmBios implements BiosContext {
  readonly rom: BiosRomImage = buildBiosRom();
  readonly console: TextConsole;
  readonly drives: ReadonlyMap<number, BiosDrive>;
  readonly e820: readonly E820Entry[];
  readonly keyboard: KeyboardBuffer;
  readonly pending = new Map<number, number>();
  readonly catalogue: readonly BiosService[];
  boot: BootRecord | undefined;
  /** Called after every BIOS call (tests, `domus` debug tracing). */
  trace: ((event: BiosCallEvent) => void) | undefined;
  /** The port device to place at BIOS_TRAP_PORT on the domain's bus. */
  readonly trapDevice: PortDevice;
  private readonly dispatcher: BiosDispatcher;
  private readonly ticks: TickClock;
  private readonly order: readonly CmosBootDevice[];
  /** Index in the boot order of the device booted last (INT 18h continues after it). */
  private bootIndex = 0;

  constructor(
    readonly config: BiosConfig,
    readonly host: FirmwareHost,
  ) {
    this.console = new TextConsole(host);
    this.drives = assignDrives(config.drives ?? []);
    this.e820 = biosE820Map(config.ramSize);
    this.keyboard = new KeyboardBuffer(() => host.memory);
    this.ticks = new TickClock(() => host.clock.wallMs());
    this.catalogue = biosCatalogue(this.ticks);
    this.dispatcher = new BiosDispatcher(this.catalogue);
    this.order = config.bootOrder ?? DEFAULT_BOOT_ORDER;
    this.trapDevice = {
      name: 'bios',
      ioRead: () => 0xff,
      ioWrite: () => {
        this.trap(this.host.callingCpu());
      },
    };
  }

  /** The trap port. */
  static readonly trapPort = BIOS_TRAP_PORT;

  /**
   * POST and boot before the VCPU's first instruction. `cpu` must be in its reset state; it is
   * left at the boot image's entry (or in the halt loop).
   */
  powerOn(cpu: Cpu): BiosBootResult {
    this.host.aliasBiosHigh?.();
    this.post();
    const entry = this.bootFrom(0);
    const s = cpu.s;
    for (const r of [EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI]) s[r] = 0;
    for (const seg of [SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS]) {
      s[S_SEG_SEL + seg] = 0;
      s[S_SEG_BASE + seg] = 0;
    }
    s[S_LF_OP] = 0;
    s[S_IDTR_BASE] = 0;
    s[S_IDTR_LIMIT] = IVT_LIMIT;
    if (entry !== undefined) {
      this.setEntryRegisters(cpu, entry);
      s[S_SEG_SEL + SEG_CS] = entry.cs;
      s[S_SEG_BASE + SEG_CS] = entry.cs << 4;
      s[S_EIP] = entry.ip;
      s[S_EFLAGS] = BOOT_FLAGS;
      s[ESP] = BOOT_STACK_TOP;
    } else {
      s[S_SEG_SEL + SEG_CS] = BIOS_SEGMENT;
      s[S_SEG_BASE + SEG_CS] = BIOS_BASE;
      s[S_EIP] = this.rom.haltLoop;
      s[S_EFLAGS] = HALT_FLAGS;
      s[ESP] = BOOT_STACK_TOP;
    }
    cpu.updateMode();
    this.host.reloadCpuState(cpu);
    return this.lastResult;
  }

  private lastResult: BiosBootResult = { booted: false, failures: [] };

  private post(): void {
    postMemory(this);
    postDevices(this);
    this.host.afterPost?.();
    this.ticks.update(this);
    this.console.print('Domus BIOS\n\n');
  }

  /** Tries the boot order from index `from`; shows and reports the outcome. */
  private bootFrom(from: number): BootEntry | undefined {
    const attempt = tryBoot(this.order, this.drives, this.host.memory, from);
    for (const line of attempt.screen) this.console.print(`${line}\n`);
    if (attempt.entry === undefined) {
      this.boot = undefined;
      for (const f of attempt.failures) this.host.message(`Boot failed: ${f}`);
      this.host.message('No bootable device.');
      this.host.bootFailed?.(attempt.failures);
      this.lastResult = { booted: false, failures: attempt.failures };
      return undefined;
    }
    this.boot = attempt.entry.record;
    this.bootIndex = attempt.index;
    this.lastResult = { booted: true, device: attempt.entry.what, failures: attempt.failures };
    return attempt.entry;
  }

  private setEntryRegisters(cpu: Cpu, entry: BootEntry): void {
    const s = cpu.s;
    for (const r of [EAX, ECX, EDX, EBX, EBP, ESI, EDI]) s[r] = 0;
    s[EAX] = BOOT_AX;
    s[EDX] = entry.drive;
  }

  /** Runs the service of the ROM stub `cpu` trapped from. Returns false if it was no BIOS stub. */
  trap(cpu: Cpu): boolean {
    const s = cpu.s;
    if ((s[S_CR0] & CR0_PE) !== 0 && (s[S_EFLAGS] & VM) === 0) return false;
    const lin = (s[S_SEG_BASE + SEG_CS] + s[S_EIP] - TRAP_INSN_BYTES) >>> 0;
    const inLow = lin >= BIOS_BASE && lin < BIOS_BASE + BIOS_SIZE;
    const inHigh = lin >= BIOS_HIGH_ALIAS;
    if (!inLow && !inHigh) return false;
    const site = this.rom.trapSites.get(lin & (BIOS_SIZE - 1));
    if (site === undefined) return false;
    const c = new BiosCall(cpu, this.host.memory, site.vector);
    if (site.retry) c.setStubFlags(false, false);
    const ax = c.ax;
    let service: BiosService | undefined;
    try {
      if (site.vector === TRAP_POST) this.postFromTrap(c);
      else if (site.vector === INT_BOOTSTRAP) this.rebootFromTrap(c);
      else if (site.vector === INT_BOOT_FAILURE) this.bootFailureFromTrap(c);
      else service = this.dispatcher.dispatch(c, this);
    } catch (err) {
      // A service that hits something it cannot do (a buffer outside RAM, a host I/O error)
      // fails the call; the guest sees an error status, never a dead BIOS.
      this.host.message(`BIOS: INT ${site.vector.toString(16)}h AX=${ax.toString(16)}h failed: ${err instanceof Error ? err.message : String(err)}`);
      if (site.retry) c.setStubFlags(false, false);
      c.ah = site.vector === 0x15 ? 0x86 : 0x01;
      c.carry = true;
    }
    if (c.segmentsChanged) this.host.reloadCpuState(cpu);
    this.trace?.({ vector: site.vector, ax, service });
    return true;
  }

  /** The reset vector's POST: POST, boot, and enter the image through the stub's IRET. */
  private postFromTrap(c: BiosCall): void {
    this.post();
    this.enterFromTrap(c, this.bootFrom(0));
  }

  /** INT 19h: boot again from the first device of the boot order (no POST). */
  rebootFromTrap(c: BiosCall): void {
    this.enterFromTrap(c, this.bootFrom(0));
  }

  /** INT 18h: the boot program gave up; try the devices after it. */
  private bootFailureFromTrap(c: BiosCall): void {
    this.enterFromTrap(c, this.bootFrom(this.bootIndex + 1));
  }

  /**
   * Points the calling VCPU's pending IRET at the boot entry (or at the halt loop): a fresh stack
   * at 0000:6F3C holding the frame, segment registers and general registers as SeaBIOS leaves them.
   */
  private enterFromTrap(c: BiosCall, entry: BootEntry | undefined): void {
    const cpu = c.cpu;
    const s = cpu.s;
    const frameSp = BOOT_STACK_TOP - IRET_FRAME_BYTES;
    s[S_IDTR_BASE] = 0;
    s[S_IDTR_LIMIT] = IVT_LIMIT;
    for (const seg of [SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS]) c.loadSegment(seg, 0);
    s[ESP] = frameSp;
    const frame = new Uint8Array(IRET_FRAME_BYTES);
    const dv = new DataView(frame.buffer);
    if (entry !== undefined) {
      this.setEntryRegisters(cpu, entry);
      dv.setUint16(0, entry.ip, true);
      dv.setUint16(2, entry.cs, true);
      dv.setUint16(4, BOOT_FLAGS, true);
    } else {
      dv.setUint16(0, this.rom.haltLoop, true);
      dv.setUint16(2, BIOS_SEGMENT, true);
      dv.setUint16(4, HALT_FLAGS, true);
    }
    this.host.memory.write(frameSp, frame);
  }
}

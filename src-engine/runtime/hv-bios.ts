/**
 * The HVM BIOS of one domain on the hypervisor thread: the block devices behind its drives, the
 * VGA text screen, the BIOS (firmware/bios) with its trap port, and GRUB's PIT calibration
 * shortcut with the domain time warp it causes.
 *
 * How a BIOS call runs here. A ROM stub executes `OUT 0xE0, AL`; the pCPU running the VCPU
 * exits with REQ_IO_OUT and waits. The hypervisor loop records which VCPU and pCPU it serves
 * (`calling`) and writes the port; the trap device asks for the calling VCPU's Cpu, which on
 * this thread is a view over the same shared state block (registers, segment caches, flags).
 * The service edits registers and guest memory. If it changed segment registers or reloaded the
 * whole register state (POST after a reset), `reload` asks the pCPU to drop what it derived
 * from them (ATTN_FLUSH) before the next instruction; the OUT ends the block, so the pCPU looks
 * at its attention word right after the exit returns.
 *
 * Time warp. GRUB's TSC calibration waits 55 ms of PIT time; the shortcut moves the domain's
 * clock forward instead (pit-shortcut.ts). The domain's devices run on `clock` (host time plus
 * `warpNs`) and every VCPU's TSC offset moves by the same amount, so the guest sees one
 * consistent jump.
 */
import { Cpu } from '../cpu/cpu';
import type { CpuFeatures } from '../cpu/cpuid';
import type { CpuOps } from '../cpu/ops';
import { STATE_BYTES } from '../cpu/state';
import type { DomainMemory } from '../hv/memory/domain-memory';
import { DomusError, errorMessage } from '../base/errors';
import type { BlockBackend, BlockMedium } from '../machine/block-backend';
import type { CmosBootDevice } from '../machine/cmos-layout';
import type { Clock } from '../machine/device';
import type { PcPlatform } from '../machine/platform-pc';
import { CP437 } from '../machine/vga-text';
import type { TextScreen } from '../api/types';
import type { BiosBootResult } from '../firmware/bios/bios';
import type { BiosDriveConfig, FirmwareHost } from '../firmware/bios/host';
import { installHvmFirmware, type HvmFirmware } from '../firmware/bios/hvm-firmware';
import { BIOS_BASE, BIOS_HIGH_ALIAS, BIOS_SIZE } from '../firmware/bios/layout';
import { createMemoryBlockBackend } from '../firmware/bios/memory-disk';

const FRAME_SHIFT = 12;

/** A disk or CD-ROM of a domain. */
export interface DriveSpec {
  medium: BlockMedium;
  /** Host path of the image (what messages name). */
  path: string;
  /** Disks only: refuse writes (xl.cfg access=ro). CD-ROMs are always read-only. */
  readOnly?: boolean;
  /** The image itself, for images built in memory (tests, the ISO wizard); no file is opened. */
  data?: Uint8Array;
}

/** Booting through the BIOS: the drives (in BIOS order) and the boot order. */
export interface BiosBootSpec {
  drives: DriveSpec[];
  /** xl.cfg boot="dc" -> ['cdrom', 'disk']; default CD-ROM, then disk. */
  bootOrder?: CmosBootDevice[];
  /** GRUB's PIT calibration shortcut (default on). */
  pitShortcut?: boolean;
}

/** What the hypervisor thread's host offers for building domains (files live in src-engine/node). */
export interface HvServices {
  /** Opens a drive's image file; throws a DomusError naming the file and the fix if it cannot. */
  openBlock(drive: DriveSpec): BlockBackend;
}

/** What DomainBios needs from its domain. */
export interface DomainBiosOptions {
  spec: BiosBootSpec;
  ramBytes: number;
  memory: DomainMemory;
  platform: PcPlatform;
  clock: Clock;
  states: SharedArrayBuffer;
  /** Byte offset of VCPU 0's state block in `states`. */
  statesOffset: number;
  nrVcpus: number;
  features: CpuFeatures;
  services: HvServices | undefined;
  /** A line for the user (the console log, `domus run`'s stderr). */
  message(text: string): void;
  /** The VCPU's registers were rewritten: its pCPU must reload what it derived from them. */
  reload(vcpu: number): void;
  /** The domain's time moved forward by `ns`. */
  warped(ns: number): void;
  /** POST rebuilt low memory: write the firmware tables. */
  afterPost(): void;
}

/** Opens every drive, closing the ones already open if one fails. */
function openDrives(drives: DriveSpec[], services: HvServices | undefined): BlockBackend[] {
  const out: BlockBackend[] = [];
  try {
    for (const d of drives) {
      if (d.data !== undefined) out.push(createMemoryBlockBackend(d.data, { name: d.path, medium: d.medium, readOnly: d.readOnly }));
      else if (services !== undefined) out.push(services.openBlock(d));
      else throw new DomusError('domain.drive', `Cannot open ${d.path}: this engine has no file access.`, d.path);
    }
  } catch (e) {
    for (const b of out) {
      try {
        b.close();
      } catch {
        // Already failing; the first error is the one to report.
      }
    }
    throw e;
  }
  return out;
}

/** The BIOS side of one HVM domain. */
export class DomainBios {
  /** The BIOS, the VGA text screen and the PIT shortcut (firmware/bios/hvm-firmware.ts). */
  readonly fw: HvmFirmware;
  readonly backends: BlockBackend[];
  /** The VCPU whose exit is being served (set by the hypervisor loop before port I/O). */
  calling = 0;
  private readonly cpus: Cpu[] = [];

  constructor(private readonly o: DomainBiosOptions) {
    this.backends = openDrives(o.spec.drives, o.services);
    try {
      const host: FirmwareHost = {
        memory: o.memory,
        clock: o.clock,
        callingCpu: () => {
          // The pCPU ran the VCPU since the last call: rebuild the view's caches from the block.
          const c = this.cpu(this.calling);
          c.afterStateLoad();
          return c;
        },
        reloadCpuState: (c) => {
          c.updateMode();
          o.reload(c.vcpuId);
        },
        ioRead: (port, size) => o.platform.bus.read(port, size),
        ioWrite: (port, size, value) => o.platform.bus.write(port, size, value),
        message: (text) => o.message(text),
        aliasBiosHigh: () => this.aliasHigh(),
        afterPost: () => o.afterPost(),
        localApicVirtualWire: () => o.platform.localApicVirtualWire(),
      };
      const drives: BiosDriveConfig[] = this.backends.map((backend) => ({ medium: backend.medium, backend }));
      this.fw = installHvmFirmware(o.platform, { ramSize: o.ramBytes, bootOrder: o.spec.bootOrder, drives }, host);
      this.fw.pitShortcut.enabled = o.spec.pitShortcut ?? true;
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Shows the BIOS frames at the top of 4 GiB too, where a CPU reset starts. */
  aliasHigh(): void {
    const frames = BIOS_SIZE >>> FRAME_SHIFT;
    if (!this.o.memory.isAlias(BIOS_HIGH_ALIAS >>> FRAME_SHIFT)) this.o.memory.alias(BIOS_HIGH_ALIAS >>> FRAME_SHIFT, BIOS_BASE >>> FRAME_SHIFT, frames);
  }

  /** A Cpu over VCPU `v`'s state block for the BIOS (no execution happens through it). */
  cpu(v: number): Cpu {
    let c = this.cpus[v];
    if (c === undefined) {
      const noOps = null as unknown as CpuOps;
      c = new Cpu(this.o.states, this.o.statesOffset + v * STATE_BYTES, this.o.memory.physMemory, noOps, { features: this.o.features, vcpuId: v });
      this.cpus[v] = c;
    }
    return c;
  }

  /** POST and boot on the boot VCPU, before it first runs. */
  powerOn(): BiosBootResult {
    this.calling = 0;
    const r = this.fw.bios.powerOn(this.cpu(0));
    // The BIOS reports a failed boot itself; a successful one is told here, as the screen shows it.
    if (r.booted) {
      for (const f of r.failures) this.o.message(`Boot failed: ${f}`);
      this.o.message(`Booting from ${r.device ?? 'the first device'}...`);
    }
    return r;
  }

  /** A port read of the domain (after the device answered). */
  onPortRead(port: number): void {
    this.fw.observeRead(port);
  }

  /** A port write of the domain (after the device saw it): may warp the domain's time. */
  onPortWrite(port: number, value: number): void {
    const w = this.fw.observeWrite(port, value);
    if (w > 0) this.o.warped(w);
  }

  /** Flushes and closes the drives (domain destruction). Errors are reported, not thrown. */
  close(): void {
    for (const b of this.backends ?? []) {
      try {
        b.close();
      } catch (e) {
        this.o.message(`Closing ${b.name}: ${errorMessage(e)}`);
      }
    }
  }
}

/** The VGA text screen as the API carries it. */
export function textScreen(b: DomainBios): TextScreen {
  const snap = b.fw.vga.snapshot();
  const lines: string[] = [];
  const attrs: number[] = new Array<number>(snap.cells.length);
  for (let r = 0; r < snap.rows; r++) {
    let line = '';
    for (let c = 0; c < snap.cols; c++) {
      const cell = snap.cells[r * snap.cols + c];
      line += CP437[cell & 0xff];
      attrs[r * snap.cols + c] = cell >>> 8;
    }
    lines.push(line);
  }
  const { row, col, visible } = snap.cursor;
  return { cols: snap.cols, rows: snap.rows, lines, attrs, cursor: { row, col, visible } };
}

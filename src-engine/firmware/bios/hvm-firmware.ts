/**
 * Everything an HVM domain needs besides its PC devices, in one call for the runtime: the VGA text
 * screen on the bus, the BIOS with its trap port, and GRUB's PIT calibration shortcut with the
 * domain time warp it asks for.
 *
 * Wiring, on the thread that owns the domain's devices:
 *   const clock = new WarpClock(hostClock);                 // give it to createPcPlatform too
 *   const fw = installHvmFirmware(platform, biosConfig, host);
 *   fw.bios.powerOn(bspCpu);                                // after the VCPU's reset
 *   // per port-I/O exit, with host.callingCpu() returning that VCPU's Cpu view:
 *   //   IN:  fw.observeRead(port)  before bus.read
 *   //   OUT: bus.write(...); const warp = fw.observeWrite(port, value);
 *   //        if (warp > 0) { clock.advance(warp); advanceTscOffsets(vcpuStates, warp); }
 */
import type { Clock } from '../../machine/device';
import type { PcPlatform } from '../../machine/platform-pc';
import { VgaText, registerVgaText } from '../../machine/vga-text';
import { S_TSC_OFFSET_F64 } from '../../cpu/state';
import { HvmBios } from './bios';
import type { BiosConfig, FirmwareHost } from './host';
import { BIOS_TRAP_PORT } from './layout';
import { GrubCalibrationShortcut } from './pit-shortcut';

/** The firmware side of one HVM domain. */
export interface HvmFirmware {
  readonly bios: HvmBios;
  /** The text screen (for the GUI: snapshotIfChanged(), lines(), cursor()). */
  readonly vga: VgaText;
  readonly pitShortcut: GrubCalibrationShortcut;
  /** Feed every port read of the domain (before the device answers). */
  observeRead(port: number): void;
  /** Feed every port write (after the device took it); returns nanoseconds to move time forward. */
  observeWrite(port: number, value: number): number;
}

/** Places the VGA and the BIOS trap port on `platform.bus` and builds the BIOS. */
export function installHvmFirmware(platform: PcPlatform, config: BiosConfig, host: FirmwareHost): HvmFirmware {
  const vga = new VgaText({ memory: host.memory });
  registerVgaText(platform.bus, vga);
  const bios = new HvmBios(config, host);
  platform.bus.register(BIOS_TRAP_PORT, 1, bios.trapDevice);
  const pitShortcut = new GrubCalibrationShortcut();
  return {
    bios,
    vga,
    pitShortcut,
    observeRead: (port) => pitShortcut.onRead(port),
    observeWrite: (port, value) => pitShortcut.onWrite(port, value),
  };
}

/** A domain clock that runs with another clock but can be moved forward (never back). */
export class WarpClock implements Clock {
  /** Nanoseconds added so far. */
  offsetNs = 0;

  constructor(private readonly base: Clock) {}

  now(): number {
    return this.base.now() + this.offsetNs;
  }

  wallMs(): number {
    return this.base.wallMs() + this.offsetNs / 1e6;
  }

  /** Moves the clock forward by `ns`. */
  advance(ns: number): void {
    if (ns > 0) this.offsetNs += ns;
  }
}

/**
 * Moves the TSC of every VCPU forward by `ns` (their state blocks' TSC offset, read by RDTSC on
 * whichever pCPU runs them), so guest TSC and device time stay in step after a warp.
 */
export function advanceTscOffsets(states: readonly Int32Array[], ns: number): void {
  for (const s of states) {
    const f64 = new Float64Array(s.buffer, s.byteOffset, s.length / 2);
    f64[S_TSC_OFFSET_F64 / 2] += ns;
  }
}

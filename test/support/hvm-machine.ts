/**
 * An in-process HVM machine on one thread, for tests and benchmarks: one VCPU (src-engine/cpu),
 * the PC devices (createPcPlatform), the VGA text screen, the BIOS (src-engine/firmware/bios) and
 * block devices. The real engine runs the same BIOS on its hypervisor thread; this machine wires
 * the same pieces directly:
 *
 *   CPU port I/O  -> platform.bus (the BIOS trap device sits at 0xE0, the VGA at 0x3C0-0x3DF)
 *   INTR / INTA   -> the platform's PIC
 *   device time   -> a WarpClock over the host clock, moved forward by GRUB's PIT calibration
 *                    shortcut together with the VCPU's TSC offset (as the runtime would)
 *   reset vector  -> P2M entries of 0xFFFF0000-0xFFFFFFFF aliased to the BIOS frames
 *
 * `run()` executes in slices, ticking the devices between them and sleeping through HLT until the
 * next device deadline, and stops on a condition, isa-debug-exit, a final halt, a shutdown or a
 * time limit.
 */
import { Cpu, RunExit } from '../../src-engine/cpu/cpu';
import type { CpuOps } from '../../src-engine/cpu/ops';
import { IF, S_A20_MASK, S_EFLAGS, S_HALTED, S_INTR_LINE, S_NMI_PENDING, STATE_BYTES } from '../../src-engine/cpu/state';
import { MachineMemory } from '../../src-engine/hv/memory/machine-memory';
import { DomainMemory } from '../../src-engine/hv/memory/domain-memory';
import { createPcPlatform, type PcPlatform } from '../../src-engine/machine/platform-pc';
import type { Clock, IoSize } from '../../src-engine/machine/device';
import type { BlockBackend } from '../../src-engine/machine/block-backend';
import type { CmosBootDevice } from '../../src-engine/machine/cmos-layout';
import type { VgaText } from '../../src-engine/machine/vga-text';
import type { HvmBios, BiosBootResult } from '../../src-engine/firmware/bios/bios';
import type { FirmwareHost } from '../../src-engine/firmware/bios/host';
import { BIOS_BASE, BIOS_HIGH_ALIAS, BIOS_SIZE } from '../../src-engine/firmware/bios/layout';
import type { GrubCalibrationShortcut } from '../../src-engine/firmware/bios/pit-shortcut';
import { WarpClock, advanceTscOffsets, installHvmFirmware, type HvmFirmware } from '../../src-engine/firmware/bios/hvm-firmware';

/** Options of createHvmMachine. */
export interface HvmMachineConfig {
  memoryMiB?: number;
  /** CD-ROMs (0xE0...) and hard disks (0x80...), in BIOS order. */
  cdroms?: BlockBackend[];
  disks?: BlockBackend[];
  /** Drives whose image is missing: medium and the reason shown. */
  missing?: { medium: 'disk' | 'cdrom'; problem: string }[];
  bootOrder?: CmosBootDevice[];
  /** GRUB's PIT calibration shortcut (default on). */
  pitShortcut?: boolean;
  /** Do not POST at creation (tests that drive the BIOS themselves). */
  noPowerOn?: boolean;
  /** The wall clock (ms since the epoch) the machine sees; default Date.now. */
  wallMs?: () => number;
}

/** Why run() returned. */
export type HvmStop = 'condition' | 'debug-exit' | 'halted' | 'shutdown' | 'timeout' | 'reset';

/** The machine. */
export interface HvmMachine {
  readonly cpu: Cpu;
  readonly memory: DomainMemory;
  readonly platform: PcPlatform;
  readonly vga: VgaText;
  readonly bios: HvmBios;
  readonly host: FirmwareHost;
  readonly pitShortcut: GrubCalibrationShortcut;
  /** Result of the power-on POST and boot. */
  readonly bootResult: BiosBootResult | undefined;
  /** COM1 output so far (latin1). */
  serial(): string;
  /** Lines the BIOS sent to the console (host.message). */
  readonly messages: string[];
  /** Reasons given to host.bootFailed, if it was called. */
  readonly bootFailures: readonly string[] | undefined;
  /** isa-debug-exit status, if written. */
  debugExit(): number | undefined;
  /** Nanoseconds the machine's clock was moved forward. */
  warpNs(): number;
  /** Types bytes on the COM1 console. */
  type(text: string): void;
  /** Runs until `until()` holds, the guest stops, or `maxMs` of host time passed. */
  run(opts: { until?: () => boolean; maxMs?: number }): HvmStop;
}

const DEFAULT_MEMORY_MIB = 128;
const SLICE_INSNS = 20_000;
const FRAME_SHIFT = 12;

/** Sleeps the thread for `ms` (HLT with a timer pending). */
function sleepMs(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Builds the machine and (unless told not to) runs POST and the boot. */
export function createHvmMachine(config: HvmMachineConfig = {}): HvmMachine {
  const ramBytes = (config.memoryMiB ?? DEFAULT_MEMORY_MIB) * 2 ** 20;
  const pool = new MachineMemory(ramBytes);
  const memory = new DomainMemory(pool, 'hvm-test', { ramBytes });
  const hostClock: Clock = { now: () => performance.now() * 1e6, wallMs: config.wallMs ?? (() => Date.now()) };
  const clock = new WarpClock(hostClock);
  let serialOut = '';
  let exitStatus: number | undefined;
  let resetRequested = false;
  const messages: string[] = [];
  let bootFailures: readonly string[] | undefined;
  /** The VCPU, once built (the device callbacks below are created before it). */
  const vcpu: { cpu?: Cpu } = {};

  const platform = createPcPlatform({
    clock,
    ramBelow4G: ramBytes,
    uarts: [1],
    debugExit: true,
    bootOrder: config.bootOrder,
    onUartTransmit: (_com, byte) => void (serialOut += String.fromCharCode(byte)),
    onDebugExit: (status) => {
      exitStatus = status;
      if (vcpu.cpu) vcpu.cpu.attn[0] = 1;
    },
    onResetRequest: () => {
      resetRequested = true;
      if (vcpu.cpu) vcpu.cpu.attn[0] = 1;
    },
    onA20Change: (on) => {
      if (vcpu.cpu) vcpu.cpu.s[S_A20_MASK] = on ? -1 : ~(1 << 20);
    },
    onIntrChange: (level) => {
      if (!vcpu.cpu) return;
      vcpu.cpu.s[S_INTR_LINE] = level ? 1 : 0;
      vcpu.cpu.attn[0] = 1;
    },
  });
  const fw: { current?: HvmFirmware } = {};
  const io = {
    read: (port: number, size: IoSize) => {
      fw.current?.observeRead(port);
      return platform.bus.read(port, size);
    },
    write: (port: number, size: IoSize, value: number) => {
      platform.bus.write(port, size, value);
      const warp = fw.current?.observeWrite(port, value) ?? 0;
      if (warp > 0) {
        clock.advance(warp);
        if (vcpu.cpu) advanceTscOffsets([vcpu.cpu.s], warp);
      }
    },
  };

  const ops: CpuOps = {
    ioRead: (port, size) => io.read(port, size),
    ioWrite: (port, size, value) => io.write(port, size, value),
    mmioRead: (_a, size) => (size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff),
    mmioWrite: () => {},
    rdmsr: () => undefined,
    wrmsr: () => false,
    cpuid: () => false,
    hypercall: () => false,
    acknowledgeInterrupt: () => platform.interruptController.acknowledge(),
    attention: () => {
      theCpu.attn[0] = 0;
      return exitStatus !== undefined || resetRequested;
    },
    nowNs: () => hostClock.now(),
  };
  // The state block in the pool memory when the pool is one (as the runtime's domains have it).
  const st = pool.allocateStates(STATE_BYTES);
  const theCpu = new Cpu(st.buffer, st.offset, memory.physMemory, ops);
  theCpu.reset();
  vcpu.cpu = theCpu;

  const host: FirmwareHost = {
    memory,
    clock,
    callingCpu: () => theCpu,
    reloadCpuState: (c) => {
      c.updateMode();
      c.localAttention = true;
    },
    ioRead: (port, size) => platform.bus.read(port, size),
    ioWrite: (port, size, value) => platform.bus.write(port, size, value),
    message: (text) => void messages.push(text),
    bootFailed: (reasons) => void (bootFailures = reasons),
    aliasBiosHigh: () => {
      const p2m = memory.p2m;
      const frames = BIOS_SIZE >> FRAME_SHIFT;
      for (let i = 0; i < frames; i++) p2m[(BIOS_HIGH_ALIAS >>> FRAME_SHIFT) + i] = p2m[(BIOS_BASE >> FRAME_SHIFT) + i];
    },
  };

  const drives = [
    ...(config.disks ?? []).map((backend) => ({ medium: 'disk' as const, backend })),
    ...(config.cdroms ?? []).map((backend) => ({ medium: 'cdrom' as const, backend })),
    ...(config.missing ?? []),
  ];
  const firmware = installHvmFirmware(platform, { ramSize: ramBytes, bootOrder: config.bootOrder, drives }, host);
  fw.current = firmware;
  firmware.pitShortcut.enabled = config.pitShortcut ?? true;
  const { bios, vga } = firmware;
  const bootResult = config.noPowerOn ? undefined : bios.powerOn(theCpu);

  function run(opts: { until?: () => boolean; maxMs?: number }): HvmStop {
    const deadline = performance.now() + (opts.maxMs ?? 10_000);
    for (;;) {
      if (opts.until?.()) return 'condition';
      if (exitStatus !== undefined) return 'debug-exit';
      if (resetRequested) return 'reset';
      if (performance.now() > deadline) return 'timeout';
      platform.tick(clock.now());
      const s = theCpu.s;
      if (s[S_HALTED] !== 0) {
        // Like the hypervisor: a halted VCPU runs again only when an interrupt can be delivered.
        if ((s[S_EFLAGS] & IF) === 0 && s[S_NMI_PENDING] === 0) return 'halted';
        if (s[S_INTR_LINE] === 0 && s[S_NMI_PENDING] === 0) {
          const next = platform.tick(clock.now());
          sleepMs(Math.min(10, Math.max(0, (next - clock.now()) / 1e6)));
          continue;
        }
        theCpu.attn[0] = 1;
      }
      const e = theCpu.run(theCpu.icount + SLICE_INSNS);
      if (e === RunExit.Shutdown) return 'shutdown';
    }
  }

  return {
    cpu: theCpu,
    memory,
    platform,
    vga,
    bios,
    host,
    pitShortcut: firmware.pitShortcut,
    bootResult,
    serial: () => serialOut,
    messages,
    get bootFailures() {
      return bootFailures;
    },
    debugExit: () => exitStatus,
    warpNs: () => clock.offsetNs,
    type: (text) => platform.consoleInput(1, Array.from(text, (ch) => ch.charCodeAt(0) & 0xff)),
    run,
  };
}

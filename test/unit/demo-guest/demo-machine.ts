/**
 * The PC a Domus domain gives a directly booted multiboot kernel, in-process on one thread, for
 * the demo guest's tests: one VCPU with a local APIC (the engine's CPU features), the SMP/ACPI
 * platform of src-engine/machine/platform-pc.ts (8259s, PIT, RTC, 8042, COM1, IOAPIC, ACPI PM
 * block), the VGA text screen, the ACPI and MP tables the runtime writes before a direct boot
 * (hv-domain.ts initVcpus), the multiboot loader and directBootSetup. The runtime's pCPU loop
 * is replaced by a small one that follows the same rules as test/unit/machine/lapic-smp-guest:
 * local APIC MMIO and MSRs served from the VCPU's region, the INTR line recomputed from
 * lapicHasInterrupt, ExtINT acknowledged at the 8259.
 *
 * Time is virtual and deterministic: 1 ns per retired instruction (a 1 GHz, 1-IPC machine, so the
 * TSC runs at exactly 1 GHz), and a VCPU halted with interrupts on skips to the next device
 * deadline. The wall clock (CMOS RTC) starts at WALL_CLOCK_START.
 */
import { Cpu, RunExit } from '../../../src-engine/cpu/cpu';
import type { CpuOps } from '../../../src-engine/cpu/ops';
import { DEFAULT_FEATURES } from '../../../src-engine/cpu/cpuid';
import { readTsc } from '../../../src-engine/cpu/msr';
import { IF, S_EFLAGS, S_HALTED, S_INTR_LINE, S_NMI_PENDING, STATE_BYTES } from '../../../src-engine/cpu/state';
import { MachineMemory } from '../../../src-engine/hv/memory/machine-memory';
import { DomainMemory } from '../../../src-engine/hv/memory/domain-memory';
import { loadMultibootKernel } from '../../../src-engine/boot/multiboot';
import { createPcPlatform, pcIoApicId, type PcPlatform } from '../../../src-engine/machine/platform-pc';
import { VgaText, registerVgaText } from '../../../src-engine/machine/vga-text';
import { lapicRegions, lapicRegionsBytes } from '../../../src-engine/machine/lapic-regs';
import { lapicHasInterrupt } from '../../../src-engine/machine/lapic-core';
import {
  LAPIC_ACK_EXTINT, LAPIC_EFFECT_EOI, LAPIC_EFFECT_IPI, LAPIC_MSR_FAULT, lapicAcknowledge, lapicClaims, lapicMmioBase,
  lapicMmioRead, lapicMmioWrite, lapicOwnsMsr, lapicReadMsr, lapicWriteMsr, newLapicWriteOut,
} from '../../../src-engine/machine/lapic';
import { lapicTakeNmis } from '../../../src-engine/machine/lapic-startup';
import { e820Reserved, writePcTables } from '../../../src-engine/firmware/tables/pc-tables';

/** Wall-clock time the RTC shows at power-on: 2024-05-06 07:08:09 UTC. */
export const WALL_CLOCK_START = Date.UTC(2024, 4, 6, 7, 8, 9);
/** Instructions between device ticks. */
const SLICE = 20_000;
const NS_PER_MS = 1e6;

/** Virtual time one run() may take at most by default (an idle guest needs few instructions). */
const MAX_RUN_NS = 30e9;

/** Why run() returned: `budget` when the instruction or the time limit was reached. */
export type DemoStop = 'condition' | 'poweroff' | 'reset' | 'shutdown' | 'halted' | 'budget';

/** Limits of one run() call. */
export interface DemoRunOptions {
  until?: () => boolean;
  maxInstructions: number;
  maxNs?: number;
}

/** The machine. */
export interface DemoMachine {
  readonly cpu: Cpu;
  readonly platform: PcPlatform;
  readonly vga: VgaText;
  /** COM1 output so far, as sent (latin1, with ANSI sequences and CR LF). */
  serial(): string;
  /** COM1 output as plain text: ANSI sequences and CRs removed. */
  text(): string;
  /** Types bytes on COM1. */
  type(text: string): void;
  /**
   * Runs until `until()` holds, the guest ends, `maxInstructions` more have retired or `maxNs` of
   * virtual time (default MAX_RUN_NS) have passed.
   */
  run(opts: DemoRunOptions): DemoStop;
  /** Virtual time in nanoseconds. */
  now(): number;
  /** The ACPI PM block saw S5. */
  readonly poweredOff: boolean;
  /** The source of the first reset request ("i8042", "pci-reset-control", ...), if any. */
  readonly resetSource: string | undefined;
}

/** Options of bootDemo. */
export interface DemoMachineConfig {
  elf: Uint8Array;
  memoryMiB: number;
  cmdline?: string;
}

/** ESC, the first byte of an ANSI (ECMA-48) control sequence. */
const ESC = String.fromCharCode(0x1b);
/** A control sequence as the demo guest sends them: CSI, numeric parameters, one final letter. */
const ANSI_SEQUENCE = new RegExp(`${ESC}\\[[0-9;]*[A-Za-z]`, 'g');

/** Removes ANSI escape sequences and carriage returns. */
export function plainText(serial: string): string {
  return serial.replace(ANSI_SEQUENCE, '').replace(/\r/g, '');
}

/** Builds the machine, loads the kernel as `domus run --kernel` does and points the VCPU at it. */
export function bootDemo(config: DemoMachineConfig): DemoMachine {
  const ram = config.memoryMiB * 2 ** 20;
  const memory = new DomainMemory(new MachineMemory(ram), 'demo-guest', { ramBytes: ram });
  const lapic = lapicRegions(new SharedArrayBuffer(lapicRegionsBytes(1)), 1)[0];
  // Virtual time: `time` at the start of the running slice plus the instructions retired since.
  let time = 0;
  let sliceStart = 0;
  const vcpu: { cpu?: Cpu } = {};
  const now = () => time + (vcpu.cpu ? vcpu.cpu.icount - sliceStart : 0);
  const clock = { now, wallMs: () => WALL_CLOCK_START + now() / NS_PER_MS };
  let serial = '';
  // plainText(serial), recomputed only when output arrived (until() callbacks ask every slice).
  let plain = '';
  let plainOf = 0;
  const text = () => {
    if (plainOf !== serial.length) {
      plain = plainText(serial);
      plainOf = serial.length;
    }
    return plain;
  };
  let poweredOff = false;
  let resetSource: string | undefined;
  const poke = () => {
    if (vcpu.cpu) vcpu.cpu.attn[0] = 1;
  };
  const platform = createPcPlatform({
    clock,
    ramBelow4G: ram,
    cpus: 1,
    uarts: [1],
    smp: { lapics: [lapic], kick: poke },
    onUartTransmit: (_com, byte) => void (serial += String.fromCharCode(byte)),
    onPowerOff: () => {
      poweredOff = true;
      poke();
    },
    onResetRequest: (source) => {
      resetSource ??= source;
      poke();
    },
  });
  const vga = new VgaText({ memory });
  registerVgaText(platform.bus, vga);

  const out = newLapicWriteOut();
  const recheck = () => {
    const cpu = vcpu.cpu as Cpu;
    cpu.s[S_INTR_LINE] = lapicHasInterrupt(lapic) ? 1 : 0;
    cpu.attn[0] = 1;
  };
  const effects = (e: number) => {
    if (e & LAPIC_EFFECT_IPI) platform.lapicBus?.deliverIpi(out.ipi);
    if (e & LAPIC_EFFECT_EOI) platform.endOfInterrupt(out.eoiVector);
    recheck();
  };
  const ops: CpuOps = {
    ioRead: (port, size) => platform.bus.read(port, size) >>> 0,
    ioWrite: (port, size, value) => platform.bus.write(port, size, value),
    mmioRead: (addr, size) => (lapicClaims(lapic, addr) ? lapicMmioRead(lapic, addr - lapicMmioBase(lapic), size, now()) : platform.mmio.read(addr, size)),
    mmioWrite: (addr, size, value) => {
      if (lapicClaims(lapic, addr)) effects(lapicMmioWrite(lapic, addr - lapicMmioBase(lapic), size, value, now(), out));
      else platform.mmio.write(addr, size, value);
    },
    rdmsr: (index) => (lapicOwnsMsr(index) ? lapicReadMsr(lapic, index, now()) : undefined),
    wrmsr: (index, lo, hi) => {
      if (!lapicOwnsMsr(index)) return false;
      const e = lapicWriteMsr(lapic, index, lo, hi, now(), readTsc(cpu));
      if (e === LAPIC_MSR_FAULT) return false;
      effects(e);
      return true;
    },
    cpuid: () => false,
    hypercall: () => false,
    acknowledgeInterrupt: () => {
      let vector = lapicAcknowledge(lapic);
      if (vector === LAPIC_ACK_EXTINT) vector = platform.interruptController.acknowledge();
      recheck();
      return vector;
    },
    attention: () => {
      cpu.attn[0] = 0;
      cpu.s[S_NMI_PENDING] += lapicTakeNmis(lapic);
      cpu.s[S_INTR_LINE] = lapicHasInterrupt(lapic) ? 1 : 0;
      return poweredOff || resetSource !== undefined;
    },
    nowNs: now,
  };
  const cpu = new Cpu(new SharedArrayBuffer(STATE_BYTES), 0, memory.physMemory, ops, { features: { ...DEFAULT_FEATURES, apic: true }, vcpuId: 0 });
  cpu.reset();
  vcpu.cpu = cpu;
  sliceStart = cpu.icount;

  // As the runtime does for a direct boot: firmware tables first, so the memory map reserves them.
  const tables = writePcTables(memory, { vcpus: 1, ioApicId: pcIoApicId(1), acpi: { vga: true } });
  const boot = loadMultibootKernel({
    kernel: config.elf,
    kernelPath: 'demo.elf',
    cmdline: config.cmdline ?? '',
    memory,
    extraReserved: e820Reserved(tables.ranges),
  });
  platform.directBootSetup();
  cpu.init(boot.init);

  let deadline = platform.tick(now());

  function run(opts: DemoRunOptions): DemoStop {
    const stop = cpu.icount + opts.maxInstructions;
    const endNs = now() + (opts.maxNs ?? MAX_RUN_NS);
    for (;;) {
      if (opts.until?.()) return 'condition';
      if (poweredOff) return 'poweroff';
      if (resetSource !== undefined) return 'reset';
      if (cpu.icount >= stop || now() >= endNs) return 'budget';
      if (cpu.s[S_HALTED] !== 0 && !lapicHasInterrupt(lapic) && cpu.s[S_NMI_PENDING] === 0) {
        // Halted: with interrupts off nothing can wake it; else sleep to the next device deadline.
        if ((cpu.s[S_EFLAGS] & IF) === 0) return 'halted';
        if (platform.timersChanged) deadline = platform.tick(now());
        if (deadline === Infinity) return 'halted';
        time = Math.max(time, deadline);
        deadline = platform.tick(now());
        continue;
      }
      recheck();
      const exit = cpu.run(Math.min(stop, cpu.icount + SLICE));
      time += cpu.icount - sliceStart;
      sliceStart = cpu.icount;
      if (exit === RunExit.Shutdown) return 'shutdown';
      if (now() >= deadline || platform.timersChanged) deadline = platform.tick(now());
    }
  }

  return {
    cpu,
    platform,
    vga,
    serial: () => serial,
    text,
    type: (text) => platform.consoleInput(1, Array.from(text, (ch) => ch.charCodeAt(0) & 0xff)),
    run,
    now,
    get poweredOff() {
      return poweredOff;
    },
    get resetSource() {
      return resetSource;
    },
  };
}

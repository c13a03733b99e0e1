/**
 * A small in-process PC for CPU tests: one VCPU over flat guest RAM plus the real PC devices of
 * src-engine/machine/platform-pc.ts (PIC, PIT, RTC, 8042, port 0x92, COM1, isa-debug-exit), on a
 * virtual clock that advances with the instructions retired (and jumps to the next device
 * deadline while the VCPU halts). Deterministic: the same guest prints the same bytes every run.
 *
 * Use it for bare-metal guests that need interrupts (HLT wake-ups, the PIT) or real device
 * registers (the UART scratch register); cpu-harness.ts is enough for everything else.
 */
import { Cpu, RunExit } from '../../src-engine/cpu/cpu';
import type { CpuOps } from '../../src-engine/cpu/ops';
import type { CpuFeatures } from '../../src-engine/cpu/cpuid';
import {
  ESP, IF, S_A20_MASK, S_EFLAGS, S_EIP, S_INTR_LINE, S_NMI_PENDING, S_SEG_BASE, S_SEG_SEL, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS,
  STATE_BYTES,
} from '../../src-engine/cpu/state';
import { MachineMemory } from '../../src-engine/hv/memory/machine-memory';
import { DomainMemory } from '../../src-engine/hv/memory/domain-memory';
import { loadMultibootKernel } from '../../src-engine/boot/multiboot';
import { createPcPlatform, type PcPlatform } from '../../src-engine/machine/platform-pc';

/** Virtual nanoseconds one retired instruction takes (a 1 GHz, 1-IPC machine). */
const NS_PER_INSTRUCTION = 1;
/** Instructions run between device ticks. */
const SLICE = 20_000;
/** A VCPU halted past this virtual time is taken to hang (guests here finish in milliseconds). */
const MAX_HALTED_NS = 60e9;
/** Real-mode stack top for startReal. */
const REAL_STACK = 0x7000;
/** A20 masks as the state block holds them. */
const A20_OPEN = -1;
const A20_CLOSED = ~(1 << 20);

/** How a machine run ended. */
export type PcRunEnd = 'debug-exit' | 'shutdown' | 'hang' | 'budget';

/** The runner's API. */
export interface PcMachine {
  readonly cpu: Cpu;
  readonly memory: DomainMemory;
  readonly platform: PcPlatform;
  /** Bytes the guest sent on COM1. */
  serial(): string;
  /** Status the guest wrote to isa-debug-exit, if it did. */
  debugExit(): number | undefined;
  /** Loads a multiboot v1 ELF like `qemu -kernel` and points the VCPU at it. */
  loadMultiboot(elf: Uint8Array, cmdline?: string): void;
  /** Places real-mode code at 0000:`at` and starts there from reset (SS:SP = 0000:7000). */
  startReal(code: Uint8Array, at: number): void;
  /**
   * Runs until debug exit, shutdown (triple fault), a halt with nothing that could ever wake it
   * ("hang"), or `maxInstructions`.
   */
  run(maxInstructions: number): PcRunEnd;
  /** Virtual time in nanoseconds. */
  now(): number;
}

/** Builds a machine with `memBytes` of RAM (rounded up to 4 KiB). */
export function createPcMachine(opts: { memBytes: number; features?: CpuFeatures }): PcMachine {
  const ram = Math.ceil(opts.memBytes / 4096) * 4096;
  const pool = new MachineMemory(ram);
  const memory = new DomainMemory(pool, 'pc-machine', { ramBytes: ram });
  let time = 0;
  let out = '';
  let exitStatus: number | undefined;
  const clock = { now: () => time, wallMs: () => 1_700_000_000_000 + time / 1e6 };
  // The device callbacks may run before the Cpu exists (device resets drive IRQ lines).
  const state = new SharedArrayBuffer(STATE_BYTES);
  const s = new Int32Array(state);
  const attn = new Int32Array(1);
  const platform = createPcPlatform({
    clock,
    ramBelow4G: ram,
    uarts: [1],
    debugExit: true,
    onUartTransmit: (_com, byte) => {
      out += String.fromCharCode(byte);
    },
    onDebugExit: (status) => {
      exitStatus = status;
      attn[0] = 1;
    },
    onA20Change: (enabled) => {
      s[S_A20_MASK] = enabled ? A20_OPEN : A20_CLOSED;
    },
    onIntrChange: (level) => {
      s[S_INTR_LINE] = level ? 1 : 0;
      attn[0] = 1;
    },
  });
  const ops: CpuOps = {
    ioRead: (port, size) => platform.bus.read(port, size),
    ioWrite: (port, size, value) => platform.bus.write(port, size, value),
    mmioRead: (_a, size) => (size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff),
    mmioWrite: () => {},
    rdmsr: () => undefined,
    wrmsr: () => false,
    cpuid: () => false,
    hypercall: () => false,
    acknowledgeInterrupt: () => (platform.interruptController.hasInterrupt() ? platform.interruptController.acknowledge() : -1),
    attention: () => {
      attn[0] = 0;
      return exitStatus !== undefined;
    },
    nowNs: () => time,
  };
  const cpu = new Cpu(state, 0, memory.physMemory, ops, opts.features ? { features: opts.features } : {});
  cpu.attn = attn;
  cpu.reset();
  cpu.s[S_A20_MASK] = platform.a20() ? A20_OPEN : A20_CLOSED;
  let deadline = platform.tick(time);
  return {
    cpu,
    memory,
    platform,
    serial: () => out,
    debugExit: () => exitStatus,
    loadMultiboot(elf, cmdline = '') {
      const r = loadMultibootKernel({ kernel: elf, kernelPath: 'guest.elf', cmdline, memory, protocol: 'multiboot1' });
      cpu.init(r.init);
      cpu.s[S_A20_MASK] = A20_OPEN;
    },
    startReal(code, at) {
      memory.write(at, code);
      cpu.reset();
      const s = cpu.s;
      for (const seg of [SEG_CS, SEG_DS, SEG_ES, SEG_SS, SEG_FS, SEG_GS]) {
        s[S_SEG_SEL + seg] = 0;
        s[S_SEG_BASE + seg] = 0;
      }
      s[S_EIP] = at;
      s[ESP] = REAL_STACK;
      cpu.afterStateLoad();
    },
    run(maxInstructions) {
      const stop = cpu.icount + maxInstructions;
      for (;;) {
        if (exitStatus !== undefined) return 'debug-exit';
        if (cpu.icount >= stop) return 'budget';
        const before = cpu.icount;
        const e = cpu.run(Math.min(stop, before + SLICE));
        time += (cpu.icount - before) * NS_PER_INSTRUCTION;
        if (e === RunExit.Shutdown) return 'shutdown';
        if (e === RunExit.Halt) {
          if (platform.timersChanged) deadline = platform.tick(time);
          // Halted with interrupts off (only an NMI could wake it), or with nothing that will ever
          // raise one, or for longer than any guest here waits: it hangs.
          const cannotWake = (cpu.s[S_EFLAGS] & IF) === 0 && cpu.s[S_NMI_PENDING] === 0;
          if (cannotWake || deadline === Infinity || time > MAX_HALTED_NS) return exitStatus !== undefined ? 'debug-exit' : 'hang';
          time = Math.max(time, deadline);
        }
        if (time >= deadline || platform.timersChanged) deadline = platform.tick(time);
        attn[0] = 1;
      }
    },
    now: () => time,
  };
}

/**
 * A single VCPU over flat guest RAM for instruction-level tests: load a multiboot kernel like
 * `qemu -kernel`, run to an address, read and write registers and memory, single-step.
 * Port I/O: COM1 output is captured (LSR always ready), port 0xF4 is isa-debug-exit; other
 * ports read as all ones.
 */
import { Cpu, RunExit } from '../../src-engine/cpu/cpu';
import { INERT_CPU_OPS, type CpuOps } from '../../src-engine/cpu/ops';
import { getFlags } from '../../src-engine/cpu/lazy-flags';
import { loadSegment, fetchDescriptor, setSegment } from '../../src-engine/cpu/segments';
import { flushTlb } from '../../src-engine/cpu/mmu';
import { writeCr0 } from '../../src-engine/cpu/handlers/system';
import {
  EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP, S_CPL, S_CR2, S_CR3, S_CR4, S_CR0, S_EFLAGS, S_EIP, S_LF_OP,
  S_SEG_SEL, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS, STATE_BYTES,
} from '../../src-engine/cpu/state';
import { MachineMemory } from '../../src-engine/hv/memory/machine-memory';
import { DomainMemory } from '../../src-engine/hv/memory/domain-memory';
import { loadMultibootKernel } from '../../src-engine/boot/multiboot';

/** Registers as the differential harness compares them. */
export interface HarnessRegs {
  eax: number; ecx: number; edx: number; ebx: number; esp: number; ebp: number; esi: number; edi: number;
  eip: number; eflags: number;
  cs: number; ss: number; ds: number; es: number; fs: number; gs: number;
  cr0: number; cr2: number; cr3: number; cr4: number;
}

/** The harness API. */
export interface CpuHarness {
  readonly cpu: Cpu;
  readonly memory: DomainMemory;
  /** Bytes written to COM1 so far. */
  serial(): string;
  /** Status written to isa-debug-exit, if any. */
  debugExit(): number | undefined;
  loadMultiboot(elf: Uint8Array, cmdline?: string): void;
  runUntil(eip: number, maxInstructions: number): void;
  /** Runs until HLT with nothing pending, debug exit, shutdown or the budget. */
  run(maxInstructions: number): RunExit | 'debug-exit';
  getRegs(): HarnessRegs;
  setRegs(r: Partial<HarnessRegs>): void;
  readPhys(addr: number, len: number): Uint8Array;
  writePhys(addr: number, data: Uint8Array): void;
  step(): void;
}

const GPRS: [keyof HarnessRegs, number][] = [
  ['eax', EAX], ['ecx', ECX], ['edx', EDX], ['ebx', EBX], ['esp', ESP], ['ebp', EBP], ['esi', ESI], ['edi', EDI],
];
const SEGS: [keyof HarnessRegs, number][] = [
  ['cs', SEG_CS], ['ss', SEG_SS], ['ds', SEG_DS], ['es', SEG_ES], ['fs', SEG_FS], ['gs', SEG_GS],
];
const COM1 = 0x3f8;
const UART_LSR = 5;
const LSR_READY = 0x60;
const DEBUG_EXIT = 0xf4;

/**
 * Creates a harness with `memBytes` of RAM (rounded up to 4 KiB); its state block is in the pool
 * (MachineMemory.allocateStates) unless `stateInPool` is false (a plain buffer of its own).
 */
export function createCpuHarness(opts: { memBytes: number; stateInPool?: boolean }): CpuHarness {
  const ram = Math.ceil(opts.memBytes / 4096) * 4096;
  const pool = new MachineMemory(ram);
  const memory = new DomainMemory(pool, 'harness', { ramBytes: ram });
  let out = '';
  let exitStatus: number | undefined;
  const ops: CpuOps = {
    ...INERT_CPU_OPS,
    ioRead: (port, size) => (port === COM1 + UART_LSR ? LSR_READY : size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff),
    ioWrite: (port, _size, value) => {
      if (port === COM1) out += String.fromCharCode(value & 0xff);
      else if (port === DEBUG_EXIT) {
        exitStatus = ((value & 0xff) << 1) | 1;
        cpu.attn[0] = 1;
      }
    },
    mmioRead: (_a, size) => (size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff),
    attention: () => {
      cpu.attn[0] = 0;
      return exitStatus !== undefined;
    },
    nowNs: () => performance.now() * 1e6,
  };
  // In the pool memory when the pool is one (WebAssembly regions then work on it in place).
  const st = opts.stateInPool === false ? { buffer: new SharedArrayBuffer(STATE_BYTES), offset: 0 } : pool.allocateStates(STATE_BYTES);
  const cpu = new Cpu(st.buffer, st.offset, memory.physMemory, ops);
  cpu.reset();
  const s = cpu.s;
  const h: CpuHarness = {
    cpu,
    memory,
    serial: () => out,
    debugExit: () => exitStatus,
    loadMultiboot(elf, cmdline = '') {
      const r = loadMultibootKernel({ kernel: elf, kernelPath: 'guest.elf', cmdline, memory, protocol: 'multiboot1' });
      cpu.init(r.init);
    },
    runUntil(eip, max) {
      for (let n = 0; n < max; n++) {
        if (s[S_EIP] >>> 0 === eip >>> 0) return;
        if (cpu.step() !== 0) break;
      }
      if (s[S_EIP] >>> 0 !== eip >>> 0) throw new Error(`runUntil: EIP 0x${(eip >>> 0).toString(16)} not reached (at 0x${(s[S_EIP] >>> 0).toString(16)})`);
    },
    run(max) {
      const e = cpu.run(cpu.icount + max);
      return exitStatus !== undefined ? 'debug-exit' : e;
    },
    getRegs() {
      const r = {} as HarnessRegs;
      for (const [k, idx] of GPRS) r[k] = s[idx] >>> 0;
      r.eip = s[S_EIP] >>> 0;
      r.eflags = getFlags(cpu) >>> 0;
      for (const [k, seg] of SEGS) r[k] = s[S_SEG_SEL + seg];
      r.cr0 = s[S_CR0] >>> 0;
      r.cr2 = s[S_CR2] >>> 0;
      r.cr3 = s[S_CR3] >>> 0;
      r.cr4 = s[S_CR4] >>> 0;
      return r;
    },
    setRegs(r) {
      for (const [k, idx] of GPRS) if (r[k] !== undefined) s[idx] = r[k] as number;
      if (r.eip !== undefined) s[S_EIP] = r.eip;
      if (r.eflags !== undefined) {
        s[S_EFLAGS] = (r.eflags | 2) & ~0x8028;
        s[S_LF_OP] = 0;
      }
      if (r.cr0 !== undefined) writeCr0(cpu, r.cr0);
      if (r.cr2 !== undefined) s[S_CR2] = r.cr2;
      if (r.cr3 !== undefined) s[S_CR3] = r.cr3;
      if (r.cr4 !== undefined) s[S_CR4] = r.cr4;
      for (const [k, seg] of SEGS) {
        const sel = r[k];
        if (sel === undefined) continue;
        if (seg === SEG_CS) {
          if (cpu.pe) {
            const d = fetchDescriptor(cpu, sel);
            setSegment(cpu, SEG_CS, sel, d.base, d.limit, d.ar);
            s[S_CPL] = sel & 3;
          } else {
            setSegment(cpu, SEG_CS, sel, sel << 4, 0xffff, 0x9b);
          }
          // Later segment loads check against the new CPL.
          cpu.updateMode();
        } else {
          loadSegment(cpu, seg, sel);
        }
      }
      flushTlb(cpu, false);
      cpu.flushBlocks();
      cpu.updateMode();
    },
    readPhys: (addr, len) => memory.read(addr, len),
    writePhys: (addr, data) => memory.write(addr, data),
    step() {
      cpu.step();
    },
  };
  return h;
}

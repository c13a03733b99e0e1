/**
 * What the CPU benchmarks share: bench.elf and bench-warm.elf (../shared/guests/bench) on one
 * in-process Cpu (test/support/cpu-harness.ts), with their report lines on COM1 ("BEGIN name" and
 * "END name ... result=R") delivered as they are written.
 */
import { createCpuHarness, type CpuHarness } from '../support/cpu-harness';
import type { JitConfig } from '../../src-engine/cpu/jit/jit-config';

/** Guest RAM: the bench guests use buffers up to 20 MiB. */
const BENCH_MEM_BYTES = 32 << 20;
/** The serial port the bench guests report on. */
const COM1 = 0x3f8;

/** One report line: a workload begins or ends (with the guest's result). */
export interface BenchLine {
  kind: 'BEGIN' | 'END';
  name: string;
  result: string;
}

/** A port write (CpuOps.ioWrite). */
export type PortWrite = (port: number, size: 1 | 2 | 4, value: number) => void;

/**
 * A harness with `elf` loaded and `jit` as its JIT configuration; `onLine` gets each report line
 * and the harness's own port writer (to stop the run at its isa-debug-exit port).
 */
export function benchHarness(elf: Uint8Array, jit: JitConfig, onLine: (l: BenchLine, write: PortWrite) => void): CpuHarness {
  const h = createCpuHarness({ memBytes: BENCH_MEM_BYTES });
  h.loadMultiboot(elf);
  h.cpu.jit = jit;
  const ops = h.cpu.ops;
  const write: PortWrite = ops.ioWrite.bind(ops);
  let line = '';
  ops.ioWrite = (port, size, value) => {
    write(port, size, value);
    if (port !== COM1) return;
    const ch = String.fromCharCode(value & 0xff);
    if (ch !== '\n') {
      line += ch;
      return;
    }
    const m = /^(BEGIN|END) (\S+)(?:.*result=(\S+))?/.exec(line);
    line = '';
    if (m !== null) onLine({ kind: m[1] as BenchLine['kind'], name: m[2], result: m[3] ?? '' }, write);
  };
  return h;
}

/** This process's CPU time (every thread) in milliseconds. */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

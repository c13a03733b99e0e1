/**
 * Interpreter speed against the CPU time of the running thread (`npm run bench -- interp-cpu`).
 *
 * bench.elf (../shared/guests/bench) runs in-process on one Cpu with the JIT off, on this thread
 * alone. Per workload, between its BEGIN and END lines, three figures: instructions per second of
 * wall time, per second of the process's CPU time (process.cpuUsage: every thread, V8's compiler
 * and GC threads included) and per second of this thread's own CPU time (the first field of
 * /proc/self/task/<tid>/schedstat, nanoseconds on a CPU; Linux only). Other processes' load takes
 * wall time away but not thread time, so the last is the figure to compare builds by.
 * scripts/interp-bench.mjs builds this file in several trees and runs them interleaved.
 *
 * DOMUS_GUESTS: the shared guests folder; DOMUS_BENCH_RUNS: runs (default 1);
 * DOMUS_BENCH_STOP: stop after this workload's END (default: run the guest to its end).
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { benchHarness, processCpuMs } from './bench-lines';
import { jitOffConfig } from '../../src-engine/cpu/jit/jit-config';

/** Far more instructions than bench.elf needs (about 630 million). */
const BUDGET = 20_000_000_000;
/** The isa-debug-exit port the harness stops at. */
const DEBUG_EXIT = 0xf4;

/** One workload's span: retired instructions, the three clocks in milliseconds, the guest's result. */
export interface InterpSpan {
  insns: number;
  result: string;
  wallMs: number;
  procMs: number;
  threadMs: number;
}

const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;

/** This (main) thread's CPU time in milliseconds, NaN where /proc has no schedstat. */
export function threadCpuMs(): number {
  try {
    return Number(readFileSync(SCHEDSTAT, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return NaN;
  }
}

/** Runs `elf` once with the JIT off; spans per workload name. Stops after `stopAfter`'s END. */
export function runInterp(elf: Uint8Array, stopAfter?: string): Map<string, InterpSpan> {
  const spans = new Map<string, InterpSpan>();
  let t0 = 0;
  let p0 = 0;
  let w0 = 0;
  let i0 = 0;
  const h = benchHarness(elf, jitOffConfig(), (l, write) => {
    if (l.kind === 'BEGIN') {
      i0 = h.cpu.icount;
      w0 = performance.now();
      p0 = processCpuMs();
      t0 = threadCpuMs();
      return;
    }
    const threadMs = threadCpuMs() - t0;
    spans.set(l.name, { insns: h.cpu.icount - i0, result: l.result, wallMs: performance.now() - w0, procMs: processCpuMs() - p0, threadMs });
    // The harness's debug-exit port stops the run at the next instruction boundary.
    if (l.name === stopAfter) write(DEBUG_EXIT, 1, 0);
  });
  h.run(BUDGET);
  return spans;
}

/** A guest run in steps (interpStepper). */
export interface InterpStepper {
  /**
   * Runs up to `insns` more instructions; returns the workload running when the step began ('' between
   * workloads or when one ended during the step), the instructions retired and this thread's CPU
   * milliseconds, or null once the guest has stopped.
   */
  step(insns: number): { workload: string; insns: number; threadMs: number } | null;
}

/**
 * bench.elf with the JIT off, run a step at a time, so that several builds loaded into one process
 * (scripts/interp-bench.mjs --paired) can take turns every few hundred milliseconds and see the
 * same load.
 */
export function interpStepper(elf: Uint8Array): InterpStepper {
  let current = '';
  // Set when a BEGIN or END line came during the step: the step is not one workload's alone.
  let crossed = false;
  const h = benchHarness(elf, jitOffConfig(), (l) => {
    current = l.kind === 'BEGIN' ? l.name : '';
    crossed = true;
  });
  const cpu = h.cpu;
  let stopped = false;
  return {
    step(insns) {
      if (stopped) return null;
      const workload = current;
      crossed = false;
      const i0 = cpu.icount;
      const t0 = threadCpuMs();
      const e = h.run(insns);
      const threadMs = threadCpuMs() - t0;
      if (e === 'debug-exit' || cpu.icount - i0 < insns) stopped = true;
      return { workload: crossed ? '' : workload, insns: cpu.icount - i0, threadMs };
    },
  };
}

/** MIPS of a span by each clock. */
export function spanMips(s: InterpSpan): { wall: number; proc: number; thread: number } {
  return { wall: s.insns / s.wallMs / 1000, proc: s.insns / s.procMs / 1000, thread: s.insns / s.threadMs / 1000 };
}

/** Prints the figures of DOMUS_BENCH_RUNS runs. */
export default async function bench(log: (line: string) => void): Promise<void> {
  const file = path.join(process.env.DOMUS_GUESTS ?? path.resolve('../shared/guests'), 'bench', 'bench.elf');
  if (!existsSync(file)) {
    log(`skipped: ${file} not found (set DOMUS_GUESTS to the shared guests folder)`);
    return;
  }
  const elf = new Uint8Array(readFileSync(file));
  const runs = Number(process.env.DOMUS_BENCH_RUNS ?? 1);
  for (let r = 0; r < runs; r++) {
    const load = loadavg()[0].toFixed(1);
    for (const [name, s] of runInterp(elf, process.env.DOMUS_BENCH_STOP)) {
      const m = spanMips(s);
      log(`${name.padEnd(5)} load ${load}  thread ${m.thread.toFixed(1)}  process ${m.proc.toFixed(1)}  wall ${m.wall.toFixed(1)} MIPS  result=${s.result}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

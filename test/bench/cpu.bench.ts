/**
 * CPU benchmark (`npm run bench -- cpu`): the bench guest (../shared/guests/bench) run in-process
 * on one Cpu (test/support/cpu-harness.ts), pure interpreter against the JIT, runs interleaved
 * (the machine is shared: each configuration sees the same load). Per workload: MIPS = retired
 * instructions between its BEGIN and END lines / CPU time of this process over that span
 * (process.cpuUsage, so time the scheduler gives to others does not count). bench-warm.elf runs
 * each workload three times (first pass vs warm). Also: JIT compile time and compiled regions.
 *
 * DOMUS_GUESTS: the shared guests folder; DOMUS_BENCH_RUNS: runs per configuration (default 2);
 * DOMUS_BENCH_MODES: "interp,jit" (default both).
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { benchHarness, processCpuMs as cpuMs } from './bench-lines';
import { JIT_DEFAULTS, jitOffConfig } from '../../src-engine/cpu/jit/jit-config';

const GUEST_DIR = process.env.DOMUS_GUESTS ?? path.resolve('../shared/guests');
const RUNS = Number(process.env.DOMUS_BENCH_RUNS ?? 2);
const MODES = (process.env.DOMUS_BENCH_MODES ?? 'interp,jit').split(',') as Mode[];
/** Far more instructions than bench-warm.elf needs (about 2 billion). */
const BUDGET = 20_000_000_000;

type Mode = 'interp' | 'jit';

/** One run of a guest: per workload, CPU milliseconds and instructions. */
interface GuestRun {
  spans: Map<string, { cpuMs: number; insns: number }>;
  results: Map<string, string>;
  compiles: number;
  compileMs: number;
  insnsCompiled: number;
  insnsTemplated: number;
  totalCpuMs: number;
  exit: string;
}


/** Runs `elf` once on a fresh harness in `mode`. */
export function runGuest(elf: Uint8Array, mode: Mode): GuestRun {
  const spans = new Map<string, { cpuMs: number; insns: number }>();
  const results = new Map<string, string>();
  let t0 = 0;
  let i0 = 0;
  const h = benchHarness(elf, mode === 'jit' ? { ...JIT_DEFAULTS, enabled: true } : jitOffConfig(), (l) => {
    if (l.kind === 'BEGIN') {
      t0 = cpuMs();
      i0 = h.cpu.icount;
    } else {
      spans.set(l.name, { cpuMs: cpuMs() - t0, insns: h.cpu.icount - i0 });
      results.set(l.name, l.result);
    }
  });
  const cpu = h.cpu;
  const start = cpuMs();
  const exit = h.run(BUDGET);
  const st = cpu.jitRegistry.stats;
  return {
    spans,
    results,
    compiles: st.compiles,
    compileMs: st.compileMs,
    insnsCompiled: st.insnsCompiled,
    insnsTemplated: st.insnsTemplated,
    totalCpuMs: cpuMs() - start,
    exit: String(exit),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)];
}

/** Prints the figures. */
export default async function bench(log: (line: string) => void): Promise<void> {
  const files = ['bench.elf', 'bench-warm.elf'].map((f) => path.join(GUEST_DIR, 'bench', f));
  if (!existsSync(files[0])) {
    log(`skipped: ${files[0]} not found (set DOMUS_GUESTS to the shared guests folder)`);
    return;
  }
  log(`load average at start: ${loadavg().map((x) => x.toFixed(1)).join(' ')} (2 cores; CPU time, runs interleaved)`);
  for (const file of files) {
    if (!existsSync(file)) continue;
    const elf = new Uint8Array(readFileSync(file));
    const runs = new Map<Mode, GuestRun[]>(MODES.map((m) => [m, []]));
    for (let r = 0; r < RUNS; r++) {
      for (const mode of MODES) {
        runs.get(mode)?.push(runGuest(elf, mode));
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
    const label = path.basename(file);
    for (const mode of MODES) {
      const list = runs.get(mode) ?? [];
      if (list.length === 0) continue;
      const first = list[0];
      if (first.exit !== 'debug-exit') log(`${label} ${mode}: WARNING run ended with ${first.exit}, not the debug exit`);
      for (const name of first.spans.keys()) {
        const mips = median(list.map((g) => {
          const s = g.spans.get(name);
          return s ? s.insns / s.cpuMs / 1000 : NaN;
        }));
        const ms = median(list.map((g) => g.spans.get(name)?.cpuMs ?? NaN));
        const insns = first.spans.get(name)?.insns ?? 0;
        log(`${label} ${mode.padEnd(6)} ${name.padEnd(7)} ${insns.toString().padStart(11)} insns ${ms.toFixed(0).padStart(6)} ms CPU ${mips.toFixed(1).padStart(7)} MIPS  result=${first.results.get(name)}`);
      }
      if (mode === 'jit') {
        log(`${label} jit    compiled: ${median(list.map((g) => g.compiles))} regions, ${median(list.map((g) => g.insnsCompiled))} instructions (${median(list.map((g) => g.insnsTemplated))} templated), compile time ${median(list.map((g) => g.compileMs)).toFixed(1)} ms of ${median(list.map((g) => g.totalCpuMs)).toFixed(0)} ms CPU`);
      }
    }
  }
  log(`load average at end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

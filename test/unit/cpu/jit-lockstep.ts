/**
 * Lock-step comparison of the JIT against the interpreter for the JIT tests: one harness runs
 * with every block compiled (jitAllConfig), the other is the pure interpreter (jitOffConfig).
 * The JIT side runs a little at a time with run(); after each call the interpreter single-steps
 * to the same retired-instruction count and the full architectural state must be identical:
 * state words 0..99 (registers, EIP, EFLAGS and the raw lazy-flags record, segment caches,
 * descriptor tables, control and debug registers, CPL, MSRs, instruction count) and the
 * compared memory ranges.
 */
import type { CpuHarness } from '../../support/cpu-harness';
import { jitAllConfig, jitOffConfig } from '../../../src-engine/cpu/jit/jit-config';
import { S_ICOUNT_HI, S_ICOUNT_LO } from '../../../src-engine/cpu/state';
import { RunExit } from '../../../src-engine/cpu/cpu';

/** Steps the interpreter may take to catch up with one JIT chunk (exceptions retire nothing). */
const STEP_GUARD = 1_000_000;
/** State words compared (everything before the diagnostics area at word 100). */
const COMPARED_WORDS = 100;
const WORD_NAMES: Record<number, string> = {
  0: 'eax', 1: 'ecx', 2: 'edx', 3: 'ebx', 4: 'esp', 5: 'ebp', 6: 'esi', 7: 'edi', 9: 'eip', 10: 'eflags',
  11: 'lf.op', 12: 'lf.res', 13: 'lf.a', 14: 'lf.b', 15: 'lf.aux',
};

/** Makes `h` the interpreter side. */
export function useInterpreter(h: CpuHarness): void {
  h.cpu.jit = jitOffConfig();
}

/** Makes `h` the JIT side (every block compiled the first time it runs). */
export function useJitEverywhere(h: CpuHarness): void {
  h.cpu.jit = jitAllConfig();
}

/** Differences between two harnesses' states and memory ranges (empty when identical). */
export function compareStates(interp: CpuHarness, jit: CpuHarness, ranges: readonly { addr: number; len: number }[]): string[] {
  const out: string[] = [];
  const a = interp.cpu.s;
  const b = jit.cpu.s;
  for (let w = 0; w < COMPARED_WORDS; w++) {
    if (w === S_ICOUNT_LO || w === S_ICOUNT_HI) continue;
    if (a[w] !== b[w]) out.push(`${WORD_NAMES[w] ?? `word ${w}`}: interpreter 0x${(a[w] >>> 0).toString(16)} jit 0x${(b[w] >>> 0).toString(16)}`);
  }
  if (interp.cpu.icount !== jit.cpu.icount) out.push(`icount: interpreter ${interp.cpu.icount} jit ${jit.cpu.icount}`);
  for (const r of ranges) {
    const x = interp.readPhys(r.addr, r.len);
    const y = jit.readPhys(r.addr, r.len);
    for (let i = 0; i < r.len; i++) {
      if (x[i] !== y[i]) {
        out.push(`memory 0x${(r.addr + i).toString(16)}: interpreter ${x[i]} jit ${y[i]}`);
        if (out.length > 20) return out;
      }
    }
  }
  return out;
}

/**
 * Runs both sides in lock step: `chunks` times, the JIT side runs with a budget of `budget`
 * instructions, then the interpreter steps to the same count. Returns a description of the
 * first divergence, or null.
 */
export function lockstep(
  interp: CpuHarness,
  jit: CpuHarness,
  ranges: readonly { addr: number; len: number }[],
  chunks: number,
  budget: number,
): string | null {
  for (let c = 0; c < chunks; c++) {
    const before = jit.cpu.icount;
    const end = jit.run(budget);
    const target = jit.cpu.icount;
    for (let guard = 0; interp.cpu.icount < target && guard < STEP_GUARD; guard++) interp.step();
    let diffs = compareStates(interp, jit, ranges);
    if (diffs.length > 0) {
      // The JIT side may have delivered an exception at this count that the interpreter takes
      // at its next step (which retires nothing).
      const was = interp.cpu.icount;
      interp.step();
      if (interp.cpu.icount === was) diffs = compareStates(interp, jit, ranges);
    }
    if (diffs.length > 0) return `after chunk ${c} (instructions ${before}..${target}):\n  ${diffs.join('\n  ')}`;
    if (end !== RunExit.Limit || target === before) return null;
  }
  return null;
}

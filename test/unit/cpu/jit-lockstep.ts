/**
 * Lock-step comparison of the JIT against the interpreter for the JIT tests: one harness runs
 * with every block compiled (jitAllConfig), the other is the pure interpreter (jitOffConfig).
 * The JIT side runs a little at a time with run(); after each call the interpreter single-steps
 * to the same retired-instruction count and the full architectural state must be identical:
 * state words 0..99 (registers, EIP, EFLAGS and the raw lazy-flags record (its AUX word only
 * under a record that reads it), segment caches,
 * descriptor tables, control and debug registers, CPL, MSRs, instruction count) and the
 * compared memory ranges.
 */
import { createCpuHarness, type CpuHarness } from '../../support/cpu-harness';
import { caseMemWrites, FLAG, idtHelperRegs, tableFor, CR0_ET, CR0_PE, CR0_PG, CR0_WP, type DiffCase, type InterruptTable } from '../../diff/case';
import { loadRunnerLayout, type RunnerLayout } from '../../diff/runner-layout';
import { jitAllConfig, jitOffConfig } from '../../../src-engine/cpu/jit/jit-config';
import { SEG_CS, S_ICOUNT_HI, S_ICOUNT_LO, S_LF_AUX, S_LF_OP, S_SEG_AR, S_SEG_BASE, S_SEG_SEL } from '../../../src-engine/cpu/state';
import { setSegment } from '../../../src-engine/cpu/segments';
import { LF_ADD, LF_LOGIC, LF_NONE, LF_SUB } from '../../../src-engine/cpu/lazy-flags';
import { RunExit } from '../../../src-engine/cpu/cpu';

/** Steps the interpreter may take to catch up with one JIT chunk (exceptions retire nothing). */
const STEP_GUARD = 1_000_000;
/** State words compared (everything before the diagnostics area at word 100). */
const COMPARED_WORDS = 100;
const WORD_NAMES: Record<number, string> = {
  0: 'eax', 1: 'ecx', 2: 'edx', 3: 'ebx', 4: 'esp', 5: 'ebp', 6: 'esi', 7: 'edi', 9: 'eip', 10: 'eflags',
  11: 'lf.op', 12: 'lf.res', 13: 'lf.a', 14: 'lf.b', 15: 'lf.aux',
};

/**
 * Whether the lazy record `op` (S_LF_OP) reads its AUX word: not for none (flags in EFLAGS),
 * ADD, SUB and the logic ops. The interpreter's flag-dead kinds (fast-kinds.ts deadFlags) leave
 * an older AUX under such a record where the handlers would have left theirs, so it is compared
 * only when it means something.
 */
function auxRead(op: number): boolean {
  const kind = op >> 2;
  return kind !== LF_NONE && kind !== LF_ADD && kind !== LF_SUB && kind !== LF_LOGIC;
}

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
    if (w === S_LF_AUX && a[S_LF_OP] === b[S_LF_OP] && !auxRead(a[S_LF_OP])) continue;
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

/** Guest RAM of the runner harnesses (as the differential replayer's). */
const MEMORY_BYTES = 16 << 20;
const BOOT_BUDGET = 1_000_000;
/**
 * Memory compared: the runner's low memory (IVT, page tables, code and data windows, stacks)
 * and its kernel (exception records, GDT, TSS).
 */
export const RUNNER_RANGES = [{ addr: 0, len: 0x8000 }, { addr: 0x100000, len: 0x10000 }];

/**
 * Two CPUs booted into the differential runner (test/diff/runner), one interpreting and one
 * compiling every block, that take the same cases and compare in lock step.
 */
export class RunnerPair {
  readonly layout: RunnerLayout;
  readonly interp: CpuHarness;
  readonly jit: CpuHarness;
  private readonly table = new Map<CpuHarness, InterruptTable>();

  /** `jitStateInPool` false: the compiling CPU's state block is a plain buffer outside the pool. */
  constructor(opts: { jitStateInPool?: boolean } = {}) {
    this.layout = loadRunnerLayout();
    this.interp = this.boot(true);
    this.jit = this.boot(opts.jitStateInPool ?? true);
    useInterpreter(this.interp);
    useJitEverywhere(this.jit);
  }

  private boot(stateInPool: boolean): CpuHarness {
    const h = createCpuHarness({ memBytes: MEMORY_BYTES, stateInPool });
    h.loadMultiboot(this.layout.elf);
    h.runUntil(this.layout.ready, BOOT_BUDGET);
    this.table.set(h, 'pm');
    return h;
  }

  /** Puts `h` at the start of case `c` (as the differential replayer does), with `code` if given. */
  setUp(h: CpuHarness, c: DiffCase, code?: Uint8Array): void {
    const want = tableFor(c.env);
    if (this.table.get(h) !== want) {
      const helper = idtHelperRegs(want, this.layout);
      h.setRegs({ cr0: helper.regs.cr0, cr3: 0, cr4: 0 });
      h.setRegs({ cs: helper.regs.cs });
      h.setRegs(helper.regs);
      h.runUntil(helper.done, 100);
      this.table.set(h, want);
    }
    for (const w of caseMemWrites(c, this.layout)) h.writePhys(w.addr, w.data);
    if (code) h.writePhys(this.layout.codeWindow, code);
    h.setRegs({ cr0: c.regs.cr0, cr3: c.regs.cr3, cr4: c.regs.cr4 });
    h.setRegs({ cs: c.regs.cs });
    h.setRegs(c.regs);
  }

  /** Both CPUs at the start of `code` (program()) with CS's limit set to `limit`. */
  withCsLimit(code: number[], limit: number): void {
    const c = this.program(code);
    for (const h of [this.interp, this.jit]) {
      this.setUp(h, c);
      const s = h.cpu.s;
      setSegment(h.cpu, SEG_CS, s[S_SEG_SEL + SEG_CS], s[S_SEG_BASE + SEG_CS], limit, s[S_SEG_AR + SEG_CS]);
      h.cpu.updateMode();
      h.cpu.flushBlocks();
    }
  }

  /** Sets both CPUs up for `c` and compares them in lock step; a divergence report or null. */
  run(c: DiffCase, chunks: number, budget: number, code?: Uint8Array): string | null {
    this.setUp(this.interp, c, code);
    this.setUp(this.jit, c, code);
    return lockstep(this.interp, this.jit, RUNNER_RANGES, chunks, budget);
  }

  /**
   * A case running `code` at the code window in 32-bit ring 0 (flat segments), with paging
   * (the runner's identity map, NP_PAGE not present) if `paging`, and the given registers.
   */
  program(code: number[], regs: Partial<Record<'eax' | 'ecx' | 'edx' | 'ebx' | 'esp' | 'ebp' | 'esi' | 'edi', number>> = {}, paging = false): DiffCase {
    const l = this.layout;
    const d = l.sel.data0;
    return {
      name: 'program',
      env: { mode: 'pm32', ring: 0, paging },
      program: [],
      code: new Uint8Array(code),
      regs: {
        eax: 0, ecx: 0, edx: 0, ebx: 0, esp: l.ring0StackTop, ebp: 0, esi: 0, edi: 0, ...regs,
        eip: l.codeWindow, eflags: FLAG.RESERVED1,
        cs: l.sel.code0, ss: d, ds: d, es: d, fs: d, gs: d,
        cr0: CR0_PE | CR0_ET | (paging ? CR0_PG | CR0_WP : 0), cr2: 0, cr3: paging ? l.pageDir : 0, cr4: 0,
      },
      data: new Uint8Array(l.dataWindowSize),
      pinned: [],
      maxSteps: 0,
    };
  }
}

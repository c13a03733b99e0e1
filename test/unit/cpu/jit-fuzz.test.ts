/**
 * The JIT against the interpreter on random programs: cases from the differential generator
 * (test/diff/generator.ts: every environment - real mode, 32-bit rings 0 and 3, paging - edge
 * register values, all instruction families, branches, faults) run on two CPUs booted into the
 * differential runner, one compiling every block into a region the first time it runs, one
 * interpreting; after every chunk the JIT side runs, the interpreter catches up and the whole
 * state must match (jit-lockstep.ts). A second family of programs loops (so regions run blocks
 * many times, through back edges, with flags carried across blocks).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createCpuHarness, type CpuHarness } from '../../support/cpu-harness';
import { generateCase } from '../../diff/generator';
import { caseMemWrites, idtHelperRegs, tableFor, type DiffCase, type InterruptTable } from '../../diff/case';
import { loadRunnerLayout, type RunnerLayout } from '../../diff/runner-layout';
import { lockstep, useInterpreter, useJitEverywhere } from './jit-lockstep';

const MEMORY_BYTES = 16 << 20;
const BOOT_BUDGET = 1_000_000;
/**
 * Memory compared: the runner's low memory (IVT, page tables, code and data windows, stacks)
 * and its kernel (exception records, GDT, TSS).
 */
const RANGES = [{ addr: 0, len: 0x8000 }, { addr: 0x100000, len: 0x10000 }];
const CASES = Number(process.env.DOMUS_JIT_FUZZ_CASES ?? 400);
const SEEDS = [11, 12];

let layout: RunnerLayout;
let interp: CpuHarness;
let jit: CpuHarness;
const table = new Map<CpuHarness, InterruptTable>();

function boot(): CpuHarness {
  const h = createCpuHarness({ memBytes: MEMORY_BYTES });
  h.loadMultiboot(layout.elf);
  h.runUntil(layout.ready, BOOT_BUDGET);
  table.set(h, 'pm');
  return h;
}

/** Puts `h` at the start of case `c` (as the differential replayer does). */
function setUp(h: CpuHarness, c: DiffCase, code?: Uint8Array): void {
  const want = tableFor(c.env);
  if (table.get(h) !== want) {
    const helper = idtHelperRegs(want, layout);
    h.setRegs({ cr0: helper.regs.cr0, cr3: 0, cr4: 0 });
    h.setRegs({ cs: helper.regs.cs });
    h.setRegs(helper.regs);
    h.runUntil(helper.done, 100);
    table.set(h, want);
  }
  for (const w of caseMemWrites(c, layout)) h.writePhys(w.addr, w.data);
  if (code) h.writePhys(layout.codeWindow, code);
  h.setRegs({ cr0: c.regs.cr0, cr3: c.regs.cr3, cr4: c.regs.cr4 });
  h.setRegs({ cs: c.regs.cs });
  h.setRegs(c.regs);
}

function runCase(c: DiffCase, chunks: number, budget: number, code?: Uint8Array): string | null {
  setUp(interp, c, code);
  setUp(jit, c, code);
  const d = lockstep(interp, jit, RANGES, chunks, budget);
  return d === null ? null : `${c.name} (${c.env.mode}${c.env.paging ? ' paging' : ''} ring ${c.env.ring}): ${c.program.map((p) => p.form).join('; ')}\n${d}`;
}

/**
 * The case's program wrapped in a loop run `count` times: `mov ebp/bp, count; body; dec ebp/bp;
 * jnz body` (the body must not touch EBP: such cases are skipped).
 */
function looped(c: DiffCase, count: number): Uint8Array | undefined {
  if (c.program.some((p) => /bp|enter|leave|popa|xchg|cmpxchg|xadd/.test(p.form))) return undefined;
  const real = c.env.mode === 'real';
  const head = real ? [0xbd, count & 0xff, count >> 8] : [0xbd, count & 0xff, (count >> 8) & 0xff, 0, 0];
  const body = c.code;
  const tail = [0x4d]; // dec ebp
  const back = -(body.length + tail.length + 2);
  if (back < -128) return undefined;
  return new Uint8Array([...head, ...body, ...tail, 0x75, back & 0xff]);
}

describe('the JIT matches the interpreter', () => {
  beforeAll(() => {
    layout = loadRunnerLayout();
    interp = boot();
    jit = boot();
    useInterpreter(interp);
    useJitEverywhere(jit);
  });

  for (const seed of SEEDS) {
    it(`on ${CASES} generated cases (seed ${seed}), state compared after every chunk`, () => {
      const failures: string[] = [];
      for (let i = 0; i < CASES && failures.length < 3; i++) {
        const c = generateCase(seed, i, layout);
        const d = runCase(c, 8, 1 + (i % 5));
        if (d !== null) failures.push(d);
      }
      expect(failures).toEqual([]);
      expect(jit.cpu.jitRegistry.stats.compiles).toBeGreaterThan(0);
      expect(jit.cpu.jitRegistry.stats.failures).toBe(0);
    });
  }

  it(`on ${CASES} generated programs run in loops (back edges, flags across blocks)`, () => {
    const failures: string[] = [];
    let ran = 0;
    for (let i = 0; i < CASES && failures.length < 3; i++) {
      const c = generateCase(13, i, layout);
      // Branches inside the body may leave the loop; that is fine, the states still compare.
      const code = looped(c, 5 + (i % 40));
      if (code === undefined || c.code.some((b) => b === 0xcc)) continue;
      ran++;
      const d = runCase(c, 6, 40 + (i % 200), code);
      if (d !== null) failures.push(d);
    }
    expect(ran).toBeGreaterThan(CASES / 4);
    expect(failures).toEqual([]);
  });
});

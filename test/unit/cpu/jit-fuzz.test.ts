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
import { generateCase } from '../../diff/generator';
import type { DiffCase } from '../../diff/case';
import { CASES_DIR, QEMU_WRONG_DIR, readStoredCases } from '../../diff/regressions';
import { RunnerPair } from './jit-lockstep';

const CASES = Number(process.env.DOMUS_JIT_FUZZ_CASES ?? 400);
const SEEDS = [11, 12];

let pair: RunnerPair;

function runCase(c: DiffCase, chunks: number, budget: number, code?: Uint8Array): string | null {
  const d = pair.run(c, chunks, budget, code);
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
    pair = new RunnerPair();
  });

  for (const seed of SEEDS) {
    it(`on ${CASES} generated cases (seed ${seed}), state compared after every chunk`, () => {
      const failures: string[] = [];
      for (let i = 0; i < CASES && failures.length < 3; i++) {
        const c = generateCase(seed, i, pair.layout);
        const d = runCase(c, 8, 1 + (i % 5));
        if (d !== null) failures.push(d);
      }
      expect(failures).toEqual([]);
      const st = pair.jit.cpu.jitRegistry.stats;
      expect(st.compiles).toBeGreaterThan(0);
      expect(st.failures).toBe(0);
    });
  }

  it(`on ${CASES} generated programs run in loops (back edges, flags across blocks)`, () => {
    const failures: string[] = [];
    let ran = 0;
    for (let i = 0; i < CASES && failures.length < 3; i++) {
      const c = generateCase(13, i, pair.layout);
      // Branches inside the body may leave the loop; that is fine, the states still compare.
      const code = looped(c, 5 + (i % 40));
      if (code === undefined) continue;
      ran++;
      const d = runCase(c, 6, 40 + (i % 200), code);
      if (d !== null) failures.push(d);
    }
    expect(ran).toBeGreaterThan(CASES / 4);
    expect(failures).toEqual([]);
  });

  it('on the stored differential cases (test/unit/cpu/diff-regressions), alone and in loops', () => {
    const stored = [...readStoredCases(CASES_DIR), ...readStoredCases(QEMU_WRONG_DIR)];
    expect(stored.length).toBeGreaterThan(0);
    const failures: string[] = [];
    for (const { stored: s } of stored) {
      for (const budget of [1, 3, 1000]) {
        const d = runCase(s.case, 8, budget);
        if (d !== null) failures.push(d);
      }
      const code = looped(s.case, 9);
      const d = code === undefined ? null : runCase(s.case, 6, 50, code);
      if (d !== null) failures.push(d);
    }
    expect(failures).toEqual([]);
  });
});

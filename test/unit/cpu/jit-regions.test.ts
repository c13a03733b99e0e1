// Compiled regions at their edges: exceptions raised inside a region (by inline code and by a
// handler it calls) are precise, self-modifying code is seen at the next instruction, the
// attention word and the instruction budget stop a loop within one iteration, hot loops become
// regions at the threshold (nested loops one region) once their page has earned the compile
// budget, stay compiled when data next to their code is written (code rewritten again and again
// stays interpreted), and the lock-step comparison catches a
// template that computes the wrong thing. Programs run on the differential runner (32-bit ring 0)
// with the interpreter alongside (jit-lockstep.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import { RunnerPair } from './jit-lockstep';
import { RunExit } from '../../../src-engine/cpu/cpu';
import { TEMPLATES } from '../../../src-engine/cpu/jit/region-compiler';
import type { Template } from '../../../src-engine/cpu/jit/template';
import { JIT_DEFAULTS } from '../../../src-engine/cpu/jit/jit-config';
import { EAX, EBX, ECX, EDI, S_CR2, S_EIP } from '../../../src-engine/cpu/state';

let pair: RunnerPair;
const CODE = 0x4000;

/** Little-endian bytes of a 32-bit value. */
function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** The runner's exception record: vector, error code, EIP (runner.asm exc_record). */
function excRecord(): { vector: number; error: number; eip: number; count: number } {
  const b = pair.jit.readPhys(pair.layout.excRecord, 24);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { vector: dv.getUint32(0, true), error: dv.getUint32(4, true), eip: dv.getUint32(8, true), count: dv.getUint32(20, true) };
}

/** The machine frame holding the program at CODE (from the JIT's page of its blocks). */
function codeFrame(h: RunnerPair['jit']): number {
  for (const p of h.cpu.jitRegistry.pages.values()) if (p.linPage === CODE >>> 12) return p.frame;
  throw new Error('no JIT page holds the program');
}

function clearExcRecord(): void {
  pair.jit.writePhys(pair.layout.excRecord, new Uint8Array(24));
  pair.interp.writePhys(pair.layout.excRecord, new Uint8Array(24));
}

describe('compiled regions', () => {
  beforeAll(() => {
    pair = new RunnerPair();
  });

  it('raise a page fault precisely from inline code in the middle of a block', () => {
    clearExcRecord();
    // mov edi, 0x6f00; mov eax, 0x11223344; L: inc ebx; mov [edi], eax; add edi, 4; jmp L
    const code = [0xbf, ...le32(0x6f00), 0xb8, ...le32(0x11223344), 0x43, 0x89, 0x07, 0x83, 0xc7, 0x04, 0xeb, 0xf8];
    const d = pair.run(pair.program(code, {}, true), 40, 30);
    expect(d).toBeNull();
    const s = pair.jit.cpu.s;
    // 64 dwords fit below the not-present page; the 65th iteration's INC ran, its MOV faulted.
    expect(s[EBX]).toBe(65);
    expect(s[EDI]).toBe(0x7000);
    expect(s[S_CR2]).toBe(0x7000);
    expect(excRecord()).toMatchObject({ vector: 14, error: 2, eip: CODE + 11, count: 1 });
  });

  it('raise an exception precisely from a handler they call (DIV by zero)', () => {
    clearExcRecord();
    // mov ecx, 5; xor edx, edx; mov eax, 100; L: dec ecx; xor edx, edx; div ecx; jmp L
    const code = [0xb9, ...le32(5), 0x31, 0xd2, 0xb8, ...le32(100), 0x49, 0x31, 0xd2, 0xf7, 0xf1, 0xeb, 0xf9];
    expect(pair.run(pair.program(code), 40, 7)).toBeNull();
    const s = pair.jit.cpu.s;
    expect(s[EAX]).toBe(4);
    expect(s[ECX]).toBe(0);
    expect(excRecord()).toMatchObject({ vector: 0, eip: CODE + 15, count: 1 });
  });

  it('see a write to the next instruction of their own block', () => {
    const imm = CODE + 15;
    // mov ecx, 10; xor ebx, ebx; L: mov [imm], cl; add ebx, imm8 (patched); dec ecx; jnz L
    const code = [0xb9, ...le32(10), 0x31, 0xdb, 0x88, 0x0d, ...le32(imm), 0x83, 0xc3, 0x00, 0x49, 0x75, 0xf4];
    const before = pair.jit.cpu.jitRegistry.stats.invalidations;
    expect(pair.run(pair.program(code), 30, 5)).toBeNull();
    expect(pair.jit.cpu.s[EBX]).toBe(55);
    expect(pair.jit.cpu.jitRegistry.stats.invalidations).toBeGreaterThan(before);
  });

  it('see a write to another block of the region (an immediate patched every iteration)', () => {
    const imm = CODE + 8;
    // mov ecx, 5; xor ebx, ebx; L: mov eax, imm32; add ebx, eax; inc dword [imm]; dec ecx; jnz L
    const code = [0xb9, ...le32(5), 0x31, 0xdb, 0xb8, ...le32(0), 0x01, 0xc3, 0xff, 0x05, ...le32(imm), 0x49, 0x75, 0xf0];
    expect(pair.run(pair.program(code), 30, 6)).toBeNull();
    expect(pair.jit.cpu.s[EBX]).toBe(0 + 1 + 2 + 3 + 4);
  });

  it('stop a loop within one iteration when the attention word is raised or the budget is spent', () => {
    const h = pair.jit;
    // L: inc eax; jmp L
    pair.setUp(h, pair.program([0x40, 0xeb, 0xfd]));
    const ops = h.cpu.ops;
    const attention = ops.attention;
    ops.attention = () => {
      h.cpu.attn[0] = 0;
      return true;
    };
    try {
      for (const budget of [1, 2, 3, 50, 1001, 100_000]) {
        const start = h.cpu.icount;
        expect(h.run(budget)).toBe(RunExit.Limit);
        expect(h.cpu.icount - start).toBeGreaterThanOrEqual(budget);
        expect(h.cpu.icount - start).toBeLessThanOrEqual(budget + 2);
      }
      const start = h.cpu.icount;
      h.cpu.attn[0] = 1;
      expect(h.run(1e9)).toBe(RunExit.Attention);
      expect(h.cpu.icount - start).toBeLessThanOrEqual(2);
      // Still correct afterwards: EAX counts the INCs retired.
      const eax = h.cpu.s[EAX];
      const icount = h.cpu.icount;
      expect(h.run(1000)).toBe(RunExit.Limit);
      const incs = h.cpu.s[EAX] - eax;
      expect(Math.abs(incs * 2 - (h.cpu.icount - icount))).toBeLessThanOrEqual(1);
      expect([CODE, CODE + 1]).toContain(h.cpu.s[S_EIP]);
    } finally {
      ops.attention = attention;
    }
  });

  it('form at the threshold, one region for a nested loop', () => {
    const h = pair.jit;
    h.cpu.jit = { ...JIT_DEFAULTS, enabled: true, compileCost: 0, throwOnFailure: true };
    try {
      // mov edx, 200; outer: mov ecx, 50; inner: inc eax; dec ecx; jnz inner; dec edx; jnz outer
      const code = [0xba, ...le32(200), 0xb9, ...le32(50), 0x40, 0x49, 0x75, 0xfc, 0x4a, 0x75, 0xf4];
      pair.setUp(h, pair.program(code));
      const compiles = h.cpu.jitRegistry.stats.compiles;
      h.run(60);
      expect(h.cpu.jitRegistry.stats.compiles).toBe(compiles);
      h.run(20_000);
      expect(h.cpu.s[EAX]).toBeGreaterThan(5000);
      const last = h.cpu.jitRegistry.recent[h.cpu.jitRegistry.recent.length - 1];
      const eips = last.blocks.map((b) => b.eip);
      expect(eips).toContain(CODE + 10); // inner loop
      expect(eips).toContain(CODE + 14); // outer loop tail
      expect(h.cpu.jitRegistry.stats.compiles - compiles).toBeLessThanOrEqual(3);
    } finally {
      h.cpu.jit = { ...JIT_DEFAULTS, enabled: true, threshold: 0, compileCost: 0, maxCompiles: Infinity, maxInvalidations: Infinity, throwOnFailure: true };
    }
  });

  it('wait until their page has interpreted compileCost instructions per instruction compiled', () => {
    const h = pair.jit;
    const COST = 500;
    h.cpu.jit = { ...JIT_DEFAULTS, enabled: true, compileCost: COST, compileKnee: Infinity, maxInvalidations: Infinity, throwOnFailure: true };
    try {
      // mov edx, 200; outer: mov ecx, 50; inner: inc eax; dec ecx; jnz inner; dec edx; jnz outer
      const code = [0xba, ...le32(200), 0xb9, ...le32(50), 0x40, 0x49, 0x75, 0xfc, 0x4a, 0x75, 0xf4];
      pair.setUp(h, pair.program(code));
      const st = h.cpu.jitRegistry.stats;
      const compiles = st.compiles;
      const deferred = st.deferred;
      const compiled = st.insnsCompiled;
      const start = h.cpu.icount;
      // The inner loop passes the threshold after 64 iterations (192 instructions), but its
      // region (3 instructions) needs 1500 interpreted ones first.
      h.run(1200);
      expect(st.compiles).toBe(compiles);
      expect(st.deferred).toBeGreaterThan(deferred);
      h.run(20_000);
      expect(st.compiles).toBeGreaterThan(compiles);
      const last = h.cpu.jitRegistry.recent[h.cpu.jitRegistry.recent.length - 1];
      expect(last.blocks.map((b) => b.eip)).toContain(CODE + 10);
      // Never more compiled than the budget allows: COST interpreted instructions per compiled one.
      expect((st.insnsCompiled - compiled) * COST).toBeLessThanOrEqual(h.cpu.icount - start);
    } finally {
      h.cpu.jit = { ...JIT_DEFAULTS, enabled: true, threshold: 0, compileCost: 0, maxCompiles: Infinity, maxInvalidations: Infinity, throwOnFailure: true };
    }
  });

  it('stay compiled when data next to their code is written, and are never re-formed for it', () => {
    const h = pair.jit;
    // Data next to code: an inner loop of 100 iterations passes the threshold, and the outer
    // loop stores a counter at CODE + dataOff after every inner loop.
    // mov edx, 100; outer: mov ecx, 100; inner: inc eax; dec ecx; jnz inner; mov [data], eax; dec edx; jnz outer
    const program = (dataOff: number) => [0xba, ...le32(100), 0xb9, ...le32(100), 0x40, 0x49, 0x75, 0xfc, 0xa3, ...le32(CODE + dataOff), 0x4a, 0x75, 0xef];
    const insns = 1 + 100 * (1 + 3 * 100 + 3);
    const st = h.cpu.jitRegistry.stats;
    const run = (dataOff: number) => {
      h.cpu.jit = { ...JIT_DEFAULTS, enabled: true, compileCost: 0, maxInvalidations: Infinity, throwOnFailure: true };
      pair.setUp(h, pair.program(program(dataOff)));
      const before = { ...st };
      const gens = h.cpu.phys.codeGen.slice();
      h.run(insns);
      const frame = codeFrame(h);
      expect(h.cpu.s[EAX]).toBe(100 * 100);
      return {
        compiles: st.compiles - before.compiles,
        rewrites: st.invalidations - before.invalidations,
        revalidations: st.revalidations - before.revalidations,
        bumps: h.cpu.phys.codeGen[frame] - gens[frame],
      };
    };
    try {
      // In the code's 512-byte chunk: every store moves the frame's code generation, and the
      // region is found unchanged each time instead of being compiled again (it was compiled
      // after every store before code-marks.ts).
      const near = run(0x40);
      expect(near.bumps).toBeGreaterThanOrEqual(99);
      expect(near.revalidations).toBeGreaterThanOrEqual(98);
      expect(near.rewrites).toBe(0);
      expect(near.compiles).toBeLessThanOrEqual(3);
      // In another chunk of the frame: the stores do not touch decoded code at all.
      const far = run(0x800);
      expect(far.bumps).toBe(0);
      expect(far.revalidations).toBe(0);
      expect(far.compiles).toBeLessThanOrEqual(3);
    } finally {
      h.cpu.jit = { ...JIT_DEFAULTS, enabled: true, threshold: 0, compileCost: 0, maxCompiles: Infinity, maxInvalidations: Infinity, throwOnFailure: true };
    }
  });

  it('are dropped when their code is rewritten, and code rewritten more than once stays interpreted', () => {
    const h = pair.jit;
    // The outer loop patches the immediate of the inner loop's ADD: the inner loop's code really
    // changes 50 times. mov edx, 50; xor ebx, ebx; outer: mov ecx, 100; inner: add ebx, imm8
    // (patched); dec ecx; jnz inner; mov [imm], dl; dec edx; jnz outer
    const imm = CODE + 14;
    const code = [0xba, ...le32(50), 0x31, 0xdb, 0xb9, ...le32(100), 0x83, 0xc3, 0x00, 0x49, 0x75, 0xfa, 0x88, 0x15, ...le32(imm), 0x4a, 0x75, 0xec];
    const st = h.cpu.jitRegistry.stats;
    h.cpu.jit = { ...JIT_DEFAULTS, enabled: true, compileCost: 0, maxInvalidations: Infinity, throwOnFailure: true };
    try {
      pair.setUp(h, pair.program(code));
      const compiles = st.compiles;
      const rewrites = st.invalidations;
      h.run(1 + 1 + 50 * (1 + 3 * 100 + 3));
      // ebx = 100 * (0 + 50 + 49 + ... + 2): the first pass adds 0, pass k adds 52 - k.
      let want = 0;
      for (let d = 50; d >= 2; d--) want += 100 * d;
      expect(h.cpu.s[EBX]).toBe(want);
      expect(st.invalidations - rewrites).toBeGreaterThanOrEqual(49);
      // Compiled at most a few times (once per rewrite it would be 50).
      expect(st.compiles - compiles).toBeLessThanOrEqual(4);
    } finally {
      h.cpu.jit = { ...JIT_DEFAULTS, enabled: true, threshold: 0, compileCost: 0, maxCompiles: Infinity, maxInvalidations: Infinity, throwOnFailure: true };
    }
  });

  it('are formed again with fewer blocks when their code is too long for V8 to optimise', () => {
    const h = pair.jit;
    // mov edx, 1000; mov ecx, 1; top: 6 x (5 x add eax, ecx; jmp $+2); dec edx; jnz top
    const chunk = [0x01, 0xc8, 0x01, 0xc8, 0x01, 0xc8, 0x01, 0xc8, 0x01, 0xc8, 0xeb, 0x00];
    const code = [0xba, ...le32(1000), 0xb9, ...le32(1), ...Array.from({ length: 6 }, () => chunk).flat(), 0x4a, 0x75, 0xb5];
    const st = h.cpu.jitRegistry.stats;
    const run = (maxRegionChars: number) => {
      h.cpu.jit = { ...JIT_DEFAULTS, enabled: true, compileCost: 0, maxRegionChars, maxInvalidations: Infinity, throwOnFailure: true };
      pair.setUp(h, pair.program(code));
      const compiles = st.compiles;
      h.run(2 + 1000 * (6 * 6 + 2));
      expect(h.cpu.s[EAX]).toBe(30_000);
      expect(st.compiles).toBeGreaterThan(compiles);
      return h.cpu.jitRegistry.recent.slice(-(st.compiles - compiles));
    };
    try {
      const whole = run(Infinity);
      expect(whole[0].blocks.length).toBe(7);
      const limit = Math.floor(whole[0].source.length / 2);
      const parts = run(limit);
      for (const r of parts) {
        expect(r.blocks.length).toBeLessThan(7);
        expect(r.blocks.length === 1 || r.source.length <= limit).toBe(true);
      }
    } finally {
      h.cpu.jit = { ...JIT_DEFAULTS, enabled: true, threshold: 0, compileCost: 0, maxCompiles: Infinity, maxInvalidations: Infinity, throwOnFailure: true };
    }
  });

  it('cost more budget per instruction the larger they are (compileKnee)', () => {
    const h = pair.jit;
    // mov edx, 1000; mov ecx, 1; top: 6 x (5 x add eax, ecx; jmp $+2); dec edx; jnz top (38 instructions)
    const chunk = [0x01, 0xc8, 0x01, 0xc8, 0x01, 0xc8, 0x01, 0xc8, 0x01, 0xc8, 0xeb, 0x00];
    const code = [0xba, ...le32(1000), 0xb9, ...le32(1), ...Array.from({ length: 6 }, () => chunk).flat(), 0x4a, 0x75, 0xb5];
    const st = h.cpu.jitRegistry.stats;
    const compilesIn = (compileKnee: number, insns: number): number => {
      h.cpu.jit = { ...JIT_DEFAULTS, enabled: true, compileCost: 100, compileKnee, maxInvalidations: Infinity, throwOnFailure: true };
      pair.setUp(h, pair.program(code));
      const compiles = st.compiles;
      h.run(insns);
      return st.compiles - compiles;
    };
    try {
      // Linear: 100 x 38 = 3800 interpreted instructions buy the loop; with a knee of 4
      // instructions it costs 100 x 38 x (1 + 38 / 4) = 39900.
      expect(compilesIn(Infinity, 12_000)).toBeGreaterThan(0);
      expect(compilesIn(4, 12_000)).toBe(0);
      expect(compilesIn(4, 60_000)).toBeGreaterThan(0);
    } finally {
      h.cpu.jit = { ...JIT_DEFAULTS, enabled: true, threshold: 0, compileCost: 0, maxCompiles: Infinity, maxInvalidations: Infinity, throwOnFailure: true };
    }
  });

  it('are checked by the lock-step comparison: a wrong INC template is caught', () => {
    const good = TEMPLATES.INC;
    const broken: Template = (e, i, last) => {
      if (i.size !== 4) return good(e, i, last);
      e.set32(i.r1, `${e.reg(i.r1)} + 2`);
      return true;
    };
    const table = TEMPLATES as Record<string, Template>;
    table.INC = broken;
    try {
      // mov ecx, 3; L: inc eax; dec ecx; jnz L
      const d = pair.run(pair.program([0xb9, ...le32(3), 0x40, 0x49, 0x75, 0xfc]), 10, 3);
      expect(d).toMatch(/eax: interpreter 0x\d+ jit/);
    } finally {
      table.INC = good;
    }
  });
});

describe('compiled string instructions', () => {
  beforeAll(() => {
    pair = new RunnerPair();
  });

  it('copy, load and store strings like the interpreter in both directions, and fault precisely', () => {
    clearExcRecord();
    const l = pair.layout;
    const src = l.dataWindow;
    const dst = l.dataWindow + 0x200;
    const fill = l.npPage - 0x40;
    // mov esi, src; mov edi, dst; mov ecx, 40
    // L1: movsb; lodsb; add ebx, eax; stosw; movsd; dec ecx; jnz L1
    // std; mov ecx, 40; L2: movsb; lodsd; add ebx, eax; stosb; dec ecx; jnz L2; cld
    // mov edi, fill; L3: stosd; inc eax; jmp L3 (faults at the not-present page)
    const code = [
      0xbe, ...le32(src), 0xbf, ...le32(dst), 0xb9, ...le32(40),
      0xa4, 0xac, 0x01, 0xc3, 0x66, 0xab, 0xa5, 0x49, 0x75, 0xf6,
      0xfd, 0xb9, ...le32(40),
      0xa4, 0xad, 0x01, 0xc3, 0xaa, 0x49, 0x75, 0xf8, 0xfc,
      0xbf, ...le32(fill), 0xab, 0x40, 0xeb, 0xfc,
    ];
    const c = pair.program(code, {}, true);
    c.data = Uint8Array.from({ length: c.data.length }, (_, k) => (k * 37 + 11) & 0xff);
    expect(pair.run(c, 40, 40)).toBeNull();
    const s = pair.jit.cpu.s;
    expect(s[EDI]).toBe(l.npPage);
    expect(excRecord()).toMatchObject({ vector: 14, error: 2, eip: l.codeWindow + code.length - 4, count: 1 });
    const regions = pair.jit.cpu.jitRegistry.recent;
    const loop = regions.find((r) => r.blocks.some((b) => b.eip === l.codeWindow + 15));
    expect(loop?.templated).toBe(loop?.insns);
  });
});

// Copy loops run in bulk (src-engine/cpu/jit/copy-loops.ts): the two loop shapes of GRUB's
// grub_memmove and their variants run on the JIT side with the normal thresholds (a copy loop
// is recognised at its second iteration) and on the interpreter in lock step; after every chunk
// of a budget (some falling on iteration boundaries, some not), registers, EIP, the lazy flags record,
// the retired count and memory must be identical. The cases are the ones where a bulk copy could
// go wrong: pages crossed, overlapping ranges in both directions, DF set, elements straddling a
// page, a page fault in the middle, a copy over decoded code (its own included), the attention
// word, and shapes that must not be recognised. Each case also checks that the bulk path ran.
import { beforeAll, describe, expect, it } from 'vitest';
import { lockstep, RunnerPair, RUNNER_RANGES } from './jit-lockstep';
import { JIT_DEFAULTS } from '../../../src-engine/cpu/jit/jit-config';
import { RunExit } from '../../../src-engine/cpu/cpu';
import { S_EIP } from '../../../src-engine/cpu/state';

let pair: RunnerPair;
const CODE = 0x4000;
/** A buffer area outside the runner's low memory (identity-mapped, 16 pages). */
const BUF = 0x200000;
const BUF_BYTES = 0x10000;
const RANGES = [...RUNNER_RANGES, { addr: BUF, len: BUF_BYTES }];

type Regs = Partial<Record<'eax' | 'ecx' | 'edx' | 'ebx' | 'esi' | 'edi', number>>;

/** A byte pattern that shows misplaced or repeated bytes (no period of 256). */
function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Stats of the JIT side's copy loops. */
function copied(): { loops: number; insns: number } {
  const st = pair.jit.cpu.jitRegistry.stats;
  return { loops: st.copyLoops, insns: st.insnsCopied };
}

/**
 * Runs `code` on both sides (JIT side with the normal thresholds and copy loops on) with
 * `regs`, after writing `data` (address -> bytes) to both; returns the lock-step report and how
 * many instructions the copy loops retired.
 */
function runCase(code: number[], regs: Regs, data: [number, Uint8Array][], opts: { paging?: boolean; chunks?: number; budget?: number } = {}) {
  const c = pair.program(code, regs, opts.paging ?? false);
  for (const h of [pair.interp, pair.jit]) {
    pair.setUp(h, c);
    h.writePhys(BUF, new Uint8Array(BUF_BYTES));
    for (const [addr, bytes] of data) h.writePhys(addr, bytes);
  }
  pair.jit.cpu.jit = { ...JIT_DEFAULTS, enabled: true, copyLoops: true, throwOnFailure: true, maxInvalidations: Infinity };
  // Same retired count on both sides (a test may have run one side alone).
  pair.interp.cpu.icount = pair.jit.cpu.icount = Math.max(pair.interp.cpu.icount, pair.jit.cpu.icount);
  const before = copied();
  const report = lockstep(pair.interp, pair.jit, RANGES, opts.chunks ?? 40, opts.budget ?? 1000);
  const after = copied();
  return { report, loops: after.loops - before.loops, insns: after.insns - before.insns };
}

// GRUB's forward loop, then `jmp $`: L: cmp ecx, edi; je done; movsb; jmp L; done: jmp $
const FORWARD_MOVSB = [0x39, 0xf9, 0x74, 0x03, 0xa4, 0xeb, 0xf9, 0xeb, 0xfe];
// GRUB's backward loop: L: sub ecx, 1; jb done; mov dl, [esi+ecx]; mov [eax+ecx], dl; jmp L; done: jmp $
const BACKWARD = [0x83, 0xe9, 0x01, 0x72, 0x08, 0x8a, 0x14, 0x0e, 0x88, 0x14, 0x08, 0xeb, 0xf3, 0xeb, 0xfe];

describe('copy loops run in bulk', () => {
  beforeAll(() => {
    pair = new RunnerPair();
  });

  it('copy forward across pages exactly as the interpreter (GRUB grub_memmove, forward)', () => {
    const src = pattern(0x3000, 1);
    const r = runCase(FORWARD_MOVSB, { esi: BUF + 0x123, edi: BUF + 0x8456, ecx: BUF + 0x8456 + 0x3000 }, [[BUF + 0x123, src]], { chunks: 60 });
    expect(r.report).toBeNull();
    expect(r.loops).toBe(1);
    expect(r.insns).toBeGreaterThan(0.9 * 4 * 0x3000);
    expect([...pair.jit.readPhys(BUF + 0x8456, 0x3000)]).toEqual([...src]);
  });

  it('copy forward with paging on, and fault precisely at a page that is not present', () => {
    // 0x300 bytes from 0x5000 to 0x6e00: the element for 0x7000 (not present) faults.
    const r = runCase(FORWARD_MOVSB, { esi: 0x5000, edi: 0x6e00, ecx: 0x7100 }, [[0x5000, pattern(0x300, 2)]], { paging: true, chunks: 10, budget: 313 });
    expect(r.report).toBeNull();
    expect(r.insns).toBeGreaterThan(0);
    expect(pair.jit.cpu.s[7]).toBe(0x7000);
  });

  it('copy forward over overlapping ranges in the loop order (destination above the source)', () => {
    // A forward byte loop with dst = src + 3 replicates the first 3 bytes; a block move would not.
    const r = runCase(FORWARD_MOVSB, { esi: BUF + 0x100, edi: BUF + 0x103, ecx: BUF + 0x103 + 0x2000 }, [[BUF + 0x100, pattern(0x2100, 3)]]);
    expect(r.report).toBeNull();
    expect(r.insns).toBeGreaterThan(0);
    const out = pair.jit.readPhys(BUF + 0x100, 0x2003);
    for (let i = 3; i < 0x2003; i++) expect(out[i]).toBe(out[i % 3]);
  });

  it('copy downwards with DF set, and dwords and words that straddle pages', () => {
    // std; L: cmp ecx, edi; je done; movs; jmp L; done: jmp $
    const down = [0xfd, 0x39, 0xf9, 0x74, 0x03, 0xa4, 0xeb, 0xf9, 0xeb, 0xfe];
    const a = runCase(down, { esi: BUF + 0x5fff, edi: BUF + 0x5ffd, ecx: BUF + 0x5ffd - 0x2500 }, [[BUF + 0x3000, pattern(0x3000, 4)]]);
    expect(a.report).toBeNull();
    expect(a.insns).toBeGreaterThan(0);
    // movsd from an address 2 bytes before a page end (every element at the page ends straddles).
    const dwords = [0x39, 0xf9, 0x74, 0x03, 0xa5, 0xeb, 0xf9, 0xeb, 0xfe];
    const b = runCase(dwords, { esi: BUF + 0x0ffe, edi: BUF + 0x9ffe, ecx: BUF + 0x9ffe + 4 * 0x900 }, [[BUF, pattern(0x4000, 5)]]);
    expect(b.report).toBeNull();
    expect(b.insns).toBeGreaterThan(0);
    // movsw (66 a5) downwards, overlapping (destination below the source: the loop order matters).
    const words = [0xfd, 0x39, 0xf9, 0x74, 0x04, 0x66, 0xa5, 0xeb, 0xf8, 0xeb, 0xfe];
    const c = runCase(words, { esi: BUF + 0x3001, edi: BUF + 0x2ffe, ecx: BUF + 0x2ffe - 2 * 0x1000 }, [[BUF, pattern(0x4000, 6)]]);
    expect(c.report).toBeNull();
    expect(c.insns).toBeGreaterThan(0);
  });

  it('fill with STOS, the pointer compared first (cmp edi, edx)', () => {
    // L: cmp edi, edx; je done; stosb/stosd; jmp L; done: jmp $
    const bytes = [0x39, 0xd7, 0x74, 0x03, 0xaa, 0xeb, 0xf9, 0xeb, 0xfe];
    const a = runCase(bytes, { eax: 0x5a, edi: BUF + 0x10, edx: BUF + 0x10 + 0x2345 }, []);
    expect(a.report).toBeNull();
    expect(a.insns).toBeGreaterThan(0);
    const dwords = [0x39, 0xd7, 0x74, 0x03, 0xab, 0xeb, 0xf9, 0xeb, 0xfe];
    const b = runCase(dwords, { eax: 0x11223344, edi: BUF + 0xffe, edx: BUF + 0xffe + 4 * 0x700 }, []);
    expect(b.report).toBeNull();
    expect(b.insns).toBeGreaterThan(0);
  });

  it('copy downwards by index exactly as the interpreter (GRUB grub_memmove, backward), overlapping both ways', () => {
    const data: [number, Uint8Array][] = [[BUF, pattern(0x6000, 7)]];
    // Destination above the source (what memmove uses this loop for), across pages.
    const a = runCase(BACKWARD, { esi: BUF + 0x100, eax: BUF + 0x900, ecx: 0x4321 }, data, { chunks: 100 });
    expect(a.report).toBeNull();
    expect(a.loops).toBe(1);
    expect(a.insns).toBeGreaterThan(0.9 * 5 * 0x4321);
    // Destination below the source and overlapping: the downward order smears the bytes.
    const b = runCase(BACKWARD, { esi: BUF + 0x1005, eax: BUF + 0x1000, ecx: 0x2000 }, data);
    expect(b.report).toBeNull();
    expect(b.insns).toBeGreaterThan(0);
    // A scaled second register and a displacement: mov dl, [ecx + ebx*2 + 0x10].
    const scaled = [0x83, 0xe9, 0x01, 0x72, 0x09, 0x8a, 0x54, 0x59, 0x10, 0x88, 0x14, 0x08, 0xeb, 0xf2, 0xeb, 0xfe];
    const c = runCase(scaled, { ebx: (BUF + 0x40) / 2, eax: BUF + 0x8000, ecx: 0x1800 }, data);
    expect(c.report).toBeNull();
    expect(c.insns).toBeGreaterThan(0);
  });

  it('leave stores into decoded code to the interpreter, their own code included', () => {
    // Copy 1 KiB over the code right after the loop: INC EBX x 1020, then jmp $. The chunk of
    // the loop's own code is written by the interpreter, the rest in bulk; then the new code runs.
    const fresh = new Uint8Array(0x400).fill(0x43);
    fresh.set([0xeb, 0xfe], 0x3fe);
    const r = runCase(FORWARD_MOVSB, { esi: 0x5000, edi: CODE + 7, ecx: CODE + 7 + 0x400 }, [[0x5000, fresh]], { chunks: 30, budget: 211 });
    expect(r.report).toBeNull();
    expect(r.insns).toBeGreaterThan(0);
    expect(pair.jit.cpu.s[3]).toBe(0x3fe);
    // Backward, over the loop's own code: 2 KiB onto CODE whose first bytes are the loop's own.
    const over = pattern(0x800, 8);
    over.set(BACKWARD, 0);
    const b = runCase(BACKWARD, { esi: 0x5000, eax: CODE, ecx: 0x800 }, [[0x5000, over]], { chunks: 30, budget: 389 });
    expect(b.report).toBeNull();
    expect(b.insns).toBeGreaterThan(0);
    expect([...pair.jit.readPhys(CODE, 0x800)]).toEqual([...over]);
  });

  it('stop within one chunk when the attention word is raised, and finish exactly afterwards', () => {
    const h = pair.jit;
    const src = pattern(0x4000, 9);
    pair.setUp(h, pair.program(FORWARD_MOVSB, { esi: BUF, edi: BUF + 0x8000, ecx: BUF + 0xc000 }));
    h.writePhys(BUF, src);
    h.cpu.jit = { ...JIT_DEFAULTS, enabled: true, copyLoops: true, throwOnFailure: true };
    // The attention word reads as raised from the n-th read on (the run loop reads it at entry,
    // the copy loop after each chunk), until the CPU asks ops.attention.
    const word = new Int32Array(1);
    let countdown = Infinity;
    const proxy = new Proxy(word, {
      get(t, p) {
        if (p === '0') {
          if (--countdown <= 0) t[0] = 1;
          return t[0];
        }
        const v: unknown = Reflect.get(t, p);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    const attn = h.cpu.attn;
    const ops = h.cpu.ops;
    const attention = ops.attention;
    h.cpu.attn = proxy;
    ops.attention = () => {
      word[0] = 0;
      countdown = Infinity;
      return true;
    };
    try {
      h.run(100);
      const start = h.cpu.icount;
      countdown = 2;
      expect(h.run(1e9)).toBe(RunExit.Attention);
      // One page of elements (4 instructions each) at most, and the copy is not finished.
      expect(h.cpu.icount - start).toBeGreaterThan(0);
      expect(h.cpu.icount - start).toBeLessThanOrEqual(4 * 4096);
      expect(h.cpu.s[7]).toBeLessThan(BUF + 0xc000);
      expect(h.cpu.s[S_EIP]).toBe(CODE);
      h.run(1e6);
      expect(h.cpu.s[S_EIP]).toBe(CODE + 7);
      expect([...h.readPhys(BUF + 0x8000, 0x4000)]).toEqual([...src]);
    } finally {
      h.cpu.attn = attn;
      ops.attention = attention;
    }
  });

  it('are not recognised in loops of other shapes', () => {
    // Both compared registers moved by MOVS: cmp esi, edi (never equal here; stops at the budget).
    const both = [0x39, 0xfe, 0x74, 0x03, 0xa4, 0xeb, 0xf9, 0xeb, 0xfe];
    const a = runCase(both, { esi: BUF, edi: BUF + 0x100 }, [], { chunks: 3 });
    expect(a.report).toBeNull();
    expect(a.loops).toBe(0);
    // REP MOVSB in the body, and a JNZ head.
    const rep = [0x39, 0xf9, 0x74, 0x04, 0xf3, 0xa4, 0xeb, 0xf8, 0xeb, 0xfe];
    const b = runCase(rep, { esi: BUF, edi: BUF + 0x100, ecx: 0 }, [], { chunks: 3 });
    expect(b.report).toBeNull();
    expect(b.loops).toBe(0);
    // The byte register is also the counter's: mov cl, [esi+ecx].
    const clash = [0x83, 0xe9, 0x01, 0x72, 0x08, 0x8a, 0x0c, 0x0e, 0x88, 0x0c, 0x08, 0xeb, 0xf3, 0xeb, 0xfe];
    const c = runCase(clash, { esi: BUF, eax: BUF + 0x800, ecx: 0x400 }, [[BUF, pattern(0x400, 10)]], { chunks: 3 });
    expect(c.report).toBeNull();
    expect(c.loops).toBe(0);
  });
});

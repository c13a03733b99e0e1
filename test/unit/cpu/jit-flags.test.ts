// The JIT's two ways of reading lazy flags agree with lazy-flags.ts, the interpreter's: the
// value-based evaluators of flags-runtime.ts (used when the compiler does not know which
// operation set the flags) and the direct formulas flag-exprs.ts writes into compiled code when
// it does know (e.g. `jb` after a 32-bit `cmp` becomes an unsigned compare of the operands),
// on random records of every operation kind and size, and every condition code.
import { describe, expect, it } from 'vitest';
import type { Cpu } from '../../../src-engine/cpu/cpu';
import { cond, getCF, getOF, getPF, getSF, getZF, PARITY } from '../../../src-engine/cpu/lazy-flags';
import { cfOf, condOf, LAZY_KINDS, ofOf, pfOf, sfOf, zfOf } from '../../../src-engine/cpu/jit/flags-runtime';
import { cfExpr, condExpr, UNKNOWN } from '../../../src-engine/cpu/jit/flag-exprs';
import { S_EFLAGS, S_LF_A, S_LF_AUX, S_LF_B, S_LF_OP, S_LF_RES, STATE_BYTES } from '../../../src-engine/cpu/state';

const RECORDS = 400;
const SIZE_MASK = [0xff, 0xffff, -1];

/** A deterministic pseudo-random source (xorshift32). */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x | 0;
  };
}

/** Values biased to the edges of the operand size. */
function operand(next: () => number, sz: number): number {
  const edges = [0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, -0x80000000, -1];
  const v = (next() & 3) === 0 ? edges[(next() >>> 0) % edges.length] : next();
  return sz === 2 ? v | 0 : v & SIZE_MASK[sz];
}

interface LazyRecord {
  op: number;
  a: number;
  b: number;
  r: number;
  aux: number;
  ef: number;
}

function records(seed: number): LazyRecord[] {
  const next = rng(seed);
  const out: LazyRecord[] = [];
  for (const kind of [0, ...LAZY_KINDS]) {
    for (let sz = 0; sz < 3; sz++) {
      for (let k = 0; k < RECORDS; k++) {
        out.push({
          op: kind === 0 ? 0 : (kind << 2) | sz,
          a: operand(next, sz),
          b: operand(next, sz),
          r: operand(next, sz),
          aux: next() & 1,
          ef: (next() & 0x8d5) | 2,
        });
      }
    }
  }
  return out;
}

/** A Cpu stand-in with just the state block the lazy-flags functions read. */
function cpuWith(rec: LazyRecord): Cpu {
  const s = new Int32Array(STATE_BYTES / 4);
  s[S_LF_OP] = rec.op;
  s[S_LF_A] = rec.a;
  s[S_LF_B] = rec.b;
  s[S_LF_RES] = rec.r;
  s[S_LF_AUX] = rec.aux;
  s[S_EFLAGS] = rec.ef;
  return { s } as unknown as Cpu;
}

type Compiled = (fo: number, fa: number, fb: number, fr: number, fx: number, s: Int32Array) => number | boolean;

const compiled = new Map<string, Compiled>();
/** Compiles an expression over the region's flag locals, as a region would see it. */
function evaluator(expr: string): Compiled {
  let f = compiled.get(expr);
  if (f === undefined) {
    const make = new Function('PARITY', 'cfOf', 'condOf', `return (fo, fa, fb, fr, fx, s) => ${expr};`) as (...a: unknown[]) => Compiled;
    f = make(PARITY, cfOf, condOf);
    compiled.set(expr, f);
  }
  return f;
}

describe('JIT flags', () => {
  const recs = records(0x5eed);

  it('flags-runtime evaluates every flag and condition like lazy-flags.ts', () => {
    const bad: string[] = [];
    let checked = 0;
    for (const rec of recs) {
      const cpu = cpuWith(rec);
      const { op, a, b, r, aux, ef } = rec;
      const got = [cfOf(op, a, b, r, aux, ef), ofOf(op, a, b, r, aux, ef), zfOf(op, r, ef), sfOf(op, r, ef), pfOf(op, r, ef)];
      const want = [getCF(cpu), getOF(cpu), getZF(cpu), getSF(cpu), getPF(cpu)];
      if (got.join() !== want.join()) bad.push(`op ${op} a ${a} b ${b} r ${r} aux ${aux}: CF OF ZF SF PF ${got} vs ${want}`);
      for (let cc = 0; cc < 16; cc++) {
        // cond() has fast paths of its own for SUB and logic results; they must agree too.
        if (condOf(op, a, b, r, aux, ef, cc) !== cond(cpu, cc)) bad.push(`op ${op} a ${a} b ${b} r ${r}: cc ${cc}`);
        checked++;
      }
    }
    expect(bad.slice(0, 5)).toEqual([]);
    expect(checked).toBe(recs.length * 16);
  });

  it('compiled conditions and CF agree with lazy-flags.ts when the operation is known at compile time', () => {
    const bad: string[] = [];
    let direct = 0;
    for (const rec of recs) {
      if (rec.op === 0) continue;
      const cpu = cpuWith(rec);
      const s = cpu.s;
      for (let cc = 0; cc < 16; cc++) {
        const expr = condExpr(cc, rec.op, UNKNOWN);
        if (!expr.includes('condOf')) direct++;
        const got = evaluator(expr)(rec.op, rec.a, rec.b, rec.r, rec.aux, s) ? 1 : 0;
        if (got !== cond(cpu, cc)) bad.push(`op ${rec.op} a ${rec.a} b ${rec.b} r ${rec.r} cc ${cc}: ${expr}`);
      }
      const expr = cfExpr(rec.op, UNKNOWN);
      if (evaluator(expr)(rec.op, rec.a, rec.b, rec.r, rec.aux, s) !== getCF(cpu)) bad.push(`CF of op ${rec.op}: ${expr}`);
    }
    expect(bad.slice(0, 5)).toEqual([]);
    // Every kind has direct formulas (no call) for all conditions.
    expect(direct).toBe(recs.filter((x) => x.op !== 0).length * 16);
  });

  it('a guess of the pending operation is checked at run time, and a wrong guess still reads the right flags', () => {
    const guess = (5 << 2) | 2; // 32-bit logic
    const bad: string[] = [];
    for (const rec of recs) {
      const cpu = cpuWith(rec);
      for (let cc = 0; cc < 16; cc++) {
        const f = evaluator(condExpr(cc, UNKNOWN, guess));
        if ((f(rec.op, rec.a, rec.b, rec.r, rec.aux, cpu.s) ? 1 : 0) !== cond(cpu, cc)) bad.push(`op ${rec.op} cc ${cc}`);
      }
      if (evaluator(cfExpr(UNKNOWN, guess))(rec.op, rec.a, rec.b, rec.r, rec.aux, cpu.s) !== getCF(cpu)) bad.push(`CF of op ${rec.op}`);
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });
});

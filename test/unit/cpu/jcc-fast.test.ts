// The Jcc handlers of their own (JB, JAE, JZ, JNZ: handlers/control.ts) decide exactly as the
// general condition evaluator (lazy-flags.ts cond) for every kind of pending lazy flags record,
// every operand size and for flags already in EFLAGS (random records, each condition both ways).
import { describe, expect, it } from 'vitest';
import { createCpuHarness } from '../../support/cpu-harness';
import { decodeOne } from '../../../src-engine/cpu/decoder';
import { cond, LF_MUL } from '../../../src-engine/cpu/lazy-flags';
import { S_EFLAGS, S_EIP, S_LF_A, S_LF_AUX, S_LF_B, S_LF_OP, S_LF_RES } from '../../../src-engine/cpu/state';

/** Where the Jcc is placed (real mode after reset: CS base 0xF0000 would be ROM; use CS = 0). */
const CODE = 0x1000;
const CASES = 4000;

/** A deterministic generator (xorshift32). */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

describe('Jcc handlers for B, AE, Z and NZ', () => {
  it('take the branch exactly when cond() says so, for every lazy flags record', () => {
    const h = createCpuHarness({ memBytes: 1 << 20 });
    const cpu = h.cpu;
    h.setRegs({ cs: 0 });
    const next = rng(12345);
    for (const cc of [0x2, 0x3, 0x4, 0x5]) {
      h.writePhys(CODE, new Uint8Array([0x70 | cc, 0x10]));
      const ins = decodeOne(cpu, CODE, CODE);
      expect(ins.mnem).toBe('JCC');
      let taken = 0;
      for (let n = 0; n < CASES; n++) {
        const s = cpu.s;
        const kind = next() % (LF_MUL + 1);
        const size = next() % 3;
        const mask = size === 0 ? 0xff : size === 1 ? 0xffff : -1;
        const small = next() % 4 === 0;
        const v = () => (small ? next() % 3 : next()) & mask;
        s[S_LF_OP] = kind === 0 ? 0 : (kind << 2) | size;
        s[S_LF_A] = v();
        s[S_LF_B] = v();
        s[S_LF_RES] = next() % 3 === 0 ? 0 : v();
        s[S_LF_AUX] = next() & 1;
        s[S_EFLAGS] = (next() & 0x8d5) | 2;
        const want = cond(cpu, cc) !== 0;
        s[S_EIP] = ins.next;
        ins.fn(cpu, ins);
        expect(s[S_EIP] === ins.target, `cc ${cc} op ${s[S_LF_OP]} a ${s[S_LF_A]} b ${s[S_LF_B]} res ${s[S_LF_RES]}`).toBe(want);
        if (want) taken++;
      }
      // Both outcomes were exercised.
      expect(taken).toBeGreaterThan(CASES / 10);
      expect(taken).toBeLessThan(CASES - CASES / 10);
    }
  });
});

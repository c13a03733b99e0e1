/**
 * EdgeHeap and edgeAfter (src-engine/runtime/pcpu-edges.ts): the offered timer edges a busy pCPU
 * keeps in order. Random pushes, moves, pops and removals against a plain sorted list; edgeAfter
 * against edge-by-edge stepping with the PIT's picosecond period (100 Hz: 1193 clocks of 838.1 ns).
 */
import { describe, expect, it } from 'vitest';
import { EdgeHeap, NO_EDGE, edgeAfter } from '../../../src-engine/runtime/pcpu-edges';
import { seededRandom } from '../../../src-engine/hv/sched/sim/workloads';

describe('EdgeHeap', () => {
  it('always gives the earliest entry, through random pushes, moves, pops and removals', () => {
    const rnd = seededRandom(7);
    const cap = 64;
    const h = new EdgeHeap(cap);
    /** The reference: entry -> instant. */
    const ref = new Map<number, number>();
    const earliest = (): number => Math.min(...ref.values());
    for (let step = 0; step < 20_000; step++) {
      const r = rnd();
      const e = Math.floor(rnd() * cap);
      // Instants often equal, as offers of one period are.
      const at = Math.floor(rnd() * 50) * 1000;
      if (r < 0.5) {
        h.push(e, at);
        ref.set(e, at);
      } else if (r < 0.7) {
        h.remove(e);
        ref.delete(e);
      } else if (r < 0.9) {
        const top = h.pop();
        if (ref.size === 0) {
          expect(top).toBe(-1);
        } else {
          expect(ref.get(top)).toBe(earliest());
          ref.delete(top);
        }
      } else if (rnd() < 0.05) {
        h.clear();
        ref.clear();
      }
      expect(h.size()).toBe(ref.size);
      expect(h.topAt()).toBe(ref.size === 0 ? NO_EDGE : earliest());
      if (ref.size > 0) expect(ref.get(h.top())).toBe(h.topAt());
      expect(h.has(e)).toBe(ref.has(e));
    }
  });
});

describe('edgeAfter', () => {
  it('gives the first edge after an instant, as stepping edge by edge does', () => {
    // PIT channel 0 at 100 Hz: 11932 clocks of 1e12 / 1193182 ps.
    const periodPs = Math.ceil((11932 * 1e12) / 1193182);
    const rnd = seededRandom(3);
    const first = 123_456.5;
    for (let k = 0; k < 2000; k++) {
      const t = first - 1e6 + rnd() * 2e9;
      let j = 0;
      while (first + Math.ceil((j * periodPs) / 1000) <= t) j++;
      expect(edgeAfter(first, periodPs, t)).toBe(first + Math.ceil((j * periodPs) / 1000));
    }
    // An instant exactly on an edge gives the next one.
    const e5 = first + Math.ceil((5 * periodPs) / 1000);
    expect(edgeAfter(first, periodPs, e5)).toBe(first + Math.ceil((6 * periodPs) / 1000));
  });
});

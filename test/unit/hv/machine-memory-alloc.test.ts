/**
 * The pool allocator over fragmented free space: runs of free frames from the search hint on,
 * wrapping once, every frame handed out zeroed and owned once, and the same frames whether they
 * come as a list (allocate) or straight into a P2M (allocateInto).
 */
import { describe, expect, it } from 'vitest';
import { FRAME_SIZE, MachineMemory } from '../../../src-engine/hv/memory/machine-memory';
import { MemoryError } from '../../../src-engine/base/errors';

const FRAMES = 64;

/** A pool with frames 0-39 taken, then 4-9 and 20-23 written and given back (dirty, free). */
function fragmented(): { pool: MachineMemory; held: Set<number> } {
  const pool = new MachineMemory(FRAMES * FRAME_SIZE);
  const first = [...pool.allocate(40, 'setup')];
  expect(first).toEqual(Array.from({ length: 40 }, (_, i) => i));
  const back = [4, 5, 6, 7, 8, 9, 20, 21, 22, 23];
  for (const f of back) pool.mem8.fill(0xaa, f * FRAME_SIZE, (f + 1) * FRAME_SIZE);
  pool.free(back);
  return { pool, held: new Set(first.filter((f) => !back.includes(f))) };
}

function zeroed(pool: MachineMemory, f: number): boolean {
  return pool.mem8.subarray(f * FRAME_SIZE, (f + 1) * FRAME_SIZE).every((b) => b === 0);
}

describe('MachineMemory allocation', () => {
  it('takes free runs from the hint on, wraps once, and zeroes frames given back', () => {
    const { pool, held } = fragmented();
    // 24 frames are free after the hint (40-63), then the wrap finds 4-9 and 20-23.
    const got = [...pool.allocate(30, 'guest')];
    expect(got).toEqual([...Array.from({ length: 24 }, (_, i) => 40 + i), 4, 5, 6, 7, 8, 9]);
    expect(got.every((f) => !held.has(f) && zeroed(pool, f))).toBe(true);
    expect(pool.freeFrames).toBe(4);
    expect([...pool.allocate(4, 'rest')]).toEqual([20, 21, 22, 23]);
    expect(zeroed(pool, 21)).toBe(true);
    expect(() => pool.allocate(1, 'one more')).toThrow(MemoryError);
  });

  it('writes the same frames into a P2M as allocate would list, as frame + 1', () => {
    const a = fragmented();
    const b = fragmented();
    const list = [...a.pool.allocate(30, 'guest')];
    const p2m = new Int32Array(32);
    b.pool.allocateInto(p2m.subarray(0, 30), 'guest');
    expect([...p2m.subarray(0, 30)]).toEqual(list.map((f) => f + 1));
    expect([...p2m.subarray(30)]).toEqual([0, 0]);
    expect(b.pool.freeFrames).toBe(a.pool.freeFrames);
  });

  it('refuses a request larger than the free frames and takes nothing', () => {
    const { pool } = fragmented();
    const p2m = new Int32Array(35);
    expect(() => pool.allocateInto(p2m, 'big guest')).toThrow(/big guest: needs/);
    expect(p2m.every((x) => x === 0)).toBe(true);
    expect(pool.freeFrames).toBe(34);
  });
});

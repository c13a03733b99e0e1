import { describe, expect, it } from 'vitest';
import { MachineMemory, physMemoryOf } from '../../../src-engine/hv/memory/machine-memory';
import { allocateArea, poolLayout, wasmPoolOf, WASM_PAGE } from '../../../src-engine/cpu/wasm/wasm-pool';
import { Cpu } from '../../../src-engine/cpu/cpu';
import { INERT_CPU_OPS } from '../../../src-engine/cpu/ops';
import { STATE_BYTES } from '../../../src-engine/cpu/state';
import { TLB_AREA_BYTES } from '../../../src-engine/cpu/mmu';
import { JIT_DEFAULTS } from '../../../src-engine/cpu/jit/jit-config';

const POOL = 4 * 2 ** 20;

describe('the machine pool as one WebAssembly.Memory', () => {
  it('lays out frames, code marks, code generations and the area allocator in one memory', () => {
    const pool = new MachineMemory(POOL, undefined, { wasm: true });
    const b = pool.buffers;
    expect(b.wasm).toBeInstanceOf(WebAssembly.Memory);
    expect(b.mem).toBe(b.codeMark);
    expect(b.mem).toBe(b.codeGen);
    const l = poolLayout(POOL);
    expect(pool.mem8.length).toBe(POOL);
    expect(pool.codeMark.byteOffset).toBe(l.codeMarkOff);
    expect(pool.codeMark.length).toBe(POOL / 4096);
    expect(pool.codeGen.byteOffset).toBe(l.codeGenOff);
    expect(l.codeGenOff).toBeGreaterThanOrEqual(l.codeMarkOff + POOL / 4096);
    expect(l.slabOff % WASM_PAGE).toBe(0);
    expect(l.slabOff).toBeGreaterThanOrEqual(l.codeGenOff + (POOL / 4096) * 4);
    // The views do not overlap: writing one leaves the others alone.
    pool.mem8.fill(0xaa);
    expect(pool.codeMark.every((x) => x === 0)).toBe(true);
    expect(pool.codeGen.every((x) => x === 0)).toBe(true);
    // The same bytes through the memory.
    const all = new Uint8Array((b.wasm as WebAssembly.Memory).buffer);
    pool.codeMark[3] = 7;
    expect(all[l.codeMarkOff + 3]).toBe(7);
  });

  it('keeps the three separate buffers when asked not to use a wasm memory', () => {
    const pool = new MachineMemory(POOL, undefined, { wasm: false });
    expect(pool.buffers.wasm).toBeUndefined();
    expect(pool.buffers.mem).not.toBe(pool.buffers.codeMark);
    expect(wasmPoolOf(pool.mem8.buffer)).toBeUndefined();
  });

  it('makes a pool memory by default only for the WebAssembly backend, or when DOMUS_POOL says so', () => {
    const was = process.env.DOMUS_POOL;
    const backend = JIT_DEFAULTS.backend;
    try {
      delete process.env.DOMUS_POOL;
      JIT_DEFAULTS.backend = 'js';
      expect(new MachineMemory(POOL).buffers.wasm).toBeUndefined();
      JIT_DEFAULTS.backend = 'wasm';
      expect(new MachineMemory(POOL).buffers.wasm).toBeInstanceOf(WebAssembly.Memory);
      process.env.DOMUS_POOL = 'plain';
      expect(new MachineMemory(POOL).buffers.wasm).toBeUndefined();
      JIT_DEFAULTS.backend = 'js';
      process.env.DOMUS_POOL = 'wasm';
      expect(new MachineMemory(POOL).buffers.wasm).toBeInstanceOf(WebAssembly.Memory);
    } finally {
      JIT_DEFAULTS.backend = backend;
      if (was === undefined) delete process.env.DOMUS_POOL;
      else process.env.DOMUS_POOL = was;
    }
  });

  it('allocates aligned, disjoint areas after the frames and grows the memory for them', () => {
    const pool = new MachineMemory(POOL, undefined, { wasm: true });
    const wp = wasmPoolOf(pool.mem8.buffer);
    expect(wp).toBeDefined();
    const p = wp!;
    const mem = pool.buffers.wasm as WebAssembly.Memory;
    const before = mem.buffer.byteLength;
    const a = allocateArea(p, 100);
    const b = allocateArea(p, 100);
    expect(a.offset).toBeGreaterThan(poolLayout(POOL).slabOff);
    expect(a.offset % 64).toBe(0);
    expect(b.offset).toBe(a.offset + 128);
    // Far more than the memory has: it grows, and views made before stay valid.
    const view = new Int32Array(a.buffer, a.offset, 1);
    view[0] = 1234;
    const big = allocateArea(p, 16 * WASM_PAGE);
    expect(big.buffer.byteLength).toBeGreaterThanOrEqual(big.offset + 16 * WASM_PAGE);
    expect(mem.buffer.byteLength).toBeGreaterThan(before);
    expect(view[0]).toBe(1234);
    expect(new Int32Array(big.buffer, a.offset, 1)[0]).toBe(1234);
  });

  it('gives every Cpu its TLB in an area of the pool memory, found again from another thread view', () => {
    const pool = new MachineMemory(POOL, undefined, { wasm: true });
    // physMemoryOf is what a pCPU worker does with the posted buffers.
    const phys = physMemoryOf(pool.buffers, new SharedArrayBuffer(4 * 256));
    const c1 = new Cpu(new SharedArrayBuffer(STATE_BYTES), 0, phys, INERT_CPU_OPS);
    const c2 = new Cpu(new SharedArrayBuffer(STATE_BYTES), 0, phys, INERT_CPU_OPS);
    const slab = poolLayout(POOL).slabOff;
    for (const c of [c1, c2]) {
      expect(c.tlbOff.buffer.byteLength).toBeGreaterThan(slab);
      expect(c.tlbOff.byteOffset).toBeGreaterThan(slab);
      expect(c.tagRS.byteOffset).toBe(c.tlbOff.byteOffset + 4096 * 4);
      expect(c.tagRS[0]).toBe(-1);
      expect(c.tagXU[4095]).toBe(-1);
    }
    expect(Math.abs(c2.tlbOff.byteOffset - c1.tlbOff.byteOffset)).toBeGreaterThanOrEqual(TLB_AREA_BYTES);
    // The global flags and the slot list sit inside the area, after the tags.
    expect(c1.tlbGlobal.byteOffset + c1.tlbGlobal.length).toBeLessThanOrEqual(c1.tlbOff.byteOffset + TLB_AREA_BYTES);
    expect(c1.tlbUsed.byteOffset).toBe(c1.tagXU.byteOffset + 4096 * 4);
  });
});

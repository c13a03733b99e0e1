/**
 * Machine memory: the pool of 4 KiB frames every domain's RAM comes from (Xen's domain heap),
 * in one shared WebAssembly.Memory so every pCPU worker sees the same bytes and compiled
 * WebAssembly regions can address them (cpu/wasm/wasm-pool.ts lays it out: frames from address
 * 0, then the code marks and generations, then per-Cpu areas). Accounting follows `xl info`
 * (total and free memory); frames handed back are zeroed before anyone else gets them, so no
 * domain ever sees another's data.
 *
 * Design. A bitmap of allocated frames with a rotating search hint. Machine byte offsets stay
 * below 2^31 (the CPU's TLB keeps them in an Int32Array), so the pool is at most MAX_POOL_BYTES.
 * Concurrency: allocation and freeing happen on the hypervisor thread only; the byte contents
 * and the code-tracking arrays are shared with pCPU workers.
 */
import { MemoryError } from '../../base/errors';
import type { PhysMemory } from '../../cpu/ops';
import { allocateArea, createPoolMemory, poolLayout, registerWasmPool, type WasmPool } from '../../cpu/wasm/wasm-pool';
import { JIT_DEFAULTS } from '../../cpu/jit/jit-config';

/** Bytes per frame. */
export const FRAME_SIZE = 4096;
export const FRAME_SHIFT = 12;
/** Largest pool: machine offsets must fit in a signed 32-bit integer. */
export const MAX_POOL_BYTES = 2 ** 31;

/**
 * The shared buffers of a pool, as sent to worker threads. With `wasm`, all three are the
 * memory's buffer and the views start at its layout's offsets (frames at 0); without it (a
 * MachineMemory made with `{ wasm: false }`), three separate buffers as before.
 */
export interface MachineMemoryBuffers {
  mem: SharedArrayBuffer;
  codeMark: SharedArrayBuffer;
  codeGen: SharedArrayBuffer;
  /** Bytes of frames (mem may be longer). */
  poolBytes: number;
  /** The pool memory when the pool is one (posted to workers with the buffers). */
  wasm?: WebAssembly.Memory;
}

/** Options of a new pool. */
export interface MachineMemoryConfig {
  /** Allocate the pool as a shared WebAssembly.Memory (default true). */
  wasm?: boolean;
}

/** The frame, code-mark and generation views of a pool's buffers. */
function viewsOf(b: MachineMemoryBuffers): Pick<PhysMemory, 'mem8' | 'mem16' | 'mem32' | 'codeMark' | 'codeGen'> {
  const frames = b.poolBytes / FRAME_SIZE;
  const l = b.wasm !== undefined ? poolLayout(b.poolBytes) : { codeMarkOff: 0, codeGenOff: 0 };
  const views = {
    mem8: new Uint8Array(b.mem, 0, b.poolBytes),
    mem16: new Uint16Array(b.mem, 0, b.poolBytes / 2),
    mem32: new Int32Array(b.mem, 0, b.poolBytes / 4),
    codeMark: new Uint8Array(b.codeMark, l.codeMarkOff, frames),
    codeGen: new Int32Array(b.codeGen, l.codeGenOff, frames),
  };
  if (b.wasm !== undefined) registerWasmPool(b.mem, { memory: b.wasm, layout: poolLayout(b.poolBytes) } satisfies WasmPool);
  return views;
}

/** The machine frame pool. */
export class MachineMemory {
  readonly buffers: MachineMemoryBuffers;
  readonly mem8: Uint8Array;
  readonly mem16: Uint16Array;
  readonly mem32: Int32Array;
  readonly codeMark: Uint8Array;
  readonly codeGen: Int32Array;
  /** Total frames in the pool. */
  readonly totalFrames: number;
  private readonly used: Uint8Array;
  /** Frames that have held data since they were last zeroed. */
  private readonly dirty: Uint8Array;
  private freeCount: number;
  private hint = 0;

  /** A pool over buffers created elsewhere (the hypervisor thread gets them from the host). */
  static fromBuffers(buffers: MachineMemoryBuffers): MachineMemory {
    return new MachineMemory(buffers.poolBytes, buffers);
  }

  constructor(bytes: number, existing?: MachineMemoryBuffers, config: MachineMemoryConfig = {}) {
    if (!Number.isInteger(bytes) || bytes < FRAME_SIZE || bytes > MAX_POOL_BYTES || bytes % FRAME_SIZE !== 0) {
      throw new MemoryError(
        'memory.pool-size',
        `The machine memory pool must be a multiple of 4 KiB between 4 KiB and ${MAX_POOL_BYTES / 2 ** 20} MiB (asked for ${bytes} bytes).`,
      );
    }
    this.totalFrames = bytes / FRAME_SIZE;
    this.buffers = existing ?? newBuffers(bytes, config.wasm ?? poolIsWasmByDefault());
    const v = viewsOf(this.buffers);
    this.mem8 = v.mem8;
    this.mem16 = v.mem16;
    this.mem32 = v.mem32;
    this.codeMark = v.codeMark;
    this.codeGen = v.codeGen;
    this.used = new Uint8Array(this.totalFrames);
    this.dirty = new Uint8Array(this.totalFrames);
    this.freeCount = this.totalFrames;
  }

  /**
   * Room for VCPU state blocks (`bytes`, zeroed): an area of the pool memory when the pool is
   * one, so that WebAssembly regions load and store the registers in place; else a plain shared
   * buffer of its own (offset 0). State blocks start at `offset` of `buffer`.
   */
  allocateStates(bytes: number): { buffer: SharedArrayBuffer; offset: number } {
    const wasm = this.buffers.wasm;
    if (wasm === undefined) return { buffer: new SharedArrayBuffer(bytes), offset: 0 };
    const a = allocateArea({ memory: wasm, layout: poolLayout(this.buffers.poolBytes) }, bytes);
    // A shared memory's buffer is a SharedArrayBuffer; areas are never handed out twice yet, so zeroed.
    return { buffer: a.buffer as SharedArrayBuffer, offset: a.offset };
  }

  /** Frames not allocated to anybody. */
  get freeFrames(): number {
    return this.freeCount;
  }

  /**
   * Allocates `count` zeroed frames. Throws MemoryError (nothing allocated) if the pool is short;
   * `what` names the requester in the message.
   */
  allocate(count: number, what: string): Int32Array {
    const out = new Int32Array(count);
    this.take(count, what, (first, end, n) => {
      for (let f = first; f < end; f++) out[n++] = f;
    });
    return out;
  }

  /**
   * Allocates `p2m.length` zeroed frames into a P2M: entry i gets (machine frame + 1), the P2M's
   * encoding (domain-memory.ts). Throws like allocate().
   */
  allocateInto(p2m: Int32Array, what: string): void {
    this.take(p2m.length, what, (first, end, n) => {
      for (let f = first; f < end; f++) p2m[n++] = f + 1;
    });
  }

  /**
   * Takes `count` free frames from the search hint on, wrapping once, run by run: `run(first,
   * end, n)` gets each run of consecutive frames [first, end) and how many came before it. The
   * scans and marks use the typed arrays' own search and fill, not a loop per frame: a domain's
   * RAM is usually one run, and these loops run cold at domain creation.
   */
  private take(count: number, what: string, run: (first: number, end: number, n: number) => void): void {
    if (count > this.freeCount) {
      throw new MemoryError(
        'memory.short',
        `Not enough free memory for ${what}: needs ${mib(count)} MiB, ${mib(this.freeCount)} MiB free of ${mib(this.totalFrames)} MiB. ` +
          'Free memory by shutting down or ballooning down other domains, or start the engine with a larger memory pool.',
        what,
      );
    }
    let n = 0;
    let f = this.hint;
    while (n < count) {
      let first = this.used.indexOf(0, f);
      if (first < 0) first = this.used.indexOf(0);
      let end = this.used.indexOf(1, first);
      if (end < 0) end = this.totalFrames;
      end = Math.min(end, first + (count - n));
      this.used.fill(1, first, end);
      const dirty = this.dirty.subarray(first, end);
      for (let d = dirty.indexOf(1); d >= 0; d = dirty.indexOf(1, d + 1)) {
        this.mem8.fill(0, (first + d) * FRAME_SIZE, (first + d + 1) * FRAME_SIZE);
        dirty[d] = 0;
      }
      run(first, end, n);
      n += end - first;
      f = end === this.totalFrames ? 0 : end;
    }
    this.hint = f;
    this.freeCount -= count;
  }

  /** Returns frames to the pool; they are zeroed before reuse. */
  free(frames: ArrayLike<number>): void {
    for (let k = 0; k < frames.length; k++) {
      const f = frames[k];
      if (f < 0 || f >= this.totalFrames || this.used[f] === 0) continue;
      this.used[f] = 0;
      this.dirty[f] = 1;
      // Decoded code from this frame must not survive into its next owner.
      Atomics.store(this.codeMark, f, 0);
      Atomics.add(this.codeGen, f, 1);
      this.freeCount++;
    }
  }
}

/**
 * Whether new pools are WebAssembly memories: when the JIT compiles WebAssembly regions (the only
 * user of the one memory, JIT_DEFAULTS.backend, DOMUS_JIT_BACKEND=wasm), or when the environment
 * variable DOMUS_POOL says "wasm" ("plain" forces plain buffers; read where a `process` global
 * exists). Plain by default: the per-Cpu areas of a pool memory are never reused yet (wasm-pool.ts),
 * so an engine that creates and destroys domains for long would run out of them.
 */
function poolIsWasmByDefault(): boolean {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> } };
  const env = g.process?.env?.DOMUS_POOL;
  if (env === 'plain' || env === 'wasm') return env === 'wasm';
  return JIT_DEFAULTS.backend === 'wasm';
}

function newBuffers(bytes: number, wasm: boolean): MachineMemoryBuffers {
  if (!wasm) {
    return {
      mem: new SharedArrayBuffer(bytes),
      codeMark: new SharedArrayBuffer(bytes / FRAME_SIZE),
      codeGen: new SharedArrayBuffer((bytes / FRAME_SIZE) * 4),
      poolBytes: bytes,
    };
  }
  const pool = createPoolMemory(bytes);
  // A shared memory's buffer is a SharedArrayBuffer.
  const buf = pool.memory.buffer as unknown as SharedArrayBuffer;
  return { mem: buf, codeMark: buf, codeGen: buf, poolBytes: bytes, wasm: pool.memory };
}

function mib(frames: number): number {
  return Math.round((frames * FRAME_SIZE) / 2 ** 20);
}

/** A PhysMemory (the CPU's view) for one P2M over a pool's buffers (works in any thread). */
export function physMemoryOf(buffers: MachineMemoryBuffers, p2m: SharedArrayBuffer): PhysMemory {
  const v = viewsOf(buffers);
  // The same field order as every other PhysMemory (one hidden class for the CPU's loads).
  return { mem8: v.mem8, mem16: v.mem16, mem32: v.mem32, p2m: new Int32Array(p2m), codeMark: v.codeMark, codeGen: v.codeGen };
}

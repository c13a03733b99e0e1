/**
 * The machine pool as one shared WebAssembly.Memory, and the per-Cpu areas in it.
 *
 * Compiled WebAssembly regions (region-wasm.ts) can address only one memory (V8 11.3 has no
 * multi-memory), so everything they touch lives in the pool's memory:
 *
 *   [0, poolBytes)                 the machine frames (machine offset = memory address)
 *   [codeMarkOff, +frames)         code marks, one byte per frame (code-marks.ts)
 *   [codeGenOff, +4 * frames)      code generations, one int32 per frame
 *   [slabOff, +SLAB_HEADER)        the area allocator: the next free byte (int32, atomic)
 *   [slabOff + SLAB_HEADER, ...)   per-Cpu areas (cpu-area.ts), CPU_AREA_BYTES each, bump-allocated
 *
 * Machine offsets stay below 2^31 (the TLB keeps them in an Int32Array); the areas after the
 * frames may reach up to the 4 GiB a wasm32 memory addresses. The memory grows when an area does
 * not fit. Growing a shared memory never moves or detaches it: views made earlier stay valid over
 * the bytes they covered, and views of a new area are made from the grown buffer.
 *
 * Concurrency. Areas are allocated from any thread with Atomics.add on the allocator word; two
 * threads growing at once may add a page more than needed, never less. Areas are not reused (a
 * Cpu lives as long as its pCPU worker keeps its VCPU).
 */

/** Bytes of a WebAssembly page. */
export const WASM_PAGE = 65536;
/** Pages a wasm32 memory can have (4 GiB). */
export const WASM_MAX_PAGES = 65536;
/** Bytes before the first area: the allocator word, padded to a cache line. */
const SLAB_HEADER = 64;
/** Area alignment (a cache line). */
const AREA_ALIGN = 64;
/** Pages reserved for areas when the memory is created (room for a few Cpus without growing). */
const INITIAL_AREA_PAGES = 8;

/** Where the parts of the pool's memory are. */
export interface WasmPoolLayout {
  /** Bytes of machine frames from address 0. */
  poolBytes: number;
  codeMarkOff: number;
  codeGenOff: number;
  /** The allocator word; areas follow it. */
  slabOff: number;
}

/** A pool memory and its layout, as one thread sees it. */
export interface WasmPool {
  readonly memory: WebAssembly.Memory;
  readonly layout: WasmPoolLayout;
}

/** The layout for a pool of `poolBytes` bytes of frames. */
export function poolLayout(poolBytes: number): WasmPoolLayout {
  const frames = poolBytes >>> 12;
  const codeMarkOff = poolBytes;
  const codeGenOff = alignUp(codeMarkOff + frames, 4);
  const slabOff = alignUp(codeGenOff + frames * 4, WASM_PAGE);
  return { poolBytes, codeMarkOff, codeGenOff, slabOff };
}

/** Creates the shared memory for a pool of `poolBytes` bytes (its allocator initialised). */
export function createPoolMemory(poolBytes: number): WasmPool {
  const layout = poolLayout(poolBytes);
  const initial = layout.slabOff / WASM_PAGE + INITIAL_AREA_PAGES;
  const memory = new WebAssembly.Memory({ initial, maximum: WASM_MAX_PAGES, shared: true });
  const word = new Int32Array(memory.buffer, layout.slabOff, 1);
  Atomics.store(word, 0, SLAB_HEADER);
  return { memory, layout };
}

const POOLS = new WeakMap<object, WasmPool>();

/** Files `pool` under the buffer its frame views are made on (so a Cpu finds it from PhysMemory). */
export function registerWasmPool(buffer: ArrayBufferLike, pool: WasmPool): void {
  POOLS.set(buffer, pool);
}

/**
 * The pool memory `buffer` is a buffer of (its frames, or areas allocated in it), or undefined
 * (plain buffers: tests, priming, state blocks outside the pool).
 */
export function wasmPoolOf(buffer: ArrayBufferLike): WasmPool | undefined {
  return POOLS.get(buffer);
}

/**
 * Files `buffer`, a buffer of the same pool memory as `frames` that reached this thread on its
 * own (a domain's state blocks posted to a pCPU worker), under that pool, so that a Cpu whose
 * state block is in it is known to be. Does nothing when `frames` is not a pool buffer.
 */
export function adoptPoolBuffer(buffer: ArrayBufferLike, frames: ArrayBufferLike): void {
  const pool = POOLS.get(frames);
  if (pool !== undefined) POOLS.set(buffer, pool);
}

/**
 * Allocates `bytes` (rounded up to a cache line) after the frames; returns the buffer to make
 * views on (the memory's current one, long enough) and the area's address.
 */
export function allocateArea(pool: WasmPool, bytes: number): { buffer: ArrayBufferLike; offset: number } {
  const size = alignUp(bytes, AREA_ALIGN);
  const word = new Int32Array(pool.memory.buffer, pool.layout.slabOff, 1);
  const rel = Atomics.add(word, 0, size);
  const offset = pool.layout.slabOff + rel;
  const end = offset + size;
  for (;;) {
    const have = pool.memory.buffer.byteLength;
    if (have >= end) break;
    pool.memory.grow(Math.ceil((end - have) / WASM_PAGE));
  }
  const buffer = pool.memory.buffer;
  POOLS.set(buffer, pool);
  return { buffer, offset };
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

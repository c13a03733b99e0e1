/**
 * JIT settings: whether hot code is compiled at all and how hot it must be. Every Cpu copies
 * JIT_DEFAULTS when it is created (cpu.jit), so a test or a benchmark can change one Cpu, or
 * the defaults before creating machines.
 *
 * The environment variable DOMUS_JIT (read once, where a `process` global exists: Node workers,
 * vitest) sets the defaults, so whole test suites run both ways:
 *   DOMUS_JIT=off   pure interpreter (no region or block compilation)
 *   DOMUS_JIT=all   compile every block into a region the first time it runs
 *   DOMUS_JIT=on    the normal thresholds (also the default when the variable is absent)
 * and DOMUS_JIT_BACKEND=wasm compiles regions to WebAssembly (JitConfig.backend).
 */

/** JIT settings of one Cpu. */
export interface JitConfig {
  /** Compile hot pages into region functions (false = interpreter only). */
  enabled: boolean;
  /** Interpreted executions of a block before a region is compiled from it (0 = at once). */
  threshold: number;
  /** Region compilations in one page (one code generation of its frame) before it stays as it is. */
  maxCompiles: number;
  /** Code generations of a frame (it was written while holding code) before it is left alone. */
  maxInvalidations: number;
  /** Guest instructions in one region; hotter blocks are kept when a page has more. */
  maxRegionInsns: number;
  /**
   * Characters of generated JavaScript in one region; a larger one is formed again with fewer
   * instructions (V8 never optimises a function of more than 60 KB of bytecode).
   */
  maxRegionChars: number;
  /**
   * Compile budget: instructions a page must have interpreted (in its current code generation,
   * not yet spent on an earlier region) per guest instruction of a small region compiled from it.
   */
  compileCost: number;
  /** Region size (instructions) at which the budget per instruction has doubled (regionCost). */
  compileKnee: number;
  /** A region that fails to compile (a JIT bug) throws instead of leaving its page interpreted. */
  throwOnFailure: boolean;
  /** Run recognised element-copy loops in bulk (copy-loops.ts). */
  copyLoops: boolean;
  /**
   * What regions are compiled to: 'js' (region-compiler.ts, one JavaScript function) or 'wasm'
   * (wasm/region-wasm.ts, one WebAssembly function; needs the pool memory, else 'js').
   */
  backend: JitBackend;
}

/** Region backends. */
export type JitBackend = 'js' | 'wasm';

/** Executions of a block before it seeds a region. */
const THRESHOLD = 64;
/** Regions compiled in one page. */
const MAX_COMPILES = 64;
/** Rewrites of a code page before it is only interpreted. */
const MAX_INVALIDATIONS = 64;
/**
 * Characters per region: V8 leaves functions over 60 KB of bytecode (max_optimized_bytecode_size)
 * in its baseline tiers, slower than the interpreter; region sources make about 0.65 bytes of
 * bytecode per character (measured), so 64 K characters keep a region well under that. Smaller
 * functions are also optimised sooner (V8 waits for more profiler ticks the larger they are).
 */
const MAX_REGION_CHARS = 64 * 1024;
/**
 * Interpreted instructions per compiled one, for small regions. Compiling costs V8 far more than
 * interpreting: building, parsing and first running a region function, then TurboFan optimising
 * it on a background thread, costs as much CPU time as interpreting thousands of guest
 * instructions per instruction compiled, and more per instruction the larger the function
 * (measured on the GRUB boot, docs/cpu.md: TurboFan took 13-30 ms for 5 instructions, 0.6-1 s
 * for 113-131, up to 2 s for 200). Spending at most a fixed fraction of what a page has
 * interpreted keeps compiling a bounded fraction of the interpreter's work, so code that runs a
 * little and is rewritten (decompressors, data in code pages) never pays more for compiling
 * than it saves, while a small hot loop is compiled after some ten thousand instructions.
 */
const COMPILE_COST = 4000;
/** Region size at which the cost per instruction has doubled (cost grows with size squared). */
const COMPILE_KNEE = 16;
/**
 * Instructions per region: V8 optimises functions up to ~60 KB of bytecode, and one templated
 * instruction costs ~60-150 bytes of it.
 */
const MAX_REGION_INSNS = 400;

function fromEnvironment(name = 'DOMUS_JIT'): string | undefined {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> } };
  return g.process?.env?.[name];
}

function defaults(): JitConfig {
  const base: JitConfig = {
    enabled: true,
    threshold: THRESHOLD,
    maxCompiles: MAX_COMPILES,
    maxInvalidations: MAX_INVALIDATIONS,
    maxRegionInsns: MAX_REGION_INSNS,
    maxRegionChars: MAX_REGION_CHARS,
    compileCost: COMPILE_COST,
    compileKnee: COMPILE_KNEE,
    throwOnFailure: false,
    copyLoops: true,
    backend: fromEnvironment('DOMUS_JIT_BACKEND') === 'wasm' ? 'wasm' : 'js',
  };
  const env = fromEnvironment();
  if (env === 'off' || env === '0') base.enabled = false;
  else if (env === 'all') {
    base.threshold = 0;
    base.compileCost = 0;
    base.maxCompiles = Infinity;
    base.maxInvalidations = Infinity;
    base.throwOnFailure = true;
  }
  return base;
}

/**
 * Interpreted instructions a page must have earned to compile a region of `insns` instructions:
 * compileCost per instruction, growing with the region's size as V8's compile time does.
 */
export function regionCost(cfg: JitConfig, insns: number): number {
  return cfg.compileCost * insns * (1 + insns / cfg.compileKnee);
}

/** The settings new Cpus start with (DOMUS_JIT applied). */
export const JIT_DEFAULTS: JitConfig = defaults();

/** The settings for "compile everything at once" (tests that prove the JIT against the interpreter). */
export function jitAllConfig(): JitConfig {
  return {
    ...JIT_DEFAULTS,
    enabled: true,
    threshold: 0,
    compileCost: 0,
    maxCompiles: Infinity,
    maxInvalidations: Infinity,
    throwOnFailure: true,
  };
}

/** The settings for the pure interpreter. */
export function jitOffConfig(): JitConfig {
  return { ...JIT_DEFAULTS, enabled: false };
}

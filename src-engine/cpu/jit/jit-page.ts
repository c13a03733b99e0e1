/**
 * Which code gets compiled, and entering compiled code.
 *
 * Decoded blocks are filed by the code page they come from (a JitPage: one machine frame at one
 * linear page, one decode mode and CS base, one code generation of the frame). A block that has
 * run `threshold` times in the interpreter seeds a region of its page: the blocks of its loop
 * (its strongly connected component among the page's warm blocks, following jumps, branches,
 * call/return fall-through and the successors seen at run time), or, when it is in no loop, the
 * warm blocks it leads to that no region covers yet. Small regions of code that has run are what
 * V8 optimises well: every path in them has type feedback, and recompiling one is cheap.
 *
 * Regions may overlap (an outer loop's region contains its inner loop's blocks); a block enters
 * the newest region that contains it. A write to the frame bumps its code generation: the page's
 * blocks are decoded again into a new JitPage, and stale regions are never entered again.
 *
 * Concurrency. A registry belongs to one block cache, which belongs to one worker thread (the
 * Cpus of a pCPU worker share it); regions take the Cpu as an argument, so every Cpu of the
 * worker can run them.
 */
import type { Cpu } from '../cpu';
import type { Block } from '../insn';
import { regionCost, type JitConfig } from './jit-config';
import { compileRegion, RegionTooLarge, type Region } from './region-compiler';
import { copyLoopRegion, matchCopyLoop } from './copy-loops';
import { revalidateBlock } from '../code-marks';

/** Most instructions one region call may retire before returning (keeps counts small ints). */
const MAX_RUN = 1 << 30;
/** A block counts as warm (a region candidate) at this fraction of the threshold. */
const WARM_SHIFT = 3;
/** Blocks run at least 1 / 2^HOT_SHIFT as often as a region's seed form its innermost loop. */
const HOT_SHIFT = 3;
/** A region too large is formed again at this fraction of the size that would just fit. */
const SHRINK_MARGIN = 0.9;
/** A seed whose region refused to run (other stack size) re-forms it every this many runs. */
const REFORM_PERIOD = 64;
/** Decode modes (Cpu.modeKey: code32, protected, virtual-8086 bits): pages are filed per frame and mode. */
const MODE_KEYS = 8;
/** Rewrites of the code at one EIP after which it is no longer put in regions (self-modifying code). */
const MAX_REWRITES = 1;

/** The blocks of one code page. */
export class JitPage {
  readonly blocks: Block[] = [];
  /** Index in `blocks` of the block at each EIP (a block decoded again replaces the old one). */
  readonly at = new Map<number, number>();
  /** Times the code at an EIP was found changed and decoded again (code-marks.ts). */
  readonly rewritten = new Map<number, number>();
  compiles = 0;
  /** Instructions interpreted in this page and not yet spent on compiling (JitConfig.compileCost). */
  credit = 0;
  /** Credit the last region formed here needed and did not have (skip forming it until then). */
  need = 0;
  /** A compilation threw (a JIT bug) or the frame is rewritten too often: stay interpreted. */
  failed = false;

  constructor(
    readonly frame: number,
    readonly linPage: number,
    readonly mode: number,
    readonly csBase: number,
    /** The newest code generation of the frame a block of the page was decoded or revalidated in. */
    public gen: number,
  ) {}
}

/** JIT statistics of one registry (benchmarks, tests). */
export interface JitStats {
  /** Region compilations, and the milliseconds they took. */
  compiles: number;
  compileMs: number;
  /** Regions formed and left uncompiled because their page had not earned the compile budget. */
  deferred: number;
  /** Compilations that threw (should stay 0). */
  failures: number;
  /** Blocks whose code was found changed after a store into their frame, and decoded again. */
  invalidations: number;
  /** Compiled regions found still valid after a store into their frame (code-marks.ts). */
  revalidations: number;
  /** Guest instructions compiled, and how many had a template. */
  insnsCompiled: number;
  insnsTemplated: number;
  /** Guest instructions retired in compiled regions (copy loops included). */
  insnsRun: number;
  /** Copy loops recognised (copy-loops.ts), and the guest instructions they retired in bulk. */
  copyLoops: number;
  insnsCopied: number;
}

/** The pages of one block cache. */
export class JitRegistry {
  /** By frame x MODE_KEYS + decode mode. */
  readonly pages = new Map<number, JitPage>();
  /** Code rewrites seen per frame (pages stop being compiled after maxInvalidations). */
  readonly rewrites = new Map<number, number>();
  readonly stats: JitStats = {
    compiles: 0, compileMs: 0, deferred: 0, failures: 0, invalidations: 0, revalidations: 0, insnsCompiled: 0, insnsTemplated: 0, insnsRun: 0,
    copyLoops: 0, insnsCopied: 0,
  };
  /** The last regions compiled (tests and diagnostics inspect them). */
  readonly recent: Region[] = [];
}

const REGISTRIES = new WeakMap<object, JitRegistry>();
/** Regions remembered in JitRegistry.recent. */
const RECENT_REGIONS = 16;

/** The registry shared by every Cpu using the block cache `cache`. */
export function registryFor(cache: object): JitRegistry {
  let r = REGISTRIES.get(cache);
  if (r === undefined) {
    r = new JitRegistry();
    REGISTRIES.set(cache, r);
  }
  return r;
}

/**
 * Files a newly decoded, cacheable block under its page. A superblock (b.exits > 0, decoded
 * while the JIT was off) is not filed: regions need one exit per block, so it stays interpreted.
 */
export function registerBlock(reg: JitRegistry, b: Block, cfg: JitConfig): void {
  if (b.off < 0 || b.exits > 0) return;
  const cur = b.jitPage;
  if (cur !== null) {
    // Revalidated in a newer code generation of its frame (code-marks.ts): its page, regions and
    // credit stay, the page now stands for that generation.
    if (b.gen - cur.gen > 0) cur.gen = b.gen;
    return;
  }
  const frame = b.frame;
  const linPage = b.lin >>> 12;
  const csBase = (b.lin - b.eip) | 0;
  // Pages are filed per frame and decode mode: GRUB runs real-mode and protected-mode code
  // from the same frames, switching for every BIOS call.
  const key = frame * MODE_KEYS + b.mode;
  let p = reg.pages.get(key);
  if (p === undefined || p.linPage !== linPage || p.csBase !== csBase) {
    p = new JitPage(frame, linPage, b.mode, csBase, b.gen);
    if ((reg.rewrites.get(frame) ?? 0) > cfg.maxInvalidations) p.failed = true;
    reg.pages.set(key, p);
  }
  if (b.gen - p.gen > 0) p.gen = b.gen;
  const k = p.at.get(b.eip);
  if (k === undefined) {
    p.at.set(b.eip, p.blocks.length);
    p.blocks.push(b);
  } else {
    // The code at this EIP changed (its old block failed revalidation): a rewrite.
    const old = p.blocks[k];
    old.jitPage = null;
    p.blocks[k] = b;
    p.rewritten.set(b.eip, (p.rewritten.get(b.eip) ?? 0) + 1);
    reg.stats.invalidations++;
    const n = (reg.rewrites.get(frame) ?? 0) + 1;
    reg.rewrites.set(frame, n);
    if (n > cfg.maxInvalidations) p.failed = true;
  }
  b.jitPage = p;
}

/** Block `b` is valid in its frame's current code generation (revalidating it if need be). */
function current(cpu: Cpu, b: Block): boolean {
  return cpu.phys.codeGen[b.frame] === b.gen || revalidateBlock(cpu.phys, b);
}

/** EIPs control may go to after block `b` (static targets, fall-through, successors seen). */
function successors(b: Block): number[] {
  const last = b.insns[b.insns.length - 1];
  const out: number[] = [];
  switch (last.mnem) {
    case 'JMP':
      out.push(last.target);
      break;
    case 'JCC':
    case 'LOOP':
    case 'LOOPE':
    case 'LOOPNE':
    case 'JCXZ':
    case 'CALL':
      out.push(last.target, b.endEip);
      break;
    default:
      out.push(b.endEip);
      break;
  }
  if (b.succ0 !== null) out.push(b.succ0.eip);
  if (b.succ1 !== null) out.push(b.succ1.eip);
  return out;
}

/** The blocks on a cycle through `seed` in the graph of `nodes` (its strongly connected component), or []. */
function componentOf(seed: Block, nodes: Map<number, Block>): Block[] {
  // Forward reachability from the seed, then the nodes that reach the seed back.
  const fwd = new Set<Block>();
  const stack = [seed];
  while (stack.length > 0) {
    const b = stack.pop() as Block;
    if (fwd.has(b)) continue;
    fwd.add(b);
    for (const t of successors(b)) {
      const n = nodes.get(t);
      if (n !== undefined && !fwd.has(n)) stack.push(n);
    }
  }
  const preds = new Map<Block, Block[]>();
  for (const b of fwd) {
    for (const t of successors(b)) {
      const n = nodes.get(t);
      if (n === undefined || !fwd.has(n)) continue;
      let list = preds.get(n);
      if (list === undefined) preds.set(n, (list = []));
      list.push(b);
    }
  }
  const back = new Set<Block>();
  const work = [seed];
  while (work.length > 0) {
    const b = work.pop() as Block;
    if (back.has(b)) continue;
    back.add(b);
    for (const p of preds.get(b) ?? []) if (!back.has(p)) work.push(p);
  }
  const selfLoop = successors(seed).some((t) => nodes.get(t) === seed);
  if (back.size === 1 && !selfLoop) return [];
  return [...back];
}

/** The blocks of `nodes` run at least 1 / 2^HOT_SHIFT as often as `seed`. */
function hotCore(nodes: Map<number, Block>, seed: Block): Map<number, Block> {
  const min = seed.hits >> HOT_SHIFT;
  const out = new Map<number, Block>();
  for (const [eip, b] of nodes) if (b.hits >= min) out.set(eip, b);
  return out;
}

/** Breadth-first blocks from `seed` within `nodes`, skipping blocks `skip` says, up to `max` insns. */
function reachable(seed: Block, nodes: Map<number, Block>, max: number, skip: (b: Block) => boolean): Block[] {
  const out: Block[] = [];
  const seen = new Set<Block>([seed]);
  const queue = [seed];
  let insns = 0;
  while (queue.length > 0) {
    const b = queue.shift() as Block;
    if (insns + b.insns.length > max && out.length > 0) continue;
    out.push(b);
    insns += b.insns.length;
    for (const t of successors(b)) {
      const n = nodes.get(t);
      if (n === undefined || seen.has(n) || skip(n)) continue;
      seen.add(n);
      queue.push(n);
    }
  }
  return out;
}

/** Guest instructions in `blocks`. */
function insnCount(blocks: readonly Block[]): number {
  let n = 0;
  for (const b of blocks) n += b.insns.length;
  return n;
}

/** The blocks of the region seeded by `seed`, at most `max` instructions (or the seed alone). */
function regionBlocks(cpu: Cpu, p: JitPage, seed: Block, cfg: JitConfig, max: number): Block[] {
  const warm = cfg.threshold >> WARM_SHIFT;
  const nodes = new Map<number, Block>();
  for (const b of p.blocks) {
    // Code rewritten more than once is left to the interpreter; stale blocks are left out.
    if (b !== seed && (b.hits < warm || (p.rewritten.get(b.eip) ?? 0) > MAX_REWRITES || b.region?.copyLoop === true || !current(cpu, b))) continue;
    nodes.set(b.eip, b);
  }
  nodes.set(seed.eip, seed);
  // The innermost loop first: among the blocks about as hot as the seed, its cycle is the loop
  // that made it hot. Its region is small, so its budget is earned soon, while the enclosing
  // loops (through calls and returns, the whole function and its callers) cost far more.
  let loop = componentOf(seed, hotCore(nodes, seed));
  if (loop.length === 0) loop = componentOf(seed, nodes);
  if (loop.length > 0) {
    const inLoop = new Map<number, Block>();
    for (const b of loop) inLoop.set(b.eip, b);
    return reachable(seed, inLoop, max, () => false);
  }
  // Not in a loop: the warm code it leads to that has no region of its own.
  return reachable(seed, nodes, max, (b) => b.region !== null);
}

/**
 * Compiles the region seeded by `seed` for the Cpu's current stack size, when its page has the
 * credit for it (JitConfig.compileCost per instruction); otherwise remembers what it needs.
 */
function formRegion(cpu: Cpu, reg: JitRegistry, p: JitPage, seed: Block): boolean {
  const t0 = performance.now();
  let ok = false;
  try {
    const cfg = cpu.jit;
    if ((p.rewritten.get(seed.eip) ?? 0) > MAX_REWRITES) return false;
    let blocks = regionBlocks(cpu, p, seed, cfg, cfg.maxRegionInsns);
    const cost = regionCost(cfg, insnCount(blocks));
    if (p.credit < cost) {
      p.need = cost;
      reg.stats.deferred++;
      return false;
    }
    // Every block was checked against the current generation; a store since then waits.
    const gen = cpu.phys.codeGen[p.frame];
    if (!current(cpu, seed) || blocks.some((b) => b.gen !== gen)) return false;
    p.need = 0;
    p.compiles++;
    const key = { frame: p.frame, gen, linPage: p.linPage, csBase: p.csBase, ss32: cpu.ss32 };
    let r = compileRegion(blocks, key, cpu, cfg.maxRegionChars);
    while (r instanceof RegionTooLarge) {
      // Too much code for V8 to optimise: fewer instructions, in proportion (they shrink each time).
      const max = Math.floor((insnCount(blocks) * cfg.maxRegionChars * SHRINK_MARGIN) / r.chars);
      blocks = regionBlocks(cpu, p, seed, cfg, max);
      r = compileRegion(blocks, key, cpu, blocks.length > 1 ? cfg.maxRegionChars : Infinity);
    }
    p.credit -= regionCost(cfg, r.insns);
    for (const b of r.blocks) {
      b.region = r;
      cpu.jitRegions.set(b, r);
    }
    reg.stats.compiles++;
    reg.stats.insnsCompiled += r.insns;
    reg.stats.insnsTemplated += r.templated;
    reg.recent.push(r);
    if (reg.recent.length > RECENT_REGIONS) reg.recent.shift();
    ok = true;
  } catch (e) {
    p.failed = true;
    reg.stats.failures++;
    if (cpu.jit.throwOnFailure) throw e;
  }
  reg.stats.compileMs += performance.now() - t0;
  return ok;
}

/**
 * Called before block `b` of page `p` would run in the interpreter: counts it, and compiles a
 * region from it when it is hot. Returns true when it did (b.region is the new region).
 */
export function noteInterpreted(cpu: Cpu, reg: JitRegistry, p: JitPage, b: Block): boolean {
  if (p.failed) return false;
  const cfg = cpu.jit;
  const hits = ++b.hits;
  const credit = (p.credit += b.insns.length);
  const r = regionOf(cpu, b);
  if (r === null && cfg.copyLoops && hits >= 2 && (hits & (hits - 1)) === 0 && formCopyLoop(cpu, reg, p, b)) return true;
  if (hits < cfg.threshold || p.compiles >= cfg.maxCompiles || credit < p.need) return false;
  if (r !== null && (r.copyLoop || hits % REFORM_PERIOD !== 0)) return false;
  return formRegion(cpu, reg, p, b);
}

/**
 * Makes block `head` of page `p` and the block at its fall-through a copy-loop region when they
 * have a shape copy-loops.ts runs in bulk (tried at a few hit counts: the body must have been
 * decoded). Returns true when it did.
 */
function formCopyLoop(cpu: Cpu, reg: JitRegistry, p: JitPage, head: Block): boolean {
  if (head.insns.length !== 2) return false;
  const k = p.at.get(head.endEip);
  if (k === undefined) return false;
  const body = p.blocks[k];
  if (body.region !== null || !current(cpu, head) || !current(cpu, body) || body.gen !== head.gen) return false;
  const loop = matchCopyLoop(head, body);
  if (loop === null) return false;
  const r = copyLoopRegion(cpu, head, body, loop);
  for (const b of r.blocks) {
    b.region = r;
    cpu.jitRegions.set(b, r);
  }
  reg.stats.copyLoops++;
  return true;
}

/** The newest region of `cpu` containing block `b` (blocks may be shared by several Cpus). */
export function regionOf(cpu: Cpu, b: Block): Region | null {
  const r = b.region;
  if (r === null || r.cpu === cpu) return r;
  return cpu.jitRegions.get(b) ?? null;
}

/**
 * Runs block `b`'s region if it can: returns the instructions retired (EIP is set), or -1 when
 * there is none or it does not apply now (stale code, another stack size, privilege, CS limit or
 * memory, no budget left).
 */
export function enterRegion(cpu: Cpu, b: Block, limit: number): number {
  const r = regionOf(cpu, b);
  if (r === null) return -1;
  if (
    cpu.ss32 !== r.ss32 || cpu.tagR !== r.tagR || cpu.csLimit !== r.csLimit ||
    cpu.phys !== r.phys || cpu.attn !== r.attn || cpu.attnIdx !== r.attnIdx
  ) {
    return -1;
  }
  if (cpu.phys.codeGen[r.frame] !== r.gen[0] && !revalidateRegion(cpu, r)) return -1;
  const j = r.table[(b.eip - r.e0) | 0] - 1;
  if (j < 0 || r.blocks[j] !== b) return -1;
  const left = limit - cpu.icount;
  if (!(left > 0)) return -1;
  const ran = r.fn(j, left < MAX_RUN ? left : MAX_RUN);
  if (ran > 0) {
    const st = cpu.jitRegistry.stats;
    st.insnsRun += ran;
    if (r.copyLoop) st.insnsCopied += ran;
  }
  return ran;
}

/**
 * A store moved the generation of region `r`'s frame: the region stays valid, for the new
 * generation, when the bytes of all its blocks are unchanged; otherwise it is dropped.
 */
function revalidateRegion(cpu: Cpu, r: Region): boolean {
  if (r.dead) return false;
  const gen = cpu.phys.codeGen[r.frame];
  for (const b of r.blocks) {
    if (!current(cpu, b)) {
      r.dead = true;
      for (const x of r.blocks) {
        if (x.region === r) x.region = null;
        if (cpu.jitRegions.get(x) === r) cpu.jitRegions.delete(x);
      }
      return false;
    }
  }
  // Entered only if no store moved the generation again while the blocks were compared.
  if (cpu.phys.codeGen[r.frame] !== gen) return false;
  r.gen[0] = gen;
  cpu.jitRegistry.stats.revalidations++;
  return true;
}

/**
 * The region compiler: turns the known blocks of one code page into one JavaScript function
 * with an internal dispatch loop, so a loop that stays in the page runs without returning to
 * the run loop, with guest registers and the lazy flags in locals V8 keeps in machine registers.
 *
 * Shape of the generated function (emitter.ts names the locals):
 *
 *   function region(cpu, bi, max) {            // bi: index of the entry block; max: budget
 *     load locals from the state block
 *     try {
 *       out: for (;;) switch (bi) {
 *         case 0: { ...block 0, an edge is `bi = j; continue;`, a fall-through into the next
 *                   case, or `eo = eip; break out;` to leave... }
 *         case 1: ...
 *       }
 *     } catch (ex) { write back, EIP and the retired count of the faulting instruction; rethrow }
 *     write back; s[EIP] = eo; return retired instructions;
 *   }
 *
 * Edges that go backwards (every loop has one) and computed targets check the budget, the
 * attention word and the page's code generation. Instructions without a template call their
 * handler, with the locals written back before and reloaded after.
 *
 * Compiled twice: the first pass learns which flags operation each block leaves pending, the
 * second uses that as a guess for the flags its successors read before setting them.
 */
import type { Cpu } from '../cpu';
import type { Block } from '../insn';
import { regionRecord } from './region-record';
import { udHandler } from '../handlers/common';
import { PARITY } from '../lazy-flags';
import { probeWrite, rd16, rd32, rd8, wr16, wr32, wr8 } from '../mmu';
import { gp } from '../fault';
import { checkSegmentAccess } from '../segments';
import { S_EIP, S_LF_A, S_LF_AUX, S_LF_B, S_LF_OP, S_LF_RES, S_SEG_BASE } from '../state';
import { Emitter, RELOAD, WRITE_BACK, type RegionLayout } from './emitter';
import { UNKNOWN } from './flag-exprs';
import { cfOf, condOf } from './flags-runtime';
import type { Template } from './template';
import { ALU_TEMPLATES } from './templates-alu';
import { CONTROL_TEMPLATES } from './templates-control';
import { DATA_TEMPLATES } from './templates-data';
import { STRING_TEMPLATES } from './templates-string';
import { compileWasmRegion } from '../wasm/region-wasm';

/** A compiled region: runs from block `bi` until it leaves; returns instructions retired. */
export type RegionFn = (bi: number, max: number) => number;

/** Bytes in a page; a region covers one. */
const PAGE_BYTES = 4096;
/**
 * Calls through the entry and exit paths after compiling: V8 allocates a function's feedback
 * vector only after it has run a while (lazy feedback allocation); 8 such calls suffice.
 */
const WARM_CALLS = 16;

/** Every instruction template, by mnemonic. */
export const TEMPLATES: Readonly<Record<string, Template>> = { ...ALU_TEMPLATES, ...DATA_TEMPLATES, ...CONTROL_TEMPLATES, ...STRING_TEMPLATES };

/**
 * A compiled region. It belongs to one Cpu: the Cpu, its state block, TLB and memory views are
 * constants of the generated function (V8 then knows their types and omits the checks it would
 * repeat on every access through fields), so it may only run while they are the Cpu's current
 * ones (enterRegion checks).
 */
export interface Region {
  readonly fn: RegionFn;
  readonly cpu: Cpu;
  /** What the function has built in: memory, TLB tags of one privilege, attention word, CS limit. */
  readonly phys: Cpu['phys'];
  readonly tagR: Int32Array;
  readonly attn: Int32Array;
  readonly attnIdx: number;
  readonly csLimit: number;
  /** Page offset (EIP - e0) -> block index + 1 (0: no block starts there). */
  readonly table: Int32Array;
  /** The EIP of the page's first byte. */
  readonly e0: number;
  readonly frame: number;
  /**
   * The frame's code generation the region is known valid in, in a cell the generated code
   * reads: enterRegion moves it on when every block's bytes are unchanged after a store into
   * the frame (code-marks.ts).
   */
  readonly gen: Int32Array;
  /** A block's bytes changed: the region is never entered again. */
  dead: boolean;
  /** Stack size compiled for (cpu.ss32 must match to enter). */
  readonly ss32: boolean;
  readonly blocks: readonly Block[];
  /** Guest instructions, and how many of them have a template. */
  readonly insns: number;
  readonly templated: number;
  /** The generated JavaScript (diagnostics, tests). */
  readonly source: string;
  /**
   * A copy loop run in bulk by a function written once (copy-loops.ts), not generated code: its
   * blocks stay out of compiled regions, whose exits then reach it through the run loop.
   */
  readonly copyLoop: boolean;
}

/** Where a region lives. */
export interface RegionKey {
  frame: number;
  gen: number;
  /** Linear page number and CS base (EIP = linear - CS base). */
  linPage: number;
  csBase: number;
  ss32: boolean;
}

interface EmitResult {
  e: Emitter;
  templated: number;
}

function emitBlocks(blocks: readonly Block[], layout: RegionLayout, guesses: readonly number[]): EmitResult {
  const e = new Emitter(layout);
  let templated = 0;
  for (let j = 0; j < blocks.length; j++) {
    const b = blocks[j];
    e.beginBlock(b, j, guesses[j]);
    e.line(`case ${j}: {`);
    const list = b.insns;
    let ended = false;
    for (let k = 0; k < list.length; k++) {
      const ins = list[k];
      const last = k === list.length - 1;
      e.line('{');
      const tpl = ins.fn === udHandler ? undefined : TEMPLATES[ins.mnem];
      let done = false;
      if (tpl !== undefined) {
        const mark = e.out.length;
        const atMark = e.atEip.length;
        const known = e.known;
        const stores = e.stores;
        const wrote = e.wroteMemory;
        e.beginInsn(ins, k, false);
        e.ended = false;
        done = tpl(e, ins, last);
        if (!done) {
          e.out.length = mark;
          e.atEip.length = atMark;
          e.atK.length = atMark;
          e.atSynced.length = atMark;
          e.known = known;
          e.stores = stores;
          e.wroteMemory = wrote;
        } else {
          templated++;
          if (e.ended && !last) throw new Error(`JIT: ${ins.mnem} at ${(ins.eip >>> 0).toString(16)} ends a block in its middle`);
          ended = e.ended;
          if (!last && e.stores !== stores) e.checkWrittenCode();
        }
      }
      if (!done) {
        e.beginInsn(ins, k, true);
        e.callHandler(last);
        ended = last;
      }
      e.line('}');
    }
    if (!ended) e.endFallThrough();
    e.line('}');
  }
  return { e, templated };
}

/** The most common flags op left pending by a block's predecessors in the region. */
function guessesFrom(e: Emitter, count: number): number[] {
  const votes: Map<number, number>[] = [];
  for (let j = 0; j < count; j++) votes.push(new Map());
  for (const [from, to] of e.edges) {
    const op = e.exitOps[from] ?? UNKNOWN;
    if (op === UNKNOWN || op === 0) continue;
    votes[to].set(op, (votes[to].get(op) ?? 0) + 1);
  }
  return votes.map((m) => {
    let best = UNKNOWN;
    let most = 0;
    for (const [op, c] of m) {
      if (c > most) {
        best = op;
        most = c;
      }
    }
    return best;
  });
}

function regList(mask: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < 8; r++) if ((mask & (1 << r)) !== 0) out.push(r);
  return out;
}

/** What compileRegion returns when the generated source is longer than it was allowed. */
export class RegionTooLarge {
  constructor(readonly chars: number) {}
}

/**
 * Compiles `blocks` (all from the page `key` describes, distinct EIPs) into a region for `cpu`,
 * or returns RegionTooLarge when its source would have more than `maxChars` characters.
 */
export function compileRegion(blocksIn: readonly Block[], key: RegionKey, cpu: Cpu, maxChars = Infinity): Region | RegionTooLarge {
  if (cpu.jit.backend === 'wasm') {
    const w = compileWasmRegion(blocksIn, key, cpu);
    if (w !== null) return w;
  }
  const blocks = [...blocksIn].sort((a, b) => (a.eip >>> 0) - (b.eip >>> 0));
  const e0 = ((key.linPage << 12) - key.csBase) | 0;
  const table = new Int32Array(PAGE_BYTES);
  for (let j = 0; j < blocks.length; j++) {
    const d = (blocks[j].eip - e0) | 0;
    if (d < 0 || d >= PAGE_BYTES) throw new Error(`JIT: block ${(blocks[j].eip >>> 0).toString(16)} is not in page ${key.linPage.toString(16)}`);
    table[d] = j + 1;
  }
  const layout: RegionLayout = {
    indexOf: (eip) => {
      const d = (eip - e0) | 0;
      return d >= 0 && d < PAGE_BYTES ? table[d] - 1 : -1;
    },
    ss32: key.ss32,
    csLimit: cpu.csLimit >>> 0,
    frame: key.frame,
  };
  const first = emitBlocks(blocks, layout, blocks.map(() => UNKNOWN));
  const guesses = guessesFrom(first.e, blocks.length);
  // Without a guess the second pass would write the same code.
  const { e, templated } = guesses.every((g) => g === UNKNOWN) ? first : emitBlocks(blocks, layout, guesses);

  const used = regList(e.usedRegs);
  const written = regList(e.writtenRegs);
  const segs = regList(e.usedSegs);
  const flagsWb = `s[${S_LF_OP}] = fo; s[${S_LF_RES}] = fr; s[${S_LF_A}] = fa; s[${S_LF_B}] = fb; s[${S_LF_AUX}] = fx;`;
  const flagsLd = `fo = s[${S_LF_OP}]; fr = s[${S_LF_RES}]; fa = s[${S_LF_A}]; fb = s[${S_LF_B}]; fx = s[${S_LF_AUX}];`;
  const wb = written.map((r) => `s[${r}] = r${r};`).join(' ') + ' ' + flagsWb;
  const reload =
    used.map((r) => `r${r} = s[${r}];`).join(' ') + ' ' + flagsLd + ' ' +
    segs.map((g) => `sb${g} = s[${S_SEG_BASE + g}];`).join(' ') +
    ' okR = cpu.segOkR; okW = cpu.segOkW;';
  const body = e.out.join('\n').split(WRITE_BACK).join(wb).split(RELOAD).join(reload);

  const src: string[] = [];
  // Parenthesised, so V8 compiles the region function while it parses the factory instead of
  // pre-parsing it there and parsing it again at its first call (about a third less time to
  // compile, measured on the GRUB boot's regions).
  src.push(`return (function region_${(blocks[0].eip >>> 0).toString(16)}(bi, max) {`);
  src.push('const ep = cpu.linkEpoch;');
  src.push('let okR = cpu.segOkR, okW = cpu.segOkW;');
  for (const g of segs) src.push(`let sb${g} = s[${S_SEG_BASE + g}];`);
  for (let r = 0; r < 8; r++) if ((e.usedRegs & (1 << r)) !== 0) src.push(`let r${r} = s[${r}];`);
  src.push(`let fo = s[${S_LF_OP}], fr = s[${S_LF_RES}], fa = s[${S_LF_A}], fb = s[${S_LF_B}], fx = s[${S_LF_AUX}];`);
  src.push('let n = 0, at = 0, eo = 0, cw = false;');
  src.push('cpu.codeWritten = false;');
  src.push('try {');
  src.push('out: for (;;) {');
  src.push('switch (bi) {');
  src.push(body);
  src.push(`default: eo = s[${S_EIP}]; break out;`);
  src.push('}');
  src.push('}');
  src.push('} catch (ex) {');
  src.push(`if (SYNC[at] === 0) { ${wb} }`);
  src.push('cpu.icount += n + ATK[at];');
  src.push(`s[${S_EIP}] = ATEIP[at];`);
  src.push('throw ex;');
  src.push('}');
  src.push(wb);
  src.push(`s[${S_EIP}] = eo;`);
  src.push('return n;');
  src.push('});');
  const source = src.join('\n');
  if (source.length > maxChars) return new RegionTooLarge(source.length);

  const ph = cpu.phys;
  const genCell = Int32Array.of(key.gen);
  const names = [
    'rd8', 'rd16', 'rd32', 'wr8', 'wr16', 'wr32', 'probeWrite', 'chkSeg', 'gpf', 'cfOf', 'condOf', 'PARITY',
    'tbl', 'e0', 'SYNC', 'ATK', 'ATEIP',
    'cpu', 's', 'm8', 'm16', 'm32', 'cm', 'cg', 'rg', 'to', 'tR', 'tW', 'attn', 'ai', ...e.constNames,
  ];
  const values: unknown[] = [
    rd8, rd16, rd32, wr8, wr16, wr32, probeWrite, checkSegmentAccess, (c: Cpu) => gp(c, 0), cfOf, condOf, PARITY,
    table, e0, Int8Array.from(e.atSynced), Int32Array.from(e.atK), Int32Array.from(e.atEip),
    cpu, cpu.s, ph.mem8, ph.mem16, ph.mem32, ph.codeMark, ph.codeGen, genCell, cpu.tlbOff, cpu.tagR, cpu.tagW, cpu.attn, cpu.attnIdx,
    ...e.constValues,
  ];
  const factory = new Function(...names, source) as (...args: unknown[]) => RegionFn;
  const fn = factory(...values);
  // Run the entry and exit paths (block -1 exits at once, writing back what it loaded) until V8
  // has a feedback vector for them: optimised code compiled while the loop runs then has
  // feedback for its exit, instead of deoptimising at every exit.
  for (let k = 0; k < WARM_CALLS; k++) fn(-1, 0);
  return regionRecord(cpu, fn, { table, e0, frame: key.frame, gen: genCell, ss32: key.ss32, blocks, templated, source, copyLoop: false });
}

/**
 * The WebAssembly region backend: compiles the blocks of a region (the same regions jit-page.ts
 * forms for the JavaScript backend) into one WebAssembly function, run by Liftoff within
 * milliseconds of compiling instead of waiting for TurboFan.
 *
 * Shape of the function `run(bi, max, gen) -> retired | -1`:
 *
 *   load registers, flags, segment bases from the Cpu's context words
 *   block $fault  block $exit  loop $L  block $default  block $b(N-1) ... block $b0
 *     br_table bi -> $b0 .. $b(N-1), $default
 *   end $b0: block 0 (an edge is `bi = j; br $L`, a fall-through into the next block, or
 *            EIP into the context and `br $exit`) ... end $b(N-1): block N-1
 *   end $default: br $exit (EIP stays what the entry put there)
 *   end $L, end $exit: write back, return n
 *   end $fault: write back, store n and the fault point, return -1
 *
 * The JavaScript entry (the Region's fn) copies the state block's registers, flags, EFLAGS,
 * segment bases and flat masks into the context, calls run, and copies back; after a fault it
 * sets EIP and the retired count of the faulting instruction and rethrows what the import
 * caught, as the JavaScript regions' catch does. The instruction budget and the frame's code
 * generation are checked on every backward edge, the attention word every POLL_PERIOD of them
 * and at the next edge after any import ran JavaScript.
 */
import type { Cpu } from '../cpu';
import type { Block } from '../insn';
import { udHandler } from '../handlers/common';
import { gp, raise } from '../fault';
import { probeWrite, rd16, rd32, rd8, wr16, wr32, wr8 } from '../mmu';
import { checkSegmentAccess } from '../segments';
import { EXC_DE, S_EFLAGS, S_EIP, S_LF_OP } from '../state';
import type { Region, RegionKey } from '../jit/region-compiler';
import { regionRecord } from '../jit/region-record';
import { I32, ModuleBuilder, Op } from './wasm-encoder';
import { CTX, CTX_BYTES, MIRROR_WORDS, type ImportIds } from './wasm-ctx';
import { addFlagHelpers } from './wasm-flags';
import { POLL_PERIOD, WasmEmitter, type WasmLayout } from './wasm-emitter';
import { WASM_TEMPLATES } from './wasm-templates';
import { allocateArea, wasmPoolOf, type WasmPool } from './wasm-pool';

const PAGE_BYTES = 4096;
const W_N = CTX.N / 4;
const W_AT = CTX.AT / 4;
const W_FAULT = CTX.FAULT / 4;
const W_OK_R = CTX.OK_R / 4;
const W_OK_W = CTX.OK_W / 4;
const W_MIRROR = CTX.MIRROR / 4;
/** Words of the lazy-flags record (S_LF_OP..S_LF_AUX). */
const LF_WORDS = 5;
/** General registers EAX..EDI. */
const GPRS = 8;

/**
 * A Cpu's context in its pool's memory. `direct`: its state block is in that memory too
 * (regions work on it in place, `st` is its address); else `st` is the context's mirror.
 */
interface CpuCtx {
  pool: WasmPool;
  addr: number;
  words: Int32Array;
  st: number;
  direct: boolean;
  /** The state words the region works on: cpu.s itself, or the mirror. */
  sw: Int32Array;
}

const CONTEXTS = new WeakMap<Cpu, CpuCtx>();

/** Region entries and handler calls by mnemonic, while a profile counts them (countWasmCalls). */
let callCounts: Map<string, number> | null = null;

/**
 * Starts counting region entries ("(entry)") and handler calls by mnemonic in every WebAssembly
 * region (profiling: test/bench/grub-boot-profile.ts); `false` stops. Returns the counts.
 */
export function countWasmCalls(on: boolean): Map<string, number> | null {
  const m = callCounts;
  callCounts = on ? new Map<string, number>() : null;
  return on ? callCounts : m;
}

function counted(key: string): void {
  if (callCounts !== null) callCounts.set(key, (callCounts.get(key) ?? 0) + 1);
}

function contextOf(cpu: Cpu, pool: WasmPool): CpuCtx {
  let c = CONTEXTS.get(cpu);
  if (c === undefined || c.pool.memory !== pool.memory) {
    const a = allocateArea(pool, CTX_BYTES);
    const words = new Int32Array(a.buffer, a.offset, CTX_BYTES / 4);
    const direct = wasmPoolOf(cpu.s.buffer)?.memory === pool.memory;
    const st = direct ? cpu.s.byteOffset : a.offset + CTX.MIRROR;
    const sw = direct ? cpu.s : words.subarray(W_MIRROR, W_MIRROR + MIRROR_WORDS);
    c = { pool, addr: a.offset, words, st, direct, sw };
    CONTEXTS.set(cpu, c);
  }
  return c;
}

/** Whether `cpu`'s regions work on its state block in place (no copy at entry and exit). */
export function wasmStateInPlace(cpu: Cpu): boolean {
  const pool = wasmPoolOf(cpu.phys.mem8.buffer);
  return pool !== undefined && contextOf(cpu, pool).direct;
}

/** Whether the Cpu's memory is a pool memory the backend can compile for. */
export function wasmAvailable(cpu: Cpu): boolean {
  return wasmPoolOf(cpu.phys.mem8.buffer) !== undefined;
}

/** Writes the blocks through the emitter; returns how many instructions had a template. */
function emitBlocks(e: WasmEmitter, blocks: readonly Block[]): number {
  const f = e.f;
  let templated = 0;
  const labels = blocks.map(() => f.open(Op.Block));
  // labels were opened outermost first: block N-1 is the outermost, so reverse the roles.
  labels.reverse();
  f.get(e.bi).brTable(labels, e.defaultLabel);
  for (let j = 0; j < blocks.length; j++) {
    f.end(labels[j]);
    const b = blocks[j];
    e.beginBlock(b, j);
    e.ended = false;
    const list = b.insns;
    for (let k = 0; k < list.length; k++) {
      const ins = list[k];
      const last = k === list.length - 1;
      const tpl = ins.fn === udHandler ? undefined : WASM_TEMPLATES[ins.mnem];
      let done = false;
      if (tpl !== undefined) {
        const mark = f.code.length;
        const atMark = e.atEip.length;
        const known = e.known;
        const stores = e.stores;
        const wrote = e.wroteMemory;
        e.beginInsn(ins, k, false);
        done = tpl(e, ins, last);
        if (!done) {
          f.code.length = mark;
          e.atEip.length = atMark;
          e.atK.length = atMark;
          e.atSynced.length = atMark;
          e.known = known;
          e.stores = stores;
          e.wroteMemory = wrote;
        } else {
          templated++;
          if (e.ended && !last) throw new Error(`wasm JIT: ${ins.mnem} at ${(ins.eip >>> 0).toString(16)} ends a block in its middle`);
          if (!last && e.stores !== stores) e.checkWrittenCode();
        }
      }
      if (!done) {
        e.beginInsn(ins, k, true);
        e.callHandler(last);
        if (last) e.ended = true;
      }
      e.endInsn();
    }
    if (!e.ended) e.endFallThrough();
  }
  return templated;
}

/**
 * Compiles `blocksIn` (all from the page `key` describes) into a WebAssembly region for `cpu`,
 * or returns null when the Cpu's memory is not a pool memory.
 */
export function compileWasmRegion(blocksIn: readonly Block[], key: RegionKey, cpu: Cpu): Region | null {
  const pool = wasmPoolOf(cpu.phys.mem8.buffer);
  if (pool === undefined) return null;
  const ctx = contextOf(cpu, pool);
  const blocks = [...blocksIn].sort((a, b) => (a.eip >>> 0) - (b.eip >>> 0));
  const e0 = ((key.linPage << 12) - key.csBase) | 0;
  const table = new Int32Array(PAGE_BYTES);
  for (let j = 0; j < blocks.length; j++) {
    const d = (blocks[j].eip - e0) | 0;
    if (d < 0 || d >= PAGE_BYTES) throw new Error(`wasm JIT: block ${(blocks[j].eip >>> 0).toString(16)} is not in page ${key.linPage.toString(16)}`);
    table[d] = j + 1;
  }
  const layout: WasmLayout = {
    indexOf: (eip) => {
      const d = (eip - e0) | 0;
      return d >= 0 && d < PAGE_BYTES ? table[d] - 1 : -1;
    },
    ss32: key.ss32,
    csLimit: cpu.csLimit >>> 0,
    frame: key.frame,
    ctx: ctx.addr,
    st: ctx.st,
    tagR: cpu.tagR.byteOffset,
    tagW: cpu.tagW.byteOffset,
    tlbOff: cpu.tlbOff.byteOffset,
    codeMark: cpu.phys.codeMark.byteOffset,
    codeGen: cpu.phys.codeGen.byteOffset,
    blockEips: blocks.map((b) => b.eip),
  };

  const mb = new ModuleBuilder();
  const ids: ImportIds = {
    rd: mb.importFn('rd', [I32, I32], [I32]),
    wr: mb.importFn('wr', [I32, I32, I32], [I32]),
    rmw: mb.importFn('rmw', [I32, I32], [I32]),
    chkSeg: mb.importFn('chkSeg', [I32, I32, I32, I32], []),
    gp: mb.importFn('gp', [], []),
    de: mb.importFn('de', [], []),
    handler: mb.importFn('handler', [I32], [I32]),
    attn: mb.importFn('attn', [], [I32]),
    cfFn: 0,
    condFn: 0,
    flagsFn: 0,
  };
  const helpers = addFlagHelpers(mb);
  ids.cfFn = helpers.cfFn;
  ids.condFn = helpers.condFn;
  ids.flagsFn = helpers.flagsFn;

  const e = new WasmEmitter(layout, ids);
  const f = e.f;
  e.reload();
  f.i32(0).set(e.n).i32(0).set(e.cw).i32(POLL_PERIOD).set(e.poll);
  e.faultLabel = f.open(Op.Block);
  e.exitLabel = f.open(Op.Block);
  e.loopLabel = f.open(Op.Loop);
  e.defaultLabel = f.open(Op.Block);
  const templated = emitBlocks(e, blocks);
  f.end(e.defaultLabel);
  f.br(e.exitLabel);
  f.end(e.loopLabel);
  f.end(e.exitLabel);
  e.writeBack();
  f.get(e.n).op(Op.Return);
  f.end(e.faultLabel);
  e.writeBack();
  f.i32(0).get(e.n).mem(Op.I32Store, ctx.addr + CTX.N);
  f.i32(0).get(e.at).mem(Op.I32Store, ctx.addr + CTX.AT);
  f.i32(-1);
  mb.addFn(f, 'run');
  const bytes = mb.encode();

  const { fn, genCell } = bindRegion(cpu, ctx, bytes, e, key);
  const source = `/* WebAssembly region, ${bytes.length} bytes */`;
  return regionRecord(cpu, fn, { table, e0, frame: key.frame, gen: genCell, ss32: key.ss32, blocks, templated, source, copyLoop: false });
}

/** Instantiates the module and returns the region's JavaScript entry. */
function bindRegion(
  cpu: Cpu,
  ctx: CpuCtx,
  bytes: Uint8Array<ArrayBuffer>,
  e: WasmEmitter,
  key: RegionKey,
): { fn: (bi: number, max: number) => number; genCell: Int32Array } {
  const ss32 = key.ss32;
  const w = ctx.words;
  const s = cpu.s;
  const m = ctx.sw;
  const direct = ctx.direct;
  const tR = cpu.tagR;
  const csLimit = cpu.csLimit;
  const sites = e.handlers;
  const atEip = Int32Array.from(e.atEip);
  const atK = Int32Array.from(e.atK);
  const atSynced = Int8Array.from(e.atSynced);
  // The frame's code generation the region is valid in (enterRegion moves it on revalidation).
  const genCell = Int32Array.of(key.gen);
  let pending: unknown = null;
  let ep = 0;
  const caught = (ex: unknown): void => {
    pending = ex;
    w[W_FAULT] = 1;
  };
  // Mirror only: the registers, EFLAGS and flags record the region wrote, back into the state block.
  const toState = (): void => {
    for (let k = 0; k < GPRS; k++) s[k] = m[k];
    s[S_EFLAGS] = m[S_EFLAGS];
    for (let k = S_LF_OP; k < S_LF_OP + LF_WORDS; k++) s[k] = m[k];
  };
  // Mirror only: everything a region reads, from the state block.
  const fromState = (): void => {
    for (let k = 0; k < MIRROR_WORDS; k++) m[k] = s[k];
  };
  const imports = {
    m: ctx.pool.memory,
    rd: (l: number, size: number): number => {
      try {
        return size === 4 ? rd32(cpu, l) : size === 2 ? rd16(cpu, l) : rd8(cpu, l);
      } catch (ex) {
        caught(ex);
        return 0;
      }
    },
    wr: (l: number, size: number, v: number): number => {
      try {
        if (size === 4) wr32(cpu, l, v);
        else if (size === 2) wr16(cpu, l, v);
        else wr8(cpu, l, v);
        return cpu.codeWritten ? 1 : 0;
      } catch (ex) {
        caught(ex);
        return 0;
      }
    },
    rmw: (l: number, size: number): number => {
      try {
        probeWrite(cpu, l, size);
        return size === 4 ? rd32(cpu, l) : size === 2 ? rd16(cpu, l) : rd8(cpu, l);
      } catch (ex) {
        caught(ex);
        return 0;
      }
    },
    chkSeg: (seg: number, off: number, size: number, write: number): void => {
      try {
        checkSegmentAccess(cpu, seg, off, size, write !== 0);
      } catch (ex) {
        caught(ex);
      }
    },
    gp: (): void => {
      try {
        gp(cpu, 0);
      } catch (ex) {
        caught(ex);
      }
    },
    de: (): void => {
      try {
        raise(cpu, EXC_DE);
      } catch (ex) {
        caught(ex);
      }
    },
    handler: (id: number): number => {
      const site = sites[id];
      if (callCounts !== null) counted(site.ins.mnem);
      if (!direct) toState();
      s[S_EIP] = site.endEip;
      try {
        site.ins.fn(cpu, site.ins);
      } catch (ex) {
        pending = ex;
        return 2;
      }
      if (!direct) fromState();
      w[W_OK_R] = cpu.segOkR;
      w[W_OK_W] = cpu.segOkW;
      if (
        cpu.codeWritten || cpu.linkEpoch !== ep || cpu.ss32 !== ss32 || cpu.tagR !== tR || cpu.csLimit !== csLimit ||
        cpu.localAttention || cpu.slowMode
      ) {
        m[S_EIP] = site.last ? s[S_EIP] : site.ins.next;
        return 1;
      }
      if (site.last) m[S_EIP] = s[S_EIP];
      return 0;
    },
    attn: (): number => (cpu.attn[cpu.attnIdx] !== 0 ? 1 : 0),
  };
  const mod = new WebAssembly.Module(bytes);
  const inst = new WebAssembly.Instance(mod, { e: imports });
  const run = inst.exports.run as unknown as (bi: number, max: number, gen: number) => number;
  const leave = (n: number): number => {
    if (n < 0) {
      const at = w[W_AT];
      if (!direct && atSynced[at] === 0) toState();
      cpu.icount += w[W_N] + atK[at];
      s[S_EIP] = atEip[at];
      const ex = pending;
      pending = null;
      throw ex;
    }
    if (!direct) {
      toState();
      s[S_EIP] = m[S_EIP];
    }
    return n;
  };
  const fn = (bi: number, max: number): number => {
    if (callCounts !== null) counted('(entry)');
    if (!direct) fromState();
    w[W_OK_R] = cpu.segOkR;
    w[W_OK_W] = cpu.segOkW;
    w[W_FAULT] = 0;
    cpu.codeWritten = false;
    ep = cpu.linkEpoch;
    return leave(run(bi, max, genCell[0]));
  };
  return { fn, genCell };
}

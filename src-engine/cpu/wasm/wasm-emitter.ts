/**
 * The code emitter of the WebAssembly region backend: what its templates (wasm-templates.ts)
 * use to write one guest instruction. It plays the part emitter.ts plays for JavaScript, with
 * the same conventions and invariants:
 *
 *   r[0..7]          the general registers as i32 locals
 *   fo fr fa fb fx   the lazy flags record (lazy-flags.ts)
 *   sb[0..5] okR okW segment bases and flat-segment masks (reloaded after a handler call)
 *   n                instructions retired in this call (whole blocks)
 *   cw               a slow-path write hit code in some frame (leave after this instruction)
 *   poll             backward edges until the attention word is read again (an import call)
 *
 * An instruction changes no local before its last operation that can fault, so the fault path
 * writes the locals back as the state before it. Every import that can fault (slow-path memory
 * accesses, segment checks, #GP, handlers) catches the exception and raises the context's FAULT
 * word; the code after the call tests it and branches to the function's fault exit with the
 * instruction's fault point (`at`). Registers, flags, EIP and segment bases are loaded from and
 * stored to the state words at `layout.st` (wasm-ctx.ts: the state block itself when it lives in
 * the pool memory, else the context's mirror of it).
 */
import type { Block, Insn } from '../insn';
import { REG_ZERO, S_EFLAGS, S_EIP, S_LF_OP, S_SEG_BASE, SEG_SS } from '../state';
import { TLB_MASK } from '../mmu';
import { UNKNOWN } from '../jit/flag-exprs';
import { FnBuilder, Op, type Label } from './wasm-encoder';
import { CTX, type ImportIds } from './wasm-ctx';
import { emitCf, emitCond, emitEflags } from './wasm-flags';

/** Backward edges between two reads of the attention word (an import call each). */
export const POLL_PERIOD = 64;
const PAGE_MASK = 0xfff;
const TLB_INDEX_MASK = TLB_MASK;

/** Where the region's parts are in the pool memory, and how blocks are found. */
export interface WasmLayout {
  indexOf(eip: number): number;
  ss32: boolean;
  csLimit: number;
  frame: number;
  /** Address of the Cpu's context words (wasm-ctx.ts). */
  ctx: number;
  /** Address of the state words the region works on (the state block or the context's mirror). */
  st: number;
  /** Addresses of the TLB arrays the region was compiled for (tags of its privilege). */
  tagR: number;
  tagW: number;
  tlbOff: number;
  codeMark: number;
  codeGen: number;
  /** EIPs of the region's blocks (dynamic targets are looked up among them). */
  blockEips: readonly number[];
}

/** A handler call site: what the entry's handler import runs. */
export interface HandlerSite {
  ins: Insn;
  /** EIP the block ends at (s[EIP] while the handler runs, as the JS regions set it). */
  endEip: number;
  last: boolean;
}

/** Writes the WebAssembly of a region's blocks. */
export class WasmEmitter {
  readonly f: FnBuilder;
  readonly r: number[] = [];
  readonly fo: number;
  readonly fr: number;
  readonly fa: number;
  readonly fb: number;
  readonly fx: number;
  readonly sb: number[] = [];
  readonly okR: number;
  readonly okW: number;
  readonly n: number;
  readonly cw: number;
  readonly poll: number;
  readonly at: number;
  /** Parameters: entry block, budget, the region's code generation. */
  readonly bi = 0;
  readonly max = 1;
  readonly rg = 2;
  private readonly free: number[] = [];
  private readonly used: number[] = [];
  /** Fault points: EIP, index in block, 1 when the state block already holds the state. */
  readonly atEip: number[] = [];
  readonly atK: number[] = [];
  readonly atSynced: number[] = [];
  readonly handlers: HandlerSite[] = [];
  loopLabel!: Label;
  /** Where a block index no block has goes (leaves with the entry's EIP). */
  defaultLabel!: Label;
  exitLabel!: Label;
  faultLabel!: Label;

  block!: Block;
  blockIdx = 0;
  k = 0;
  ins!: Insn;
  /** The current fault point. */
  atId = 0;
  known = UNKNOWN;
  wroteMemory = false;
  ended = false;
  stores = 0;

  constructor(readonly layout: WasmLayout, readonly imp: ImportIds) {
    this.f = new FnBuilder([0x7f, 0x7f, 0x7f], [0x7f]);
    for (let k = 0; k < 8; k++) this.r.push(this.f.local());
    this.fo = this.f.local();
    this.fr = this.f.local();
    this.fa = this.f.local();
    this.fb = this.f.local();
    this.fx = this.f.local();
    for (let k = 0; k < 6; k++) this.sb.push(this.f.local());
    this.okR = this.f.local();
    this.okW = this.f.local();
    this.n = this.f.local();
    this.cw = this.f.local();
    this.poll = this.f.local();
    this.at = this.f.local();
  }

  /** A temporary i32 local, free again after the current instruction. */
  tmp(): number {
    const t = this.free.pop() ?? this.f.local();
    this.used.push(t);
    return t;
  }

  /** Address of state word `word` (state.ts) as the region sees it. */
  stAddr(word: number): number {
    return this.layout.st + 4 * word;
  }

  /** Loads every cached local from the state words and the context (entry, after a handler call). */
  reload(): void {
    const f = this.f;
    for (let k = 0; k < 8; k++) f.i32(0).mem(Op.I32Load, this.stAddr(k)).set(this.r[k]);
    const fl = [this.fo, this.fr, this.fa, this.fb, this.fx];
    for (let k = 0; k < 5; k++) f.i32(0).mem(Op.I32Load, this.stAddr(S_LF_OP + k)).set(fl[k]);
    for (let k = 0; k < 6; k++) f.i32(0).mem(Op.I32Load, this.stAddr(S_SEG_BASE + k)).set(this.sb[k]);
    f.i32(0).mem(Op.I32Load, this.layout.ctx + CTX.OK_R).set(this.okR);
    f.i32(0).mem(Op.I32Load, this.layout.ctx + CTX.OK_W).set(this.okW);
  }

  /** Stores the registers and the flags record into the state words. */
  writeBack(): void {
    const f = this.f;
    for (let k = 0; k < 8; k++) f.i32(0).get(this.r[k]).mem(Op.I32Store, this.stAddr(k));
    const fl = [this.fo, this.fr, this.fa, this.fb, this.fx];
    for (let k = 0; k < 5; k++) f.i32(0).get(fl[k]).mem(Op.I32Store, this.stAddr(S_LF_OP + k));
  }

  /** Pushes EFLAGS as the state words hold it. */
  eflagsLoad(): void {
    this.f.i32(0).mem(Op.I32Load, this.stAddr(S_EFLAGS));
  }

  beginBlock(b: Block, idx: number): void {
    this.block = b;
    this.blockIdx = idx;
    this.known = UNKNOWN;
    this.wroteMemory = false;
  }

  /** Starts an instruction: a new fault point. */
  beginInsn(ins: Insn, k: number, synced: boolean): void {
    this.ins = ins;
    this.k = k;
    this.atId = this.atEip.length;
    this.atEip.push(ins.eip);
    this.atK.push(k);
    this.atSynced.push(synced ? 1 : 0);
  }

  /** Ends an instruction: its temporaries are free again. */
  endInsn(): void {
    while (this.used.length > 0) this.free.push(this.used.pop() as number);
  }

  /** Leaves through the fault exit when the context's FAULT word is set (after an import call). */
  faultCheck(): void {
    const f = this.f;
    f.i32(0).mem(Op.I32Load, this.layout.ctx + CTX.FAULT);
    const l = f.open(Op.If);
    this.goFault();
    f.end(l);
    // The import ran JavaScript, which may have asked for attention: look at the next edge.
    f.i32(1).set(this.poll);
  }

  /** Branches to the fault exit with the current fault point. */
  goFault(): void {
    this.f.i32(this.atId).set(this.at).br(this.faultLabel);
  }

  // --- registers ----------------------------------------------------------------------------

  /** Pushes register operand `idx` of `size` bytes, zero-extended. */
  rd(size: number, idx: number): void {
    const f = this.f;
    if (size === 4) f.get(this.r[idx]);
    else if (size === 2) f.get(this.r[idx >> 1]).i32(0xffff).op(Op.I32And);
    else if ((idx & 1) !== 0) f.get(this.r[idx >> 2]).i32(8).op(Op.I32ShrU).i32(0xff).op(Op.I32And);
    else f.get(this.r[idx >> 2]).i32(0xff).op(Op.I32And);
  }

  /** Writes the value in local `v` to register operand `idx` of `size` bytes (upper bits kept). */
  wr(size: number, idx: number, v: number): void {
    const f = this.f;
    if (size === 4) {
      f.get(v).set(this.r[idx]);
    } else if (size === 2) {
      const r = this.r[idx >> 1];
      f.get(r).i32(-65536).op(Op.I32And).get(v).i32(0xffff).op(Op.I32And).op(Op.I32Or).set(r);
    } else if ((idx & 1) !== 0) {
      const r = this.r[idx >> 2];
      f.get(r).i32(-65281).op(Op.I32And).get(v).i32(0xff).op(Op.I32And).i32(8).op(Op.I32Shl).op(Op.I32Or).set(r);
    } else {
      const r = this.r[idx >> 2];
      f.get(r).i32(-256).op(Op.I32And).get(v).i32(0xff).op(Op.I32And).op(Op.I32Or).set(r);
    }
  }

  // --- memory -------------------------------------------------------------------------------

  /** Pushes the effective address of the memory operand. */
  ea(i: Insn): void {
    const f = this.f;
    if (i.a16) {
      f.i32(i.disp);
      if (i.base !== REG_ZERO) f.get(this.r[i.base]).i32(0xffff).op(Op.I32And).op(Op.I32Add);
      if (i.index !== REG_ZERO) f.get(this.r[i.index]).i32(0xffff).op(Op.I32And).op(Op.I32Add);
      f.i32(0xffff).op(Op.I32And);
      return;
    }
    f.i32(i.disp | 0);
    if (i.base !== REG_ZERO) f.get(this.r[i.base]).op(Op.I32Add);
    if (i.index !== REG_ZERO) {
      f.get(this.r[i.index]);
      if (i.scale !== 0) f.i32(i.scale).op(Op.I32Shl);
      f.op(Op.I32Add);
    }
  }

  /** Linear address of the offset in local `o` in segment `seg` (checked unless flat); returns its local. */
  segLin(seg: number, o: number, size: number, write: boolean): number {
    const f = this.f;
    f.get(write ? this.okW : this.okR).i32(1 << seg).op(Op.I32And).op(Op.I32Eqz);
    const l1 = f.open(Op.If);
    f.i32(seg).get(o).i32(size).i32(write ? 1 : 0).call(this.imp.chkSeg);
    this.faultCheck();
    f.end(l1);
    const l = this.tmp();
    f.get(o).get(this.sb[seg]).op(Op.I32Add).set(l);
    return l;
  }

  /** Linear address of the instruction's memory operand. */
  lin(i: Insn, size: number, write: boolean): number {
    const o = this.tmp();
    this.ea(i);
    this.f.set(o);
    return this.segLin(i.seg, o, size, write);
  }

  /**
   * Pushes the TLB slot's byte index of linear `l` and leaves the page number in `p`; then
   * branches to `slow` unless the tag at `tagAddr` matches and `l` is aligned for `size`.
   */
  private tlbTest(l: number, size: number, tagAddr: number, p: number, x: number, slow: Label): void {
    const f = this.f;
    f.get(l).i32(12).op(Op.I32ShrU).tee(p).i32(TLB_INDEX_MASK).op(Op.I32And).i32(2).op(Op.I32Shl).tee(x);
    f.mem(Op.I32Load, tagAddr).get(p).op(Op.I32Ne).brIf(slow);
    if (size > 1) f.get(l).i32(size - 1).op(Op.I32And).brIf(slow);
  }

  private static loadOp(size: number): Op {
    return size === 4 ? Op.I32Load : size === 2 ? Op.I32Load16U : Op.I32Load8U;
  }

  private static storeOp(size: number): Op {
    return size === 4 ? Op.I32Store : size === 2 ? Op.I32Store16 : Op.I32Store8;
  }

  /** Reads `size` bytes at linear `l` into a new local (zero-extended); returns it. */
  load(size: number, l: number): number {
    const f = this.f;
    const v = this.tmp();
    const p = this.tmp();
    const x = this.tmp();
    const done = f.open(Op.Block);
    const slow = f.open(Op.Block);
    this.tlbTest(l, size, this.layout.tagR, p, x, slow);
    f.get(x).mem(Op.I32Load, this.layout.tlbOff).get(l).i32(PAGE_MASK).op(Op.I32And).op(Op.I32Add);
    f.mem(WasmEmitter.loadOp(size), 0).set(v).br(done);
    f.end(slow);
    f.get(l).i32(size).call(this.imp.rd).set(v);
    this.faultCheck();
    f.end(done);
    return v;
  }

  /**
   * Reads `size` bytes at linear `l` only if the TLB has it (no import, no fault): returns the
   * value local and a local that is 1 on a hit, 0 on a miss (the value is then 0).
   */
  loadIfMapped(size: number, l: number): { value: number; hit: number } {
    const f = this.f;
    const [v, hit, p, x] = [this.tmp(), this.tmp(), this.tmp(), this.tmp()];
    f.i32(0).set(v).i32(0).set(hit);
    const miss = f.open(Op.Block);
    this.tlbTest(l, size, this.layout.tagR, p, x, miss);
    f.get(x).mem(Op.I32Load, this.layout.tlbOff).get(l).i32(PAGE_MASK).op(Op.I32And).op(Op.I32Add);
    f.mem(WasmEmitter.loadOp(size), 0).set(v).i32(1).set(hit);
    f.end(miss);
    return { value: v, hit };
  }

  /** Writes `size` bytes of local `v` at linear `l`. */
  store(size: number, l: number, v: number): void {
    const f = this.f;
    const p = this.tmp();
    const x = this.tmp();
    const o = this.tmp();
    this.wroteMemory = true;
    this.stores++;
    const done = f.open(Op.Block);
    const slow = f.open(Op.Block);
    this.tlbTest(l, size, this.layout.tagW, p, x, slow);
    f.get(x).mem(Op.I32Load, this.layout.tlbOff).get(l).i32(PAGE_MASK).op(Op.I32And).op(Op.I32Add).tee(o);
    f.i32(12).op(Op.I32ShrU).mem(Op.I32Load8U, this.layout.codeMark).brIf(slow);
    f.get(o).get(v).mem(WasmEmitter.storeOp(size), 0).br(done);
    f.end(slow);
    f.get(l).i32(size).get(v).call(this.imp.wr).get(this.cw).op(Op.I32Or).set(this.cw);
    this.faultCheck();
    f.end(done);
  }

  /**
   * Read half of a read-modify-write at `l` (write permission first, as probeWrite does):
   * returns the value local and a local with the machine offset for the fast write (-1: slow).
   */
  rmwLoad(size: number, l: number): { value: number; off: number } {
    const f = this.f;
    const p = this.tmp();
    const x = this.tmp();
    const o = this.tmp();
    const v = this.tmp();
    const done = f.open(Op.Block);
    const slow = f.open(Op.Block);
    this.tlbTest(l, size, this.layout.tagW, p, x, slow);
    f.get(x).mem(Op.I32Load, this.layout.tlbOff).get(l).i32(PAGE_MASK).op(Op.I32And).op(Op.I32Add).tee(o);
    f.i32(12).op(Op.I32ShrU).mem(Op.I32Load8U, this.layout.codeMark).brIf(slow);
    f.get(o).mem(WasmEmitter.loadOp(size), 0).set(v).br(done);
    f.end(slow);
    f.i32(-1).set(o);
    f.get(l).i32(size).call(this.imp.rmw).set(v);
    this.faultCheck();
    f.end(done);
    return { value: v, off: o };
  }

  /** Write half of a read-modify-write. */
  rmwStore(size: number, l: number, off: number, v: number): void {
    const f = this.f;
    this.wroteMemory = true;
    this.stores++;
    f.get(off).i32(0).op(Op.I32GeS);
    const b = f.open(Op.If);
    f.get(off).get(v).mem(WasmEmitter.storeOp(size), 0);
    f.else();
    f.get(l).i32(size).get(v).call(this.imp.wr).get(this.cw).op(Op.I32Or).set(this.cw);
    this.faultCheck();
    f.end(b);
  }

  /** Pushes `v` (a local) of `size` bytes. */
  push(size: number, v: number): void {
    const f = this.f;
    const sp = this.tmp();
    f.get(this.r[4]).i32(size).op(Op.I32Sub);
    if (!this.layout.ss32) f.i32(0xffff).op(Op.I32And);
    f.set(sp);
    const l = this.segLin(SEG_SS, sp, size, true);
    this.store(size, l, v);
    this.setSp(sp);
  }

  /** Pops `size` bytes into a new local (ESP moved); returns it. */
  pop(size: number): number {
    const v = this.peek(size, 0);
    this.adjustSp(size);
    return v;
  }

  /** Reads the stack at ESP + delta without moving ESP. */
  peek(size: number, delta: number): number {
    const f = this.f;
    const sp = this.tmp();
    f.get(this.r[4]).i32(delta).op(Op.I32Add);
    if (!this.layout.ss32) f.i32(0xffff).op(Op.I32And);
    f.set(sp);
    return this.load(size, this.segLin(SEG_SS, sp, size, false));
  }

  /** ESP (or SP) = local `v`. */
  setSp(v: number): void {
    if (this.layout.ss32) this.wr(4, 4, v);
    else this.wr(2, 8, v);
  }

  /** Moves ESP (or SP) by `delta`. */
  adjustSp(delta: number): void {
    const t = this.tmp();
    this.f.get(this.r[4]).i32(delta).op(Op.I32Add).set(t);
    this.setSp(t);
  }

  // --- flags ----------------------------------------------------------------------------------

  /** Records a flags operation from locals (aux: a local, or undefined to keep fx). */
  setFlags(op: number, a: number, b: number, res: number, aux?: number): void {
    const f = this.f;
    f.i32(op).set(this.fo).get(a).set(this.fa).get(b).set(this.fb).get(res).set(this.fr);
    if (aux !== undefined) f.get(aux).set(this.fx);
    this.known = op;
  }

  /** Pushes condition `cc` (0/1). */
  cond(cc: number): void {
    emitCond(this, cc, this.known);
  }

  /** Pushes EFLAGS with the pending record's arithmetic flags folded in. */
  eflags(): void {
    emitEflags(this, this.known);
  }

  /** Pushes CF (0/1). */
  cf(): void {
    emitCf(this, this.known);
  }

  // --- control --------------------------------------------------------------------------------

  /** #GP(0) unless the target in local `t` (or the number) is within the CS limit. */
  checkTarget(t: number | { value: number }): void {
    const limit = this.layout.csLimit >>> 0;
    const f = this.f;
    if (typeof t !== 'number') {
      if (t.value >>> 0 <= limit) return;
      f.call(this.imp.gp);
      this.goFault();
      return;
    }
    if (limit === 0xffffffff) return;
    f.get(t).i32(limit | 0).op(Op.I32GtU);
    const b = f.open(Op.If);
    f.call(this.imp.gp);
    this.goFault();
    f.end(b);
  }

  /** Leaves with EIP = the number or local `target` when an exit test holds. */
  private exitIf(backward: boolean, target: number | { value: number }): void {
    const f = this.f;
    let any = false;
    if (backward) {
      f.get(this.n).get(this.max).op(Op.I32GeS);
      f.i32(0).mem(Op.I32Load, this.layout.codeGen + this.layout.frame * 4).get(this.rg).op(Op.I32Ne).op(Op.I32Or);
      any = true;
    }
    if (this.wroteMemory) {
      f.get(this.cw);
      if (any) f.op(Op.I32Or);
      any = true;
    }
    if (any) {
      const b = f.open(Op.If);
      this.exitTo(target);
      f.end(b);
    }
    if (backward) {
      f.get(this.poll).i32(1).op(Op.I32Sub).tee(this.poll).op(Op.I32Eqz);
      const b = f.open(Op.If);
      f.i32(POLL_PERIOD).set(this.poll).call(this.imp.attn);
      const c = f.open(Op.If);
      this.exitTo(target);
      f.end(c);
      f.end(b);
    }
  }

  /** Leaves the region with EIP = the number or local `target`. */
  exitTo(target: number | { value: number }): void {
    const f = this.f;
    f.i32(0);
    if (typeof target === 'number') f.get(target);
    else f.i32(target.value);
    f.mem(Op.I32Store, this.stAddr(S_EIP)).br(this.exitLabel);
  }

  private countBlock(): void {
    this.ended = true;
    this.f.get(this.n).i32(this.block.insns.length).op(Op.I32Add).set(this.n);
  }

  private edge(target: number, mayFallThrough: boolean): void {
    const j = this.layout.indexOf(target);
    if (j < 0) {
      this.exitTo({ value: target });
      return;
    }
    this.exitIf(j <= this.blockIdx, { value: target });
    if (mayFallThrough && j === this.blockIdx + 1) return;
    this.f.i32(j).set(this.bi).br(this.loopLabel);
  }

  /** Ends the block with a jump to static `target`. */
  endJump(target: number): void {
    this.countBlock();
    this.edge(target, true);
  }

  /** Ends the block with a branch: `target` if the 0/1 value in local `c` holds, else falls through. */
  endBranch(c: number, target: number): void {
    this.countBlock();
    this.f.get(c);
    const b = this.f.open(Op.If);
    this.edge(target, false);
    this.f.end(b);
    this.edge(this.block.endEip, true);
  }

  /** Ends the block with a jump to the EIP in local `t`. */
  endDynamic(t: number): void {
    const f = this.f;
    this.countBlock();
    this.exitIf(true, t);
    const eips = this.layout.blockEips;
    for (let j = 0; j < eips.length; j++) {
      f.get(t).i32(eips[j]).op(Op.I32Eq);
      const b = f.open(Op.If);
      f.i32(j).set(this.bi).br(this.loopLabel);
      f.end(b);
    }
    this.exitTo(t);
  }

  endFallThrough(): void {
    this.endJump(this.block.endEip);
  }

  /** After a mid-block instruction that wrote memory: leave (EIP = next) if it hit code. */
  checkWrittenCode(): void {
    const f = this.f;
    f.get(this.cw);
    const b = f.open(Op.If);
    f.get(this.n).i32(this.k + 1).op(Op.I32Add).set(this.n);
    this.exitTo({ value: this.ins.next });
    f.end(b);
  }

  /**
   * Calls the interpreter's handler of the current instruction through the handler import,
   * with the locals written back before and reloaded after. Status 2: it faulted (the state
   * block holds the state); 1: leave after it (EIP in the context); the last instruction of a
   * block continues at the EIP the handler left.
   */
  callHandler(last: boolean): void {
    const f = this.f;
    const id = this.handlers.length;
    this.handlers.push({ ins: this.ins, endEip: this.block.endEip, last });
    this.known = UNKNOWN;
    this.writeBack();
    const st = this.tmp();
    f.i32(id).call(this.imp.handler).set(st);
    this.reload();
    f.i32(1).set(this.poll);
    f.get(st).i32(2).op(Op.I32Eq);
    const fb = f.open(Op.If);
    this.goFault();
    f.end(fb);
    f.get(st);
    const lb = f.open(Op.If);
    f.get(this.n).i32(this.k + 1).op(Op.I32Add).set(this.n);
    f.br(this.exitLabel);
    f.end(lb);
    if (last) {
      const t = this.tmp();
      f.i32(0).mem(Op.I32Load, this.stAddr(S_EIP)).set(t);
      this.endDynamic(t);
    }
  }
}

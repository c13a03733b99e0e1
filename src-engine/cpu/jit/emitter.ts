/**
 * The code emitter of the region compiler: what instruction templates (templates-*.ts) use to
 * write JavaScript for one guest instruction. It owns the conventions of the generated code:
 *
 *   r0..r7          the general registers (EAX..EDI) as int32 locals
 *   fo fr fa fb fx  the lazy flags record (S_LF_OP, _RES, _A, _B, _AUX)
 *   sb0..sb5        segment bases; okR/okW the flat-segment masks (cpu.segOkR/W)
 *   cpu s           the Cpu the region belongs to and its state block (closure constants)
 *   tR tW to        TLB tags of the privilege compiled for and machine offsets (mmu.ts)
 *   m8 m16 m32 cm   guest memory views and the code-mark bytes (closure constants)
 *   cg rg           the frames' code generations and the region's own (a one-element cell)
 *   n               instructions retired in this call (whole blocks)
 *   at              the instruction that may fault next (an index into the region's tables)
 *   cw              a slow-path write hit code in some frame (leave after this instruction)
 *
 * Invariants every template keeps: an instruction changes no local before its last operation
 * that can fault (so the catch handler can write the locals back as the state before it); values
 * assigned to r*, f* are int32; flags are recorded exactly as the interpreter's handlers record
 * them (lazy-flags.ts), so a handler called later, an exception or the region's exit sees the
 * same state as after interpretation.
 */
import type { Block, Insn } from '../insn';
import { REG_ZERO, SEG_SS } from '../state';
import { TLB_MASK } from '../mmu';
import { cfExpr, condExpr, UNKNOWN } from './flag-exprs';

/** Placeholder replaced by the write-back of every register and flags local. */
export const WRITE_BACK = '\u0001WB\u0001';
/** Placeholder replaced by the reload of every cached local after a handler call. */
export const RELOAD = '\u0001RL\u0001';
const PAGE_MASK = 0xfff;

/** How the region compiler tells the emitter where blocks and edges are. */
export interface RegionLayout {
  /** Index of the region block starting at `eip`, or -1. */
  indexOf(eip: number): number;
  /** The stack size the region was compiled for (cpu.ss32). */
  ss32: boolean;
  /** The CS limit it was compiled for (cpu.csLimit, unsigned). */
  csLimit: number;
  /**
   * The machine frame (self-modifying code check: its generation against the region's cell `rg`,
   * region-compiler.ts).
   */
  frame: number;
}

/** Writes JavaScript for the instructions of a region, block by block. */
export class Emitter {
  readonly out: string[] = [];
  /** Closure constants of the generated function (handlers, Insns, tables). */
  readonly constNames: string[] = [];
  readonly constValues: unknown[] = [];
  private readonly constIds = new Map<unknown, string>();
  /** Bit r: register r is read or written by some template (it lives in a local). */
  usedRegs = 0;
  /** Bit r: register r is assigned by some template (written back at exits and calls). */
  writtenRegs = 0;
  /** Bit s: segment base s is cached in a local. */
  usedSegs = 0;
  /** Per fault point: the instruction's EIP, its index in its block, and 1 for handler calls. */
  readonly atEip: number[] = [];
  readonly atK: number[] = [];
  readonly atSynced: number[] = [];
  /** Static edges recorded while emitting (from block, to block). */
  readonly edges: [number, number][] = [];
  /** Per block: the flags op pending at its end when known (UNKNOWN otherwise). */
  readonly exitOps: number[] = [];

  // The block and instruction being emitted.
  block!: Block;
  blockIdx = 0;
  /** Index of the current instruction in its block. */
  k = 0;
  ins!: Insn;
  /** The flags op set earlier in this block (UNKNOWN if none or after a handler call). */
  known = UNKNOWN;
  /** The flags op most likely pending at block entry (from the predecessors' exits). */
  guess = UNKNOWN;
  /** The block called a handler (its exits also look at localAttention and slowMode). */
  calledHandler = false;
  /** The block has a memory write that may hit code (its exits test cw). */
  wroteMemory = false;
  /** The current instruction ended the block (emitted its edges). */
  ended = false;
  /** Memory writes emitted so far (the compiler checks cw after a mid-block writer). */
  stores = 0;
  private tmpN = 0;

  constructor(readonly layout: RegionLayout) {}

  /** Appends a line of code. */
  line(code: string): void {
    this.out.push(code);
  }

  /** A closure constant for `value` (deduplicated by identity). */
  constant(value: unknown, prefix: string): string {
    let name = this.constIds.get(value);
    if (name === undefined) {
      name = `${prefix}${this.constNames.length}`;
      this.constIds.set(value, name);
      this.constNames.push(name);
      this.constValues.push(value);
    }
    return name;
  }

  /** A fresh temporary name (declare it with const/let inside the instruction's braces). */
  tmp(prefix = 't'): string {
    return `${prefix}_${this.tmpN++}`;
  }

  /** Starts a block. */
  beginBlock(b: Block, idx: number, guess: number): void {
    this.block = b;
    this.blockIdx = idx;
    this.known = UNKNOWN;
    this.guess = guess;
    this.calledHandler = false;
    this.wroteMemory = false;
  }

  /** Starts an instruction: records its fault point and sets `at`. */
  beginInsn(ins: Insn, k: number, synced: boolean): void {
    this.ins = ins;
    this.k = k;
    const id = this.atEip.length;
    this.atEip.push(ins.eip);
    this.atK.push(k);
    this.atSynced.push(synced ? 1 : 0);
    this.line(`at = ${id};`);
  }

  // --- registers -------------------------------------------------------------------------

  /** The local of 32-bit register r (marks it used). */
  reg(r: number): string {
    this.usedRegs |= 1 << r;
    return `r${r}`;
  }

  private regW(r: number): string {
    this.usedRegs |= 1 << r;
    this.writtenRegs |= 1 << r;
    return `r${r}`;
  }

  /** Reads a register operand given its size-specific index (Insn r1/r2): zero-extended. */
  rd(size: number, idx: number): string {
    if (size === 4) return this.reg(idx);
    if (size === 2) return `(${this.reg(idx >> 1)} & 65535)`;
    const r = this.reg(idx >> 2);
    return (idx & 1) !== 0 ? `((${r} >> 8) & 255)` : `(${r} & 255)`;
  }

  /** Writes a register operand (value truncated to the size, upper bits kept). */
  wr(size: number, idx: number, value: string): void {
    if (size === 4) {
      const r = this.regW(idx);
      this.line(`${r} = (${value}) | 0;`);
    } else if (size === 2) {
      const r = this.regW(idx >> 1);
      this.line(`${r} = (${r} & -65536) | ((${value}) & 65535);`);
    } else {
      const r = this.regW(idx >> 2);
      if ((idx & 1) !== 0) this.line(`${r} = (${r} & -65281) | (((${value}) & 255) << 8);`);
      else this.line(`${r} = (${r} & -256) | ((${value}) & 255);`);
    }
  }

  /** Sets a whole 32-bit register. */
  set32(r: number, value: string): void {
    this.line(`${this.regW(r)} = (${value}) | 0;`);
  }

  // --- memory ----------------------------------------------------------------------------

  /** The effective address (offset in the segment) of the memory operand, as an expression. */
  ea(i: Insn): string {
    if (i.a16) {
      const parts: string[] = [];
      if (i.base !== REG_ZERO) parts.push(`(${this.reg(i.base)} & 65535)`);
      if (i.index !== REG_ZERO) parts.push(`(${this.reg(i.index)} & 65535)`);
      parts.push(`${i.disp}`);
      return `((${parts.join(' + ')}) & 65535)`;
    }
    const parts: string[] = [];
    if (i.base !== REG_ZERO) parts.push(this.reg(i.base));
    if (i.index !== REG_ZERO) parts.push(i.scale === 0 ? this.reg(i.index) : `(${this.reg(i.index)} << ${i.scale})`);
    if (i.disp !== 0 || parts.length === 0) parts.push(`${i.disp | 0}`);
    return parts.length === 1 && parts[0] === `${i.disp | 0}` ? `${i.disp | 0}` : `((${parts.join(' + ')}) | 0)`;
  }

  /** The segment base local of `seg`. */
  segBase(seg: number): string {
    this.usedSegs |= 1 << seg;
    return `sb${seg}`;
  }

  /**
   * Emits the linear address of offset `off` (an expression) in segment `seg` for an access of
   * `size` bytes, with the segment check when the segment is not flat; returns its name.
   */
  segLin(seg: number, off: string, size: number, write: boolean): string {
    const o = this.tmp('o');
    const l = this.tmp('l');
    this.line(`const ${o} = ${off};`);
    this.line(`if ((${write ? 'okW' : 'okR'} & ${1 << seg}) === 0) chkSeg(cpu, ${seg}, ${o}, ${size}, ${write});`);
    this.line(`const ${l} = (${o} + ${this.segBase(seg)}) | 0;`);
    return l;
  }

  /** Emits the linear address of the instruction's memory operand; returns its name. */
  lin(i: Insn, size: number, write: boolean): string {
    return this.segLin(i.seg, this.ea(i), size, write);
  }

  /** Emits a read of `size` bytes at linear `l` into a new local; returns its name. */
  load(size: number, l: string): string {
    const v = this.tmp('v');
    const p = this.tmp('p');
    const x = this.tmp('x');
    this.line(`const ${p} = ${l} >>> 12, ${x} = ${p} & ${TLB_MASK};`);
    if (size === 4) {
      this.line(`const ${v} = tR[${x}] === ${p} && (${l} & 3) === 0 ? m32[(to[${x}] + (${l} & ${PAGE_MASK})) >> 2] : rd32(cpu, ${l});`);
    } else if (size === 2) {
      this.line(`const ${v} = tR[${x}] === ${p} && (${l} & 1) === 0 ? m16[(to[${x}] + (${l} & ${PAGE_MASK})) >> 1] : rd16(cpu, ${l});`);
    } else {
      this.line(`const ${v} = tR[${x}] === ${p} ? m8[to[${x}] + (${l} & ${PAGE_MASK})] : rd8(cpu, ${l});`);
    }
    return v;
  }

  /** Emits a write of `size` bytes of `value` at linear `l`. */
  store(size: number, l: string, value: string): void {
    const p = this.tmp('p');
    const x = this.tmp('x');
    const o = this.tmp('o');
    this.wroteMemory = true;
    this.stores++;
    this.line(`const ${p} = ${l} >>> 12, ${x} = ${p} & ${TLB_MASK};`);
    this.line(`let ${o} = -1;`);
    const align = size === 4 ? ` && (${l} & 3) === 0` : size === 2 ? ` && (${l} & 1) === 0` : '';
    this.line(`if (tW[${x}] === ${p}${align} && cm[(${o} = to[${x}] + (${l} & ${PAGE_MASK})) >>> 12] === 0) {`);
    if (size === 4) this.line(`m32[${o} >> 2] = ${value};`);
    else if (size === 2) this.line(`m16[${o} >> 1] = ${value};`);
    else this.line(`m8[${o}] = ${value};`);
    this.line(`} else { wr${size * 8}(cpu, ${l}, ${value}); cw = cpu.codeWritten; }`);
  }

  /**
   * Read half of a read-modify-write at linear `l` (the write permission is checked first, as
   * probeWrite does). Returns the value local and a local holding the machine offset for the
   * fast write (-1: write through the slow path).
   */
  rmwLoad(size: number, l: string): { value: string; off: string } {
    const p = this.tmp('p');
    const x = this.tmp('x');
    const o = this.tmp('o');
    const v = this.tmp('v');
    this.line(`const ${p} = ${l} >>> 12, ${x} = ${p} & ${TLB_MASK};`);
    this.line(`let ${o} = -1, ${v} = 0;`);
    const align = size === 4 ? ` && (${l} & 3) === 0` : size === 2 ? ` && (${l} & 1) === 0` : '';
    this.line(`if (tW[${x}] === ${p}${align} && cm[(${o} = to[${x}] + (${l} & ${PAGE_MASK})) >>> 12] === 0) {`);
    if (size === 4) this.line(`${v} = m32[${o} >> 2];`);
    else if (size === 2) this.line(`${v} = m16[${o} >> 1];`);
    else this.line(`${v} = m8[${o}];`);
    this.line(`} else { ${o} = -1; probeWrite(cpu, ${l}, ${size}); ${v} = rd${size * 8}(cpu, ${l}); }`);
    return { value: v, off: o };
  }

  /** Write half of a read-modify-write. */
  rmwStore(size: number, l: string, off: string, value: string): void {
    this.wroteMemory = true;
    this.stores++;
    const st = size === 4 ? `m32[${off} >> 2]` : size === 2 ? `m16[${off} >> 1]` : `m8[${off}]`;
    this.line(`if (${off} >= 0) ${st} = ${value}; else { wr${size * 8}(cpu, ${l}, ${value}); cw = cpu.codeWritten; }`);
  }

  /** Emits a push of `value` (an int32 expression) of `size` bytes (push32/push16). */
  push(size: number, value: string): void {
    const esp = this.reg(4);
    const v = this.tmp('pv');
    this.line(`const ${v} = ${value};`);
    const sp = this.tmp('sp');
    this.line(this.layout.ss32 ? `const ${sp} = (${esp} - ${size}) | 0;` : `const ${sp} = (${esp} - ${size}) & 65535;`);
    const l = this.segLin(SEG_SS, sp, size, true);
    this.store(size, l, v);
    this.setSp(sp);
  }

  /** Emits a pop of `size` bytes into a new local (ESP moved); returns its name. */
  pop(size: number): string {
    const esp = this.reg(4);
    const sp = this.tmp('sp');
    this.line(this.layout.ss32 ? `const ${sp} = ${esp};` : `const ${sp} = ${esp} & 65535;`);
    const l = this.segLin(SEG_SS, sp, size, false);
    const v = this.load(size, l);
    this.setSp(`(${sp} + ${size})`);
    return v;
  }

  /** Reads the stack at ESP + delta without moving ESP (peekStack). */
  peek(size: number, delta: number): string {
    const esp = this.reg(4);
    const sp = this.tmp('sp');
    this.line(this.layout.ss32 ? `const ${sp} = (${esp} + ${delta}) | 0;` : `const ${sp} = (${esp} + ${delta}) & 65535;`);
    return this.load(size, this.segLin(SEG_SS, sp, size, false));
  }

  /** ESP (or SP) = value. */
  setSp(value: string): void {
    if (this.layout.ss32) this.set32(4, value);
    else this.wr(2, 8, value);
  }

  /** Moves ESP (or SP) by `delta` (adjustSp). */
  adjustSp(delta: number): void {
    this.setSp(`(${this.reg(4)} + ${delta})`);
  }

  // --- flags -----------------------------------------------------------------------------

  /** Records a flags operation (op = kind << 2 | size) with its operands and result. */
  setFlags(op: number, a: string, b: string, res: string, aux?: string): void {
    let code = `fo = ${op}; fa = ${a}; fb = ${b}; fr = ${res};`;
    if (aux !== undefined) code += ` fx = ${aux};`;
    this.line(code);
    this.known = op;
  }

  /** Condition `cc` as a boolean expression. */
  cond(cc: number): string {
    return condExpr(cc, this.known, this.guess);
  }

  /** CF as a 0/1 expression. */
  cf(): string {
    return cfExpr(this.known, this.guess);
  }

  // --- control -----------------------------------------------------------------------------

  /** #GP(0) unless `target` (an int32 expression or EIP) is within the CS limit (checkTarget). */
  checkTarget(target: string | number): void {
    this.checkTargetIf('', target);
  }

  /** checkTarget when the boolean expression `cond` holds ('' = always). */
  checkTargetIf(cond: string, target: string | number): void {
    const limit = this.layout.csLimit >>> 0;
    if (typeof target === 'number') {
      if (target >>> 0 <= limit) return;
      this.line(cond === '' ? 'gpf(cpu);' : `if (${cond}) gpf(cpu);`);
      return;
    }
    if (limit === 0xffffffff) return;
    this.line(`if (${cond === '' ? '' : `${cond} && `}(${target}) >>> 0 > ${limit}) gpf(cpu);`);
  }

  /** Conditions under which an edge out of this block must leave the region. */
  private exitTest(backward: boolean): string {
    const parts: string[] = [];
    if (backward) parts.push('n >= max', 'attn[ai] !== 0', `cg[${this.layout.frame}] !== rg[0]`);
    if (this.wroteMemory) parts.push('cw');
    if (this.calledHandler) parts.push('cpu.localAttention', 'cpu.slowMode');
    return parts.join(' || ');
  }

  private countBlock(): void {
    this.ended = true;
    this.line(`n = (n + ${this.block.insns.length}) | 0;`);
  }

  /** Control goes to static `target` (the block's instructions are counted here). */
  private edge(target: number, mayFallThrough: boolean): void {
    const j = this.layout.indexOf(target);
    if (j < 0) {
      this.line(`eo = ${target}; break out;`);
      return;
    }
    this.edges.push([this.blockIdx, j]);
    const test = this.exitTest(j <= this.blockIdx);
    if (test !== '') this.line(`if (${test}) { eo = ${target}; break out; }`);
    if (mayFallThrough && j === this.blockIdx + 1) return;
    this.line(`bi = ${j}; continue;`);
  }

  /** Ends the block with a jump to static `target`. */
  endJump(target: number): void {
    this.countBlock();
    this.exitOps[this.blockIdx] = this.known;
    this.edge(target, true);
  }

  /** Ends the block with a conditional jump: `target` if `cond` holds, else the next insn. */
  endBranch(cond: string, target: number): void {
    this.countBlock();
    this.exitOps[this.blockIdx] = this.known;
    this.line(`if (${cond}) {`);
    this.edge(target, false);
    this.line('}');
    this.edge(this.block.endEip, true);
  }

  /** Ends the block with a jump to a computed EIP (an int32 expression). */
  endDynamic(target: string): void {
    this.countBlock();
    this.exitOps[this.blockIdx] = this.known;
    const t = this.tmp('j');
    this.line(`const ${t} = ${target};`);
    const parts = ['n >= max', 'attn[ai] !== 0', `cg[${this.layout.frame}] !== rg[0]`];
    if (this.wroteMemory) parts.push('cw');
    if (this.calledHandler) parts.push('cpu.localAttention', 'cpu.slowMode');
    this.line(`if (${parts.join(' || ')}) { eo = ${t}; break out; }`);
    const d = this.tmp('d');
    this.line(`const ${d} = (${t} - e0) | 0;`);
    this.line(`if (${d} >>> 0 < 4096 && (bi = tbl[${d}] - 1) >= 0) continue;`);
    this.line(`eo = ${t}; break out;`);
  }

  /** Ends a block whose last instruction does not transfer control (falls through). */
  endFallThrough(): void {
    this.endJump(this.block.endEip);
  }

  /**
   * After a mid-block instruction that wrote memory: leave the region (EIP = next instruction)
   * if the write hit a frame holding code.
   */
  checkWrittenCode(): void {
    this.line(`if (cw) { n = (n + ${this.k + 1}) | 0; eo = ${this.ins.next}; break out; }`);
  }

  /**
   * Calls the interpreter's handler for the current instruction, with the locals written back
   * before and reloaded after. The last instruction of a block may have set EIP (a control
   * transfer or a fault-free exit such as a mode change): the block then continues at s[EIP].
   */
  callHandler(last: boolean): void {
    const h = this.constant(this.ins.fn, 'h');
    const i = this.constant(this.ins, 'i');
    this.calledHandler = true;
    this.known = UNKNOWN;
    this.guess = UNKNOWN;
    this.line(WRITE_BACK);
    this.line(`s[9] = ${this.block.endEip};`);
    this.line(`${h}(cpu, ${i});`);
    this.line(RELOAD);
    const next = last ? 's[9]' : `${this.ins.next}`;
    this.line(
      `if (cpu.codeWritten || cpu.linkEpoch !== ep || cpu.ss32 !== ${this.layout.ss32} || cpu.tagR !== tR || cpu.csLimit !== ${this.layout.csLimit >>> 0}) { n = (n + ${this.k + 1}) | 0; eo = ${next}; break out; }`,
    );
    if (last) this.endDynamic('s[9]');
  }
}

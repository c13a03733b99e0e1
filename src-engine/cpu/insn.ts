/**
 * A decoded instruction and a decoded block. Instructions are decoded once per block into Insn
 * objects whose `fn` is a handler specialised for the operand form (register/memory/immediate)
 * and operand size. The interpreter's block loop (exec-block.ts) runs the frequent forms inline by
 * their fast kind and calls `ins.fn(cpu, ins)` for the rest.
 *
 * Every Insn has the same fields (one hidden class), so handlers read them monomorphically.
 */
import type { Cpu } from './cpu';
import type { JitPage } from './jit/jit-page';
import type { Region } from './jit/region-compiler';
import { REG_ZERO, SEG_DS } from './state';

/** An instruction handler. */
export type Handler = (cpu: Cpu, ins: Insn) => void;

/**
 * One decoded instruction. The fields the block loop reads for every instruction (the kind and
 * the operands) come first, so they share the object's first cache lines with its map.
 */
export class Insn {
  /** Fast kind (fast-kinds.ts): how the interpreter's block loop runs it inline; 0 = call fn. */
  kind = 0;
  /** First register operand (index in the size-specific register view). */
  r1 = 0;
  /** Second register operand. */
  r2 = 0;
  /** Sub-operation: ALU op, condition code, shift kind, segment register, ... */
  op = 0;
  /** Immediate operand(s). For far pointers imm is the offset and imm2 the selector. */
  imm = 0;
  /** Target offset of relative branches (already masked to the operand size). */
  target = 0;
  /** Memory operand: base and index register (REG_ZERO if absent), scale shift, displacement. */
  base = REG_ZERO;
  index = REG_ZERO;
  scale = 0;
  disp = 0;
  /** Segment register of the memory operand (after prefixes). */
  seg = SEG_DS;
  /** Offset in CS of the next instruction (masked to the code size). */
  next = 0;
  /**
   * A conditional branch inside a superblock whose target is a later instruction of the same
   * block (decoder.ts): that instruction's index, where the block loop goes on when the branch is
   * taken instead of ending the block. 0: none.
   */
  skip = 0;
  /** The handler that executes it. */
  fn: Handler;
  /**
   * 1 + the index in its block of an earlier instruction whose flags record is deferred
   * (fast-kinds.ts deadFlags, FK.ADD_RI32_DF / SUB_RI32_DF) and not yet overwritten here: the
   * block loop writes that record before calling this instruction's handler. 0: none.
   */
  flagsFrom = 0;
  /** Offset in CS of the first byte. */
  eip = 0;
  /** Length in bytes. */
  len = 0;
  /** 16-bit addressing. */
  a16 = false;
  imm2 = 0;
  /** Operand size in bytes (1, 2, 4) for handlers shared between sizes. */
  size = 4;
  /** REP prefix: 0 none, 1 REP/REPE (F3), 2 REPNE (F2). */
  rep = 0;
  /** LOCK prefix present. */
  lock = false;
  /** The raw opcode (one byte, or 0x0F00 | second byte) for diagnostics. */
  opcode = 0;
  /** Mnemonic for diagnostics and tracing. */
  mnem = '';
  /** Operand kinds as decoded (decoder.ts OP_*), operand k in bits 4k..4k+3 (the JIT's templates). */
  form = 0;

  constructor(fn: Handler) {
    this.fn = fn;
  }
}

/** A run of decoded instructions starting at one guest address. */
export class Block {
  constructor(
    /** The instructions; only the last, conditional branches and followed jumps and calls (see exits) change control flow. */
    readonly insns: Insn[],
    /** Offset in CS of the first instruction. */
    readonly eip: number,
    /** Linear address of the first instruction. */
    readonly lin: number,
    /** Machine byte offset of the first instruction (or -1 when not cacheable). */
    readonly off: number,
    /**
     * Machine frame the block was decoded from, and the frame's code generation the block is
     * known valid in (code-marks.ts revalidateBlock moves it on when the bytes are unchanged).
     */
    readonly frame: number,
    public gen: number,
    /** Decode mode (code size, real/protected/virtual-8086). */
    readonly mode: number,
    /** Offset in CS after the last instruction (EIP when the block falls through). */
    readonly endEip: number,
    /** Bytes of code the block spans from `spanOff`. */
    readonly bytes: number,
  ) {
    this.spanOff = off;
  }
  /**
   * Machine offset of the block's lowest code byte: `off`, or below it when the decoder followed
   * a jump or call backwards within the page (decoder.ts). The bytes [spanOff, spanOff + bytes)
   * are what the self-modifying-code check and revalidation cover (gaps between parts included).
   */
  spanOff: number;

  /** Number of instructions. */
  get n(): number {
    return this.insns.length;
  }
  /**
   * Direct links to the blocks that followed this one (taken and fall-through), valid while
   * the Cpu's linkEpoch equals linkEpoch (mappings, mode and CS unchanged).
   */
  succ0: Block | null = null;
  succ0Eip = 0;
  succ1: Block | null = null;
  succ1Eip = 0;
  linkEpoch = -1;
  /**
   * Conditional branches before the last instruction (decoder.ts: superblocks, decoded while
   * the JIT is off). When one is taken the block ends there; the JIT never takes such a block.
   */
  exits = 0;
  /** Times the block ran in the interpreter (the JIT's hotness count, jit/jit-page.ts). */
  hits = 0;
  /** The code page the JIT filed the block under (jit/jit-page.ts), once registered. */
  jitPage: JitPage | null = null;
  /** The newest compiled region containing the block (jit/region-compiler.ts). */
  region: Region | null = null;
  /** A copy of the block's code bytes, for revalidation after a store into its frame (cacheable blocks). */
  code: Uint8Array | null = null;
}

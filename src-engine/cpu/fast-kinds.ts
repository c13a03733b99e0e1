/**
 * Fast kinds: the instruction forms the interpreter's block loop (exec-block.ts) runs inline
 * instead of calling their handler. The decoder still picks a handler for every instruction
 * (handlers/*.ts); classify() then recognises the most frequent handlers by identity and gives
 * the Insn a small integer kind. A kind is only a promise that the inline code does exactly what
 * that handler does whenever its preconditions hold (flat segment, TLB hit, aligned access, no
 * code in the frame written, branch target within CS); when one does not hold, the loop calls the
 * handler, which takes its slow path. Kind 0 always calls the handler.
 *
 * The kinds are ordered by what the loop must do before its switch: register-only kinds first,
 * then kinds with a memory operand that is read (above FK.MEM_READ), then kinds that write their
 * memory operand (above FK.MEM_WRITE), so the memory operand's translation is written once.
 */
import type { Insn } from './insn';
import { OP_MEM } from './decoder';
import { ALU_FAST_HANDLERS } from './handlers/alu';
import { CONTROL_FAST_HANDLERS } from './handlers/control';
import { DATA_FAST_HANDLERS } from './handlers/data';
import { SHIFT_FAST_HANDLERS } from './handlers/shift';
import { STACK_FAST_HANDLERS } from './handlers/stack';
import { LF_ADD, LF_SUB, SZ32 } from './lazy-flags';
import { S_LF_A, S_LF_B, S_LF_OP, S_LF_RES } from './state';

/** The lazy records (lazy-flags.ts: op << 2 | size) of a 32-bit ADD and SUB. */
const ADD32 = (LF_ADD << 2) | SZ32;
const SUB32 = (LF_SUB << 2) | SZ32;

/**
 * The fast kinds. A const enum, so the bundler writes each as its number: the block loop's
 * switch then has literal case labels, which V8 compiles to a jump table (imported constants
 * would be loads from the module's context).
 */
export const enum FK {
  /** No fast path: call the handler. */
  CALL = 0,
  // Register and immediate operands only.
  MOV_RR32 = 1,
  MOV_RI32 = 2,
  LEA32 = 3,
  INC32 = 4,
  DEC32 = 5,
  SHL32_RI = 6,
  SHR32_RI = 7,
  /** ALU r32, r32 and r32, imm: only ADC and SBB (the other ops have kinds of their own below). */
  ALU_RR32 = 8,
  ALU_RI32 = 9,
  JMP = 10,
  JZ = 11,
  JNZ = 12,
  JB = 13,
  JAE = 14,
  JCC = 15,
  CALL32 = 16,
  RET32 = 17,
  PUSH32R = 18,
  PUSH_IMM32 = 19,
  POP32R = 20,
  MOVZX_RR8 = 21,
  ALU_RR8 = 22,
  ALU_RI8 = 23,
  // An ALU instruction fused with the conditional branch after it (fuse(), at decode time): the
  // loop runs both in one dispatch; the branch Insn stays in the list (the JIT, single steps).
  /** SUB or CMP r32, r32 then Jcc. */
  CMP_RR32_J = 24,
  /** SUB or CMP r32, imm then Jcc. */
  CMP_RI32_J = 25,
  /** AND or TEST r32, r32 then Jcc. */
  TEST_RR32_J = 26,
  /** AND or TEST r32, imm then Jcc. */
  TEST_RI32_J = 27,
  /** DEC r32 then Jcc. */
  DEC32_J = 28,
  /** INC r32 then Jcc. */
  INC32_J = 29,
  // The register forms of the ALU ops without carry, one kind per op (no dispatch on the op). In
  // pairs, the register form even and the immediate form odd (exec-block.ts tests the low bit).
  ADD_RR32 = 30,
  ADD_RI32 = 31,
  SUB_RR32 = 32,
  SUB_RI32 = 33,
  CMP_RR32 = 34,
  CMP_RI32 = 35,
  AND_RR32 = 36,
  AND_RI32 = 37,
  TEST_RR32 = 38,
  TEST_RI32 = 39,
  OR_RR32 = 40,
  OR_RI32 = 41,
  XOR_RR32 = 42,
  XOR_RI32 = 43,
  // Flag-dead forms (deadFlags(), at decode time): the register forms above when a later
  // instruction of the block overwrites the whole flags record before anything can read it or
  // fault. Only the register is written; the pairs are ordered as above.
  INC32_NF = 44,
  DEC32_NF = 45,
  SHL32_NF = 46,
  SHR32_NF = 47,
  ADD_RR32_NF = 48,
  ADD_RI32_NF = 49,
  SUB_RR32_NF = 50,
  SUB_RI32_NF = 51,
  AND_RR32_NF = 52,
  AND_RI32_NF = 53,
  OR_RR32_NF = 54,
  OR_RI32_NF = 55,
  XOR_RR32_NF = 56,
  XOR_RI32_NF = 57,
  /**
   * JMP rel and CALL rel32 that the decoder followed into their target (follow()): the block goes
   * on there, so the inline code leaves EIP at the block's end (CALL still pushes).
   */
  JMP_IN = 58,
  CALL32_IN = 59,
  /**
   * Flag-deferred forms (deadFlags()): ADD and SUB r32, imm whose record a later instruction
   * overwrites with only moves and memory moves between (a memory move may call its handler).
   * Only the register is written; before any handler of the instructions between runs, the loop
   * writes the record from the register and the immediate (deferredRecord), so a fault or a
   * handler sees exact flags.
   */
  ADD_RI32_DF = 60,
  SUB_RI32_DF = 61,
  /**
   * ADD ESP, imm run with the RET after it, the block's last instruction (a function's
   * epilogue, addRet()): one dispatch; the RET falls back to its handler with the ADD retired.
   */
  ADD_RET = 62,
  /** Kinds above this one read their memory operand (32-bit addressing, read permission). */
  MEM_READ = 64,
  MOV_RM32 = 65,
  MOV_RM8 = 66,
  MOVZX_RM8 = 67,
  ALU_RM32 = 68,
  /** CMP and TEST with a memory first operand: read only. */
  ALU_MR32_READ = 69,
  PUSH_MEM32 = 70,
  ALU_MI32_READ = 71,
  ALU_RM8 = 72,
  ALU_MR8_READ = 73,
  ALU_MI8_READ = 74,
  /** Kinds above this one write their memory operand (write permission, no decoded code in its frame). */
  MEM_WRITE = 80,
  MOV_MR32 = 81,
  MOV_MI32 = 82,
  MOV_MR8 = 83,
  MOV_MI8 = 84,
  /** ALU read-modify-write of memory (ADD OR ADC SBB AND SUB XOR), register or immediate source. */
  ALU_MR32 = 85,
  ALU_MI32 = 86,
  ALU_MR8 = 87,
  ALU_MI8 = 88,
}

/** A conditional branch the block loop runs inline (it may end a superblock early when taken). */
export function isCondBranch(kind: number): boolean {
  return kind >= FK.JZ && kind <= FK.JCC;
}

/** ALU op numbers (handlers/alu.ts, group-1 order, TEST after CMP): CMP and TEST write no result. */
const ALU_ADD = 0;
const ALU_OR = 1;
const ALU_AND = 4;
const ALU_SUB = 5;
const ALU_XOR = 6;
const ALU_CMP = 7;
const ALU_TEST = 8;

/** ALU_RR32 or ALU_RI32 (`kind`) for ALU op `op`: the kind of that op's form (ADC, SBB: as is). */
function aluKind(kind: number, op: number): number {
  const rr = kind === FK.ALU_RR32;
  switch (op) {
    case ALU_ADD: return rr ? FK.ADD_RR32 : FK.ADD_RI32;
    case ALU_OR: return rr ? FK.OR_RR32 : FK.OR_RI32;
    case ALU_AND: return rr ? FK.AND_RR32 : FK.AND_RI32;
    case ALU_SUB: return rr ? FK.SUB_RR32 : FK.SUB_RI32;
    case ALU_XOR: return rr ? FK.XOR_RR32 : FK.XOR_RI32;
    case ALU_CMP: return rr ? FK.CMP_RR32 : FK.CMP_RI32;
    case ALU_TEST: return rr ? FK.TEST_RR32 : FK.TEST_RI32;
    default: return kind;
  }
}

/**
 * The kind of `ins` when a conditional branch with a fast kind follows it in the same block:
 * the fused kind for SUB/CMP/AND/TEST r32 with a register or immediate and for INC/DEC r32,
 * otherwise its own kind.
 */
export function fuse(ins: Insn): number {
  switch (ins.kind) {
    case FK.SUB_RR32:
    case FK.CMP_RR32:
      return FK.CMP_RR32_J;
    case FK.SUB_RI32:
    case FK.CMP_RI32:
      return FK.CMP_RI32_J;
    case FK.AND_RR32:
    case FK.TEST_RR32:
      return FK.TEST_RR32_J;
    case FK.AND_RI32:
    case FK.TEST_RI32:
      return FK.TEST_RI32_J;
    case FK.DEC32:
      return FK.DEC32_J;
    case FK.INC32:
      return FK.INC32_J;
    default:
      return ins.kind;
  }
}

/** Shift counts are masked to five bits; a zero count leaves the flags alone. */
const SHIFT_COUNT_MASK = 31;
/** ALU op numbers that read CF: ADC and SBB. */
const ALU_ADC = 2;
const ALU_SBB = 3;

/**
 * How an instruction of kind `kind` relates to the flags, for deadFlags(): KILL when it writes
 * the whole lazy record (all six status flags, none read) and can neither fault nor leave the
 * block; PASS when it neither reads nor writes flags and can neither fault nor leave the block;
 * otherwise READ (it may read them, fault, or end the block: the flags before it are live).
 */
const READ = 0;
const PASS = 1;
const KILL = 2;
/**
 * MOVE: neither reads nor writes flags nor leaves the block, but may call its handler (a memory
 * move or push or pop, a followed jump or call: TLB miss, fault, MMIO, #GP past the CS limit).
 */
const MOVE = 3;
function flagUse(ins: Insn): number {
  const kind = ins.kind;
  if (kind >= FK.ADD_RR32 && kind <= FK.XOR_RI32) return KILL;
  if (kind >= FK.CMP_RR32_J && kind <= FK.TEST_RI32_J) return KILL;
  if (kind === FK.SHL32_RI || kind === FK.SHR32_RI) return (ins.imm & SHIFT_COUNT_MASK) !== 0 ? KILL : PASS;
  if (kind === FK.ALU_RR8 || kind === FK.ALU_RI8) return ins.op === ALU_ADC || ins.op === ALU_SBB ? READ : KILL;
  if (kind === FK.MOV_RR32 || kind === FK.MOV_RI32 || kind === FK.LEA32 || kind === FK.MOVZX_RR8) return PASS;
  if (kind >= FK.MOV_RM32 && kind <= FK.MOVZX_RM8) return MOVE;
  if (kind >= FK.MOV_MR32 && kind <= FK.MOV_MI8) return MOVE;
  if (kind === FK.PUSH32R || kind === FK.PUSH_IMM32 || kind === FK.PUSH_MEM32 || kind === FK.POP32R) return MOVE;
  if (kind === FK.JMP_IN || kind === FK.CALL32_IN) return MOVE;
  return READ;
}

/** Register number of ESP (state.ts), which pushes, pops and calls write. */
const REG_ESP = 4;
/** An 8-bit register's index in the byte view (AL 0, AH 1, CL 4 ...) to its 32-bit register. */
const BYTE_REG_SHIFT = 2;

/** The 32-bit registers a PASS or MOVE instruction writes, one bit per register number. */
function regsWritten(ins: Insn): number {
  switch (ins.kind) {
    case FK.MOV_RR32: case FK.MOV_RI32: case FK.LEA32: case FK.MOVZX_RR8: case FK.MOV_RM32: case FK.MOVZX_RM8:
      return 1 << ins.r1;
    case FK.MOV_RM8: return 1 << (ins.r1 >> BYTE_REG_SHIFT);
    case FK.PUSH32R: case FK.PUSH_IMM32: case FK.PUSH_MEM32: case FK.CALL32_IN: return 1 << REG_ESP;
    case FK.POP32R: return (1 << REG_ESP) | (1 << ins.r1);
    default: return 0;
  }
}

/** The flag-dead form of kind `kind`, or `kind` when it has none. */
function deadKind(kind: number): number {
  if (kind === FK.INC32) return FK.INC32_NF;
  if (kind === FK.DEC32) return FK.DEC32_NF;
  if (kind === FK.SHL32_RI) return FK.SHL32_NF;
  if (kind === FK.SHR32_RI) return FK.SHR32_NF;
  if (kind >= FK.ADD_RR32 && kind <= FK.SUB_RI32) return kind - FK.ADD_RR32 + FK.ADD_RR32_NF;
  if (kind >= FK.AND_RR32 && kind <= FK.AND_RI32) return kind - FK.AND_RR32 + FK.AND_RR32_NF;
  if (kind >= FK.OR_RR32 && kind <= FK.XOR_RI32) return kind - FK.OR_RR32 + FK.OR_RR32_NF;
  return kind;
}

/**
 * Gives the flag-dead kinds to a decoded block's instructions (after fuse): an instruction whose
 * flags record is overwritten whole by a later one, with only PASS instructions between (no
 * fault, no exit, no flag read), writes only its register. Nothing can observe the difference:
 * no fault can happen in between, interrupts are taken only between blocks, and the record that
 * follows is the later instruction's (the AUX word, which no ADD, SUB or logic record reads, may
 * differ from the handlers').
 */
function deadFlags(insns: Insn[]): void {
  // A later KILL overwrites the record with only PASS and MOVE instructions before it (`dead`),
  // at least one a MOVE (`moves`): then the record is deferred instead (ADD/SUB r32, imm whose
  // register nothing between writes), and the MOVEs between get the index + 1 of the deferred
  // instruction (Insn.flagsFrom) for the loop to write its record before their handler.
  let dead = false;
  let moves = false;
  let killer = 0;
  let written = 0;
  for (let k = insns.length - 1; k >= 0; k--) {
    const ins = insns[k];
    const use = flagUse(ins);
    if (dead && !moves && (use === KILL || use === READ)) ins.kind = deadKind(ins.kind);
    else if (dead && use === KILL && ((written >> ins.r1) & 1) === 0 && deferKind(ins.kind) !== ins.kind) {
      ins.kind = deferKind(ins.kind);
      for (let m = k + 1; m < killer; m++) if (flagUse(insns[m]) === MOVE) insns[m].flagsFrom = k + 1;
    }
    // INC and DEC keep CF: the flags before them stay live.
    if (use === KILL) {
      dead = true;
      moves = false;
      killer = k;
      written = 0;
    } else if (use === READ) {
      dead = false;
    } else {
      if (use === MOVE) moves = true;
      written |= regsWritten(ins);
    }
  }
}

/**
 * Writes the lazy flags record of flag-deferred instruction `d` (ADD or SUB r32, imm) into state
 * `s`, as its handler would have: the first operand from the result it left in its register,
 * which nothing after it in the block has written since (deadFlags).
 */
export function deferredRecord(s: Int32Array, d: Insn): void {
  const r = s[d.r1];
  const sub = d.kind === FK.SUB_RI32_DF;
  s[S_LF_OP] = sub ? SUB32 : ADD32;
  s[S_LF_A] = sub ? r + d.imm : r - d.imm;
  s[S_LF_B] = d.imm;
  s[S_LF_RES] = r;
}

/** The flag-deferred form of kind `kind` (ADD and SUB r32, imm), or `kind` when it has none. */
function deferKind(kind: number): number {
  if (kind === FK.ADD_RI32) return FK.ADD_RI32_DF;
  if (kind === FK.SUB_RI32) return FK.SUB_RI32_DF;
  return kind;
}

/**
 * The kinds that depend on a decoded block's neighbours: each conditional branch is fused with
 * the instruction before it when that has a fused kind, then the flag-dead kinds are given, then
 * the branches to later instructions of the block (blockSkips).
 * Returns the number of conditional branches before the last instruction and of followed
 * jumps and calls (Block.exits: the JIT never takes such a block).
 */
export function blockKinds(insns: Insn[]): number {
  // A followed jump or call whose target could not go into the block (an instruction there
  // crossing the page, target 0) ends it after all.
  const last = insns[insns.length - 1];
  if (last.kind === FK.JMP_IN) last.kind = FK.JMP;
  else if (last.kind === FK.CALL32_IN) last.kind = FK.CALL32;
  let exits = 0;
  for (let k = 0; k < insns.length; k++) {
    if (insns[k].kind === FK.JMP_IN || insns[k].kind === FK.CALL32_IN) exits++;
    if (!isCondBranch(insns[k].kind)) continue;
    if (k < insns.length - 1) exits++;
    if (k > 0) insns[k - 1].kind = fuse(insns[k - 1]);
  }
  deadFlags(insns);
  blockSkips(insns);
  addRet(insns);
  return exits;
}

/**
 * ADD ESP, imm before the RET that ends a block gets FK.ADD_RET, after deadFlags and blockSkips
 * (which see the two apart; the ADD's record is live there, since RET may fault).
 */
function addRet(insns: Insn[]): void {
  const n = insns.length;
  const add = n >= 2 ? insns[n - 2] : null;
  if (add !== null && insns[n - 1].kind === FK.RET32 && add.kind === FK.ADD_RI32 && add.r1 === REG_ESP) add.kind = FK.ADD_RET;
}

/**
 * Gives each conditional branch of a decoded block (after deadFlags) whose target is a later
 * instruction of the block, not the next one, that instruction's index (Insn.skip): from there
 * on, the block's instructions are what decoding from the target gives. Not where the target is
 * inside a flag-deferred window (an instruction from it on would write the record of a deferred
 * instruction that the skip passed over).
 */
function blockSkips(insns: Insn[]): void {
  for (let k = 0; k < insns.length - 1; k++) {
    const j = insns[k];
    if (!isCondBranch(j.kind)) continue;
    let m = k + 2;
    while (m < insns.length && insns[m].eip !== j.target) m++;
    if (m >= insns.length) continue;
    let inWindow = false;
    for (let q = m; q < insns.length; q++) if (insns[q].flagsFrom !== 0 && insns[q].flagsFrom - 1 < m) inWindow = true;
    if (!inWindow) j.skip = m;
  }
}

/** Decode mode bit 0 (Cpu.modeKey): 32-bit code. */
const MODE_CODE32 = 1;

/**
 * Whether the decoder goes on at the target of `ins` (decoder.ts decodeBlock, JIT off): a JMP rel
 * or CALL rel32 in 32-bit code whose target (linear `to`) is in the page of the block's start
 * (linear `lin`), so that the block's bytes stay in one frame. Gives `ins` its followed kind.
 * A jump to the next instruction (`jmp $+2`) is not followed: it stays a way to end a block.
 */
export function follow(ins: Insn, to: number, lin: number, mode: number): boolean {
  if ((mode & MODE_CODE32) === 0 || ((to ^ lin) >>> 12) !== 0 || ins.target === ins.next) return false;
  if (ins.kind === FK.JMP) ins.kind = FK.JMP_IN;
  else if (ins.kind === FK.CALL32) ins.kind = FK.CALL32_IN;
  else return false;
  return true;
}

/**
 * Handler -> kind maps, built at the first classify() (the handler modules and the decoder
 * import each other, so they may not be initialised yet when this module is).
 */
let regKinds: Map<unknown, number> | null = null;
let memKinds: Map<unknown, number> | null = null;

function buildMaps(): void {
  regKinds = new Map<unknown, number>([
  [DATA_FAST_HANDLERS.movRR32, FK.MOV_RR32],
  [DATA_FAST_HANDLERS.movRI32, FK.MOV_RI32],
  [ALU_FAST_HANDLERS.inc32, FK.INC32],
  [ALU_FAST_HANDLERS.dec32, FK.DEC32],
  [SHIFT_FAST_HANDLERS.shl32RegImm, FK.SHL32_RI],
  [SHIFT_FAST_HANDLERS.shr32RegImm, FK.SHR32_RI],
  [ALU_FAST_HANDLERS.aluRR32, FK.ALU_RR32],
  [ALU_FAST_HANDLERS.aluRI32, FK.ALU_RI32],
  [ALU_FAST_HANDLERS.aluRR8, FK.ALU_RR8],
  [ALU_FAST_HANDLERS.aluRI8, FK.ALU_RI8],
  [CONTROL_FAST_HANDLERS.jmpRel, FK.JMP],
  [CONTROL_FAST_HANDLERS.jz, FK.JZ],
  [CONTROL_FAST_HANDLERS.jnz, FK.JNZ],
  [CONTROL_FAST_HANDLERS.jb, FK.JB],
  [CONTROL_FAST_HANDLERS.jae, FK.JAE],
  [CONTROL_FAST_HANDLERS.jcc, FK.JCC],
  [CONTROL_FAST_HANDLERS.callRel32, FK.CALL32],
  [CONTROL_FAST_HANDLERS.ret32, FK.RET32],
  [STACK_FAST_HANDLERS.push32r, FK.PUSH32R],
  [STACK_FAST_HANDLERS.pushImm32, FK.PUSH_IMM32],
  [STACK_FAST_HANDLERS.pop32r, FK.POP32R],
  ]);
  // Kinds with a memory operand; only for 32-bit addressing (a16 keeps the handler).
  memKinds = new Map<unknown, number>([
  [DATA_FAST_HANDLERS.movRM32, FK.MOV_RM32],
  [DATA_FAST_HANDLERS.movRM8, FK.MOV_RM8],
  [DATA_FAST_HANDLERS.lea32, FK.LEA32],
  [ALU_FAST_HANDLERS.aluRM32, FK.ALU_RM32],
  [ALU_FAST_HANDLERS.aluRM8, FK.ALU_RM8],
  [STACK_FAST_HANDLERS.pushMem32, FK.PUSH_MEM32],
  [DATA_FAST_HANDLERS.movMR32, FK.MOV_MR32],
  [DATA_FAST_HANDLERS.movMI32, FK.MOV_MI32],
  [DATA_FAST_HANDLERS.movMR8, FK.MOV_MR8],
  [DATA_FAST_HANDLERS.movMI8, FK.MOV_MI8],
  ]);
}

/** The fast kind of a decoded instruction (FK.CALL when it has none). */
export function classify(ins: Insn): number {
  if (regKinds === null || memKinds === null) buildMaps();
  const fn = ins.fn;
  const reg = regKinds?.get(fn);
  if (reg === FK.ALU_RR32 || reg === FK.ALU_RI32) return aluKind(reg, ins.op);
  if (reg !== undefined) return reg;
  if (ins.a16) return FK.CALL;
  const mem = memKinds?.get(fn);
  if (mem !== undefined) return mem;
  // A memory first operand: CMP and TEST only read it.
  const read = ins.op >= ALU_CMP;
  if (fn === ALU_FAST_HANDLERS.aluMR32) return read ? FK.ALU_MR32_READ : FK.ALU_MR32;
  if (fn === ALU_FAST_HANDLERS.aluMI32) return read ? FK.ALU_MI32_READ : FK.ALU_MI32;
  if (fn === ALU_FAST_HANDLERS.aluMR8) return read ? FK.ALU_MR8_READ : FK.ALU_MR8;
  if (fn === ALU_FAST_HANDLERS.aluMI8) return read ? FK.ALU_MI8_READ : FK.ALU_MI8;
  if (ins.mnem === 'MOVZX' && ins.size === 4 && ins.imm === 1) {
    return ((ins.form >> 4) & 0xf) === OP_MEM ? FK.MOVZX_RM8 : FK.MOVZX_RR8;
  }
  return FK.CALL;
}

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
 * then kinds with a memory operand that is read (from K_MEM_READ), then kinds that write their
 * memory operand (from K_MEM_WRITE), so the memory operand's translation is written once.
 */
import type { Insn } from './insn';
import { OP_MEM } from './decoder';
import { ALU_FAST_HANDLERS } from './handlers/alu';
import { CONTROL_FAST_HANDLERS } from './handlers/control';
import { DATA_FAST_HANDLERS } from './handlers/data';
import { SHIFT_FAST_HANDLERS } from './handlers/shift';
import { STACK_FAST_HANDLERS } from './handlers/stack';

/** No fast path: call the handler. */
export const K_CALL = 0;
// Register and immediate operands only.
export const K_MOV_RR32 = 1;
export const K_MOV_RI32 = 2;
export const K_LEA32 = 3;
export const K_INC32 = 4;
export const K_DEC32 = 5;
export const K_SHL32_RI = 6;
export const K_SHR32_RI = 7;
export const K_ALU_RR32 = 8;
export const K_ALU_RI32 = 9;
export const K_JMP = 10;
export const K_JZ = 11;
export const K_JNZ = 12;
export const K_JB = 13;
export const K_JAE = 14;
export const K_JCC = 15;
export const K_CALL32 = 16;
export const K_RET32 = 17;
export const K_PUSH32R = 18;
export const K_PUSH_IMM32 = 19;
export const K_POP32R = 20;
export const K_MOVZX_RR8 = 21;
export const K_ALU_RR8 = 22;
export const K_ALU_RI8 = 23;
/** First kind whose memory operand is read (32-bit addressing, read permission). */
export const K_MEM_READ = 32;
export const K_MOV_RM32 = 32;
export const K_MOV_RM8 = 33;
export const K_MOVZX_RM8 = 34;
export const K_ALU_RM32 = 35;
/** CMP and TEST with a memory first operand: read only. */
export const K_ALU_MR32_READ = 36;
export const K_PUSH_MEM32 = 37;
export const K_ALU_MI32_READ = 38;
export const K_ALU_RM8 = 39;
export const K_ALU_MR8_READ = 40;
export const K_ALU_MI8_READ = 41;
/** First kind whose memory operand is written (write permission, no decoded code in its frame). */
export const K_MEM_WRITE = 48;
export const K_MOV_MR32 = 48;
export const K_MOV_MI32 = 49;
export const K_MOV_MR8 = 50;
export const K_MOV_MI8 = 51;
/** ALU read-modify-write of memory (ADD OR ADC SBB AND SUB XOR), register or immediate source. */
export const K_ALU_MR32 = 52;
export const K_ALU_MI32 = 53;
export const K_ALU_MR8 = 54;
export const K_ALU_MI8 = 55;

/** The ALU op number of CMP (handlers/alu.ts): it and TEST write no result. */
const ALU_CMP = 7;

/**
 * Handler -> kind maps, built at the first classify() (the handler modules and the decoder
 * import each other, so they may not be initialised yet when this module is).
 */
let regKinds: Map<unknown, number> | null = null;
let memKinds: Map<unknown, number> | null = null;

function buildMaps(): void {
  regKinds = new Map<unknown, number>([
  [DATA_FAST_HANDLERS.movRR32, K_MOV_RR32],
  [DATA_FAST_HANDLERS.movRI32, K_MOV_RI32],
  [ALU_FAST_HANDLERS.inc32, K_INC32],
  [ALU_FAST_HANDLERS.dec32, K_DEC32],
  [SHIFT_FAST_HANDLERS.shl32RegImm, K_SHL32_RI],
  [SHIFT_FAST_HANDLERS.shr32RegImm, K_SHR32_RI],
  [ALU_FAST_HANDLERS.aluRR32, K_ALU_RR32],
  [ALU_FAST_HANDLERS.aluRI32, K_ALU_RI32],
  [ALU_FAST_HANDLERS.aluRR8, K_ALU_RR8],
  [ALU_FAST_HANDLERS.aluRI8, K_ALU_RI8],
  [CONTROL_FAST_HANDLERS.jmpRel, K_JMP],
  [CONTROL_FAST_HANDLERS.jz, K_JZ],
  [CONTROL_FAST_HANDLERS.jnz, K_JNZ],
  [CONTROL_FAST_HANDLERS.jb, K_JB],
  [CONTROL_FAST_HANDLERS.jae, K_JAE],
  [CONTROL_FAST_HANDLERS.jcc, K_JCC],
  [CONTROL_FAST_HANDLERS.callRel32, K_CALL32],
  [CONTROL_FAST_HANDLERS.ret32, K_RET32],
  [STACK_FAST_HANDLERS.push32r, K_PUSH32R],
  [STACK_FAST_HANDLERS.pushImm32, K_PUSH_IMM32],
  [STACK_FAST_HANDLERS.pop32r, K_POP32R],
  ]);
  // Kinds with a memory operand; only for 32-bit addressing (a16 keeps the handler).
  memKinds = new Map<unknown, number>([
  [DATA_FAST_HANDLERS.movRM32, K_MOV_RM32],
  [DATA_FAST_HANDLERS.movRM8, K_MOV_RM8],
  [DATA_FAST_HANDLERS.lea32, K_LEA32],
  [ALU_FAST_HANDLERS.aluRM32, K_ALU_RM32],
  [ALU_FAST_HANDLERS.aluRM8, K_ALU_RM8],
  [STACK_FAST_HANDLERS.pushMem32, K_PUSH_MEM32],
  [DATA_FAST_HANDLERS.movMR32, K_MOV_MR32],
  [DATA_FAST_HANDLERS.movMI32, K_MOV_MI32],
  [DATA_FAST_HANDLERS.movMR8, K_MOV_MR8],
  [DATA_FAST_HANDLERS.movMI8, K_MOV_MI8],
  ]);
}

/** The fast kind of a decoded instruction (K_CALL when it has none). */
export function classify(ins: Insn): number {
  if (regKinds === null || memKinds === null) buildMaps();
  const fn = ins.fn;
  const reg = regKinds?.get(fn);
  if (reg !== undefined) return reg;
  if (ins.a16) return K_CALL;
  const mem = memKinds?.get(fn);
  if (mem !== undefined) return mem;
  // A memory first operand: CMP and TEST only read it.
  const read = ins.op >= ALU_CMP;
  if (fn === ALU_FAST_HANDLERS.aluMR32) return read ? K_ALU_MR32_READ : K_ALU_MR32;
  if (fn === ALU_FAST_HANDLERS.aluMI32) return read ? K_ALU_MI32_READ : K_ALU_MI32;
  if (fn === ALU_FAST_HANDLERS.aluMR8) return read ? K_ALU_MR8_READ : K_ALU_MR8;
  if (fn === ALU_FAST_HANDLERS.aluMI8) return read ? K_ALU_MI8_READ : K_ALU_MI8;
  if (ins.mnem === 'MOVZX' && ins.size === 4 && ins.imm === 1) {
    return ((ins.form >> 4) & 0xf) === OP_MEM ? K_MOVZX_RM8 : K_MOVZX_RR8;
  }
  return K_CALL;
}

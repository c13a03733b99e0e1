/**
 * The interpreter's block loop: runs a decoded block's instructions, then the block's cached
 * successor while it has one (run-blocks.ts does the rest between blocks). The frequent forms
 * (fast-kinds.ts) run inline in one switch; every other instruction, and a fast form whose
 * preconditions do not hold (TLB miss, segment not flat, unaligned or page-crossing access, store
 * into a frame holding code, branch target past the CS limit), calls its handler. Inline code
 * changes state exactly as the handler would, except that flag-dead and flag-deferred kinds
 * (fast-kinds.ts deadFlags) leave the record to the instruction that overwrites it.
 * Why: the call through `ins.fn` is megamorphic (hundreds of handler closures: V8's generic Call
 * builtins, a frame per handler); a switch over small integers compiles to a jump table.
 * Faults: inline code raises nothing; handlers throw FAULT, and the loop records the faulting
 * block and instruction index in cpu.faultBlock and cpu.faultIndex for the run loop.
 */
import type { Cpu } from './cpu';
import type { Block } from './insn';
import { alu32, alu8 } from './handlers/alu';
import { cond, LF_ADD, LF_DEC, LF_INC, LF_LOGIC, LF_SHL, LF_SHR, LF_SUB, SZ32, SZ8, getCF } from './lazy-flags';
import { TLB_MASK } from './mmu';
import { deferredRecord, FK } from './fast-kinds';
import { ESP, S_EFLAGS, S_EIP, S_LF_A, S_LF_AUX, S_LF_B, S_LF_OP, S_LF_RES, SEG_SS, ZF } from './state';

// ALU op numbers (handlers/alu.ts, group-1 order).
const ADD = 0, OR = 1, ADC = 2, SBB = 3, AND = 4, SUB = 5, XOR = 6, CMP = 7, TEST = 8;

// Lazy records (lazy-flags.ts: op << 2 | size).
const ADD32 = (LF_ADD << 2) | SZ32, SUB32 = (LF_SUB << 2) | SZ32, LOGIC32 = (LF_LOGIC << 2) | SZ32;
const INC32 = (LF_INC << 2) | SZ32, DEC32 = (LF_DEC << 2) | SZ32, SHL32 = (LF_SHL << 2) | SZ32, SHR32 = (LF_SHR << 2) | SZ32;
const ADD8 = (LF_ADD << 2) | SZ8, SUB8 = (LF_SUB << 2) | SZ8, LOGIC8 = (LF_LOGIC << 2) | SZ8;
/** Condition codes (SDM Vol. 2 Table B-1, the low nibble of Jcc) the fused kinds test inline. */
const CC_B = 0x2, CC_AE = 0x3, CC_Z = 0x4, CC_NZ = 0x5, CC_BE = 0x6, CC_A = 0x7;
const CC_L = 0xc, CC_GE = 0xd, CC_LE = 0xe, CC_G = 0xf;
/** The low byte of an immediate (8-bit operand size). */
const BYTE_MASK = 0xff;
/** Offset bits of a 4-KiB page. */
const PAGE_MASK = 0xfff;
/** The low two bits of a machine offset: a dword access must have them clear for mem32. */
const DWORD_MISALIGN = 3;
/** Bytes of a pushed or popped dword. */
const DWORD = 4;
/** Most instructions one execBlocks call retires (the run loop checks the budget again): a small integer count. */
const RUN_CAP = 0x3fffffff;

/**
 * Runs block `first` (the instructions up to a taken exit of a superblock: decoder.ts), adding
 * them to cpu.icount, then its cached successor link for the new EIP while that is valid in its
 * frame's code generation, not for the JIT, and nothing needs the run loop (attention, the budget
 * `limit`, a mode change). Returns the last block run (run-blocks.ts links its successor). On a
 * fault, cpu.faultBlock is the block and cpu.faultIndex the index of the faulting instruction.
 */
export function execBlocks(cpu: Cpu, first: Block, limit: number): Block {
  const s = cpu.s;
  const { mem32, mem8, codeMark, codeGen } = cpu.phys;
  const jit = cpu.jit.enabled;
  // Views fixed for the Cpu's life (the attention word is placed before a run).
  const segBase = cpu.segBase;
  const tlbOff = cpu.tlbOff;
  const r8 = cpu.r8;
  const attn = cpu.attn;
  const attnIdx = cpu.attnIdx;
  // Retired instructions: a small integer against an allowance (the budget, capped), written to
  // cpu.icount before handler calls and on the way out; what a handler may change that stops the
  // run (local attention, single-step mode, link epoch) is read after it.
  const base = cpu.icount;
  const epoch = cpu.linkEpoch;
  const allowance = limit - base;
  let left = allowance > RUN_CAP ? RUN_CAP : allowance > 0 ? allowance | 0 : 0;
  let done = 0;
  // Instructions of the running block passed over by taken branches to a later instruction (Insn.skip).
  let skipped = 0;
  let b = first;
  let list = b.insns;
  let n = list.length;
  let k = 0;
  s[S_EIP] = b.endEip;
  try {
    for (;;) {
      for (k = 0; k < n; k++) {
        let i = list[k];
        let kind = i.kind;
        let off = 0;
        if (kind > FK.MEM_READ) {
          // The memory operand (32-bit addressing): its machine offset if the TLB has the page
          // with the access allowed (and, for a store, no decoded code in the frame).
          const seg = i.seg;
          const lin = (s[i.base] + (s[i.index] << i.scale) + i.disp + segBase[seg]) | 0;
          const lpage = lin >>> 12;
          const idx = lpage & TLB_MASK;
          off = tlbOff[idx] + (lin & PAGE_MASK);
          if (kind < FK.MEM_WRITE) {
            if (((cpu.segOkR >> seg) & 1) === 0 || cpu.tagR[idx] !== lpage) kind = FK.CALL;
          } else if (((cpu.segOkW >> seg) & 1) === 0 || cpu.tagW[idx] !== lpage || codeMark[off >>> 12] !== 0) {
            kind = FK.CALL;
          }
        }
        // Set when the handler must run (no fast kind, or its preconditions do not hold): one
        // call site for every handler, so V8 never specialises it to a few targets.
        let slow = false;
        switch (kind) {
          case FK.MOV_RR32: s[i.r1] = s[i.r2]; break;
          case FK.MOV_RI32: s[i.r1] = i.imm; break;
          case FK.LEA32:
            s[i.r1] = (s[i.base] + (s[i.index] << i.scale) + i.disp) | 0;
            break;
          case FK.MOVZX_RR8: s[i.r1] = r8[i.r2]; break;
          case FK.MOV_RM32:
            if ((off & DWORD_MISALIGN) !== 0) slow = true;
            else s[i.r1] = mem32[off >> 2];
            break;
          case FK.MOV_RM8: r8[i.r1] = mem8[off]; break;
          case FK.MOVZX_RM8: s[i.r1] = mem8[off]; break;
          case FK.MOV_MR32:
            if ((off & DWORD_MISALIGN) !== 0) slow = true;
            else mem32[off >> 2] = s[i.r2];
            break;
          case FK.MOV_MI32:
            if ((off & DWORD_MISALIGN) !== 0) slow = true;
            else mem32[off >> 2] = i.imm;
            break;
          case FK.MOV_MR8: mem8[off] = r8[i.r2]; break;
          case FK.MOV_MI8: mem8[off] = i.imm; break;
          // The register forms, one op each: operands as aluRR32/aluRI32 read them, alu32's record.
          case FK.ADD_RR32:
          case FK.ADD_RI32: {
            const a = s[i.r1];
            const v = kind === FK.ADD_RR32 ? s[i.r2] : i.imm;
            const r = (a + v) | 0;
            s[S_LF_OP] = ADD32;
            s[S_LF_A] = a;
            s[S_LF_B] = v;
            s[S_LF_RES] = r;
            s[i.r1] = r;
            break;
          }
          case FK.SUB_RR32: case FK.SUB_RI32: case FK.CMP_RR32: case FK.CMP_RI32: {
            const a = s[i.r1];
            const v = kind === FK.SUB_RR32 || kind === FK.CMP_RR32 ? s[i.r2] : i.imm;
            const r = (a - v) | 0;
            s[S_LF_OP] = SUB32;
            s[S_LF_A] = a;
            s[S_LF_B] = v;
            s[S_LF_RES] = r;
            if (kind <= FK.SUB_RI32) s[i.r1] = r;
            break;
          }
          case FK.AND_RR32: case FK.AND_RI32: case FK.TEST_RR32: case FK.TEST_RI32:
          case FK.OR_RR32: case FK.OR_RI32: case FK.XOR_RR32: case FK.XOR_RI32: {
            // The kinds come in pairs, register form first (even), immediate form second.
            const a = s[i.r1];
            const v = (kind & 1) === 0 ? s[i.r2] : i.imm;
            const r = kind <= FK.TEST_RI32 ? a & v : kind <= FK.OR_RI32 ? a | v : a ^ v;
            s[S_LF_OP] = LOGIC32;
            s[S_LF_A] = a;
            s[S_LF_B] = v;
            s[S_LF_RES] = r;
            if (kind < FK.TEST_RR32 || kind > FK.TEST_RI32) s[i.r1] = r;
            break;
          }
          case FK.ALU_RR32: case FK.ALU_RI32: case FK.ALU_RM32: case FK.ALU_MR32_READ:
          case FK.ALU_MI32_READ: case FK.ALU_MR32: case FK.ALU_MI32: {
            // Operands as aluRR32/RI32/RM32/MR32/MI32 (handlers/alu.ts) read them, then alu32's record.
            let a: number;
            let v: number;
            if (kind === FK.ALU_RR32) {
              a = s[i.r1];
              v = s[i.r2];
            } else if (kind === FK.ALU_RI32) {
              a = s[i.r1];
              v = i.imm;
            } else if ((off & DWORD_MISALIGN) !== 0) {
              slow = true;
              break;
            } else if (kind === FK.ALU_RM32) {
              a = s[i.r1];
              v = mem32[off >> 2];
            } else {
              a = mem32[off >> 2];
              v = kind === FK.ALU_MR32 || kind === FK.ALU_MR32_READ ? s[i.r2] : i.imm;
            }
            const op = i.op;
            let r: number;
            switch (op) {
              case ADD:
                r = (a + v) | 0;
                s[S_LF_OP] = ADD32;
                break;
              case SUB:
              case CMP:
                r = (a - v) | 0;
                s[S_LF_OP] = SUB32;
                break;
              case AND:
              case TEST:
                r = a & v;
                s[S_LF_OP] = LOGIC32;
                break;
              case OR:
                r = a | v;
                s[S_LF_OP] = LOGIC32;
                break;
              case XOR:
                r = a ^ v;
                s[S_LF_OP] = LOGIC32;
                break;
              default:
                // ADC and SBB need the carry: alu32 writes the whole record.
                r = alu32(cpu, op, a, v);
                break;
            }
            if (op !== ADC && op !== SBB) {
              s[S_LF_A] = a;
              s[S_LF_B] = v;
              s[S_LF_RES] = r;
            }
            if (op < CMP) {
              if (kind === FK.ALU_MR32 || kind === FK.ALU_MI32) mem32[off >> 2] = r;
              else s[i.r1] = r;
            }
            break;
          }
          case FK.ALU_RR8: case FK.ALU_RI8: case FK.ALU_RM8: case FK.ALU_MR8_READ:
          case FK.ALU_MI8_READ: case FK.ALU_MR8: case FK.ALU_MI8: {
            // The 8-bit forms (aluRR8 ... aluMI8) with alu8's record: operands and result zero-extended.
            let a: number;
            let v: number;
            if (kind === FK.ALU_RR8) {
              a = r8[i.r1];
              v = r8[i.r2];
            } else if (kind === FK.ALU_RI8) {
              a = r8[i.r1];
              v = i.imm & BYTE_MASK;
            } else if (kind === FK.ALU_RM8) {
              a = r8[i.r1];
              v = mem8[off];
            } else {
              a = mem8[off];
              v = kind === FK.ALU_MR8 || kind === FK.ALU_MR8_READ ? r8[i.r2] : i.imm & BYTE_MASK;
            }
            const op = i.op;
            let r: number;
            switch (op) {
              case ADD:
                r = (a + v) & BYTE_MASK;
                s[S_LF_OP] = ADD8;
                break;
              case SUB:
              case CMP:
                r = (a - v) & BYTE_MASK;
                s[S_LF_OP] = SUB8;
                break;
              case AND:
              case TEST:
                r = a & v;
                s[S_LF_OP] = LOGIC8;
                break;
              case OR:
                r = a | v;
                s[S_LF_OP] = LOGIC8;
                break;
              case XOR:
                r = a ^ v;
                s[S_LF_OP] = LOGIC8;
                break;
              default:
                r = alu8(cpu, op, a, v);
                break;
            }
            if (op !== ADC && op !== SBB) {
              s[S_LF_A] = a;
              s[S_LF_B] = v;
              s[S_LF_RES] = r;
            }
            if (op < CMP) {
              if (kind === FK.ALU_MR8 || kind === FK.ALU_MI8) mem8[off] = r;
              else r8[i.r1] = r;
            }
            break;
          }
          // The flag-dead forms (fast-kinds.ts deadFlags): the register only. Pairs as above.
          case FK.INC32_NF: s[i.r1] = (s[i.r1] + 1) | 0; break;
          case FK.DEC32_NF: s[i.r1] = (s[i.r1] - 1) | 0; break;
          case FK.SHL32_NF: s[i.r1] = s[i.r1] << (i.imm & 31); break;
          case FK.SHR32_NF: s[i.r1] = s[i.r1] >>> (i.imm & 31); break;
          case FK.ADD_RR32_NF: case FK.ADD_RI32_NF: s[i.r1] = (s[i.r1] + ((kind & 1) === 0 ? s[i.r2] : i.imm)) | 0; break;
          case FK.SUB_RR32_NF: case FK.SUB_RI32_NF: s[i.r1] = (s[i.r1] - ((kind & 1) === 0 ? s[i.r2] : i.imm)) | 0; break;
          case FK.AND_RR32_NF: case FK.AND_RI32_NF: s[i.r1] = s[i.r1] & ((kind & 1) === 0 ? s[i.r2] : i.imm); break;
          case FK.OR_RR32_NF: case FK.OR_RI32_NF: s[i.r1] = s[i.r1] | ((kind & 1) === 0 ? s[i.r2] : i.imm); break;
          case FK.XOR_RR32_NF: case FK.XOR_RI32_NF: s[i.r1] = s[i.r1] ^ ((kind & 1) === 0 ? s[i.r2] : i.imm); break;
          // The flag-deferred forms: the register only (the record is written before a handler).
          case FK.ADD_RI32_DF: s[i.r1] = (s[i.r1] + i.imm) | 0; break;
          case FK.SUB_RI32_DF: s[i.r1] = (s[i.r1] - i.imm) | 0; break;
          case FK.INC32:
          case FK.DEC32: {
            // inc32/dec32 (handlers/alu.ts): CF is kept, so it is computed from the old record.
            const v = s[i.r1];
            const r = kind === FK.INC32 ? (v + 1) | 0 : (v - 1) | 0;
            const lf = s[S_LF_OP];
            let c: number;
            if (lf === DEC32 || lf === INC32) c = s[S_LF_AUX] & 1;
            else if (lf === SUB32) c = s[S_LF_A] >>> 0 < s[S_LF_B] >>> 0 ? 1 : 0;
            else if (lf === ADD32) c = s[S_LF_RES] >>> 0 < s[S_LF_A] >>> 0 ? 1 : 0;
            else if (lf === LOGIC32) c = 0;
            else c = getCF(cpu);
            s[S_LF_AUX] = c;
            s[S_LF_OP] = kind === FK.INC32 ? INC32 : DEC32;
            s[S_LF_A] = v;
            s[S_LF_B] = 1;
            s[S_LF_RES] = r;
            s[i.r1] = r;
            break;
          }
          case FK.SHL32_RI: {
            const v = s[i.r1];
            const c = i.imm & 31;
            if (c === 0) break;
            const res = v << c;
            s[S_LF_OP] = SHL32;
            s[S_LF_A] = v;
            s[S_LF_B] = 0;
            s[S_LF_RES] = res;
            s[S_LF_AUX] = (v >>> (32 - c)) & 1;
            s[i.r1] = res;
            break;
          }
          case FK.SHR32_RI: {
            const v = s[i.r1];
            const c = i.imm & 31;
            if (c === 0) break;
            const before = v >>> (c - 1);
            const res = before >>> 1;
            s[S_LF_OP] = SHR32;
            s[S_LF_A] = before | 0;
            s[S_LF_B] = 0;
            s[S_LF_RES] = res | 0;
            s[S_LF_AUX] = before & 1;
            s[i.r1] = res;
            break;
          }
          case FK.CMP_RR32_J:
          case FK.CMP_RI32_J:
          case FK.TEST_RR32_J:
          case FK.TEST_RI32_J:
          case FK.DEC32_J:
          case FK.INC32_J: {
            // The instruction, then the conditional branch after it (fast-kinds.ts fuse): the
            // record and registers as the pair leaves them; the condition from the values just
            // computed where that is simple, else from the record through cond().
            const a = s[i.r1];
            const j = list[k + 1];
            const cc = j.op;
            let r: number;
            let taken: boolean;
            if (kind <= FK.CMP_RI32_J) {
              // An immediate may be held unsigned: the signed compares need it as an int32.
              const v = (kind === FK.CMP_RR32_J ? s[i.r2] : i.imm) | 0;
              r = (a - v) | 0;
              s[S_LF_OP] = SUB32;
              s[S_LF_A] = a;
              s[S_LF_B] = v;
              s[S_LF_RES] = r;
              if (i.op === SUB) s[i.r1] = r;
              switch (cc) {
                case CC_B: taken = a >>> 0 < v >>> 0; break;
                case CC_AE: taken = a >>> 0 >= v >>> 0; break;
                case CC_Z: taken = r === 0; break;
                case CC_NZ: taken = r !== 0; break;
                case CC_BE: taken = a >>> 0 <= v >>> 0; break;
                case CC_A: taken = a >>> 0 > v >>> 0; break;
                case CC_L: taken = a < v; break;
                case CC_GE: taken = a >= v; break;
                case CC_LE: taken = a <= v; break;
                case CC_G: taken = a > v; break;
                default: taken = cond(cpu, cc) !== 0;
              }
            } else {
              if (kind <= FK.TEST_RI32_J) {
                const v = kind === FK.TEST_RR32_J ? s[i.r2] : i.imm;
                r = a & v;
                s[S_LF_OP] = LOGIC32;
                s[S_LF_A] = a;
                s[S_LF_B] = v;
                if (i.op === AND) s[i.r1] = r;
              } else {
                // As INC32/DEC32 above: CF kept from the old record.
                r = kind === FK.INC32_J ? (a + 1) | 0 : (a - 1) | 0;
                const lf = s[S_LF_OP];
                let c: number;
                if (lf === DEC32 || lf === INC32) c = s[S_LF_AUX] & 1;
                else if (lf === SUB32) c = s[S_LF_A] >>> 0 < s[S_LF_B] >>> 0 ? 1 : 0;
                else if (lf === ADD32) c = s[S_LF_RES] >>> 0 < s[S_LF_A] >>> 0 ? 1 : 0;
                else if (lf === LOGIC32) c = 0;
                else c = getCF(cpu);
                s[S_LF_AUX] = c;
                s[S_LF_OP] = kind === FK.INC32_J ? INC32 : DEC32;
                s[S_LF_A] = a;
                s[S_LF_B] = 1;
                s[i.r1] = r;
              }
              s[S_LF_RES] = r;
              if (cc === CC_NZ) taken = r !== 0;
              else if (cc === CC_Z) taken = r === 0;
              else taken = cond(cpu, cc) !== 0;
            }
            // The branch has run too.
            k++;
            if (!taken) break;
            if (j.target >>> 0 > cpu.csLimit) {
              // #GP from the branch's handler, with the branch as the faulting instruction.
              i = j;
              kind = j.kind;
              slow = true;
              break;
            }
            if (j.skip !== 0) {
              // The target is a later instruction of this block (Insn.skip): go on there.
              skipped += j.skip - k - 1;
              k = j.skip - 1;
              break;
            }
            s[S_EIP] = j.target;
            n = k + 1;
            break;
          }
          case FK.JMP: case FK.JZ: case FK.JNZ: case FK.JB: case FK.JAE: case FK.JCC: {
            // jmpRel, jz, jnz, jb, jae, jcc (handlers/control.ts); the run loop set EIP past it.
            let taken: boolean;
            if (kind === FK.JMP) {
              taken = true;
            } else if (kind === FK.JZ || kind === FK.JNZ) {
              const z = s[S_LF_OP] !== 0 ? s[S_LF_RES] === 0 : (s[S_EFLAGS] & ZF) !== 0;
              taken = z === (kind === FK.JZ);
            } else if (kind === FK.JCC) {
              taken = cond(cpu, i.op) !== 0;
            } else {
              const c = s[S_LF_OP] === SUB32 ? s[S_LF_A] >>> 0 < s[S_LF_B] >>> 0 : getCF(cpu) !== 0;
              taken = c === (kind === FK.JB);
            }
            if (!taken) break;
            // A target beyond the CS limit: the handler raises #GP.
            if (i.target >>> 0 > cpu.csLimit) {
              slow = true;
              break;
            }
            if (i.skip !== 0) {
              skipped += i.skip - k - 1;
              k = i.skip - 1;
              break;
            }
            s[S_EIP] = i.target;
            // Taken: the block ends here (a superblock goes on only past branches not taken).
            n = k + 1;
            break;
          }
          // A jump the decoder followed (fast-kinds.ts follow): only the handler's CS check.
          case FK.JMP_IN: slow = i.target >>> 0 > cpu.csLimit; break;
          case FK.CALL32:
          case FK.CALL32_IN: {
            // callRel32: push the return address as below, then the target (within CS; a
            // followed call leaves EIP at the block's end, the block goes on at the target).
            const lin = (s[ESP] - DWORD + segBase[SEG_SS]) | 0;
            const lpage = lin >>> 12;
            const idx = lpage & TLB_MASK;
            const o = tlbOff[idx] + (lin & PAGE_MASK);
            if (
              !cpu.ss32 || ((cpu.segOkW >> SEG_SS) & 1) === 0 || cpu.tagW[idx] !== lpage ||
              (o & DWORD_MISALIGN) !== 0 || codeMark[o >>> 12] !== 0 || i.target >>> 0 > cpu.csLimit
            ) {
              slow = true;
              break;
            }
            mem32[o >> 2] = i.next;
            s[ESP] = (s[ESP] - DWORD) | 0;
            if (kind === FK.CALL32) s[S_EIP] = i.target;
            break;
          }
          case FK.PUSH32R: case FK.PUSH_IMM32: case FK.PUSH_MEM32: {
            // push32r, pushImm32, pushMem32 (push32 in addressing.ts): a flat 32-bit stack, the
            // dword aligned in a TLB page writable without a code check.
            let v: number;
            if (kind === FK.PUSH32R) v = s[i.r1];
            else if (kind === FK.PUSH_IMM32) v = i.imm;
            else if ((off & DWORD_MISALIGN) === 0) v = mem32[off >> 2];
            else {
              slow = true;
              break;
            }
            const lin = (s[ESP] - DWORD + segBase[SEG_SS]) | 0;
            const lpage = lin >>> 12;
            const idx = lpage & TLB_MASK;
            const o = tlbOff[idx] + (lin & PAGE_MASK);
            if (
              !cpu.ss32 || ((cpu.segOkW >> SEG_SS) & 1) === 0 || cpu.tagW[idx] !== lpage ||
              (o & DWORD_MISALIGN) !== 0 || codeMark[o >>> 12] !== 0
            ) {
              slow = true;
              break;
            }
            mem32[o >> 2] = v;
            s[ESP] = (s[ESP] - DWORD) | 0;
            break;
          }
          case FK.ADD_RET: {
            // add esp, imm (ADD_RI32's record), then the RET after it (ret32 as below); when a
            // condition of the RET fails, its handler runs with the ADD retired.
            const a = s[ESP];
            const r = (a + i.imm) | 0;
            s[S_LF_OP] = ADD32;
            s[S_LF_A] = a;
            s[S_LF_B] = i.imm;
            s[S_LF_RES] = r;
            s[ESP] = r;
            const lin = (r + segBase[SEG_SS]) | 0;
            const lpage = lin >>> 12;
            const idx = lpage & TLB_MASK;
            const o = tlbOff[idx] + (lin & PAGE_MASK);
            i = list[++k];
            let t = 0;
            if (
              !cpu.ss32 || ((cpu.segOkR >> SEG_SS) & 1) === 0 || cpu.tagR[idx] !== lpage || (o & DWORD_MISALIGN) !== 0 ||
              (t = mem32[o >> 2]) >>> 0 > cpu.csLimit
            ) {
              kind = FK.RET32;
              slow = true;
              break;
            }
            s[ESP] = (r + DWORD) | 0;
            s[S_EIP] = t;
            break;
          }
          case FK.POP32R:
          case FK.RET32: {
            // pop32r, ret32 (pop32, peekStack): the same conditions for a read; RET's target in CS.
            const lin = (s[ESP] + segBase[SEG_SS]) | 0;
            const lpage = lin >>> 12;
            const idx = lpage & TLB_MASK;
            const o = tlbOff[idx] + (lin & PAGE_MASK);
            if (!cpu.ss32 || ((cpu.segOkR >> SEG_SS) & 1) === 0 || cpu.tagR[idx] !== lpage || (o & DWORD_MISALIGN) !== 0) {
              slow = true;
              break;
            }
            const v = mem32[o >> 2];
            if (kind === FK.RET32) {
              if (v >>> 0 > cpu.csLimit) {
                slow = true;
                break;
              }
              s[ESP] = (s[ESP] + DWORD) | 0;
              s[S_EIP] = v;
            } else {
              s[ESP] = (s[ESP] + DWORD) | 0;
              s[i.r1] = v;
            }
            break;
          }
          default:
            slow = true;
            break;
        }
        if (slow) {
          // What the handler may look at: the retired count and the running block's code bytes
          // (mmu.checkSmc), both kept out of the inline path.
          cpu.icount = base + done;
          cpu.curOff = b.spanOff;
          cpu.curBytes = b.bytes;
          // The record a flag-deferred instruction before this one left to be written.
          if (i.flagsFrom !== 0) deferredRecord(s, list[i.flagsFrom - 1]);
          i.fn(cpu, i);
          // A branch handler that returned took its branch (a fast branch calls it only then).
          if (kind >= FK.JMP && kind <= FK.JCC) n = k + 1;
          else if (kind === FK.JMP_IN || kind === FK.CALL32_IN) s[S_EIP] = b.endEip;
          // Something for the run loop: stop after this block.
          if (cpu.localAttention || cpu.slowMode || cpu.linkEpoch !== epoch) left = 0;
        }
      }
      done += n - skipped;
      skipped = 0;
      // The cached successor, when nothing needs the run loop and the successor is interpreted.
      if (done >= left || attn[attnIdx] !== 0 || b.linkEpoch !== epoch) break;
      const eip = s[S_EIP];
      const nb = b.succ0Eip === eip ? b.succ0 : b.succ1Eip === eip ? b.succ1 : null;
      if (nb === null || codeGen[nb.frame] !== nb.gen || (jit && nb.jitPage !== null)) break;
      b = nb;
      list = b.insns;
      n = list.length;
      s[S_EIP] = b.endEip;
    }
  } catch (e) {
    // The run loop adds the faulting instruction's index.
    cpu.icount = base + done - skipped;
    cpu.faultIndex = k;
    cpu.faultBlock = b;
    cpu.curOff = -1;
    throw e;
  }
  cpu.icount = base + done;
  cpu.curOff = -1;
  return b;
}

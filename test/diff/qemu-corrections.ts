/**
 * Corrections applied to QEMU's recordings before comparing, where QEMU 7.2 differs from what the
 * hardware (and the SDM, as far as it speaks) does in a way random cases keep hitting. Each one
 * is documented in docs/differential-testing.md; stored cases note which were applied. A
 * correction sets exactly the bits the manual requires in QEMU's recording, so the comparison
 * stays exact: our CPU must then produce those bits, and every other bit must still match.
 *
 * rmw-pf-write: a read-modify-write instruction (ALU op to memory, INC/DEC/NOT/NEG, shifts and
 * rotates, SHLD/SHRD, XCHG, XADD, CMPXCHG, CMPXCHG8B, BTS/BTR/BTC) that page-faults is reported by
 * QEMU with W/R=0 in the error code, because it performs the read half first. Processors read such
 * operands for writing (a locked RMW never reads without writing), so the fault is a write fault:
 * SDM Vol. 3A 4.7 "W/R flag (bit 1)... describes the access causing the page-fault exception";
 * Bochs translates the read of every RMW operand as a write access (read_RMW_linear_*).
 *
 * fault-rf: when a fault-class exception (#DE #BR #UD #NM #TS #NP #SS #GP #PF #MF #AC #XM, and a
 * general-detect #DB) is delivered in protected mode, the EFLAGS image pushed on the handler's
 * stack has RF (bit 16) set: SDM Vol. 3B 17.3.1.1 "For any fault-class exception except a debug
 * exception generated in response to an instruction breakpoint, the value pushed for RF is 1."
 * QEMU 7.2 TCG pushes RF clear. Software interrupts (INT n, INT3, INTO) and trap-class exceptions
 * push the RF the instruction ran with (0 here), so they are left alone, as are real-mode frames
 * (a 16-bit FLAGS image has no RF).
 */
import { caseMemRanges, CR0_PE, FLAG, linearIp, runnerSegmentBase, stackIs32, type CaseRecording, type DiffCase, type HarnessRegs } from './case';
import { peek } from './flags-mask';
import type { RunnerLayout } from './runner-layout';

/** Correction ids, as stored cases' `source` lines name them. */
export const CORRECTION = { rmwPfWrite: 'rmw-pf-write', faultRf: 'fault-rf' } as const;

/** #DB vector. */
const VECTOR_DB = 1;
/** #PF vector. */
const VECTOR_PF = 14;
/** Page-fault error code: the access was a write. */
const PF_ERR_WRITE = 0x2;

/**
 * Fault-class exception vectors (SDM Vol. 3A Table 6-1, type "Fault"): #DE 0, #BR 5, #UD 6,
 * #NM 7, #TS 10, #NP 11, #SS 12, #GP 13, #PF 14, #MF 16, #AC 17, #XM 19. #DB (1) is a fault only
 * for general detect, handled apart.
 */
export const FAULT_VECTORS: ReadonlySet<number> = new Set([0, 5, 6, 7, 10, 11, 12, 13, 14, 16, 17, 19]);
/** Exceptions that push an error code (SDM Vol. 3A Table 6-1): #DF #TS #NP #SS #GP #PF #AC. */
const ERROR_CODE_VECTORS: ReadonlySet<number> = new Set([8, 10, 11, 12, 13, 14, 17]);
/** Vectors whose runner IDT gate has DPL 3 (runner.asm: INT3, INTO and INT 0x80); the rest DPL 0. */
const RUNNER_USER_GATES: ReadonlySet<number> = new Set([3, 4, 0x80]);
/** INT3, INT imm8, INTO. */
const OP_INT3 = 0xcc;
const OP_INT = 0xcd;
const OP_INTO = 0xce;
/** MOV r32, DRn and MOV DRn, r32 (0F 21 / 0F 23): the instructions a general-detect #DB faults. */
const OP_MOV_FROM_DR = 0x0f21;
const OP_MOV_TO_DR = 0x0f23;
/** Byte of the pushed EFLAGS doubleword that holds RF (bit 16), and RF's bit in that byte. */
const RF_BYTE = 2;
const RF_BIT_IN_BYTE = FLAG.RF >>> 16;
/** Pushed by a 32-bit gate below the EFLAGS image: EIP and CS (4 bytes each). */
const EIP_CS_BYTES = 8;

/** One-byte opcodes whose ModRM r/m operand is read, modified and written. */
const RMW_ONE_BYTE = new Set([0x00, 0x01, 0x08, 0x09, 0x10, 0x11, 0x18, 0x19, 0x20, 0x21, 0x28, 0x29, 0x30, 0x31, 0x86, 0x87, 0xc0, 0xc1, 0xd0, 0xd1, 0xd2, 0xd3]);
/** Two-byte (0F xx) opcodes with a read-modify-write r/m operand. */
const RMW_TWO_BYTE = new Set([0x0fa4, 0x0fa5, 0x0fac, 0x0fad, 0x0fab, 0x0fb3, 0x0fbb, 0x0fc0, 0x0fc1, 0x0fb0, 0x0fb1]);

/** True when the instruction at code[offset] reads, modifies and writes a memory operand. */
export function isRmwMemory(code: Uint8Array, offset: number, protectedMode: boolean): boolean {
  const p = peek(code, offset, protectedMode);
  if (!p || p.next >= code.length || code[p.next] >> 6 === 3) return false;
  const op = p.opcode;
  if (RMW_ONE_BYTE.has(op) || RMW_TWO_BYTE.has(op)) return true;
  if (op >= 0x80 && op <= 0x83) return p.reg !== 7; // not CMP
  if (op === 0xfe || op === 0xff) return p.reg <= 1; // INC, DEC
  if (op === 0xf6 || op === 0xf7) return p.reg === 2 || p.reg === 3; // NOT, NEG
  if (op === 0x0fba) return p.reg >= 5; // BTS, BTR, BTC imm8
  if (op === 0x0fc7) return p.reg === 1; // CMPXCHG8B
  return false;
}

/**
 * True when `vector` was delivered as the software interrupt of the INT3 / INT n / INTO at
 * code[offset] (not as an exception that instruction raised, e.g. #GP for a DPL-0 gate in ring 3).
 */
export function isSoftwareInterrupt(code: Uint8Array, offset: number, before: HarnessRegs, vector: number): boolean {
  const p = peek(code, offset, (before.cr0 & CR0_PE) !== 0);
  if (!p) return false;
  const n = p.opcode === OP_INT3 ? 3 : p.opcode === OP_INTO ? 4 : p.opcode === OP_INT && p.next < code.length ? code[p.next] : -1;
  if (n !== vector) return false;
  const cpl = (before.cr0 & CR0_PE) === 0 ? 0 : before.cs & 3;
  return cpl === 0 || RUNNER_USER_GATES.has(n);
}

/** True when the exception ending `rec` is a fault whose pushed EFLAGS must carry RF (fault-rf). */
export function isFaultWithRf(c: DiffCase, rec: CaseRecording, before: HarnessRegs, layout: RunnerLayout): boolean {
  if (rec.end !== 'exception' || rec.vector === undefined) return false;
  const after = rec.states[rec.states.length - 1].regs;
  if ((after.cr0 & CR0_PE) === 0) return false;
  const offset = linearIp(before) - layout.codeWindow;
  if (isSoftwareInterrupt(c.code, offset, before, rec.vector)) return false;
  if (FAULT_VECTORS.has(rec.vector)) return true;
  if (rec.vector !== VECTOR_DB) return false;
  const p = peek(c.code, offset, true);
  return p !== undefined && (p.opcode === OP_MOV_FROM_DR || p.opcode === OP_MOV_TO_DR);
}

/** Linear address of the EFLAGS image an exception with `vector` pushed (32-bit gate, ESP after delivery). */
export function pushedEflagsAddress(after: HarnessRegs, vector: number, layout: RunnerLayout): number {
  const sp = stackIs32(after, layout) ? after.esp : after.esp & 0xffff;
  const errorBytes = ERROR_CODE_VECTORS.has(vector) ? 4 : 0;
  return (runnerSegmentBase(after.ss, after, layout) + sp + errorBytes + EIP_CS_BYTES) >>> 0;
}

/** A bit a correction sets in the last recorded state's memory. */
interface BitFix {
  id: string;
  addr: number;
  bits: number;
}

/** The bits the corrections want set in QEMU's recording of `c` (empty when none applies). */
export function correctionFixes(c: DiffCase, rec: CaseRecording, layout: RunnerLayout): BitFix[] {
  if (rec.end !== 'exception' || rec.states.length === 0) return [];
  const k = rec.states.length - 1;
  const before = k > 0 ? rec.states[k - 1].regs : c.regs;
  const after = rec.states[k].regs;
  const fixes: BitFix[] = [];
  const pm = (before.cr0 & CR0_PE) !== 0;
  if (rec.vector === VECTOR_PF && isRmwMemory(c.code, linearIp(before) - layout.codeWindow, pm)) {
    // The error code is the doubleword at SS:ESP after delivery; W/R is in its first byte.
    const sp = stackIs32(after, layout) ? after.esp : after.esp & 0xffff;
    fixes.push({ id: CORRECTION.rmwPfWrite, addr: (runnerSegmentBase(after.ss, after, layout) + sp) >>> 0, bits: PF_ERR_WRITE });
  }
  if (isFaultWithRf(c, rec, before, layout)) {
    fixes.push({ id: CORRECTION.faultRf, addr: (pushedEflagsAddress(after, rec.vector!, layout) + RF_BYTE) >>> 0, bits: RF_BIT_IN_BYTE });
  }
  return fixes;
}

/**
 * Applies the corrections to a QEMU recording in place (only its last state's memory changes);
 * returns the ids of those that changed something.
 */
export function correctQemuRecording(c: DiffCase, rec: CaseRecording, layout: RunnerLayout): string[] {
  const applied: string[] = [];
  const k = rec.states.length - 1;
  const ranges = caseMemRanges(c, layout);
  for (const fix of correctionFixes(c, rec, layout)) {
    ranges.forEach((r, i) => {
      if (fix.addr < r.addr || fix.addr >= r.addr + r.len) return;
      const mem = rec.states[k].mem[i];
      if ((mem[fix.addr - r.addr] & fix.bits) === fix.bits) return;
      const fixed = mem.slice();
      fixed[fix.addr - r.addr] |= fix.bits;
      rec.states[k] = { ...rec.states[k], mem: rec.states[k].mem.map((m, j) => (j === i ? fixed : m)) };
      if (!applied.includes(fix.id)) applied.push(fix.id);
    });
  }
  return applied;
}

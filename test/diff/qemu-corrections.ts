/**
 * Corrections applied to QEMU's recordings before comparing, where QEMU 7.2 differs from what the
 * hardware (and the SDM, as far as it speaks) does in a way random cases keep hitting. Each one
 * is documented in docs/differential-testing.md; stored cases note which were applied.
 *
 * rmw-pf-write: a read-modify-write instruction (ALU op to memory, INC/DEC/NOT/NEG, shifts and
 * rotates, SHLD/SHRD, XCHG, XADD, CMPXCHG, CMPXCHG8B, BTS/BTR/BTC) that page-faults is reported by
 * QEMU with W/R=0 in the error code, because it performs the read half first. Processors read such
 * operands for writing (a locked RMW never reads without writing), so the fault is a write fault:
 * SDM Vol. 3A 4.7 "W/R flag (bit 1)... describes the access causing the page-fault exception";
 * Bochs translates the read of every RMW operand as a write access (read_RMW_linear_*).
 */
import { caseMemRanges, linearIp, runnerSegmentBase, stackIs32, type CaseRecording, type DiffCase } from './case';
import { peek } from './flags-mask';
import type { RunnerLayout } from './runner-layout';

/** #PF vector. */
const VECTOR_PF = 14;
/** Page-fault error code: the access was a write. */
const PF_ERR_WRITE = 0x2;

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

/** Applies the corrections to a QEMU recording in place; returns the ids of those applied. */
export function correctQemuRecording(c: DiffCase, rec: CaseRecording, layout: RunnerLayout): string[] {
  const applied: string[] = [];
  if (rec.end === 'exception' && rec.vector === VECTOR_PF) {
    const k = rec.states.length - 1;
    const before = k > 0 ? rec.states[k - 1].regs : c.regs;
    const after = rec.states[k].regs;
    const pm = (before.cr0 & 1) !== 0;
    if (isRmwMemory(c.code, linearIp(before) - layout.codeWindow, pm)) {
      const sp = stackIs32(after, layout) ? after.esp : after.esp & 0xffff;
      const errAddr = (runnerSegmentBase(after.ss, after, layout) + sp) >>> 0;
      caseMemRanges(c, layout).forEach((r, i) => {
        if (errAddr < r.addr || errAddr >= r.addr + r.len) return;
        const mem = rec.states[k].mem[i];
        if ((mem[errAddr - r.addr] & PF_ERR_WRITE) !== 0) return;
        const fixed = mem.slice();
        fixed[errAddr - r.addr] |= PF_ERR_WRITE;
        rec.states[k] = { ...rec.states[k], mem: rec.states[k].mem.map((m, j) => (j === i ? fixed : m)) };
        applied.push('rmw-pf-write');
      });
    }
  }
  return applied;
}

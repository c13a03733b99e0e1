/**
 * What the SDM leaves undefined, so the comparison ignores it: EFLAGS bits after an instruction,
 * and a few memory bits (undefinedMemory below). Then QEMU's values are copied into our CPU so
 * both continue from the same state.
 *
 * Memory: PUSH of a segment register with a 32-bit operand size writes either the zero-extended
 * selector or only its 16 bits (SDM PUSH: "either a zero-extended value is pushed on the stack
 * or the segment selector is written on the stack using a 16-bit move"). A zero-count shift of
 * memory may or may not write the operand back (QEMU does, so it sets the PTE's dirty bit).
 *
 * EFLAGS: the bits the Intel SDM leaves undefined after an instruction, so the comparison ignores
 * them (and then copies QEMU's value into our CPU so later instructions see the same flags).
 * Only the six status flags are ever undefined; every other bit is compared exactly.
 *
 * Table (SDM Vol. 2 "Flags Affected" of each instruction; Vol. 1 Appendix A):
 *   AND OR XOR TEST                      AF
 *   MUL IMUL (all forms)                 SF ZF AF PF
 *   DIV IDIV                             CF OF SF ZF AF PF
 *   SHL SHR SAL SAR, count (& 1F) = 0    none (flags unchanged)
 *                     count = 1          AF
 *                     count > 1          AF OF; SHL/SHR also CF when count >= operand bits
 *   ROL ROR RCL RCR, count (& 1F) > 1    OF (count 0: unchanged; 1: defined)
 *   SHLD SHRD, count (& 1F) = 0          none;  1: AF;  2..size: AF OF;  > size: all six
 *   BT BTS BTR BTC                       OF SF AF PF (ZF unaffected, CF defined)
 *   BSF BSR                              CF OF SF AF PF (ZF defined)
 *   AAA AAS                              OF SF ZF PF
 *   DAA DAS                              OF
 *   AAM AAD                              OF AF CF
 * An instruction that faults changes no flags, so nothing is masked when the step ended in an
 * exception handler.
 */
import { CR0_PE, FLAG, STATUS_FLAGS, runnerSegmentBase, stackIs32, type HarnessRegs, type MemRange } from './case';
import type { RunnerLayout } from './runner-layout';

const { CF, PF, AF, ZF, SF, OF } = FLAG;
/** Shift/rotate counts are masked to 5 bits (SDM SAL/SAR/SHL/SHR "IA-32 Architecture Compatibility"). */
const COUNT_MASK = 0x1f;
const PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]);

/** Decoded just enough to find the opcode, operand size and ModRM reg field. */
export interface Peek {
  opcode: number; // one byte, or 0x0F00 | second byte
  size: number; // operand size in bytes
  reg: number; // ModRM reg field (opcode extension)
  next: number; // index of the byte after the opcode
}

export function peek(code: Uint8Array, at: number, default32: boolean): Peek | undefined {
  let i = at;
  let osize = false;
  for (; i < code.length && PREFIXES.has(code[i]); i++) if (code[i] === 0x66) osize = true;
  if (i >= code.length) return undefined;
  let opcode = code[i++];
  if (opcode === 0x0f) opcode = 0x0f00 | code[i++];
  // Only shifts need the size here: C0, D0, D2 are their byte forms.
  const byteOp = opcode === 0xc0 || opcode === 0xd0 || opcode === 0xd2;
  const reg = i < code.length ? (code[i] >> 3) & 7 : 0;
  return { opcode, size: byteOp ? 1 : default32 !== osize ? 4 : 2, reg, next: i };
}

/** Length of the ModRM + SIB + displacement starting at `at` (to find an imm8 after it). */
function modrmLength(code: Uint8Array, at: number, addr32: boolean): number {
  const modrm = code[at];
  const mod = modrm >> 6;
  const rm = modrm & 7;
  if (mod === 3) return 1;
  if (!addr32) return 1 + (mod === 1 ? 1 : mod === 2 || (mod === 0 && rm === 6) ? 2 : 0);
  let len = 1;
  let base = rm;
  if (rm === 4) {
    base = code[at + 1] & 7;
    len++;
  }
  if (mod === 1) len += 1;
  else if (mod === 2 || (mod === 0 && base === 5)) len += 4;
  return len;
}

function addr32Of(code: Uint8Array, at: number, default32: boolean): boolean {
  let i = at;
  let asize = false;
  for (; i < code.length && PREFIXES.has(code[i]); i++) if (code[i] === 0x67) asize = true;
  return default32 !== asize;
}

/** Flags an arithmetic shift or rotate leaves undefined for a masked count. */
function shiftMask(sub: number, count: number, bits: number): number {
  if (count === 0) return 0;
  if (sub < 4) return count === 1 ? 0 : OF; // rotates
  let m = AF | (count === 1 ? 0 : OF);
  if ((sub === 4 || sub === 5 || sub === 6) && count >= bits) m |= CF;
  return m;
}

/**
 * The undefined-flags mask for the instruction at code[offset], given the registers before it
 * (for CL counts) and after it (nothing is masked when it ended in an exception handler).
 */
export function undefinedFlags(code: Uint8Array, offset: number, before: HarnessRegs, endedInException: boolean): number {
  if (endedInException) return 0;
  const default32 = (before.cr0 & CR0_PE) !== 0;
  const p = peek(code, offset, default32);
  if (!p) return 0;
  const bits = p.size * 8;
  const cl = before.ecx & 0xff;
  const op = p.opcode;
  // Logic: AND (20-25), OR (08-0D), XOR (30-35), TEST (84 85 A8 A9), groups 80-83 /1 /4 /6, F6/F7 /0 /1.
  if ((op >= 0x08 && op <= 0x0d) || (op >= 0x20 && op <= 0x25) || (op >= 0x30 && op <= 0x35) || op === 0x84 || op === 0x85 || op === 0xa8 || op === 0xa9) return AF;
  if (op >= 0x80 && op <= 0x83) return p.reg === 1 || p.reg === 4 || p.reg === 6 ? AF : 0;
  if (op === 0xf6 || op === 0xf7) {
    if (p.reg <= 1) return AF;
    if (p.reg === 4 || p.reg === 5) return SF | ZF | AF | PF;
    if (p.reg >= 6) return STATUS_FLAGS;
    return 0;
  }
  if (op === 0x0faf || op === 0x69 || op === 0x6b) return SF | ZF | AF | PF;
  if (op === 0xd0 || op === 0xd1) return shiftMask(p.reg, 1, bits);
  if (op === 0xd2 || op === 0xd3) return shiftMask(p.reg, cl & COUNT_MASK, bits);
  if (op === 0xc0 || op === 0xc1) {
    const count = code[p.next + modrmLength(code, p.next, addr32Of(code, offset, default32))];
    return shiftMask(p.reg, count & COUNT_MASK, bits);
  }
  if (op === 0x0fa4 || op === 0x0fac || op === 0x0fa5 || op === 0x0fad) {
    const count = (op === 0x0fa5 || op === 0x0fad ? cl : code[p.next + modrmLength(code, p.next, addr32Of(code, offset, default32))]) & COUNT_MASK;
    if (count === 0) return 0;
    if (count > bits) return STATUS_FLAGS;
    return count === 1 ? AF : AF | OF;
  }
  if (op === 0x0fa3 || op === 0x0fab || op === 0x0fb3 || op === 0x0fbb || op === 0x0fba) return OF | SF | AF | PF;
  if (op === 0x0fbc || op === 0x0fbd) return CF | OF | SF | AF | PF;
  if (op === 0x37 || op === 0x3f) return OF | SF | ZF | PF;
  if (op === 0x27 || op === 0x2f) return OF;
  if (op === 0xd4 || op === 0xd5) return OF | AF | CF;
  return 0;
}

/** PUSH ES/CS/SS/DS (06 0E 16 1E) and PUSH FS/GS (0F A0, 0F A8). */
const PUSH_SREG = new Set([0x06, 0x0e, 0x16, 0x1e, 0x0fa0, 0x0fa8]);
/** Shifts/rotates by imm8 or CL, and SHLD/SHRD. */
const SHIFT_IMM = new Set([0xc0, 0xc1, 0x0fa4, 0x0fac]);
const SHIFT_CL = new Set([0xd2, 0xd3, 0x0fa5, 0x0fad]);
/** PTE dirty bit (SDM Vol. 3A Table 4-6, bit 6). */
const PTE_DIRTY = 0x40;

/** Bits of memory the SDM leaves undefined: `bits` of every byte in [addr, addr+len). */
export interface UndefinedBits extends MemRange {
  bits: number;
}

/**
 * Memory bits the SDM leaves undefined after the instruction at code[offset] (linear ranges):
 * - PUSH Sreg with a 32-bit operand: the slot's upper two bytes (zero-extended or untouched).
 * - A shift or rotate of memory whose masked count is 0: whether the unchanged value is written
 *   back (setting the page's dirty bit) is not specified; the compared PTEs' D bits are ignored.
 */
export function undefinedMemory(code: Uint8Array, offset: number, before: HarnessRegs, after: HarnessRegs, endedInException: boolean, layout: RunnerLayout, pteRange?: MemRange): UndefinedBits[] {
  if (endedInException) return [];
  const default32 = (before.cr0 & CR0_PE) !== 0;
  const p = peek(code, offset, default32);
  if (!p) return [];
  if (PUSH_SREG.has(p.opcode) && p.size === 4) {
    const sp = stackIs32(after, layout) ? after.esp : after.esp & 0xffff;
    return [{ addr: (runnerSegmentBase(after.ss, after, layout) + sp + 2) >>> 0, len: 2, bits: 0xff }];
  }
  const isMem = (code[p.next] ?? 0) >> 6 !== 3;
  if (pteRange && isMem && (SHIFT_IMM.has(p.opcode) || SHIFT_CL.has(p.opcode))) {
    const count = SHIFT_CL.has(p.opcode) ? before.ecx & 0xff : code[p.next + modrmLength(code, p.next, addr32Of(code, offset, default32))];
    if ((count & COUNT_MASK) === 0) {
      const out: UndefinedBits[] = [];
      for (let a = pteRange.addr; a < pteRange.addr + pteRange.len; a += 4) out.push({ addr: a, len: 1, bits: PTE_DIRTY });
      return out;
    }
  }
  return [];
}

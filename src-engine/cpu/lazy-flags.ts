/**
 * Lazy arithmetic flags. A flag-setting instruction records its kind, operands and result in the
 * state block (S_LF_*); the six status flags are computed only when something reads them (a
 * conditional jump computes just the one it needs). S_LF_OP = kind << 2 | size index, or 0 when
 * EFLAGS already holds the flags.
 *
 * Stored operands: for 8- and 16-bit operations A, B and RES are zero-extended to the operand
 * size; for 32-bit they are the raw int32 values. Flag rules follow the SDM (and QEMU's choices
 * for flags the SDM leaves undefined, so differential runs agree).
 */
import type { Cpu } from './cpu';
import {
  AF, ARITH_FLAGS, CF, OF, PF, SF, ZF, S_EFLAGS, S_LF_A, S_LF_AUX, S_LF_B, S_LF_OP, S_LF_RES,
} from './state';

/** Size index: 0 = 8-bit, 1 = 16-bit, 2 = 32-bit. */
export const SZ8 = 0;
export const SZ16 = 1;
export const SZ32 = 2;

// Lazy operation kinds (S_LF_OP >> 2).
export const LF_NONE = 0;
export const LF_ADD = 1;
export const LF_ADC = 2;
export const LF_SUB = 3;
export const LF_SBB = 4;
export const LF_LOGIC = 5;
export const LF_INC = 6;
export const LF_DEC = 7;
/** Shift left: AUX = last bit shifted out. */
export const LF_SHL = 8;
/** Shift right (SHR/SAR): AUX = last bit shifted out; A = value before the last single shift. */
export const LF_SHR = 9;
export const LF_SAR = 10;
/** MUL/IMUL: AUX = CF=OF value; RES = low half of the product. */
export const LF_MUL = 11;

/** Sign-bit shift per size index. */
const SIGN_SHIFT = [7, 15, 31];

/** Even-parity lookup for the low byte (1 = even number of set bits = PF set). */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i;
  b ^= b >> 4;
  b ^= b >> 2;
  b ^= b >> 1;
  PARITY[i] = (b & 1) ^ 1;
}

/** Records a lazy flags operation. */
export function setLazy(cpu: Cpu, op: number, a: number, b: number, res: number): void {
  const s = cpu.s;
  s[S_LF_OP] = op;
  s[S_LF_A] = a;
  s[S_LF_B] = b;
  s[S_LF_RES] = res;
}

/** CF from the pending lazy op (EFLAGS.CF if none). */
export function getCF(cpu: Cpu): number {
  const s = cpu.s;
  const op = s[S_LF_OP];
  if (op === 0) return s[S_EFLAGS] & CF;
  const kind = op >> 2;
  const sz = op & 3;
  const a = s[S_LF_A];
  const b = s[S_LF_B];
  const r = s[S_LF_RES];
  switch (kind) {
    case LF_ADD:
      return sz === SZ32 ? ((r >>> 0) < (a >>> 0) ? 1 : 0) : r < a ? 1 : 0;
    case LF_ADC:
      if (sz === SZ32) return s[S_LF_AUX] ? ((r >>> 0) <= (a >>> 0) ? 1 : 0) : (r >>> 0) < (a >>> 0) ? 1 : 0;
      return s[S_LF_AUX] ? (r <= a ? 1 : 0) : r < a ? 1 : 0;
    case LF_SUB:
      return sz === SZ32 ? ((a >>> 0) < (b >>> 0) ? 1 : 0) : a < b ? 1 : 0;
    case LF_SBB:
      if (sz === SZ32) return s[S_LF_AUX] ? ((a >>> 0) <= (b >>> 0) ? 1 : 0) : (a >>> 0) < (b >>> 0) ? 1 : 0;
      return s[S_LF_AUX] ? (a <= b ? 1 : 0) : a < b ? 1 : 0;
    case LF_LOGIC:
      return 0;
    default:
      // INC, DEC (saved CF), shifts (bit out), MUL (overflow).
      return s[S_LF_AUX] & 1;
  }
}

/** ZF (0 or 1). */
export function getZF(cpu: Cpu): number {
  const s = cpu.s;
  if (s[S_LF_OP] === 0) return (s[S_EFLAGS] >> 6) & 1;
  return s[S_LF_RES] === 0 ? 1 : 0;
}

/** SF (0 or 1). */
export function getSF(cpu: Cpu): number {
  const s = cpu.s;
  const op = s[S_LF_OP];
  if (op === 0) return (s[S_EFLAGS] >> 7) & 1;
  return (s[S_LF_RES] >>> SIGN_SHIFT[op & 3]) & 1;
}

/** PF (0 or 1). */
export function getPF(cpu: Cpu): number {
  const s = cpu.s;
  if (s[S_LF_OP] === 0) return (s[S_EFLAGS] >> 2) & 1;
  return PARITY[s[S_LF_RES] & 0xff];
}

/** OF (0 or 1). */
export function getOF(cpu: Cpu): number {
  const s = cpu.s;
  const op = s[S_LF_OP];
  if (op === 0) return (s[S_EFLAGS] >> 11) & 1;
  const sh = SIGN_SHIFT[op & 3];
  const a = s[S_LF_A];
  const b = s[S_LF_B];
  const r = s[S_LF_RES];
  switch (op >> 2) {
    case LF_ADD:
    case LF_ADC:
      return (((a ^ r) & (b ^ r)) >>> sh) & 1;
    case LF_SUB:
    case LF_SBB:
      return (((a ^ b) & (a ^ r)) >>> sh) & 1;
    case LF_LOGIC:
      return 0;
    case LF_INC:
      // Overflow exactly when the result is the most negative value of the size.
      return r === 1 << sh ? 1 : 0;
    case LF_DEC:
      // Overflow exactly when the result is the most positive value of the size.
      return r === (((1 << sh) - 1) | 0) ? 1 : 0;
    case LF_SHL:
      return ((r >>> sh) ^ s[S_LF_AUX]) & 1;
    case LF_SHR:
    case LF_SAR:
      // A holds the operand before the last single-bit shift: OF = MSB(A) ^ MSB(RES).
      return ((a ^ r) >>> sh) & 1;
    case LF_MUL:
      return s[S_LF_AUX] & 1;
    default:
      return 0;
  }
}

/** AF (0 or 1). */
export function getAF(cpu: Cpu): number {
  const s = cpu.s;
  const op = s[S_LF_OP];
  if (op === 0) return (s[S_EFLAGS] >> 4) & 1;
  switch (op >> 2) {
    case LF_ADD:
    case LF_ADC:
    case LF_SUB:
    case LF_SBB:
    case LF_INC:
    case LF_DEC:
      return ((s[S_LF_A] ^ s[S_LF_B] ^ s[S_LF_RES]) >> 4) & 1;
    default:
      return 0;
  }
}

/** Returns the full EFLAGS value with the arithmetic flags computed. */
export function getFlags(cpu: Cpu): number {
  const s = cpu.s;
  if (s[S_LF_OP] === 0) return s[S_EFLAGS];
  const f =
    getCF(cpu) | (getPF(cpu) << 2) | (getAF(cpu) << 4) | (getZF(cpu) << 6) | (getSF(cpu) << 7) | (getOF(cpu) << 11);
  return (s[S_EFLAGS] & ~ARITH_FLAGS) | f;
}

/** Folds any pending lazy op into EFLAGS (S_LF_OP becomes 0). */
export function materializeFlags(cpu: Cpu): void {
  const s = cpu.s;
  if (s[S_LF_OP] !== 0) {
    s[S_EFLAGS] = getFlags(cpu);
    s[S_LF_OP] = 0;
  }
}

/** Sets the arithmetic flags given in `mask` to the bits in `value`, leaving the others. */
export function setArithFlags(cpu: Cpu, mask: number, value: number): void {
  materializeFlags(cpu);
  cpu.s[S_EFLAGS] = (cpu.s[S_EFLAGS] & ~mask) | (value & mask);
}

/**
 * Evaluates condition code `cc` (the low nibble of Jcc/SETcc/CMOVcc): O NO B AE E NE BE A S NS
 * P NP L GE LE G. Returns 1 if it holds.
 */
export function cond(cpu: Cpu, cc: number): number {
  const s = cpu.s;
  const op = s[S_LF_OP];
  // Fast paths for the overwhelmingly common CMP/SUB/logic then Jcc.
  if (op !== 0) {
    const kind = op >> 2;
    if (kind === LF_SUB && (cc & 0xe) !== 0x0 && (cc & 0xe) !== 0xa) {
      const sz = op & 3;
      let a = s[S_LF_A];
      let b = s[S_LF_B];
      let r: number;
      switch (cc) {
        case 0x2: // B
          return sz === SZ32 ? ((a >>> 0) < (b >>> 0) ? 1 : 0) : a < b ? 1 : 0;
        case 0x3:
          return sz === SZ32 ? ((a >>> 0) >= (b >>> 0) ? 1 : 0) : a >= b ? 1 : 0;
        case 0x4:
          return s[S_LF_RES] === 0 ? 1 : 0;
        case 0x5:
          return s[S_LF_RES] !== 0 ? 1 : 0;
        case 0x6: // BE
          return sz === SZ32 ? ((a >>> 0) <= (b >>> 0) ? 1 : 0) : a <= b ? 1 : 0;
        case 0x7:
          return sz === SZ32 ? ((a >>> 0) > (b >>> 0) ? 1 : 0) : a > b ? 1 : 0;
        case 0x8:
          r = s[S_LF_RES];
          return (r >>> SIGN_SHIFT[sz]) & 1;
        case 0x9:
          r = s[S_LF_RES];
          return ((r >>> SIGN_SHIFT[sz]) & 1) ^ 1;
        default:
          // Signed compares: sign-extend the operands and compare.
          if (sz === SZ8) {
            a = (a << 24) >> 24;
            b = (b << 24) >> 24;
          } else if (sz === SZ16) {
            a = (a << 16) >> 16;
            b = (b << 16) >> 16;
          }
          switch (cc) {
            case 0xc:
              return a < b ? 1 : 0;
            case 0xd:
              return a >= b ? 1 : 0;
            case 0xe:
              return a <= b ? 1 : 0;
            default:
              return a > b ? 1 : 0;
          }
      }
    }
    if (kind === LF_LOGIC) {
      const r = s[S_LF_RES];
      const sf = (r >>> SIGN_SHIFT[op & 3]) & 1;
      switch (cc) {
        case 0x0: case 0x2: return 0;
        case 0x1: case 0x3: return 1;
        case 0x4: case 0x6: return r === 0 ? 1 : 0;
        case 0x5: case 0x7: return r !== 0 ? 1 : 0;
        case 0x8: case 0xc: return sf;
        case 0x9: case 0xd: return sf ^ 1;
        case 0xe: return r === 0 || sf ? 1 : 0;
        case 0xf: return r !== 0 && !sf ? 1 : 0;
        default: break; // parity
      }
    }
  }
  let v: number;
  switch (cc >> 1) {
    case 0: v = getOF(cpu); break;
    case 1: v = getCF(cpu); break;
    case 2: v = getZF(cpu); break;
    case 3: v = getCF(cpu) | getZF(cpu); break;
    case 4: v = getSF(cpu); break;
    case 5: v = getPF(cpu); break;
    case 6: v = getSF(cpu) ^ getOF(cpu); break;
    default: v = (getSF(cpu) ^ getOF(cpu)) | getZF(cpu); break;
  }
  return v ^ (cc & 1);
}

/** Marks flags valid in EFLAGS after an instruction wrote them all (POPF, SAHF, IRET...). */
export function flagsWritten(cpu: Cpu): void {
  cpu.s[S_LF_OP] = 0;
}

export { AF, CF, OF, PF, SF, ZF };

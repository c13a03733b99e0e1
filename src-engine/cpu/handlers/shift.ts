/**
 * Shifts and rotates: ROL ROR RCL RCR SHL SAL SHR SAR (group 2) and SHLD SHRD. Counts are masked
 * to 5 bits; a masked count of 0 changes nothing (flags included). Shifts set flags lazily;
 * rotates change only CF and OF. Flags the SDM leaves undefined (OF for counts > 1, AF) follow
 * QEMU's formulas so differential runs agree.
 */
import type { Cpu } from '../cpu';
import { OP_IMM, OP_REG } from '../decoder';
import type { Handler, Insn } from '../insn';
import { linR, linW } from '../addressing';
import { getCF, LF_LOGIC, LF_SHL, LF_SHR, LF_SAR, setArithFlags, CF, OF } from '../lazy-flags';
import { probeWrite } from '../mmu';
import { ECX, S_LF_A, S_LF_AUX, S_LF_B, S_LF_OP, S_LF_RES } from '../state';
import { getReg, readMem, regIndex, setReg, writeMem, type Factory } from './common';

const ROL = 0;
const ROR = 1;
const RCL = 2;
const RCR = 3;
const SHL = 4;
const SHR = 5;
const SAR = 7;

function szIdx(size: number): number {
  return size === 4 ? 2 : size === 2 ? 1 : 0;
}

function setShiftFlags(cpu: Cpu, kind: number, size: number, a: number, res: number, cf: number): void {
  const s = cpu.s;
  s[S_LF_OP] = (kind << 2) | szIdx(size);
  s[S_LF_A] = a;
  s[S_LF_B] = 0;
  s[S_LF_RES] = res;
  s[S_LF_AUX] = cf;
}

/** Applies group-2 operation `op` to `v` (zero-extended) with raw count `count`. */
export function shiftOp(cpu: Cpu, op: number, size: number, v: number, count: number): number {
  const bits = size * 8;
  const mask = size === 4 ? -1 : (1 << bits) - 1;
  let c = count & 31;
  if (c === 0) return v;
  switch (op) {
    case SHL:
    case 6: {
      const res = (v << c) & mask;
      const cf = c <= bits ? ((v << (c - 1)) >>> (bits - 1)) & 1 : 0;
      setShiftFlags(cpu, LF_SHL, size, v, size === 4 ? res | 0 : res, cf);
      return res;
    }
    case SHR: {
      const before = c > bits ? 0 : (v >>> (c - 1)) & mask;
      const res = c >= bits ? 0 : (v >>> c) & mask;
      setShiftFlags(cpu, LF_SHR, size, size === 4 ? before | 0 : before, size === 4 ? res | 0 : res, before & 1);
      return res;
    }
    case SAR: {
      const sv = size === 4 ? v | 0 : size === 2 ? (v << 16) >> 16 : (v << 24) >> 24;
      const before = (sv >> Math.min(c - 1, 31)) & mask;
      const res = (sv >> Math.min(c, 31)) & mask;
      setShiftFlags(cpu, LF_SAR, size, size === 4 ? before | 0 : before, size === 4 ? res | 0 : res, before & 1);
      return res;
    }
    default:
      break;
  }
  // Rotates: only CF and OF change.
  let res: number;
  let cf: number;
  let of: number;
  const msb = (x: number) => (x >>> (bits - 1)) & 1;
  switch (op) {
    case ROL: {
      const r = c % bits;
      res = r === 0 ? v : ((v << r) | (v >>> (bits - r))) & mask;
      cf = res & 1;
      of = msb(res) ^ cf;
      break;
    }
    case ROR: {
      const r = c % bits;
      res = r === 0 ? v : ((v >>> r) | (v << (bits - r))) & mask;
      cf = msb(res);
      of = cf ^ ((res >>> (bits - 2)) & 1);
      break;
    }
    case RCL: {
      c = size === 4 ? c : c % (bits + 1);
      if (c === 0) return v;
      const cin = getCF(cpu);
      // Rotate the (bits+1)-bit value CF:v left by c.
      let val = v >>> 0;
      let carry = cin;
      for (let k = 0; k < c; k++) {
        const out = (val >>> (bits - 1)) & 1;
        val = ((val << 1) | carry) & mask;
        val >>>= 0;
        carry = out;
      }
      res = size === 4 ? val | 0 : val;
      cf = carry;
      of = msb(res) ^ cf;
      break;
    }
    default: {
      c = size === 4 ? c : c % (bits + 1);
      if (c === 0) return v;
      const cin = getCF(cpu);
      let val = v >>> 0;
      let carry = cin;
      for (let k = 0; k < c; k++) {
        const out = val & 1;
        val = ((val >>> 1) | (carry << (bits - 1))) >>> 0;
        if (size !== 4) val &= mask;
        carry = out;
      }
      res = size === 4 ? val | 0 : val;
      cf = carry;
      of = msb(res) ^ ((res >>> (bits - 2)) & 1);
      break;
    }
  }
  setArithFlags(cpu, CF | OF, cf | (of << 11));
  return res;
}

/** SHLD (left = true) / SHRD with count already masked to 5 bits and non-zero. */
function doubleShift(cpu: Cpu, left: boolean, size: number, dst: number, src: number, c: number): number {
  const bits = size * 8;
  if (size === 4) {
    let res: number;
    let cf: number;
    if (left) {
      res = ((dst << c) | (src >>> (32 - c))) | 0;
      cf = (dst >>> (32 - c)) & 1;
      setShiftFlags(cpu, LF_SHL, 4, dst, res, cf);
    } else {
      res = ((dst >>> c) | (src << (32 - c))) | 0;
      cf = (dst >>> (c - 1)) & 1;
      setShiftFlags(cpu, LF_SHR, 4, dst, res, cf);
    }
    return res;
  }
  // 16-bit: shift the 32-bit concatenation (counts > 16 give the undefined-but-QEMU result).
  if (left) {
    const cat = ((dst << 16) | src) >>> 0;
    const shifted = c < 32 ? (cat << c) >>> 0 : 0;
    const res = (shifted >>> 16) & 0xffff;
    const cf = c <= 16 ? (dst >>> (bits - c)) & 1 : ((src >>> (32 - c)) & 1);
    setShiftFlags(cpu, LF_SHL, 2, dst, res, cf);
    return res;
  }
  const cat = ((src << 16) | dst) >>> 0;
  const res = (cat >>> c) & 0xffff;
  const cf = (cat >>> (c - 1)) & 1;
  setShiftFlags(cpu, LF_SHR, 2, dst, res, cf);
  return res;
}

function countOf(cpu: Cpu, i: Insn): number {
  return i.r2 < 0 ? cpu.r8[ECX * 4] : i.imm;
}

const group2Reg: Handler = (cpu, i) => {
  const c = countOf(cpu, i);
  if ((c & 31) === 0) return;
  setReg(cpu, i.size, i.r1, shiftOp(cpu, i.op, i.size, getReg(cpu, i.size, i.r1), c));
};
const group2Mem: Handler = (cpu, i) => {
  const c = countOf(cpu, i);
  const size = i.size;
  const lin = linW(cpu, i, size);
  if ((c & 31) === 0) {
    // The operand is still accessed (and may fault) with a zero count.
    readMem(cpu, linR(cpu, i, size), size);
    return;
  }
  probeWrite(cpu, lin, size);
  writeMem(cpu, lin, size, shiftOp(cpu, i.op, size, readMem(cpu, lin, size), c));
};

/** SHL r32, imm: the common compiler idiom, without the generic dispatch. */
const shl32RegImm: Handler = (cpu, i) => {
  const v = cpu.s[i.r1];
  const c = i.imm & 31;
  if (c === 0) return;
  const res = v << c;
  setShiftFlags(cpu, LF_SHL, 4, v, res, (v >>> (32 - c)) & 1);
  cpu.s[i.r1] = res;
};
const shr32RegImm: Handler = (cpu, i) => {
  const v = cpu.s[i.r1];
  const c = i.imm & 31;
  if (c === 0) return;
  const before = v >>> (c - 1);
  const res = before >>> 1;
  setShiftFlags(cpu, LF_SHR, 4, before | 0, res | 0, before & 1);
  cpu.s[i.r1] = res;
};

const group2Factory: (op: number) => Factory = (op) => (d, ins) => {
  const dst = d.ops[0];
  const cnt = d.ops[1];
  ins.op = op;
  ins.size = dst.size;
  if (cnt.kind === OP_IMM) {
    ins.imm = cnt.imm;
    ins.r2 = 0;
  } else {
    ins.r2 = -1;
  }
  if (dst.kind === OP_REG) {
    ins.r1 = regIndex(dst.size, dst.reg);
    if (dst.size === 4 && cnt.kind === OP_IMM) {
      if (op === SHL || op === 6) return shl32RegImm;
      if (op === SHR) return shr32RegImm;
    }
    return group2Reg;
  }
  return group2Mem;
};

function doubleFactory(left: boolean): Factory {
  return (d, ins) => {
    const dst = d.ops[0];
    const src = d.ops[1];
    const cnt = d.ops[2];
    const size = dst.size;
    ins.size = size;
    ins.r2 = regIndex(size, src.reg);
    const fromCl = cnt.kind !== OP_IMM;
    ins.imm = fromCl ? 0 : cnt.imm;
    const regDst = dst.kind === OP_REG;
    if (regDst) ins.r1 = regIndex(size, dst.reg);
    return (cpu, i) => {
      const c = (fromCl ? cpu.r8[ECX * 4] : i.imm) & 31;
      if (regDst) {
        if (c === 0) return;
        setReg(cpu, size, i.r1, doubleShift(cpu, left, size, getReg(cpu, size, i.r1), getReg(cpu, size, i.r2), c));
        return;
      }
      const lin = linW(cpu, i, size);
      if (c === 0) {
        readMem(cpu, linR(cpu, i, size), size);
        return;
      }
      probeWrite(cpu, lin, size);
      writeMem(cpu, lin, size, doubleShift(cpu, left, size, readMem(cpu, lin, size), getReg(cpu, size, i.r2), c));
    };
  };
}

/** Factories of this group, by mnemonic. */
export const shiftFactories: Record<string, Factory> = {
  ROL: group2Factory(ROL),
  ROR: group2Factory(ROR),
  RCL: group2Factory(RCL),
  RCR: group2Factory(RCR),
  SHL: group2Factory(SHL),
  SHR: group2Factory(SHR),
  SAR: group2Factory(SAR),
  SHLD: doubleFactory(true),
  SHRD: doubleFactory(false),
};

export { LF_LOGIC };

/** The shift handlers the interpreter's fast path recognises (fast-kinds.ts). */
export const SHIFT_FAST_HANDLERS = { shl32RegImm, shr32RegImm } as const;

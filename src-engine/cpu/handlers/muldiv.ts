/**
 * MUL IMUL (one, two and three operands) DIV IDIV, exact for every operand size: 32x32->64
 * products are built from 16-bit partial products, 64/32 divisions by 16-bit long division in
 * doubles (exact because every intermediate stays below 2^53). #DE on a zero divisor or a
 * quotient that does not fit.
 */
import type { Cpu } from '../cpu';
import { OP_MEM, OP_REG } from '../decoder';
import type { Handler } from '../insn';
import { linR } from '../addressing';
import { raise } from '../fault';
import { LF_MUL, SZ16, SZ32, SZ8 } from '../lazy-flags';
import { EAX, EDX, EXC_DE, S_LF_A, S_LF_AUX, S_LF_B, S_LF_OP, S_LF_RES } from '../state';
import { getReg, readMem, regIndex, setReg, type Factory } from './common';

/** Unsigned 32x32 -> 64 product: returns the high dword (the low dword is Math.imul). */
export function mulHiU32(a: number, b: number): number {
  const x = a >>> 0;
  const y = b >>> 0;
  const xl = x & 0xffff;
  const xh = x >>> 16;
  const yl = y & 0xffff;
  const yh = y >>> 16;
  const p0 = xl * yl;
  const p1 = xh * yl;
  const p2 = xl * yh;
  const mid = (p0 >>> 16) + (p1 & 0xffff) + (p2 & 0xffff);
  return (xh * yh + (p1 >>> 16) + (p2 >>> 16) + (mid >>> 16)) | 0;
}

/** Signed 32x32 -> 64 product high dword. */
export function mulHiS32(a: number, b: number): number {
  let hi = mulHiU32(a, b);
  if (a < 0) hi = (hi - b) | 0;
  if (b < 0) hi = (hi - a) | 0;
  return hi;
}

function mulFlags(cpu: Cpu, sz: number, low: number, cf: number): void {
  const s = cpu.s;
  s[S_LF_OP] = (LF_MUL << 2) | sz;
  s[S_LF_RES] = low;
  s[S_LF_A] = 0;
  s[S_LF_B] = 0;
  s[S_LF_AUX] = cf;
}

/** Unsigned 64/32 division of hi:lo by d (hi < d): [quotient, remainder]. */
function divU64(hi: number, lo: number, d: number): [number, number] {
  let cur = hi * 65536 + (lo >>> 16);
  const q1 = Math.floor(cur / d);
  let r = cur - q1 * d;
  cur = r * 65536 + (lo & 0xffff);
  const q0 = Math.floor(cur / d);
  r = cur - q0 * d;
  return [q1 * 65536 + q0, r];
}

function mul1(cpu: Cpu, size: number, src: number, signed: boolean): void {
  const s = cpu.s;
  if (size === 1) {
    const a = signed ? (cpu.r8[0] << 24) >> 24 : cpu.r8[0];
    const b = signed ? (src << 24) >> 24 : src;
    const p = a * b;
    cpu.r16[0] = p & 0xffff;
    const cf = signed ? (p !== ((p << 24) >> 24) ? 1 : 0) : (p & 0xff00) !== 0 ? 1 : 0;
    mulFlags(cpu, SZ8, p & 0xff, cf);
  } else if (size === 2) {
    const a = signed ? (cpu.r16[0] << 16) >> 16 : cpu.r16[0];
    const b = signed ? (src << 16) >> 16 : src;
    const p = a * b;
    cpu.r16[0] = p & 0xffff;
    cpu.r16[EDX * 2] = (p >> 16) & 0xffff;
    const cf = signed ? (p !== ((p << 16) >> 16) ? 1 : 0) : (p & 0xffff0000) !== 0 ? 1 : 0;
    mulFlags(cpu, SZ16, p & 0xffff, cf);
  } else {
    const a = s[EAX];
    const lo = Math.imul(a, src);
    const hi = signed ? mulHiS32(a, src) : mulHiU32(a, src);
    s[EAX] = lo;
    s[EDX] = hi;
    const cf = signed ? (hi !== lo >> 31 ? 1 : 0) : hi !== 0 ? 1 : 0;
    mulFlags(cpu, SZ32, lo, cf);
  }
}

function div1(cpu: Cpu, size: number, src: number, signed: boolean): void {
  const s = cpu.s;
  if (size === 1) {
    const dv = signed ? (src << 24) >> 24 : src;
    if (dv === 0) raise(cpu, EXC_DE);
    const n = signed ? (cpu.r16[0] << 16) >> 16 : cpu.r16[0];
    const q = Math.trunc(n / dv);
    const r = n - q * dv;
    if (signed ? q < -128 || q > 127 : q > 0xff) raise(cpu, EXC_DE);
    cpu.r8[0] = q & 0xff;
    cpu.r8[1] = r & 0xff;
    return;
  }
  if (size === 2) {
    const dv = signed ? (src << 16) >> 16 : src;
    if (dv === 0) raise(cpu, EXC_DE);
    const raw = (cpu.r16[EDX * 2] << 16) | cpu.r16[0];
    const n = signed ? raw : raw >>> 0;
    const q = Math.trunc(n / dv);
    const r = n - q * dv;
    if (signed ? q < -32768 || q > 32767 : q > 0xffff) raise(cpu, EXC_DE);
    cpu.r16[0] = q & 0xffff;
    cpu.r16[EDX * 2] = r & 0xffff;
    return;
  }
  if (src === 0) raise(cpu, EXC_DE);
  const hi = s[EDX];
  const lo = s[EAX];
  if (!signed) {
    const d = src >>> 0;
    if (hi >>> 0 >= d) raise(cpu, EXC_DE);
    const [q, r] = divU64(hi >>> 0, lo >>> 0, d);
    s[EAX] = q | 0;
    s[EDX] = r | 0;
    return;
  }
  // Signed: divide magnitudes, then fix the signs.
  const negN = hi < 0;
  let nh = hi >>> 0;
  let nl = lo >>> 0;
  if (negN) {
    nl = (~nl + 1) >>> 0;
    nh = (~nh + (nl === 0 ? 1 : 0)) >>> 0;
  }
  const negD = src < 0;
  const d = negD ? -src : src;
  const du = d >>> 0;
  if (nh >= du) raise(cpu, EXC_DE);
  const [q, r] = divU64(nh, nl, du);
  const negQ = negN !== negD;
  if (negQ ? q > 0x80000000 : q > 0x7fffffff) raise(cpu, EXC_DE);
  s[EAX] = negQ ? -q | 0 : q | 0;
  s[EDX] = negN ? -r | 0 : r | 0;
}

function oneOperand(fn: (cpu: Cpu, size: number, src: number, signed: boolean) => void, signed: boolean): Factory {
  return (d, ins) => {
    const o = d.ops[0];
    const size = o.size;
    ins.size = size;
    if (o.kind === OP_REG) {
      ins.r1 = regIndex(size, o.reg);
      return (cpu, i) => fn(cpu, size, getReg(cpu, size, i.r1), signed);
    }
    return (cpu, i) => fn(cpu, size, readMem(cpu, linR(cpu, i, size), size), signed);
  };
}

/** IMUL r, r/m [, imm]: truncated signed product, CF=OF on overflow. */
function imulMulti(cpu: Cpu, size: number, a: number, b: number): number {
  if (size === 4) {
    const lo = Math.imul(a, b);
    const full = a * b;
    mulFlags(cpu, SZ32, lo, full !== lo ? 1 : 0);
    return lo;
  }
  const sa = (a << 16) >> 16;
  const sb = (b << 16) >> 16;
  const p = sa * sb;
  const lo = p & 0xffff;
  mulFlags(cpu, SZ16, lo, p !== ((p << 16) >> 16) ? 1 : 0);
  return lo;
}

const imul2: Factory = (d, ins) => {
  const dst = d.ops[0];
  const src = d.ops[1];
  const size = dst.size;
  ins.r1 = regIndex(size, dst.reg);
  const three = d.nops === 3;
  if (three) ins.imm = d.ops[2].imm;
  const mem = src.kind === OP_MEM;
  if (!mem) ins.r2 = regIndex(size, src.reg);
  if (size === 4 && !mem && !three) {
    const h: Handler = (cpu, i) => {
      cpu.s[i.r1] = imulMulti(cpu, 4, cpu.s[i.r1], cpu.s[i.r2]);
    };
    return h;
  }
  return (cpu, i) => {
    const b = mem ? readMem(cpu, linR(cpu, i, size), size) : getReg(cpu, size, i.r2);
    const a = three ? i.imm : getReg(cpu, size, i.r1);
    setReg(cpu, size, i.r1, imulMulti(cpu, size, b, a));
  };
};

/** Factories of this group, by mnemonic. */
export const muldivFactories: Record<string, Factory> = {
  MUL: oneOperand(mul1, false),
  IMUL: (d, ins) => (d.nops === 1 ? oneOperand(mul1, true)(d, ins) : imul2(d, ins)),
  DIV: oneOperand(div1, false),
  IDIV: oneOperand(div1, true),
};

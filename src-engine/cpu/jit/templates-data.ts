/**
 * Templates for data movement and friends (handlers/data.ts, muldiv.ts, shift.ts): MOV (not
 * segment registers), MOVZX MOVSX LEA XCHG (registers) CBW CWD NOP SETcc CMOVcc, IMUL with two
 * and three operands, and SHL SHR SAR.
 */
import type { Insn } from '../insn';
import { OP_IMM, OP_MEM, OP_REG } from '../decoder';
import { LF_MUL, LF_SAR, LF_SHL, LF_SHR } from '../lazy-flags';
import { ECX, EDX } from '../state';
import type { Emitter } from './emitter';
import { UNKNOWN } from './flag-exprs';
import { kindOf, sizeIndex, type Template } from './template';

const mov: Template = (e, i) => {
  if (i.lock) return false;
  const size = i.size;
  const k0 = kindOf(i, 0);
  const k1 = kindOf(i, 1);
  if (k0 === OP_REG) {
    if (k1 === OP_REG) e.wr(size, i.r1, e.rd(size, i.r2));
    else if (k1 === OP_MEM) e.wr(size, i.r1, e.load(size, e.lin(i, size, false)));
    else if (k1 === OP_IMM) e.wr(size, i.r1, `${i.imm | 0}`);
    else return false;
    return true;
  }
  if (k0 !== OP_MEM) return false;
  let v: string;
  if (k1 === OP_REG) v = e.rd(size, i.r2);
  else if (k1 === OP_IMM) v = `${size === 4 ? i.imm | 0 : size === 2 ? i.imm & 0xffff : i.imm & 0xff}`;
  else return false;
  const t = e.tmp('v');
  e.line(`const ${t} = ${v};`);
  e.store(size, e.lin(i, size, true), t);
  return true;
};

function extend(signed: boolean): Template {
  return (e, i) => {
    const ss = i.imm;
    const k1 = kindOf(i, 1);
    let v: string;
    if (k1 === OP_REG) v = e.rd(ss, i.r2);
    else if (k1 === OP_MEM) v = e.load(ss, e.lin(i, ss, false));
    else return false;
    if (signed) v = ss === 1 ? `((${v} << 24) >> 24)` : `((${v} << 16) >> 16)`;
    e.wr(i.size === 4 ? 4 : 2, i.r1, v);
    return true;
  };
}

const lea: Template = (e, i) => {
  if (kindOf(i, 1) !== OP_MEM) return false;
  e.wr(i.size === 4 ? 4 : 2, i.r1, e.ea(i));
  return true;
};

const xchg: Template = (e, i) => {
  if (kindOf(i, 0) !== OP_REG || kindOf(i, 1) !== OP_REG || i.lock) return false;
  const size = i.size;
  const x = e.tmp('x');
  const y = e.tmp('y');
  e.line(`const ${x} = ${e.rd(size, i.r1)}, ${y} = ${e.rd(size, i.r2)};`);
  e.wr(size, i.r1, y);
  e.wr(size, i.r2, x);
  return true;
};

const cbw: Template = (e, i) => {
  if (i.size === 4) e.set32(0, `(${e.reg(0)} << 16) >> 16`);
  else e.wr(2, 0, `(${e.reg(0)} << 24) >> 24`);
  return true;
};

const cwd: Template = (e, i) => {
  if (i.size === 4) e.set32(EDX, `${e.reg(0)} >> 31`);
  else e.wr(2, EDX * 2, `(${e.reg(0)} & 32768) !== 0 ? 65535 : 0`);
  return true;
};

const nop: Template = (_e, i) => !i.lock;

const setcc: Template = (e, i) => {
  const k0 = kindOf(i, 0);
  if (k0 === OP_REG) {
    e.wr(1, i.r1, `${e.cond(i.op)} ? 1 : 0`);
    return true;
  }
  if (k0 !== OP_MEM) return false;
  const l = e.lin(i, 1, true);
  const v = e.tmp('v');
  e.line(`const ${v} = ${e.cond(i.op)} ? 1 : 0;`);
  e.store(1, l, v);
  return true;
};

const cmov: Template = (e, i) => {
  const size = i.size;
  const k1 = kindOf(i, 1);
  let v: string;
  if (k1 === OP_REG) {
    v = e.tmp('v');
    e.line(`const ${v} = ${e.rd(size, i.r2)};`);
  } else if (k1 === OP_MEM) {
    v = e.load(size, e.lin(i, size, false));
  } else {
    return false;
  }
  e.line(`if (${e.cond(i.op)}) {`);
  e.wr(size, i.r1, v);
  e.line('}');
  return true;
};

/** IMUL r, r/m and IMUL r, r/m, imm (imulMulti). One-operand IMUL is left to its handler. */
const imul: Template = (e, i) => {
  const k2 = kindOf(i, 2);
  if (kindOf(i, 0) !== OP_REG || (kindOf(i, 1) !== OP_REG && kindOf(i, 1) !== OP_MEM)) return false;
  const size = i.size;
  if (size !== 4 && size !== 2) return false;
  const three = k2 === OP_IMM;
  const b = e.tmp('b');
  const a = e.tmp('a');
  const src = kindOf(i, 1) === OP_MEM ? e.load(size, e.lin(i, size, false)) : e.rd(size, i.r2);
  e.line(`const ${b} = ${src}, ${a} = ${three ? `${i.imm | 0}` : e.rd(size, i.r1)};`);
  const lo = e.tmp('lo');
  const cf = e.tmp('cf');
  if (size === 4) {
    e.line(`const ${lo} = Math.imul(${b}, ${a}), ${cf} = ${b} * ${a} !== ${lo} ? 1 : 0;`);
  } else {
    const p = e.tmp('p');
    e.line(`const ${p} = ((${b} << 16) >> 16) * ((${a} << 16) >> 16);`);
    e.line(`const ${lo} = ${p} & 65535, ${cf} = ${p} !== ((${p} << 16) >> 16) ? 1 : 0;`);
  }
  e.setFlags((LF_MUL << 2) | sizeIndex(size), '0', '0', lo, cf);
  e.wr(size, i.r1, lo);
  return true;
};

// Group-2 operation numbers (handlers/shift.ts).
const SHL = 4;
const SHR = 5;
const SAL = 6;
const SAR = 7;

/** Emits shift `op` of int local v by count c (1..31, a number or a local); returns the result. */
function emitShift(e: Emitter, op: number, size: number, v: string, c: string): string {
  const bits = size * 8;
  const mask = size === 4 ? -1 : (1 << bits) - 1;
  const sz = sizeIndex(size);
  const r = e.tmp('r');
  const f = e.tmp('f');
  const i32 = (x: string) => (size === 4 ? `(${x}) | 0` : x);
  if (op === SHL || op === SAL) {
    e.line(`const ${r} = (${v} << ${c}) & ${mask};`);
    e.line(`const ${f} = ${c} <= ${bits} ? ((${v} << (${c} - 1)) >>> ${bits - 1}) & 1 : 0;`);
    e.setFlags((LF_SHL << 2) | sz, v, '0', r, f);
    return r;
  }
  const bf = e.tmp('bf');
  if (op === SHR) {
    e.line(`const ${bf} = ${i32(`${c} > ${bits} ? 0 : (${v} >>> (${c} - 1)) & ${mask}`)};`);
    e.line(`const ${r} = ${i32(`${c} >= ${bits} ? 0 : (${v} >>> ${c}) & ${mask}`)};`);
    e.setFlags((LF_SHR << 2) | sz, bf, '0', r, `${bf} & 1`);
    return r;
  }
  const sv = e.tmp('sv');
  e.line(`const ${sv} = ${size === 4 ? `${v} | 0` : size === 2 ? `(${v} << 16) >> 16` : `(${v} << 24) >> 24`};`);
  e.line(`const ${bf} = ${i32(`(${sv} >> Math.min(${c} - 1, 31)) & ${mask}`)};`);
  e.line(`const ${r} = ${i32(`(${sv} >> Math.min(${c}, 31)) & ${mask}`)};`);
  e.setFlags((LF_SAR << 2) | sz, bf, '0', r, `${bf} & 1`);
  return r;
}

/** SHL SHR SAR (group 2) on registers and memory, immediate or CL counts. */
const shift: Template = (e, i) => {
  const op = i.op;
  if (op !== SHL && op !== SHR && op !== SAL && op !== SAR) return false;
  const size = i.size;
  const k0 = kindOf(i, 0);
  if (k0 !== OP_REG && k0 !== OP_MEM) return false;
  const fromCl = i.r2 < 0;
  const c = e.tmp('c');
  e.line(`const ${c} = ${fromCl ? `${e.reg(ECX)} & 31` : `${i.imm & 31}`};`);
  if (!fromCl && (i.imm & 31) === 0) {
    // Nothing changes; a memory operand is still checked and read (it may fault).
    if (k0 === OP_MEM) {
      e.lin(i, size, true);
      e.load(size, e.lin(i, size, false));
    }
    return true;
  }
  if (k0 === OP_REG) {
    const v = e.tmp('v');
    e.line(`const ${v} = ${e.rd(size, i.r1)};`);
    if (fromCl) e.line(`if (${c} !== 0) {`);
    e.wr(size, i.r1, emitShift(e, op, size, v, c));
    if (fromCl) {
      e.line('}');
      e.known = UNKNOWN;
    }
    return true;
  }
  const l = e.lin(i, size, true);
  if (fromCl) {
    e.line(`if (${c} === 0) {`);
    e.load(size, e.lin(i, size, false));
    e.line('} else {');
  }
  const m = e.rmwLoad(size, l);
  e.rmwStore(size, l, m.off, emitShift(e, op, size, m.value, c));
  if (fromCl) {
    e.line('}');
    e.known = UNKNOWN;
  }
  return true;
};

/** Templates of this group, by mnemonic. */
export const DATA_TEMPLATES: Record<string, Template> = {
  MOV: mov,
  MOVZX: extend(false),
  MOVSX: extend(true),
  LEA: lea,
  XCHG: xchg,
  CBW: cbw,
  CWD: cwd,
  NOP: nop,
  SETCC: setcc,
  CMOV: cmov,
  IMUL: imul,
  SHL: shift,
  SHR: shift,
  SAR: shift,
};

export type { Insn };

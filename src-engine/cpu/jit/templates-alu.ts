/**
 * Templates for the arithmetic and logic group (handlers/alu.ts): ADD OR ADC SBB AND SUB XOR
 * CMP TEST in every operand form and size, INC DEC NOT NEG on registers and memory. LOCKed
 * forms are left to the handlers (atomicUpdate).
 */
import type { Insn } from '../insn';
import { OP_IMM, OP_MEM, OP_REG } from '../decoder';
import { LF_ADC, LF_ADD, LF_DEC, LF_INC, LF_LOGIC, LF_SBB, LF_SUB } from '../lazy-flags';
import type { Emitter } from './emitter';
import { kindOf, sizeIndex, type Template } from './template';

// ALU operation numbers (handlers/alu.ts, group-1 order; TEST = 8).
const ADD = 0;
const OR = 1;
const ADC = 2;
const SBB = 3;
const AND = 4;
const SUB = 5;
const XOR = 6;
const CMP = 7;

/** Emits `op` on the int locals a, b (zero-extended for 8/16 bits); returns the result local. */
export function emitAlu(e: Emitter, op: number, size: number, a: string, b: string): string {
  const sz = sizeIndex(size);
  const r = e.tmp('r');
  const trunc = (x: string) => (size === 4 ? `(${x}) | 0` : `(${x}) & ${size === 2 ? 65535 : 255}`);
  switch (op) {
    case ADD:
      e.line(`const ${r} = ${trunc(`${a} + ${b}`)};`);
      e.setFlags((LF_ADD << 2) | sz, a, b, r);
      break;
    case SUB:
    case CMP:
      e.line(`const ${r} = ${trunc(`${a} - ${b}`)};`);
      e.setFlags((LF_SUB << 2) | sz, a, b, r);
      break;
    case OR:
      e.line(`const ${r} = ${a} | ${b};`);
      e.setFlags((LF_LOGIC << 2) | sz, a, b, r);
      break;
    case XOR:
      e.line(`const ${r} = ${a} ^ ${b};`);
      e.setFlags((LF_LOGIC << 2) | sz, a, b, r);
      break;
    case ADC:
    case SBB: {
      const c = e.tmp('c');
      e.line(`const ${c} = ${e.cf()};`);
      e.line(`const ${r} = ${trunc(op === ADC ? `${a} + ${b} + ${c}` : `${a} - ${b} - ${c}`)};`);
      e.setFlags(((op === ADC ? LF_ADC : LF_SBB) << 2) | sz, a, b, r, c);
      break;
    }
    default:
      // AND, TEST
      e.line(`const ${r} = ${a} & ${b};`);
      e.setFlags((LF_LOGIC << 2) | sz, a, b, r);
      break;
  }
  return r;
}

function immOf(i: Insn, size: number): string {
  return `${size === 4 ? i.imm | 0 : size === 2 ? i.imm & 0xffff : i.imm & 0xff}`;
}

const alu: Template = (e, i) => {
  if (i.lock) return false;
  const size = i.size;
  const k0 = kindOf(i, 0);
  const k1 = kindOf(i, 1);
  const op = i.op;
  const a = e.tmp('a');
  const b = e.tmp('b');
  if (k0 === OP_REG) {
    if (k1 === OP_REG) {
      e.line(`const ${a} = ${e.rd(size, i.r1)}, ${b} = ${e.rd(size, i.r2)};`);
    } else if (k1 === OP_MEM) {
      const v = e.load(size, e.lin(i, size, false));
      e.line(`const ${a} = ${e.rd(size, i.r1)}, ${b} = ${v};`);
    } else if (k1 === OP_IMM) {
      e.line(`const ${a} = ${e.rd(size, i.r1)}, ${b} = ${immOf(i, size)};`);
    } else {
      return false;
    }
    const r = emitAlu(e, op, size, a, b);
    if (op < CMP) e.wr(size, i.r1, r);
    return true;
  }
  if (k0 !== OP_MEM || (k1 !== OP_REG && k1 !== OP_IMM)) return false;
  const src = k1 === OP_REG ? e.rd(size, i.r2) : immOf(i, size);
  if (op >= CMP) {
    const v = e.load(size, e.lin(i, size, false));
    e.line(`const ${a} = ${v}, ${b} = ${src};`);
    emitAlu(e, op, size, a, b);
    return true;
  }
  const l = e.lin(i, size, true);
  const m = e.rmwLoad(size, l);
  e.line(`const ${a} = ${m.value}, ${b} = ${src};`);
  const r = emitAlu(e, op, size, a, b);
  e.rmwStore(size, l, m.off, r);
  return true;
};

/** INC/DEC of the int local v; returns the result local. */
function emitIncDec(e: Emitter, size: number, v: string, dec: boolean): string {
  const c = e.tmp('c');
  const r = e.tmp('r');
  e.line(`const ${c} = ${e.cf()};`);
  const x = dec ? `${v} - 1` : `${v} + 1`;
  e.line(`const ${r} = ${size === 4 ? `(${x}) | 0` : `(${x}) & ${size === 2 ? 65535 : 255}`};`);
  e.setFlags(((dec ? LF_DEC : LF_INC) << 2) | sizeIndex(size), v, '1', r, c);
  return r;
}

/** A one-operand template (INC DEC NOT NEG) from its computation on a value local. */
function unary(compute: (e: Emitter, size: number, v: string) => string): Template {
  return (e, i) => {
    if (i.lock) return false;
    const size = i.size;
    const k0 = kindOf(i, 0);
    if (k0 === OP_REG) {
      const v = e.tmp('v');
      e.line(`const ${v} = ${e.rd(size, i.r1)};`);
      e.wr(size, i.r1, compute(e, size, v));
      return true;
    }
    if (k0 !== OP_MEM) return false;
    const l = e.lin(i, size, true);
    const m = e.rmwLoad(size, l);
    e.rmwStore(size, l, m.off, compute(e, size, m.value));
    return true;
  };
}

const inc = unary((e, size, v) => emitIncDec(e, size, v, false));
const dec = unary((e, size, v) => emitIncDec(e, size, v, true));
const not = unary((e, size, v) => {
  const r = e.tmp('r');
  e.line(`const ${r} = ${size === 4 ? `~${v}` : `~${v} & ${size === 2 ? 65535 : 255}`};`);
  return r;
});
const neg = unary((e, size, v) => emitAlu(e, SUB, size, '0', v));

/** Templates of this group, by mnemonic. */
export const ALU_TEMPLATES: Record<string, Template> = {
  ADD: alu,
  OR: alu,
  ADC: alu,
  SBB: alu,
  AND: alu,
  SUB: alu,
  XOR: alu,
  CMP: alu,
  TEST: alu,
  INC: inc,
  DEC: dec,
  NOT: not,
  NEG: neg,
};

export { AND, XOR };

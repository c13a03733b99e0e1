/**
 * Instruction templates of the WebAssembly backend: the same forms and flag records as the
 * JavaScript templates (jit/templates-*.ts), written through the WasmEmitter. A template decides
 * whether it covers a form before it writes anything (returning false leaves the instruction to
 * its handler, called through an import).
 *
 * Covered: MOV (not segment registers), MOVZX MOVSX LEA, ADD OR ADC SBB AND SUB XOR CMP TEST in
 * every operand form and size, INC DEC NOT NEG, SHL SHR SAR by an immediate, JMP Jcc CALL RET,
 * PUSH (register, immediate, memory), POP to a register, XCHG of registers, NOP, SETcc, CMOVcc,
 * MUL and IMUL (one, two and three operands), LOOP LOOPE LOOPNE JCXZ; PUSHF POPF CLC STC CMC
 * (wasm-templates-flags.ts); 32-bit register shifts by CL, ROL ROR, SHLD SHRD
 * (wasm-templates-shift.ts); DIV r/m32 (wasm-templates-div.ts).
 */
import type { Insn } from '../insn';
import { OP_IMM, OP_MEM, OP_REG } from '../decoder';
import { LF_ADC, LF_ADD, LF_DEC, LF_INC, LF_LOGIC, LF_MUL, LF_SAR, LF_SBB, LF_SHL, LF_SHR, LF_SUB } from '../lazy-flags';
import { EAX, ECX, EDX } from '../state';
import { kindOf, sizeIndex } from '../jit/template';
import { Op } from './wasm-encoder';
import type { WasmEmitter } from './wasm-emitter';
import { FLAG_TEMPLATES } from './wasm-templates-flags';
import { SHIFT_TEMPLATES } from './wasm-templates-shift';
import { DIV_TEMPLATES } from './wasm-templates-div';

/** Writes `i` (true) or declines before writing anything (false). */
export type WasmTemplate = (e: WasmEmitter, i: Insn, last: boolean) => boolean;

// ALU operation numbers (handlers/alu.ts, group-1 order; TEST = 8).
const ADD = 0;
const OR = 1;
const ADC = 2;
const SBB = 3;
const SUB = 5;
const XOR = 6;
const CMP = 7;
// Group-2 operation numbers (handlers/shift.ts).
const SHL = 4;
const SHR = 5;
const SAL = 6;
const SAR = 7;

/** Truncates the value on the stack to `size` bytes. */
function trunc(e: WasmEmitter, size: number): void {
  if (size === 2) e.f.i32(0xffff).op(Op.I32And);
  else if (size === 1) e.f.i32(0xff).op(Op.I32And);
}

/** A new local holding the immediate truncated to `size`. */
function immLocal(e: WasmEmitter, i: Insn, size: number): number {
  const t = e.tmp();
  e.f.i32(size === 4 ? i.imm | 0 : size === 2 ? i.imm & 0xffff : i.imm & 0xff).set(t);
  return t;
}

/** A new local holding register operand `idx`. */
function regLocal(e: WasmEmitter, size: number, idx: number): number {
  const t = e.tmp();
  e.rd(size, idx);
  e.f.set(t);
  return t;
}

/** `op` on locals a, b; returns the result local (flags recorded as handlers/alu.ts does). */
function emitAlu(e: WasmEmitter, op: number, size: number, a: number, b: number): number {
  const f = e.f;
  const sz = sizeIndex(size);
  const r = e.tmp();
  switch (op) {
    case ADD:
      f.get(a).get(b).op(Op.I32Add);
      trunc(e, size);
      f.set(r);
      e.setFlags((LF_ADD << 2) | sz, a, b, r);
      break;
    case SUB:
    case CMP:
      f.get(a).get(b).op(Op.I32Sub);
      trunc(e, size);
      f.set(r);
      e.setFlags((LF_SUB << 2) | sz, a, b, r);
      break;
    case OR:
    case XOR:
      f.get(a).get(b).op(op === OR ? Op.I32Or : Op.I32Xor).set(r);
      e.setFlags((LF_LOGIC << 2) | sz, a, b, r);
      break;
    case ADC:
    case SBB: {
      const c = e.tmp();
      e.cf();
      f.set(c);
      f.get(a).get(b).op(op === ADC ? Op.I32Add : Op.I32Sub).get(c).op(op === ADC ? Op.I32Add : Op.I32Sub);
      trunc(e, size);
      f.set(r);
      e.setFlags(((op === ADC ? LF_ADC : LF_SBB) << 2) | sz, a, b, r, c);
      break;
    }
    default:
      // AND, TEST
      f.get(a).get(b).op(Op.I32And).set(r);
      e.setFlags((LF_LOGIC << 2) | sz, a, b, r);
      break;
  }
  return r;
}

const alu: WasmTemplate = (e, i) => {
  if (i.lock) return false;
  const size = i.size;
  const k0 = kindOf(i, 0);
  const k1 = kindOf(i, 1);
  const op = i.op;
  if (k0 === OP_REG) {
    if (k1 !== OP_REG && k1 !== OP_MEM && k1 !== OP_IMM) return false;
    let b: number;
    if (k1 === OP_REG) b = regLocal(e, size, i.r2);
    else if (k1 === OP_MEM) b = e.load(size, e.lin(i, size, false));
    else b = immLocal(e, i, size);
    const a = regLocal(e, size, i.r1);
    const r = emitAlu(e, op, size, a, b);
    if (op < CMP) e.wr(size, i.r1, r);
    return true;
  }
  if (k0 !== OP_MEM || (k1 !== OP_REG && k1 !== OP_IMM)) return false;
  if (op >= CMP) {
    const a = e.load(size, e.lin(i, size, false));
    const b = k1 === OP_REG ? regLocal(e, size, i.r2) : immLocal(e, i, size);
    emitAlu(e, op, size, a, b);
    return true;
  }
  const l = e.lin(i, size, true);
  const m = e.rmwLoad(size, l);
  const b = k1 === OP_REG ? regLocal(e, size, i.r2) : immLocal(e, i, size);
  const r = emitAlu(e, op, size, m.value, b);
  e.rmwStore(size, l, m.off, r);
  return true;
};

/** A one-operand template (INC DEC NOT NEG) from its computation on a value local. */
function unary(compute: (e: WasmEmitter, size: number, v: number) => number): WasmTemplate {
  return (e, i) => {
    if (i.lock) return false;
    const size = i.size;
    const k0 = kindOf(i, 0);
    if (k0 === OP_REG) {
      const v = regLocal(e, size, i.r1);
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

function incDec(dec: boolean): WasmTemplate {
  return unary((e, size, v) => {
    const f = e.f;
    const c = e.tmp();
    const r = e.tmp();
    const one = e.tmp();
    e.cf();
    f.set(c);
    f.get(v).i32(1).op(dec ? Op.I32Sub : Op.I32Add);
    trunc(e, size);
    f.set(r).i32(1).set(one);
    e.setFlags(((dec ? LF_DEC : LF_INC) << 2) | sizeIndex(size), v, one, r, c);
    return r;
  });
}

const not = unary((e, size, v) => {
  const r = e.tmp();
  e.f.get(v).i32(-1).op(Op.I32Xor);
  trunc(e, size);
  e.f.set(r);
  return r;
});

const neg = unary((e, size, v) => {
  const z = e.tmp();
  e.f.i32(0).set(z);
  return emitAlu(e, SUB, size, z, v);
});

const mov: WasmTemplate = (e, i) => {
  if (i.lock) return false;
  const size = i.size;
  const k0 = kindOf(i, 0);
  const k1 = kindOf(i, 1);
  if (k0 === OP_REG) {
    if (k1 === OP_REG) e.wr(size, i.r1, regLocal(e, size, i.r2));
    else if (k1 === OP_MEM) e.wr(size, i.r1, e.load(size, e.lin(i, size, false)));
    else if (k1 === OP_IMM) {
      const t = e.tmp();
      e.f.i32(i.imm | 0).set(t);
      e.wr(size, i.r1, t);
    } else return false;
    return true;
  }
  if (k0 !== OP_MEM || (k1 !== OP_REG && k1 !== OP_IMM)) return false;
  const v = k1 === OP_REG ? regLocal(e, size, i.r2) : immLocal(e, i, size);
  e.store(size, e.lin(i, size, true), v);
  return true;
};

function extend(signed: boolean): WasmTemplate {
  return (e, i) => {
    const ss = i.imm;
    const k1 = kindOf(i, 1);
    if (k1 !== OP_REG && k1 !== OP_MEM) return false;
    const v = k1 === OP_REG ? regLocal(e, ss, i.r2) : e.load(ss, e.lin(i, ss, false));
    if (signed) {
      e.f.get(v).op(ss === 1 ? Op.I32Extend8S : Op.I32Extend16S).set(v);
    }
    e.wr(i.size === 4 ? 4 : 2, i.r1, v);
    return true;
  };
}

const lea: WasmTemplate = (e, i) => {
  if (kindOf(i, 1) !== OP_MEM) return false;
  const t = e.tmp();
  e.ea(i);
  e.f.set(t);
  e.wr(i.size === 4 ? 4 : 2, i.r1, t);
  return true;
};

const xchg: WasmTemplate = (e, i) => {
  if (kindOf(i, 0) !== OP_REG || kindOf(i, 1) !== OP_REG || i.lock) return false;
  const x = regLocal(e, i.size, i.r1);
  const y = regLocal(e, i.size, i.r2);
  e.wr(i.size, i.r1, y);
  e.wr(i.size, i.r2, x);
  return true;
};

const nop: WasmTemplate = (_e, i) => !i.lock;

const setcc: WasmTemplate = (e, i) => {
  const k0 = kindOf(i, 0);
  if (k0 !== OP_REG && k0 !== OP_MEM) return false;
  const v = e.tmp();
  if (k0 === OP_REG) {
    e.cond(i.op);
    e.f.set(v);
    e.wr(1, i.r1, v);
    return true;
  }
  const l = e.lin(i, 1, true);
  e.cond(i.op);
  e.f.set(v);
  e.store(1, l, v);
  return true;
};

const cmov: WasmTemplate = (e, i) => {
  const size = i.size;
  const k1 = kindOf(i, 1);
  if (k1 !== OP_REG && k1 !== OP_MEM) return false;
  const v = k1 === OP_REG ? regLocal(e, size, i.r2) : e.load(size, e.lin(i, size, false));
  e.cond(i.op);
  const b = e.f.open(Op.If);
  e.wr(size, i.r1, v);
  e.f.end(b);
  return true;
};

/** SHL SHR SAR by an immediate count (1..31) on registers and memory. */
const shift: WasmTemplate = (e, i) => {
  const op = i.op;
  if (op !== SHL && op !== SHR && op !== SAL && op !== SAR) return false;
  const k0 = kindOf(i, 0);
  const c = i.imm & 31;
  if ((k0 !== OP_REG && k0 !== OP_MEM) || i.r2 < 0 || c === 0) return false;
  const size = i.size;
  const compute = (v: number): number => {
    const f = e.f;
    const bits = size * 8;
    const mask = size === 4 ? -1 : (1 << bits) - 1;
    const sz = sizeIndex(size);
    const r = e.tmp();
    const bf = e.tmp();
    const zero = e.tmp();
    f.i32(0).set(zero);
    if (op === SHL || op === SAL) {
      f.get(v).i32(c).op(Op.I32Shl).i32(mask).op(Op.I32And).set(r);
      if (c <= bits) f.get(v).i32(c - 1).op(Op.I32Shl).i32(bits - 1).op(Op.I32ShrU).i32(1).op(Op.I32And).set(bf);
      else f.i32(0).set(bf);
      e.setFlags((LF_SHL << 2) | sz, v, zero, r, bf);
      return r;
    }
    const aux = e.tmp();
    if (op === SHR) {
      if (c > bits) f.i32(0).set(bf);
      else f.get(v).i32(c - 1).op(Op.I32ShrU).i32(mask).op(Op.I32And).set(bf);
      if (c >= bits) f.i32(0).set(r);
      else f.get(v).i32(c).op(Op.I32ShrU).i32(mask).op(Op.I32And).set(r);
      f.get(bf).i32(1).op(Op.I32And).set(aux);
      e.setFlags((LF_SHR << 2) | sz, bf, zero, r, aux);
      return r;
    }
    f.get(v);
    if (size === 2) f.op(Op.I32Extend16S);
    else if (size === 1) f.op(Op.I32Extend8S);
    const sv = e.tmp();
    f.set(sv);
    f.get(sv).i32(Math.min(c - 1, 31)).op(Op.I32ShrS).i32(mask).op(Op.I32And).set(bf);
    f.get(sv).i32(Math.min(c, 31)).op(Op.I32ShrS).i32(mask).op(Op.I32And).set(r);
    f.get(bf).i32(1).op(Op.I32And).set(aux);
    e.setFlags((LF_SAR << 2) | sz, bf, zero, r, aux);
    return r;
  };
  if (k0 === OP_REG) {
    e.wr(size, i.r1, compute(regLocal(e, size, i.r1)));
    return true;
  }
  const l = e.lin(i, size, true);
  const m = e.rmwLoad(size, l);
  e.rmwStore(size, l, m.off, compute(m.value));
  return true;
};

const jmp: WasmTemplate = (e, i) => {
  e.checkTarget({ value: i.target });
  e.endJump(i.target);
  return true;
};

const jcc: WasmTemplate = (e, i) => {
  const c = e.tmp();
  e.cond(i.op);
  e.f.set(c);
  if (i.target >>> 0 > e.layout.csLimit >>> 0) {
    e.f.get(c);
    const b = e.f.open(Op.If);
    e.checkTarget({ value: i.target });
    e.f.end(b);
  }
  e.endBranch(c, i.target);
  return true;
};

const call: WasmTemplate = (e, i) => {
  const size = i.size === 2 ? 2 : 4;
  e.checkTarget({ value: i.target });
  const v = e.tmp();
  e.f.i32(i.next).set(v);
  e.push(size, v);
  e.endJump(i.target);
  return true;
};

const ret: WasmTemplate = (e, i) => {
  const size = i.size === 2 ? 2 : 4;
  const t = e.peek(size, 0);
  e.checkTarget(t);
  e.adjustSp(size + (i.imm & 0xffff));
  e.endDynamic(t);
  return true;
};

const push: WasmTemplate = (e, i) => {
  const size = i.size;
  const k0 = kindOf(i, 0);
  if ((size !== 4 && size !== 2) || (k0 !== OP_REG && k0 !== OP_IMM && k0 !== OP_MEM)) return false;
  let v: number;
  if (k0 === OP_REG) v = regLocal(e, size, i.r1);
  else if (k0 === OP_IMM) {
    v = e.tmp();
    e.f.i32(i.imm | 0).set(v);
  } else v = e.load(size, e.lin(i, size, false));
  e.push(size, v);
  return true;
};

const pop: WasmTemplate = (e, i) => {
  const size = i.size;
  if ((size !== 4 && size !== 2) || kindOf(i, 0) !== OP_REG) return false;
  const v = e.pop(size);
  e.wr(size, i.r1, v);
  return true;
};

/** Records MUL/IMUL flags (handlers/muldiv.ts mulFlags: A and B zero, AUX = CF = OF). */
function mulFlags(e: WasmEmitter, size: number, lo: number, cf: number): void {
  const z = e.tmp();
  e.f.i32(0).set(z);
  e.setFlags((LF_MUL << 2) | sizeIndex(size), z, z, lo, cf);
}

/** MUL and IMUL with one operand: AX, DX:AX or EDX:EAX = accumulator times r/m. */
function mul1(signed: boolean): WasmTemplate {
  return (e, i) => {
    const size = i.size;
    const k0 = kindOf(i, 0);
    if (kindOf(i, 1) !== 0 || (k0 !== OP_REG && k0 !== OP_MEM)) return false;
    const f = e.f;
    const src = k0 === OP_REG ? regLocal(e, size, i.r1) : e.load(size, e.lin(i, size, false));
    const lo = e.tmp();
    const hi = e.tmp();
    const cf = e.tmp();
    if (size === 4) {
      const p = e.f.local(0x7e);
      const ext = signed ? Op.I64ExtendI32S : Op.I64ExtendI32U;
      f.get(e.r[EAX]).op(ext).get(src).op(ext).op(Op.I64Mul).tee(p).op(Op.I32WrapI64).set(lo);
      f.get(p).i64(32).op(Op.I64ShrU).op(Op.I32WrapI64).set(hi);
      if (signed) f.get(hi).get(lo).i32(31).op(Op.I32ShrS).op(Op.I32Ne).set(cf);
      else f.get(hi).i32(0).op(Op.I32Ne).set(cf);
      f.get(lo).set(e.r[EAX]).get(hi).set(e.r[EDX]);
      mulFlags(e, size, lo, cf);
      return true;
    }
    const ext = size === 1 ? Op.I32Extend8S : Op.I32Extend16S;
    const pr = e.tmp();
    e.rd(size, 0);
    if (signed) f.op(ext);
    f.get(src);
    if (signed) f.op(ext);
    f.op(Op.I32Mul).set(pr);
    if (size === 1) {
      f.get(pr).i32(0xff).op(Op.I32And).set(lo);
      if (signed) f.get(pr).get(pr).op(Op.I32Extend8S).op(Op.I32Ne).set(cf);
      else f.get(pr).i32(0xff00).op(Op.I32And).i32(0).op(Op.I32Ne).set(cf);
      e.wr(2, 0, pr);
    } else {
      f.get(pr).i32(0xffff).op(Op.I32And).set(lo);
      f.get(pr).i32(16).op(Op.I32ShrS).set(hi);
      if (signed) f.get(pr).get(pr).op(Op.I32Extend16S).op(Op.I32Ne).set(cf);
      else f.get(pr).i32(-65536).op(Op.I32And).i32(0).op(Op.I32Ne).set(cf);
      e.wr(2, 0, pr);
      e.wr(2, EDX * 2, hi);
    }
    mulFlags(e, size, lo, cf);
    return true;
  };
}

const mulOne = mul1(false);
const imulOne = mul1(true);

/** IMUL r, r/m and IMUL r, r/m, imm (16 and 32 bits), else the one-operand form. */
const imul: WasmTemplate = (e, i, last) => {
  const k1 = kindOf(i, 1);
  if (kindOf(i, 0) !== OP_REG || (k1 !== OP_REG && k1 !== OP_MEM)) return imulOne(e, i, last);
  const size = i.size;
  if (size !== 4 && size !== 2) return false;
  const f = e.f;
  const b = k1 === OP_MEM ? e.load(size, e.lin(i, size, false)) : regLocal(e, size, i.r2);
  const a = e.tmp();
  if (kindOf(i, 2) === OP_IMM) f.i32(i.imm | 0).set(a);
  else {
    e.rd(size, i.r1);
    f.set(a);
  }
  const lo = e.tmp();
  const cf = e.tmp();
  if (size === 4) {
    const p = f.local(0x7e);
    f.get(b).op(Op.I64ExtendI32S).get(a).op(Op.I64ExtendI32S).op(Op.I64Mul).tee(p).op(Op.I32WrapI64).set(lo);
    f.get(p).get(lo).op(Op.I64ExtendI32S).op(Op.I64Ne).set(cf);
  } else {
    const pr = e.tmp();
    f.get(b).op(Op.I32Extend16S).get(a).op(Op.I32Extend16S).op(Op.I32Mul).set(pr);
    f.get(pr).i32(0xffff).op(Op.I32And).set(lo);
    f.get(pr).get(pr).op(Op.I32Extend16S).op(Op.I32Ne).set(cf);
  }
  mulFlags(e, size, lo, cf);
  e.wr(size, i.r1, lo);
  return true;
};

function loop(kind: 'LOOP' | 'LOOPE' | 'LOOPNE'): WasmTemplate {
  return (e, i) => {
    const f = e.f;
    const cnt = e.tmp();
    const tk = e.tmp();
    f.get(e.r[ECX]).i32(1).op(Op.I32Sub);
    if (i.a16) f.i32(0xffff).op(Op.I32And);
    f.tee(cnt).i32(0).op(Op.I32Ne);
    if (kind !== 'LOOP') {
      e.cond(kind === 'LOOPE' ? 4 : 5);
      f.op(Op.I32And);
    }
    f.set(tk);
    if (i.target >>> 0 > e.layout.csLimit >>> 0) {
      f.get(tk);
      const b = f.open(Op.If);
      e.checkTarget({ value: i.target });
      f.end(b);
    }
    if (i.a16) e.wr(2, ECX * 2, cnt);
    else e.wr(4, ECX, cnt);
    e.endBranch(tk, i.target);
    return true;
  };
}

const jcxz: WasmTemplate = (e, i) => {
  const f = e.f;
  const tk = e.tmp();
  f.get(e.r[ECX]);
  if (i.a16) f.i32(0xffff).op(Op.I32And);
  f.op(Op.I32Eqz).set(tk);
  if (i.target >>> 0 > e.layout.csLimit >>> 0) {
    f.get(tk);
    const b = f.open(Op.If);
    e.checkTarget({ value: i.target });
    f.end(b);
  }
  e.endBranch(tk, i.target);
  return true;
};

/** The first of two templates that covers the form (each declines before writing anything). */
function either(a: WasmTemplate, b: WasmTemplate): WasmTemplate {
  return (e, i, last) => a(e, i, last) || b(e, i, last);
}

/** Every template of the backend, by mnemonic. */
export const WASM_TEMPLATES: Readonly<Record<string, WasmTemplate>> = {
  ADD: alu, OR: alu, ADC: alu, SBB: alu, AND: alu, SUB: alu, XOR: alu, CMP: alu, TEST: alu,
  INC: incDec(false), DEC: incDec(true), NOT: not, NEG: neg,
  MOV: mov, MOVZX: extend(false), MOVSX: extend(true), LEA: lea, XCHG: xchg, NOP: nop,
  SETCC: setcc, CMOV: cmov,
  JMP: jmp, JCC: jcc, CALL: call, RET: ret, PUSH: push, POP: pop,
  MUL: mulOne, IMUL: imul, LOOP: loop('LOOP'), LOOPE: loop('LOOPE'), LOOPNE: loop('LOOPNE'), JCXZ: jcxz,
  ...FLAG_TEMPLATES,
  ...SHIFT_TEMPLATES,
  ...DIV_TEMPLATES,
  SHL: either(shift, SHIFT_TEMPLATES.SHL), SHR: either(shift, SHIFT_TEMPLATES.SHR), SAR: either(shift, SHIFT_TEMPLATES.SAR),
};

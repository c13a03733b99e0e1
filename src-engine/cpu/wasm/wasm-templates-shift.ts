/**
 * WebAssembly templates for 32-bit register shifts the immediate-count template (wasm-templates.ts
 * `shift`) leaves out: SHL SAL SHR SAR by CL, ROL ROR by an immediate or CL, and SHLD SHRD by an
 * immediate or CL. They follow handlers/shift.ts exactly: the count is masked to 5 bits and a
 * masked count of 0 changes nothing, flags included (a run-time test for CL); shifts record
 * their flags lazily (LF_SHL / LF_SHR / LF_SAR with the operand and the last bit out), rotates
 * fold the record into EFLAGS and change only CF and OF.
 *
 * Sizes 8 and 16 (their counts may exceed the width), memory operands, RCL and RCR stay with
 * their handlers.
 */
import type { Insn } from '../insn';
import { OP_IMM, OP_REG } from '../decoder';
import { LF_SAR, LF_SHL, LF_SHR, SZ32 } from '../lazy-flags';
import { CF, ECX, OF, S_EFLAGS } from '../state';
import { UNKNOWN } from '../jit/flag-exprs';
import { kindOf } from '../jit/template';
import { Op, type Label } from './wasm-encoder';
import type { WasmEmitter } from './wasm-emitter';
import type { WasmTemplate } from './wasm-templates';

// Group-2 operation numbers (handlers/shift.ts).
const ROL = 0;
const ROR = 1;
const SHL = 4;
const SHR = 5;
const SAL = 6;
const SAR = 7;
/** Shift counts are masked to 5 bits. */
const COUNT_MASK = 31;
/** Bit position of OF in EFLAGS. */
const OF_SHIFT = 11;

/**
 * Puts the masked count in a new local: `imm` (a number, 1..31) or CL. Returns the local and,
 * for CL, the If block it opened (the count may be 0 at run time), which done() ends.
 */
function count(e: WasmEmitter, imm: number | null): { c: number; open: Label | null } {
  const f = e.f;
  const c = e.tmp();
  if (imm !== null) {
    f.i32(imm).set(c);
    return { c, open: null };
  }
  f.get(e.r[ECX]).i32(COUNT_MASK).op(Op.I32And).tee(c);
  return { c, open: f.open(Op.If) };
}

/** Ends what count() opened; the flags are unknown after a run-time count. */
function done(e: WasmEmitter, open: Label | null): void {
  if (open === null) return;
  e.f.end(open);
  e.known = UNKNOWN;
}

/** The immediate count of a group-2 or double shift (null: CL), or undefined when masked to 0. */
function immCount(i: Insn, isImm: boolean): number | null | undefined {
  if (!isImm) return null;
  const c = i.imm & COUNT_MASK;
  return c === 0 ? undefined : c;
}

/** SHL SAL SHR SAR by CL; ROL ROR by CL or an immediate (32-bit registers). */
const group2: WasmTemplate = (e, i) => {
  const op = i.op;
  const rotate = op === ROL || op === ROR;
  if (i.size !== 4 || kindOf(i, 0) !== OP_REG) return false;
  if (!rotate && (op !== SHL && op !== SAL && op !== SHR && op !== SAR || i.r2 >= 0)) return false;
  const imm = immCount(i, i.r2 >= 0);
  if (imm === undefined) return false;
  const f = e.f;
  const v = e.tmp();
  const r = e.tmp();
  const bf = e.tmp();
  const zero = e.tmp();
  f.get(e.r[i.r1]).set(v);
  const { c, open } = count(e, imm);
  if (rotate) {
    const fl = e.tmp();
    e.eflags();
    f.set(fl);
    f.get(v).get(c).op(op === ROL ? Op.I32Rotl : Op.I32Rotr).set(r);
    // ROL: CF = bit 0, OF = MSB ^ CF. ROR: CF = MSB, OF = MSB ^ bit 30.
    if (op === ROL) f.get(r).i32(1).op(Op.I32And).set(bf);
    else f.get(r).i32(31).op(Op.I32ShrU).set(bf);
    f.get(fl).i32(~(CF | OF)).op(Op.I32And).get(bf).op(Op.I32Or);
    f.get(r).i32(31).op(Op.I32ShrU);
    if (op === ROL) f.get(bf);
    else f.get(r).i32(30).op(Op.I32ShrU).i32(1).op(Op.I32And);
    f.op(Op.I32Xor).i32(OF_SHIFT).op(Op.I32Shl).op(Op.I32Or).set(fl);
    f.i32(0).get(fl).mem(Op.I32Store, e.stAddr(S_EFLAGS));
    f.i32(0).set(e.fo);
    e.known = 0;
  } else {
    f.i32(0).set(zero);
    if (op === SHL || op === SAL) {
      f.get(v).get(c).op(Op.I32Shl).set(r);
      f.get(v).i32(32).get(c).op(Op.I32Sub).op(Op.I32ShrU).i32(1).op(Op.I32And).set(bf);
      e.setFlags((LF_SHL << 2) | SZ32, v, zero, r, bf);
    } else {
      // The value before the last single shift, then the result and the bit shifted out.
      const sr = op === SHR ? Op.I32ShrU : Op.I32ShrS;
      const aux = e.tmp();
      f.get(v).get(c).i32(1).op(Op.I32Sub).op(sr).set(bf);
      f.get(bf).i32(1).op(sr).set(r);
      f.get(bf).i32(1).op(Op.I32And).set(aux);
      e.setFlags(((op === SHR ? LF_SHR : LF_SAR) << 2) | SZ32, bf, zero, r, aux);
    }
  }
  f.get(r).set(e.r[i.r1]);
  done(e, open);
  return true;
};

/** SHLD (left) / SHRD with a 32-bit register destination, by an immediate or CL. */
function double(left: boolean): WasmTemplate {
  return (e, i) => {
    if (i.size !== 4 || kindOf(i, 0) !== OP_REG) return false;
    const imm = immCount(i, kindOf(i, 2) === OP_IMM);
    if (imm === undefined) return false;
    const f = e.f;
    const d = e.tmp();
    const s = e.tmp();
    const r = e.tmp();
    const bf = e.tmp();
    const zero = e.tmp();
    f.get(e.r[i.r1]).set(d);
    f.get(e.r[i.r2]).set(s);
    const { c, open } = count(e, imm);
    f.i32(0).set(zero);
    const back = (): void => {
      f.i32(32).get(c).op(Op.I32Sub);
    };
    if (left) {
      // res = dst << c | src >>> (32 - c); CF = bit (32 - c) of dst.
      f.get(d).get(c).op(Op.I32Shl).get(s);
      back();
      f.op(Op.I32ShrU).op(Op.I32Or).set(r);
      f.get(d);
      back();
      f.op(Op.I32ShrU).i32(1).op(Op.I32And).set(bf);
      e.setFlags((LF_SHL << 2) | SZ32, d, zero, r, bf);
    } else {
      // res = dst >>> c | src << (32 - c); CF = bit (c - 1) of dst.
      f.get(d).get(c).op(Op.I32ShrU).get(s);
      back();
      f.op(Op.I32Shl).op(Op.I32Or).set(r);
      f.get(d).get(c).i32(1).op(Op.I32Sub).op(Op.I32ShrU).i32(1).op(Op.I32And).set(bf);
      e.setFlags((LF_SHR << 2) | SZ32, d, zero, r, bf);
    }
    f.get(r).set(e.r[i.r1]);
    done(e, open);
    return true;
  };
}

/** The templates of this file by mnemonic (SHL SHR SAR: after the immediate-count template). */
export const SHIFT_TEMPLATES: Record<string, WasmTemplate> = {
  SHL: group2,
  SHR: group2,
  SAR: group2,
  ROL: group2,
  ROR: group2,
  SHLD: double(true),
  SHRD: double(false),
};

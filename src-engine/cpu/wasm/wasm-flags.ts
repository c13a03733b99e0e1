/**
 * Flags and conditions in WebAssembly over the lazy-flags locals of a region (lazy-flags.ts
 * defines the record; jit/flags-runtime.ts has the same rules in JavaScript). A condition whose
 * flags operation is known at compile time (set earlier in the block) is written inline; any
 * other calls the module's own helpers ($cf, $cond), which follow flags-runtime.ts case by case.
 *
 * Operands of 8- and 16-bit records are zero-extended, so unsigned compares serve every size.
 */
import { LF_ADC, LF_ADD, LF_DEC, LF_INC, LF_LOGIC, LF_MUL, LF_SAR, LF_SBB, LF_SHL, LF_SHR, LF_SUB, SZ16, SZ8 } from '../lazy-flags';
import { ARITH_FLAGS } from '../state';
import { UNKNOWN } from '../jit/flag-exprs';
import { FnBuilder, I32, Op, type ModuleBuilder } from './wasm-encoder';
import type { WasmEmitter } from './wasm-emitter';

/** Sign-bit position per size index. */
const SIGN_SHIFT = [7, 15, 31];
// EFLAGS bit positions (when no operation is pending).
const EF_CF = 1;
const EF_PF_SHIFT = 2;
const EF_ZF_SHIFT = 6;
const EF_SF_SHIFT = 7;
const EF_OF_SHIFT = 11;
/** Bits of the low byte PF looks at. */
const LOW_BYTE = 0xff;
const EF_AF_SHIFT = 4;
/** Bit of an operand-and-result XOR AF comes from (the carry out of bit 3). */
const AF_BIT_SHIFT = 4;

/** Pushes the six values of the record and EFLAGS (the helpers' arguments). */
function pushRecord(e: WasmEmitter): void {
  e.f.get(e.fo).get(e.fa).get(e.fb).get(e.fr).get(e.fx);
  e.eflagsLoad();
}

/** Pushes the sign-extended operand local `v` of size index `sz`. */
function signed(e: WasmEmitter, v: number, sz: number): void {
  e.f.get(v);
  if (sz === SZ8) e.f.op(Op.I32Extend8S);
  else if (sz === SZ16) e.f.op(Op.I32Extend16S);
}

/** Pushes the sign bit of the result for size index `sz`. */
function sign(e: WasmEmitter, sz: number): void {
  e.f.get(e.fr).i32(SIGN_SHIFT[sz]).op(Op.I32ShrU).i32(1).op(Op.I32And);
}

/** Pushes CF (0/1). */
export function emitCf(e: WasmEmitter, known: number): void {
  const f = e.f;
  if (known !== UNKNOWN && known !== 0) {
    switch (known >> 2) {
      case LF_ADD:
        f.get(e.fr).get(e.fa).op(Op.I32LtU);
        return;
      case LF_SUB:
        f.get(e.fa).get(e.fb).op(Op.I32LtU);
        return;
      case LF_LOGIC:
        f.i32(0);
        return;
      case LF_INC: case LF_DEC: case LF_SHL: case LF_SHR: case LF_SAR: case LF_MUL:
        f.get(e.fx).i32(1).op(Op.I32And);
        return;
      default:
        break;
    }
  }
  pushRecord(e);
  f.call(e.imp.cfFn);
}

/** Pushes condition `cc` (0/1). */
export function emitCond(e: WasmEmitter, cc: number, known: number): void {
  const f = e.f;
  if (known !== UNKNOWN && known !== 0) {
    const kind = known >> 2;
    const sz = known & 3;
    if (kind === LF_SUB) {
      switch (cc) {
        case 0x2: f.get(e.fa).get(e.fb).op(Op.I32LtU); return;
        case 0x3: f.get(e.fa).get(e.fb).op(Op.I32GeU); return;
        case 0x6: f.get(e.fa).get(e.fb).op(Op.I32LeU); return;
        case 0x7: f.get(e.fa).get(e.fb).op(Op.I32GtU); return;
        case 0xc: signed(e, e.fa, sz); signed(e, e.fb, sz); f.op(Op.I32LtS); return;
        case 0xd: signed(e, e.fa, sz); signed(e, e.fb, sz); f.op(Op.I32GeS); return;
        case 0xe: signed(e, e.fa, sz); signed(e, e.fb, sz); f.op(Op.I32LeS); return;
        case 0xf: signed(e, e.fa, sz); signed(e, e.fb, sz); f.op(Op.I32GtS); return;
        default: break;
      }
    }
    if (kind === LF_LOGIC) {
      switch (cc) {
        case 0x0: case 0x2: f.i32(0); return;
        case 0x1: case 0x3: f.i32(1); return;
        case 0x6: f.get(e.fr).op(Op.I32Eqz); return;
        case 0x7: f.get(e.fr).i32(0).op(Op.I32Ne); return;
        case 0xc: sign(e, sz); return;
        case 0xd: sign(e, sz); f.op(Op.I32Eqz); return;
        default: break;
      }
    }
    // ZF and SF read the same way after every operation.
    switch (cc) {
      case 0x4: f.get(e.fr).op(Op.I32Eqz); return;
      case 0x5: f.get(e.fr).i32(0).op(Op.I32Ne); return;
      case 0x8: sign(e, sz); return;
      case 0x9: sign(e, sz); f.op(Op.I32Eqz); return;
      default: break;
    }
  }
  pushRecord(e);
  f.i32(cc).call(e.imp.condFn);
}

/** Params of the helpers: op, a, b, r, aux, eflags. */
const OP = 0;
const A = 1;
const B = 2;
const R = 3;
const AUX = 4;
const EF = 5;
const CC = 6;

/** Pushes CF of the record in the helper's parameters. */
function cfBody(f: FnBuilder): void {
  const done = f.open(Op.Block, true);
  f.get(EF).i32(EF_CF).op(Op.I32And).get(OP).op(Op.I32Eqz).brIf(done).op(Op.Drop);
  const kindIs = (k: number): void => {
    f.get(OP).i32(2).op(Op.I32ShrU).i32(k).op(Op.I32Eq);
  };
  // ADD: r < a; ADC: aux ? r <= a : r < a; SUB: a < b; SBB: aux ? a <= b : a < b; logic 0; else aux & 1.
  f.get(R).get(A).op(Op.I32LtU);
  kindIs(LF_ADD);
  f.brIf(done).op(Op.Drop);
  f.get(R).get(A).op(Op.I32LeU).get(R).get(A).op(Op.I32LtU).get(AUX).op(Op.Select);
  kindIs(LF_ADC);
  f.brIf(done).op(Op.Drop);
  f.get(A).get(B).op(Op.I32LtU);
  kindIs(LF_SUB);
  f.brIf(done).op(Op.Drop);
  f.get(A).get(B).op(Op.I32LeU).get(A).get(B).op(Op.I32LtU).get(AUX).op(Op.Select);
  kindIs(LF_SBB);
  f.brIf(done).op(Op.Drop);
  f.i32(0);
  kindIs(LF_LOGIC);
  f.brIf(done).op(Op.Drop);
  f.get(AUX).i32(1).op(Op.I32And);
  f.end(done);
}

/** Pushes OF of the record (sign shift in local `sh`). */
function ofBody(f: FnBuilder, sh: number): void {
  const done = f.open(Op.Block, true);
  f.get(EF).i32(EF_OF_SHIFT).op(Op.I32ShrU).i32(1).op(Op.I32And).get(OP).op(Op.I32Eqz).brIf(done).op(Op.Drop);
  const kind = f.local();
  f.get(OP).i32(2).op(Op.I32ShrU).set(kind);
  const when = (k: number): void => {
    f.get(kind).i32(k).op(Op.I32Eq).brIf(done).op(Op.Drop);
  };
  f.get(A).get(R).op(Op.I32Xor).get(B).get(R).op(Op.I32Xor).op(Op.I32And).get(sh).op(Op.I32ShrU).i32(1).op(Op.I32And);
  when(LF_ADD);
  f.get(A).get(R).op(Op.I32Xor).get(B).get(R).op(Op.I32Xor).op(Op.I32And).get(sh).op(Op.I32ShrU).i32(1).op(Op.I32And);
  when(LF_ADC);
  f.get(A).get(B).op(Op.I32Xor).get(A).get(R).op(Op.I32Xor).op(Op.I32And).get(sh).op(Op.I32ShrU).i32(1).op(Op.I32And);
  when(LF_SUB);
  f.get(A).get(B).op(Op.I32Xor).get(A).get(R).op(Op.I32Xor).op(Op.I32And).get(sh).op(Op.I32ShrU).i32(1).op(Op.I32And);
  when(LF_SBB);
  f.i32(0);
  when(LF_LOGIC);
  f.get(R).i32(1).get(sh).op(Op.I32Shl).op(Op.I32Eq);
  when(LF_INC);
  f.get(R).i32(1).get(sh).op(Op.I32Shl).i32(1).op(Op.I32Sub).op(Op.I32Eq);
  when(LF_DEC);
  f.get(R).get(sh).op(Op.I32ShrU).get(AUX).op(Op.I32Xor).i32(1).op(Op.I32And);
  when(LF_SHL);
  f.get(A).get(R).op(Op.I32Xor).get(sh).op(Op.I32ShrU).i32(1).op(Op.I32And);
  when(LF_SHR);
  f.get(A).get(R).op(Op.I32Xor).get(sh).op(Op.I32ShrU).i32(1).op(Op.I32And);
  when(LF_SAR);
  f.get(AUX).i32(1).op(Op.I32And);
  when(LF_MUL);
  f.i32(0);
  f.end(done);
}

/** Pushes a flag of the record read from the result, or from EFLAGS bit `efShift` when no op is pending. */
function fromResult(f: FnBuilder, efShift: number, fromR: () => void): void {
  f.get(OP);
  const b = f.open(Op.If, true);
  fromR();
  f.else();
  f.get(EF).i32(efShift).op(Op.I32ShrU).i32(1).op(Op.I32And);
  f.end(b);
}

/** Pushes EFLAGS with the arithmetic flags made from the lazy record (lazy-flags.ts getFlags). */
export function emitEflags(e: WasmEmitter, known: number): void {
  if (known === 0) {
    e.eflagsLoad();
    return;
  }
  pushRecord(e);
  e.f.call(e.imp.flagsFn);
}

/** Pushes SIGN_SHIFT[op & 3] (the sign bit of the record's size). */
function signShift(f: FnBuilder): void {
  f.i32(SIGN_SHIFT[0]);
  f.i32(SIGN_SHIFT[1]).i32(SIGN_SHIFT[2]).get(OP).i32(3).op(Op.I32And).i32(1).op(Op.I32Eq).op(Op.Select);
  f.get(OP).i32(3).op(Op.I32And).op(Op.I32Eqz).op(Op.Select);
}

/**
 * The body of $flags(op, a, b, r, aux, eflags): EFLAGS when no op is pending, else EFLAGS with
 * CF PF AF ZF SF OF of the record (getCF ... getOF in lazy-flags.ts, AF for the add, subtract,
 * increment and decrement kinds only).
 */
function flagsBody(f: FnBuilder, cfFn: number): void {
  const sh = f.local();
  const kind = f.local();
  f.get(OP).op(Op.I32Eqz);
  const none = f.open(Op.If);
  f.get(EF).op(Op.Return);
  f.end(none);
  signShift(f);
  f.set(sh);
  f.get(OP).i32(2).op(Op.I32ShrU).set(kind);
  f.get(EF).i32(~ARITH_FLAGS).op(Op.I32And);
  for (const p of [OP, A, B, R, AUX, EF]) f.get(p);
  f.call(cfFn).op(Op.I32Or);
  f.get(R).i32(LOW_BYTE).op(Op.I32And).op(Op.I32Popcnt).i32(1).op(Op.I32And).i32(1).op(Op.I32Xor).i32(EF_PF_SHIFT).op(Op.I32Shl).op(Op.I32Or);
  // AF: kinds ADD..SBB (1..4), INC, DEC (6, 7); not LOGIC (5), shifts or MUL.
  f.get(A).get(B).op(Op.I32Xor).get(R).op(Op.I32Xor).i32(AF_BIT_SHIFT).op(Op.I32ShrU).i32(1).op(Op.I32And);
  f.get(kind).i32(LF_ADD).op(Op.I32Sub).i32(LF_DEC - LF_ADD + 1).op(Op.I32LtU).get(kind).i32(LF_LOGIC).op(Op.I32Ne).op(Op.I32And);
  f.op(Op.I32And).i32(EF_AF_SHIFT).op(Op.I32Shl).op(Op.I32Or);
  f.get(R).op(Op.I32Eqz).i32(EF_ZF_SHIFT).op(Op.I32Shl).op(Op.I32Or);
  f.get(R).get(sh).op(Op.I32ShrU).i32(1).op(Op.I32And).i32(EF_SF_SHIFT).op(Op.I32Shl).op(Op.I32Or);
  ofBody(f, sh);
  f.i32(EF_OF_SHIFT).op(Op.I32Shl).op(Op.I32Or);
}

/** Adds the helpers $cf, $cond and $flags to a module; returns their indices. */
export function addFlagHelpers(mb: ModuleBuilder): { cfFn: number; condFn: number; flagsFn: number } {
  const rec = [I32, I32, I32, I32, I32, I32];
  const cf = new FnBuilder(rec, [I32]);
  cfBody(cf);
  const cfFn = mb.addFn(cf);

  const c = new FnBuilder([...rec, I32], [I32]);
  const sh = c.local();
  const v = c.local();
  // sh = SIGN_SHIFT[op & 3] (select a b c: a when c is nonzero): size 0 ? 7 : size 1 ? 15 : 31
  signShift(c);
  c.set(sh);
  const zf = (): void => fromResult(c, EF_ZF_SHIFT, () => c.get(R).op(Op.I32Eqz));
  const sf = (): void => fromResult(c, EF_SF_SHIFT, () => c.get(R).get(sh).op(Op.I32ShrU).i32(1).op(Op.I32And));
  const pf = (): void => fromResult(c, EF_PF_SHIFT, () => c.get(R).i32(LOW_BYTE).op(Op.I32And).op(Op.I32Popcnt).i32(1).op(Op.I32And).i32(1).op(Op.I32Xor));
  const cfv = (): void => {
    for (const p of [OP, A, B, R, AUX, EF]) c.get(p);
    c.call(cfFn);
  };
  const blocks = [0, 1, 2, 3, 4, 5, 6, 7].map(() => c.open(Op.Block));
  const outer = blocks[0];
  // Dispatch on cc >> 1 (blocks[7] innermost).
  const sw = c.open(Op.Block);
  c.get(CC).i32(1).op(Op.I32ShrU);
  c.brTable([sw, blocks[7], blocks[6], blocks[5], blocks[4], blocks[3], blocks[2], blocks[1]], blocks[1]);
  c.end(sw);
  ofBody(c, sh); c.set(v).br(outer); // 0: OF
  c.end(blocks[7]);
  cfv(); c.set(v).br(outer); // 1: CF
  c.end(blocks[6]);
  zf(); c.set(v).br(outer); // 2: ZF
  c.end(blocks[5]);
  cfv(); zf(); c.op(Op.I32Or).set(v).br(outer); // 3: CF | ZF
  c.end(blocks[4]);
  sf(); c.set(v).br(outer); // 4: SF
  c.end(blocks[3]);
  pf(); c.set(v).br(outer); // 5: PF
  c.end(blocks[2]);
  sf(); ofBody(c, sh); c.op(Op.I32Xor).set(v).br(outer); // 6: SF ^ OF
  c.end(blocks[1]);
  sf(); ofBody(c, sh); c.op(Op.I32Xor); zf(); c.op(Op.I32Or).set(v); // 7: (SF ^ OF) | ZF
  c.end(outer);
  c.get(v).get(CC).i32(1).op(Op.I32And).op(Op.I32Xor);
  const condFn = mb.addFn(c);
  const fl = new FnBuilder(rec, [I32]);
  flagsBody(fl, cfFn);
  const flagsFn = mb.addFn(fl);
  return { cfFn, condFn, flagsFn };
}

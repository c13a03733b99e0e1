/**
 * The WebAssembly template for unsigned 32-bit DIV (register or memory divisor): EDX:EAX divided
 * as a 64-bit number, quotient to EAX and remainder to EDX, flags unchanged (handlers/muldiv.ts
 * div1). A zero divisor or a quotient too wide for EAX (EDX >= divisor) raises #DE through the
 * `de` import before anything changed, as the interpreter does (the divisor read once). Other
 * sizes and IDIV stay with their handlers.
 */
import { OP_MEM, OP_REG } from '../decoder';
import { EAX, EDX } from '../state';
import { kindOf } from '../jit/template';
import { I64, Op } from './wasm-encoder';
import type { WasmTemplate } from './wasm-templates';

/** Bits of the high half of the dividend. */
const HALF_BITS = 32;

const div: WasmTemplate = (e, i) => {
  const k0 = kindOf(i, 0);
  if (i.size !== 4 || (k0 !== OP_REG && k0 !== OP_MEM)) return false;
  const f = e.f;
  let d: number;
  if (k0 === OP_MEM) {
    d = e.load(4, e.lin(i, 4, false));
  } else {
    d = e.tmp();
    f.get(e.r[i.r1]).set(d);
  }
  f.get(d).op(Op.I32Eqz).get(e.r[EDX]).get(d).op(Op.I32GeU).op(Op.I32Or);
  const slow = f.open(Op.If);
  f.call(e.imp.de);
  e.goFault();
  f.end(slow);
  const n = f.local(I64);
  const q = e.tmp();
  f.get(e.r[EDX]).op(Op.I64ExtendI32U).i32(HALF_BITS).op(Op.I64ExtendI32U).op(Op.I64Shl);
  f.get(e.r[EAX]).op(Op.I64ExtendI32U).op(Op.I64Or).set(n);
  f.get(n).get(d).op(Op.I64ExtendI32U).op(Op.I64DivU).op(Op.I32WrapI64).set(q);
  f.get(n).get(d).op(Op.I64ExtendI32U).op(Op.I64RemU).op(Op.I32WrapI64).set(e.r[EDX]);
  f.get(q).set(e.r[EAX]);
  return true;
};

/** The templates of this file, by mnemonic. */
export const DIV_TEMPLATES: Record<string, WasmTemplate> = { DIV: div };

/**
 * WebAssembly templates for the instructions that read or write EFLAGS as a whole: PUSHF, POPF,
 * CLC, STC and CMC (handlers/stack.ts and handlers/system.ts give their rules). EFLAGS is made
 * from the lazy record by the module's $flags helper (wasm-flags.ts) and written straight into
 * the state words; the record is then emptied (op 0), as materializeFlags does.
 *
 * POPF stays with its handler whenever the popped value would change anything besides the six
 * arithmetic flags (TF, IF, DF, IOPL, NT, AC, ID: privilege rules, attention, mode caches), when
 * the stack word is not in the TLB or SS needs a limit check (the handler then reads it, once),
 * and in virtual-8086 mode (IOPL-sensitive). Otherwise, the common case of code saving and restoring
 * its flags around a computation, it moves only CF PF AF ZF SF OF and ESP.
 */
import type { Insn } from '../insn';
import { AC, ARITH_FLAGS, CF, DF, EFLAGS_FIXED1, ESP, ID, IF, IOPL_MASK, NT, RF, S_EFLAGS, SEG_SS, TF, VM } from '../state';
import { Op } from './wasm-encoder';
import type { WasmEmitter } from './wasm-emitter';
import type { WasmTemplate } from './wasm-templates';

/** Decode-mode bit of virtual-8086 mode (Cpu.modeKey bit 2). */
const MODE_V86 = 4;
/** EFLAGS bits 3, 5 and 15: reserved, always written as 0 (handlers/stack.ts setFlagsMasked). */
const RESERVED0 = 0x8028;
/** Bits whose change makes POPF take its handler (16-bit POPF writes none above bit 15). */
const POPF_SLOW16 = TF | IF | DF | IOPL_MASK | NT;
const POPF_SLOW32 = POPF_SLOW16 | AC | ID;

function inV86(e: WasmEmitter): boolean {
  return (e.block.mode & MODE_V86) !== 0;
}

/** EFLAGS (record folded in) into a new local. */
function eflagsLocal(e: WasmEmitter): number {
  const t = e.tmp();
  e.eflags();
  e.f.set(t);
  return t;
}

/** Stores the value on the stack top as EFLAGS and empties the lazy record. */
function storeEflags(e: WasmEmitter, v: number): void {
  e.f.i32(0).get(v).mem(Op.I32Store, e.stAddr(S_EFLAGS));
  e.f.i32(0).set(e.fo);
  e.known = 0;
}

const pushf: WasmTemplate = (e: WasmEmitter, i: Insn) => {
  if (inV86(e)) return false;
  const v = eflagsLocal(e);
  e.f.get(v).i32(~(VM | RF)).op(Op.I32And).set(v);
  e.push(i.size, v);
  return true;
};

const popf: WasmTemplate = (e: WasmEmitter, i: Insn, last: boolean) => {
  if (inV86(e) || !last) return false;
  const f = e.f;
  const old = eflagsLocal(e);
  // The stack word through the TLB only: a miss (or a segment that needs checking) takes the
  // handler, which then does the one read, its checks and faults.
  const sp = e.tmp();
  f.get(e.r[ESP]);
  if (!e.layout.ss32) f.i32(0xffff).op(Op.I32And);
  f.set(sp);
  const l = e.tmp();
  f.get(sp).get(e.sb[SEG_SS]).op(Op.I32Add).set(l);
  const { value: v, hit } = e.loadIfMapped(i.size, l);
  f.get(hit).op(Op.I32Eqz).get(e.okR).i32(1 << SEG_SS).op(Op.I32And).op(Op.I32Eqz).op(Op.I32Or);
  f.get(v).get(old).op(Op.I32Xor).i32(i.size === 4 ? POPF_SLOW32 : POPF_SLOW16).op(Op.I32And).op(Op.I32Or);
  const slow = f.open(Op.If);
  // A fault point of its own: the handler leaves the state block current when it faults.
  e.beginInsn(i, e.k, true);
  e.callHandler(true);
  f.else();
  const n = e.tmp();
  f.get(old).i32(~ARITH_FLAGS).op(Op.I32And).get(v).i32(ARITH_FLAGS).op(Op.I32And).op(Op.I32Or);
  f.i32(EFLAGS_FIXED1).op(Op.I32Or).i32(~RESERVED0).op(Op.I32And).set(n);
  storeEflags(e, n);
  e.adjustSp(i.size);
  e.endFallThrough();
  f.end(slow);
  return true;
};

/** CLC (set 0), STC (set 1) or CMC (complement). */
function carry(kind: 'clear' | 'set' | 'complement'): WasmTemplate {
  return (e: WasmEmitter) => {
    const f = e.f;
    const v = eflagsLocal(e);
    if (kind === 'complement') f.get(v).i32(CF).op(Op.I32Xor);
    else if (kind === 'set') f.get(v).i32(CF).op(Op.I32Or);
    else f.get(v).i32(~CF).op(Op.I32And);
    f.set(v);
    storeEflags(e, v);
    return true;
  };
}

/** The templates of this file, by mnemonic. */
export const FLAG_TEMPLATES: Record<string, WasmTemplate> = {
  PUSHF: pushf,
  POPF: popf,
  CLC: carry('clear'),
  STC: carry('set'),
  CMC: carry('complement'),
};

/**
 * What an instruction template is: a function that writes the JavaScript for one decoded
 * instruction through the Emitter and returns true, or returns false (having written nothing)
 * when it does not cover that form; the region compiler then calls the instruction's handler.
 */
import type { Insn } from '../insn';
import type { Emitter } from './emitter';

/** Emits code for `i` (true), or declines (false, nothing emitted). `last`: it ends its block. */
export type Template = (e: Emitter, i: Insn, last: boolean) => boolean;

/** Bits per operand kind in Insn.form. */
const FORM_BITS = 4;
const FORM_MASK = 0xf;

/** The decoded kind (decoder.ts OP_*) of operand `k`, or 0 when there is none. */
export function kindOf(i: Insn, k: number): number {
  return (i.form >> (FORM_BITS * k)) & FORM_MASK;
}

/** Lazy-flags size index (lazy-flags.ts SZ8/SZ16/SZ32) of an operand size in bytes. */
export function sizeIndex(size: number): number {
  return size === 4 ? 2 : size === 2 ? 1 : 0;
}

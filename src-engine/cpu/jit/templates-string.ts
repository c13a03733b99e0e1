/**
 * Templates for single string instructions (handlers/string.ts) with 32-bit addressing: MOVS,
 * LODS and STOS without a REP prefix, the element loops of memmove, memset and decompressors.
 * The REP forms (which yield every REP_CHUNK elements and copy whole runs at once) and 16-bit
 * addressing stay with the handlers. EFLAGS.DF is read from the state block at run time (CLD
 * and STD go through their handlers, which write it there).
 */
import { SEG_ES, DF, EDI, ESI, S_EFLAGS } from '../state';
import type { Emitter } from './emitter';
import type { Template } from './template';
import type { Insn } from '../insn';

/** Accumulator index (AL / AX / EAX) for Emitter.rd/wr. */
const ACC = 0;

/** Whether `i` is a form these templates cover. */
function covered(i: Insn): boolean {
  return i.rep === 0 && !i.a16 && !i.lock && (i.size === 1 || i.size === 2 || i.size === 4);
}

/** Emits the element step (+size, or -size when EFLAGS.DF is set); returns its local. */
function stepLocal(e: Emitter, size: number): string {
  const d = e.tmp('d');
  e.line(`const ${d} = (s[${S_EFLAGS}] & ${DF}) !== 0 ? ${-size} : ${size};`);
  return d;
}

/** Moves index register `r` by the step `d` (after the element's last access that can fault). */
function advance(e: Emitter, r: number, d: string): void {
  e.set32(r, `${e.reg(r)} + ${d}`);
}

const movs: Template = (e, i) => {
  if (!covered(i)) return false;
  const size = i.size;
  const d = stepLocal(e, size);
  const v = e.load(size, e.segLin(i.seg, e.reg(ESI), size, false));
  e.store(size, e.segLin(SEG_ES, e.reg(EDI), size, true), v);
  advance(e, ESI, d);
  advance(e, EDI, d);
  return true;
};

const lods: Template = (e, i) => {
  if (!covered(i)) return false;
  const size = i.size;
  const d = stepLocal(e, size);
  const v = e.load(size, e.segLin(i.seg, e.reg(ESI), size, false));
  e.wr(size, ACC, v);
  advance(e, ESI, d);
  return true;
};

const stos: Template = (e, i) => {
  if (!covered(i)) return false;
  const size = i.size;
  const d = stepLocal(e, size);
  const v = e.tmp('v');
  e.line(`const ${v} = ${e.rd(size, ACC)};`);
  e.store(size, e.segLin(SEG_ES, e.reg(EDI), size, true), v);
  advance(e, EDI, d);
  return true;
};

/** Templates of this group, by mnemonic. */
export const STRING_TEMPLATES: Record<string, Template> = {
  MOVS: movs,
  LODS: lods,
  STOS: stos,
};

/**
 * Templates for near control transfers and the stack (handlers/control.ts, stack.ts): JMP Jcc
 * CALL RET (with and without an immediate), indirect JMP/CALL through a register or memory,
 * LOOP LOOPE LOOPNE JCXZ, PUSH (registers, immediates, memory), POP to a register, LEAVE.
 * A transfer to a block of the region continues inside the region function; any other target
 * leaves it with EIP set.
 */
import { OP_IMM, OP_MEM, OP_REG } from '../decoder';
import { EBP, ECX, SEG_SS } from '../state';
import type { Template } from './template';
import { kindOf } from './template';

const jmp: Template = (e, i) => {
  e.checkTarget(i.target);
  e.endJump(i.target);
  return true;
};

const jcc: Template = (e, i) => {
  const c = e.tmp('c');
  e.line(`const ${c} = ${e.cond(i.op)};`);
  e.checkTargetIf(c, i.target);
  e.endBranch(c, i.target);
  return true;
};

const call: Template = (e, i) => {
  const size = i.size === 2 ? 2 : 4;
  e.checkTarget(i.target);
  e.push(size, `${i.next}`);
  e.endJump(i.target);
  return true;
};

const ret: Template = (e, i) => {
  const size = i.size === 2 ? 2 : 4;
  const t = e.peek(size, 0);
  e.checkTarget(t);
  e.adjustSp(size + (i.imm & 0xffff));
  e.endDynamic(t);
  return true;
};

/** The target of an indirect JMP/CALL (register or memory operand), in a new local. */
function nearTarget(e: Parameters<Template>[0], i: Parameters<Template>[1]): string | null {
  const size = i.size;
  const k0 = kindOf(i, 0);
  const t = e.tmp('t');
  if (k0 === OP_REG) e.line(`const ${t} = ${e.rd(size, i.r1)};`);
  else if (k0 === OP_MEM) e.line(`const ${t} = ${e.load(size, e.lin(i, size, false))};`);
  else return null;
  return t;
}

const jmpn: Template = (e, i) => {
  if (i.size !== 4 && i.size !== 2) return false;
  const t = nearTarget(e, i);
  if (t === null) return false;
  e.checkTarget(t);
  e.endDynamic(t);
  return true;
};

const calln: Template = (e, i) => {
  if (i.size !== 4 && i.size !== 2) return false;
  const t = nearTarget(e, i);
  if (t === null) return false;
  e.checkTarget(t);
  e.push(i.size, `${i.next}`);
  e.endDynamic(t);
  return true;
};

function loop(kind: 'LOOP' | 'LOOPE' | 'LOOPNE'): Template {
  return (e, i) => {
    const a32 = !i.a16;
    const cnt = e.tmp('n');
    const tk = e.tmp('k');
    e.line(`const ${cnt} = ${a32 ? `(${e.reg(ECX)} - 1) | 0` : `(${e.reg(ECX)} - 1) & 65535`};`);
    const zf = kind === 'LOOPE' ? ` && ${e.cond(4)}` : kind === 'LOOPNE' ? ` && ${e.cond(5)}` : '';
    e.line(`const ${tk} = ${cnt} !== 0${zf};`);
    e.checkTargetIf(tk, i.target);
    if (a32) e.set32(ECX, cnt);
    else e.wr(2, ECX * 2, cnt);
    e.endBranch(tk, i.target);
    return true;
  };
}

const jcxz: Template = (e, i) => {
  const tk = e.tmp('k');
  e.line(`const ${tk} = ${i.a16 ? `(${e.reg(ECX)} & 65535)` : e.reg(ECX)} === 0;`);
  e.checkTargetIf(tk, i.target);
  e.endBranch(tk, i.target);
  return true;
};

const push: Template = (e, i) => {
  const size = i.size;
  if (size !== 4 && size !== 2) return false;
  const k0 = kindOf(i, 0);
  if (k0 === OP_REG) e.push(size, e.rd(size, i.r1));
  else if (k0 === OP_IMM) e.push(size, `${i.imm | 0}`);
  else if (k0 === OP_MEM) e.push(size, e.load(size, e.lin(i, size, false)));
  else return false;
  return true;
};

const pop: Template = (e, i) => {
  const size = i.size;
  if ((size !== 4 && size !== 2) || kindOf(i, 0) !== OP_REG) return false;
  const v = e.pop(size);
  e.wr(size, i.r1, v);
  return true;
};

const leave: Template = (e, i) => {
  const size = i.size === 2 ? 2 : 4;
  const ss32 = e.layout.ss32;
  const bp = e.tmp('bp');
  e.line(`const ${bp} = ${ss32 ? e.reg(EBP) : `${e.reg(EBP)} & 65535`};`);
  const v = e.load(size, e.segLin(SEG_SS, bp, size, true));
  e.setSp(`${bp} + ${size}`);
  e.wr(size, size === 4 ? EBP : EBP * 2, v);
  return true;
};

/** Templates of this group, by mnemonic. */
export const CONTROL_TEMPLATES: Record<string, Template> = {
  JMP: jmp,
  JCC: jcc,
  CALL: call,
  RET: ret,
  JMPN: jmpn,
  CALLN: calln,
  LOOP: loop('LOOP'),
  LOOPE: loop('LOOPE'),
  LOOPNE: loop('LOOPNE'),
  JCXZ: jcxz,
  PUSH: push,
  POP: pop,
  LEAVE: leave,
};

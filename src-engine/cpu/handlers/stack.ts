/**
 * Stack instructions: PUSH POP (registers, memory, immediates, segment registers), PUSHA POPA,
 * PUSHF POPF (with the privilege rules for IF, IOPL and VM), ENTER LEAVE.
 */
import type { Cpu } from '../cpu';
import { OP_IMM, OP_MEM, OP_REG, OP_SREG } from '../decoder';
import type { Handler } from '../insn';
import { adjustSp, eaOffset, linR, peekStack, pop16, pop32, push16, push32, segLinW } from '../addressing';
import { flagsWritten, getFlags } from '../lazy-flags';
import { rd16, rd32, wr16, wr32 } from '../mmu';
import { gp } from '../fault';
import { loadSegment } from '../segments';
import {
  AC, ESP, EBP, ID, IF, IOPL_MASK, NT, RF, S_EFLAGS, S_SEG_SEL, SEG_SS, VIF, VIP, VM, S_SHADOW,
  AF, CF, DF, OF, PF, SF, TF, ZF,
} from '../state';
import { regIndex, udHandler, type Factory } from './common';

/** The EFLAGS bits Cpu.updateMode reads (virtual-8086 mode, single step, resume, alignment check). */
const MODE_FLAGS = VM | TF | RF | AC;

const push32r: Handler = (cpu, i) => push32(cpu, cpu.s[i.r1]);
const push16r: Handler = (cpu, i) => push16(cpu, cpu.r16[i.r1]);
const pushImm32: Handler = (cpu, i) => push32(cpu, i.imm);
const pushImm16: Handler = (cpu, i) => push16(cpu, i.imm);
const pushMem32: Handler = (cpu, i) => push32(cpu, rd32(cpu, linR(cpu, i, 4)));
const pushMem16: Handler = (cpu, i) => push16(cpu, rd16(cpu, linR(cpu, i, 2)));
const pushSreg: Handler = (cpu, i) => {
  const sel = cpu.s[S_SEG_SEL + i.op];
  if (i.size === 4) {
    // A 32-bit push of a segment register writes only the low word (P6 and later).
    const r = cpu.s;
    const sp = cpu.ss32 ? (r[ESP] - 4) | 0 : (r[ESP] - 4) & 0xffff;
    wr16(cpu, segLinW(cpu, SEG_SS, sp, 4), sel);
    if (cpu.ss32) r[ESP] = sp;
    else cpu.r16[ESP * 2] = sp;
  } else {
    push16(cpu, sel);
  }
};

const pop32r: Handler = (cpu, i) => {
  const v = pop32(cpu);
  cpu.s[i.r1] = v;
};
const pop16r: Handler = (cpu, i) => {
  const v = pop16(cpu);
  cpu.r16[i.r1] = v;
};
/** POP Ev to memory: the address is computed with ESP already incremented. */
const popMem: Handler = (cpu, i) => {
  const size = i.size;
  const v = peekStack(cpu, 0, size);
  adjustSp(cpu, size);
  try {
    const lin = linR(cpu, i, size);
    if (size === 4) wr32(cpu, lin, v);
    else wr16(cpu, lin, v);
  } catch (e) {
    adjustSp(cpu, -size);
    throw e;
  }
};
const popSreg: Handler = (cpu, i) => {
  const sel = peekStack(cpu, 0, 2);
  loadSegment(cpu, i.op, sel);
  adjustSp(cpu, i.size);
  if (i.op === SEG_SS) {
    cpu.s[S_SHADOW] |= 2;
    cpu.updateMode();
  }
};

const pushFactory: Factory = (d, ins) => {
  const o = d.ops[0];
  const size = o.kind === OP_SREG ? d.osz : o.size;
  ins.size = size;
  if (o.kind === OP_REG) {
    ins.r1 = regIndex(size, o.reg);
    return size === 4 ? push32r : push16r;
  }
  if (o.kind === OP_IMM) {
    ins.imm = size === 2 ? o.imm & 0xffff : o.imm;
    return size === 4 ? pushImm32 : pushImm16;
  }
  if (o.kind === OP_SREG) {
    ins.op = o.reg;
    return pushSreg;
  }
  if (o.kind === OP_MEM) return size === 4 ? pushMem32 : pushMem16;
  return udHandler;
};

const popFactory: Factory = (d, ins) => {
  const o = d.ops[0];
  const size = o.kind === OP_SREG ? d.osz : o.size;
  ins.size = size;
  if (o.kind === OP_REG) {
    ins.r1 = regIndex(size, o.reg);
    return size === 4 ? pop32r : pop16r;
  }
  if (o.kind === OP_SREG) {
    if (o.reg === 1) return udHandler;
    ins.op = o.reg;
    d.endBlock = true;
    return popSreg;
  }
  if (o.kind === OP_MEM) return popMem;
  return udHandler;
};

const pusha: Handler = (cpu, i) => {
  const s = cpu.s;
  const size = i.size;
  const sp = s[ESP];
  const mask = cpu.ss32 ? -1 : 0xffff;
  // Write all eight slots below ESP, then move ESP: a fault leaves ESP untouched.
  for (let r = 0; r < 8; r++) {
    const v = r === ESP ? sp : s[r];
    const slot = (sp - size * (r + 1)) & mask;
    const lin = segLinW(cpu, SEG_SS, slot, size);
    if (size === 4) wr32(cpu, lin, v);
    else wr16(cpu, lin, v & 0xffff);
  }
  const nsp = (sp - size * 8) & mask;
  if (cpu.ss32) s[ESP] = nsp;
  else cpu.r16[ESP * 2] = nsp;
};
const popa: Handler = (cpu, i) => {
  const s = cpu.s;
  const size = i.size;
  const vals: number[] = [];
  for (let k = 0; k < 8; k++) vals.push(peekStack(cpu, k * size, size));
  adjustSp(cpu, size * 8);
  for (let r = 0; r < 8; r++) {
    if (r === ESP) continue;
    const v = vals[7 - r];
    if (size === 4) s[r] = v;
    else cpu.r16[r * 2] = v;
  }
};

const pushf: Handler = (cpu, i) => {
  let f = getFlags(cpu);
  if (cpu.vm86 && (f & IOPL_MASK) !== IOPL_MASK) gp(cpu, 0);
  f &= ~(VM | RF);
  if (i.size === 4) push32(cpu, f);
  else push16(cpu, f);
};

/** The EFLAGS bits POPF may change, by privilege (SDM POPF operation). */
export function writableFlags(cpu: Cpu, size: number): number {
  let mask = CF | PF | AF | ZF | SF | TF | DF | OF | NT;
  if (size === 4) mask |= AC | ID;
  if (cpu.pe && !cpu.vm86) {
    if (cpu.cpl === 0) mask |= IOPL_MASK | IF;
    else if (cpu.cpl <= ((cpu.s[S_EFLAGS] & IOPL_MASK) >> 12)) mask |= IF;
  } else if (cpu.vm86) {
    mask |= IF;
  } else {
    mask |= IOPL_MASK | IF;
  }
  return mask & ~(VM | RF | VIF | VIP);
}

/**
 * Writes EFLAGS bits under `mask`, noticing IF/TF changes. The mode caches are recomputed unless
 * `sameMode` says nothing else changed and none of the flags they depend on did.
 */
export function setFlagsMasked(cpu: Cpu, value: number, mask: number, sameMode = false): void {
  const s = cpu.s;
  const old = getFlags(cpu);
  s[S_EFLAGS] = ((old & ~mask) | (value & mask) | 2) & ~0x8028;
  flagsWritten(cpu);
  if ((~old & s[S_EFLAGS] & IF) !== 0) cpu.localAttention = true;
  if (!sameMode || ((old ^ s[S_EFLAGS]) & MODE_FLAGS) !== 0) cpu.updateMode();
}

const popf: Handler = (cpu, i) => {
  if (cpu.vm86 && (cpu.s[S_EFLAGS] & IOPL_MASK) !== IOPL_MASK) gp(cpu, 0);
  const v = i.size === 4 ? pop32(cpu) : pop16(cpu);
  // POPF changes no segment, CR or privilege: only its flags can move the mode caches (GRUB's
  // LZMA decoder runs PUSHF/POPF around every bit it decodes).
  setFlagsMasked(cpu, v, writableFlags(cpu, i.size), true);
};

const enter: Handler = (cpu, i) => {
  const s = cpu.s;
  const size = i.size;
  const alloc = i.imm & 0xffff;
  const level = i.imm2 & 31;
  const ss32 = cpu.ss32;
  const mask = ss32 ? -1 : 0xffff;
  const sp0 = s[ESP];
  let sp = sp0;
  const wr = (v: number) => {
    sp = (sp - size) & mask;
    const lin = segLinW(cpu, SEG_SS, sp, size);
    if (size === 4) wr32(cpu, lin, v);
    else wr16(cpu, lin, v);
  };
  let bp = s[EBP];
  wr(size === 4 ? bp : bp & 0xffff);
  const frameTemp = sp;
  if (level > 0) {
    for (let k = 1; k < level; k++) {
      bp = ss32 ? (bp - size) | 0 : (bp - size) & 0xffff;
      const lin = segLinW(cpu, SEG_SS, bp, size);
      wr(size === 4 ? rd32(cpu, lin) : rd16(cpu, lin));
    }
    wr(frameTemp);
  }
  const newSp = (sp - alloc) & mask;
  segLinW(cpu, SEG_SS, newSp, 1);
  if (size === 4) s[EBP] = frameTemp;
  else cpu.r16[EBP * 2] = frameTemp;
  if (ss32) s[ESP] = newSp;
  else cpu.r16[ESP * 2] = newSp;
};

const leave: Handler = (cpu, i) => {
  const s = cpu.s;
  const bp = cpu.ss32 ? s[EBP] : s[EBP] & 0xffff;
  const lin = segLinW(cpu, SEG_SS, bp, i.size);
  const v = i.size === 4 ? rd32(cpu, lin) : rd16(cpu, lin);
  if (cpu.ss32) s[ESP] = (bp + i.size) | 0;
  else cpu.r16[ESP * 2] = bp + i.size;
  if (i.size === 4) s[EBP] = v;
  else cpu.r16[EBP * 2] = v;
};

/** Factories of this group, by mnemonic. */
export const stackFactories: Record<string, Factory> = {
  PUSH: pushFactory,
  POP: popFactory,
  PUSHA: (d, ins) => {
    ins.size = d.osz;
    return pusha;
  },
  POPA: (d, ins) => {
    ins.size = d.osz;
    return popa;
  },
  PUSHF: (d, ins) => {
    ins.size = d.osz;
    return pushf;
  },
  POPF: (d, ins) => {
    ins.size = d.osz;
    d.endBlock = true;
    return popf;
  },
  ENTER: (d, ins) => {
    ins.size = d.osz;
    ins.imm = d.ops[0].imm;
    ins.imm2 = d.ops[1].imm;
    return enter;
  },
  LEAVE: (d, ins) => {
    ins.size = d.osz;
    return leave;
  },
};

export { eaOffset, pop16, OP_MEM };

/** The PUSH and POP handlers the interpreter's fast path recognises (fast-kinds.ts). */
export const STACK_FAST_HANDLERS = { push32r, pop32r, pushImm32, pushMem32 } as const;

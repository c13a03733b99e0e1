/**
 * ADD OR ADC SBB AND SUB XOR CMP TEST, INC DEC NEG NOT: the arithmetic and logic group with
 * lazy flags. One compute function per operand size; handlers specialised by operand form
 * (register/memory/immediate) and size; LOCKed memory forms through atomicUpdate.
 */
import type { Cpu } from '../cpu';
import type { Decoded } from '../decoder';
import { OP_IMM, OP_MEM, OP_REG } from '../decoder';
import type { Handler, Insn } from '../insn';
import { linR, linW } from '../addressing';
import { getCF, LF_ADC, LF_ADD, LF_DEC, LF_INC, LF_LOGIC, LF_SBB, LF_SUB, SZ16, SZ32, SZ8 } from '../lazy-flags';
import { probeWrite, rd16, rd32, rd8, wr16, wr32, wr8 } from '../mmu';
import { S_LF_A, S_LF_AUX, S_LF_B, S_LF_OP, S_LF_RES } from '../state';
import { atomicUpdate, regIndex, udHandler, type Factory } from './common';

/** ALU operation numbers, in group-1 order; TEST is AND without write-back. */
export const ADD = 0;
export const OR = 1;
export const ADC = 2;
export const SBB = 3;
export const AND = 4;
export const SUB = 5;
export const XOR = 6;
export const CMP = 7;
export const TEST = 8;

const SUB32 = (LF_SUB << 2) | SZ32;
const ADD32 = (LF_ADD << 2) | SZ32;
const LOGIC32 = (LF_LOGIC << 2) | SZ32;

/** 32-bit ALU operation with flags; returns the result. */
export function alu32(cpu: Cpu, op: number, a: number, b: number): number {
  const s = cpu.s;
  let r: number;
  switch (op) {
    case ADD:
      r = (a + b) | 0;
      s[S_LF_OP] = ADD32;
      break;
    case SUB:
    case CMP:
      r = (a - b) | 0;
      s[S_LF_OP] = SUB32;
      break;
    case AND:
    case TEST:
      r = a & b;
      s[S_LF_OP] = LOGIC32;
      break;
    case OR:
      r = a | b;
      s[S_LF_OP] = LOGIC32;
      break;
    case XOR:
      r = a ^ b;
      s[S_LF_OP] = LOGIC32;
      break;
    case ADC: {
      const c = getCF(cpu);
      r = (a + b + c) | 0;
      s[S_LF_AUX] = c;
      s[S_LF_OP] = (LF_ADC << 2) | SZ32;
      break;
    }
    default: {
      const c = getCF(cpu);
      r = (a - b - c) | 0;
      s[S_LF_AUX] = c;
      s[S_LF_OP] = (LF_SBB << 2) | SZ32;
      break;
    }
  }
  s[S_LF_A] = a;
  s[S_LF_B] = b;
  s[S_LF_RES] = r;
  return r;
}

/** 16-bit ALU operation (operands zero-extended); returns the 16-bit result. */
export function alu16(cpu: Cpu, op: number, a: number, b: number): number {
  const s = cpu.s;
  let r: number;
  let k: number;
  switch (op) {
    case ADD: r = (a + b) & 0xffff; k = LF_ADD; break;
    case SUB: case CMP: r = (a - b) & 0xffff; k = LF_SUB; break;
    case AND: case TEST: r = a & b; k = LF_LOGIC; break;
    case OR: r = a | b; k = LF_LOGIC; break;
    case XOR: r = a ^ b; k = LF_LOGIC; break;
    case ADC: {
      const c = getCF(cpu);
      r = (a + b + c) & 0xffff;
      s[S_LF_AUX] = c;
      k = LF_ADC;
      break;
    }
    default: {
      const c = getCF(cpu);
      r = (a - b - c) & 0xffff;
      s[S_LF_AUX] = c;
      k = LF_SBB;
      break;
    }
  }
  s[S_LF_OP] = (k << 2) | SZ16;
  s[S_LF_A] = a;
  s[S_LF_B] = b;
  s[S_LF_RES] = r;
  return r;
}

/** 8-bit ALU operation (operands zero-extended); returns the 8-bit result. */
export function alu8(cpu: Cpu, op: number, a: number, b: number): number {
  const s = cpu.s;
  let r: number;
  let k: number;
  switch (op) {
    case ADD: r = (a + b) & 0xff; k = LF_ADD; break;
    case SUB: case CMP: r = (a - b) & 0xff; k = LF_SUB; break;
    case AND: case TEST: r = a & b; k = LF_LOGIC; break;
    case OR: r = a | b; k = LF_LOGIC; break;
    case XOR: r = a ^ b; k = LF_LOGIC; break;
    case ADC: {
      const c = getCF(cpu);
      r = (a + b + c) & 0xff;
      s[S_LF_AUX] = c;
      k = LF_ADC;
      break;
    }
    default: {
      const c = getCF(cpu);
      r = (a - b - c) & 0xff;
      s[S_LF_AUX] = c;
      k = LF_SBB;
      break;
    }
  }
  s[S_LF_OP] = (k << 2) | SZ8;
  s[S_LF_A] = a;
  s[S_LF_B] = b;
  s[S_LF_RES] = r;
  return r;
}

// --- two-operand forms -------------------------------------------------------------------

const aluRR32: Handler = (cpu, i) => {
  const s = cpu.s;
  const r = alu32(cpu, i.op, s[i.r1], s[i.r2]);
  if (i.op < CMP) s[i.r1] = r;
};
const aluRM32: Handler = (cpu, i) => {
  const s = cpu.s;
  const r = alu32(cpu, i.op, s[i.r1], rd32(cpu, linR(cpu, i, 4)));
  if (i.op < CMP) s[i.r1] = r;
};
const aluRI32: Handler = (cpu, i) => {
  const s = cpu.s;
  const r = alu32(cpu, i.op, s[i.r1], i.imm);
  if (i.op < CMP) s[i.r1] = r;
};
const aluMR32: Handler = (cpu, i) => {
  if (i.op >= CMP) {
    alu32(cpu, i.op, rd32(cpu, linR(cpu, i, 4)), cpu.s[i.r2]);
    return;
  }
  const lin = linW(cpu, i, 4);
  probeWrite(cpu, lin, 4);
  wr32(cpu, lin, alu32(cpu, i.op, rd32(cpu, lin), cpu.s[i.r2]));
};
const aluMI32: Handler = (cpu, i) => {
  if (i.op >= CMP) {
    alu32(cpu, i.op, rd32(cpu, linR(cpu, i, 4)), i.imm);
    return;
  }
  const lin = linW(cpu, i, 4);
  probeWrite(cpu, lin, 4);
  wr32(cpu, lin, alu32(cpu, i.op, rd32(cpu, lin), i.imm));
};

const aluRR16: Handler = (cpu, i) => {
  const r16 = cpu.r16;
  const r = alu16(cpu, i.op, r16[i.r1], r16[i.r2]);
  if (i.op < CMP) r16[i.r1] = r;
};
const aluRM16: Handler = (cpu, i) => {
  const r16 = cpu.r16;
  const r = alu16(cpu, i.op, r16[i.r1], rd16(cpu, linR(cpu, i, 2)));
  if (i.op < CMP) r16[i.r1] = r;
};
const aluRI16: Handler = (cpu, i) => {
  const r16 = cpu.r16;
  const r = alu16(cpu, i.op, r16[i.r1], i.imm & 0xffff);
  if (i.op < CMP) r16[i.r1] = r;
};
const aluMR16: Handler = (cpu, i) => {
  if (i.op >= CMP) {
    alu16(cpu, i.op, rd16(cpu, linR(cpu, i, 2)), cpu.r16[i.r2]);
    return;
  }
  const lin = linW(cpu, i, 2);
  probeWrite(cpu, lin, 2);
  wr16(cpu, lin, alu16(cpu, i.op, rd16(cpu, lin), cpu.r16[i.r2]));
};
const aluMI16: Handler = (cpu, i) => {
  if (i.op >= CMP) {
    alu16(cpu, i.op, rd16(cpu, linR(cpu, i, 2)), i.imm & 0xffff);
    return;
  }
  const lin = linW(cpu, i, 2);
  probeWrite(cpu, lin, 2);
  wr16(cpu, lin, alu16(cpu, i.op, rd16(cpu, lin), i.imm & 0xffff));
};

const aluRR8: Handler = (cpu, i) => {
  const r8 = cpu.r8;
  const r = alu8(cpu, i.op, r8[i.r1], r8[i.r2]);
  if (i.op < CMP) r8[i.r1] = r;
};
const aluRM8: Handler = (cpu, i) => {
  const r8 = cpu.r8;
  const r = alu8(cpu, i.op, r8[i.r1], rd8(cpu, linR(cpu, i, 1)));
  if (i.op < CMP) r8[i.r1] = r;
};
const aluRI8: Handler = (cpu, i) => {
  const r8 = cpu.r8;
  const r = alu8(cpu, i.op, r8[i.r1], i.imm & 0xff);
  if (i.op < CMP) r8[i.r1] = r;
};
const aluMR8: Handler = (cpu, i) => {
  if (i.op >= CMP) {
    alu8(cpu, i.op, rd8(cpu, linR(cpu, i, 1)), cpu.r8[i.r2]);
    return;
  }
  const lin = linW(cpu, i, 1);
  probeWrite(cpu, lin, 1);
  wr8(cpu, lin, alu8(cpu, i.op, rd8(cpu, lin), cpu.r8[i.r2]));
};
const aluMI8: Handler = (cpu, i) => {
  if (i.op >= CMP) {
    alu8(cpu, i.op, rd8(cpu, linR(cpu, i, 1)), i.imm & 0xff);
    return;
  }
  const lin = linW(cpu, i, 1);
  probeWrite(cpu, lin, 1);
  wr8(cpu, lin, alu8(cpu, i.op, rd8(cpu, lin), i.imm & 0xff));
};

/** LOCKed memory destination: the source is a register (r2) or the immediate. */
function lockedAlu(srcIsReg: boolean): Handler {
  return (cpu, i) => {
    const size = i.size;
    const lin = linW(cpu, i, size);
    const src = srcIsReg
      ? size === 4 ? cpu.s[i.r2] : size === 2 ? cpu.r16[i.r2] : cpu.r8[i.r2]
      : size === 4 ? i.imm : size === 2 ? i.imm & 0xffff : i.imm & 0xff;
    const op = i.op;
    atomicUpdate(cpu, lin, size, (old) =>
      size === 4 ? alu32(cpu, op, old, src) : size === 2 ? alu16(cpu, op, old, src) : alu8(cpu, op, old, src),
    );
  };
}
const lockedAluReg = lockedAlu(true);
const lockedAluImm = lockedAlu(false);

const RR = [aluRR8, aluRR16, aluRR32];
const RM = [aluRM8, aluRM16, aluRM32];
const RI = [aluRI8, aluRI16, aluRI32];
const MR = [aluMR8, aluMR16, aluMR32];
const MI = [aluMI8, aluMI16, aluMI32];

function szIdx(size: number): number {
  return size === 4 ? 2 : size === 2 ? 1 : 0;
}

function aluFactory(op: number): Factory {
  return (d: Decoded, ins: Insn) => {
    ins.op = op;
    const dst = d.ops[0];
    const src = d.ops[1];
    const size = dst.size;
    const k = szIdx(size);
    const locking = d.lock;
    if (locking && (dst.kind !== OP_MEM || op === CMP || op === TEST)) return udHandler;
    if (dst.kind === OP_REG) {
      ins.r1 = regIndex(size, dst.reg);
      if (src.kind === OP_REG) {
        ins.r2 = regIndex(size, src.reg);
        return RR[k];
      }
      if (src.kind === OP_MEM) return RM[k];
      ins.imm = src.imm;
      return RI[k];
    }
    if (src.kind === OP_REG) {
      ins.r2 = regIndex(size, src.reg);
      return locking ? lockedAluReg : MR[k];
    }
    if (src.kind === OP_IMM) {
      ins.imm = src.imm;
      return locking ? lockedAluImm : MI[k];
    }
    return udHandler;
  };
}

// --- one-operand forms: INC DEC NOT NEG ---------------------------------------------------

function incdec(cpu: Cpu, size: number, v: number, dec: boolean): number {
  const s = cpu.s;
  const cf = getCF(cpu);
  const mask = size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
  const r = (dec ? v - 1 : v + 1) & mask;
  s[S_LF_AUX] = cf;
  s[S_LF_OP] = ((dec ? LF_DEC : LF_INC) << 2) | szIdx(size);
  s[S_LF_A] = v;
  s[S_LF_B] = 1;
  s[S_LF_RES] = size === 4 ? r | 0 : r;
  return r;
}

const inc32: Handler = (cpu, i) => {
  const s = cpu.s;
  const v = s[i.r1];
  const r = (v + 1) | 0;
  const cf = getCF(cpu);
  s[S_LF_AUX] = cf;
  s[S_LF_OP] = (LF_INC << 2) | SZ32;
  s[S_LF_A] = v;
  s[S_LF_B] = 1;
  s[S_LF_RES] = r;
  s[i.r1] = r;
};
const dec32: Handler = (cpu, i) => {
  const s = cpu.s;
  const v = s[i.r1];
  const r = (v - 1) | 0;
  const cf = getCF(cpu);
  s[S_LF_AUX] = cf;
  s[S_LF_OP] = (LF_DEC << 2) | SZ32;
  s[S_LF_A] = v;
  s[S_LF_B] = 1;
  s[S_LF_RES] = r;
  s[i.r1] = r;
};

function unaryReg(fn: (cpu: Cpu, size: number, v: number) => number): Handler {
  return (cpu, i) => {
    const size = i.size;
    if (size === 4) cpu.s[i.r1] = fn(cpu, 4, cpu.s[i.r1]);
    else if (size === 2) cpu.r16[i.r1] = fn(cpu, 2, cpu.r16[i.r1]);
    else cpu.r8[i.r1] = fn(cpu, 1, cpu.r8[i.r1]);
  };
}
function unaryMem(fn: (cpu: Cpu, size: number, v: number) => number, locked: boolean): Handler {
  return (cpu, i) => {
    const size = i.size;
    const lin = linW(cpu, i, size);
    if (locked) {
      atomicUpdate(cpu, lin, size, (old) => fn(cpu, size, old));
      return;
    }
    probeWrite(cpu, lin, size);
    if (size === 4) wr32(cpu, lin, fn(cpu, 4, rd32(cpu, lin)));
    else if (size === 2) wr16(cpu, lin, fn(cpu, 2, rd16(cpu, lin)));
    else wr8(cpu, lin, fn(cpu, 1, rd8(cpu, lin)));
  };
}

const incFn = (cpu: Cpu, size: number, v: number) => incdec(cpu, size, v, false);
const decFn = (cpu: Cpu, size: number, v: number) => incdec(cpu, size, v, true);
const notFn = (_cpu: Cpu, size: number, v: number) => (size === 4 ? ~v : ~v & (size === 2 ? 0xffff : 0xff));
const negFn = (cpu: Cpu, size: number, v: number) =>
  size === 4 ? alu32(cpu, SUB, 0, v) : size === 2 ? alu16(cpu, SUB, 0, v) : alu8(cpu, SUB, 0, v);

function unaryFactory(fn: (cpu: Cpu, size: number, v: number) => number, fast32?: Handler): Factory {
  const reg = unaryReg(fn);
  const mem = unaryMem(fn, false);
  const locked = unaryMem(fn, true);
  return (d, ins) => {
    const o = d.ops[0];
    if (o.kind === OP_REG) {
      if (d.lock) return udHandler;
      ins.r1 = regIndex(o.size, o.reg);
      return fast32 !== undefined && o.size === 4 ? fast32 : reg;
    }
    return d.lock ? locked : mem;
  };
}

/** Factories of this group, by mnemonic. */
export const aluFactories: Record<string, Factory> = {
  ADD: aluFactory(ADD),
  OR: aluFactory(OR),
  ADC: aluFactory(ADC),
  SBB: aluFactory(SBB),
  AND: aluFactory(AND),
  SUB: aluFactory(SUB),
  XOR: aluFactory(XOR),
  CMP: aluFactory(CMP),
  TEST: aluFactory(TEST),
  INC: unaryFactory(incFn, inc32),
  DEC: unaryFactory(decFn, dec32),
  NOT: unaryFactory(notFn),
  NEG: unaryFactory(negFn),
};

export { OP_IMM };

/**
 * The handlers the interpreter's fast path (exec-block.ts) recognises by identity and runs
 * inline when their preconditions hold (fast-kinds.ts); anything else still calls them.
 */
export const ALU_FAST_HANDLERS = {
  aluRR32, aluRI32, aluRM32, aluMR32, aluMI32, inc32, dec32, aluRR8, aluRI8, aluRM8, aluMR8, aluMI8,
} as const;

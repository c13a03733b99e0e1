/**
 * Data movement: MOV (all forms, segment registers included), MOVZX MOVSX LEA XCHG XADD CMPXCHG
 * CMPXCHG8B BSWAP CBW/CWDE CWD/CDQ XLAT LAHF SAHF SALC CMOVcc SETcc NOP, and the far-pointer
 * loads LDS LES LSS LFS LGS.
 */
import type { Cpu } from '../cpu';
import { OP_IMM, OP_MEM, OP_REG, OP_SREG } from '../decoder';
import type { Handler, Insn } from '../insn';
import { eaOffset, linR, linW, segLinR } from '../addressing';
import { cond, getFlags, materializeFlags, setArithFlags, CF, ZF } from '../lazy-flags';
import { probeWrite, rd16, rd32, rd8, wr16, wr32, wr8 } from '../mmu';
import { loadSegment } from '../segments';
import { EAX, EBX, ECX, EDX, S_EFLAGS, S_SEG_SEL, SEG_CS, SEG_SS, S_SHADOW } from '../state';
import { alu16, alu32, alu8, ADD, CMP } from './alu';
import { atomicUpdate, getReg, readMem, regIndex, setReg, udHandler, writeMem, type Factory } from './common';
import { ud } from '../fault';

// --- MOV -----------------------------------------------------------------------------------

const movRR32: Handler = (cpu, i) => { cpu.s[i.r1] = cpu.s[i.r2]; };
const movRM32: Handler = (cpu, i) => { cpu.s[i.r1] = rd32(cpu, linR(cpu, i, 4)); };
const movMR32: Handler = (cpu, i) => { wr32(cpu, linW(cpu, i, 4), cpu.s[i.r2]); };
const movRI32: Handler = (cpu, i) => { cpu.s[i.r1] = i.imm; };
const movMI32: Handler = (cpu, i) => { wr32(cpu, linW(cpu, i, 4), i.imm); };
const movRR16: Handler = (cpu, i) => { cpu.r16[i.r1] = cpu.r16[i.r2]; };
const movRM16: Handler = (cpu, i) => { cpu.r16[i.r1] = rd16(cpu, linR(cpu, i, 2)); };
const movMR16: Handler = (cpu, i) => { wr16(cpu, linW(cpu, i, 2), cpu.r16[i.r2]); };
const movRI16: Handler = (cpu, i) => { cpu.r16[i.r1] = i.imm; };
const movMI16: Handler = (cpu, i) => { wr16(cpu, linW(cpu, i, 2), i.imm); };
const movRR8: Handler = (cpu, i) => { cpu.r8[i.r1] = cpu.r8[i.r2]; };
const movRM8: Handler = (cpu, i) => { cpu.r8[i.r1] = rd8(cpu, linR(cpu, i, 1)); };
const movMR8: Handler = (cpu, i) => { wr8(cpu, linW(cpu, i, 1), cpu.r8[i.r2]); };
const movRI8: Handler = (cpu, i) => { cpu.r8[i.r1] = i.imm; };
const movMI8: Handler = (cpu, i) => { wr8(cpu, linW(cpu, i, 1), i.imm); };

const MOV_RR = [movRR8, movRR16, movRR32];
const MOV_RM = [movRM8, movRM16, movRM32];
const MOV_MR = [movMR8, movMR16, movMR32];
const MOV_RI = [movRI8, movRI16, movRI32];
const MOV_MI = [movMI8, movMI16, movMI32];

function szIdx(size: number): number {
  return size === 4 ? 2 : size === 2 ? 1 : 0;
}

/** MOV Ev,Sw: a register destination gets the zero-extended selector at 32-bit size. */
const movFromSreg: Handler = (cpu, i) => {
  const sel = cpu.s[S_SEG_SEL + i.op];
  if (i.r1 >= 0) {
    if (i.size === 4) cpu.s[i.r1] = sel;
    else cpu.r16[i.r1] = sel;
  } else {
    wr16(cpu, linW(cpu, i, 2), sel);
  }
};
const movToSreg: Handler = (cpu, i) => {
  const sel = i.r1 >= 0 ? cpu.r16[i.r1] : rd16(cpu, linR(cpu, i, 2));
  loadSegment(cpu, i.op, sel);
  if (i.op === SEG_SS) {
    cpu.s[S_SHADOW] |= 2;
    cpu.updateMode();
  }
};

const movFactory: Factory = (d, ins) => {
  const dst = d.ops[0];
  const src = d.ops[1];
  if (d.lock) return udHandler;
  if (src.kind === OP_SREG) {
    ins.op = src.reg;
    ins.size = dst.kind === OP_REG ? d.osz : 2;
    ins.r1 = dst.kind === OP_REG ? regIndex(ins.size, dst.reg) : -1;
    return movFromSreg;
  }
  if (dst.kind === OP_SREG) {
    if (dst.reg === SEG_CS) return udHandler;
    ins.op = dst.reg;
    ins.r1 = src.kind === OP_REG ? regIndex(2, src.reg) : -1;
    d.endBlock = true;
    return movToSreg;
  }
  const k = szIdx(dst.size);
  if (dst.kind === OP_REG) {
    ins.r1 = regIndex(dst.size, dst.reg);
    if (src.kind === OP_REG) {
      ins.r2 = regIndex(src.size, src.reg);
      return MOV_RR[k];
    }
    if (src.kind === OP_MEM) return MOV_RM[k];
    ins.imm = src.imm;
    return MOV_RI[k];
  }
  if (src.kind === OP_REG) {
    ins.r2 = regIndex(src.size, src.reg);
    return MOV_MR[k];
  }
  if (src.kind === OP_IMM) {
    ins.imm = src.imm;
    return MOV_MI[k];
  }
  return udHandler;
};

// --- MOVZX / MOVSX ------------------------------------------------------------------------

function extFactory(signed: boolean): Factory {
  return (d, ins) => {
    const dst = d.ops[0];
    const src = d.ops[1];
    ins.r1 = regIndex(dst.size, dst.reg);
    const ss = src.size;
    ins.imm = ss;
    const srcReg = src.kind === OP_REG;
    if (srcReg) ins.r2 = regIndex(ss, src.reg);
    const dsize = dst.size;
    return (cpu: Cpu, i: Insn) => {
      let v = srcReg ? (ss === 1 ? cpu.r8[i.r2] : cpu.r16[i.r2]) : ss === 1 ? rd8(cpu, linR(cpu, i, 1)) : rd16(cpu, linR(cpu, i, 2));
      if (signed) v = ss === 1 ? (v << 24) >> 24 : (v << 16) >> 16;
      if (dsize === 4) cpu.s[i.r1] = v;
      else cpu.r16[i.r1] = v;
    };
  };
}

// --- LEA ----------------------------------------------------------------------------------

const lea32: Handler = (cpu, i) => { cpu.s[i.r1] = eaOffset(cpu, i); };
const lea16: Handler = (cpu, i) => { cpu.r16[i.r1] = eaOffset(cpu, i); };
const leaFactory: Factory = (d, ins) => {
  const dst = d.ops[0];
  if (d.ops[1].kind !== OP_MEM) return udHandler;
  ins.r1 = regIndex(dst.size, dst.reg);
  return dst.size === 4 ? lea32 : lea16;
};

// --- XCHG / XADD / CMPXCHG ---------------------------------------------------------------------

const xchgFactory: Factory = (d, ins) => {
  const a = d.ops[0];
  const b = d.ops[1];
  const size = a.size;
  if (a.kind === OP_REG && b.kind === OP_REG) {
    if (d.lock) return udHandler;
    ins.r1 = regIndex(size, a.reg);
    ins.r2 = regIndex(size, b.reg);
    return (cpu, i) => {
      const x = getReg(cpu, size, i.r1);
      setReg(cpu, size, i.r1, getReg(cpu, size, i.r2));
      setReg(cpu, size, i.r2, x);
    };
  }
  // XCHG with memory is always locked.
  const reg = a.kind === OP_REG ? a : b;
  ins.r2 = regIndex(size, reg.reg);
  return (cpu, i) => {
    const lin = linW(cpu, i, size);
    const v = getReg(cpu, size, i.r2);
    const old = atomicUpdate(cpu, lin, size, () => v);
    setReg(cpu, size, i.r2, old);
  };
};

const xaddFactory: Factory = (d, ins) => {
  const dst = d.ops[0];
  const src = d.ops[1];
  const size = dst.size;
  ins.r2 = regIndex(size, src.reg);
  const add = (cpu: Cpu, a: number, b: number) =>
    size === 4 ? alu32(cpu, ADD, a, b) : size === 2 ? alu16(cpu, ADD, a, b) : alu8(cpu, ADD, a, b);
  if (dst.kind === OP_REG) {
    if (d.lock) return udHandler;
    ins.r1 = regIndex(size, dst.reg);
    return (cpu, i) => {
      const a = getReg(cpu, size, i.r1);
      const b = getReg(cpu, size, i.r2);
      const r = add(cpu, a, b);
      setReg(cpu, size, i.r2, a);
      setReg(cpu, size, i.r1, r);
    };
  }
  return (cpu, i) => {
    const lin = linW(cpu, i, size);
    const b = getReg(cpu, size, i.r2);
    const old = atomicUpdate(cpu, lin, size, (a) => add(cpu, a, b));
    setReg(cpu, size, i.r2, old);
  };
};

const cmpxchgFactory: Factory = (d, ins) => {
  const dst = d.ops[0];
  const src = d.ops[1];
  const size = dst.size;
  ins.r2 = regIndex(size, src.reg);
  const acc = regIndex(size, EAX);
  const cmp = (cpu: Cpu, a: number, b: number) =>
    size === 4 ? alu32(cpu, CMP, a, b) : size === 2 ? alu16(cpu, CMP, a, b) : alu8(cpu, CMP, a, b);
  if (dst.kind === OP_REG) {
    if (d.lock) return udHandler;
    ins.r1 = regIndex(size, dst.reg);
    return (cpu, i) => {
      const cur = getReg(cpu, size, i.r1);
      const a = getReg(cpu, size, acc);
      cmp(cpu, a, cur);
      if (a === cur) setReg(cpu, size, i.r1, getReg(cpu, size, i.r2));
      else setReg(cpu, size, acc, cur);
    };
  }
  return (cpu, i) => {
    const lin = linW(cpu, i, size);
    const a = getReg(cpu, size, acc);
    const nv = getReg(cpu, size, i.r2);
    // The destination is always written (with its own value on failure), as on hardware.
    const old = atomicUpdate(cpu, lin, size, (cur) => (cur === a ? nv : cur));
    cmp(cpu, a, old);
    if (old !== a) setReg(cpu, size, acc, old);
  };
};

const cmpxchg8b: Handler = (cpu, i) => {
  const s = cpu.s;
  const lin = linW(cpu, i, 8);
  probeWrite(cpu, lin, 8);
  const lo = rd32(cpu, lin);
  const hi = rd32(cpu, (lin + 4) | 0);
  if (lo === s[EAX] && hi === s[EDX]) {
    wr32(cpu, lin, s[EBX]);
    wr32(cpu, (lin + 4) | 0, s[ECX]);
    setArithFlags(cpu, ZF, ZF);
  } else {
    wr32(cpu, lin, lo);
    wr32(cpu, (lin + 4) | 0, hi);
    s[EAX] = lo;
    s[EDX] = hi;
    setArithFlags(cpu, ZF, 0);
  }
};

// --- small ones ------------------------------------------------------------------------------

const bswap: Handler = (cpu, i) => {
  const v = cpu.s[i.r1];
  cpu.s[i.r1] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
};
const cbw16: Handler = (cpu) => { cpu.r16[0] = (cpu.r8[0] << 24) >> 24; };
const cwde: Handler = (cpu) => { cpu.s[EAX] = (cpu.s[EAX] << 16) >> 16; };
const cwd: Handler = (cpu) => { cpu.r16[EDX * 2] = (cpu.r16[0] & 0x8000) !== 0 ? 0xffff : 0; };
const cdq: Handler = (cpu) => { cpu.s[EDX] = cpu.s[EAX] >> 31; };
const xlat: Handler = (cpu, i) => {
  const off = i.a16 ? (cpu.r16[EBX * 2] + cpu.r8[0]) & 0xffff : (cpu.s[EBX] + cpu.r8[0]) | 0;
  cpu.r8[0] = rd8(cpu, segLinR(cpu, i.seg, off, 1));
};
const lahf: Handler = (cpu) => { cpu.r8[1] = getFlags(cpu) & 0xff; };
const sahf: Handler = (cpu) => {
  materializeFlags(cpu);
  cpu.s[S_EFLAGS] = (cpu.s[S_EFLAGS] & ~0xd5) | (cpu.r8[1] & 0xd5);
};
/** SALC (undocumented D6): AL = CF ? 0xFF : 0. */
const salc: Handler = (cpu) => { cpu.r8[0] = (getFlags(cpu) & CF) !== 0 ? 0xff : 0; };
const nop: Handler = () => {};

const cmovFactory: Factory = (d, ins) => {
  const dst = d.ops[0];
  const src = d.ops[1];
  const size = dst.size;
  ins.op = d.opcode & 0xf;
  ins.r1 = regIndex(size, dst.reg);
  if (src.kind === OP_REG) {
    ins.r2 = regIndex(size, src.reg);
    return (cpu, i) => {
      const v = getReg(cpu, size, i.r2);
      if (cond(cpu, i.op)) setReg(cpu, size, i.r1, v);
    };
  }
  // The source is always read (and may fault) even when the condition is false.
  return (cpu, i) => {
    const v = readMem(cpu, linR(cpu, i, size), size);
    if (cond(cpu, i.op)) setReg(cpu, size, i.r1, v);
  };
};

const setccFactory: Factory = (d, ins) => {
  const o = d.ops[0];
  ins.op = d.opcode & 0xf;
  if (o.kind === OP_REG) {
    ins.r1 = regIndex(1, o.reg);
    return (cpu, i) => { cpu.r8[i.r1] = cond(cpu, i.op); };
  }
  return (cpu, i) => { writeMem(cpu, linW(cpu, i, 1), 1, cond(cpu, i.op)); };
};

/** LDS LES LSS LFS LGS: offset then selector from memory. */
function farLoadFactory(seg: number): Factory {
  return (d, ins) => {
    const dst = d.ops[0];
    if (d.ops[1].kind !== OP_MEM) return udHandler;
    const size = dst.size;
    ins.r1 = regIndex(size, dst.reg);
    ins.op = seg;
    if (seg === SEG_SS) d.endBlock = true;
    return (cpu, i) => {
      const lin = linR(cpu, i, size + 2);
      const off = size === 4 ? rd32(cpu, lin) : rd16(cpu, lin);
      const sel = rd16(cpu, (lin + size) | 0);
      loadSegment(cpu, i.op, sel);
      setReg(cpu, size, i.r1, off);
    };
  };
}

const cmpxchg8bFactory: Factory = (d) => (d.ops[0].kind === OP_MEM ? cmpxchg8b : udHandler);

/** Factories of this group, by mnemonic. */
export const dataFactories: Record<string, Factory> = {
  MOV: movFactory,
  MOVZX: extFactory(false),
  MOVSX: extFactory(true),
  LEA: leaFactory,
  XCHG: xchgFactory,
  XADD: xaddFactory,
  CMPXCHG: cmpxchgFactory,
  CMPXCHG8B: cmpxchg8bFactory,
  BSWAP: (d, ins) => {
    ins.r1 = d.ops[0].reg;
    return bswap;
  },
  CBW: (d) => (d.osz === 4 ? cwde : cbw16),
  CWD: (d) => (d.osz === 4 ? cdq : cwd),
  XLAT: () => xlat,
  LAHF: () => lahf,
  SAHF: () => sahf,
  SALC: () => salc,
  NOP: (d) => (d.lock ? udHandler : nop),
  CMOV: cmovFactory,
  SETCC: setccFactory,
  LES: farLoadFactory(0),
  LDS: farLoadFactory(3),
  LSS: farLoadFactory(2),
  LFS: farLoadFactory(4),
  LGS: farLoadFactory(5),
  UD2: () => udHandler,
  UD1: () => (cpu: Cpu) => ud(cpu),
};

export { OP_IMM };

/** The MOV and LEA handlers the interpreter's fast path recognises (fast-kinds.ts). */
export const DATA_FAST_HANDLERS = {
  movRR32, movRM32, movMR32, movRI32, movMI32, movRM8, movMR8, movMI8, lea32,
} as const;

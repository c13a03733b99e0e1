/**
 * The x87 escape opcodes D8-DF (SDM Vol. 2 Appendix A.4, Tables ): the factory picks
 * a handler from the opcode, ModRM.reg and (register forms) ModRM.rm; the semantics live in
 * ../fpu. Three kinds of entry (SDM Vol. 1 8.3.11 and 8.1.8): ordinary ("waiting") instructions
 * check #NM and pending exceptions and record the instruction/data pointers; FLDCW, FLDENV and
 * FRSTOR check both but record no pointers; the FN* control instructions check only #NM.
 */
import type { Cpu } from '../cpu';
import type { Handler, Insn } from '../insn';
import { eaOffset, linR, linW } from '../addressing';
import { rd16, rd32, wr16 } from '../mmu';
import { raise, ud } from '../fault';
import { cond, setArithFlags, CF, PF, ZF } from '../lazy-flags';
import { CR0_MP, CR0_TS, EXC_NM, OF, SF, AF, S_CR0 } from '../state';
import {
  copyPhys, FPU_CW, FPU_EMPTY, FPU_F64, FPU_RAW_HI, FPU_RAW_LO, FPU_RAW_SE, FPU_SW, FPU_TOP, FPU_ABORT,
  fpuCheckNm, fpuCheckPending, fpuEnter, fpuFault, fpuInit, fpuSetDataPointer, isEmpty, phys, pop, push,
  pushRaw, pushSlot, setCC, setControlWord, st, stackUnderflow, statusWord, SW_B, SW_ES, SW_EXC, SW_IE,
  SW_SF, writePhys, SW_C1,
} from '../fpu/fpu-state';
import {
  loadBcd, loadI64, loadM32, loadM64, loadM80, MEM, storeBcd, storeInt, storeM32, storeM64, storeM80,
} from '../fpu/x87-memory';
import { arith, CMP_CC, CMP_EQ, CMP_GT, CMP_LT, compare, OP_COM, OP_COMP, SRC_MEM } from '../fpu/x87-arith';
import { loadEnv, restoreState, saveState, storeEnv } from '../fpu/x87-env';
import {
  binaryPop, f2xm1, fprem, frndint, fscale, fsqrt, ftst, fxam, fxtract, loadConstant, moveTop, signOp, trig,
} from '../fpu/x87-math';
import type { Factory } from './common';

type MemBody = (cpu: Cpu, i: Insn, lin: number) => void;
type RegBody = (cpu: Cpu, i: Insn) => void;

/** An ordinary x87 instruction with a memory operand of `size` bytes. */
function memInsn(size: number, write: boolean, body: MemBody): Handler {
  return (cpu, i) => {
    fpuEnter(cpu, i.eip, i.imm2);
    const lin = write ? linW(cpu, i, size) : linR(cpu, i, size);
    fpuSetDataPointer(cpu, eaOffset(cpu, i), i.seg);
    try {
      body(cpu, i, lin);
    } catch (e) {
      if (e !== FPU_ABORT) throw e;
    }
  };
}

/** An ordinary x87 instruction on registers. */
function regInsn(body: RegBody): Handler {
  return (cpu, i) => {
    fpuEnter(cpu, i.eip, i.imm2);
    try {
      body(cpu, i);
    } catch (e) {
      if (e !== FPU_ABORT) throw e;
    }
  };
}

/** A control instruction: #NM, pending exceptions only if `waiting`, no pointer update. */
function controlInsn(waiting: boolean, size: number, write: boolean, body: MemBody): Handler {
  return (cpu, i) => {
    fpuCheckNm(cpu);
    if (waiting) fpuCheckPending(cpu);
    const lin = size === 0 ? 0 : write ? linW(cpu, i, size) : linR(cpu, i, size);
    body(cpu, i, lin);
  };
}

/** Reserved x87 encodings: #NM when the FPU is unavailable, else #UD. */
const x87Ud: Handler = (cpu) => {
  fpuCheckNm(cpu);
  ud(cpu);
};

// ---- memory operand loaders by opcode (D8 m32real, DA m32int, DC m64real, DE m16int) ---------------

type Loader = (cpu: Cpu, lin: number) => number;
const ldI16: Loader = (cpu, lin) => (rd16(cpu, lin) << 16) >> 16;
const ldI32: Loader = (cpu, lin) => rd32(cpu, lin);

/** D8/DA/DC/DE memory forms: ST(0) op= mem, or compare. */
function memArith(op: number, size: number, load: Loader): Handler {
  return memInsn(size, false, (cpu, _i, lin) => {
    const b = load(cpu, lin);
    const a = st(cpu, 0);
    const p0 = phys(cpu, 0);
    if (op === OP_COM || op === OP_COMP) {
      setCC(cpu, CMP_CC[compare(cpu, a, p0, b, SRC_MEM, false)]);
      if (op === OP_COMP) pop(cpu);
      return;
    }
    arith(cpu, op, a, p0, b, SRC_MEM, p0);
  });
}

/** Register forms D8 (ST0 op= STi), DC (STi op= ST0), DE (STi op= ST0, pop). */
function regArith(op: number, toSti: boolean, popAfter: boolean): Handler {
  return regInsn((cpu, i) => {
    const a = st(cpu, toSti ? i.r1 : 0);
    const b = st(cpu, toSti ? 0 : i.r1);
    const pa = phys(cpu, toSti ? i.r1 : 0);
    const pb = phys(cpu, toSti ? 0 : i.r1);
    arith(cpu, op, a, pa, b, pb, pa);
    if (popAfter) pop(cpu);
  });
}

/** FCOM/FCOMP/FCOMPP/FUCOM/FUCOMP/FUCOMPP with ST(i). */
function regCompare(unordered: boolean, pops: number): Handler {
  return regInsn((cpu, i) => {
    const a = st(cpu, 0);
    const b = st(cpu, i.r1);
    setCC(cpu, CMP_CC[compare(cpu, a, phys(cpu, 0), b, phys(cpu, i.r1), unordered)]);
    for (let k = 0; k < pops; k++) pop(cpu);
  });
}

/** FCOMI/FCOMIP/FUCOMI/FUCOMIP: the result goes to ZF PF CF (OF SF AF cleared). */
function regCompareFlags(unordered: boolean, popAfter: boolean): Handler {
  return regInsn((cpu, i) => {
    const a = st(cpu, 0);
    const b = st(cpu, i.r1);
    const r = compare(cpu, a, phys(cpu, 0), b, phys(cpu, i.r1), unordered);
    const f = r === CMP_GT ? 0 : r === CMP_LT ? CF : r === CMP_EQ ? ZF : ZF | PF | CF;
    setArithFlags(cpu, ZF | PF | CF | OF | SF | AF, f);
    cpu.s[FPU_SW] &= ~SW_C1;
    if (popAfter) pop(cpu);
  });
}

/** FCMOVcc: condition codes B E BE U and their negations. */
const FCMOV_CC = [0x2, 0x4, 0x6, 0xa];
function fcmov(negate: boolean, which: number): Handler {
  const cc = FCMOV_CC[which] | (negate ? 1 : 0);
  return regInsn((cpu, i) => {
    if (isEmpty(cpu, i.r1) || isEmpty(cpu, 0)) {
      stackUnderflow(cpu);
      writePhys(cpu, phys(cpu, 0), NaN);
      return;
    }
    if (cond(cpu, cc)) copyPhys(cpu, phys(cpu, i.r1), phys(cpu, 0));
  });
}

/** FLD from memory: m32/m64 SNaNs signal IE and load quieted; m80 loads exactly as it is. */
function fldMem(size: number, load: Loader, exact: boolean): Handler {
  return memInsn(size, false, (cpu, _i, lin) => {
    const v = load(cpu, lin);
    if (exact || v !== v) {
      let hi = MEM.hi;
      if (!exact) {
        if ((hi & 0x40000000) === 0) fpuFault(cpu, SW_IE);
        hi |= 0x40000000;
      }
      pushRaw(cpu, MEM.se, hi, MEM.lo);
    } else {
      push(cpu, v);
    }
  });
}

/** FST/FSTP to memory (real formats). */
function fstMem(size: number, popAfter: boolean): Handler {
  return memInsn(size, true, (cpu, _i, lin) => {
    const v = st(cpu, 0);
    const p = phys(cpu, 0);
    if (size === 4) storeM32(cpu, lin, v, p);
    else if (size === 8) storeM64(cpu, lin, v, p);
    else storeM80(cpu, lin, p);
    if (popAfter) pop(cpu);
  });
}

/** FIST/FISTP to memory (16, 32 or 64 bits). */
function fistMem(bits: number, popAfter: boolean): Handler {
  return memInsn(bits / 8, true, (cpu, _i, lin) => {
    st(cpu, 0);
    storeInt(cpu, lin, phys(cpu, 0), bits);
    if (popAfter) pop(cpu);
  });
}

/** FLD ST(i): pushes a copy (exact encoding kept). */
const fldReg = regInsn((cpu, i) => {
  const from = phys(cpu, i.r1);
  if (isEmpty(cpu, i.r1)) {
    stackUnderflow(cpu);
    push(cpu, NaN);
    return;
  }
  const p = pushSlot(cpu);
  cpu.s[FPU_TOP] = (cpu.s[FPU_TOP] - 1) & 7;
  if (p < 0) writePhys(cpu, cpu.s[FPU_TOP], NaN);
  else copyPhys(cpu, from, p);
});

/** FST/FSTP ST(i). */
function fstReg(popAfter: boolean): Handler {
  return regInsn((cpu, i) => {
    if (isEmpty(cpu, 0)) {
      stackUnderflow(cpu);
      writePhys(cpu, phys(cpu, i.r1), NaN);
    } else {
      copyPhys(cpu, phys(cpu, 0), phys(cpu, i.r1));
    }
    if (popAfter) pop(cpu);
  });
}

/** FXCH ST(i). */
const fxch = regInsn((cpu, i) => {
  const p0 = phys(cpu, 0);
  const pi = phys(cpu, i.r1);
  if (isEmpty(cpu, 0) || isEmpty(cpu, i.r1)) {
    stackUnderflow(cpu);
    if (isEmpty(cpu, 0)) writePhys(cpu, p0, NaN);
    if (isEmpty(cpu, i.r1)) writePhys(cpu, pi, NaN);
  }
  swapPhys(cpu, p0, pi);
  cpu.s[FPU_SW] &= ~SW_C1;
});

/** The words of a register's exact encoding. */
const RAW_WORDS = [FPU_RAW_LO, FPU_RAW_HI, FPU_RAW_SE];

/** Exchanges two physical registers (values and exact encodings). */
function swapPhys(cpu: Cpu, a: number, b: number): void {
  if (a === b) return;
  const f = cpu.f64;
  const s = cpu.s;
  const fa = f[FPU_F64 + a];
  f[FPU_F64 + a] = f[FPU_F64 + b];
  f[FPU_F64 + b] = fa;
  for (const base of RAW_WORDS) {
    const w = s[base + a];
    s[base + a] = s[base + b];
    s[base + b] = w;
  }
}

/** FFREE ST(i) (and FFREEP: then pop). */
function ffree(popAfter: boolean): Handler {
  return regInsn((cpu, i) => {
    cpu.s[FPU_EMPTY] |= 1 << phys(cpu, i.r1);
    if (popAfter) pop(cpu);
  });
}

const fnop = regInsn(() => {});

/** FWAIT: #NM only with MP and TS both set; reports pending exceptions. */
const fwait: Handler = (cpu) => {
  if ((cpu.s[S_CR0] & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) raise(cpu, EXC_NM);
  fpuCheckPending(cpu);
};

const fnstswAx = controlInsn(false, 0, false, (cpu) => {
  cpu.r16[0] = statusWord(cpu);
});
const fnclex = controlInsn(false, 0, false, (cpu) => {
  cpu.s[FPU_SW] &= ~(SW_EXC | SW_SF | SW_ES | SW_B);
});
const fninit = controlInsn(false, 0, false, (cpu) => fpuInit(cpu.s));
/** FNENI, FNDISI, FNSETPM: no operation on the 387 and later. */
const fnControlNop = controlInsn(false, 0, false, () => {});

// ---- D9 E0-FF ---------------------------------------------------------------------------------------

const D9_MISC: Record<number, Handler> = {
  0xe0: regInsn((cpu) => signOp(cpu, false)),
  0xe1: regInsn((cpu) => signOp(cpu, true)),
  0xe4: regInsn(ftst),
  0xe5: regInsn(fxam),
  0xe8: regInsn((cpu) => loadConstant(cpu, 'FLD1')),
  0xe9: regInsn((cpu) => loadConstant(cpu, 'FLDL2T')),
  0xea: regInsn((cpu) => loadConstant(cpu, 'FLDL2E')),
  0xeb: regInsn((cpu) => loadConstant(cpu, 'FLDPI')),
  0xec: regInsn((cpu) => loadConstant(cpu, 'FLDLG2')),
  0xed: regInsn((cpu) => loadConstant(cpu, 'FLDLN2')),
  0xee: regInsn((cpu) => loadConstant(cpu, 'FLDZ')),
  0xf0: regInsn(f2xm1),
  0xf1: regInsn((cpu) => binaryPop(cpu, 'yl2x')),
  0xf2: regInsn((cpu) => trig(cpu, 'tan')),
  0xf3: regInsn((cpu) => binaryPop(cpu, 'atan')),
  0xf4: regInsn(fxtract),
  0xf5: regInsn((cpu) => fprem(cpu, true)),
  0xf6: regInsn((cpu) => moveTop(cpu, -1)),
  0xf7: regInsn((cpu) => moveTop(cpu, 1)),
  0xf8: regInsn((cpu) => fprem(cpu, false)),
  0xf9: regInsn((cpu) => binaryPop(cpu, 'yl2xp1')),
  0xfa: regInsn(fsqrt),
  0xfb: regInsn((cpu) => trig(cpu, 'sincos')),
  0xfc: regInsn(frndint),
  0xfd: regInsn(fscale),
  0xfe: regInsn((cpu) => trig(cpu, 'sin')),
  0xff: regInsn((cpu) => trig(cpu, 'cos')),
};

// ---- the maps -------------------------------------------------------------------------------------------

const REAL32: Loader = loadM32;
const REAL64: Loader = loadM64;
const ARITH_LOADERS: Record<number, [number, Loader]> = { 0: [4, REAL32], 2: [4, ldI32], 4: [8, REAL64], 6: [2, ldI16] };

function memHandler(esc: number, reg: number, osz: number): Handler | null {
  const arithEntry = ARITH_LOADERS[esc];
  if (arithEntry !== undefined) return memArith(reg, arithEntry[0], arithEntry[1]);
  const envBytes = osz === 4 ? 28 : 14;
  switch ((esc << 3) | reg) {
    case 0o10: return fldMem(4, REAL32, false);
    case 0o12: return fstMem(4, false);
    case 0o13: return fstMem(4, true);
    case 0o14: return controlInsn(true, envBytes, false, (cpu, _i, lin) => loadEnv(cpu, lin, osz));
    case 0o15: return controlInsn(true, 2, false, (cpu, _i, lin) => setControlWord(cpu, rd16(cpu, lin)));
    case 0o16: return controlInsn(false, envBytes, true, (cpu, _i, lin) => {
      storeEnv(cpu, lin, osz);
      // FNSTENV masks all exceptions after saving.
      cpu.s[FPU_CW] |= SW_EXC;
    });
    case 0o17: return controlInsn(false, 2, true, (cpu, _i, lin) => wr16(cpu, lin, cpu.s[FPU_CW]));
    case 0o30: return fldMem(4, (cpu, lin) => rd32(cpu, lin), false);
    case 0o32: return fistMem(32, false);
    case 0o33: return fistMem(32, true);
    case 0o35: return fldMem(10, loadM80, true);
    case 0o37: return fstMem(10, true);
    case 0o50: return fldMem(8, REAL64, false);
    case 0o52: return fstMem(8, false);
    case 0o53: return fstMem(8, true);
    case 0o54: return controlInsn(true, envBytes + 80, false, (cpu, _i, lin) => restoreState(cpu, lin, osz));
    case 0o56: return controlInsn(false, envBytes + 80, true, (cpu, _i, lin) => saveState(cpu, lin, osz));
    case 0o57: return controlInsn(false, 2, true, (cpu, _i, lin) => wr16(cpu, lin, statusWord(cpu)));
    case 0o70: return fldMem(2, ldI16, false);
    case 0o72: return fistMem(16, false);
    case 0o73: return fistMem(16, true);
    case 0o74: return fldMem(10, loadBcd, true);
    case 0o75: return fldMem(8, loadI64, true);
    case 0o76: return memInsn(10, true, (cpu, _i, lin) => {
      st(cpu, 0);
      storeBcd(cpu, lin, phys(cpu, 0));
      pop(cpu);
    });
    case 0o77: return fistMem(64, true);
    default: return null;
  }
}

function regHandler(esc: number, reg: number, modrm: number): Handler | null {
  switch (esc) {
    case 0:
      return reg === 2 ? regCompare(false, 0) : reg === 3 ? regCompare(false, 1) : regArith(reg, false, false);
    case 1:
      if (reg === 0) return fldReg;
      if (reg === 1) return fxch;
      if (modrm === 0xd0) return fnop;
      if (reg === 3) return fstReg(true);
      return D9_MISC[modrm] ?? null;
    case 2:
      if (reg < 4) return fcmov(false, reg);
      return modrm === 0xe9 ? regCompare(true, 2) : null;
    case 3:
      if (reg < 4) return fcmov(true, reg);
      if (modrm === 0xe2) return fnclex;
      if (modrm === 0xe3) return fninit;
      if (modrm === 0xe0 || modrm === 0xe1 || modrm === 0xe4) return fnControlNop;
      if (reg === 5) return regCompareFlags(true, false);
      if (reg === 6) return regCompareFlags(false, false);
      return null;
    case 4:
      // DC: STi = STi op ST0, with SUB/SUBR and DIV/DIVR swapped in the encoding.
      if (reg === 2) return regCompare(false, 0);
      if (reg === 3) return regCompare(false, 1);
      return regArith(reg < 4 ? reg : reg ^ 1, true, false);
    case 5:
      if (reg === 0) return ffree(false);
      if (reg === 1) return fxch;
      if (reg === 2) return fstReg(false);
      if (reg === 3) return fstReg(true);
      if (reg === 4) return regCompare(true, 0);
      if (reg === 5) return regCompare(true, 1);
      return null;
    case 6:
      if (reg === 2) return regCompare(false, 1);
      if (reg === 3) return modrm === 0xd9 ? regCompare(false, 2) : null;
      return regArith(reg < 4 ? reg : reg ^ 1, true, true);
    default:
      if (reg === 0) return ffree(true);
      if (reg === 1) return fxch;
      if (reg === 2 || reg === 3) return fstReg(true);
      if (modrm === 0xe0) return fnstswAx;
      if (reg === 5) return regCompareFlags(true, true);
      if (reg === 6) return regCompareFlags(false, true);
      return null;
  }
}

/** Factories of this group, by mnemonic. */
export const x87Factories: Record<string, Factory> = {
  X87: (d, ins) => {
    const esc = d.opcode & 7;
    ins.op = d.reg;
    ins.r1 = d.rm;
    ins.imm2 = (esc << 8) | d.modrm;
    const h = d.mod === 3 ? regHandler(esc, d.reg, d.modrm) : memHandler(esc, d.reg, d.osz);
    return h ?? x87Ud;
  },
  FWAIT: () => fwait,
};


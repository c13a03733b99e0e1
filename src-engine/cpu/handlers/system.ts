/**
 * System and flag instructions: HLT, CLI/STI (with the STI shadow), CLC STC CMC CLD STD, CPUID,
 * RDTSC, RDMSR/WRMSR, MOV to/from control and debug registers, LGDT LIDT SGDT SIDT LLDT SLDT LTR
 * STR LMSW SMSW CLTS INVLPG INVD WBINVD, LAR LSL VERR VERW ARPL, VMCALL/VMMCALL, and the x87
 * escape until the FPU lands (#NM per CR0.EM/TS, else #UD).
 */
import type { Cpu } from '../cpu';
import { RunExit } from '../cpu';
import { OP_MEM, OP_REG } from '../decoder';
import type { Handler, Insn } from '../insn';
import { linR, linW } from '../addressing';
import { getFlags, materializeFlags, setArithFlags, CF, ZF } from '../lazy-flags';
import { flushTlb, flushTlbPage, rd16, rd32, wr16, wr32, wrSys } from '../mmu';
import { gp, raise, raiseError, ud } from '../fault';
import { cpuid, cr4Allowed } from '../cpuid';
import { readMsr, readTsc, writeMsr } from '../msr';
import { dplOf, fetchDescriptor, setSegment } from '../segments';
import { loadPdptes } from '../paging';
import { DR6_BD, DR6_FIXED1, DR7_FIXED1, DR7_GD, updateWatch } from '../debug';
import {
  AR_CODE, AR_DC, AR_P, AR_RW, AR_S, AR_UNUSABLE, CR0_CD, CR0_NW, CR0_PE, CR0_PG,
  CR0_TS, CR0_WP, CR4_DE, CR4_PAE, CR4_PGE, CR4_PSE, CR4_TSD, DF, EAX, ECX, EDX, EXC_DB, EXC_NP, IF,
  IOPL_MASK, IOPL_SHIFT, S_CR0, S_CR2, S_CR3, S_CR4, S_DR, S_EFLAGS, S_GDTR_BASE, S_GDTR_LIMIT,
  S_HALTED, S_IDTR_BASE, S_IDTR_LIMIT, S_SEG_SEL, S_SHADOW, SEG_LDTR, SEG_TR, CR0_ET,
} from '../state';
import { regIndex, setReg, udHandler, type Factory } from './common';

function requireCpl0(cpu: Cpu): void {
  if (cpu.pe && cpu.cpl !== 0) gp(cpu, 0);
}
function requireProtected(cpu: Cpu): void {
  if (!cpu.pe || cpu.vm86) ud(cpu);
}

const hlt: Handler = (cpu) => {
  requireCpl0(cpu);
  cpu.s[S_HALTED] = 1;
  cpu.pendingExit = RunExit.Halt;
  cpu.localAttention = true;
};

/** CLI/STI permission: real mode always; protected mode CPL <= IOPL; v86 IOPL = 3. */
function ifAllowed(cpu: Cpu): void {
  if (!cpu.pe) return;
  const iopl = (cpu.s[S_EFLAGS] & IOPL_MASK) >> IOPL_SHIFT;
  if (cpu.vm86 ? iopl !== 3 : cpu.cpl > iopl) gp(cpu, 0);
}
const cli: Handler = (cpu) => {
  ifAllowed(cpu);
  cpu.s[S_EFLAGS] &= ~IF;
};
const sti: Handler = (cpu) => {
  ifAllowed(cpu);
  const s = cpu.s;
  if ((s[S_EFLAGS] & IF) === 0) {
    s[S_EFLAGS] |= IF;
    // Interrupts are recognised only after the next instruction.
    s[S_SHADOW] |= 1;
    cpu.updateMode();
    cpu.localAttention = true;
  }
};
const clc: Handler = (cpu) => setArithFlags(cpu, CF, 0);
const stc: Handler = (cpu) => setArithFlags(cpu, CF, CF);
const cmc: Handler = (cpu) => setArithFlags(cpu, CF, getFlags(cpu) ^ CF);
const cld: Handler = (cpu) => {
  cpu.s[S_EFLAGS] &= ~DF;
};
const std: Handler = (cpu) => {
  cpu.s[S_EFLAGS] |= DF;
};

const cpuidH: Handler = (cpu) => cpuid(cpu, cpu.vcpuId);
const rdtsc: Handler = (cpu) => {
  if ((cpu.s[S_CR4] & CR4_TSD) !== 0 && cpu.pe && cpu.cpl !== 0) gp(cpu, 0);
  const t = readTsc(cpu);
  cpu.s[EAX] = t % 4294967296 | 0;
  cpu.s[EDX] = Math.floor(t / 4294967296) | 0;
};
const rdmsr: Handler = (cpu) => {
  requireCpl0(cpu);
  if (cpu.vm86) gp(cpu, 0);
  const v = readMsr(cpu, cpu.s[ECX]);
  if (v === undefined) gp(cpu, 0);
  cpu.s[EAX] = v[0];
  cpu.s[EDX] = v[1];
};
const wrmsr: Handler = (cpu) => {
  requireCpl0(cpu);
  if (cpu.vm86) gp(cpu, 0);
  if (!writeMsr(cpu, cpu.s[ECX], cpu.s[EAX], cpu.s[EDX])) gp(cpu, 0);
  cpu.localAttention = true;
};

/** DR7 bits that read as 0: 11, 12, 14, 15. */
const DR7_RESERVED0 = 0xd800;

/** CR0 bits that exist: PE MP EM TS ET NE WP AM NW CD PG (writes to the others are ignored). */
const CR0_DEFINED = 0xe005003f | 0;

/** Writes CR0 with the architectural checks; flushes translations when paging changes. */
export function writeCr0(cpu: Cpu, v: number): void {
  const s = cpu.s;
  if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0) gp(cpu, 0);
  if ((v & CR0_NW) !== 0 && (v & CR0_CD) === 0) gp(cpu, 0);
  const old = s[S_CR0];
  // Enabling paging with CR4.PAE loads the PDPTE registers (#GP if one is malformed).
  if ((v & CR0_PG) !== 0 && (old & CR0_PG) === 0 && (s[S_CR4] & CR4_PAE) !== 0) loadPdptes(cpu, s[S_CR3]);
  s[S_CR0] = (v & CR0_DEFINED) | CR0_ET;
  if (((old ^ v) & (CR0_PG | CR0_PE | CR0_WP)) !== 0) flushTlb(cpu, false);
  cpu.updateMode();
}

const movFromCr: Handler = (cpu, i) => {
  requireCpl0(cpu);
  if (cpu.vm86) gp(cpu, 0);
  const s = cpu.s;
  const v = i.op === 0 ? s[S_CR0] : i.op === 2 ? s[S_CR2] : i.op === 3 ? s[S_CR3] : s[S_CR4];
  s[i.r1] = v;
};
const movToCr: Handler = (cpu, i) => {
  requireCpl0(cpu);
  if (cpu.vm86) gp(cpu, 0);
  const s = cpu.s;
  const v = s[i.r1];
  switch (i.op) {
    case 0:
      writeCr0(cpu, v);
      break;
    case 2:
      s[S_CR2] = v;
      break;
    case 3:
      if ((s[S_CR0] & CR0_PG) !== 0 && (s[S_CR4] & CR4_PAE) !== 0) loadPdptes(cpu, v);
      s[S_CR3] = v;
      flushTlb(cpu, true);
      break;
    default: {
      if ((v & ~cr4Allowed(cpu.features)) !== 0) gp(cpu, 0);
      const old = s[S_CR4];
      if ((v & CR4_PAE) !== 0 && (s[S_CR0] & CR0_PG) !== 0 && ((old ^ v) & (CR4_PGE | CR4_PSE | CR4_PAE)) !== 0) {
        loadPdptes(cpu, s[S_CR3]);
      }
      s[S_CR4] = v;
      if (((old ^ v) & (CR4_PGE | CR4_PSE | CR4_PAE)) !== 0) flushTlb(cpu, false);
      break;
    }
  }
  cpu.localAttention = true;
};

/** DR4/DR5 are aliases of DR6/DR7 while CR4.DE is clear (#UD with DE). */
function drIndex(cpu: Cpu, n: number): number {
  if (n === 4 || n === 5) {
    if ((cpu.s[S_CR4] & CR4_DE) !== 0) ud(cpu);
    return n + 2;
  }
  return n;
}

/** MOV from or to a debug register with DR7.GD set: #DB fault with DR6.BD (general detect). */
function generalDetect(cpu: Cpu): void {
  if ((cpu.s[S_DR + 7] & DR7_GD) !== 0) {
    cpu.s[S_DR + 6] |= DR6_BD;
    cpu.dbGeneralDetect = true;
    raise(cpu, EXC_DB);
  }
}

const movFromDr: Handler = (cpu, i) => {
  requireCpl0(cpu);
  if (cpu.vm86) gp(cpu, 0);
  const n = drIndex(cpu, i.op);
  generalDetect(cpu);
  cpu.s[i.r1] = cpu.s[S_DR + n];
};
const movToDr: Handler = (cpu, i) => {
  requireCpl0(cpu);
  if (cpu.vm86) gp(cpu, 0);
  const n = drIndex(cpu, i.op);
  generalDetect(cpu);
  const s = cpu.s;
  const v = s[i.r1];
  // DR6 and DR7 keep their reserved bits at their fixed values.
  if (n === 6) s[S_DR + 6] = v | DR6_FIXED1;
  else if (n === 7) s[S_DR + 7] = (v | DR7_FIXED1) & ~DR7_RESERVED0;
  else s[S_DR + n] = v;
  updateWatch(cpu);
  flushTlb(cpu, false);
  cpu.updateMode();
};

function descTableLoad(baseIdx: number, limitIdx: number): Handler {
  return (cpu, i) => {
    requireCpl0(cpu);
    if (cpu.vm86) gp(cpu, 0);
    const lin = linR(cpu, i, 6);
    const limit = rd16(cpu, lin);
    let base = rd32(cpu, (lin + 2) | 0);
    if (i.size === 2) base &= 0xffffff;
    cpu.s[baseIdx] = base;
    cpu.s[limitIdx] = limit;
  };
}
function descTableStore(baseIdx: number, limitIdx: number): Handler {
  return (cpu, i) => {
    const lin = linW(cpu, i, 6);
    wr16(cpu, lin, cpu.s[limitIdx]);
    wr32(cpu, (lin + 2) | 0, cpu.s[baseIdx]);
  };
}

/** Reads the 16-bit selector operand of LLDT/LTR/VERR/... (register or memory). */
function sel16(cpu: Cpu, i: Insn): number {
  return i.r1 >= 0 ? cpu.r16[i.r1] : rd16(cpu, linR(cpu, i, 2));
}
/** Stores a 16-bit system value: registers get it zero-extended to the operand size. */
function store16(cpu: Cpu, i: Insn, v: number): void {
  if (i.r1 >= 0) setReg(cpu, i.size, i.r1, v & (i.size === 4 ? -1 : 0xffff));
  else wr16(cpu, linW(cpu, i, 2), v);
}

const lldt: Handler = (cpu, i) => {
  requireProtected(cpu);
  requireCpl0(cpu);
  const sel = sel16(cpu, i);
  if ((sel & 0xfffc) === 0) {
    setSegment(cpu, SEG_LDTR, sel, 0, 0, AR_UNUSABLE);
    return;
  }
  if ((sel & 4) !== 0) gp(cpu, sel & 0xfffc);
  const d = fetchDescriptor(cpu, sel);
  if ((d.ar & 0x1f) !== 0x02) gp(cpu, sel & 0xfffc);
  if ((d.ar & AR_P) === 0) raiseError(cpu, EXC_NP, sel & 0xfffc);
  setSegment(cpu, SEG_LDTR, sel, d.base, d.limit, d.ar);
};
const ltr: Handler = (cpu, i) => {
  requireProtected(cpu);
  requireCpl0(cpu);
  const sel = sel16(cpu, i);
  if ((sel & 0xfffc) === 0 || (sel & 4) !== 0) gp(cpu, sel & 0xfffc);
  const d = fetchDescriptor(cpu, sel);
  const type = d.ar & 0x1f;
  if (type !== 0x01 && type !== 0x09) gp(cpu, sel & 0xfffc);
  if ((d.ar & AR_P) === 0) raiseError(cpu, EXC_NP, sel & 0xfffc);
  // Mark the TSS busy in its descriptor.
  d.hi |= 0x200;
  d.ar |= 0x2;
  wrSys(cpu, (d.addr + 5) | 0, 1, (d.hi >>> 8) & 0xff);
  setSegment(cpu, SEG_TR, sel, d.base, d.limit, d.ar);
};
const sldt: Handler = (cpu, i) => {
  requireProtected(cpu);
  store16(cpu, i, cpu.s[S_SEG_SEL + SEG_LDTR]);
};
const str: Handler = (cpu, i) => {
  requireProtected(cpu);
  store16(cpu, i, cpu.s[S_SEG_SEL + SEG_TR]);
};
const smsw: Handler = (cpu, i) => {
  store16(cpu, i, cpu.s[S_CR0]);
};
const lmsw: Handler = (cpu, i) => {
  requireCpl0(cpu);
  if (cpu.vm86) gp(cpu, 0);
  const v = sel16(cpu, i);
  const s = cpu.s;
  // Bits 0-3 only; LMSW can set PE but never clear it.
  const nv = (s[S_CR0] & ~0xe) | (v & 0xf) | (s[S_CR0] & CR0_PE);
  writeCr0(cpu, nv);
};
const clts: Handler = (cpu) => {
  requireCpl0(cpu);
  if (cpu.vm86) gp(cpu, 0);
  cpu.s[S_CR0] &= ~CR0_TS;
};
const invlpg: Handler = (cpu, i) => {
  requireCpl0(cpu);
  if (cpu.vm86) gp(cpu, 0);
  flushTlbPage(cpu, (linR(cpu, i, 1) - 0) | 0);
};
const cacheOp: Handler = (cpu) => requireCpl0(cpu);

/** Descriptor types LAR accepts (system descriptors), LSL accepts. */
const LAR_SYSTEM = new Set([1, 2, 3, 4, 5, 9, 0xb, 0xc]);
const LSL_SYSTEM = new Set([1, 2, 3, 9, 0xb]);

/** Shared part of LAR/LSL/VERR/VERW: the descriptor if visible, else undefined (ZF=0). */
function visibleDescriptor(cpu: Cpu, sel: number, systemOk: Set<number> | null): ReturnType<typeof fetchDescriptor> | undefined {
  if ((sel & 0xfffc) === 0) return undefined;
  let d;
  try {
    d = fetchDescriptor(cpu, sel);
  } catch {
    // A selector outside its table just clears ZF for these instructions.
    return undefined;
  }
  const ar = d.ar;
  if ((ar & AR_S) === 0) {
    if (systemOk === null || !systemOk.has(ar & 0xf)) return undefined;
  }
  const conforming = (ar & (AR_S | AR_CODE | AR_DC)) === (AR_S | AR_CODE | AR_DC);
  if (!conforming && (dplOf(ar) < cpu.cpl || dplOf(ar) < (sel & 3))) return undefined;
  return d;
}

function larLsl(lsl: boolean): Factory {
  return (d, ins) => {
    const dst = d.ops[0];
    const src = d.ops[1];
    ins.size = dst.size;
    ins.r2 = regIndex(dst.size, dst.reg);
    ins.r1 = src.kind === OP_REG ? regIndex(2, src.reg) : -1;
    return (cpu, i) => {
      requireProtected(cpu);
      const sel = sel16(cpu, i);
      const desc = visibleDescriptor(cpu, sel, lsl ? LSL_SYSTEM : LAR_SYSTEM);
      if (desc === undefined) {
        setArithFlags(cpu, ZF, 0);
        return;
      }
      const v = lsl ? desc.limit : desc.hi & (i.size === 4 ? 0x00f0ff00 : 0xff00);
      setReg(cpu, i.size, i.r2, i.size === 4 ? v | 0 : v & 0xffff);
      setArithFlags(cpu, ZF, ZF);
    };
  };
}

function verFactory(write: boolean): Factory {
  return (d, ins) => {
    const o = d.ops[0];
    ins.r1 = o.kind === OP_REG ? regIndex(2, o.reg) : -1;
    return (cpu, i) => {
      requireProtected(cpu);
      const desc = visibleDescriptor(cpu, sel16(cpu, i), null);
      let ok = desc !== undefined && (desc.ar & AR_S) !== 0;
      if (ok && desc) {
        const code = (desc.ar & AR_CODE) !== 0;
        ok = write ? !code && (desc.ar & AR_RW) !== 0 : !code || (desc.ar & AR_RW) !== 0;
      }
      setArithFlags(cpu, ZF, ok ? ZF : 0);
    };
  };
}

const arplFactory: Factory = (d, ins) => {
  const dst = d.ops[0];
  const src = d.ops[1];
  ins.r2 = regIndex(2, src.reg);
  const reg = dst.kind === OP_REG;
  if (reg) ins.r1 = regIndex(2, dst.reg);
  return (cpu, i) => {
    requireProtected(cpu);
    const lin = reg ? 0 : linW(cpu, i, 2);
    const v = reg ? cpu.r16[i.r1] : rd16(cpu, lin);
    const srcRpl = cpu.r16[i.r2] & 3;
    if ((v & 3) < srcRpl) {
      const nv = (v & ~3) | srcRpl;
      if (reg) cpu.r16[i.r1] = nv;
      else wr16(cpu, lin, nv);
      setArithFlags(cpu, ZF, ZF);
    } else {
      setArithFlags(cpu, ZF, 0);
    }
  };
};

const vmcall: Handler = (cpu) => {
  if (!cpu.ops.hypercall()) ud(cpu);
};

function withModrmSel(h: Handler, storeForm = false): Factory {
  return (d, ins) => {
    const o = d.ops[0];
    ins.size = o.kind === OP_REG ? d.osz : 2;
    ins.r1 = o.kind === OP_REG ? regIndex(storeForm ? ins.size : 2, o.reg) : -1;
    return h;
  };
}

function crFactory(toCr: boolean, debug: boolean): Factory {
  return (d, ins) => {
    const a = d.ops[0];
    const b = d.ops[1];
    const regOp = toCr ? b : a;
    const crOp = toCr ? a : b;
    ins.r1 = regOp.reg;
    ins.op = crOp.reg;
    if (!debug && (crOp.reg === 1 || crOp.reg > 4)) return udHandler;
    d.endBlock = true;
    return debug ? (toCr ? movToDr : movFromDr) : toCr ? movToCr : movFromCr;
  };
}

/** Factories of this group, by mnemonic. */
export const systemFactories: Record<string, Factory> = {
  HLT: (d) => {
    d.endBlock = true;
    return hlt;
  },
  CLI: () => cli,
  STI: (d) => {
    d.endBlock = true;
    return sti;
  },
  CLC: () => clc,
  STC: () => stc,
  CMC: () => cmc,
  CLD: () => cld,
  STD: () => std,
  CPUID: () => cpuidH,
  RDTSC: () => rdtsc,
  RDMSR: () => rdmsr,
  WRMSR: (d) => {
    d.endBlock = true;
    return wrmsr;
  },
  RDPMC: () => (cpu: Cpu) => gp(cpu, 0),
  MOVCR: (d, ins) => crFactory(d.ops[0].kind === 5, false)(d, ins),
  MOVDR: (d, ins) => crFactory(d.ops[0].kind === 6, true)(d, ins),
  LGDT: (d, ins) => {
    ins.size = d.osz;
    return d.ops[0].kind === OP_MEM ? descTableLoad(S_GDTR_BASE, S_GDTR_LIMIT) : udHandler;
  },
  LIDT: (d, ins) => {
    ins.size = d.osz;
    return d.ops[0].kind === OP_MEM ? descTableLoad(S_IDTR_BASE, S_IDTR_LIMIT) : udHandler;
  },
  SGDT: () => descTableStore(S_GDTR_BASE, S_GDTR_LIMIT),
  SIDT: () => descTableStore(S_IDTR_BASE, S_IDTR_LIMIT),
  LLDT: withModrmSel(lldt),
  LTR: withModrmSel(ltr),
  SLDT: withModrmSel(sldt, true),
  STR: withModrmSel(str, true),
  SMSW: withModrmSel(smsw, true),
  LMSW: (d, ins) => {
    d.endBlock = true;
    return withModrmSel(lmsw)(d, ins);
  },
  CLTS: () => clts,
  INVLPG: (d) => {
    d.endBlock = true;
    return invlpg;
  },
  INVD: () => cacheOp,
  WBINVD: () => cacheOp,
  LAR: larLsl(false),
  LSL: larLsl(true),
  VERR: verFactory(false),
  VERW: verFactory(true),
  ARPL: arplFactory,
  VMCALL: (d) => {
    d.endBlock = true;
    return vmcall;
  },
  VMMCALL: (d) => {
    d.endBlock = true;
    return vmcall;
  },
};

export { materializeFlags, CR0_PG };

/**
 * SSE and SSE2 data movement and bitwise logic on XMM registers (SDM Vol. 2): MOVUPS/MOVUPD/
 * MOVAPS/MOVAPD, MOVSS/MOVSD, MOVDQA/MOVDQU, MOVD/MOVQ, the non-temporal stores MOVNTPS/MOVNTPD/
 * MOVNTDQ/MOVNTI, and ANDPS ANDNPS ORPS XORPS (and the PD forms) PAND PANDN POR PXOR.
 *
 * 128-bit memory operands must be 16-byte aligned (#GP(0)) except for the explicitly unaligned
 * MOVUPS/MOVUPD/MOVDQU; scalar and 64-bit forms have no alignment rule. Every form is #UD unless
 * CPUID advertises its feature (SSE for the PS and SS forms, SSE2 for the rest), CR4.OSFXSR is set
 * and CR0.EM is clear; CR0.TS gives #NM. The floating-point arithmetic of SSE is not implemented,
 * which is why SSE and SSE2 are not advertised by default (docs/cpu.md).
 */
import type { Cpu } from '../cpu';
import type { Decoded } from '../decoder';
import type { Handler, Insn } from '../insn';
import { linR, linW } from '../addressing';
import { gp, raise, ud } from '../fault';
import { probeWrite, rd32, wr32 } from '../mmu';
import { FPU_XMM } from '../fpu/fpu-state';
import { CR0_EM, CR0_TS, CR4_OSFXSR, EXC_NM, S_CR0, S_CR4 } from '../state';
import type { Factory } from './common';

/** Mandatory prefixes, as the decoder saw them. */
const P_NONE = 0;
const P_66 = 1;
const P_F3 = 2;
const P_F2 = 3;

/** Alignment of 128-bit operands of the aligned forms. */
const ALIGN_16 = 15;

/** #UD without OSFXSR or with EM; #NM with TS. */
function sseEnter(cpu: Cpu): void {
  const cr0 = cpu.s[S_CR0];
  if ((cr0 & CR0_EM) !== 0 || (cpu.s[S_CR4] & CR4_OSFXSR) === 0) ud(cpu);
  if ((cr0 & CR0_TS) !== 0) raise(cpu, EXC_NM);
}

/** Word index of dword k of XMM register x. */
function xw(x: number, k: number): number {
  return FPU_XMM + x * 4 + k;
}

const tmp = new Int32Array(4);

/** Reads `dwords` dwords of the memory operand (aligned forms check 16-byte alignment). */
function readMem(cpu: Cpu, i: Insn, dwords: number, aligned: boolean): Int32Array {
  const lin = linR(cpu, i, dwords * 4);
  if (aligned && (lin & ALIGN_16) !== 0) gp(cpu, 0);
  for (let k = 0; k < dwords; k++) tmp[k] = rd32(cpu, (lin + 4 * k) | 0);
  return tmp;
}

/** Writes the first `dwords` dwords of XMM register x to the memory operand. */
function writeMem(cpu: Cpu, i: Insn, x: number, dwords: number, aligned: boolean): void {
  const lin = linW(cpu, i, dwords * 4);
  if (aligned && (lin & ALIGN_16) !== 0) gp(cpu, 0);
  probeWrite(cpu, lin, dwords * 4);
  for (let k = 0; k < dwords; k++) wr32(cpu, (lin + 4 * k) | 0, cpu.s[xw(x, k)]);
}

/**
 * XMM destination from memory: `dwords` loaded, the rest zeroed when `zeroRest` (MOVSS/MOVSD/
 * MOVD/MOVQ loads), or kept.
 */
function loadHandler(dwords: number, aligned: boolean, zeroRest: boolean): Handler {
  return (cpu, i) => {
    sseEnter(cpu);
    const v = readMem(cpu, i, dwords, aligned);
    const s = cpu.s;
    for (let k = 0; k < 4; k++) {
      if (k < dwords) s[xw(i.r1, k)] = v[k];
      else if (zeroRest) s[xw(i.r1, k)] = 0;
    }
  };
}

/** Register to register: `dwords` copied, the rest zeroed (MOVQ) or kept (MOVSS/MOVSD). */
function moveRegHandler(dwords: number, zeroRest: boolean): Handler {
  return (cpu, i) => {
    sseEnter(cpu);
    const s = cpu.s;
    for (let k = 0; k < 4; k++) {
      if (k < dwords) s[xw(i.r1, k)] = s[xw(i.r2, k)];
      else if (zeroRest) s[xw(i.r1, k)] = 0;
    }
  };
}

function storeHandler(dwords: number, aligned: boolean): Handler {
  return (cpu, i) => {
    sseEnter(cpu);
    writeMem(cpu, i, i.r2, dwords, aligned);
  };
}

/** Bitwise logic: 0 AND, 1 ANDN (NOT dest AND src), 2 OR, 3 XOR. */
function logicHandler(op: number, mem: boolean): Handler {
  return (cpu, i) => {
    sseEnter(cpu);
    const s = cpu.s;
    if (mem) readMem(cpu, i, 4, true);
    for (let k = 0; k < 4; k++) {
      const a = s[xw(i.r1, k)];
      const b = mem ? tmp[k] : s[xw(i.r2, k)];
      s[xw(i.r1, k)] = op === 0 ? a & b : op === 1 ? ~a & b : op === 2 ? a | b : a ^ b;
    }
  };
}

/** MOVD xmm, r/m32 (zero-extended) and MOVD r/m32, xmm; MOVNTI m32, r32. */
const movdToXmmReg: Handler = (cpu, i) => {
  sseEnter(cpu);
  const s = cpu.s;
  s[xw(i.r1, 0)] = s[i.r2];
  s[xw(i.r1, 1)] = 0;
  s[xw(i.r1, 2)] = 0;
  s[xw(i.r1, 3)] = 0;
};
const movdFromXmmReg: Handler = (cpu, i) => {
  sseEnter(cpu);
  cpu.s[i.r2] = cpu.s[xw(i.r1, 0)];
};
const movdFromXmmMem: Handler = (cpu, i) => {
  sseEnter(cpu);
  wr32(cpu, linW(cpu, i, 4), cpu.s[xw(i.r1, 0)]);
};
const movnti: Handler = (cpu, i) => {
  wr32(cpu, linW(cpu, i, 4), cpu.s[i.r1]);
};

const undefinedHere: Handler = (cpu) => ud(cpu);

/** Which mandatory prefix the instruction carries (the last of F3/F2 wins over 66). */
function prefixOf(d: Decoded): number {
  if (d.rep === 1) return P_F3;
  if (d.rep === 2) return P_F2;
  return d.osz !== (d.cpu.cs32 ? 4 : 2) ? P_66 : P_NONE;
}

/** The factory for every opcode this file handles (the opcode map names them SSE). */
const sseFactory: Factory = (d, ins) => {
  const op = d.opcode & 0xff;
  const p = prefixOf(d);
  const f = d.cpu.features;
  const reg = d.mod === 3;
  ins.r1 = d.reg;
  ins.r2 = d.rm;
  // The prefix decides between SSE (none, F3) and SSE2 (66, F2) for the float forms.
  const floatOk = p === P_NONE || p === P_F3 ? f.sse : f.sse2;
  switch (op) {
    case 0x10:
    case 0x11: {
      if (!floatOk) return undefinedHere;
      const scalar = p === P_F3 ? 1 : p === P_F2 ? 2 : 0;
      const load = op === 0x10;
      if (reg) {
        // Register forms copy the whole register, or the low element (the rest kept).
        if (!load) {
          ins.r1 = d.rm;
          ins.r2 = d.reg;
        }
        return moveRegHandler(scalar === 0 ? 4 : scalar, false);
      }
      if (load) return loadHandler(scalar === 0 ? 4 : scalar, false, true);
      ins.r2 = d.reg;
      return storeHandler(scalar === 0 ? 4 : scalar, false);
    }
    case 0x28:
    case 0x29:
      if (!floatOk || p >= P_F3) return undefinedHere;
      if (reg) {
        if (op === 0x29) {
          ins.r1 = d.rm;
          ins.r2 = d.reg;
        }
        return moveRegHandler(4, false);
      }
      if (op === 0x28) return loadHandler(4, true, false);
      ins.r2 = d.reg;
      return storeHandler(4, true);
    case 0x2b:
    case 0xe7:
      if (reg || (op === 0x2b ? !floatOk || p >= P_F3 : !f.sse2 || p !== P_66)) return undefinedHere;
      ins.r2 = d.reg;
      return storeHandler(4, true);
    case 0x54:
    case 0x55:
    case 0x56:
    case 0x57:
      if (!floatOk || p >= P_F3) return undefinedHere;
      return logicHandler(op - 0x54, !reg);
    case 0xdb:
    case 0xdf:
    case 0xeb:
    case 0xef:
      if (!f.sse2 || p !== P_66) return undefinedHere;
      return logicHandler(op === 0xdb ? 0 : op === 0xdf ? 1 : op === 0xeb ? 2 : 3, !reg);
    case 0x6e:
      if (!f.sse2 || p !== P_66) return undefinedHere;
      return reg ? movdToXmmReg : loadHandler(1, false, true);
    case 0x6f:
    case 0x7f:
      if (!f.sse2 || (p !== P_66 && p !== P_F3)) return undefinedHere;
      if (reg) {
        if (op === 0x7f) {
          ins.r1 = d.rm;
          ins.r2 = d.reg;
        }
        return moveRegHandler(4, false);
      }
      if (op === 0x6f) return loadHandler(4, p === P_66, false);
      ins.r2 = d.reg;
      return storeHandler(4, p === P_66);
    case 0x7e:
      if (!f.sse2) return undefinedHere;
      if (p === P_F3) return reg ? moveRegHandler(2, true) : loadHandler(2, false, true);
      if (p !== P_66) return undefinedHere;
      return reg ? movdFromXmmReg : movdFromXmmMem;
    case 0xd6:
      if (!f.sse2 || p !== P_66) return undefinedHere;
      if (reg) {
        ins.r1 = d.rm;
        ins.r2 = d.reg;
        return moveRegHandler(2, true);
      }
      ins.r2 = d.reg;
      return storeHandler(2, false);
    case 0xc3:
      if (!f.sse2 || reg || p !== P_NONE) return undefinedHere;
      return movnti;
    default:
      return undefinedHere;
  }
};

/** Factories of this group, by mnemonic. */
export const sseMoveFactories: Record<string, Factory> = {
  SSE: sseFactory,
};

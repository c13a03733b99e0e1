/**
 * The x87 environment and state images: FLDENV/FNSTENV (14 or 28 bytes), FRSTOR/FNSAVE (94 or
 * 108 bytes), each in its protected-mode and real-mode layout (SDM Vol. 1 Figures 8-9 to 8-12),
 * and FXSAVE/FXRSTOR's 512-byte image (SDM Vol. 1 Table 10-2).
 */
import type { Cpu } from '../cpu';
import { gp } from '../fault';
import { probeWrite, rd16, rd32, wr16, wr32 } from '../mmu';
import {
  FPU_CW, FPU_EMPTY, FPU_FCS, FPU_FDP, FPU_FDS, FPU_FIP, FPU_FOP, FPU_MXCSR, FPU_TOP, FPU_XMM,
  fpuInit, readRaw, setControlWord, setStatusWord, setTagWord, statusWord, tagOf, tagWord, writePhysRaw,
} from './fpu-state';

/** Bytes of an environment image by operand size. */
export const ENV_BYTES_16 = 14;
export const ENV_BYTES_32 = 28;
/** Bytes of one register in FSAVE images. */
const REG_BYTES = 10;
/** FXSAVE image size and alignment. */
export const FXSAVE_BYTES = 512;
const FXSAVE_ALIGN = 16;
/** FXSAVE offsets. */
const FX_MXCSR = 24;
const FX_MXCSR_MASK = 28;
const FX_ST0 = 32;
const FX_XMM0 = 160;
/** MXCSR bits software may set: flags, masks, RC, FTZ; not DAZ (bit 6), which is not implemented. */
export const MXCSR_MASK = 0xffbf;
/** Filler the CPU writes in the reserved upper halves of a 32-bit environment image. */
const RESERVED_FILL = 0xffff;

/** Real-address or virtual-8086 mode: the images hold 20-bit linear pointers. */
function realFormat(cpu: Cpu): boolean {
  return !cpu.pe || cpu.vm86;
}

/** FNSTENV: writes the environment image at `lin`. */
export function storeEnv(cpu: Cpu, lin: number, osz: number): void {
  const s = cpu.s;
  const cw = s[FPU_CW] & 0xffff;
  const sw = statusWord(cpu);
  const tw = tagWord(cpu);
  const fip = s[FPU_FIP];
  const fdp = s[FPU_FDP];
  const fop = s[FPU_FOP] & 0x7ff;
  const real = realFormat(cpu);
  const ipLin = real ? ((s[FPU_FCS] << 4) + fip) | 0 : fip;
  const dpLin = real ? ((s[FPU_FDS] << 4) + fdp) | 0 : fdp;
  if (osz === 4) {
    probeWrite(cpu, lin, ENV_BYTES_32);
    const w = (off: number, v: number) => wr32(cpu, (lin + off) | 0, v);
    w(0, cw | (RESERVED_FILL << 16));
    w(4, sw | (RESERVED_FILL << 16));
    w(8, tw | (RESERVED_FILL << 16));
    if (real) {
      w(12, (ipLin & 0xffff) | (RESERVED_FILL << 16));
      w(16, fop | ((ipLin >>> 16) << 12));
      w(20, (dpLin & 0xffff) | (RESERVED_FILL << 16));
      w(24, (dpLin >>> 16) << 12);
    } else {
      w(12, fip);
      w(16, (s[FPU_FCS] & 0xffff) | (fop << 16));
      w(20, fdp);
      w(24, (s[FPU_FDS] & 0xffff) | (RESERVED_FILL << 16));
    }
    return;
  }
  probeWrite(cpu, lin, ENV_BYTES_16);
  const w = (off: number, v: number) => wr16(cpu, (lin + off) | 0, v & 0xffff);
  w(0, cw);
  w(2, sw);
  w(4, tw);
  if (real) {
    w(6, ipLin);
    w(8, (((ipLin >>> 16) & 0xf) << 12) | fop);
    w(10, dpLin);
    w(12, ((dpLin >>> 16) & 0xf) << 12);
  } else {
    w(6, fip);
    w(8, s[FPU_FCS]);
    w(10, fdp);
    w(12, s[FPU_FDS]);
  }
}

/** FLDENV: loads the environment image at `lin`. */
export function loadEnv(cpu: Cpu, lin: number, osz: number): void {
  const s = cpu.s;
  const real = realFormat(cpu);
  let cw: number;
  let sw: number;
  let tw: number;
  if (osz === 4) {
    const r = (off: number) => rd32(cpu, (lin + off) | 0);
    cw = r(0);
    sw = r(4);
    tw = r(8);
    if (real) {
      const a = r(12);
      const b = r(16);
      s[FPU_FIP] = (a & 0xffff) | ((b >>> 12) << 16);
      s[FPU_FOP] = b & 0x7ff;
      s[FPU_FDP] = (r(20) & 0xffff) | ((r(24) >>> 12) << 16);
      s[FPU_FCS] = 0;
      s[FPU_FDS] = 0;
    } else {
      s[FPU_FIP] = r(12);
      const b = r(16);
      s[FPU_FCS] = b & 0xffff;
      s[FPU_FOP] = (b >>> 16) & 0x7ff;
      s[FPU_FDP] = r(20);
      s[FPU_FDS] = r(24) & 0xffff;
    }
  } else {
    const r = (off: number) => rd16(cpu, (lin + off) | 0);
    cw = r(0);
    sw = r(2);
    tw = r(4);
    if (real) {
      const b = r(8);
      s[FPU_FIP] = r(6) | ((b >>> 12) << 16);
      s[FPU_FOP] = b & 0x7ff;
      s[FPU_FDP] = r(10) | ((r(12) >>> 12) << 16);
      s[FPU_FCS] = 0;
      s[FPU_FDS] = 0;
    } else {
      s[FPU_FIP] = r(6);
      s[FPU_FCS] = r(8);
      s[FPU_FDP] = r(10);
      s[FPU_FDS] = r(12);
    }
  }
  setStatusWord(cpu, sw);
  setTagWord(cpu, tw);
  setControlWord(cpu, cw);
}

/** FNSAVE: environment plus ST(0)..ST(7), then FNINIT. */
export function saveState(cpu: Cpu, lin: number, osz: number): void {
  const envBytes = osz === 4 ? ENV_BYTES_32 : ENV_BYTES_16;
  probeWrite(cpu, lin, envBytes + 8 * REG_BYTES);
  storeEnv(cpu, lin, osz);
  const top = cpu.s[FPU_TOP];
  for (let i = 0; i < 8; i++) {
    const r = readRaw(cpu, (top + i) & 7);
    const at = (lin + envBytes + i * REG_BYTES) | 0;
    wr32(cpu, at, r.lo);
    wr32(cpu, (at + 4) | 0, r.hi);
    wr16(cpu, (at + 8) | 0, r.se);
  }
  fpuInit(cpu.s);
}

/** FRSTOR: environment plus ST(0)..ST(7). */
export function restoreState(cpu: Cpu, lin: number, osz: number): void {
  const envBytes = osz === 4 ? ENV_BYTES_32 : ENV_BYTES_16;
  // Read everything before changing anything (a fault leaves the FPU as it was).
  const regs: number[][] = [];
  for (let i = 0; i < 8; i++) {
    const at = (lin + envBytes + i * REG_BYTES) | 0;
    regs.push([rd32(cpu, at), rd32(cpu, (at + 4) | 0), rd16(cpu, (at + 8) | 0)]);
  }
  loadEnv(cpu, lin, osz);
  const s = cpu.s;
  const empty = s[FPU_EMPTY];
  const top = s[FPU_TOP];
  for (let i = 0; i < 8; i++) {
    const [lo, hi, se] = regs[i];
    writePhysRaw(cpu, (top + i) & 7, se, hi, lo);
  }
  s[FPU_EMPTY] = empty;
}

/** FXSAVE: the 512-byte image (16-byte aligned, else #GP). */
export function fxsave(cpu: Cpu, lin: number): void {
  if ((lin & (FXSAVE_ALIGN - 1)) !== 0) gp(cpu, 0);
  probeWrite(cpu, lin, FXSAVE_BYTES);
  const s = cpu.s;
  const w32 = (off: number, v: number) => wr32(cpu, (lin + off) | 0, v);
  let ftw = 0;
  for (let p = 0; p < 8; p++) if (tagOf(cpu, p) !== 3) ftw |= 1 << p;
  w32(0, (s[FPU_CW] & 0xffff) | (statusWord(cpu) << 16));
  w32(4, ftw | ((s[FPU_FOP] & 0x7ff) << 16));
  w32(8, s[FPU_FIP]);
  w32(12, s[FPU_FCS] & 0xffff);
  w32(16, s[FPU_FDP]);
  w32(20, s[FPU_FDS] & 0xffff);
  w32(FX_MXCSR, s[FPU_MXCSR]);
  w32(FX_MXCSR_MASK, MXCSR_MASK);
  const top = s[FPU_TOP];
  for (let i = 0; i < 8; i++) {
    const r = readRaw(cpu, (top + i) & 7);
    const at = FX_ST0 + i * 16;
    w32(at, r.lo);
    w32(at + 4, r.hi);
    w32(at + 8, r.se & 0xffff);
    w32(at + 12, 0);
  }
  for (let k = 0; k < 32; k++) w32(FX_XMM0 + k * 4, s[FPU_XMM + k]);
}

/** FXRSTOR: loads the 512-byte image (16-byte aligned; reserved MXCSR bits set is #GP). */
export function fxrstor(cpu: Cpu, lin: number): void {
  if ((lin & (FXSAVE_ALIGN - 1)) !== 0) gp(cpu, 0);
  const r32 = (off: number) => rd32(cpu, (lin + off) | 0);
  const mxcsr = r32(FX_MXCSR);
  if ((mxcsr & ~MXCSR_MASK) !== 0) gp(cpu, 0);
  const w0 = r32(0);
  const w1 = r32(4);
  const regs: number[][] = [];
  for (let i = 0; i < 8; i++) {
    const at = FX_ST0 + i * 16;
    regs.push([r32(at), r32(at + 4), r32(at + 8) & 0xffff]);
  }
  const xmm: number[] = [];
  for (let k = 0; k < 32; k++) xmm.push(r32(FX_XMM0 + k * 4));
  const s = cpu.s;
  s[FPU_FIP] = r32(8);
  s[FPU_FCS] = r32(12) & 0xffff;
  s[FPU_FDP] = r32(16);
  s[FPU_FDS] = r32(20) & 0xffff;
  s[FPU_FOP] = (w1 >>> 16) & 0x7ff;
  s[FPU_MXCSR] = mxcsr;
  setStatusWord(cpu, w0 >>> 16);
  const top = s[FPU_TOP];
  for (let i = 0; i < 8; i++) {
    const [lo, hi, se] = regs[i];
    writePhysRaw(cpu, (top + i) & 7, se, hi, lo);
  }
  // The abridged tag byte has one bit per physical register: 1 = not empty.
  s[FPU_EMPTY] = ~w1 & 0xff;
  setControlWord(cpu, w0 & 0xffff);
  for (let k = 0; k < 32; k++) s[FPU_XMM + k] = xmm[k];
}

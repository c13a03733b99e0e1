/**
 * FXSAVE/FXRSTOR (FXSR), LDMXCSR/STMXCSR (SSE), the fences and CLFLUSH (group 15). Each raises
 * #UD unless CPUID advertises its feature, #NM with CR0.TS/EM like the FPU, and the SSE ones #UD
 * unless CR4.OSFXSR is set.
 */
import type { Cpu } from '../cpu';
import type { Handler } from '../insn';
import { linR, linW } from '../addressing';
import { gp, raise, ud } from '../fault';
import { rd32, rd8, wr32 } from '../mmu';
import { FPU_MXCSR } from '../fpu/fpu-state';
import { FXSAVE_BYTES, fxrstor, fxsave, MXCSR_MASK } from '../fpu/x87-env';
import { CR0_EM, CR0_TS, CR4_OSFXSR, EXC_NM, S_CR0, S_CR4 } from '../state';
import type { Factory } from './common';

/** #NM when CR0.TS or CR0.EM is set (SDM Vol. 3 Table 2-2, FXSAVE and SSE rows). */
function checkNm(cpu: Cpu): void {
  if ((cpu.s[S_CR0] & (CR0_EM | CR0_TS)) !== 0) raise(cpu, EXC_NM);
}

/** SSE state instructions also need CR4.OSFXSR and CR0.EM clear (#UD). */
function checkSse(cpu: Cpu): void {
  if ((cpu.s[S_CR4] & CR4_OSFXSR) === 0 || (cpu.s[S_CR0] & CR0_EM) !== 0) ud(cpu);
  if ((cpu.s[S_CR0] & CR0_TS) !== 0) raise(cpu, EXC_NM);
}

const fxsaveH: Handler = (cpu, i) => {
  checkNm(cpu);
  fxsave(cpu, linW(cpu, i, FXSAVE_BYTES));
};
const fxrstorH: Handler = (cpu, i) => {
  checkNm(cpu);
  fxrstor(cpu, linR(cpu, i, FXSAVE_BYTES));
};
const ldmxcsr: Handler = (cpu, i) => {
  checkSse(cpu);
  const v = rd32(cpu, linR(cpu, i, 4));
  if ((v & ~MXCSR_MASK) !== 0) gp(cpu, 0);
  cpu.s[FPU_MXCSR] = v;
};
const stmxcsr: Handler = (cpu, i) => {
  checkSse(cpu);
  wr32(cpu, linW(cpu, i, 4), cpu.s[FPU_MXCSR]);
};
/** CLFLUSH: no caches to flush, but the address is checked like a byte read. */
const clflush: Handler = (cpu, i) => {
  rd8(cpu, linR(cpu, i, 1));
};
const nop: Handler = () => {};
const undefinedHere: Handler = (cpu) => ud(cpu);

/** Factories of this group, by mnemonic. */
export const sseFactories: Record<string, Factory> = {
  FXSAVE: (d) => (d.cpu.features.fxsr ? fxsaveH : undefinedHere),
  FXRSTOR: (d) => {
    d.endBlock = true;
    return d.cpu.features.fxsr ? fxrstorH : undefinedHere;
  },
  LDMXCSR: (d) => (d.cpu.features.sse ? ldmxcsr : undefinedHere),
  STMXCSR: (d) => (d.cpu.features.sse ? stmxcsr : undefinedHere),
  SFENCE: (d) => (d.cpu.features.sse ? nop : undefinedHere),
  LFENCE: (d) => (d.cpu.features.sse2 ? nop : undefinedHere),
  MFENCE: (d) => (d.cpu.features.sse2 ? nop : undefinedHere),
  CLFLUSH: (d) => (d.cpu.features.clflush ? clflush : undefinedHere),
};

/**
 * Power-on/reset state of a VCPU (SDM Vol. 3 Table 9-1) and the application of a loader's
 * initial state on top of it.
 */
import type { CpuInitState, SegmentInit } from './init-state';
import { fpuInit, fpuPowerOn } from './fpu/fpu-state';
import {
  CR0_CD, CR0_ET, CR0_NW, CR0_PE, EDX, EFLAGS_FIXED1, S_A20_MASK, S_CPL, S_CR0, S_CR3, S_CR4, S_DR,
  S_EFLAGS, S_EIP, S_GDTR_BASE, S_GDTR_LIMIT, S_IDTR_BASE, S_IDTR_LIMIT, S_MSR_PAT_HI, S_MSR_PAT_LO,
  S_RUNNING, S_SEG_AR, S_SEG_BASE, S_SEG_LIMIT, S_SEG_SEL, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS,
  SEG_LDTR, SEG_SS, SEG_TR, STATE_BYTES, S_MSR_MISC_ENABLE, S_MTRR, EAX, ECX, EBX, ESP, EBP, ESI, EDI,
} from './state';

/** EDX at reset: family 6, model 15, stepping 11 (the signature CPUID leaf 1 reports). */
export const RESET_SIGNATURE = 0x06fb;
/** IA32_PAT power-on value (WB, WT, UC-, UC, repeated). */
const PAT_RESET = 0x00070406;
/** MTRRdefType as firmware leaves it: MTRRs enabled (bit 11), default type write-back (6). */
const MTRR_DEF_ENABLED_WB = (1 << 11) | 6;
/** IA32_MISC_ENABLE: fast strings enabled. */
const MISC_ENABLE_RESET = 1;
/** Real-mode data segment access rights: present, read/write, accessed. */
const AR_REAL_DATA = 0x93;
/** Real-mode code segment access rights: present, execute/read, accessed. */
const AR_REAL_CODE = 0x9b;
/** LDTR at reset: present LDT. */
const AR_RESET_LDT = 0x82;
/** TR at reset: present busy 16-bit TSS. */
const AR_RESET_TSS = 0x83;

/** Puts a state block into the power-on state (real mode at F000:FFF0, VCPU running). */
export function resetState(s: Int32Array): void {
  s.fill(0, 0, STATE_BYTES / 4);
  s[EDX] = RESET_SIGNATURE;
  s[S_EIP] = 0xfff0;
  s[S_EFLAGS] = EFLAGS_FIXED1;
  s[S_CR0] = CR0_CD | CR0_NW | CR0_ET;
  for (const seg of [SEG_ES, SEG_SS, SEG_DS, SEG_FS, SEG_GS]) {
    s[S_SEG_SEL + seg] = 0;
    s[S_SEG_BASE + seg] = 0;
    s[S_SEG_LIMIT + seg] = 0xffff;
    s[S_SEG_AR + seg] = AR_REAL_DATA;
  }
  s[S_SEG_SEL + SEG_CS] = 0xf000;
  s[S_SEG_BASE + SEG_CS] = 0xffff0000 | 0;
  s[S_SEG_LIMIT + SEG_CS] = 0xffff;
  s[S_SEG_AR + SEG_CS] = AR_REAL_CODE;
  s[S_SEG_LIMIT + SEG_LDTR] = 0xffff;
  s[S_SEG_AR + SEG_LDTR] = AR_RESET_LDT;
  s[S_SEG_LIMIT + SEG_TR] = 0xffff;
  s[S_SEG_AR + SEG_TR] = AR_RESET_TSS;
  s[S_GDTR_LIMIT] = 0xffff;
  s[S_IDTR_LIMIT] = 0xffff;
  s[S_DR + 6] = 0xffff0ff0 | 0;
  s[S_DR + 7] = 0x400;
  s[S_MSR_PAT_LO] = PAT_RESET;
  s[S_MSR_PAT_HI] = PAT_RESET;
  s[S_MSR_MISC_ENABLE] = MISC_ENABLE_RESET;
  s[S_A20_MASK] = -1;
  s[S_RUNNING] = 1;
  fpuPowerOn(s, new Float64Array(s.buffer, s.byteOffset, STATE_BYTES / 8));
}

function setSeg(s: Int32Array, seg: number, v: SegmentInit | undefined): void {
  if (!v) return;
  s[S_SEG_SEL + seg] = v.selector & 0xffff;
  s[S_SEG_BASE + seg] = v.base | 0;
  s[S_SEG_LIMIT + seg] = v.limit | 0;
  s[S_SEG_AR + seg] = v.access;
}

/**
 * Applies the fields a loader gave on top of the current state block. A loader stands for the
 * firmware that ran before it, which leaves the FPU initialised (FNINIT), as BIOSes do.
 */
export function applyInitState(s: Int32Array, init: CpuInitState): void {
  fpuInit(s);
  // Firmware enables the MTRRs with write-back as the default type.
  s[S_MTRR] = MTRR_DEF_ENABLED_WB;
  const gprs: [keyof CpuInitState, number][] = [
    ['eax', EAX], ['ecx', ECX], ['edx', EDX], ['ebx', EBX], ['esp', ESP], ['ebp', EBP], ['esi', ESI], ['edi', EDI],
  ];
  for (const [k, idx] of gprs) {
    const v = init[k];
    if (typeof v === 'number') s[idx] = v | 0;
  }
  if (init.eip !== undefined) s[S_EIP] = init.eip | 0;
  if (init.eflags !== undefined) s[S_EFLAGS] = (init.eflags | EFLAGS_FIXED1) & ~0x8028;
  if (init.cr0 !== undefined) s[S_CR0] = init.cr0 | 0;
  if (init.cr3 !== undefined) s[S_CR3] = init.cr3 | 0;
  if (init.cr4 !== undefined) s[S_CR4] = init.cr4 | 0;
  setSeg(s, SEG_CS, init.cs);
  setSeg(s, SEG_DS, init.ds);
  setSeg(s, SEG_ES, init.es);
  setSeg(s, SEG_FS, init.fs);
  setSeg(s, SEG_GS, init.gs);
  setSeg(s, SEG_SS, init.ss);
  setSeg(s, SEG_TR, init.tr);
  setSeg(s, SEG_LDTR, init.ldtr);
  if (init.gdtr) {
    s[S_GDTR_BASE] = init.gdtr.base | 0;
    s[S_GDTR_LIMIT] = init.gdtr.limit;
  }
  if (init.idtr) {
    s[S_IDTR_BASE] = init.idtr.base | 0;
    s[S_IDTR_LIMIT] = init.idtr.limit;
  }
  s[S_CPL] = (s[S_CR0] & CR0_PE) !== 0 ? s[S_SEG_SEL + SEG_CS] & 3 : 0;
}

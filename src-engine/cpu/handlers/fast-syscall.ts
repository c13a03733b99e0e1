/**
 * SYSENTER and SYSEXIT (SDM Vol. 2: fast transitions to ring 0 and back with flat segments
 * derived from IA32_SYSENTER_CS), and RDTSCP. Each exists only when CPUID says so (SEP, RDTSCP);
 * otherwise the opcode is #UD.
 */
import type { Cpu } from '../cpu';
import type { Handler } from '../insn';
import { gp, ud } from '../fault';
import { readTsc } from '../msr';
import { setSegment } from '../segments';
import {
  AR_DB, AR_G, AR_P, AR_S, CR4_TSD, ECX, EDX, EAX, ESP, IF, RF, S_CPL, S_CR4, S_EFLAGS, S_EIP, S_MSR_TSC_AUX,
  S_SYSENTER_CS, S_SYSENTER_EIP, S_SYSENTER_ESP, SEG_CS, SEG_SS, VM,
} from '../state';
import type { Factory } from './common';

/** Flat 4-GiB code (execute/read, accessed) and data (read/write, accessed) caches, DPL 0 and 3. */
const AR_FLAT_CODE = AR_P | AR_S | 0xb | AR_DB | AR_G;
const AR_FLAT_DATA = AR_P | AR_S | 0x3 | AR_DB | AR_G;
const DPL3 = 3 << 5;
const FLAT_LIMIT = 0xffffffff | 0;
/** SYSEXIT targets SYSENTER_CS + 16 (code) and + 24 (stack); SYSENTER's stack is + 8. */
const SS_OFFSET = 8;
const USER_CS_OFFSET = 16;
const USER_SS_OFFSET = 24;

const sysenter: Handler = (cpu: Cpu) => {
  const s = cpu.s;
  const cs = s[S_SYSENTER_CS] & 0xfffc;
  if (!cpu.pe || cs === 0) gp(cpu, 0);
  s[S_EFLAGS] &= ~(VM | IF | RF);
  setSegment(cpu, SEG_CS, cs, 0, FLAT_LIMIT, AR_FLAT_CODE);
  setSegment(cpu, SEG_SS, cs + SS_OFFSET, 0, FLAT_LIMIT, AR_FLAT_DATA);
  s[S_CPL] = 0;
  s[ESP] = s[S_SYSENTER_ESP];
  s[S_EIP] = s[S_SYSENTER_EIP];
  cpu.updateMode();
};

const sysexit: Handler = (cpu: Cpu) => {
  const s = cpu.s;
  const cs = s[S_SYSENTER_CS] & 0xfffc;
  if (!cpu.pe || cpu.vm86 || cpu.cpl !== 0 || cs === 0) gp(cpu, 0);
  setSegment(cpu, SEG_CS, (cs + USER_CS_OFFSET) | 3, 0, FLAT_LIMIT, AR_FLAT_CODE | DPL3);
  setSegment(cpu, SEG_SS, (cs + USER_SS_OFFSET) | 3, 0, FLAT_LIMIT, AR_FLAT_DATA | DPL3);
  s[S_CPL] = 3;
  s[ESP] = s[ECX];
  s[S_EIP] = s[EDX];
  cpu.updateMode();
};

const rdtscp: Handler = (cpu: Cpu) => {
  const s = cpu.s;
  if ((s[S_CR4] & CR4_TSD) !== 0 && cpu.pe && cpu.cpl !== 0) gp(cpu, 0);
  const t = readTsc(cpu);
  s[EAX] = t % 4294967296 | 0;
  s[EDX] = Math.floor(t / 4294967296) | 0;
  s[ECX] = s[S_MSR_TSC_AUX];
};

const undefinedHere: Handler = (cpu: Cpu) => ud(cpu);

/** Factories of this group, by mnemonic. */
export const fastSyscallFactories: Record<string, Factory> = {
  SYSENTER: (d) => {
    d.endBlock = true;
    return d.cpu.features.sep ? sysenter : undefinedHere;
  },
  SYSEXIT: (d) => {
    d.endBlock = true;
    return d.cpu.features.sep ? sysexit : undefinedHere;
  },
  RDTSCP: (d) => (d.cpu.features.rdtscp ? rdtscp : undefinedHere),
};

/**
 * Human-readable dumps of a VCPU's state block, for crash reports and `domus run` errors.
 */
import type { Cpu } from './cpu';
import { getFlags } from './lazy-flags';
import {
  EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP, S_CPL, S_CR0, S_CR2, S_CR3, S_CR4, S_EFLAGS, S_EIP,
  S_SEG_BASE, S_SEG_LIMIT, S_SEG_SEL, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS, S_LF_OP,
} from './state';

const hex = (v: number) => (v >>> 0).toString(16).padStart(8, '0');

/** EFLAGS with any pending lazy arithmetic flags computed (lazy-flags reads only cpu.s). */
function flagsOf(s: Int32Array): number {
  return s[S_LF_OP] === 0 ? s[S_EFLAGS] : getFlags({ s } as unknown as Cpu);
}

/** Registers of a state block as a few lines of text. */
export function describeCpuState(s: Int32Array): string {
  const seg = (name: string, i: number) =>
    `${name}=${(s[S_SEG_SEL + i] & 0xffff).toString(16).padStart(4, '0')}(base ${hex(s[S_SEG_BASE + i])} limit ${hex(s[S_SEG_LIMIT + i])})`;
  return [
    `EAX=${hex(s[EAX])} EBX=${hex(s[EBX])} ECX=${hex(s[ECX])} EDX=${hex(s[EDX])}`,
    `ESI=${hex(s[ESI])} EDI=${hex(s[EDI])} EBP=${hex(s[EBP])} ESP=${hex(s[ESP])}`,
    `EIP=${hex(s[S_EIP])} EFLAGS=${hex(flagsOf(s))} CPL=${s[S_CPL]}`,
    `${seg('CS', SEG_CS)} ${seg('SS', SEG_SS)}`,
    `${seg('DS', SEG_DS)} ${seg('ES', SEG_ES)}`,
    `${seg('FS', SEG_FS)} ${seg('GS', SEG_GS)}`,
    `CR0=${hex(s[S_CR0])} CR2=${hex(s[S_CR2])} CR3=${hex(s[S_CR3])} CR4=${hex(s[S_CR4])}`,
  ].join('\n');
}

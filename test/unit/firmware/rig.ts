/**
 * Calls BIOS services the way a guest does: a two-instruction program at 0000:0600 (`INT n`,
 * `HLT`) run on the in-process HVM machine with the given registers, through the real ROM stub,
 * trap, service and IRET. The result is the register state and FLAGS the caller sees after IRET.
 */
import { getFlags } from '../../../src-engine/cpu/lazy-flags';
import {
  CF, EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP, IF, S_EFLAGS, S_EIP, S_HALTED, S_LF_OP, S_SEG_BASE, S_SEG_SEL,
  SEG_CS, SEG_DS, SEG_ES, SEG_SS, ZF,
} from '../../../src-engine/cpu/state';
import type { HvmMachine } from '../../support/hvm-machine';

/** Registers given to a call (16-bit names set the low word only). */
export interface CallRegs {
  eax?: number;
  ebx?: number;
  ecx?: number;
  edx?: number;
  esi?: number;
  edi?: number;
  ebp?: number;
  ds?: number;
  es?: number;
  /** FLAGS before the INT (default 0x0002: IF clear, so the final HLT ends the run). */
  flags?: number;
}

/** What the caller sees after the call returns. */
export interface CallResult {
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
  esi: number;
  edi: number;
  ebp: number;
  ds: number;
  es: number;
  flags: number;
  ax: number;
  ah: number;
  al: number;
  bx: number;
  cx: number;
  dx: number;
  cf: boolean;
  zf: boolean;
  /** How run() ended ('halted' after a normal return). */
  stop: string;
}

/** Where the calling program sits and its stack top. */
export const CALLER_ADDR = 0x0600;
export const CALLER_STACK = 0x7000;
const INT_OPCODE = 0xcd;
const HLT_OPCODE = 0xf4;
const CLI_OPCODE = 0xfa;

/** Runs `INT vector` with `regs` on `m` and returns the caller's view afterwards. */
export function biosCall(m: HvmMachine, vector: number, regs: CallRegs = {}, maxMs = 5000): CallResult {
  return runCode(m, Uint8Array.of(INT_OPCODE, vector, CLI_OPCODE, HLT_OPCODE), regs, maxMs);
}

/** Runs real-mode `code` placed at 0000:0600 with `regs` until it halts (or `maxMs` pass). */
export function runCode(m: HvmMachine, code: Uint8Array, regs: CallRegs = {}, maxMs = 5000): CallResult {
  const cpu = m.cpu;
  const s = cpu.s;
  m.memory.write(CALLER_ADDR, code);
  const gprs: [keyof CallRegs, number][] = [['eax', EAX], ['ebx', EBX], ['ecx', ECX], ['edx', EDX], ['esi', ESI], ['edi', EDI], ['ebp', EBP]];
  for (const [k, r] of gprs) s[r] = (regs[k] ?? 0) | 0;
  const seg = (reg: number, sel: number) => {
    s[S_SEG_SEL + reg] = sel;
    s[S_SEG_BASE + reg] = sel << 4;
  };
  seg(SEG_CS, 0);
  seg(SEG_SS, 0);
  seg(SEG_DS, regs.ds ?? 0);
  seg(SEG_ES, regs.es ?? 0);
  s[ESP] = CALLER_STACK;
  s[S_EIP] = CALLER_ADDR;
  s[S_EFLAGS] = (regs.flags ?? 0x0002) | 0x0002;
  s[S_LF_OP] = 0;
  s[S_HALTED] = 0;
  cpu.updateMode();
  cpu.flushJumpCache();
  const stop = m.run({ maxMs });
  const flags = getFlags(cpu) & ~IF;
  const u = (r: number) => s[r] >>> 0;
  return {
    eax: u(EAX), ebx: u(EBX), ecx: u(ECX), edx: u(EDX), esi: u(ESI), edi: u(EDI), ebp: u(EBP),
    ds: s[S_SEG_SEL + SEG_DS], es: s[S_SEG_SEL + SEG_ES],
    flags,
    ax: u(EAX) & 0xffff, ah: (u(EAX) >> 8) & 0xff, al: u(EAX) & 0xff,
    bx: u(EBX) & 0xffff, cx: u(ECX) & 0xffff, dx: u(EDX) & 0xffff,
    cf: (flags & CF) !== 0,
    zf: (flags & ZF) !== 0,
    stop,
  };
}

/**
 * Delivery of exceptions, external interrupts, NMIs and software interrupts: through the IVT in
 * real mode, through IDT gates in protected mode (SDM Vol. 3 6.12, the INT n pseudo-code of
 * Vol. 2), with the double-fault and triple-fault rules of SDM Vol. 3 Table 6-5.
 *
 * Every check happens before any register changes; the pushes to the handler's stack happen
 * before the commit, so a fault during delivery leaves the interrupted state intact for the
 * escalation logic.
 */
import type { Cpu } from './cpu';
import { FAULT, raiseError } from './fault';
import { flagsWritten, getFlags } from './lazy-flags';
import { rdSys, wrAs } from './mmu';
import { push16 } from './addressing';
import { decodeDescriptor, dplOf, fetchDescriptor, setAccessed, setSegment } from './segments';
import { switchThroughGate, TaskSource, TYPE_TASK_GATE } from './task-switch';
import { DR7_GD } from './debug';
import {
  AC, AR_CODE, AR_DB, AR_DC, AR_P, AR_RW, AR_S, EXC_DF, EXC_GP, EXC_NP, EXC_PF, EXC_SS, EXC_TS,
  IF, NT, RF, S_CPL, S_EFLAGS, S_EIP, S_IDTR_BASE, S_IDTR_LIMIT, S_NMI_BLOCKED, S_SEG_AR,
  S_SEG_BASE, S_SEG_LIMIT, S_SEG_SEL, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS, SEG_TR,
  TF, VM, ESP, AR_UNUSABLE, EXCEPTION_NAMES, S_HALTED, EXC_DB, S_DR,
} from './state';

/** The VCPU hit a triple fault or another condition in which the CPU shuts down. */
export class ShutdownError extends Error {}

/** How an interrupt was raised (affects gate DPL checks, EXT bits and the saved EIP). */
const enum Source {
  Exception = 0,
  External = 1,
  Software = 2,
  /** INT1 (ICEBP): like a hardware #DB for DPL checks. */
  Icebp = 3,
}

const CONTRIBUTORY = new Set([0, 10, 11, 12, 13]);

/** Delivers an exception raised by an instruction, escalating to #DF and triple fault. */
export function deliverException(cpu: Cpu, vector: number, hasError: boolean, code: number): void {
  let v = vector;
  let he = hasError;
  let c = code;
  for (;;) {
    try {
      deliver(cpu, v, he, c, Source.Exception);
      return;
    } catch (e) {
      if (e !== FAULT) throw e;
      const second = cpu.excVector;
      const firstContrib = CONTRIBUTORY.has(v);
      const secondContrib = CONTRIBUTORY.has(second);
      if (v === EXC_DF && (secondContrib || second === EXC_PF || second === EXC_DF)) {
        throw new ShutdownError(
          `triple fault: ${EXCEPTION_NAMES[second] ?? `vector ${second}`} while delivering a double fault`,
        );
      }
      if ((firstContrib && secondContrib) || (v === EXC_PF && (second === EXC_PF || secondContrib))) {
        v = EXC_DF;
        he = true;
        c = 0;
      } else {
        v = second;
        he = cpu.excHasError;
        c = cpu.excError;
      }
    }
  }
}

/** Delivers an external interrupt (after the INTA cycle returned `vector`). */
export function deliverExternal(cpu: Cpu, vector: number): void {
  cpu.s[S_HALTED] = 0;
  deliver(cpu, vector, false, 0, Source.External);
}

/** Delivers an NMI and blocks further NMIs until the next IRET. */
export function deliverNmi(cpu: Cpu): void {
  cpu.s[S_HALTED] = 0;
  deliver(cpu, 2, false, 0, Source.External);
  cpu.s[S_NMI_BLOCKED] = 1;
}

/**
 * INT n / INT3 / INTO (software: gate DPL checked against CPL) or INT1. The caller has already
 * set EIP to the next instruction.
 */
export function deliverSoftware(cpu: Cpu, vector: number, icebp = false): void {
  deliver(cpu, vector, false, 0, icebp ? Source.Icebp : Source.Software);
  cpu.softIntDelivered = true;
}

function deliver(cpu: Cpu, vector: number, hasError: boolean, code: number, src: Source): void {
  if (!cpu.pe) deliverReal(cpu, vector);
  else deliverProtected(cpu, vector, hasError, code, src);
  // The debug handler starts with general detection off (SDM Vol. 3 17.2.4).
  if (vector === EXC_DB) cpu.s[S_DR + 7] &= ~DR7_GD;
  cpu.localAttention = true;
}

/**
 * Fault-class exceptions push EFLAGS with RF set, so the restarted instruction does not hit its
 * instruction breakpoint again; instruction-breakpoint #DBs themselves do not (SDM Vol. 3
 * 17.3.1.1). Bit v: vector v is a fault (#DE #BR #UD #NM #TS #NP #SS #GP #PF #MF #AC #XM).
 */
const FAULT_VECTORS = (1 << 0) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 10) | (1 << 11) | (1 << 12)
  | (1 << 13) | (1 << 14) | (1 << 16) | (1 << 17) | (1 << 19);

function pushesRf(cpu: Cpu, vector: number, src: Source): boolean {
  if (src !== Source.Exception) return false;
  if (vector === EXC_DB) {
    const gd = cpu.dbGeneralDetect;
    cpu.dbGeneralDetect = false;
    return gd;
  }
  return vector < 32 && (FAULT_VECTORS & (1 << vector)) !== 0;
}

function deliverReal(cpu: Cpu, vector: number): void {
  const s = cpu.s;
  if (vector * 4 + 3 > s[S_IDTR_LIMIT] >>> 0) raiseError(cpu, EXC_GP, vector * 8 + 2);
  const entry = (s[S_IDTR_BASE] + vector * 4) | 0;
  const ip = rdSys(cpu, entry, 2);
  const cs = rdSys(cpu, (entry + 2) | 0, 2);
  const flags = getFlags(cpu);
  push16(cpu, flags);
  push16(cpu, s[S_SEG_SEL + SEG_CS]);
  push16(cpu, s[S_EIP]);
  s[S_EFLAGS] = flags & ~(IF | TF | AC | RF);
  flagsWritten(cpu);
  s[S_SEG_SEL + SEG_CS] = cs;
  s[S_SEG_BASE + SEG_CS] = cs << 4;
  s[S_EIP] = ip;
  cpu.updateMode();
}

function deliverProtected(cpu: Cpu, vector: number, hasError: boolean, code: number, src: Source): void {
  const s = cpu.s;
  const ext = src === Source.External || src === Source.Exception || src === Source.Icebp ? 1 : 0;
  const idtErr = vector * 8 + 2 + ext;
  if (vector * 8 + 7 > s[S_IDTR_LIMIT] >>> 0) raiseError(cpu, EXC_GP, idtErr);
  const gateAddr = (s[S_IDTR_BASE] + vector * 8) | 0;
  const lo = rdSys(cpu, gateAddr, 4);
  const hi = rdSys(cpu, (gateAddr + 4) | 0, 4);
  const type = (hi >>> 8) & 0x1f;
  if (type !== 0x05 && type !== 0x06 && type !== 0x07 && type !== 0x0e && type !== 0x0f) raiseError(cpu, EXC_GP, idtErr);
  const gateDpl = (hi >>> 13) & 3;
  if (src === Source.Software && gateDpl < cpu.cpl) raiseError(cpu, EXC_GP, vector * 8 + 2);
  if ((hi & (1 << 15)) === 0) raiseError(cpu, EXC_NP, idtErr);
  if (type === TYPE_TASK_GATE) {
    switchThroughGate(cpu, decodeDescriptor(lo, hi, gateAddr), TaskSource.Interrupt, ext, hasError ? code : -1);
    return;
  }
  const gate32 = (type & 8) !== 0;
  const sel = lo >>> 16;
  const offset = gate32 ? ((hi & 0xffff0000) | (lo & 0xffff)) >>> 0 : lo & 0xffff;
  if ((sel & 0xfffc) === 0) raiseError(cpu, EXC_GP, ext);
  const d = fetchDescriptor(cpu, sel, EXC_GP, ext);
  const dpl = dplOf(d.ar);
  if ((d.ar & (AR_S | AR_CODE)) !== (AR_S | AR_CODE) || dpl > cpu.cpl) raiseError(cpu, EXC_GP, (sel & 0xfffc) | ext);
  if ((d.ar & AR_P) === 0) raiseError(cpu, EXC_NP, (sel & 0xfffc) | ext);
  const conforming = (d.ar & AR_DC) !== 0;
  const vm = (s[S_EFLAGS] & VM) !== 0;
  const flags = getFlags(cpu) | (pushesRf(cpu, vector, src) ? RF : 0);
  const oldCs = s[S_SEG_SEL + SEG_CS];
  const oldEip = s[S_EIP];
  const sz = gate32 ? 4 : 2;
  let newCpl: number;
  if (!conforming && dpl < cpu.cpl) {
    if (vm && dpl !== 0) raiseError(cpu, EXC_GP, (sel & 0xfffc) | ext);
    newCpl = dpl;
    const { ssSel, esp } = readTssStack(cpu, dpl, ext);
    if ((ssSel & 0xfffc) === 0) raiseError(cpu, EXC_TS, ext);
    const sd = fetchDescriptor(cpu, ssSel, EXC_TS, ext);
    if ((ssSel & 3) !== dpl || dplOf(sd.ar) !== dpl || (sd.ar & (AR_S | AR_CODE | AR_RW)) !== (AR_S | AR_RW)) {
      raiseError(cpu, EXC_TS, (ssSel & 0xfffc) | ext);
    }
    if ((sd.ar & AR_P) === 0) raiseError(cpu, EXC_SS, (ssSel & 0xfffc) | ext);
    const ss32 = (sd.ar & AR_DB) !== 0;
    const words: number[] = [];
    if (vm) {
      words.push(s[S_SEG_SEL + SEG_GS], s[S_SEG_SEL + SEG_FS], s[S_SEG_SEL + SEG_DS], s[S_SEG_SEL + SEG_ES]);
    }
    words.push(s[S_SEG_SEL + SEG_SS], s[ESP], flags, oldCs, oldEip);
    if (hasError) words.push(code);
    let sp = esp;
    const user = newCpl === 3;
    for (const w of words) {
      sp = ss32 ? (sp - sz) | 0 : (sp - sz) & 0xffff;
      stackLimitCheck(cpu, sd.ar, sd.limit, sp, sz, ssSel, ext);
      wrAs(cpu, (sd.base + sp) | 0, sz, w, user);
    }
    // Commit.
    setAccessed(cpu, sd);
    setSegment(cpu, SEG_SS, (ssSel & 0xfffc) | dpl, sd.base, sd.limit, sd.ar);
    if (ss32) s[ESP] = sp;
    else cpu.r16[ESP * 2] = sp;
    if (vm) {
      for (const seg of [SEG_ES, SEG_DS, SEG_FS, SEG_GS]) setSegment(cpu, seg, 0, 0, 0, AR_UNUSABLE);
    }
  } else if ((conforming || dpl === cpu.cpl) && !vm) {
    newCpl = cpu.cpl;
    const words = [flags, oldCs, oldEip];
    if (hasError) words.push(code);
    let sp = s[ESP];
    const ssAr = s[S_SEG_AR + SEG_SS];
    const ssLimit = s[S_SEG_LIMIT + SEG_SS] >>> 0;
    const ssBase = s[S_SEG_BASE + SEG_SS];
    const ss32 = cpu.ss32;
    const user = cpu.cpl === 3;
    for (const w of words) {
      sp = ss32 ? (sp - sz) | 0 : (sp - sz) & 0xffff;
      stackLimitCheck(cpu, ssAr, ssLimit, sp, sz, 0, ext);
      wrAs(cpu, (ssBase + sp) | 0, sz, w, user);
    }
    if (ss32) s[ESP] = sp;
    else cpu.r16[ESP * 2] = sp;
  } else {
    raiseError(cpu, EXC_GP, (sel & 0xfffc) | ext);
  }
  if (offset > d.limit >>> 0) raiseError(cpu, EXC_GP, 0);
  setAccessed(cpu, d);
  setSegment(cpu, SEG_CS, (sel & 0xfffc) | newCpl, d.base, d.limit, d.ar);
  s[S_CPL] = newCpl;
  s[S_EIP] = offset;
  let nf = flags & ~(TF | NT | RF | VM);
  if ((type & 1) === 0) nf &= ~IF;
  s[S_EFLAGS] = nf;
  flagsWritten(cpu);
  cpu.updateMode();
}

function stackLimitCheck(cpu: Cpu, ar: number, limit: number, sp: number, size: number, ssSel: number, ext: number): void {
  const o = sp >>> 0;
  const last = o + size - 1;
  if ((ar & AR_DC) !== 0) {
    const top = (ar & AR_DB) !== 0 ? 0xffffffff : 0xffff;
    if (o <= limit >>> 0 || last > top) raiseError(cpu, EXC_SS, ssSel === 0 ? 0 : (ssSel & 0xfffc) | ext);
  } else if (last > limit >>> 0) {
    raiseError(cpu, EXC_SS, ssSel === 0 ? 0 : (ssSel & 0xfffc) | ext);
  }
}

/** Reads SSn:ESPn for privilege level `dpl` from the current TSS. */
export function readTssStack(cpu: Cpu, dpl: number, ext: number): { ssSel: number; esp: number } {
  const s = cpu.s;
  const trAr = s[S_SEG_AR + SEG_TR];
  const trBase = s[S_SEG_BASE + SEG_TR];
  const trLimit = s[S_SEG_LIMIT + SEG_TR] >>> 0;
  const trSel = s[S_SEG_SEL + SEG_TR];
  const is386 = (trAr & 8) !== 0;
  if (is386) {
    const off = 4 + dpl * 8;
    if (off + 5 > trLimit) raiseError(cpu, EXC_TS, (trSel & 0xfffc) | ext);
    const esp = rdSys(cpu, (trBase + off) | 0, 4);
    const ssSel = rdSys(cpu, (trBase + off + 4) | 0, 2);
    return { ssSel, esp };
  }
  const off = 2 + dpl * 4;
  if (off + 3 > trLimit) raiseError(cpu, EXC_TS, (trSel & 0xfffc) | ext);
  const esp = rdSys(cpu, (trBase + off) | 0, 2);
  const ssSel = rdSys(cpu, (trBase + off + 2) | 0, 2);
  return { ssSel, esp };
}

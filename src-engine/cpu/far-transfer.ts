/**
 * Far control transfers: JMP/CALL far (code segments and call gates), RET far and IRET, in real,
 * virtual-8086 and protected mode, with the privilege rules of the SDM Vol. 2 pseudo-code.
 * All checks and stack reads happen before any register changes.
 */
import type { Cpu } from './cpu';
import { raiseError, gp } from './fault';
import { flagsWritten, getFlags } from './lazy-flags';
import { rdAs, rdSys, wrAs } from './mmu';
import { readTssStack } from './interrupts';
import { iretTask, switchTask, switchThroughGate, TaskSource, TYPE_TASK_GATE, TYPE_TSS16, TYPE_TSS32 } from './task-switch';
import { dplOf, fetchDescriptor, setAccessed, setSegment, type Descriptor } from './segments';
import { setFlagsMasked, writableFlags } from './handlers/stack';
import {
  AC, AR_CODE, AR_DB, AR_DC, AR_DPL_SHIFT, AR_P, AR_RW, AR_S, AR_UNUSABLE, ESP, EXC_GP, EXC_NP, EXC_SS, EXC_TS,
  ID, IF, IOPL_MASK, NT, RF, S_CPL, S_EFLAGS, S_EIP, S_NMI_BLOCKED, S_SEG_AR, S_SEG_BASE, S_SEG_LIMIT,
  S_SEG_SEL, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS, VIF, VIP, VM,
} from './state';

function isCode(ar: number): boolean {
  return (ar & (AR_S | AR_CODE)) === (AR_S | AR_CODE);
}

function loadCs(cpu: Cpu, d: Descriptor, sel: number, cpl: number, eip: number): void {
  setAccessed(cpu, d);
  setSegment(cpu, SEG_CS, (sel & 0xfffc) | cpl, d.base, d.limit, d.ar);
  cpu.s[S_CPL] = cpl;
  cpu.s[S_EIP] = eip;
  cpu.updateMode();
}

function realModeCs(cpu: Cpu, sel: number, eip: number): void {
  const s = cpu.s;
  s[S_SEG_SEL + SEG_CS] = sel & 0xffff;
  s[S_SEG_BASE + SEG_CS] = (sel & 0xffff) << 4;
  s[S_EIP] = eip;
  cpu.updateMode();
}

/** Checks a code-segment target of JMP/CALL far; returns the descriptor. */
function checkDirectCode(cpu: Cpu, sel: number, d: Descriptor): void {
  const dpl = dplOf(d.ar);
  if ((d.ar & AR_DC) !== 0) {
    if (dpl > cpu.cpl) gp(cpu, sel & 0xfffc);
  } else if ((sel & 3) > cpu.cpl || dpl !== cpu.cpl) {
    gp(cpu, sel & 0xfffc);
  }
  if ((d.ar & AR_P) === 0) raiseError(cpu, EXC_NP, sel & 0xfffc);
}

/** Reads a call gate and its target code descriptor, checking what JMP and CALL share. */
function readGate(cpu: Cpu, sel: number, gate: Descriptor): { cs: number; off: number; code: Descriptor; gate32: boolean; params: number } {
  const gdpl = dplOf(gate.ar);
  if (gdpl < cpu.cpl || gdpl < (sel & 3)) gp(cpu, sel & 0xfffc);
  if ((gate.ar & AR_P) === 0) raiseError(cpu, EXC_NP, sel & 0xfffc);
  const gate32 = (gate.ar & 0xf) === 0xc;
  const cs = gate.lo >>> 16;
  const off = gate32 ? ((gate.hi & 0xffff0000) | (gate.lo & 0xffff)) >>> 0 : gate.lo & 0xffff;
  if ((cs & 0xfffc) === 0) gp(cpu, 0);
  const code = fetchDescriptor(cpu, cs);
  if (!isCode(code.ar) || dplOf(code.ar) > cpu.cpl) gp(cpu, cs & 0xfffc);
  if ((code.ar & AR_P) === 0) raiseError(cpu, EXC_NP, cs & 0xfffc);
  return { cs, off, code, gate32, params: gate.hi & 0x1f };
}

/** JMP/CALL far to a task gate or an available TSS: privilege checks, then the task switch. */
function farToTask(cpu: Cpu, sel: number, d: Descriptor, source: TaskSource): void {
  const dpl = dplOf(d.ar);
  if (dpl < cpu.cpl || dpl < (sel & 3)) gp(cpu, sel & 0xfffc);
  if ((d.ar & AR_P) === 0) raiseError(cpu, EXC_NP, sel & 0xfffc);
  if ((d.ar & 0x1f) === TYPE_TASK_GATE) switchThroughGate(cpu, d, source, 0, -1);
  else switchTask(cpu, sel, d, source, 0, -1);
}

/** JMP ptr16:16/32 or m16:16/32. */
export function jmpFar(cpu: Cpu, sel: number, off: number, osz: number, _next: number): void {
  if (!cpu.pe || cpu.vm86) {
    const eip = osz === 4 ? off : off & 0xffff;
    if (eip >>> 0 > cpu.csLimit && !cpu.vm86) gp(cpu, 0);
    realModeCs(cpu, sel, eip);
    return;
  }
  if ((sel & 0xfffc) === 0) gp(cpu, 0);
  const d = fetchDescriptor(cpu, sel);
  if (isCode(d.ar)) {
    checkDirectCode(cpu, sel, d);
    const eip = osz === 4 ? off : off & 0xffff;
    if (eip >>> 0 > d.limit >>> 0) gp(cpu, 0);
    loadCs(cpu, d, sel, cpu.cpl, eip);
    return;
  }
  const type = d.ar & 0x1f;
  if (type === 0x04 || type === 0x0c) {
    const g = readGate(cpu, sel, d);
    const dpl = dplOf(g.code.ar);
    if ((g.code.ar & AR_DC) === 0 && dpl !== cpu.cpl) gp(cpu, g.cs & 0xfffc);
    if (g.off > g.code.limit >>> 0) gp(cpu, 0);
    loadCs(cpu, g.code, g.cs, cpu.cpl, g.off);
    return;
  }
  if (type === TYPE_TASK_GATE || type === TYPE_TSS32 || type === TYPE_TSS16) {
    farToTask(cpu, sel, d, TaskSource.Jmp);
    return;
  }
  gp(cpu, sel & 0xfffc);
}

/** CALL ptr16:16/32 or m16:16/32. */
export function callFar(cpu: Cpu, sel: number, off: number, osz: number, next: number): void {
  const s = cpu.s;
  const oldCs = s[S_SEG_SEL + SEG_CS];
  if (!cpu.pe || cpu.vm86) {
    const eip = osz === 4 ? off : off & 0xffff;
    pushPair(cpu, osz, oldCs, next, cpu.cpl === 3);
    realModeCs(cpu, sel, eip);
    return;
  }
  if ((sel & 0xfffc) === 0) gp(cpu, 0);
  const d = fetchDescriptor(cpu, sel);
  if (isCode(d.ar)) {
    checkDirectCode(cpu, sel, d);
    const eip = osz === 4 ? off : off & 0xffff;
    if (eip >>> 0 > d.limit >>> 0) gp(cpu, 0);
    pushPair(cpu, osz, oldCs, next, cpu.cpl === 3);
    loadCs(cpu, d, sel, cpu.cpl, eip);
    return;
  }
  const type = d.ar & 0x1f;
  if (type === 0x04 || type === 0x0c) {
    callGate(cpu, sel, d, next);
    return;
  }
  if (type === TYPE_TASK_GATE || type === TYPE_TSS32 || type === TYPE_TSS16) {
    farToTask(cpu, sel, d, TaskSource.Call);
    return;
  }
  gp(cpu, sel & 0xfffc);
}

function callGate(cpu: Cpu, sel: number, gd: Descriptor, next: number): void {
  const s = cpu.s;
  const g = readGate(cpu, sel, gd);
  const sz = g.gate32 ? 4 : 2;
  const dpl = dplOf(g.code.ar);
  if (g.off > g.code.limit >>> 0) gp(cpu, 0);
  const oldCs = s[S_SEG_SEL + SEG_CS];
  if ((g.code.ar & AR_DC) === 0 && dpl < cpu.cpl) {
    // More privileged: switch to the inner stack from the TSS and copy parameters.
    const { ssSel, esp } = readTssStack(cpu, dpl, 0);
    if ((ssSel & 0xfffc) === 0) raiseError(cpu, EXC_TS, 0);
    const sd = fetchDescriptor(cpu, ssSel, EXC_TS);
    if ((ssSel & 3) !== dpl || dplOf(sd.ar) !== dpl || (sd.ar & (AR_S | AR_CODE | AR_RW)) !== (AR_S | AR_RW)) {
      raiseError(cpu, EXC_TS, ssSel & 0xfffc);
    }
    if ((sd.ar & AR_P) === 0) raiseError(cpu, EXC_SS, ssSel & 0xfffc);
    const oldSs = s[S_SEG_SEL + SEG_SS];
    const oldEsp = s[ESP];
    const oldSsBase = s[S_SEG_BASE + SEG_SS];
    const params: number[] = [];
    for (let k = g.params - 1; k >= 0; k--) {
      const spk = cpu.ss32 ? (oldEsp + k * sz) | 0 : (oldEsp + k * sz) & 0xffff;
      params.push(rdAs(cpu, (oldSsBase + spk) | 0, sz as 2 | 4, cpu.cpl === 3));
    }
    const ss32 = (sd.ar & AR_DB) !== 0;
    let sp = esp;
    const words = [oldSs, oldEsp, ...params, oldCs, next];
    for (const w of words) {
      sp = ss32 ? (sp - sz) | 0 : (sp - sz) & 0xffff;
      if ((sp >>> 0) + sz - 1 > sd.limit >>> 0) raiseError(cpu, EXC_SS, ssSel & 0xfffc);
      wrAs(cpu, (sd.base + sp) | 0, sz as 2 | 4, w, dpl === 3);
    }
    setAccessed(cpu, sd);
    setSegment(cpu, SEG_SS, (ssSel & 0xfffc) | dpl, sd.base, sd.limit, sd.ar);
    if (ss32) s[ESP] = sp;
    else cpu.r16[ESP * 2] = sp;
    loadCs(cpu, g.code, g.cs, dpl, g.off);
    return;
  }
  pushPair(cpu, sz, oldCs, next, cpu.cpl === 3);
  loadCs(cpu, g.code, g.cs, cpu.cpl, g.off);
}

/** Pushes CS then EIP (size bytes each) below ESP, committing ESP only after both writes. */
function pushPair(cpu: Cpu, size: number, cs: number, eip: number, user: boolean): void {
  const s = cpu.s;
  const mask = cpu.ss32 ? -1 : 0xffff;
  const base = s[S_SEG_BASE + SEG_SS];
  const sp1 = (s[ESP] - size) & mask;
  const sp2 = (s[ESP] - 2 * size) & mask;
  checkStack(cpu, sp2, 2 * size);
  wrAs(cpu, (base + sp1) | 0, size as 2 | 4, cs, user);
  wrAs(cpu, (base + sp2) | 0, size as 2 | 4, eip, user);
  if (cpu.ss32) s[ESP] = sp2;
  else cpu.r16[ESP * 2] = sp2;
}

function checkStack(cpu: Cpu, sp: number, len: number): void {
  const s = cpu.s;
  if ((cpu.segOkW & (1 << SEG_SS)) !== 0) return;
  const ar = s[S_SEG_AR + SEG_SS];
  const limit = s[S_SEG_LIMIT + SEG_SS] >>> 0;
  const o = sp >>> 0;
  if ((ar & AR_DC) !== 0 && !cpu.vm86 && cpu.pe) {
    const top = (ar & AR_DB) !== 0 ? 0xffffffff : 0xffff;
    if (o <= limit || o + len - 1 > top) raiseError(cpu, EXC_SS, 0);
  } else if (o + len - 1 > limit) {
    raiseError(cpu, EXC_SS, 0);
  }
}

/** Reads the stack at ESP + delta with the current privilege (no ESP change). */
function stackRead(cpu: Cpu, delta: number, size: number): number {
  const s = cpu.s;
  const sp = cpu.ss32 ? (s[ESP] + delta) | 0 : (s[ESP] + delta) & 0xffff;
  checkStackRead(cpu, sp, size);
  return rdAs(cpu, (s[S_SEG_BASE + SEG_SS] + sp) | 0, size as 2 | 4, cpu.cpl === 3);
}

function checkStackRead(cpu: Cpu, sp: number, size: number): void {
  if ((cpu.segOkR & (1 << SEG_SS)) !== 0) return;
  checkStack(cpu, sp, size);
}

/** After a return to an outer level: data segments the new CPL may not use become null. */
function nullInaccessibleSegments(cpu: Cpu): void {
  const s = cpu.s;
  for (const seg of [SEG_ES, SEG_DS, SEG_FS, SEG_GS]) {
    const ar = s[S_SEG_AR + seg];
    if ((ar & AR_UNUSABLE) !== 0) continue;
    const dataOrNonConforming = (ar & AR_CODE) === 0 || (ar & AR_DC) === 0;
    if (dataOrNonConforming && dplOf(ar) < cpu.cpl) setSegment(cpu, seg, 0, 0, 0, AR_UNUSABLE);
  }
  cpu.updateMode();
}

/** Checks and loads the CS of a protected-mode far return; returns the new CPL. */
function checkReturnCs(cpu: Cpu, sel: number, eip: number): Descriptor {
  if ((sel & 0xfffc) === 0) gp(cpu, 0);
  const d = fetchDescriptor(cpu, sel);
  const rpl = sel & 3;
  if (rpl < cpu.cpl || !isCode(d.ar)) gp(cpu, sel & 0xfffc);
  const dpl = dplOf(d.ar);
  if ((d.ar & AR_DC) !== 0 ? dpl > rpl : dpl !== rpl) gp(cpu, sel & 0xfffc);
  if ((d.ar & AR_P) === 0) raiseError(cpu, EXC_NP, sel & 0xfffc);
  if (eip >>> 0 > d.limit >>> 0) gp(cpu, 0);
  return d;
}

/** Checks the SS of a return to an outer level. */
function checkReturnSs(cpu: Cpu, ssSel: number, rpl: number): Descriptor {
  if ((ssSel & 0xfffc) === 0) gp(cpu, 0);
  const sd = fetchDescriptor(cpu, ssSel);
  if ((ssSel & 3) !== rpl || dplOf(sd.ar) !== rpl || (sd.ar & (AR_S | AR_CODE | AR_RW)) !== (AR_S | AR_RW)) {
    gp(cpu, ssSel & 0xfffc);
  }
  if ((sd.ar & AR_P) === 0) raiseError(cpu, EXC_SS, ssSel & 0xfffc);
  return sd;
}

function setSp(cpu: Cpu, v: number, ss32: boolean): void {
  if (ss32) cpu.s[ESP] = v;
  else cpu.r16[ESP * 2] = v;
}

/** RET far [imm16]. */
export function retFar(cpu: Cpu, osz: number, imm: number): void {
  const s = cpu.s;
  const eipRaw = stackRead(cpu, 0, osz);
  const sel = stackRead(cpu, osz, osz) & 0xffff;
  const eip = osz === 4 ? eipRaw : eipRaw & 0xffff;
  if (!cpu.pe || cpu.vm86) {
    if (eip >>> 0 > cpu.csLimit && !cpu.vm86) gp(cpu, 0);
    setSp(cpu, (s[ESP] + 2 * osz + imm) & (cpu.ss32 ? -1 : 0xffff), cpu.ss32);
    realModeCs(cpu, sel, eip);
    return;
  }
  const d = checkReturnCs(cpu, sel, eip);
  const rpl = sel & 3;
  if (rpl === cpu.cpl) {
    setSp(cpu, (s[ESP] + 2 * osz + imm) & (cpu.ss32 ? -1 : 0xffff), cpu.ss32);
    loadCs(cpu, d, sel, cpu.cpl, eip);
    return;
  }
  const newEsp = stackRead(cpu, 2 * osz + imm, osz);
  const ssSel = stackRead(cpu, 3 * osz + imm, osz) & 0xffff;
  const sd = checkReturnSs(cpu, ssSel, rpl);
  loadCs(cpu, d, sel, rpl, eip);
  setAccessed(cpu, sd);
  setSegment(cpu, SEG_SS, ssSel, sd.base, sd.limit, sd.ar);
  const ss32 = (sd.ar & AR_DB) !== 0;
  setSp(cpu, ss32 ? (newEsp + imm) | 0 : (newEsp + imm) & 0xffff, ss32);
  nullInaccessibleSegments(cpu);
}

/** Access rights of a virtual-8086 segment: present DPL-3 read/write accessed data. */
const AR_V86 = AR_P | AR_S | AR_RW | 1 | (3 << AR_DPL_SHIFT);

/**
 * IRETD at CPL 0 with VM set in the popped EFLAGS: pops ESP, SS, ES, DS, FS, GS after EIP, CS and
 * EFLAGS and resumes in virtual-8086 mode at CPL 3 (SDM IRET, RETURN-TO-VIRTUAL-8086-MODE).
 */
function iretToV86(cpu: Cpu, eip: number, cs: number, fl: number): void {
  const s = cpu.s;
  const words: number[] = [];
  for (let k = 3; k < 9; k++) words.push(stackRead(cpu, 4 * k, 4));
  if (eip >>> 0 > 0xffff) gp(cpu, 0);
  s[S_EFLAGS] = (fl | 2) & ~0x8028;
  flagsWritten(cpu);
  const sels = [cs, words[1], words[2], words[3], words[4], words[5]];
  const segs = [SEG_CS, SEG_SS, SEG_ES, SEG_DS, SEG_FS, SEG_GS];
  for (let k = 0; k < 6; k++) {
    const sel = sels[k] & 0xffff;
    setSegment(cpu, segs[k], sel, sel << 4, 0xffff, AR_V86);
  }
  s[ESP] = words[0];
  s[S_CPL] = 3;
  s[S_EIP] = eip;
  cpu.updateMode();
}

/** IRET / IRETD. */
export function iret(cpu: Cpu, osz: number): void {
  const s = cpu.s;
  s[S_NMI_BLOCKED] = 0;
  if (!cpu.pe) {
    const eip = stackRead(cpu, 0, osz);
    const sel = stackRead(cpu, osz, osz) & 0xffff;
    const fl = stackRead(cpu, 2 * osz, osz);
    const e = osz === 4 ? eip : eip & 0xffff;
    if (e >>> 0 > cpu.csLimit) gp(cpu, 0);
    setSp(cpu, (s[ESP] + 3 * osz) & (cpu.ss32 ? -1 : 0xffff), cpu.ss32);
    realModeCs(cpu, sel, e);
    const mask = osz === 4 ? 0x257fd5 & ~(VM | VIF | VIP) : 0x7fd5;
    setFlagsMasked(cpu, fl, mask | IOPL_MASK | IF);
    return;
  }
  if (cpu.vm86) {
    if ((s[S_EFLAGS] & IOPL_MASK) !== IOPL_MASK) gp(cpu, 0);
    const eip = stackRead(cpu, 0, osz);
    const sel = stackRead(cpu, osz, osz) & 0xffff;
    const fl = stackRead(cpu, 2 * osz, osz);
    setSp(cpu, (s[ESP] + 3 * osz) & (cpu.ss32 ? -1 : 0xffff), cpu.ss32);
    realModeCs(cpu, sel, osz === 4 ? eip : eip & 0xffff);
    setFlagsMasked(cpu, fl, writableFlags(cpu, osz) & ~IOPL_MASK);
    return;
  }
  if ((s[S_EFLAGS] & NT) !== 0) {
    iretTask(cpu);
    return;
  }
  const eipRaw = stackRead(cpu, 0, osz);
  const sel = stackRead(cpu, osz, osz) & 0xffff;
  const fl = stackRead(cpu, 2 * osz, osz);
  if (osz === 4 && (fl & VM) !== 0 && cpu.cpl === 0) {
    iretToV86(cpu, eipRaw, sel, fl);
    return;
  }
  const eip = osz === 4 ? eipRaw : eipRaw & 0xffff;
  const d = checkReturnCs(cpu, sel, eip);
  const rpl = sel & 3;
  const oldCpl = cpu.cpl;
  const oldIopl = (getFlags(cpu) & IOPL_MASK) >> 12;
  let mask = 0x7fd5 | (osz === 4 ? AC | ID | RF : 0);
  if (oldCpl === 0) mask |= IOPL_MASK | (osz === 4 ? VIF | VIP : 0);
  if (oldCpl <= oldIopl) mask |= IF;
  mask &= ~IOPL_MASK | (oldCpl === 0 ? IOPL_MASK : 0);
  if (rpl === oldCpl) {
    setSp(cpu, (s[ESP] + 3 * osz) & (cpu.ss32 ? -1 : 0xffff), cpu.ss32);
    loadCs(cpu, d, sel, oldCpl, eip);
    setFlagsMasked(cpu, fl, mask);
    return;
  }
  const newEsp = stackRead(cpu, 3 * osz, osz);
  const ssSel = stackRead(cpu, 4 * osz, osz) & 0xffff;
  const sd = checkReturnSs(cpu, ssSel, rpl);
  loadCs(cpu, d, sel, rpl, eip);
  setAccessed(cpu, sd);
  setSegment(cpu, SEG_SS, ssSel, sd.base, sd.limit, sd.ar);
  setSp(cpu, (sd.ar & AR_DB) !== 0 ? newEsp : newEsp & 0xffff, (sd.ar & AR_DB) !== 0);
  // Flags are masked with the privilege held before the return.
  const saved = cpu.s[S_CPL];
  cpu.s[S_CPL] = oldCpl;
  cpu.cpl = oldCpl;
  setFlagsMasked(cpu, fl, mask);
  cpu.s[S_CPL] = saved;
  cpu.updateMode();
  nullInaccessibleSegments(cpu);
  flagsWritten(cpu);
}

export { EXC_GP, rdSys };

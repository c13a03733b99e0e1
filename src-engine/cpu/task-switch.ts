/**
 * Hardware task switching (SDM Vol. 3 chapter 7, and the JMP/CALL/IRET/INT n pseudo-code of
 * Vol. 2): far JMP or CALL to a TSS descriptor or a task gate, interrupts and exceptions through
 * an IDT task gate, and IRET with EFLAGS.NT set (return to the back-linked task). 386 (32-bit)
 * and 286 (16-bit) TSS formats.
 *
 * The switch runs in two halves around the commit point of SDM Table 7-1. Before it, everything
 * that can fault (descriptor types, busy bits, the new TSS limit, reading the new TSS) is checked
 * without changing any register, so a fault there is taken in the old task as usual. After it
 * (old state saved, TR and the new task's registers loaded), the segment registers of the new
 * task are validated; a fault there belongs to the new task: it is delivered right here, and the
 * instruction that switched completes from the run loop's point of view.
 */
import type { Cpu } from './cpu';
import { FAULT, raiseError } from './fault';
import { flagsWritten, getFlags } from './lazy-flags';
import { flushTlb, rdSys, wrSys } from './mmu';
import { push16, push32 } from './addressing';
import { dplOf, fetchDescriptor, setAccessed, setSegment, type Descriptor } from './segments';
import { deliverException } from './interrupts';
import { loadPdptes } from './paging';
import {
  AR_CODE, AR_DC, AR_DPL_SHIFT, AR_P, AR_RW, AR_S, AR_UNUSABLE, CR0_PG, CR0_TS, CR4_PAE, EFLAGS_FIXED1,
  EXC_DB, EXC_GP, EXC_NP, EXC_SS, EXC_TS, NT, S_CPL, S_CR0, S_CR3, S_CR4, S_DR, S_EFLAGS, S_EIP,
  S_SEG_AR, S_SEG_BASE, S_SEG_LIMIT, S_SEG_SEL, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_LDTR,
  SEG_SS, SEG_TR, VM, AC, ID, RF,
} from './state';

/** What started a task switch (it decides busy bits, NT and the back link). */
export const enum TaskSource {
  Jmp = 0,
  Call = 1,
  Iret = 2,
  /** An interrupt or exception through an IDT task gate (nests like CALL). */
  Interrupt = 3,
}

// System descriptor types (SDM Vol. 3 Table 3-2).
/** 16-bit TSS, available / busy. */
export const TYPE_TSS16 = 0x1;
export const TYPE_TSS16_BUSY = 0x3;
/** 32-bit TSS, available / busy. */
export const TYPE_TSS32 = 0x9;
export const TYPE_TSS32_BUSY = 0xb;
/** Task gate. */
export const TYPE_TASK_GATE = 0x5;
/** LDT descriptor. */
const TYPE_LDT = 0x2;
/** The busy bit within a TSS type. */
const TSS_BUSY = 0x2;

/** Smallest TSS limits: a 32-bit TSS has 104 bytes, a 16-bit one 44 (SDM 7.2.2 and 7.6). */
const TSS32_MIN_LIMIT = 0x67;
const TSS16_MIN_LIMIT = 0x2b;

// 32-bit TSS field offsets (SDM Vol. 3 Figure 7-2).
const T32_LINK = 0x00;
const T32_CR3 = 0x1c;
const T32_EIP = 0x20;
const T32_EFLAGS = 0x24;
/** EAX..EDI, 4 bytes apart. */
const T32_GPRS = 0x28;
/** ES CS SS DS FS GS, 4 bytes apart. */
const T32_SEGS = 0x48;
const T32_LDT = 0x60;
/** Bit 0: debug trap on entry. */
const T32_TRAP = 0x64;
// 16-bit TSS field offsets (SDM Vol. 3 Figure 7-11).
const T16_IP = 0x0e;
const T16_FLAGS = 0x10;
/** AX..DI, 2 bytes apart. */
const T16_GPRS = 0x12;
/** ES CS SS DS, 2 bytes apart. */
const T16_SEGS = 0x22;
const T16_LDT = 0x2a;

/** Segment registers in TSS order. */
const TSS_SEG_ORDER = [SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS];
/** DR7 bits a task switch clears: L0-L3 and LE (SDM Vol. 3 17.2.4). */
const DR7_LOCAL_ENABLES = 0x155;
/** DR6.BT: the debug exception came from a TSS T flag. */
const DR6_BT = 1 << 15;
/** Access rights of a virtual-8086 segment: present DPL-3 read/write accessed data. */
const AR_V86 = AR_P | AR_S | AR_RW | 1 | (3 << AR_DPL_SHIFT);
/** The upper halves of the general registers (a 16-bit TSS does not hold them). */
const UPPER_HALF = 0xffff0000 | 0;
/** EFLAGS bits a 16-bit TSS cannot hold: they keep their current values. */
const FLAGS_ABOVE_16 = AC | ID | RF | VM;
/** Bits of a saved EFLAGS image that are architecturally zero (3, 5, 15) or fixed. */
const EFLAGS_RESERVED = 0x8028;

/** True for a TSS descriptor type (available or busy, 16 or 32 bits). */
export function isTssType(ar: number): boolean {
  const t = ar & 0x1f;
  return t === TYPE_TSS16 || t === TYPE_TSS16_BUSY || t === TYPE_TSS32 || t === TYPE_TSS32_BUSY;
}

/**
 * Resolves the TSS a task gate names and switches to it (JMP/CALL through a gate, IDT task
 * gates). `ext` is the EXT bit for error codes (1 for interrupts and exceptions).
 */
export function switchThroughGate(cpu: Cpu, gate: Descriptor, source: TaskSource, ext: number, err: number): void {
  const tssSel = gate.lo >>> 16;
  if ((tssSel & 4) !== 0) raiseError(cpu, EXC_GP, (tssSel & 0xfffc) | ext);
  const d = fetchDescriptor(cpu, tssSel, EXC_GP, ext);
  if (!isTssType(d.ar) || (d.ar & TSS_BUSY) !== 0) raiseError(cpu, EXC_GP, (tssSel & 0xfffc) | ext);
  if ((d.ar & AR_P) === 0) raiseError(cpu, EXC_NP, (tssSel & 0xfffc) | ext);
  switchTask(cpu, tssSel, d, source, ext, err);
}

/** IRET with NT set in protected mode: returns to the task named by the current TSS's link. */
export function iretTask(cpu: Cpu): void {
  const link = rdSys(cpu, cpu.s[S_SEG_BASE + SEG_TR], 2);
  if ((link & 4) !== 0) raiseError(cpu, EXC_TS, link & 0xfffc);
  const d = fetchDescriptor(cpu, link, EXC_TS);
  const t = d.ar & 0x1f;
  if (t !== TYPE_TSS16_BUSY && t !== TYPE_TSS32_BUSY) raiseError(cpu, EXC_TS, link & 0xfffc);
  if ((d.ar & AR_P) === 0) raiseError(cpu, EXC_NP, link & 0xfffc);
  switchTask(cpu, link, d, TaskSource.Iret, 0, -1);
}

/** The register image read from a TSS. */
interface TaskImage {
  cr3: number;
  eip: number;
  eflags: number;
  gprs: number[];
  segs: number[];
  ldt: number;
  trap: boolean;
}

function readImage(cpu: Cpu, base: number, is386: boolean): TaskImage {
  const rd = (off: number, size: 2 | 4) => rdSys(cpu, (base + off) | 0, size);
  const gprs: number[] = [];
  const segs: number[] = [];
  if (is386) {
    for (let r = 0; r < 8; r++) gprs.push(rd(T32_GPRS + r * 4, 4));
    for (let k = 0; k < 6; k++) segs.push(rd(T32_SEGS + k * 4, 2));
    return {
      cr3: rd(T32_CR3, 4), eip: rd(T32_EIP, 4), eflags: rd(T32_EFLAGS, 4), gprs, segs,
      ldt: rd(T32_LDT, 2), trap: (rd(T32_TRAP, 2) & 1) !== 0,
    };
  }
  // A 16-bit TSS holds the low halves; the SDM leaves the upper halves undefined ("modified and
  // not maintained"): they keep their current values, as QEMU 7.2 does.
  for (let r = 0; r < 8; r++) gprs.push((rd(T16_GPRS + r * 2, 2) & 0xffff) | (cpu.s[r] & UPPER_HALF));
  for (let k = 0; k < 4; k++) segs.push(rd(T16_SEGS + k * 2, 2));
  segs.push(0, 0);
  return { cr3: 0, eip: rd(T16_IP, 2), eflags: rd(T16_FLAGS, 2), gprs, segs, ldt: rd(T16_LDT, 2), trap: false };
}

function saveImage(cpu: Cpu, base: number, is386: boolean, eflags: number): void {
  const s = cpu.s;
  const wr = (off: number, size: 2 | 4, v: number) => wrSys(cpu, (base + off) | 0, size, v);
  if (is386) {
    wr(T32_EIP, 4, s[S_EIP]);
    wr(T32_EFLAGS, 4, eflags);
    for (let r = 0; r < 8; r++) wr(T32_GPRS + r * 4, 4, s[r]);
    for (let k = 0; k < 6; k++) wr(T32_SEGS + k * 4, 2, s[S_SEG_SEL + TSS_SEG_ORDER[k]]);
    return;
  }
  wr(T16_IP, 2, s[S_EIP]);
  wr(T16_FLAGS, 2, eflags);
  for (let r = 0; r < 8; r++) wr(T16_GPRS + r * 2, 2, s[r]);
  for (let k = 0; k < 4; k++) wr(T16_SEGS + k * 2, 2, s[S_SEG_SEL + TSS_SEG_ORDER[k]]);
}

/** Sets or clears the busy bit of the TSS descriptor at `d` in its table. */
function setBusy(cpu: Cpu, d: Descriptor, busy: boolean): void {
  const accessByte = (d.hi >>> 8) & 0xff;
  wrSys(cpu, (d.addr + 5) | 0, 1, busy ? accessByte | TSS_BUSY : accessByte & ~TSS_BUSY);
}

/**
 * Switches to the task of TSS selector `sel` (descriptor `d`, already checked to be a present
 * TSS of the right availability by the caller for gates; checked here for direct JMP/CALL).
 * `err` >= 0 is an error code to push on the new task's stack (exceptions through task gates).
 */
export function switchTask(cpu: Cpu, sel: number, d: Descriptor, source: TaskSource, ext: number, err: number): void {
  const s = cpu.s;
  const type = d.ar & 0xf;
  const is386 = (type & 8) !== 0;
  const busy = (type & TSS_BUSY) !== 0;
  const selErr = (sel & 0xfffc) | ext;
  if (source === TaskSource.Iret ? !busy : busy) raiseError(cpu, source === TaskSource.Iret ? EXC_TS : EXC_GP, selErr);
  if ((d.ar & AR_P) === 0) raiseError(cpu, EXC_NP, selErr);
  if (d.limit >>> 0 < (is386 ? TSS32_MIN_LIMIT : TSS16_MIN_LIMIT)) raiseError(cpu, EXC_TS, selErr);
  const img = readImage(cpu, d.base, is386);

  // Save the outgoing task.
  const oldSel = s[S_SEG_SEL + SEG_TR];
  const oldBase = s[S_SEG_BASE + SEG_TR];
  const old386 = (s[S_SEG_AR + SEG_TR] & 8) !== 0;
  let oldFlags = getFlags(cpu);
  if (source === TaskSource.Iret) oldFlags &= ~NT;
  if (source === TaskSource.Jmp || source === TaskSource.Iret) {
    const od = fetchDescriptor(cpu, oldSel, EXC_TS);
    setBusy(cpu, od, false);
  }
  saveImage(cpu, oldBase, old386, oldFlags);
  let newFlags = img.eflags;
  if (source === TaskSource.Call || source === TaskSource.Interrupt) {
    newFlags |= NT;
    wrSys(cpu, (d.base + T32_LINK) | 0, 2, oldSel);
  }
  if (source !== TaskSource.Iret) setBusy(cpu, d, true);

  // Commit: the new task's TR, CR3 and registers.
  setSegment(cpu, SEG_TR, sel, d.base, d.limit, d.ar | TSS_BUSY);
  s[S_CR0] |= CR0_TS;
  if (is386 && (s[S_CR0] & CR0_PG) !== 0) {
    if ((s[S_CR4] & CR4_PAE) !== 0) loadPdptes(cpu, img.cr3);
    s[S_CR3] = img.cr3;
    flushTlb(cpu, true);
  }
  s[S_EIP] = img.eip;
  const keep = is386 ? 0 : getFlags(cpu) & FLAGS_ABOVE_16;
  s[S_EFLAGS] = (((is386 ? newFlags : newFlags & 0xffff) | keep | EFLAGS_FIXED1) & ~EFLAGS_RESERVED);
  flagsWritten(cpu);
  for (let r = 0; r < 8; r++) s[r] = img.gprs[r];
  s[S_DR + 7] &= ~DR7_LOCAL_ENABLES;
  const v86 = (s[S_EFLAGS] & VM) !== 0;
  const cpl = v86 ? 3 : img.segs[1] & 3;
  for (let k = 0; k < 6; k++) {
    const seg = TSS_SEG_ORDER[k];
    const sl = img.segs[k];
    if (v86) setSegment(cpu, seg, sl, sl << 4, 0xffff, AR_V86);
    else setSegment(cpu, seg, sl, 0, 0, AR_UNUSABLE);
  }
  setSegment(cpu, SEG_LDTR, img.ldt, 0, 0, AR_UNUSABLE);
  s[S_CPL] = cpl;
  cpu.updateMode();

  try {
    loadTaskLdt(cpu, img.ldt, ext);
    if (!v86) {
      loadTaskCode(cpu, img.segs[1], ext);
      loadTaskStack(cpu, img.segs[2], cpl, ext);
      for (const k of [0, 3, 4, 5]) loadTaskData(cpu, TSS_SEG_ORDER[k], img.segs[k], cpl, ext);
    }
    cpu.updateMode();
    if (err >= 0) {
      if (is386) push32(cpu, err);
      else push16(cpu, err);
    }
    if (s[S_EIP] >>> 0 > s[S_SEG_LIMIT + SEG_CS] >>> 0) raiseError(cpu, EXC_GP, 0);
  } catch (e) {
    if (e !== FAULT) throw e;
    cpu.updateMode();
    deliverException(cpu, cpu.excVector, cpu.excHasError, cpu.excError);
    return;
  }
  if (img.trap) {
    s[S_DR + 6] |= DR6_BT;
    deliverException(cpu, EXC_DB, false, 0);
  }
  cpu.localAttention = true;
}

function loadTaskLdt(cpu: Cpu, sel: number, ext: number): void {
  if ((sel & 0xfffc) === 0) return;
  if ((sel & 4) !== 0) raiseError(cpu, EXC_TS, (sel & 0xfffc) | ext);
  const d = fetchDescriptor(cpu, sel, EXC_TS, ext);
  if ((d.ar & 0x1f) !== TYPE_LDT || (d.ar & AR_P) === 0) raiseError(cpu, EXC_TS, (sel & 0xfffc) | ext);
  setSegment(cpu, SEG_LDTR, sel, d.base, d.limit, d.ar);
}

function loadTaskCode(cpu: Cpu, sel: number, ext: number): void {
  const e = (sel & 0xfffc) | ext;
  if ((sel & 0xfffc) === 0) raiseError(cpu, EXC_TS, e);
  const d = fetchDescriptor(cpu, sel, EXC_TS, ext);
  if ((d.ar & (AR_S | AR_CODE)) !== (AR_S | AR_CODE)) raiseError(cpu, EXC_TS, e);
  const dpl = dplOf(d.ar);
  const rpl = sel & 3;
  if ((d.ar & AR_DC) !== 0 ? dpl > rpl : dpl !== rpl) raiseError(cpu, EXC_TS, e);
  if ((d.ar & AR_P) === 0) raiseError(cpu, EXC_NP, e);
  setAccessed(cpu, d);
  setSegment(cpu, SEG_CS, sel, d.base, d.limit, d.ar);
}

function loadTaskStack(cpu: Cpu, sel: number, cpl: number, ext: number): void {
  const e = (sel & 0xfffc) | ext;
  if ((sel & 0xfffc) === 0) raiseError(cpu, EXC_TS, e);
  const d = fetchDescriptor(cpu, sel, EXC_TS, ext);
  if ((sel & 3) !== cpl || dplOf(d.ar) !== cpl || (d.ar & (AR_S | AR_CODE | AR_RW)) !== (AR_S | AR_RW)) {
    raiseError(cpu, EXC_TS, e);
  }
  if ((d.ar & AR_P) === 0) raiseError(cpu, EXC_SS, e);
  setAccessed(cpu, d);
  setSegment(cpu, SEG_SS, sel, d.base, d.limit, d.ar);
}

function loadTaskData(cpu: Cpu, seg: number, sel: number, cpl: number, ext: number): void {
  if ((sel & 0xfffc) === 0) return;
  const e = (sel & 0xfffc) | ext;
  const d = fetchDescriptor(cpu, sel, EXC_TS, ext);
  const code = (d.ar & AR_CODE) !== 0;
  if ((d.ar & AR_S) === 0 || (code && (d.ar & AR_RW) === 0)) raiseError(cpu, EXC_TS, e);
  const conforming = code && (d.ar & AR_DC) !== 0;
  const dpl = dplOf(d.ar);
  if (!conforming && (dpl < cpl || dpl < (sel & 3))) raiseError(cpu, EXC_TS, e);
  if ((d.ar & AR_P) === 0) raiseError(cpu, EXC_NP, e);
  setAccessed(cpu, d);
  setSegment(cpu, seg, sel, d.base, d.limit, d.ar);
}


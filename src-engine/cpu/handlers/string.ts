/**
 * String instructions MOVS CMPS SCAS LODS STOS INS OUTS with REP/REPE/REPNE, both directions,
 * 16- and 32-bit addressing. Registers advance after every element, so a fault in the middle
 * leaves ECX/ESI/EDI describing the work done (as on hardware) and the instruction restarts.
 * Long REP runs stop after REP_CHUNK elements and restart, so interrupts and preemption are
 * never held off. REP MOVS/STOS over flat RAM copy whole page-bounded runs at once.
 */
import type { Cpu } from '../cpu';
import type { Handler, Insn } from '../insn';
import { segLinR, segLinW } from '../addressing';
import { alu16, alu32, alu8, CMP } from './alu';
import { getZF } from '../lazy-flags';
import { checkSmc, noteWrite, probeWrite, rd8, TLB_MASK } from '../mmu';
import { DF, EAX, ECX, EDI, EDX, ESI, S_EFLAGS, S_EIP, SEG_ES, TF } from '../state';
import { readMem, writeMem, type Factory } from './common';
import { afterIoWrite, checkIoPermission } from './io';

/** Elements per execution of a REP instruction before it yields and restarts. */
const REP_CHUNK = 65536;

function getIdx(cpu: Cpu, a16: boolean, reg: number): number {
  return a16 ? cpu.r16[reg * 2] : cpu.s[reg];
}
function setIdx(cpu: Cpu, a16: boolean, reg: number, v: number): void {
  if (a16) cpu.r16[reg * 2] = v;
  else cpu.s[reg] = v;
}
function step(cpu: Cpu, size: number): number {
  return (cpu.s[S_EFLAGS] & DF) !== 0 ? -size : size;
}
function acc(cpu: Cpu, size: number): number {
  return size === 4 ? cpu.s[EAX] : size === 2 ? cpu.r16[0] : cpu.r8[0];
}
function setAcc(cpu: Cpu, size: number, v: number): void {
  if (size === 4) cpu.s[EAX] = v;
  else if (size === 2) cpu.r16[0] = v;
  else cpu.r8[0] = v;
}
function compare(cpu: Cpu, size: number, a: number, b: number): void {
  if (size === 4) alu32(cpu, CMP, a, b);
  else if (size === 2) alu16(cpu, CMP, a, b);
  else alu8(cpu, CMP, a, b);
}

/** Remaining count for a REP instruction (0 means done). */
function count(cpu: Cpu, a16: boolean): number {
  return a16 ? cpu.r16[ECX * 2] : cpu.s[ECX] >>> 0;
}

/**
 * Machine offset of `len` bytes at linear `lin` if they are plain RAM in one page with the
 * needed permission already cached, else -1.
 */
function bulkOffset(cpu: Cpu, lin: number, len: number, write: boolean): number {
  if ((lin & 0xfff) + len > 0x1000) return -1;
  const page = lin >>> 12;
  const idx = page & TLB_MASK;
  const tags = write ? cpu.tagW : cpu.tagR;
  if (tags[idx] !== page) {
    if (write) probeWrite(cpu, lin, 1);
    else rd8(cpu, lin);
    if (tags[idx] !== page) return -1;
  }
  return cpu.tlbOff[idx] + (lin & 0xfff);
}

/** Tries to do up to `n` forward elements of REP MOVS/STOS in bulk; returns elements done. */
function bulk(cpu: Cpu, i: Insn, size: number, n: number, stos: boolean): number {
  const a16 = i.a16;
  const di = getIdx(cpu, a16, EDI);
  const si = getIdx(cpu, a16, ESI);
  const dLin = segLinW(cpu, SEG_ES, di, size);
  const room = (0x1000 - (dLin & 0xfff)) / size;
  let k = Math.min(n, Math.floor(room));
  if (a16) k = Math.min(k, Math.floor((0x10000 - di) / size));
  if (!stos) {
    const sLin = segLinR(cpu, i.seg, si, size);
    k = Math.min(k, Math.floor((0x1000 - (sLin & 0xfff)) / size));
    if (a16) k = Math.min(k, Math.floor((0x10000 - si) / size));
    if (k <= 0) return 0;
    segLinR(cpu, i.seg, (si + (k - 1) * size) | 0, size);
    segLinW(cpu, SEG_ES, (di + (k - 1) * size) | 0, size);
    const so = bulkOffset(cpu, sLin, k * size, false);
    const dOff = bulkOffset(cpu, dLin, k * size, true);
    if (so < 0 || dOff < 0) return 0;
    // Overlap where a forward element copy differs from a block move: do it element-wise.
    if (dOff > so && dOff - so < k * size) return 0;
    if (cpu.phys.codeMark[dOff >>> 12] !== 0) checkSmc(cpu, dOff, k * size);
    const m = cpu.phys.mem8;
    m.copyWithin(dOff, so, so + k * size);
    noteWrite(cpu, dOff, k * size);
    setIdx(cpu, a16, ESI, a16 ? (si + k * size) & 0xffff : (si + k * size) | 0);
  } else {
    if (k <= 0) return 0;
    segLinW(cpu, SEG_ES, (di + (k - 1) * size) | 0, size);
    const dOff = bulkOffset(cpu, dLin, k * size, true);
    if (dOff < 0) return 0;
    if (cpu.phys.codeMark[dOff >>> 12] !== 0) checkSmc(cpu, dOff, k * size);
    const v = acc(cpu, size);
    if (size === 1) cpu.phys.mem8.fill(v & 0xff, dOff, dOff + k);
    else if (size === 4 && (dOff & 3) === 0) cpu.phys.mem32.fill(v, dOff >> 2, (dOff >> 2) + k);
    else if (size === 2 && (dOff & 1) === 0) cpu.phys.mem16.fill(v & 0xffff, dOff >> 1, (dOff >> 1) + k);
    else return 0;
    noteWrite(cpu, dOff, k * size);
  }
  setIdx(cpu, a16, EDI, a16 ? (di + k * size) & 0xffff : (di + k * size) | 0);
  const c = count(cpu, a16) - k;
  setIdx(cpu, a16, ECX, c);
  return k;
}

function movsOne(cpu: Cpu, i: Insn, size: number): void {
  const a16 = i.a16;
  const si = getIdx(cpu, a16, ESI);
  const di = getIdx(cpu, a16, EDI);
  const v = readMem(cpu, segLinR(cpu, i.seg, si, size), size);
  writeMem(cpu, segLinW(cpu, SEG_ES, di, size), size, v);
  const d = step(cpu, size);
  setIdx(cpu, a16, ESI, a16 ? (si + d) & 0xffff : (si + d) | 0);
  setIdx(cpu, a16, EDI, a16 ? (di + d) & 0xffff : (di + d) | 0);
}

function stosOne(cpu: Cpu, i: Insn, size: number): void {
  const a16 = i.a16;
  const di = getIdx(cpu, a16, EDI);
  writeMem(cpu, segLinW(cpu, SEG_ES, di, size), size, acc(cpu, size));
  const d = step(cpu, size);
  setIdx(cpu, a16, EDI, a16 ? (di + d) & 0xffff : (di + d) | 0);
}

function lodsOne(cpu: Cpu, i: Insn, size: number): void {
  const a16 = i.a16;
  const si = getIdx(cpu, a16, ESI);
  setAcc(cpu, size, readMem(cpu, segLinR(cpu, i.seg, si, size), size));
  const d = step(cpu, size);
  setIdx(cpu, a16, ESI, a16 ? (si + d) & 0xffff : (si + d) | 0);
}

function cmpsOne(cpu: Cpu, i: Insn, size: number): void {
  const a16 = i.a16;
  const si = getIdx(cpu, a16, ESI);
  const di = getIdx(cpu, a16, EDI);
  const a = readMem(cpu, segLinR(cpu, i.seg, si, size), size);
  const b = readMem(cpu, segLinR(cpu, SEG_ES, di, size), size);
  compare(cpu, size, a, b);
  const d = step(cpu, size);
  setIdx(cpu, a16, ESI, a16 ? (si + d) & 0xffff : (si + d) | 0);
  setIdx(cpu, a16, EDI, a16 ? (di + d) & 0xffff : (di + d) | 0);
}

function scasOne(cpu: Cpu, i: Insn, size: number): void {
  const a16 = i.a16;
  const di = getIdx(cpu, a16, EDI);
  const b = readMem(cpu, segLinR(cpu, SEG_ES, di, size), size);
  compare(cpu, size, acc(cpu, size), b);
  const d = step(cpu, size);
  setIdx(cpu, a16, EDI, a16 ? (di + d) & 0xffff : (di + d) | 0);
}

function insOne(cpu: Cpu, i: Insn, size: number): void {
  const a16 = i.a16;
  const di = getIdx(cpu, a16, EDI);
  const port = cpu.r16[EDX * 2];
  const lin = segLinW(cpu, SEG_ES, di, size);
  probeWrite(cpu, lin, size);
  writeMem(cpu, lin, size, cpu.ops.ioRead(port, size as 1 | 2 | 4));
  const d = step(cpu, size);
  setIdx(cpu, a16, EDI, a16 ? (di + d) & 0xffff : (di + d) | 0);
}

function outsOne(cpu: Cpu, i: Insn, size: number): void {
  const a16 = i.a16;
  const si = getIdx(cpu, a16, ESI);
  const port = cpu.r16[EDX * 2];
  const v = readMem(cpu, segLinR(cpu, i.seg, si, size), size);
  cpu.ops.ioWrite(port, size as 1 | 2 | 4, size === 4 ? v >>> 0 : v);
  afterIoWrite(cpu);
  const d = step(cpu, size);
  setIdx(cpu, a16, ESI, a16 ? (si + d) & 0xffff : (si + d) | 0);
}

type One = (cpu: Cpu, i: Insn, size: number) => void;

/** Builds the handler for one string instruction with its REP prefix semantics. */
function stringHandler(one: One, kind: 'plain' | 'cmp' | 'bulkmov' | 'bulkstos' | 'io'): Factory {
  return (d, ins) => {
    d.endBlock = ins.rep !== 0 || kind === 'io';
    const size = d.ops[0].kind === 9 || d.ops[0].kind === 10 ? d.ops[0].size || d.ops[1].size : d.ops[1].size || d.ops[0].size;
    ins.size = size;
    const rep = ins.rep;
    if (kind === 'io') {
      return (cpu, i) => {
        checkIoPermission(cpu, cpu.r16[EDX * 2], size);
        if (rep === 0) {
          one(cpu, i, size);
          return;
        }
        repLoop(cpu, i, one, size, 0);
      };
    }
    if (rep === 0) return (cpu, i) => one(cpu, i, size);
    const cmpRep = kind === 'cmp' ? rep : 0;
    const bulkKind = kind === 'bulkmov' ? 1 : kind === 'bulkstos' ? 2 : 0;
    return (cpu, i) => {
      if (bulkKind !== 0 && (cpu.s[S_EFLAGS] & (DF | TF)) === 0 && cpu.dataWatch === 0) {
        let n = Math.min(count(cpu, i.a16), REP_CHUNK);
        while (n > 0) {
          const k = bulk(cpu, i, size, n, bulkKind === 2);
          if (k === 0) break;
          n -= k;
        }
        if (count(cpu, i.a16) === 0) return;
      }
      repLoop(cpu, i, one, size, cmpRep);
    };
  };
}

function repLoop(cpu: Cpu, i: Insn, one: One, size: number, cmpRep: number): void {
  const a16 = i.a16;
  // Single steps and data breakpoints trap after every iteration (SDM Vol. 3 17.3.1).
  let budget = (cpu.s[S_EFLAGS] & TF) !== 0 || cpu.dataWatch !== 0 ? 1 : REP_CHUNK;
  for (;;) {
    const c = count(cpu, a16);
    if (c === 0) return;
    if (budget-- === 0) {
      // Yield: restart this instruction so pending interrupts can be taken.
      cpu.s[S_EIP] = i.eip;
      return;
    }
    one(cpu, i, size);
    setIdx(cpu, a16, ECX, a16 ? (c - 1) & 0xffff : (c - 1) | 0);
    if (cmpRep === 1 && getZF(cpu) === 0) return;
    if (cmpRep === 2 && getZF(cpu) === 1) return;
  }
}

/** Factories of this group, by mnemonic. */
export const stringFactories: Record<string, Factory> = {
  MOVS: stringHandler(movsOne, 'bulkmov'),
  STOS: stringHandler(stosOne, 'bulkstos'),
  LODS: stringHandler(lodsOne, 'plain'),
  CMPS: stringHandler(cmpsOne, 'cmp'),
  SCAS: stringHandler(scasOne, 'cmp'),
  INS: stringHandler(insOne, 'io'),
  OUTS: stringHandler(outsOne, 'io'),
};

export type { Handler };

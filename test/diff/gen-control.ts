/**
 * Random instruction families, part 2: stack operations, string instructions with REP and DF,
 * BCD, flag and conversion instructions, XLAT, branches inside the sequence (Jcc, JMP, LOOP,
 * JECXZ, CALL, RET through a pushed address, indirect JMP/CALL), exceptions on purpose (INT3,
 * INT n, INTO, UD2, BOUND, misplaced LOCK), segment loads, ring-3 privileged instructions, NOPs.
 *
 * Branch targets are instruction indices; the generator turns them into displacements once the
 * whole sequence is known (ProgramInsn.fixup). Only the LOOP family branches backwards.
 * Reference: Intel SDM Vol. 2 instruction pages; Vol. 3A 6.15 (exception conditions).
 */
import { mk, type Family } from './gen-arith';
import {
  EAX, EBP, EBX, ECX, EDI, EDX, ESI, P_ASIZE, P_LOCK, P_REP, P_REPNE, SEG_NAMES, SEG_PREFIX,
  STACK_SLACK, destReg, edgeValue, isPointer, le, memOperand, osizePrefix, pickOpSize, regRm, rmOperand,
  type GenInsn, type GenState, type SegName,
} from './gen-state';

/** EFLAGS bits POPF may be handed: everything except TF (it would trap), NT (IRET would then
 *  switch tasks), RF and VM. */
const POPF_ALLOWED = ~((1 << 8) | (1 << 14) | (1 << 16) | (1 << 17)) >>> 0;
/** Segment selectors worth loading in protected mode: null, RPL variants, code, TSS, LDT
 *  descriptor, LDT entries (present and not), beyond the GDT or LDT limit. */
const SELECTORS = [0, 3, 0x04, 0x07, 0x08, 0x0b, 0x0c, 0x0f, 0x10, 0x13, 0x14, 0x18, 0x1b, 0x20, 0x23, 0x28, 0x30, 0x38, 0x40, 0x43, 0x48, 0x50, 0xfff8, 0x1234];

function stackRoom(st: GenState, bytes: number): boolean {
  return Math.abs(st.stackBytes + bytes) <= STACK_SLACK;
}

/** PUSH/POP (register, immediate, memory, segment), PUSHA/POPA, PUSHF, PUSH imm + POPF, ENTER + LEAVE, LEAVE. */
export const stack: Family = (st) => {
  const rng = st.rng;
  const { size, prefixes } = pickOpSize(st, false);
  const kind = rng.below(11);
  const push = (form: string, p: number[], body: number[], extra: Partial<GenInsn> = {}): GenInsn[] | undefined =>
    stackRoom(st, size) ? [mk(st, form, p, body, { stack: true, ...extra })] : undefined;
  const pop = (form: string, p: number[], body: number[], extra: Partial<GenInsn> = {}): GenInsn[] | undefined =>
    stackRoom(st, -size) ? [mk(st, form, p, body, { stack: true, ...extra })] : undefined;
  const done = (out: GenInsn[] | undefined, delta: number): GenInsn[] | undefined => {
    if (out) st.stackBytes += delta;
    return out;
  };
  switch (kind) {
    case 0: return done(push(`push r${size * 8}`, prefixes, [0x50 + rng.below(8)]), size);
    case 1: return done(rng.chance(0.5) ? push('push imm8', prefixes, [0x6a, rng.below(256)]) : push('push imm', prefixes, [0x68, ...le(edgeValue(rng, size), size)]), size);
    case 2: {
      const rm = rmOperand(st, size, { write: false, memChance: 0.7, margin: 8 });
      if (!rm) return undefined;
      return done(push(`push rm${size * 8}`, [...prefixes, ...rm.prefixes], [0xff, ...rm.modrm(6)], { addrRegs: rm.uses }), size);
    }
    case 3: {
      const r = destReg(st, size);
      return done(pop(`pop r${size * 8}`, prefixes, [0x58 + r], { writes: [r] }), -size);
    }
    case 4: {
      const rm = rng.chance(0.7) ? memOperand(st, { size, write: true, margin: 8 }) : undefined;
      if (rm) return done(pop(`pop m${size * 8}`, [...prefixes, ...rm.prefixes], [0x8f, ...rm.modrm(0)], { addrRegs: rm.uses }), -size);
      const r = destReg(st, size);
      return done(pop(`pop r${size * 8} (8f)`, prefixes, [0x8f, ...regRm(r).modrm(0)], { writes: [r] }), -size);
    }
    case 5: {
      if (rng.chance(0.5)) return stackRoom(st, 8 * size) ? done([mk(st, 'pusha', prefixes, [0x60], { stack: true })], 8 * size) : undefined;
      return stackRoom(st, -8 * size) ? done([mk(st, 'popa', prefixes, [0x61], { stack: true, writes: [EAX, ECX, EDX, EBX, EBP, ESI, EDI] })], -8 * size) : undefined;
    }
    case 6: return done(push('pushf', prefixes, [0x9c]), size);
    case 7: {
      const group = st.nextGroup++;
      const flags = (rng.u32() & POPF_ALLOWED) >>> 0;
      return [
        mk(st, 'push imm (flags image)', prefixes, [0x68, ...le(flags, size)], { stack: true, group }),
        mk(st, 'popf', prefixes, [0x9d], { stack: true, group }),
      ];
    }
    case 8: {
      // ENTER and its LEAVE, adjacent: nesting levels > 0 read old frame pointers below EBP.
      const frame = rng.pick([0, 4, 8, 16, 64]);
      // A 16-bit ENTER on a 32-bit stack only writes BP, so LEAVE's ESP <- EBP needs EBP's
      // upper half to be zero already.
      if (size === 2 && st.default32 && !(st.known[EBP] && st.regs[EBP] >>> 16 === 0)) return undefined;
      let level = rng.pick([0, 0, 1, 2, 3]);
      if (level > 0 && !isPointer(st, EBP, 'ss', 32)) level = 0;
      if (!stackRoom(st, frame + size * (level + 1))) return undefined;
      const group = st.nextGroup++;
      return [
        mk(st, `enter ${frame}, ${level}`, prefixes, [0xc8, ...le(frame, 2), level], { stack: true, group, addrRegs: level > 0 ? [EBP] : [], writes: [EBP] }),
        mk(st, 'leave', prefixes, [0xc9], { stack: true, group, writes: [EBP] }),
      ];
    }
    case 9: {
      if (!isPointer(st, EBP, 'ss', 16)) return undefined;
      return [mk(st, 'leave', prefixes, [0xc9], { stack: true, addrRegs: [EBP], writes: [EBP] })];
    }
    default: {
      if (rng.chance(0.6)) {
        const seg = rng.pick(SEG_NAMES);
        const body = seg === 'fs' ? [0x0f, 0xa0] : seg === 'gs' ? [0x0f, 0xa8] : [0x06 + 8 * SEG_NAMES.indexOf(seg)];
        return done(push(`push ${seg}`, prefixes, body), size);
      }
      const seg = rng.pick(['es', 'ds', 'fs', 'gs'] as const);
      const body = seg === 'fs' ? [0x0f, 0xa1] : seg === 'gs' ? [0x0f, 0xa9] : [0x07 + 8 * SEG_NAMES.indexOf(seg)];
      return done(pop(`pop ${seg}`, prefixes, body, { segWrites: [seg] }), -size);
    }
  }
};

/** MOVS/CMPS/STOS/LODS/SCAS, byte or word/dword, with REP/REPE/REPNE, 66, 67 and a source override. */
export const string: Family = (st) => {
  const rng = st.rng;
  const op = rng.pick(['movs', 'cmps', 'stos', 'lods', 'scas'] as const);
  const base = { movs: 0xa4, cmps: 0xa6, stos: 0xaa, lods: 0xac, scas: 0xae }[op];
  const { size, prefixes } = pickOpSize(st, true);
  const asize = rng.chance(0.2);
  const addr32 = asize ? !st.default32 : st.default32;
  const rep = rng.weighted([[4, 'none'], [4, 'rep'], [2, 'repne']] as const);
  const readsSi = op === 'movs' || op === 'cmps' || op === 'lods';
  const readsDi = op !== 'lods';
  let srcSeg: SegName = 'ds';
  const pre: number[] = [...prefixes, ...(asize ? [P_ASIZE] : [])];
  if (readsSi && rng.chance(0.15)) {
    const flat = SEG_NAMES.filter((s) => st.segKnown[s] && st.segBase[s] === st.segBase.ds);
    if (flat.length > 0) {
      srcSeg = rng.pick(flat);
      pre.push(SEG_PREFIX[srcSeg]);
    }
  }
  const out: GenInsn[] = [];
  let count = 1;
  const group = st.nextGroup++;
  if (rep !== 'none') {
    const cmask = addr32 ? 0xffffffff : 0xffff;
    if (st.known[ECX] && ((st.regs[ECX] & cmask) >>> 0) <= 32) {
      count = (st.regs[ECX] & cmask) >>> 0;
    } else {
      count = rng.below(17);
      out.push(mk(st, 'mov ecx, count', osizePrefix(st, 4), [0xb9, ...le(count, 4)], { writes: [ECX], group }));
    }
    pre.push(rep === 'rep' ? P_REP : P_REPNE);
  }
  const reach = Math.max(count, 1) * size + 8;
  if (readsSi && !isPointer(st, ESI, srcSeg, reach, addr32)) return undefined;
  if (readsDi && !isPointer(st, EDI, 'es', reach, addr32)) return undefined;
  const uses = [...(readsSi ? [ESI] : []), ...(readsDi ? [EDI] : []), ...(rep !== 'none' ? [ECX] : [])];
  const writes = [...uses, ...(op === 'lods' ? [EAX] : [])];
  out.push(mk(st, `${rep === 'none' ? '' : rep + ' '}${op}${size === 1 ? 'b' : size === 2 ? 'w' : 'd'}${addr32 === st.default32 ? '' : ' (a' + (addr32 ? '32' : '16') + ')'}`,
    pre, [base + (size === 1 ? 0 : 1)], { addrRegs: uses, writes, group: out.length > 0 ? group : undefined }));
  return out;
};

/** DAA DAS AAA AAS AAM AAD, CLC STC CMC CLD STD CLI STI, SAHF LAHF, CBW/CWDE CWD/CDQ, XLAT. */
export const misc: Family = (st) => {
  const rng = st.rng;
  const kind = rng.below(6);
  if (kind === 0) {
    const op = rng.pick([0x27, 0x2f, 0x37, 0x3f]);
    return [mk(st, ['daa', 'das', 'aaa', 'aas'][[0x27, 0x2f, 0x37, 0x3f].indexOf(op)], [], [op], { writes: [EAX] })];
  }
  if (kind === 1) {
    const aam = rng.chance(0.5);
    const base = rng.chance(0.6) ? 10 : rng.pick([0, 1, 2, 16, 0xff, rng.below(256)]);
    return [mk(st, `${aam ? 'aam' : 'aad'} ${base}`, [], [aam ? 0xd4 : 0xd5, base], { writes: [EAX] })];
  }
  if (kind === 2) {
    const op = rng.weighted([[3, 0xf8], [3, 0xf9], [3, 0xf5], [3, 0xfc], [3, 0xfd], [1, 0xfa], [1, 0xfb]] as const);
    return [mk(st, { 0xf8: 'clc', 0xf9: 'stc', 0xf5: 'cmc', 0xfc: 'cld', 0xfd: 'std', 0xfa: 'cli', 0xfb: 'sti' }[op], [], [op])];
  }
  if (kind === 3) return rng.chance(0.5) ? [mk(st, 'sahf', [], [0x9e])] : [mk(st, 'lahf', [], [0x9f], { writes: [EAX] })];
  if (kind === 4) {
    const { prefixes } = pickOpSize(st, false);
    return rng.chance(0.5) ? [mk(st, 'cbw/cwde', prefixes, [0x98], { writes: [EAX] })] : [mk(st, 'cwd/cdq', prefixes, [0x99], { writes: [EDX] })];
  }
  const asize = rng.chance(0.2);
  const addr32 = asize ? !st.default32 : st.default32;
  // XLAT reads [EBX + AL]: EBX must leave 256 bytes of window above it.
  if (!isPointer(st, EBX, 'ds', 0, addr32) || (addr32 ? st.regs[EBX] : st.regs[EBX] & 0xffff) + st.segBase.ds + 256 > st.winHi) return undefined;
  return [mk(st, 'xlat', asize ? [P_ASIZE] : [], [0xd7], { addrRegs: [EBX], writes: [EAX] })];
};

/** Jcc, JMP, LOOP/LOOPE/LOOPNE/JECXZ (may go backwards), CALL, RET via a pushed address, JMP/CALL through a register. */
export const branch: Family = (st) => {
  const rng = st.rng;
  const here = st.insns.length;
  const forward = (at: number): number => rng.range(at + 1, Math.max(at + 1, st.target));
  const kind = rng.weighted([[5, 'jcc8'], [2, 'jcc'], [2, 'jmp8'], [1, 'jmp'], [3, 'loop'], [1, 'call'], [1, 'ret'], [1, 'jmpreg']] as const);
  const near = pickOpSize(st, false);
  const relKind = near.size === 4 ? 'rel32' : 'rel16';
  const absKind = near.size === 4 ? 'abs32' : 'abs16';
  switch (kind) {
    case 'jcc8': return [mk(st, 'jcc rel8', [], [0x70 + rng.below(16), 0], { fixup: { kind: 'rel8', at: 0, target: forward(here) } })];
    case 'jcc': return [mk(st, `jcc ${relKind}`, near.prefixes, [0x0f, 0x80 + rng.below(16), ...le(0, near.size)], { fixup: { kind: relKind, at: 0, target: forward(here) } })];
    case 'jmp8': return [mk(st, 'jmp rel8', [], [0xeb, 0], { fixup: { kind: 'rel8', at: 0, target: forward(here) } })];
    case 'jmp': return [mk(st, `jmp ${relKind}`, near.prefixes, [0xe9, ...le(0, near.size)], { fixup: { kind: relKind, at: 0, target: forward(here) } })];
    case 'loop': {
      const op = rng.pick([0xe0, 0xe1, 0xe2, 0xe3]);
      const asize = rng.chance(0.2) ? [P_ASIZE] : [];
      const back = op !== 0xe3 && here > 0 && rng.chance(0.4);
      const target = back ? rng.range(Math.max(0, here - 4), here - 1) : forward(here);
      return [mk(st, `${['loopne', 'loope', 'loop', 'jecxz'][op - 0xe0]}${back ? ' (back)' : ''}`, asize, [op, 0],
        { fixup: { kind: 'rel8', at: 0, target }, writes: op === 0xe3 ? [] : [ECX], mayLoop: back })];
    }
    case 'call': {
      if (!stackRoom(st, near.size)) return undefined;
      st.stackBytes += near.size;
      return [mk(st, `call ${relKind}`, near.prefixes, [0xe8, ...le(0, near.size)], { fixup: { kind: relKind, at: 0, target: forward(here) }, stack: true })];
    }
    case 'ret': {
      // RET to a later instruction through an address pushed just before it.
      const group = st.nextGroup++;
      const release = rng.chance(0.3) ? rng.pick([0, 2, 4, 8]) : -1;
      if (!stackRoom(st, -Math.max(0, release))) return undefined;
      st.stackBytes -= Math.max(0, release);
      return [
        mk(st, 'push imm (return address)', near.prefixes, [0x68, ...le(0, near.size)], { fixup: { kind: absKind, at: 0, target: forward(here + 1) }, stack: true, group }),
        release < 0 ? mk(st, 'ret', near.prefixes, [0xc3], { stack: true, group }) : mk(st, `ret ${release}`, near.prefixes, [0xc2, ...le(release, 2)], { stack: true, group }),
      ];
    }
    default: {
      const group = st.nextGroup++;
      const r = destReg(st, near.size);
      const call = rng.chance(0.3);
      if (call) {
        if (!stackRoom(st, near.size)) return undefined;
        st.stackBytes += near.size;
      }
      return [
        mk(st, 'mov r, imm (target)', near.prefixes, [0xb8 + r, ...le(0, near.size)], { fixup: { kind: absKind, at: 0, target: forward(here + 1) }, writes: [r], group }),
        mk(st, `${call ? 'call' : 'jmp'} r${near.size * 8}`, near.prefixes, [0xff, 0xc0 | ((call ? 2 : 4) << 3) | r], { stack: call, group }),
      ];
    }
  }
};

/** Code selectors a far transfer may name: the current CS, or wrong ones (data, other ring, null). */
function farSelector(st: GenState): { sel: number; good: boolean } {
  const cs = st.env.mode === 'real' ? 0 : st.env.ring === 3 ? 0x1b : 0x08;
  if (st.env.mode === 'real' || st.rng.chance(0.85)) return { sel: cs, good: true };
  return { sel: st.rng.pick([0, 0x10, 0x23, st.env.ring === 3 ? 0x08 : 0x1b, 0x28, 0x48, 0x50]), good: false };
}

/** JMP FAR / CALL FAR ptr16:32 and ptr16:16, RETF and IRET through pushed frames, LDS/LES/LFS/LGS. */
export const far: Family = (st) => {
  const rng = st.rng;
  const here = st.insns.length;
  const near = pickOpSize(st, false);
  const offKind = near.size === 4 ? 'abs32' : 'abs16';
  const forward = (at: number): number => rng.range(at + 1, Math.max(at + 1, st.target));
  const { sel, good } = farSelector(st);
  switch (rng.below(5)) {
    case 0:
    case 1: {
      const call = rng.chance(0.4);
      if (call && !stackRoom(st, 2 * near.size)) return undefined;
      if (call) st.stackBytes += 2 * near.size;
      return [mk(st, `${call ? 'call' : 'jmp'} far ${sel.toString(16)}:${near.size === 4 ? 'd' : 'w'}`, near.prefixes, [call ? 0x9a : 0xea, ...le(0, near.size), ...le(sel, 2)],
        { fixup: { kind: offKind, at: 0, target: forward(here) }, fixupTail: 2, stack: call })];
    }
    case 2: {
      if (!good) return undefined;
      const group = st.nextGroup++;
      return [
        mk(st, 'push cs', near.prefixes, [0x0e], { stack: true, group }),
        mk(st, 'push imm (return offset)', near.prefixes, [0x68, ...le(0, near.size)], { fixup: { kind: offKind, at: 0, target: forward(here + 2) }, stack: true, group }),
        mk(st, 'retf', near.prefixes, [0xcb], { stack: true, group }),
      ];
    }
    case 3: {
      if (!good) return undefined;
      const group = st.nextGroup++;
      return [
        mk(st, 'pushf', near.prefixes, [0x9c], { stack: true, group }),
        mk(st, 'push cs', near.prefixes, [0x0e], { stack: true, group }),
        mk(st, 'push imm (iret offset)', near.prefixes, [0x68, ...le(0, near.size)], { fixup: { kind: offKind, at: 0, target: forward(here + 3) }, stack: true, group }),
        mk(st, 'iret', near.prefixes, [0xcf], { stack: true, group }),
      ];
    }
    default: {
      // Far pointer loads from the data window: a random selector mostly faults; the segment
      // register is unknown afterwards either way.
      const op = rng.pick([[0xc5], [0xc4], [0x0f, 0xb4], [0x0f, 0xb5]] as const);
      const seg: SegName = op.length === 1 ? (op[0] === 0xc5 ? 'ds' : 'es') : op[1] === 0xb4 ? 'fs' : 'gs';
      const m = memOperand(st, { size: near.size + 2 });
      if (!m) return undefined;
      const r = destReg(st, near.size);
      return [mk(st, `l${seg} r${near.size * 8}, m16:${near.size * 8}`, [...near.prefixes, ...m.prefixes], [...op, ...m.modrm(r)], { addrRegs: m.uses, writes: [r], segWrites: [seg] })];
    }
  }
};

/** Exceptions on purpose: INT3, INT n, INTO, UD2, BOUND, LOCK on a non-lockable instruction. */
export const traps: Family = (st) => {
  const rng = st.rng;
  switch (rng.below(6)) {
    case 0: return [mk(st, 'int3', [], [0xcc])];
    case 1: {
      const v = rng.chance(0.5) ? rng.pick([3, 4, 0x21, 0x80, 0xff]) : rng.below(256);
      return [mk(st, `int 0x${v.toString(16)}`, [], [0xcd, v])];
    }
    case 2: return [mk(st, 'into', [], [0xce])];
    case 3: return [mk(st, 'ud2', [], [0x0f, 0x0b])];
    case 4: {
      const { size, prefixes } = pickOpSize(st, false);
      const m = memOperand(st, { size: 2 * size });
      if (!m) return undefined;
      return [mk(st, `bound r${size * 8}, m`, [...prefixes, ...m.prefixes], [0x62, ...m.modrm(rng.below(8))], { addrRegs: m.uses })];
    }
    default: {
      const r = rng.below(8);
      return rng.chance(0.5)
        ? [mk(st, 'lock add reg, reg (#UD)', [P_LOCK], [0x01, 0xc0 | (r << 3) | destReg(st, 4)])]
        : [mk(st, 'lock nop (#UD)', [P_LOCK], [0x90])];
    }
  }
};

/** MOV Sreg, r16 after loading a chosen selector (valid, null, wrong type, out of the GDT). */
export const segLoad: Family = (st) => {
  const rng = st.rng;
  const seg = rng.chance(0.03) ? 'cs' : rng.pick(['es', 'ds', 'fs', 'gs'] as const);
  const sel = st.env.mode === 'real' ? edgeValue(rng, 2) : rng.pick(SELECTORS);
  const r = destReg(st, 2);
  const group = st.nextGroup++;
  return [
    mk(st, 'mov r16, selector', osizePrefix(st, 2), [0xb8 + r, ...le(sel, 2)], { writes: [r], group }),
    mk(st, `mov ${seg}, r16`, [], [0x8e, 0xc0 | (SEG_NAMES.indexOf(seg) << 3) | r], { group, segWrites: seg === 'cs' ? [] : [seg] }),
  ];
};

/** Ring 3 only: instructions that must raise #GP (HLT, MOV CRn, CLTS, LGDT, INVD, RDMSR ...) or depend on IOPL (CLI/STI). */
export const privileged: Family = (st) => {
  const rng = st.rng;
  const forms: [string, number[]][] = [
    ['hlt', [0xf4]], ['cli', [0xfa]], ['sti', [0xfb]], ['mov eax, cr0', [0x0f, 0x20, 0xc0]],
    ['mov cr0, eax', [0x0f, 0x22, 0xc0]], ['clts', [0x0f, 0x06]], ['invd', [0x0f, 0x08]],
    ['wbinvd', [0x0f, 0x09]], ['rdmsr', [0x0f, 0x32]], ['wrmsr', [0x0f, 0x30]], ['mov eax, dr7', [0x0f, 0x21, 0xf8]],
  ];
  if (rng.chance(0.2)) {
    const m = memOperand(st, { size: 6 });
    if (!m) return undefined;
    const sub = rng.pick([2, 3, 7]);
    return [mk(st, ['', '', 'lgdt m', 'lidt m', '', '', '', 'invlpg m'][sub], m.prefixes, [0x0f, 0x01, ...m.modrm(sub)], { addrRegs: m.uses })];
  }
  const [form, body] = rng.pick(forms);
  return [mk(st, form, [], body)];
};

/** NOP forms: 90, 66 90, 0F 1F /0 with any operand (nothing is accessed). */
export const nop: Family = (st) => {
  const rng = st.rng;
  // PAUSE (F3 90) is left out: QEMU's gdbstub single-step runs the instruction after it too.
  switch (rng.below(3)) {
    case 0: return [mk(st, 'nop', [], [0x90])];
    case 1: return [mk(st, 'nop (66)', [0x66], [0x90])];
    default: {
      const mod = rng.below(4);
      const rm = rng.below(8);
      const body = [0x0f, 0x1f, (mod << 6) | rm];
      if (st.default32 && mod !== 3 && rm === 4) body.push(rng.below(256) & 0xc7 | 0x20); // SIB, no index
      if (mod === 1) body.push(rng.below(256));
      else if (mod === 2 || (mod === 0 && (st.default32 ? rm === 5 || (rm === 4 && (body[3] & 7) === 5) : rm === 6))) body.push(...le(rng.u32(), st.default32 ? 4 : 2));
      return [mk(st, 'nop rm', [], body)];
    }
  }
};

/**
 * Random instruction families, part 1: integer arithmetic, logic, shifts, bit operations, moves,
 * exchanges and LEA, in every operand size (8/16/32 through the 66 prefix), register and memory
 * forms (16- and 32-bit addressing through 67), with LOCK where it is legal.
 *
 * Each family returns the instructions it generated (usually one), or undefined when the current
 * state cannot support it (e.g. no register with a known value for a memory bit offset).
 * Reference: Intel SDM Vol. 2, the instruction pages and Appendix A opcode maps.
 */
import {
  EAX, ECX, EDX, P_LOCK, absOperand, assembleInsn, clobber, destReg, edgeValue, gprOf, imm, le, memOperand,
  osizePrefix, pickOpSize, regRm, rmOperand, type GenInsn, type GenState,
} from './gen-state';

/** A family of instructions the generator draws from. */
export type Family = (st: GenState) => GenInsn[] | undefined;

/** Builds a GenInsn from prefixes and body. */
export function mk(st: GenState, form: string, prefixes: number[], body: number[], extra: Partial<GenInsn> = {}): GenInsn {
  return { bytes: assembleInsn(st, prefixes, body), form, addrRegs: [], writes: [], ...extra };
}

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const SHIFTS = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];
/** Shift and rotate counts worth trying (masking to 5 bits, operand-size and 9/17 boundaries). */
const SHIFT_COUNTS = [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 63, 255];

const bitsOf = (size: number): number => size * 8;
const lockIf = (st: GenState, isMem: boolean, writes: boolean, p = 0.3): number[] => (isMem && writes && st.rng.chance(p) ? [P_LOCK] : []);

/** ADD OR ADC SBB AND SUB XOR CMP in all six encodings (00-3F) and groups 80/81/82/83. */
export const alu: Family = (st) => {
  const rng = st.rng;
  const op = rng.below(8);
  const { size, prefixes } = pickOpSize(st, true);
  const w = size === 1 ? 0 : 1;
  const writes = op !== 7;
  const name = `${ALU[op]}`;
  switch (rng.below(4)) {
    case 0: {
      const rm = rmOperand(st, size, { write: writes });
      if (!rm) return undefined;
      const src = rng.below(8);
      return [mk(st, `${name} rm${bitsOf(size)}, r`, [...prefixes, ...rm.prefixes, ...lockIf(st, rm.reg === undefined, writes)], [op * 8 + w, ...rm.modrm(src)],
        { addrRegs: rm.uses, writes: writes && rm.reg !== undefined ? [gprOf(rm.reg, size)] : [] })];
    }
    case 1: {
      const rm = rmOperand(st, size, { write: false });
      if (!rm) return undefined;
      const dst = writes ? destReg(st, size) : rng.below(8);
      return [mk(st, `${name} r${bitsOf(size)}, rm`, [...prefixes, ...rm.prefixes], [op * 8 + 2 + w, ...rm.modrm(dst)],
        { addrRegs: rm.uses, writes: writes ? [gprOf(dst, size)] : [] })];
    }
    case 2:
      return [mk(st, `${name} acc${bitsOf(size)}, imm`, prefixes, [op * 8 + 4 + w, ...imm(st, size).bytes], { writes: writes ? [EAX] : [] })];
    default: {
      const opcode = size === 1 ? rng.pick([0x80, 0x80, 0x80, 0x82]) : rng.pick([0x81, 0x83]);
      const rm = rmOperand(st, size, { write: writes });
      if (!rm) return undefined;
      const immSize = opcode === 0x81 ? size : 1;
      return [mk(st, `${name} rm${bitsOf(size)}, imm${bitsOf(immSize)} (${opcode.toString(16)})`,
        [...prefixes, ...rm.prefixes, ...lockIf(st, rm.reg === undefined, writes)], [opcode, ...rm.modrm(op), ...imm(st, immSize).bytes],
        { addrRegs: rm.uses, writes: writes && rm.reg !== undefined ? [gprOf(rm.reg, size)] : [] })];
    }
  }
};

/** INC/DEC (short 40-4F forms and FE/FF /0 /1), NOT/NEG (F6/F7 /2 /3). */
export const unary: Family = (st) => {
  const rng = st.rng;
  const kind = rng.below(3);
  if (kind === 0) {
    const { size, prefixes } = pickOpSize(st, false);
    const r = destReg(st, size);
    const dec = rng.chance(0.5);
    return [mk(st, `${dec ? 'dec' : 'inc'} r${bitsOf(size)}`, prefixes, [(dec ? 0x48 : 0x40) + r], { writes: [r] })];
  }
  const { size, prefixes } = pickOpSize(st, true);
  const rm = rmOperand(st, size, { write: true });
  if (!rm) return undefined;
  const sub = kind === 1 ? rng.below(2) : 2 + rng.below(2);
  const opcode = kind === 1 ? (size === 1 ? 0xfe : 0xff) : size === 1 ? 0xf6 : 0xf7;
  return [mk(st, `${['inc', 'dec', 'not', 'neg'][sub]} rm${bitsOf(size)}`, [...prefixes, ...rm.prefixes, ...lockIf(st, rm.reg === undefined, true)],
    [opcode, ...rm.modrm(sub)], { addrRegs: rm.uses, writes: rm.reg !== undefined ? [gprOf(rm.reg, size)] : [] })];
};

/** TEST in 84/85, A8/A9 and F6/F7 /0. */
export const test: Family = (st) => {
  const rng = st.rng;
  const { size, prefixes } = pickOpSize(st, true);
  const w = size === 1 ? 0 : 1;
  const form = rng.below(3);
  if (form === 1) return [mk(st, `test acc${bitsOf(size)}, imm`, prefixes, [0xa8 + w, ...imm(st, size).bytes])];
  const rm = rmOperand(st, size, { write: false });
  if (!rm) return undefined;
  if (form === 0) return [mk(st, `test rm${bitsOf(size)}, r`, [...prefixes, ...rm.prefixes], [0x84 + w, ...rm.modrm(rng.below(8))], { addrRegs: rm.uses })];
  // F6/F7 /1 is left out: real CPUs run it as TEST, QEMU 7.2 raises #UD, the SDM leaves it blank.
  return [mk(st, `test rm${bitsOf(size)}, imm`, [...prefixes, ...rm.prefixes], [0xf6 + w, ...rm.modrm(0), ...imm(st, size).bytes], { addrRegs: rm.uses })];
};

/** MUL/IMUL/DIV/IDIV (F6/F7 /4-/7), sometimes after the CDQ / XOR EDX,EDX a compiler would emit. */
export const mulDiv: Family = (st) => {
  const rng = st.rng;
  const sub = rng.below(4) + 4;
  const { size, prefixes } = pickOpSize(st, true);
  const writes = size === 1 ? [EAX] : [EAX, EDX];
  let setup: GenInsn | undefined;
  if (sub >= 6 && rng.chance(0.5)) {
    if (size === 1) setup = sub === 6 ? mk(st, 'mov ah, 0', [], [0xb4, 0x00], { writes: [EAX] }) : mk(st, 'cbw', osizePrefix(st, 2), [0x98], { writes: [EAX] });
    else if (sub === 6) setup = mk(st, 'xor edx, edx', prefixes, [0x31, 0xd2], { writes: [EDX] });
    else setup = mk(st, 'cdq', prefixes, [0x99], { writes: [EDX] });
    clobber(st, setup.writes); // the divisor's address must not use what the setup changes
  }
  const rm = rmOperand(st, size, { write: false });
  if (!rm) return undefined;
  const main = mk(st, `${['mul', 'imul', 'div', 'idiv'][sub - 4]} rm${bitsOf(size)}`, [...prefixes, ...rm.prefixes], [size === 1 ? 0xf6 : 0xf7, ...rm.modrm(sub)],
    { addrRegs: rm.uses, writes });
  if (!setup) return [main];
  setup.group = main.group = st.nextGroup++;
  return [setup, main];
};

/** IMUL r, rm (0F AF), IMUL r, rm, imm (69 / 6B). */
export const imul: Family = (st) => {
  const rng = st.rng;
  const { size, prefixes } = pickOpSize(st, false);
  const rm = rmOperand(st, size, { write: false });
  if (!rm) return undefined;
  const dst = destReg(st, size);
  const form = rng.below(3);
  const body = form === 0 ? [0x0f, 0xaf, ...rm.modrm(dst)] : form === 1 ? [0x69, ...rm.modrm(dst), ...imm(st, size).bytes] : [0x6b, ...rm.modrm(dst), ...imm(st, 1).bytes];
  return [mk(st, `imul r${bitsOf(size)}, rm${form === 0 ? '' : form === 1 ? ', imm' : ', imm8'}`, [...prefixes, ...rm.prefixes], body, { addrRegs: rm.uses, writes: [dst] })];
};

/** Shifts and rotates by 1, CL and imm8, every /n including the SAL alias /6. */
export const shift: Family = (st) => {
  const rng = st.rng;
  const sub = rng.weighted([[2, 0], [2, 1], [2, 2], [2, 3], [3, 4], [3, 5], [1, 6], [3, 7]] as const);
  const { size, prefixes } = pickOpSize(st, true);
  const w = size === 1 ? 0 : 1;
  const rm = rmOperand(st, size, { write: true });
  if (!rm) return undefined;
  const how = rng.below(3);
  const extra: Partial<GenInsn> = { addrRegs: rm.uses, writes: rm.reg !== undefined ? [gprOf(rm.reg, size)] : [] };
  const name = `${SHIFTS[sub]} rm${bitsOf(size)}`;
  if (how === 0) return [mk(st, `${name}, 1`, [...prefixes, ...rm.prefixes], [0xd0 + w, ...rm.modrm(sub)], extra)];
  if (how === 1) return [mk(st, `${name}, cl`, [...prefixes, ...rm.prefixes], [0xd2 + w, ...rm.modrm(sub)], extra)];
  const count = rng.chance(0.7) ? rng.pick(SHIFT_COUNTS) : rng.below(256);
  return [mk(st, `${name}, ${count}`, [...prefixes, ...rm.prefixes], [0xc0 + w, ...rm.modrm(sub), count], extra)];
};

/** SHLD/SHRD by imm8 or CL; 16-bit forms keep the count <= 16 (larger counts leave the result undefined). */
export const doubleShift: Family = (st) => {
  const rng = st.rng;
  const { size, prefixes } = pickOpSize(st, false);
  const rm = rmOperand(st, size, { write: true });
  if (!rm) return undefined;
  const right = rng.chance(0.5);
  let useCl = rng.chance(0.5);
  if (useCl && size === 2 && !(st.known[ECX] && (st.regs[ECX] & 31) <= 16)) useCl = false;
  const src = rng.below(8);
  const extra: Partial<GenInsn> = { addrRegs: useCl && size === 2 ? [...rm.uses, ECX] : rm.uses, writes: rm.reg !== undefined ? [rm.reg] : [] };
  const name = `${right ? 'shrd' : 'shld'} rm${bitsOf(size)}, r`;
  if (useCl) return [mk(st, `${name}, cl`, [...prefixes, ...rm.prefixes], [0x0f, right ? 0xad : 0xa5, ...rm.modrm(src)], extra)];
  let count = rng.chance(0.7) ? rng.pick(SHIFT_COUNTS) : rng.below(256);
  if (size === 2 && (count & 31) > 16) count &= 15;
  return [mk(st, `${name}, ${count}`, [...prefixes, ...rm.prefixes], [0x0f, right ? 0xac : 0xa4, ...rm.modrm(src), count], extra)];
};

/** BT/BTS/BTR/BTC with register and immediate offsets (memory + register offset only when the offset is known and small), BSF/BSR. */
export const bitOps: Family = (st) => {
  const rng = st.rng;
  const { size, prefixes } = pickOpSize(st, false);
  if (rng.chance(0.25)) {
    const rm = rmOperand(st, size, { write: false });
    if (!rm) return undefined;
    const dst = destReg(st, size);
    const rev = rng.chance(0.5);
    return [mk(st, `${rev ? 'bsr' : 'bsf'} r${bitsOf(size)}, rm`, [...prefixes, ...rm.prefixes], [0x0f, rev ? 0xbd : 0xbc, ...rm.modrm(dst)], { addrRegs: rm.uses, writes: [dst] })];
  }
  const kind = rng.below(4);
  const writes = kind !== 0;
  const name = ['bt', 'bts', 'btr', 'btc'][kind];
  const form = rng.below(3);
  if (form === 0) {
    const rm = rmOperand(st, size, { write: writes });
    if (!rm) return undefined;
    return [mk(st, `${name} rm${bitsOf(size)}, imm8`, [...prefixes, ...rm.prefixes, ...lockIf(st, rm.reg === undefined, writes)], [0x0f, 0xba, ...rm.modrm(4 + kind), rng.chance(0.5) ? rng.below(bitsOf(size)) : rng.below(256)],
      { addrRegs: rm.uses, writes: writes && rm.reg !== undefined ? [rm.reg] : [] })];
  }
  const opcode = [0xa3, 0xab, 0xb3, 0xbb][kind];
  if (form === 1) {
    const dst = writes ? destReg(st, size) : rng.below(8);
    return [mk(st, `${name} r${bitsOf(size)}, r`, prefixes, [0x0f, opcode, ...regRm(dst).modrm(rng.below(8))], { writes: writes ? [dst] : [] })];
  }
  // Memory operand with a register bit offset: the offset reaches (offset >> 3) bytes away.
  const signed = (v: number): number => (size === 2 ? ((v & 0xffff) << 16) >> 16 : v | 0);
  const offsets = [0, 1, 2, 3, 5, 6, 7].filter((r) => st.known[r] && Math.abs(signed(st.regs[r])) < 256);
  if (offsets.length === 0) return undefined;
  const bitReg = rng.pick(offsets);
  const m = memOperand(st, { size, write: writes, margin: 40 });
  if (!m) return undefined;
  return [mk(st, `${name} m${bitsOf(size)}, r (bit offset ${signed(st.regs[bitReg])})`, [...prefixes, ...m.prefixes, ...lockIf(st, true, writes)], [0x0f, opcode, ...m.modrm(bitReg)],
    { addrRegs: [...m.uses, bitReg] })];
};

/** SETcc rm8 (random, ignored reg field) and CMOVcc r, rm. */
export const condMove: Family = (st) => {
  const rng = st.rng;
  const cc = rng.below(16);
  if (rng.chance(0.4)) {
    const rm = rmOperand(st, 1, { write: true });
    if (!rm) return undefined;
    return [mk(st, `setcc(${cc}) rm8`, rm.prefixes, [0x0f, 0x90 + cc, ...rm.modrm(rng.chance(0.8) ? 0 : rng.below(8))], { addrRegs: rm.uses, writes: rm.reg !== undefined ? [gprOf(rm.reg, 1)] : [] })];
  }
  const { size, prefixes } = pickOpSize(st, false);
  const rm = rmOperand(st, size, { write: false });
  if (!rm) return undefined;
  const dst = destReg(st, size);
  return [mk(st, `cmovcc(${cc}) r${bitsOf(size)}, rm`, [...prefixes, ...rm.prefixes], [0x0f, 0x40 + cc, ...rm.modrm(dst)], { addrRegs: rm.uses, writes: [dst] })];
};

/** MOV in 88-8B, C6/C7, B0-BF and A0-A3 (moffs); MOVZX/MOVSX. */
export const mov: Family = (st) => {
  const rng = st.rng;
  const form = rng.below(6);
  if (form === 5) {
    const op = rng.pick([0xb6, 0xb7, 0xbe, 0xbf]);
    const srcSize = op & 1 ? 2 : 1;
    const { size, prefixes } = pickOpSize(st, false);
    const rm = rmOperand(st, srcSize, { write: false });
    if (!rm) return undefined;
    const dst = destReg(st, size);
    return [mk(st, `${op < 0xbe ? 'movzx' : 'movsx'} r${bitsOf(size)}, rm${srcSize * 8}`, [...prefixes, ...rm.prefixes], [0x0f, op, ...rm.modrm(dst)], { addrRegs: rm.uses, writes: [dst] })];
  }
  const { size, prefixes } = pickOpSize(st, true);
  const w = size === 1 ? 0 : 1;
  if (form === 0) {
    const rm = rmOperand(st, size, { write: true });
    if (!rm) return undefined;
    return [mk(st, `mov rm${bitsOf(size)}, r`, [...prefixes, ...rm.prefixes], [0x88 + w, ...rm.modrm(rng.below(8))], { addrRegs: rm.uses, writes: rm.reg !== undefined ? [gprOf(rm.reg, size)] : [] })];
  }
  if (form === 1) {
    const rm = rmOperand(st, size, { write: false });
    if (!rm) return undefined;
    const dst = destReg(st, size);
    return [mk(st, `mov r${bitsOf(size)}, rm`, [...prefixes, ...rm.prefixes], [0x8a + w, ...rm.modrm(dst)], { addrRegs: rm.uses, writes: [gprOf(dst, size)] })];
  }
  if (form === 2) {
    const rm = rmOperand(st, size, { write: true });
    if (!rm) return undefined;
    return [mk(st, `mov rm${bitsOf(size)}, imm`, [...prefixes, ...rm.prefixes], [0xc6 + w, ...rm.modrm(0), ...imm(st, size).bytes], { addrRegs: rm.uses, writes: rm.reg !== undefined ? [gprOf(rm.reg, size)] : [] })];
  }
  if (form === 3) {
    const dst = destReg(st, size);
    return [mk(st, `mov r${bitsOf(size)}, imm`, prefixes, [(size === 1 ? 0xb0 : 0xb8) + dst, ...imm(st, size).bytes], { writes: [gprOf(dst, size)] })];
  }
  // moffs: the instruction carries the whole offset, as wide as the address size.
  const m = absOperand(st, size, true);
  if (!m) return undefined;
  const store = rng.chance(0.5);
  return [mk(st, `mov ${store ? 'moffs, acc' : 'acc, moffs'}${bitsOf(size)}`, [...prefixes, ...m.prefixes], [(store ? 0xa2 : 0xa0) + w, ...m.offset], { writes: store ? [] : [EAX] })];
};

/** XCHG (86/87, 90+r), XADD, CMPXCHG, CMPXCHG8B, BSWAP. */
export const exchange: Family = (st) => {
  const rng = st.rng;
  const kind = rng.below(6);
  if (kind === 5) {
    const r = destReg(st, 4);
    return [mk(st, 'bswap r32', osizePrefix(st, 4), [0x0f, 0xc8 + r], { writes: [r] })];
  }
  if (kind === 4) {
    if (rng.chance(0.03)) return [mk(st, 'cmpxchg8b reg (#UD)', [], [0x0f, 0xc7, 0xc8 | rng.below(8)])];
    const m = memOperand(st, { size: 8, write: true });
    if (!m) return undefined;
    return [mk(st, 'cmpxchg8b m64', [...m.prefixes, ...(rng.chance(0.4) ? [P_LOCK] : [])], [0x0f, 0xc7, ...m.modrm(1)], { addrRegs: m.uses, writes: [EAX, EDX] })];
  }
  if (kind === 3) {
    const { size, prefixes } = pickOpSize(st, false);
    const r = destReg(st, size);
    if (r === EAX) return [mk(st, 'nop (xchg eax, eax)', prefixes, [0x90])];
    return [mk(st, `xchg acc${bitsOf(size)}, r`, prefixes, [0x90 + r], { writes: [EAX, r] })];
  }
  const { size, prefixes } = pickOpSize(st, true);
  const w = size === 1 ? 0 : 1;
  const rm = rmOperand(st, size, { write: true });
  if (!rm) return undefined;
  const reg = destReg(st, size);
  const isMem = rm.reg === undefined;
  const rmWrites = rm.reg !== undefined ? [gprOf(rm.reg, size)] : [];
  if (kind === 0) {
    return [mk(st, `xchg rm${bitsOf(size)}, r`, [...prefixes, ...rm.prefixes, ...lockIf(st, isMem, true, 0.2)], [0x86 + w, ...rm.modrm(reg)], { addrRegs: rm.uses, writes: [gprOf(reg, size), ...rmWrites] })];
  }
  if (kind === 1) {
    return [mk(st, `xadd rm${bitsOf(size)}, r`, [...prefixes, ...rm.prefixes, ...lockIf(st, isMem, true)], [0x0f, 0xc0 + w, ...rm.modrm(reg)], { addrRegs: rm.uses, writes: [gprOf(reg, size), ...rmWrites] })];
  }
  return [mk(st, `cmpxchg rm${bitsOf(size)}, r`, [...prefixes, ...rm.prefixes, ...lockIf(st, isMem, true)], [0x0f, 0xb0 + w, ...rm.modrm(rng.below(8))], { addrRegs: rm.uses, writes: [EAX, ...rmWrites] })];
};

/** LEA with any ModRM/SIB/displacement (nothing is accessed), rarely the #UD register form. */
export const lea: Family = (st) => {
  const rng = st.rng;
  const { size, prefixes } = pickOpSize(st, false);
  const dst = destReg(st, size);
  const asize = rng.chance(0.2) ? [0x67] : [];
  if (rng.chance(0.03)) return [mk(st, 'lea r, reg (#UD)', prefixes, [0x8d, 0xc0 | (dst << 3) | rng.below(8)])];
  const addr32 = (asize.length === 0) === st.default32;
  const mod = rng.below(3);
  const rm = rng.below(8);
  const body = [0x8d, (mod << 6) | (dst << 3) | rm];
  if (addr32) {
    if (rm === 4) body.push(rng.below(256));
    const sibBase = rm === 4 ? body[2] & 7 : -1;
    if (mod === 1) body.push(rng.below(256));
    else if (mod === 2 || (mod === 0 && (rm === 5 || sibBase === 5))) body.push(...le(edgeValue(rng, 4), 4));
  } else if (mod === 1) body.push(rng.below(256));
  else if (mod === 2 || (mod === 0 && rm === 6)) body.push(...le(edgeValue(rng, 2), 2));
  return [mk(st, `lea r${bitsOf(size)}, m (${addr32 ? 32 : 16}-bit address)`, [...prefixes, ...asize], body, { writes: [dst] })];
};

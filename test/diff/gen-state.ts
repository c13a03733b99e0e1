/**
 * Generator state for one random case, and the encoding helpers every instruction family uses:
 * register choice, biased immediates, prefixes, and memory operands (ModRM/SIB/displacement)
 * that provably land in the data window.
 *
 * Safety rule: the generator never simulates instructions, so it only knows a register's value
 * while no generated instruction has written it ("known" = still the initial value). Memory
 * operands, string pointers, REP counts and stack pointers are built only from known registers,
 * with displacements computed so the effective address lands in the data window.
 *
 * Reference: Intel SDM Vol. 2, 2.1 (instruction format), Tables 2-1/2-2 (16/32-bit ModRM),
 * Table 2-3 (SIB), 3.1.1.3 (operand-size and address-size attributes).
 */
import type { CaseEnv, ProgramInsn, RegName } from './case';
import { GPR_NAMES } from './case';
import type { Rng } from './rng';

/** Register numbers in encoding order. */
export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;
/** Segment registers in encoding order (ModRM reg field of MOV Sreg). */
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;
/** One segment register. */
export type SegName = (typeof SEG_NAMES)[number];
/** Segment-override prefix per segment register. */
export const SEG_PREFIX: Record<SegName, number> = { es: 0x26, cs: 0x2e, ss: 0x36, ds: 0x3e, fs: 0x64, gs: 0x65 };
/** Operand-size override. */
export const P_OSIZE = 0x66;
/** Address-size override. */
export const P_ASIZE = 0x67;
/** LOCK prefix. */
export const P_LOCK = 0xf0;
/** REPNE/REPNZ prefix. */
export const P_REPNE = 0xf2;
/** REP/REPE/REPZ prefix. */
export const P_REP = 0xf3;

/** Generated instruction plus what the generator needs to know about it. */
export interface GenInsn extends ProgramInsn {
  /** Registers read to form addresses or counts (must not change inside a loop body). */
  addrRegs: number[];
  /** Registers written. */
  writes: number[];
  /** Pushes, pops or otherwise moves ESP. */
  stack?: boolean;
  /** Segment registers it loads. */
  segWrites?: SegName[];
  /** A branch that may go backwards (LOOP family). */
  mayLoop?: boolean;
  /** Bytes after the fixup field (a far pointer's selector); 0 when the field ends the instruction. */
  fixupTail?: number;
}

/** Everything the generator knows while building one case. */
export interface GenState {
  rng: Rng;
  env: CaseEnv;
  /** Default operand and address size is 32 bits (protected mode) or 16 (real mode). */
  default32: boolean;
  /** Initial register values. */
  regs: number[];
  /** Register still holds its initial value. */
  known: boolean[];
  /** Registers the case's correctness depends on (the minimiser must leave them alone). */
  pinned: Set<RegName>;
  /** Initial segment bases, and whether each segment register still has them. */
  segBase: Record<SegName, number>;
  segKnown: Record<SegName, boolean>;
  /** Linear bounds of the data window that memory operands may touch. */
  winLo: number;
  winHi: number;
  /** Linear address of the not-present page (for deliberate page faults with paging). */
  npPage: number;
  /** Instructions so far. */
  insns: GenInsn[];
  /** Number of instructions the case should have. */
  target: number;
  nextGroup: number;
  /** Net bytes pushed so far (kept within STACK_SLACK so ESP stays in the window). */
  stackBytes: number;
}

/** How far the generated code may move ESP from its initial value, either way. */
export const STACK_SLACK = 0x100;

/** True when `reg` still holds its initial value and, as an offset in `seg`, points into the
 *  window with `margin` bytes to spare on both sides (16-bit address size uses the low half). */
export function isPointer(st: GenState, reg: number, seg: SegName, margin: number, addr32 = st.default32): boolean {
  if (!st.known[reg] || !st.segKnown[seg]) return false;
  const offset = addr32 ? st.regs[reg] : st.regs[reg] & 0xffff;
  const linear = st.segBase[seg] + offset;
  return linear >= st.winLo + margin && linear <= st.winHi - margin;
}

/** Little-endian bytes of a value of `size` bytes. */
export function le(value: number, size: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < size; i++) out.push((value >>> (8 * i)) & 0xff);
  return out;
}

/** Fits a signed 8-bit displacement. */
export function fitsS8(v: number): boolean {
  return v >= -128 && v <= 127;
}

/** Interesting values of each size, biased towards the edges where flags change. */
export function edgeValue(rng: Rng, size: number): number {
  const bits = size * 8;
  const mask = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  const sign = bits === 32 ? 0x80000000 : 1 << (bits - 1);
  const choice = rng.below(14);
  switch (choice) {
    case 0: return 0;
    case 1: return 1;
    case 2: return 2;
    case 3: return mask >>> 0;
    case 4: return (mask - 1) >>> 0;
    case 5: return (sign - 1) >>> 0;
    case 6: return sign >>> 0;
    case 7: return (sign + 1) >>> 0;
    case 8: return rng.below(16);
    case 9: return (mask - rng.below(16)) >>> 0;
    case 10: return (rng.u32() & 0x0f0f0f0f & mask) >>> 0;
    case 11: return rng.pick([0x80, 0x7f, 0xff, 0x100, 0x8000, 0xffff, 0x10000, 0x7fff]) & mask;
    default: return (rng.u32() & mask) >>> 0;
  }
}

/** A random initial register value: edges, small numbers or anything. */
export function randomRegValue(rng: Rng): number {
  return rng.chance(0.6) ? edgeValue(rng, rng.pick([1, 2, 4, 4])) : rng.u32();
}

/** Operand size in bytes for a "v" operand, and whether it needs the 66 prefix. */
export function pickOpSize(st: GenState, allowByte: boolean): { size: number; prefixes: number[] } {
  const r = st.rng.below(allowByte ? 10 : 7);
  if (allowByte && r < 3) return { size: 1, prefixes: [] };
  const wide = r % 7 < 4 ? st.default32 : !st.default32;
  const size = wide ? 4 : 2;
  return { size, prefixes: wide === st.default32 ? [] : [P_OSIZE] };
}

/** The prefix that selects operand size `size` (2 or 4) in this mode, if any. */
export function osizePrefix(st: GenState, size: number): number[] {
  return (size === 4) === st.default32 ? [] : [P_OSIZE];
}

/** A register to write: never ESP/SP (it must keep pointing into the window). */
export function destReg(st: GenState, size: number): number {
  for (;;) {
    const r = st.rng.below(8);
    if (size === 1 || r !== ESP) return r;
  }
}

/** The general register an 8-bit register number belongs to (AH -> EAX). */
export function gprOf(reg: number, size: number): number {
  return size === 1 ? reg & 3 : reg;
}

/** Marks registers as no longer holding their initial value. */
export function clobber(st: GenState, regs: number[]): void {
  for (const r of regs) st.known[r] = false;
}

/** An immediate of `size` bytes (biased), as bytes. */
export function imm(st: GenState, size: number): { value: number; bytes: number[] } {
  const value = edgeValue(st.rng, size);
  return { value, bytes: le(value, size) };
}

/** A memory operand: prefixes it needs, the ModRM tail for a reg field, and registers it uses. */
export interface MemOperand {
  prefixes: number[];
  modrm(reg: number): number[];
  uses: number[];
  /** Linear address of the first byte accessed. */
  linear: number;
}

/** Options for a memory operand. */
export interface MemOptions {
  /** Bytes accessed from the effective address. */
  size: number;
  /** Keep this many bytes of slack on both sides (for bit offsets, pushes with ESP base ...). */
  margin?: number;
  /** The access writes (CS overrides are then not used). */
  write?: boolean;
  /** Never use a segment override. */
  noOverride?: boolean;
  /** Never use the address-size prefix. */
  noAsize?: boolean;
}

const MODRM16: { rm: number; regs: number[]; ss: boolean }[] = [
  { rm: 0, regs: [EBX, ESI], ss: false },
  { rm: 1, regs: [EBX, EDI], ss: false },
  { rm: 2, regs: [EBP, ESI], ss: true },
  { rm: 3, regs: [EBP, EDI], ss: true },
  { rm: 4, regs: [ESI], ss: false },
  { rm: 5, regs: [EDI], ss: false },
  { rm: 6, regs: [EBP], ss: true },
  { rm: 7, regs: [EBX], ss: false },
];

/** Picks the segment an access uses (default or a known override). */
function pickSegment(st: GenState, defaultSeg: SegName, o: MemOptions): { seg: SegName; prefix: number[] } | undefined {
  if (!o.noOverride && st.rng.chance(0.2)) {
    const options = SEG_NAMES.filter((s) => st.segKnown[s] && !(o.write && s === 'cs' && st.env.mode !== 'real'));
    if (options.length > 0) {
      const seg = st.rng.pick(options);
      return { seg, prefix: [SEG_PREFIX[seg]] };
    }
  }
  return st.segKnown[defaultSeg] ? { seg: defaultSeg, prefix: [] } : undefined;
}

/** Chooses a linear target address for an access of `size` bytes. */
export function pickTarget(st: GenState, size: number, margin: number): number {
  const lo = st.winLo + margin;
  let hi = st.winHi - size - margin;
  if (st.env.paging && st.rng.chance(0.05)) hi = st.npPage + 8 - size; // may cross into the not-present page
  let t = st.rng.range(lo, Math.max(lo, hi));
  if (st.rng.chance(0.5)) t &= ~(Math.min(size, 8) - 1);
  return Math.max(lo, t);
}

/** Builds a memory operand whose effective address lands in the data window; undefined if impossible. */
export function memOperand(st: GenState, o: MemOptions): MemOperand | undefined {
  const rng = st.rng;
  const margin = o.margin ?? 0;
  const target = pickTarget(st, o.size, margin);
  const addr32 = o.noAsize || !rng.chance(0.2) ? st.default32 : !st.default32;
  const prefixes = addr32 === st.default32 ? [] : [P_ASIZE];
  const known = [0, 1, 2, 3, 4, 5, 6, 7].filter((r) => st.known[r]);
  if (!addr32) {
    const forms = MODRM16.filter((f) => f.regs.every((r) => st.known[r]));
    const useDispOnly = forms.length === 0 || rng.chance(0.15);
    const f = useDispOnly ? undefined : rng.pick(forms);
    const seg = pickSegment(st, f?.ss ? 'ss' : 'ds', o);
    if (!seg) return undefined;
    const offset = (target - st.segBase[seg.seg]) >>> 0;
    if (offset > 0xffff) return undefined;
    if (!f) {
      return { prefixes: [...prefixes, ...seg.prefix], modrm: (reg) => [(reg << 3) | 6, ...le(offset, 2)], uses: [], linear: target };
    }
    const sum = f.regs.reduce((a, r) => a + (st.regs[r] & 0xffff), 0);
    const disp = (offset - sum) & 0xffff;
    const sdisp = disp >= 0x8000 ? disp - 0x10000 : disp;
    let mod: number;
    if (disp === 0 && f.rm !== 6 && rng.chance(0.6)) mod = 0;
    else if (fitsS8(sdisp) && rng.chance(0.8)) mod = 1;
    else mod = 2;
    const dispBytes = mod === 0 ? [] : mod === 1 ? [sdisp & 0xff] : le(disp, 2);
    return { prefixes: [...prefixes, ...seg.prefix], modrm: (reg) => [(mod << 6) | (reg << 3) | f.rm, ...dispBytes], uses: f.regs, linear: target };
  }
  // 32-bit addressing.
  const form = rng.weighted([[1, 'disp'], [3, 'base'], [4, 'sib'], [1, 'index'], [1, 'sib-noindex']] as const);
  let base: number | undefined;
  let index: number | undefined;
  let scale = rng.below(4);
  if (form !== 'disp') {
    if (form === 'base' || form === 'sib' || form === 'sib-noindex') {
      if (known.length === 0) return undefined;
      base = rng.pick(known);
    }
    if (form === 'sib' || form === 'index') {
      const idx = known.filter((r) => r !== ESP);
      if (idx.length === 0) return undefined;
      index = rng.pick(idx);
    }
  }
  const seg = pickSegment(st, base === EBP || base === ESP ? 'ss' : 'ds', o);
  if (!seg) return undefined;
  const offset = (target - st.segBase[seg.seg]) >>> 0;
  const sum = (base !== undefined ? st.regs[base] : 0) + (index !== undefined ? st.regs[index] * (1 << scale) : 0);
  const disp = (offset - sum) >>> 0;
  const sdisp = disp | 0;
  const needSib = form === 'sib' || form === 'index' || form === 'sib-noindex' || base === ESP;
  let mod: number;
  if (base === undefined) mod = 0; // disp32 with no base
  else if (disp === 0 && base !== EBP && rng.chance(0.6)) mod = 0;
  else if (fitsS8(sdisp) && rng.chance(0.8)) mod = 1;
  else mod = 2;
  if (base !== undefined && mod === 0 && disp !== 0) mod = 2;
  const dispBytes = base === undefined ? le(disp, 4) : mod === 0 ? [] : mod === 1 ? [sdisp & 0xff] : le(disp, 4);
  const uses = [base, index].filter((r): r is number => r !== undefined);
  if (!needSib) {
    const rm = base === undefined ? 5 : base;
    return { prefixes: [...prefixes, ...seg.prefix], modrm: (reg) => [(mod << 6) | (reg << 3) | rm, ...dispBytes], uses, linear: target };
  }
  const sibBase = base === undefined ? 5 : base;
  const sibIndex = index === undefined ? 4 : index;
  if (index === undefined) scale = rng.below(4); // ignored by the CPU when there is no index
  const sib = (scale << 6) | (sibIndex << 3) | sibBase;
  return { prefixes: [...prefixes, ...seg.prefix], modrm: (reg) => [(mod << 6) | (reg << 3) | 4, sib, ...dispBytes], uses, linear: target };
}

/** An absolute offset operand (moffs, XLAT-free forms): prefixes, offset bytes, linear address. */
export function absOperand(st: GenState, size: number, write: boolean): { prefixes: number[]; offset: number[]; linear: number } | undefined {
  const addr32 = st.rng.chance(0.2) ? !st.default32 : st.default32;
  const seg = pickSegment(st, 'ds', { size, write });
  if (!seg) return undefined;
  const target = pickTarget(st, size, 0);
  const offset = (target - st.segBase[seg.seg]) >>> 0;
  if (!addr32 && offset > 0xffff) return undefined;
  return { prefixes: [...(addr32 === st.default32 ? [] : [P_ASIZE]), ...seg.prefix], offset: le(offset, addr32 ? 4 : 2), linear: target };
}

/** An operand that is a register or memory (ModRM r/m). */
export interface RmOperand {
  prefixes: number[];
  modrm(reg: number): number[];
  /** The register number when the operand is a register. */
  reg?: number;
  uses: number[];
}

/** A register r/m operand. */
export function regRm(reg: number): RmOperand {
  return { prefixes: [], modrm: (r) => [0xc0 | (r << 3) | reg], reg, uses: [] };
}

/** A register or memory operand; a written register operand is never ESP/SP. */
export function rmOperand(st: GenState, size: number, o: { write: boolean; memChance?: number; margin?: number }): RmOperand | undefined {
  if (st.rng.chance(o.memChance ?? 0.4)) {
    const m = memOperand(st, { size, write: o.write, margin: o.margin });
    if (m) return { prefixes: m.prefixes, modrm: m.modrm, uses: m.uses };
  }
  return regRm(o.write ? destReg(st, size) : st.rng.below(8));
}

/** Shuffles prefixes (their order has no architectural meaning) and returns the final bytes. */
export function assembleInsn(st: GenState, prefixes: number[], body: number[]): number[] {
  const p = [...prefixes];
  for (let i = p.length - 1; i > 0; i--) {
    const j = st.rng.below(i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return [...p, ...body];
}

/** Registers' names, for pinning. */
export function regNames(regs: number[]): RegName[] {
  return regs.map((r) => GPR_NAMES[r]);
}

/**
 * The seeded random case generator: case (seed, index) is always the same case. It picks an
 * environment (32-bit protected mode in ring 0 or 3, with or without paging, or real mode),
 * initial registers biased to edge values with some of them pointing into the data window,
 * random data, and a sequence of 1-8 instructions from the families in gen-arith.ts and
 * gen-control.ts, then encodes it with its branch fixups.
 *
 * The encoder is our own (no nasm per batch): it lets us emit forms an assembler would not
 * (redundant prefixes in random order, alias opcodes 82 and F6 /1, SIB bytes with no index and
 * random scale, non-minimal displacements), and keeps generation in-process and fast.
 */
import {
  CR0_ET, CR0_PE, CR0_PG, CR0_WP, FLAG, GPR_NAMES, STATUS_FLAGS,
  type CaseEnv, type DiffCase, type HarnessRegs, type InsnFixup, type ProgramInsn, type RegName,
} from './case';
import { alu, bitOps, condMove, doubleShift, exchange, imul, lea, mov, mulDiv, shift, test, unary, type Family } from './gen-arith';
import { branch, far, misc, nop, privileged, segLoad, stack, string, traps } from './gen-control';
import { clobber, ESP, randomRegValue, regNames, SEG_NAMES, type GenInsn, type GenState, type SegName } from './gen-state';
import { Rng } from './rng';
import { DiffHarnessError, type RunnerLayout } from './runner-layout';

/** Options for generated cases. */
export interface GeneratorConfig {
  /** Most instructions in one case (default 8). */
  maxInsns?: number;
  /** Step limit recorded per case (default 32; loops may run longer than the sequence). */
  maxSteps?: number;
  /** Restrict environments (default: all). */
  modes?: ('pm32' | 'pm32-ring3' | 'pm32-paging' | 'real')[];
}

const DEFAULT_MAX_INSNS = 8;
const DEFAULT_MAX_STEPS = 32;
/** Attempts to draw an instruction the current state supports before falling back to NOP. */
const DRAW_ATTEMPTS = 40;

const ENVS: [number, string, CaseEnv][] = [
  [50, 'pm32', { mode: 'pm32', ring: 0, paging: false }],
  [20, 'pm32-ring3', { mode: 'pm32', ring: 3, paging: false }],
  [12, 'pm32-paging', { mode: 'pm32', ring: 0, paging: true }],
  [5, 'pm32-paging', { mode: 'pm32', ring: 3, paging: true }],
  [13, 'real', { mode: 'real', ring: 0, paging: false }],
];

const FAMILIES: [number, Family, string][] = [
  [14, alu, 'alu'], [5, unary, 'unary'], [3, test, 'test'], [5, mulDiv, 'muldiv'], [2, imul, 'imul'],
  [8, shift, 'shift'], [3, doubleShift, 'shxd'], [5, bitOps, 'bitops'], [4, condMove, 'cond'],
  [7, mov, 'mov'], [5, exchange, 'exchange'], [3, lea, 'lea'], [7, stack, 'stack'], [6, string, 'string'],
  [6, misc, 'misc'], [7, branch, 'branch'], [2, far, 'far'], [2, traps, 'traps'], [1, segLoad, 'segload'], [1, nop, 'nop'],
];

/** Byte size of a fixup field. */
export function fixupSize(kind: InsnFixup['kind']): number {
  return kind === 'rel8' ? 1 : kind === 'rel16' || kind === 'abs16' ? 2 : 4;
}

/** Encodes a program at the code window, resolving branch and address fixups. */
export function assembleProgram(program: ProgramInsn[], layout: RunnerLayout): Uint8Array {
  const addr: number[] = [];
  let pc = layout.codeWindow;
  for (const insn of program) {
    addr.push(pc);
    pc += insn.bytes.length;
  }
  const end = pc;
  const code = new Uint8Array(end - layout.codeWindow);
  program.forEach((insn, i) => {
    const bytes = insn.bytes.slice();
    if (insn.fixup) {
      const f = insn.fixup;
      const target = f.target >= program.length ? end : addr[f.target];
      const next = addr[i] + bytes.length;
      let value: number;
      // Absolute targets are offsets in CS, whose base is 0 in every environment the generator uses.
      if (f.kind === 'abs32' || f.kind === 'abs16') value = target;
      else value = target - next;
      if (f.kind === 'rel8' && (value < -128 || value > 127)) {
        throw new DiffHarnessError('diff.fixup-range', `Branch ${i} (${insn.form}) needs displacement ${value}, outside rel8.`);
      }
      for (let k = 0; k < fixupSize(f.kind); k++) bytes[f.at + k] = (value >>> (8 * k)) & 0xff;
    }
    code.set(bytes, addr[i] - layout.codeWindow);
  });
  return code;
}

/** Segment base as the runner's GDT / real-mode addressing defines it. */
function segBaseOf(sel: number, env: CaseEnv, layout: RunnerLayout): number {
  if (env.mode === 'real') return (sel & 0xffff) << 4;
  return (sel & ~3) === layout.sel.window ? layout.dataWindow : 0;
}

function pickSegments(rng: Rng, env: CaseEnv, layout: RunnerLayout): Record<SegName, number> {
  const s = layout.sel;
  if (env.mode === 'real') {
    const base = rng.pick([0, 0x600, layout.dataWindow >> 4]);
    const other = (): number => rng.pick([base, base, 0, layout.dataWindow >> 4]);
    return { es: base, cs: 0, ss: base, ds: base, fs: other(), gs: other() };
  }
  if (env.ring === 3) {
    const data = (): number => (rng.chance(0.85) ? s.data3 : s.window | 3);
    return { es: data(), cs: s.code3, ss: s.data3, ds: data(), fs: rng.pick([s.data3, s.window | 3]), gs: rng.pick([s.data3, s.window | 3]) };
  }
  const data = (): number => (rng.chance(0.8) ? s.data0 : rng.pick([s.data3, s.data16, s.window]));
  return { es: data(), cs: s.code0, ss: rng.chance(0.9) ? s.data0 : s.data16, ds: data(), fs: rng.pick([s.data0, s.data3, s.data16, s.window]), gs: rng.pick([s.data0, s.data3, s.data16, s.window]) };
}

function randomData(rng: Rng, len: number): Uint8Array {
  const data = new Uint8Array(len);
  for (let i = 0; i < len; i += 16) {
    const pattern = rng.below(10);
    for (let j = i; j < Math.min(len, i + 16); j++) {
      data[j] = pattern < 6 ? rng.below(256) : pattern < 7 ? 0 : pattern < 8 ? 0xff : rng.below(4) === 0 ? 0x80 : rng.below(8);
    }
  }
  return data;
}

/** Fixes branch targets that would skip into the middle of a group, and unsafe backward loops. */
function sanitiseBranches(insns: GenInsn[]): void {
  const n = insns.length;
  const continuation = (t: number): boolean => t > 0 && t < n && insns[t].group !== undefined && insns[t - 1].group === insns[t].group;
  insns.forEach((insn, i) => {
    if (!insn.fixup) return;
    const f = insn.fixup;
    f.target = Math.min(f.target, n);
    if (f.target > i) {
      while (continuation(f.target)) f.target++;
      return;
    }
    while (continuation(f.target)) f.target--;
    const body = insns.slice(f.target, i + 1);
    const written = new Set(body.flatMap((b) => b.writes));
    const unsafe = body.some((b) => b.stack || (b.segWrites?.length ?? 0) > 0 || b.addrRegs.some((r) => written.has(r)));
    if (unsafe) {
      f.target = i + 1;
      while (continuation(f.target)) f.target++;
      insn.mayLoop = false;
    }
  });
}

/** Generates case `index` of run `seed`. */
export function generateCase(seed: number, index: number, layout: RunnerLayout, config: GeneratorConfig = {}): DiffCase {
  const rng = new Rng(seed, index);
  const envs = ENVS.filter(([, name]) => !config.modes || config.modes.includes(name as never));
  const env = { ...rng.weighted(envs.map(([w, , e]) => [w, e] as const)) };
  const sels = pickSegments(rng, env, layout);
  const segBase = Object.fromEntries(SEG_NAMES.map((s) => [s, segBaseOf(sels[s], env, layout)])) as Record<SegName, number>;
  const winLo = layout.dataWindow;
  const winHi = layout.dataWindow + (env.paging ? layout.npPage - layout.dataWindow : layout.dataWindowSize);
  const regs: number[] = [];
  for (let r = 0; r < 8; r++) {
    const base = r === ESP ? segBase.ss : r === 7 ? segBase.es : segBase.ds;
    if (r === ESP) {
      const align = rng.weighted([[17, 4], [2, 2], [1, 1]] as const);
      regs.push((winLo + rng.range(0x180, 0x280) - base) & ~(align - 1));
    } else if (rng.chance(r >= 3 ? 0.6 : 0.25)) {
      regs.push((winLo + rng.range(0x40, 0x3c0) - base) >>> 0);
    } else if (r === 1 && rng.chance(0.4)) {
      regs.push(rng.below(21));
    } else {
      regs.push(randomRegValue(rng));
    }
    if (env.mode === 'real' && r !== ESP && rng.chance(0.2)) regs[r] = (regs[r] | (rng.u32() & 0xffff0000)) >>> 0;
  }
  const st: GenState = {
    rng, env, default32: env.mode !== 'real', regs: regs.slice(), known: regs.map(() => true), pinned: new Set<RegName>(['esp']),
    segBase, segKnown: Object.fromEntries(SEG_NAMES.map((s) => [s, true])) as Record<SegName, boolean>,
    winLo, winHi, npPage: layout.npPage, insns: [], target: rng.range(1, config.maxInsns ?? DEFAULT_MAX_INSNS), nextGroup: 1, stackBytes: 0,
  };
  const families = env.mode === 'pm32' && env.ring === 3 ? [...FAMILIES, [2, privileged, 'privileged'] as [number, Family, string]] : FAMILIES;
  while (st.insns.length < st.target) {
    let out: GenInsn[] | undefined;
    for (let attempt = 0; attempt < DRAW_ATTEMPTS && !out; attempt++) out = rng.weighted(families.map(([w, f]) => [w, f] as const))(st);
    for (const insn of out ?? nop(st)!) {
      st.insns.push(insn);
      clobber(st, insn.writes);
      if (insn.stack) st.known[ESP] = false;
      for (const s of insn.segWrites ?? []) st.segKnown[s] = false;
      for (const r of regNames(insn.addrRegs)) st.pinned.add(r);
    }
  }
  sanitiseBranches(st.insns);
  const program: ProgramInsn[] = st.insns.map((g) => {
    const p: ProgramInsn = { bytes: g.bytes, form: g.form };
    if (g.fixup) p.fixup = { ...g.fixup, at: g.bytes.length - (g.fixupTail ?? 0) - fixupSize(g.fixup.kind) };
    if (g.group !== undefined) p.group = g.group;
    return p;
  });
  const iopl = env.ring === 3 ? rng.pick([0, 3]) : rng.below(4);
  const eflags = (FLAG.RESERVED1 | (rng.u32() & STATUS_FLAGS) | (rng.chance(0.3) ? FLAG.DF : 0) | (rng.chance(0.2) ? FLAG.IF : 0) | (env.mode === 'real' ? 0 : iopl << 12)) >>> 0;
  const harnessRegs = {
    eip: layout.codeWindow, eflags,
    cs: sels.cs, ss: sels.ss, ds: sels.ds, es: sels.es, fs: sels.fs, gs: sels.gs,
    cr0: env.mode === 'real' ? CR0_ET : CR0_PE | CR0_ET | (env.paging ? CR0_PG | CR0_WP : 0),
    cr2: rng.chance(0.5) ? 0 : rng.u32(), cr3: env.paging ? layout.pageDir : 0, cr4: 0,
  } as HarnessRegs;
  GPR_NAMES.forEach((name, i) => (harnessRegs[name] = regs[i] >>> 0));
  return {
    name: `s${seed}-i${index}`,
    origin: { seed, index },
    env,
    program,
    code: assembleProgram(program, layout),
    regs: harnessRegs,
    data: randomData(rng, layout.dataWindowSize),
    pinned: [...st.pinned].sort(),
    maxSteps: config.maxSteps ?? DEFAULT_MAX_STEPS,
  };
}

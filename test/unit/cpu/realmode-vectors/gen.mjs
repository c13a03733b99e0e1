#!/usr/bin/env node
/* global process, console, Buffer */
// Real-mode conformance vectors with QEMU as the oracle (no public single-instruction data set
// is reachable from here: see docs/cpu.md). Generates random real-address-mode test cases (one
// instruction each, 16-bit code with optional 0x66/0x67 prefixes, random registers, flags and a
// 1 KiB memory window filled from a per-case seed), runs them all in one multiboot guest under
// qemu-system-i386 (the guest drops to real mode, loads the state, executes the instruction and
// captures the state, for every case), and writes vectors.json: initial state, expected final
// registers, flags (with the mask of the flags the SDM defines for the instruction) and the
// bytes of the window that changed. test/unit/cpu/realmode-vectors.test.ts replays them.
//
// Usage: node test/unit/cpu/realmode-vectors/gen.mjs [count] [seed]   (needs nasm, ld, QEMU;
// without arguments it rebuilds the committed set)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAYOUT, windowBytes, xorshift } from './layout.mjs';

const dir = path.dirname(fileURLToPath(import.meta.url));

// Flag bits.
const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, DF = 0x400, OF = 0x800;
const ARITH = CF | PF | AF | ZF | SF | OF;
/** Flags compared: the arithmetic ones and DF (IF and TF stay clear in these cases). */
const ALL = ARITH | DF;

class Rng {
  constructor(seed) {
    this.s = seed >>> 0 || 1;
  }
  next() {
    this.s = xorshift(this.s);
    return this.s;
  }
  below(n) {
    return this.next() % n;
  }
  pick(a) {
    return a[this.below(a.length)];
  }
  chance(p) {
    return this.next() / 4294967296 < p;
  }
}

/** A ModRM for a memory operand with 16-bit addressing that stays inside the window. */
function modrm16(rng, reg) {
  const mod = rng.pick([0, 1, 2, 3, 3]);
  const rm = rng.below(8);
  const bytes = [(mod << 6) | (reg << 3) | rm];
  if (mod === 0 && rm === 6) bytes.push(rng.below(0x100), rng.below(2));
  else if (mod === 1) bytes.push(rng.below(0x80));
  else if (mod === 2) bytes.push(rng.below(0x100), 0);
  return bytes;
}

/** A ModRM (+SIB) with 32-bit addressing (the 0x67 prefix). */
function modrm32(rng, reg) {
  const mod = rng.pick([0, 1, 2, 3]);
  let rm = rng.below(8);
  if (rm === 4 && mod !== 3) rm = 6;
  const bytes = [(mod << 6) | (reg << 3) | rm];
  if (mod === 0 && rm === 5) bytes.push(rng.below(0x100), rng.below(2), 0, 0);
  else if (mod === 1) bytes.push(rng.below(0x80));
  else if (mod === 2) bytes.push(rng.below(0x100), 0, 0, 0);
  return bytes;
}

/**
 * Instruction forms: [name, mask of the flags the SDM defines after it, maker(rng) -> spec].
 * A spec lists opcode bytes and tags: 'M', reg (ModRM, reg -1 = random; register or memory),
 * 'R', reg (register form only), 'Mmem', reg (memory only), 'I8' (imm8), 'IV' (imm16/32 by
 * operand size), 'C' (a shift count), 'C15' (a count below 16).
 */
function forms() {
  const logicMask = ALL & ~AF;
  const list = [];
  const ops = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
  for (let op = 0; op < 8; op++) {
    list.push([ops[op], op === 1 || op === 4 || op === 6 ? logicMask : ALL, (rng) => rng.pick([
      [op * 8 + rng.below(4), 'M', -1],
      [op * 8 + 4, 'I8'],
      [op * 8 + 5, 'IV'],
      [0x80, 'M', op, 'I8'],
      [0x81, 'M', op, 'IV'],
      [0x83, 'M', op, 'I8'],
    ])]);
  }
  list.push(['inc_dec', ALL, (rng) => rng.pick([[0x40 + rng.below(16)], [0xfe + rng.below(2), 'M', rng.below(2)]])]);
  list.push(['test', logicMask, (rng) => rng.pick([[0x84 + rng.below(2), 'M', -1], [0xa8, 'I8'], [0xa9, 'IV'], [0xf6, 'M', 0, 'I8'], [0xf7, 'M', 0, 'IV']])]);
  list.push(['not_neg', ALL, (rng) => [0xf6 + rng.below(2), 'M', 2 + rng.below(2)]]);
  list.push(['mul', CF | OF | DF, (rng) => [0xf6 + rng.below(2), 'M', 4 + rng.below(2)]]);
  list.push(['div', DF, (rng) => [0xf6 + rng.below(2), 'M', 6 + rng.below(2)]]);
  list.push(['imul_3', CF | OF | DF, (rng) => rng.pick([[0x69, 'M', -1, 'IV'], [0x6b, 'M', -1, 'I8'], [0x0f, 0xaf, 'M', -1]])]);
  list.push(['shift_1', ALL & ~AF, (rng) => [0xd0 + rng.below(2), 'M', rng.pick([0, 1, 2, 3, 4, 5, 7])]]);
  // C0/C1 take the count as an immediate, D2/D3 from CL.
  const counted = (rng, reg) => (rng.chance(0.5) ? [0xc0 + rng.below(2), 'M', reg, 'C'] : [0xd2 + rng.below(2), 'M', reg]);
  list.push(['shift_n', CF | ZF | SF | PF | DF, (rng) => counted(rng, rng.pick([4, 5, 7]))]);
  list.push(['rotate_n', CF | DF, (rng) => counted(rng, rng.below(4))]);
  list.push(['shld_shrd', CF | ZF | SF | PF | DF, (rng) => [0x0f, rng.pick([0xa4, 0xac]), 'M', -1, 'C15']]);
  list.push(['bt', CF | DF, (rng) => rng.pick([[0x0f, 0xba, 'M', 4 + rng.below(4), 'I8'], [0x0f, rng.pick([0xa3, 0xab, 0xb3, 0xbb]), 'R', -1]])]);
  list.push(['bsf_bsr', ZF | DF, (rng) => [0x0f, 0xbc + rng.below(2), 'M', -1]]);
  list.push(['mov', ALL, (rng) => rng.pick([
    [0x88 + rng.below(4), 'M', -1], [0xc6, 'M', 0, 'I8'], [0xc7, 'M', 0, 'IV'], [0xb0 + rng.below(8), 'I8'],
    [0xb8 + rng.below(8), 'IV'], [0xa0 + rng.below(4), rng.below(0x100), 1],
  ])]);
  list.push(['movzx_movsx', ALL, (rng) => [0x0f, rng.pick([0xb6, 0xb7, 0xbe, 0xbf]), 'M', -1]]);
  list.push(['xchg', ALL, (rng) => rng.pick([[0x86 + rng.below(2), 'M', -1], [0x91 + rng.below(7)]])]);
  list.push(['lea', ALL, () => [0x8d, 'Mmem', -1]]);
  list.push(['misc', ALL, (rng) => [rng.pick([0x98, 0x99, 0x9e, 0x9f, 0xf5, 0xf8, 0xf9, 0xfc, 0xfd, 0xd7])]]);
  list.push(['daa_das', ALL & ~OF, (rng) => [rng.pick([0x27, 0x2f])]]);
  list.push(['aaa_aas', CF | AF | DF, (rng) => [rng.pick([0x37, 0x3f])]]);
  list.push(['aam_aad', SF | ZF | PF | DF, (rng) => [rng.pick([0xd4, 0xd5]), rng.pick([10, 10, 7, 16, 0])]]);
  list.push(['push_pop', ALL, (rng) => rng.pick([[0x50 + rng.below(8)], [0x58 + rng.below(8)], [0x68, 'IV'], [0x6a, 'I8'], [0x60], [0x61]])]);
  list.push(['setcc_cmovcc', ALL, (rng) => [0x0f, rng.pick([0x90, 0x40]) + rng.below(16), 'M', -1]]);
  list.push(['jcc', ALL, (rng) => rng.pick([[0x70 + rng.below(16), 5], [0xe3, 5], [0xe2, 5], [0xe1, 5], [0xe0, 5]])]);
  list.push(['string', ALL, (rng) => [...(rng.chance(0.6) ? [rng.pick([0xf3, 0xf2])] : []), rng.pick([0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf])]]);
  list.push(['xadd_cmpxchg', ALL, (rng) => [0x0f, rng.pick([0xb0, 0xb1, 0xc0, 0xc1]), 'M', -1]]);
  list.push(['lds_les', ALL, (rng) => [rng.pick([0xc4, 0xc5]), 'Mmem', -1]]);
  return list;
}

/** Builds the bytes of one case from a spec (optional 0x66 and, with ModRM, 0x67 prefixes). */
function build(rng, spec) {
  const o32 = rng.chance(0.3);
  const hasModrm = spec.some((x) => x === 'M' || x === 'R' || x === 'Mmem');
  const a32 = hasModrm && rng.chance(0.2);
  const body = [];
  for (let k = 0; k < spec.length; k++) {
    const x = spec[k];
    if (x === 'M' || x === 'R' || x === 'Mmem') {
      let reg = spec[++k];
      if (reg === -1) reg = rng.below(8);
      let m = a32 ? modrm32(rng, reg) : modrm16(rng, reg);
      if (x === 'R' || (x === 'M' && rng.chance(0.3))) m = [0xc0 | (reg << 3) | rng.below(8)];
      if (x === 'Mmem' && m[0] >> 6 === 3) m = [(reg << 3) | (a32 ? 3 : 7)];
      body.push(...m);
    } else if (x === 'I8') body.push(rng.below(256));
    else if (x === 'IV') body.push(rng.below(256), rng.below(256), ...(o32 ? [rng.below(256), rng.below(256)] : []));
    else if (x === 'C') body.push(rng.pick([0, 1, 2, 7, 8, 9, 15, 16, 17, 31]));
    else if (x === 'C15') body.push(rng.below(16));
    else body.push(x);
  }
  return [...(o32 ? [0x66] : []), ...(a32 ? [0x67] : []), ...body];
}

/** Generates `count` cases from `seed`. */
export function generateCases(count, seed) {
  const rng = new Rng(seed);
  const all = forms();
  const cases = [];
  for (let i = 0; i < count; i++) {
    const [name, mask, maker] = all[i % all.length];
    const spec = maker(rng);
    const code = build(rng, spec);
    // Registers: small values half the time (addresses inside the window), otherwise random
    // upper halves over low halves below 0x4000, so that no 16-bit effective address reaches
    // the 64 KiB limit (QEMU checks no segment limits: such cases would only show that). With
    // 32-bit addressing every register stays small for the same reason.
    const a32 = code.includes(0x67);
    const regs = [];
    for (let r = 0; r < 8; r++) {
      if (r === 4) regs.push(LAYOUT.sp);
      else if (a32 || rng.chance(0.5)) regs.push(rng.below(0x180));
      else regs.push(((rng.next() & 0xffff0000) | rng.below(0x4000)) >>> 0);
    }
    // String instructions: small counts.
    if (name === 'string' || name === 'jcc') regs[1] = (regs[1] & 0xffff0000) | rng.below(6);
    const flags = (rng.next() & ALL) | 0x2;
    cases.push({ form: name, code, regs, flags, seed: rng.next() >>> 0, mask });
  }
  return cases;
}

/** The multiboot guest that runs every case in real mode and prints the results. */
function guestSource(cases) {
  const L = LAYOUT;
  const table = cases.map((c) => {
    const code = [...c.code, ...new Array(16 - c.code.length).fill(0x90)];
    const regs = [...c.regs, c.flags, c.seed].map((x) => `0x${(x >>> 0).toString(16)}`).join(', ');
    return `    dd ${regs}\n    db ${code.map((b) => `0x${b.toString(16)}`).join(', ')}, ${c.code.length}, 0, 0, 0`;
  }).join('\n');
  return readTemplate().replace('%CASES%', table).replace('%COUNT%', String(cases.length))
    .replace(/%(\w+)%/g, (m, k) => (k in L ? `0x${L[k].toString(16)}` : m));
}

function readTemplate() {
  return execFileSync('cat', [path.join(dir, 'runner.asm')], { encoding: 'utf8' });
}

/** Parses the guest's output lines into expected states. */
function parseOutput(text, cases) {
  const lines = text.split('\n').filter((l) => l.startsWith('V '));
  if (lines.length !== cases.length) throw new Error(`QEMU printed ${lines.length} results for ${cases.length} cases`);
  return lines.map((line, i) => {
    const f = line.trim().split(' ');
    const n = f.slice(1, 15).map((x) => parseInt(x, 16) >>> 0);
    const [idx, path, vec, eax, ecx, edx, ebx, esp, ebp, esi, edi, flags, dses, ss] = n;
    if (idx !== i) throw new Error(`result ${idx} out of order`);
    const mem = Buffer.from(f[15], 'hex');
    const init = windowBytes(cases[i].seed);
    const diff = [];
    for (let k = 0; k < mem.length; k++) if (mem[k] !== init[k]) diff.push([k, mem[k]]);
    return {
      path, vec, regs: [eax, ecx, edx, ebx, esp, ebp, esi, edi], flags: flags & ALL,
      ds: dses & 0xffff, es: dses >>> 16, ss: ss & 0xffff, mem: diff,
    };
  });
}

/** Default size and seed of the committed vector set. */
export const DEFAULT_COUNT = 1600;
export const DEFAULT_SEED = 24301;

/** Generates `count` cases from `seed` and records their outcome under QEMU. */
export function recordVectors(count, seed) {
  const cases = generateCases(count, seed);
  const tmp = mkdtempSync(path.join(tmpdir(), 'rmvec-'));
  try {
    writeFileSync(path.join(tmp, 'g.asm'), guestSource(cases));
    execFileSync('nasm', ['-f', 'elf32', '-Werror', '-o', path.join(tmp, 'g.o'), path.join(tmp, 'g.asm')], { stdio: 'inherit' });
    execFileSync('ld', ['-m', 'elf_i386', '-Ttext=0x100000', '-e', '_start', '--build-id=none', '-o', path.join(tmp, 'g.elf'), path.join(tmp, 'g.o')], { stdio: 'inherit' });
    // isa-debug-exit turns the guest's final OUT 0xF4, 0 into exit status 1.
    const run = spawnSync('qemu-system-i386', ['-kernel', path.join(tmp, 'g.elf'), '-display', 'none', '-serial', 'stdio',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-no-reboot', '-m', '16'], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 300_000 });
    if (run.status !== 1) throw new Error(`QEMU ended with status ${run.status}: ${run.stderr}`);
    const expected = parseOutput(run.stdout, cases);
    const qemu = execFileSync('qemu-system-i386', ['--version'], { encoding: 'utf8' }).split('\n')[0];
    return {
      format: 'domus-realmode-vectors/1',
      source: qemu,
      count,
      seed,
      layout: LAYOUT,
      cases: cases.map((c, i) => ({ form: c.form, code: Buffer.from(c.code).toString('hex'), regs: c.regs, flags: c.flags, seed: c.seed, mask: c.mask, exp: expected[i] })),
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function main() {
  const count = Number(process.argv[2] ?? DEFAULT_COUNT);
  const seed = Number(process.argv[3] ?? DEFAULT_SEED);
  const doc = recordVectors(count, seed);
  writeFileSync(path.join(dir, 'vectors.json'), JSON.stringify(doc) + '\n');
  console.log(`${count} real-mode vectors -> ${path.relative(process.cwd(), path.join(dir, 'vectors.json'))}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

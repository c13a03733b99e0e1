#!/usr/bin/env node
/* global process, console */
// Rebuilds cases.json: a subset of the SingleStepTests 8086/8088 single-instruction vectors (MIT
// licence, see LICENSE-SingleStepTests-MIT.txt and README.md here) restricted to the instruction
// forms an i386 in real-address mode must execute with the same architectural result.
// test/unit/cpu/singlestep-8088.test.ts replays them on the Domus CPU.
//
// Usage: node test/unit/cpu/singlestep-8088/gen.mjs MIRROR [perFile]
//   MIRROR: a git directory of github.com/SingleStepTests/8086 (or /8088: same JSON format), bare
//   or not (its HEAD is read), or a plain checkout directory holding v1/*.json.gz.
//   perFile: cases kept per opcode file (default 40).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const dir = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_PER_FILE = 40;
/** Register order of the compact form. */
export const REG_NAMES = ['ax', 'bx', 'cx', 'dx', 'cs', 'ss', 'ds', 'es', 'sp', 'bp', 'si', 'di', 'ip', 'flags'];

// EFLAGS bits that exist on both CPUs (8086 bits 12-15 read as 1; on an i386 they are IOPL, NT, 0).
const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200, DF = 0x400, OF = 0x800;
/** The flags compared at all: the 8086's nine. */
const COMMON_FLAGS = CF | PF | AF | ZF | SF | TF | IF | DF | OF;
/** Flags the SDM leaves undefined after MUL/IMUL (only OF and CF are defined). */
const MUL_UNDEFINED = SF | ZF | AF | PF;
/** Flags the SDM leaves undefined after AND/OR/XOR/TEST. */
const LOGIC_UNDEFINED = AF;
/** Flags the SDM leaves undefined after a shift or rotate by 1 (AF for shifts; none for rotates). */
const SHIFT_UNDEFINED = AF;

/** The 8086's 20-bit address space wraps at 1 MiB. */
const ADDRESS_MASK = 0xfffff;
/** The 8086 prefetch queue is 6 bytes; the data set fills what follows the instruction with NOPs. */
const PREFETCH_BYTES = 6;
/** NOP (XCHG AX,AX). */
const NOP = 0x90;

/** An i386 masks shift and rotate counts to 5 bits. */
const SHIFT_COUNT_LIMIT = 32;

/** Segment-override prefixes (ES CS SS DS). */
const SEG_PREFIX = { 0x26: 'es', 0x2e: 'cs', 0x36: 'ss', 0x3e: 'ds' };

/**
 * The selection: opcode file -> the SDM's undefined flags for it (besides the data set's own mask)
 * and a ModRM reg filter where the i386 defines fewer forms than the 8086 accepts.
 */
function selection() {
  const sel = new Map();
  const add = (file, undef = 0, regOk = undefined, dropIf = undefined) => sel.set(file, { undef, regOk, dropIf });
  const hex = (n) => n.toString(16).toUpperCase().padStart(2, '0');
  // ALU r/m,r  r,r/m  AL/AX,imm: ADD OR ADC SBB AND SUB XOR CMP.
  for (let op = 0; op < 8; op++) {
    const logic = op === 1 || op === 4 || op === 6;
    for (let f = 0; f < 6; f++) add(hex(op * 8 + f), logic ? LOGIC_UNDEFINED : 0);
  }
  for (let op = 0x40; op <= 0x4f; op++) add(hex(op)); // INC/DEC r16
  for (const g of ['80', '81', '83']) for (let r = 0; r < 8; r++) add(`${g}.${r}`, r === 1 || r === 4 || r === 6 ? LOGIC_UNDEFINED : 0);
  add('84', LOGIC_UNDEFINED); add('85', LOGIC_UNDEFINED); add('A8', LOGIC_UNDEFINED); add('A9', LOGIC_UNDEFINED);
  add('86'); add('87');
  for (const op of ['88', '89', '8A', '8B', 'A0', 'A1', 'A2', 'A3']) add(op);
  add('8C', 0, (r) => r <= 3); // i386: reg 4/5 are FS/GS, 6/7 #UD.
  add('8E', 0, (r) => r === 0 || r === 2 || r === 3); // i386: MOV CS and reg 4-7 are #UD/FS/GS.
  add('8D'); // LEA (the data set has no register forms).
  for (let op = 0x90; op <= 0x97; op++) add(hex(op));
  add('98'); add('99');
  for (let op = 0xb0; op <= 0xbf; op++) add(hex(op));
  add('C6', 0, (r) => r === 0); add('C7', 0, (r) => r === 0); // i386: reg != 0 is #UD.
  for (const op of ['F5', 'F8', 'F9', 'FA', 'FB', 'FC', 'FD']) add(op);
  for (const g of ['F6', 'F7']) {
    add(`${g}.2`); add(`${g}.3`); // NOT, NEG
    add(`${g}.4`, MUL_UNDEFINED); add(`${g}.5`, MUL_UNDEFINED); // MUL, IMUL
  }
  for (const g of ['FE', 'FF']) { add(`${g}.0`); add(`${g}.1`); } // INC/DEC r/m
  // Shifts/rotates by 1: reg 6 is the 8086's undocumented SETMO (an i386 takes it as SAL).
  for (const g of ['D0', 'D1']) for (const r of [0, 1, 2, 3, 4, 5, 7]) add(`${g}.${r}`, r >= 4 ? SHIFT_UNDEFINED : 0);
  // Shifts/rotates by CL: an i386 masks the count to 5 bits (the 8086 does not), and the SDM leaves
  // CF undefined for SHL/SHR/SAR by a count >= the operand width; OF is undefined unless the count
  // is 1 (the data set's mask already says so).
  for (const g of ['D2', 'D3']) {
    const width = g === 'D2' ? 8 : 16;
    for (const r of [0, 1, 2, 3, 4, 5, 7]) {
      add(`${g}.${r}`, OF | (r >= 4 ? SHIFT_UNDEFINED : 0), undefined, (t) => {
        const cl = t.initial.regs.cx & 0xff;
        if (cl >= SHIFT_COUNT_LIMIT) return 'shift count in CL >= 32 (i386: masked to 5 bits)';
        if (r >= 4 && cl >= width) return 'shift by CL >= the operand width (SDM: CF undefined)';
        return undefined;
      });
    }
  }
  return sel;
}

/** Decoded facts of one instruction needed by the exclusion rules. */
function decode(bytes) {
  let k = 0;
  let seg;
  while (SEG_PREFIX[bytes[k]] !== undefined) seg = SEG_PREFIX[bytes[k++]];
  const op = bytes[k++];
  const moffs = op >= 0xa0 && op <= 0xa3;
  const hasModrm = !moffs && !(op >= 0x40 && op <= 0x4f) && !(op >= 0x90 && op <= 0xbf) && !(op >= 0xf5 && op !== 0xf6 && op !== 0xf7 && op !== 0xfe && op !== 0xff)
    && ![0x04, 0x05, 0x0c, 0x0d, 0x14, 0x15, 0x1c, 0x1d, 0x24, 0x25, 0x2c, 0x2d, 0x34, 0x35, 0x3c, 0x3d].includes(op);
  const wide = op === 0x8c || op === 0x8e || (op & 1) === 1;
  if (moffs) return { seg: seg ?? 'ds', ea: bytes[k] | (bytes[k + 1] << 8), word: wide, reg: 0 };
  if (!hasModrm) return { word: wide, reg: 0 };
  const m = bytes[k++];
  const mod = m >> 6, reg = (m >> 3) & 7, rm = m & 7;
  if (mod === 3 || op === 0x8d) return { word: wide, reg }; // no memory access (LEA only computes)
  return { ...effectiveAddress(mod, rm, bytes.slice(k), seg), word: wide, reg };
}

/** 16-bit ModRM addressing; registers are filled in by `resolve`. */
function effectiveAddress(mod, rm, rest, seg) {
  const BASES = [['bx', 'si'], ['bx', 'di'], ['bp', 'si'], ['bp', 'di'], ['si'], ['di'], ['bp'], ['bx']];
  let disp = 0;
  let base = BASES[rm];
  if (mod === 0 && rm === 6) { base = []; disp = rest[0] | (rest[1] << 8); }
  else if (mod === 1) disp = (rest[0] << 24) >> 24;
  else if (mod === 2) disp = rest[0] | (rest[1] << 8);
  return { seg: seg ?? (base.includes('bp') ? 'ss' : 'ds'), base, disp };
}

/** Why a case is dropped (an 8086-only outcome), or undefined when it is kept. */
function exclusion(t, info) {
  const r = t.initial.regs;
  const len = t.bytes.length;
  if (r.ip + len > 0x10000) return 'code crosses the 64 KiB CS limit (i386: #GP)';
  if (info.seg !== undefined) {
    const ea = info.ea ?? ((info.base.reduce((a, b) => a + r[b], 0) + info.disp) & 0xffff);
    if (info.word && ea === 0xffff) return 'word operand at offset 0xFFFF (i386: #GP/#SS)';
  }
  return undefined;
}

function reader(mirror) {
  const gitDir = existsSync(path.join(mirror, 'objects')) ? mirror : existsSync(path.join(mirror, '.git')) ? path.join(mirror, '.git') : undefined;
  if (gitDir) {
    const commit = execFileSync('git', ['--git-dir', gitDir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const read = (p) => execFileSync('git', ['--git-dir', gitDir, 'show', `HEAD:${p}`], { maxBuffer: 1 << 30 });
    return { commit, read };
  }
  return { commit: 'unknown (plain directory)', read: (p) => readFileSync(path.join(mirror, p)) };
}

/** Builds the subset document from a mirror. */
export function buildSubset(mirror, perFile = DEFAULT_PER_FILE) {
  const { commit, read } = reader(mirror);
  const meta = JSON.parse(read('v1/metadata.json').toString('utf8'));
  const files = {};
  const dropped = {};
  for (const [file, rule] of selection()) {
    const [opHex, regHex] = file.split('.');
    const m = meta.opcodes[opHex];
    const entry = regHex !== undefined ? m.reg[regHex] : m;
    const dataMask = entry['flags-mask'] ?? 0xffff;
    const mask = COMMON_FLAGS & dataMask & ~rule.undef;
    const tests = JSON.parse(gunzipSync(read(`v1/${file}.json.gz`)).toString('utf8'));
    const cases = [];
    for (const t of tests) {
      if (cases.length >= perFile) break;
      const info = decode(t.bytes);
      if (rule.regOk && !rule.regOk(info.reg)) { dropped['ModRM reg form the i386 does not define the same way'] = (dropped['ModRM reg form the i386 does not define the same way'] ?? 0) + 1; continue; }
      const why = exclusion(t, info) ?? rule.dropIf?.(t);
      if (why) { dropped[why] = (dropped[why] ?? 0) + 1; continue; }
      const init = t.initial.regs;
      const ramBefore = new Map(t.initial.ram);
      // The NOPs the 8086 prefetched past the instruction are never executed here: left out.
      const codeEnd = (init.cs << 4) + init.ip + t.bytes.length;
      const prefetched = (a) => ((a - codeEnd) & ADDRESS_MASK) < PREFETCH_BYTES;
      cases.push([
        t.name,
        REG_NAMES.map((n) => init[n]),
        t.initial.ram.filter(([a, v]) => !(v === NOP && prefetched(a))),
        REG_NAMES.filter((n) => t.final.regs[n] !== undefined).reduce((o, n) => ({ ...o, [n]: t.final.regs[n] }), {}),
        t.final.ram.filter(([a, v]) => ramBefore.get(a) !== v),
      ]);
    }
    files[file] = { mask, cases };
  }
  return {
    format: 'domus-singlestep/1',
    source: meta.url ?? 'https://github.com/SingleStepTests/8086/',
    cpu: meta.cpu_detail ?? meta.cpu,
    version: meta.version,
    commit,
    perFile,
    regs: REG_NAMES,
    dropped,
    files,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const mirror = process.argv[2];
  if (!mirror) {
    console.error('usage: node gen.mjs MIRROR [perFile]  (MIRROR: a git directory or checkout of SingleStepTests/8086 or /8088)');
    process.exit(2);
  }
  const doc = buildSubset(mirror, Number(process.argv[3] ?? DEFAULT_PER_FILE));
  const out = path.join(dir, 'cases.json');
  // One case per line keeps diffs readable.
  const lines = [];
  for (const [file, f] of Object.entries(doc.files)) {
    lines.push(`${JSON.stringify(file)}:{"mask":${f.mask},"cases":[\n${f.cases.map((c) => JSON.stringify(c)).join(',\n')}]}`);
  }
  const head = JSON.stringify({ ...doc, files: undefined }).slice(0, -1);
  writeFileSync(out, `${head},"files":{\n${lines.join(',\n')}}}\n`);
  const n = Object.values(doc.files).reduce((a, f) => a + f.cases.length, 0);
  console.log(`wrote ${out}: ${n} cases from ${Object.keys(doc.files).length} files; dropped ${JSON.stringify(doc.dropped)}`);
}

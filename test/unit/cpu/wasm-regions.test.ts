/**
 * The WebAssembly region backend (src-engine/cpu/wasm) against the interpreter, in lock step
 * (jit-lockstep.ts): one CPU compiles every block into a WebAssembly region the first time it
 * runs, the other interprets, and the whole state and the runner's memory must match after
 * every chunk. Programs loop so that regions run their blocks many times, through back edges,
 * with flags carried across blocks (the $cond/$cf helpers) and set in the block (inline forms).
 * Every template is then broken in turn and the comparison must catch it. Faults, real mode,
 * paging and self-modifying code come from the differential generator's cases.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JIT_DEFAULTS } from '../../../src-engine/cpu/jit/jit-config';
import { WASM_TEMPLATES, type WasmTemplate } from '../../../src-engine/cpu/wasm/wasm-templates';
import { wasmStateInPlace } from '../../../src-engine/cpu/wasm/region-wasm';
import { Op } from '../../../src-engine/cpu/wasm/wasm-encoder';
import { generateCase } from '../../diff/generator';
import { RunnerPair } from './jit-lockstep';

const CASES = Number(process.env.DOMUS_JIT_FUZZ_CASES ?? 300);

let pair: RunnerPair;
const before = JIT_DEFAULTS.backend;

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** Every condition code, as SETcc AL; ADD ESI, EAX (so the result shows in ESI). */
function allConditions(): number[] {
  const out: number[] = [];
  for (let cc = 0; cc < 16; cc++) out.push(0x0f, 0x90 + cc, 0xc0, 0x01, 0xc6);
  return out;
}

/** One instruction of every lazy-flags kind and size (ADD ADC SUB SBB AND OR INC DEC SHL SHR SAR IMUL, 8/16 bits). */
function flagSetters(): number[][] {
  return [
    [0x01, 0xd8], [0x11, 0xd8], [0x29, 0xd8], [0x19, 0xd8], [0x21, 0xd8], [0x09, 0xd8], [0x40], [0x48],
    [0xc1, 0xe0, 0x03], [0xc1, 0xe8, 0x05], [0xc1, 0xfb, 0x02], [0x0f, 0xaf, 0xc3], [0x00, 0xd8], [0x66, 0x29, 0xd8], [0x66, 0x40],
  ];
}

/**
 * The programs: each a loop `mov ebp, 37; L: step; body; dec ebp; jnz L; jmp $`, where step
 * moves EAX and EBX through a sequence of values (an LCG through IMUL, a handler call, and a
 * rotate) so that every flag takes both values. `d` is the data window (memory operands).
 */
function programs(d: number): Record<string, number[]> {
  const m = (modrmReg: number): number[] => [(modrmReg << 3) | 0x05, ...le32(d)];
  const aluOps = [0, 1, 2, 3, 4, 5, 6, 7];
  const p: Record<string, number[]> = {
    'ALU r32, r32 and r8, r8 and r16, r16': aluOps.flatMap((op) => [op * 8 + 1, 0xd8, op * 8, 0xe3, 0x66, op * 8 + 1, 0xd1]),
    'ALU r32, imm32 / imm8 and r8, imm8': aluOps.flatMap((op) => [0x81, 0xc0 + op * 8 + 2, ...le32(0x12345 * (op + 1)), 0x83, 0xc0 + op * 8 + 6, 0x80 - op, 0x80, 0xc0 + op * 8 + 3, 0x7f + op]),
    'ALU r, m and m, r and m, imm (read-modify-write)': aluOps.flatMap((op) => [op * 8 + 3, ...m(0), op * 8 + 1, ...m(3), 0x83, ...m(op), 0x11 * op, op * 8, ...m(2)]),
    'TEST r, r and m, r and r, imm': [0x85, 0xd8, 0x85, ...m(3), 0xa9, ...le32(0x80000001), 0x84, 0xe3],
    'INC DEC NOT NEG on registers and memory': [0x40, 0x4b, 0xfe, 0xc4, 0xfe, 0xcb, 0xff, ...m(0), 0xff, ...m(1), 0xf7, 0xd0, 0xf7, 0xdb, 0xf6, 0xd3, 0xf7, ...m(3), 0x66, 0xf7, 0xd9],
    'MOV in every form and size': [
      0x89, 0xd9, 0x8b, ...m(2), 0x89, ...m(0), 0xc7, ...m(0).map((x, k) => (k === 0 ? 0x05 : x)), ...le32(0xdeadbeef),
      0xbf, ...le32(0x01020304), 0x88, 0xe2, 0x8a, ...m(7), 0x66, 0x89, ...m(3), 0x66, 0x8b, ...m(6), 0xc6, 0x05, ...le32(d + 5), 0x9c,
    ],
    'MOVZX MOVSX LEA XCHG': [0x0f, 0xb6, 0xcb, 0x0f, 0xbf, ...m(2), 0x0f, 0xbe, 0xf4, 0x0f, 0xb7, ...m(6), 0x8d, 0x7c, 0x98, 0x07, 0x87, 0xd1, 0x66, 0x8d, 0x14, 0x19],
    'SETcc CMOVcc with flags set in the block': [0x39, 0xd8, ...allConditions(), 0x85, 0xc3, ...allConditions(), 0x0f, 0x4c, 0xcb, 0x0f, 0x47, ...m(2)],
    'SETcc with flags from an earlier block (every kind)': [
      0x01, 0xd8, 0xeb, 0x00, ...allConditions(), 0x11, 0xd8, 0xeb, 0x00, ...allConditions(), 0x29, 0xd8, 0xeb, 0x00, ...allConditions(),
      0x19, 0xd8, 0xeb, 0x00, ...allConditions(), 0x21, 0xd8, 0xeb, 0x00, ...allConditions(), 0x40, 0xeb, 0x00, ...allConditions(),
      0x48, 0xeb, 0x00, ...allConditions(), 0xc1, 0xe0, 0x03, 0xeb, 0x00, ...allConditions(), 0xc1, 0xe8, 0x05, 0xeb, 0x00, ...allConditions(),
      0xc1, 0xfb, 0x02, 0xeb, 0x00, ...allConditions(), 0x0f, 0xaf, 0xc3, 0xeb, 0x00, ...allConditions(), 0x28, 0xd8, 0xeb, 0x00, ...allConditions(),
    ],
    'SHL SHR SAR by immediates on registers and memory': [0xc1, 0xe0, 0x05, 0xc1, 0xeb, 0x03, 0xc1, 0xf9, 0x1f, 0xd1, 0xe2, 0xc0, 0xe8, 0x09, 0xc0, 0xfc, 0x02, 0x66, 0xc1, 0xe1, 0x0f, 0xc1, ...m(4), 0x04, 0xd1, ...m(7)],
    'PUSH POP CALL RET': [0x50, 0x6a, 0x85, 0xff, ...m(6), 0x68, ...le32(0x11223344), 0x5b, 0x59, 0x5a, 0x58, 0xe8, ...le32(4), 0x01, 0xd8, 0xeb, 0x03, 0x01, 0xda, 0xc3],
    'MUL IMUL in every form and size': [
      0xf7, 0xe3, 0xf7, 0xeb, 0xf6, 0xe3, 0xf6, 0xeb, 0x66, 0xf7, 0xe3, 0x66, 0xf7, 0xeb, 0xf7, ...m(4), 0xf7, ...m(5),
      0x0f, 0xaf, 0xc3, 0x0f, 0xaf, ...m(0), 0x6b, 0xc3, 0x07, 0x69, 0xd3, ...le32(0x7fff1234), 0x66, 0x0f, 0xaf, 0xc3, 0x66, 0x6b, 0xd3, 0x85,
    ],
    'LOOP LOOPE LOOPNE JCXZ': [
      0xb9, ...le32(3), 0x01, 0xc6, 0xe2, 0xfc, 0xb9, ...le32(5), 0x39, 0xd8, 0xe1, 0xfc, 0xb9, ...le32(4), 0x85, 0xc0, 0xe0, 0xfc,
      0xe3, 0x01, 0x46, 0x41, 0xe3, 0x01, 0x46,
    ],
    'PUSHF after every flags kind (AF included); CLC STC CMC then ADC SBB Jcc': flagSetters().flatMap((set) => [
      ...set, 0x9c, 0x5a, 0x01, 0xd6, ...set, 0xf5, 0x9c, 0x5a, 0x01, 0xd6, ...set, 0xf8, 0x9c, 0x5a, 0x01, 0xd6,
      ...set, 0xf9, 0x66, 0x9c, 0x66, 0x5a, 0x01, 0xd6, ...set, 0xf9, 0x11, 0xd8, 0xf8, 0x19, 0xd8, 0xf5, 0x72, 0x01, 0x46,
    ]),
    'POPF restoring arithmetic flags (template), and changing DF (handler), 32 and 16 bits': flagSetters().flatMap((set) => [
      ...set, 0x89, 0xc7, 0x81, 0xe7, ...le32(0x8d5), 0x9c, 0x31, 0x3c, 0x24, 0x9d, 0x9c, 0x5a, 0x01, 0xd6,
      0x9c, 0x81, 0x34, 0x24, ...le32(0x400), 0x9d, 0x9c, 0x5a, 0x01, 0xd6, 0xfc,
      ...set, 0x66, 0x9c, 0x66, 0x31, 0x3c, 0x24, 0x66, 0x9d, 0x0f, 0x92, 0xc2, 0x01, 0xd6,
    ]),
    'SHL SHR SAR by CL, ROL ROR by CL and immediates, SHLD SHRD (32-bit registers; CL 0..31 and 0)': [
      // mov ecx, eax; (cl = LCG bits); every shift by CL, then with CL = 0 (no change, flags kept)
      0x89, 0xc1, 0xd3, 0xe2, 0x01, 0xd6, 0xd3, 0xea, 0x01, 0xd6, 0xd3, 0xfa, 0x01, 0xd6, 0xd3, 0xc2, 0x9c, 0x5f, 0x01, 0xfe,
      0xd3, 0xca, 0x9c, 0x5f, 0x01, 0xfe, 0x0f, 0xa5, 0xda, 0x9c, 0x5f, 0x01, 0xfe, 0x0f, 0xad, 0xda, 0x9c, 0x5f, 0x01, 0xfe,
      0xc1, 0xc2, 0x0d, 0x72, 0x01, 0x46, 0xc1, 0xca, 0x1f, 0x70, 0x01, 0x46, 0xd1, 0xc2, 0x0f, 0x90, 0xc1, 0x0f, 0xb6, 0xc9, 0x01, 0xce,
      0x0f, 0xa4, 0xda, 0x07, 0x0f, 0x92, 0xc1, 0x01, 0xce, 0x0f, 0xac, 0xda, 0x19, 0x0f, 0x9b, 0xc1, 0x01, 0xce,
      0x31, 0xc9, 0x39, 0xd8, 0xd3, 0xe2, 0xd3, 0xc2, 0x0f, 0xa5, 0xda, 0x0f, 0xad, 0xda, 0x9c, 0x5f, 0x01, 0xfe, 0x01, 0xd6,
      0xb9, ...le32(0xffffffe1), 0xd3, 0xfa, 0x0f, 0xad, 0xda, 0x9c, 0x5f, 0x01, 0xfe, 0x01, 0xd6, 0x89, 0xc1,
    ],
    'DIV r32 and m32 (quotient in range)': [
      0x89, 0xda, 0x81, 0xe2, ...le32(0xfff), 0x89, 0xc7, 0x81, 0xcf, ...le32(0x80000000), 0xf7, 0xf7, 0x01, 0xd6,
      0x89, 0xda, 0x81, 0xe2, ...le32(0xfff), 0x89, ...m(7), 0xf7, ...m(6), 0x01, 0xd6, 0x01, 0xc6,
    ],
    'Jcc every condition after CMP, inside the loop': Array.from({ length: 16 }, (_, cc) => [0x39, 0xd8, 0x70 + cc, 0x01, 0x46]).flat(),
  };
  return p;
}

/** The loop around a body. */
function looped(body: number[]): number[] {
  // mov ebp, 37; L: imul eax, eax, 1103515245; add eax, 12345; mov ebx, eax; rol ebx, 13; add ebx, ecx;
  //   [body]; dec ebp; jnz L; jmp $
  const step = [0x69, 0xc0, ...le32(1103515245), 0x05, ...le32(12345), 0x89, 0xc3, 0xc1, 0xc3, 0x0d, 0x01, 0xcb];
  const loopBody = [...step, ...body, 0x4d];
  const back = -(loopBody.length + 6);
  return [0xbd, ...le32(37), ...loopBody, 0x0f, 0x85, ...le32(back), 0xeb, 0xfe];
}

function runProgram(name: string, body: number[]): string | null {
  const c = pair.program(looped(body), { eax: 0x12345678, ecx: 0x9abcdef0, edx: 3, esi: 0x55aa }, true);
  c.data = Uint8Array.from({ length: c.data.length }, (_, k) => (k * 37 + 11) & 0xff);
  // Memory operands at the data window, ESI and EDI as its pointers.
  c.regs.esi = pair.layout.dataWindow + 0x40;
  const d = pair.run(c, 30, 97);
  return d === null ? null : `${name}: ${d}`;
}

describe('WebAssembly regions', () => {
  beforeAll(() => {
    JIT_DEFAULTS.backend = 'wasm';
  });
  beforeEach(() => {
    // A fresh pair: a broken template may have corrupted the runner's kernel on the JIT side.
    pair = new RunnerPair();
  });
  afterAll(() => {
    JIT_DEFAULTS.backend = before;
  });

  it('run every template in loops exactly like the interpreter, with every instruction compiled', () => {
    const failures: string[] = [];
    const progs = programs(pair.layout.dataWindow);
    for (const [name, body] of Object.entries(progs)) {
      const d = runProgram(name, body);
      if (d !== null) failures.push(d);
    }
    expect(failures).toEqual([]);
    const st = pair.jit.cpu.jitRegistry.stats;
    expect(st.failures).toBe(0);
    const regions = pair.jit.cpu.jitRegistry.recent;
    expect(regions.length).toBeGreaterThan(0);
    for (const r of regions) expect(r.source).toMatch(/WebAssembly region/);
    // Only IMUL with an immediate, ROL and PUSHF (in the step and the MOV program) call handlers.
    expect(st.insnsTemplated).toBeGreaterThan(st.insnsCompiled * 0.8);
  });

  it('work on the state block in place when it is in the pool memory, and through the mirror when not', () => {
    expect(wasmStateInPlace(pair.jit.cpu)).toBe(true);
    const progs = programs(pair.layout.dataWindow);
    const failures: string[] = [];
    for (const [name, body] of Object.entries(progs)) {
      const d = runProgram(name, body);
      if (d !== null) failures.push(d);
    }
    pair = new RunnerPair({ jitStateInPool: false });
    expect(wasmStateInPlace(pair.jit.cpu)).toBe(false);
    for (const [name, body] of Object.entries(progs)) {
      const d = runProgram(name, body);
      if (d !== null) failures.push(`mirror: ${d}`);
    }
    for (let i = 0; i < 60 && failures.length < 3; i++) {
      const c = generateCase(23, i, pair.layout);
      const d = pair.run(c, 8, 1 + (i % 5));
      if (d !== null) failures.push(`mirror: ${c.name}: ${d}`);
    }
    expect(failures).toEqual([]);
    expect(pair.jit.cpu.jitRegistry.stats.insnsRun).toBeGreaterThan(0);
  });

  it('catch every template broken (the lock-step comparison sees each one run)', () => {
    const progs = programs(pair.layout.dataWindow);
    const table = WASM_TEMPLATES as Record<string, WasmTemplate>;
    const missed: string[] = [];
    for (const mnem of Object.keys(table)) {
      if (mnem === 'NOP') continue;
      const good = table[mnem];
      // Adds 1 to EDX, then runs the template: wrong whenever the template is used.
      table[mnem] = (e, i, last) => {
        e.f.get(e.r[2]).i32(1).op(Op.I32Add).set(e.r[2]);
        return good(e, i, last);
      };
      try {
        pair.jit.cpu.flushBlocks();
        const caught = Object.entries(progs).some(([name, body]) => runProgram(name, body) !== null);
        if (!caught) missed.push(mnem);
      } finally {
        table[mnem] = good;
      }
    }
    pair.jit.cpu.flushBlocks();
    expect(missed).toEqual([]);
  });

  it(`match the interpreter on ${CASES} generated cases in every environment (faults, real mode, paging)`, () => {
    const failures: string[] = [];
    for (let i = 0; i < CASES && failures.length < 3; i++) {
      const c = generateCase(21, i, pair.layout);
      const d = pair.run(c, 8, 1 + (i % 5));
      if (d !== null) failures.push(`${c.name} (${c.env.mode}${c.env.paging ? ' paging' : ''} ring ${c.env.ring}): ${c.program.map((p) => p.form).join('; ')}\n${d}`);
    }
    expect(failures).toEqual([]);
    expect(pair.jit.cpu.jitRegistry.stats.compiles).toBeGreaterThan(0);
  });

  it('fault precisely inside a region (a store into a not-present page) and leave after a store into their own code', () => {
    const l = pair.layout;
    // mov edi, np - 0x40; L: mov [edi], eax; add edi, 4; inc eax; jmp L  (faults at the not-present page)
    const fault = [0xbf, ...le32(l.npPage - 0x40), 0x89, 0x07, 0x83, 0xc7, 0x04, 0x40, 0xeb, 0xf8];
    expect(pair.run(pair.program(fault, {}, true), 30, 7)).toBeNull();
    expect(pair.jit.cpu.s[7]).toBe(l.npPage);
    // mov esp, np; cmp eax, ebx; pushf; pushf; popf; popf; popf  (the third POPF reads the not-present page)
    const popfFault = [0xbc, ...le32(l.npPage), 0x39, 0xd8, 0x9c, 0x9c, 0x9d, 0x9d, 0x9d, 0xeb, 0xfe];
    expect(pair.run(pair.program(popfFault, { eax: 5, ebx: 7 }, true), 30, 7)).toBeNull();
    // div by zero, then a quotient too wide for EAX (#DE from the handler both times)
    expect(pair.run(pair.program([0x31, 0xc9, 0xf7, 0xf1, 0xeb, 0xfe], { eax: 9, edx: 1 }, true), 30, 7)).toBeNull();
    expect(pair.run(pair.program([0xba, ...le32(5), 0xb9, ...le32(3), 0xf7, 0xf1, 0xeb, 0xfe], { eax: 9 }, true), 30, 7)).toBeNull();
    expect(pair.jit.cpu.s[1]).toBe(3);
    // mov ecx, 50; L: mov byte [L2 + 1], cl; L2: mov al, 0; add ebx, eax; dec ecx; jnz L; jmp $
    const code = l.codeWindow;
    const l2 = code + 5 + 6;
    const smc = [0xb9, ...le32(50), 0x88, 0x0d, ...le32(l2 + 1), 0xb0, 0x00, 0x01, 0xc3, 0x49, 0x75, 0xf2, 0xeb, 0xfe];
    expect(pair.run(pair.program(smc), 30, 13)).toBeNull();
    expect(pair.jit.cpu.s[3]).toBe(pair.interp.cpu.s[3]);
  });
});

/**
 * Superblocks and fused compare-and-branch pairs (src-engine/cpu/decoder.ts, fast-kinds.ts fuse,
 * exec-block.ts) against the handlers, in lock step (jit-lockstep.ts): one CPU runs blocks with
 * the JIT off, so blocks go on past conditional branches and SUB/CMP/AND/TEST/INC/DEC run fused
 * with the branch after them; the other single-steps the handlers. After every chunk the whole
 * state must match: registers, EIP, the raw lazy flags record, the retired count and memory.
 * Programs: every condition code after every fused form, taken and not, inside superblocks and
 * at their ends; a fault and a store into the block after a branch not taken; a taken branch
 * past the CS limit (#GP from the branch, the fused instruction retired).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { lockstep, RunnerPair, RUNNER_RANGES } from './jit-lockstep';
import { jitOffConfig, JIT_DEFAULTS } from '../../../src-engine/cpu/jit/jit-config';
import { FK } from '../../../src-engine/cpu/fast-kinds';

let pair: RunnerPair;

/** A dword as four little-endian bytes. */
function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** Jcc rel8 with condition `cc` to the next instruction but `skip` bytes. */
function jcc(cc: number, skip: number): number[] {
  return [0x70 | cc, skip];
}

/** Operand pairs (EAX gets the first, ECX the second): equal, below, above, signs crossing. */
const OPERANDS = [
  [0, 0], [5, 5], [1, 2], [2, 1], [0x7fffffff, 0x80000000], [0x80000000, 0x7fffffff], [0xffffffff, 1],
  [1, 0xffffffff], [0x80000000, 0x80000000], [0x7fffffff, 0xffffffff], [0xffffffff, 0xffffffff],
];

/**
 * The fused forms: sub eax, ecx; cmp eax, ecx; cmp eax, imm32; sub eax, imm8; and eax, ecx;
 * test eax, ecx; test eax, imm32; and eax, imm8; dec eax; inc eax; dec ecx; inc ecx.
 */
const FUSED_FORMS = [
  [0x29, 0xc8], [0x39, 0xc8], [0x3d, ...le32(0x80000000)], [0x83, 0xe8, 0x01], [0x21, 0xc8], [0x85, 0xc8],
  [0xa9, ...le32(0xedb88320)], [0x83, 0xe0, 0x7f], [0x48], [0x40], [0x49], [0x41],
];

/**
 * One fused form before every condition code with every operand pair: each pair of
 * instructions branches over an `inc ebp` (EBP counts the branches not taken), and the next one
 * follows in the same block.
 */
function everyCondition(form: number[]): number[] {
  const out: number[] = [];
  for (let cc = 0; cc < 16; cc++) {
    OPERANDS.forEach(([x, y], n) => {
      // mov eax, x; mov ecx, y; cmp ecx, eax or add ecx, eax (the CF that INC and DEC keep, from
      // a SUB and an ADD record); the form; jcc over inc ebp
      const record = n % 2 === 0 ? [0x39, 0xc1] : [0x01, 0xc1];
      out.push(0xb8, ...le32(x), 0xb9, ...le32(y), ...record, ...form, ...jcc(cc, 1), 0x45);
    });
  }
  return out;
}

/**
 * The end of every program: `jmp $`. Not HLT: a halted CPU stays halted into the next case,
 * which would then run nothing on either side.
 */
const SPIN = [0xeb, 0xfe];

/** `body` run `count` times: mov esi, count; body; dec esi; jnz body. */
function loop(body: number[], count: number): number[] {
  return [0xbe, ...le32(count), ...body, 0x4e, 0x0f, 0x85, ...le32(-(body.length + 7))];
}

describe('superblocks and fused branches match the handlers', () => {
  beforeAll(() => {
    pair = new RunnerPair();
    pair.jit.cpu.jit = jitOffConfig();
  });

  it('decode one block past branches not taken, fused with the instruction before them', () => {
    const h = pair.jit;
    const l = pair.layout;
    // cmp eax, ecx; jz +0; dec edx; jnz +0; add eax, 1; ret
    h.writePhys(l.codeWindow, new Uint8Array([0x39, 0xc8, 0x74, 0x00, 0x4a, 0x75, 0x00, 0x83, 0xc0, 0x01, 0xc3]));
    h.setRegs({ eip: l.codeWindow });
    const b = h.cpu.lookupBlock();
    expect(b.insns.map((i) => i.kind)).toEqual([FK.CMP_RR32_J, FK.JZ, FK.DEC32_J, FK.JNZ, FK.ADD_RI32, FK.RET32]);
    expect(b.exits).toBe(2);
    // With the JIT on, blocks end at every branch and nothing is a superblock.
    h.cpu.jit = { ...JIT_DEFAULTS, enabled: true };
    h.cpu.flushBlocks();
    const one = h.cpu.lookupBlock();
    h.cpu.jit = jitOffConfig();
    expect(one.insns.length).toBe(2);
    expect(one.exits).toBe(0);
  });

  it('every condition code after every fused form, taken and not, inside and at the end of blocks', () => {
    const failures: string[] = [];
    for (const form of FUSED_FORMS) {
      const code = [...everyCondition(form), ...SPIN];
      const c = pair.program(code);
      for (const budget of [1, 7, 100, 5000]) {
        const d = pair.run(c, 10, budget);
        if (d !== null) failures.push(`form ${form.join(',')} budget ${budget}:\n${d}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('a fault, a store into the block and the budget after a branch not taken', () => {
    const l = pair.layout;
    const failures: string[] = [];
    // The page fault last: the runner's exception handler may leave the CPU halted.
    const programs = [
      // test eax, eax; jnz +0; mov byte [ebx+12], 0x40 (nop -> inc eax, later in this block); nop...
      { paging: false, regs: { ebx: l.codeWindow }, code: [0x85, 0xc0, 0x75, 0x00, 0xc6, 0x43, 0x0c, 0x40, 0x90, 0x90, 0x90, 0x90, 0x90, 0x40, ...SPIN] },
      // dec ecx; jz +0 (not taken while ECX > 0) in a loop of single blocks, then a long superblock
      { paging: false, regs: { ecx: 9 }, code: [...loop([0x49, 0x74, 0x00, 0x85, 0xc9, 0x78, 0x00, 0x41, 0x49, 0x75, 0x00, 0x90], 20), ...SPIN] },
      // cmp eax, ecx; jz +2; mov eax, [ebx] (page not present)
      { paging: true, regs: { ebx: l.npPage }, code: [0x39, 0xc8, 0x75, 0x02, 0x8b, 0x03, ...SPIN] },
    ];
    for (const p of programs) {
      const c = pair.program(p.code, p.regs, p.paging);
      for (const budget of [1, 2, 3, 5, 1000]) {
        const d = pair.run(c, 30, budget);
        if (d !== null) failures.push(`${p.code.join(',')} budget ${budget}:\n${d}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('a taken fused branch past the CS limit raises #GP with the compare retired', () => {
    const l = pair.layout;
    const failures: string[] = [];
    // cmp eax, ecx; jz +0x40 (beyond the limit when taken); inc eax; dec ebx; jnz -? ; hlt
    const code = [0x39, 0xc8, 0x74, 0x40, 0x40, 0x4b, 0x75, 0x00, ...SPIN];
    const limit = (l.codeWindow + 0x20) >>> 0;
    for (const eax of [0, 1]) {
      for (const budget of [1, 3, 1000]) {
        pair.withCsLimit(code, limit);
        // setRegs leaves CS's cache as it is (no selector given).
        for (const h of [pair.interp, pair.jit]) h.setRegs({ eax, ecx: 0, ebx: 1 });
        const d = lockstep(pair.interp, pair.jit, RUNNER_RANGES, 6, budget);
        if (d !== null) failures.push(`eax ${eax} budget ${budget}:\n${d}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

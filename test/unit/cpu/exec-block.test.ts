/**
 * The interpreter's inline fast path (src-engine/cpu/exec-block.ts, fast-kinds.ts) against the
 * instruction handlers: one CPU runs blocks with run() (the JIT off, so every block goes through
 * the block loop and its inline kinds), the other single-steps (decodeOne + the handler alone);
 * after every chunk the whole state must match (jit-lockstep.ts): registers, EIP, the raw lazy
 * flags record, segment caches, control registers, the instruction count and memory. Programs:
 * the differential generator's cases (every environment, faults, paging), the same in loops,
 * and hand-written programs aimed at each fast kind's fall-back conditions (unaligned and
 * page-crossing operands, stores into the running block, a stack at a page edge, pages not
 * present, flags carried from every kind of lazy record into INC/DEC and Jcc).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { generateCase } from '../../diff/generator';
import type { DiffCase } from '../../diff/case';
import { RunnerPair } from './jit-lockstep';
import { jitOffConfig } from '../../../src-engine/cpu/jit/jit-config';
import { classify, FK } from '../../../src-engine/cpu/fast-kinds';
import { decodeOne } from '../../../src-engine/cpu/decoder';
import { createCpuHarness } from '../../support/cpu-harness';

const CASES = Number(process.env.DOMUS_EXEC_FUZZ_CASES ?? 300);

let pair: RunnerPair;

function runCase(c: DiffCase, chunks: number, budget: number, code?: Uint8Array): string | null {
  const d = pair.run(c, chunks, budget, code);
  return d === null ? null : `${c.name} (${c.env.mode}${c.env.paging ? ' paging' : ''} ring ${c.env.ring}): ${c.program.map((p) => p.form).join('; ')}\n${d}`;
}

/** `body` run `count` times: mov ebp, count; body; dec ebp; jnz body (32-bit code). */
function loop32(body: number[], count: number): number[] {
  const head = [0xbd, count & 0xff, (count >> 8) & 0xff, 0, 0];
  const short = -(body.length + 3);
  if (short >= -128) return [...head, ...body, 0x4d, 0x75, short & 0xff];
  return [...head, ...body, 0x4d, 0x0f, 0x85, ...le32(-(body.length + 7))];
}

/**
 * Instructions each followed by `jmp $+2`, so that each ends a block and the lock step compares
 * the state, lazy flags record included, after every one of them. (Not a Jcc: the block would go
 * on past it when not taken, and an ALU instruction before it would run fused with it;
 * superblocks.test.ts tests those.)
 */
function each(...insns: number[][]): number[] {
  return insns.flatMap((ins) => [...ins, 0xeb, 0x00]);
}

/** A dword as four little-endian bytes. */
function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

describe('the interpreter fast path matches the handlers', () => {
  beforeAll(() => {
    pair = new RunnerPair();
    pair.jit.cpu.jit = jitOffConfig();
  });

  it('classifies the frequent forms and leaves the rest to their handlers', () => {
    const h = createCpuHarness({ memBytes: 1 << 20 });
    h.setRegs({ cr0: 0x11 });
    const kindOf = (bytes: number[], cs32: boolean) => {
      h.writePhys(0x1000, new Uint8Array(bytes));
      h.cpu.cs32 = cs32;
      return classify(decodeOne(h.cpu, 0x1000, 0x1000));
    };
    // mov eax, ebx; add eax, [ebx+4]; push ecx; jnz; inc eax
    for (const code of [[0x89, 0xd8], [0x03, 0x43, 0x04], [0x51], [0x75, 0x00], [0x40]]) {
      expect(kindOf(code, true)).not.toBe(FK.CALL);
    }
    // 16-bit addressing (0x67), LOCK add [eax], ebx, adc ax (0x66), mul ecx: handlers.
    for (const code of [[0x67, 0x8b, 0x07], [0xf0, 0x01, 0x18], [0x66, 0x11, 0xd8], [0xf7, 0xe1]]) {
      expect(kindOf(code, true)).toBe(FK.CALL);
    }
  });

  for (const seed of [21, 22]) {
    it(`on ${CASES} generated cases (seed ${seed}), state compared after every chunk`, () => {
      const failures: string[] = [];
      for (let i = 0; i < CASES && failures.length < 3; i++) {
        const c = generateCase(seed, i, pair.layout);
        const d = runCase(c, 8, 1 + (i % 7));
        if (d !== null) failures.push(d);
      }
      expect(failures).toEqual([]);
    });
  }

  it(`on ${CASES} generated programs run in loops (flags carried across blocks)`, () => {
    const failures: string[] = [];
    let ran = 0;
    for (let i = 0; i < CASES && failures.length < 3; i++) {
      const c = generateCase(23, i, pair.layout);
      if (c.env.mode === 'real' || c.program.some((p) => /bp|enter|leave|popa|xchg|cmpxchg|xadd/.test(p.form))) continue;
      const body = [...c.code];
      if (body.length + 3 > 128) continue;
      ran++;
      const d = runCase(c, 6, 40 + (i % 200), new Uint8Array(loop32(body, 5 + (i % 40))));
      if (d !== null) failures.push(d);
    }
    expect(ran).toBeGreaterThan(CASES / 4);
    expect(failures).toEqual([]);
  });

  it('on the fall-back conditions of every fast kind', () => {
    const l = pair.layout;
    const data = l.dataWindow;
    const pageEnd = ((data + 0x1000) & ~0xfff) >>> 0;
    const programs: { name: string; code: number[]; regs?: Partial<Record<'eax' | 'ebx' | 'ecx' | 'edx' | 'esi' | 'edi' | 'esp', number>>; paging?: boolean }[] = [
      {
        name: 'ALU forms with every op, aligned and unaligned memory',
        regs: { ebx: data, esi: data + 1, eax: 0x7fffffff, ecx: 0x80000000, edx: 5 },
        code: loop32(each(
          [0x01, 0xc8], [0x09, 0xc8], [0x11, 0xc8], [0x19, 0xc8], [0x21, 0xc8], [0x29, 0xc8], [0x31, 0xc8],
          [0x39, 0xc8], [0x85, 0xc8], [0x81, 0xc0, ...le32(0x12345678)], [0x83, 0xe8, 0x01], [0x83, 0xd0, 0x00],
          [0x83, 0xd8, 0x7f], [0x83, 0xf8, 0x03], [0x03, 0x03], [0x2b, 0x06], [0x13, 0x46, 0x04], [0x01, 0x03],
          [0x29, 0x0e], [0x19, 0x53, 0x08], [0x39, 0x03], [0x85, 0x0e], [0x40], [0x48], [0x41], [0x49],
          [0xc1, 0xe0, 0x03], [0xc1, 0xe8, 0x05], [0xc1, 0xe0, 0x00], [0xc1, 0xe8, 0x20],
          [0xba, ...le32(0x12345673)], [0x83, 0xca, 0x0f], [0x83, 0xe2, 0xf0], [0x83, 0xf2, 0x55],
          [0xf7, 0xc2, ...le32(0x80000051)], [0x81, 0xf2, ...le32(0xedb88320)], [0x81, 0xea, ...le32(0x7fffffff)],
          [0xa9, ...le32(0x80000001)],
        ), 20),
      },
      {
        name: '8-bit ALU forms, ALU with memory and immediate, PUSH from memory (aligned and not)',
        regs: { ebx: data, eax: 0x80, ecx: 0xff, edx: 0x0f },
        code: loop32(each(
          [0x00, 0xc8], [0x00, 0xd8], [0x0c, 0x12], [0x2a, 0x1b], [0x38, 0x43, 0x01], [0x84, 0x1b], [0x10, 0xc8],
          [0x80, 0x5b, 0x02, 0x05], [0x80, 0x73, 0x03, 0xff], [0x80, 0x3b, 0x80], [0x20, 0x53, 0x04],
          [0x81, 0x43, 0x08, ...le32(0x1000)], [0x83, 0x7b, 0x08, 0x05], [0x83, 0x5b, 0x09, 0x01],
          [0xf7, 0x43, 0x0c, ...le32(0x80000000)], [0xff, 0x73, 0x08], [0x58], [0xff, 0x73, 0x01], [0x59],
          [0x18, 0xe1], [0x28, 0xcc],
        ), 25),
      },
      {
        name: 'INC and DEC after every kind of lazy record, Jcc on each',
        regs: { eax: 1, ebx: 0xffffffff, ecx: 0 },
        code: loop32([
          0x01, 0xd8, 0x40, 0x72, 0x00, 0x29, 0xc3, 0x48, 0x73, 0x00, 0x21, 0xc0, 0x41, 0x74, 0x00, 0xd1, 0xe0, 0x49,
          0x75, 0x00, 0xf7, 0xe3, 0x40, 0x7c, 0x00, 0x11, 0xd8, 0x48, 0x7f, 0x00, 0xf9, 0x40, 0x72, 0x00,
          0x83, 0xf9, 0x05, 0x72, 0x00, 0x83, 0xf9, 0x05, 0x73, 0x00, 0x39, 0xc8, 0x76, 0x00,
        ], 30),
      },
      {
        name: 'MOV, MOVZX and LEA with operands straddling a page and at its last byte',
        regs: { ebx: pageEnd - 2, esi: pageEnd - 1, edi: data + 3 },
        code: loop32([
          0x8b, 0x03, 0x89, 0x03, 0x8a, 0x06, 0x88, 0x06, 0x0f, 0xb6, 0x06, 0x0f, 0xb6, 0xc3, 0xc6, 0x06, 0x5a,
          0xc7, 0x07, ...le32(0xdeadbeef), 0x8b, 0x07, 0x8d, 0x44, 0x9e, 0x10, 0x89, 0xc1, 0xb9, ...le32(7),
        ], 10),
      },
      {
        name: 'PUSH, POP, CALL and RET with ESP unaligned and at a page edge',
        regs: { esp: l.ring0StackTop - 1, eax: 0x11111111, ecx: 3 },
        code: [
          0x50, 0x58, 0x6a, 0x05, 0x68, ...le32(0x22222222), 0x5b, 0x5a, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x58,
          0xe8, 0x01, 0x00, 0x00, 0x00, 0xf4, 0x83, 0xc4, 0x04, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x5c, 0xc3,
        ],
      },
      {
        name: 'stores into the running block (self-modifying code) through MOV, ALU and PUSH',
        regs: { ebx: l.codeWindow, esp: l.codeWindow + 0x40 },
        // mov byte [ebx+10], 0x40 (turns the nop at +10 into inc eax); add [ebx+11], eax; push eax
        // Ends in jmp $, not HLT: a halted CPU would stay halted into the next program.
        code: [0xc6, 0x43, 0x0a, 0x40, 0x01, 0x43, 0x0b, 0x50, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x40, 0xeb, 0xfe],
      },
      {
        name: 'accesses to a page that is not present (page faults from the fast kinds)',
        paging: true,
        regs: { ebx: l.npPage, esp: l.npPage + 0x10 },
        code: [0x8b, 0x03, 0x89, 0x03, 0x01, 0x03, 0xc6, 0x03, 0x01, 0x50, 0x58, 0xf4],
      },
    ];
    const failures: string[] = [];
    for (const p of programs) {
      const c = pair.program(p.code, p.regs, p.paging ?? false);
      for (const budget of [1, 3, 17, 1000]) {
        const d = pair.run(c, 12, budget);
        if (d !== null) failures.push(`${p.name} (budget ${budget}):\n${d}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

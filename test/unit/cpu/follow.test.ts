/**
 * Jumps and calls followed at decode time (src-engine/cpu/fast-kinds.ts follow, decoder.ts,
 * exec-block.ts): with the JIT off, a block goes on at the target of a JMP rel or CALL rel32 in
 * the same page. Checked against the handlers in lock step (jit-lockstep.ts: registers, EIP, the
 * lazy record, memory including the stack): calls forwards and backwards in loops, a block that
 * falls through after a call (EIP at its end), a page fault in the called code, a push that takes
 * the handler (misaligned stack), a call and a jump past
 * the CS limit (#GP), and stores into the block's code before and after its start (the
 * self-modifying-code check covers every part of the block).
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

/** call rel32 from offset `at` (of the instruction) to offset `to`. */
function call(at: number, to: number): number[] {
  return [0xe8, ...le32(to - (at + 5))];
}

/** jmp rel32 from offset `at` to offset `to`. */
function jmp(at: number, to: number): number[] {
  return [0xe9, ...le32(to - (at + 5))];
}

/** jmp $: the end of every program. */
const SPIN = [0xeb, 0xfe];

/**
 * A program with a function before and one after its main loop: jmp MAIN; F: add eax, ecx; ret;
 * MAIN: mov esi, 40; L: call F; inc ecx; call G; dec esi; jnz L; spin; G: xor edx, eax; shl eax, 1;
 * jmp H; (one byte) H: ret.
 */
function loopProgram(): number[] {
  const f = 5;
  const main = f + 3;
  const l = main + 5;
  const g = l + 5 + 1 + 5 + 1 + 2 + 2;
  const code = [
    ...jmp(0, main), 0x01, 0xc8, 0xc3,
    0xbe, ...le32(40), ...call(l, f), 0x41, ...call(l + 6, g), 0x4e, 0x75, (l - (l + 14)) & 0xff, ...SPIN,
    0x31, 0xc2, 0xd1, 0xe0, 0xeb, 0x01, 0xcc, 0xc3,
  ];
  expect(code.length).toBe(g + 8);
  return code;
}

describe('followed jumps and calls match the handlers', () => {
  beforeAll(() => {
    pair = new RunnerPair();
    pair.jit.cpu.jit = jitOffConfig();
  });

  it('decode past a jump or call within the page, and only then', () => {
    const h = pair.jit;
    const l = pair.layout;
    expect((l.codeWindow & 0xfff) + 0x100).toBeLessThan(0x1000);
    const block = (code: number[], at = 0) => {
      h.writePhys(l.codeWindow, new Uint8Array(code));
      h.setRegs({ eip: l.codeWindow + at });
      h.cpu.flushBlocks();
      return h.cpu.lookupBlock();
    };
    // MAIN (offset 8): mov esi, 40; call F (backwards); add eax, ecx; ret
    const main = block(loopProgram(), 8);
    expect(main.insns.map((i) => i.kind).slice(0, 4)).toEqual([FK.MOV_RI32, FK.CALL32_IN, FK.ADD_RR32, FK.RET32]);
    expect(main.exits).toBe(1);
    // The code bytes run from F (offset 5) to past the call.
    expect(main.spanOff).toBe(main.off - 3);
    expect(main.bytes).toBe(3 + 10);
    // jmp $+2 still ends a block; a call into another page is not followed.
    expect(block([0xeb, 0x00, 0x90, 0xc3]).insns.map((i) => i.kind)).toEqual([FK.JMP]);
    const far = block(call(0, 0x2000));
    expect(far.insns.map((i) => i.kind)).toEqual([FK.CALL32]);
    // With the JIT on, nothing is followed.
    h.cpu.jit = { ...JIT_DEFAULTS, enabled: true };
    const jit = block(loopProgram(), 8);
    h.cpu.jit = jitOffConfig();
    expect(jit.insns.map((i) => i.kind)).toEqual([FK.MOV_RI32, FK.CALL32]);
  });

  it('calls forwards and backwards and jumps in a loop, at every budget', () => {
    const failures: string[] = [];
    const c = pair.program(loopProgram());
    for (const budget of [1, 2, 3, 7, 13, 1000]) {
      const d = pair.run(c, 40, budget);
      if (d !== null) failures.push(`budget ${budget}:\n${d}`);
    }
    expect(failures).toEqual([]);
  });

  it('a block that falls through after a call, a push that takes the handler, a page fault in the called code', () => {
    const l = pair.layout;
    const failures: string[] = [];
    // call F; spin; F: mov eax, [ebx] (EBX: a page not present); ret
    const fault = [...call(0, 7), ...SPIN, 0x8b, 0x03, 0xc3];
    // push eax; pop eax (the stack page in the TLB); call F; inc eax; spin; F: pushfd; popfd (ends
    // the block, which falls through); inc ecx; ret: with ESP aligned (the call's push inline),
    // and two bytes off alignment (it takes the handler)
    const push = [0x50, 0x58, ...call(2, 10), 0x40, ...SPIN, 0x9c, 0x9d, 0x41, 0xc3];
    const programs = [
      { code: push, regs: {}, paging: false },
      { code: push, regs: { esp: l.ring0StackTop - 2 }, paging: false },
      { code: fault, regs: { ebx: l.npPage }, paging: true },
    ];
    for (const p of programs) {
      const c = pair.program(p.code, p.regs, p.paging);
      for (const budget of [1, 2, 100]) {
        const d = pair.run(c, 6, budget);
        if (d !== null) failures.push(`${p.code.join(',')} budget ${budget}:\n${d}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('a jump whose target crosses the page end ends the block as a plain jump', () => {
    const l = pair.layout;
    // jmp END-2; at END-2: mov eax, 0x12345678 (two bytes in this page, three in the next); spin
    const code = jmp(0, 0xffe);
    const tail = [0xb8, 0x78, 0x56, 0x34, 0x12, ...SPIN];
    for (const budget of [1, 100]) {
      const c = pair.program(code);
      for (const h of [pair.interp, pair.jit]) {
        pair.setUp(h, c);
        h.writePhys(l.codeWindow + 0xffe, new Uint8Array(tail));
        h.cpu.flushBlocks();
      }
      expect(pair.jit.cpu.lookupBlock().insns.map((i) => i.kind)).toEqual([FK.JMP]);
      expect(lockstep(pair.interp, pair.jit, RUNNER_RANGES, 4, budget)).toBeNull();
    }
  });

  it('a call and a jump past the CS limit raise #GP from the call or jump', () => {
    const l = pair.layout;
    const failures: string[] = [];
    // inc eax; call +0x40 / jmp +0x40 (beyond the limit); spin
    const programs = [[0x40, ...call(1, 0x46), ...SPIN], [0x40, ...jmp(1, 0x46), ...SPIN]];
    for (const code of programs) {
      for (const budget of [1, 1000]) {
        pair.withCsLimit(code, (l.codeWindow + 0x20) >>> 0);
        const d = lockstep(pair.interp, pair.jit, RUNNER_RANGES, 4, budget);
        if (d !== null) failures.push(`${code.join(',')} budget ${budget}:\n${d}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('stores into the code of the block, before and after its start', () => {
    const l = pair.layout;
    const failures: string[] = [];
    // (five bytes); F: mov byte [ebx], 0x40 (the nop after it becomes inc eax); nop; nop; ret;
    // MAIN: mov ebx, F+3; call F; spin, run from MAIN: the block holds F, below its start.
    const before = [0x90, 0x90, 0x90, 0x90, 0x90, 0xc6, 0x03, 0x40, 0x90, 0x90, 0xc3, 0xbb, ...le32(l.codeWindow + 8), ...call(16, 5), ...SPIN];
    // mov ebx, F+4; call F; spin; F: mov byte [ebx], 0x40; nop; ret (the nop after the store)
    const after = [0xbb, ...le32(l.codeWindow + 16), ...call(5, 12), ...SPIN, 0x90, 0xc6, 0x03, 0x40, 0x90, 0xc3];
    for (const [code, start] of [[before, 11], [after, 0]] as const) {
      for (const budget of [1, 100]) {
        const c = pair.program([...code]);
        for (const h of [pair.interp, pair.jit]) {
          pair.setUp(h, c);
          h.setRegs({ eip: l.codeWindow + start });
        }
        const d = lockstep(pair.interp, pair.jit, RUNNER_RANGES, 6, budget);
        if (d !== null) failures.push(`${code.join(',')} budget ${budget}:\n${d}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

/**
 * A function's epilogue in one dispatch (src-engine/cpu/fast-kinds.ts addRet, exec-block.ts
 * FK.ADD_RET): ADD ESP, imm followed by the RET that ends the block. Checked in lock step with
 * the handlers (jit-lockstep.ts: registers, EIP, the lazy record, memory including the stack):
 * a recursive function (GCC's fib) at several budgets, and each way the RET falls back to its
 * handler with the ADD retired: a misaligned stack, a return address past the CS limit (#GP), a
 * stack page not present (#PF). Also the calls around it: a store before a CALL with each of its
 * fall-backs (misaligned, not present, into the code's frame), the push misaligned or not
 * present, the target past the CS limit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { lockstep, RunnerPair, RUNNER_RANGES } from './jit-lockstep';
import { jitOffConfig } from '../../../src-engine/cpu/jit/jit-config';
import { FK } from '../../../src-engine/cpu/fast-kinds';

let pair: RunnerPair;

/** A dword as four little-endian bytes. */
function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** Bytes of fibProgram's MAIN, where the program starts. */
const MAIN_BYTES = 12;
/** Offset in fibProgram of the epilogue block (mov eax, ebx ... ret), the jbe's target. */
const EPILOGUE = 47;
/** The value stored before a CALL (non-zero, so that a store to the wrong place shows). */
const STORED = 0x12345678;
/** Instructions fib(12) retires, about: the lock step covers them at every budget but the smallest. */
const FIB_INSNS = 9000;
/** Most runs compared per budget. */
const MAX_CHUNKS = 300;

/**
 * fib(n) as GCC -O2 compiles it for i686 (a frame of 28 bytes, EBX and ESI saved in it, the
 * argument at [esp+32]), then MAIN: push n; call FIB; add esp, 4; jmp $.
 */
function fibProgram(n: number): number[] {
  const fib = [
    0x83, 0xec, 0x1c, 0x89, 0x5c, 0x24, 0x14, 0x8b, 0x5c, 0x24, 0x20, 0x89, 0x74, 0x24, 0x18,
    0x83, 0xfb, 0x01, 0x76, EPILOGUE - 20, 0x8d, 0x43, 0xff, 0x83, 0xeb, 0x02, 0x89, 0x04, 0x24,
    0xe8, ...le32(-34), 0x89, 0x1c, 0x24, 0x89, 0xc6, 0xe8, ...le32(-44), 0x8d, 0x1c, 0x06,
    0x89, 0xd8, 0x8b, 0x74, 0x24, 0x18, 0x8b, 0x5c, 0x24, 0x14, 0x83, 0xc4, 0x1c, 0xc3,
  ];
  const main = fib.length;
  return [...fib, 0x6a, n, 0xe8, ...le32(-(main + 2 + 5)), 0x83, 0xc4, 0x04, 0xeb, 0xfe];
}

describe('ADD ESP, imm with the RET after it matches the handlers', () => {
  beforeAll(() => {
    pair = new RunnerPair();
    pair.jit.cpu.jit = jitOffConfig();
  });

  it('fib(12) at every budget', () => {
    const l = pair.layout;
    const code = fibProgram(12);
    const c = pair.program(code);
    // The epilogue block: three moves, then the pair in one kind (the RET keeps its own).
    pair.setUp(pair.jit, c);
    pair.jit.setRegs({ eip: l.codeWindow + EPILOGUE });
    pair.jit.cpu.flushBlocks();
    expect(pair.jit.cpu.lookupBlock().insns.map((i) => i.kind)).toEqual([FK.MOV_RR32, FK.MOV_RM32, FK.MOV_RM32, FK.ADD_RET, FK.RET32]);
    const failures: string[] = [];
    for (const budget of [1, 2, 5, 13, 31, 1000]) {
      for (const h of [pair.interp, pair.jit]) {
        pair.setUp(h, c);
        h.setRegs({ eip: l.codeWindow + code.length - MAIN_BYTES });
      }
      const d = lockstep(pair.interp, pair.jit, RUNNER_RANGES, Math.min(MAX_CHUNKS, Math.ceil(FIB_INSNS / budget)), budget);
      if (d !== null) failures.push(`budget ${budget}:\n${d}`);
    }
    expect(failures).toEqual([]);
    // fib(12) = 144, the stack back where it started.
    expect(pair.jit.getRegs().eax).toBe(144);
    expect(pair.jit.getRegs().esp).toBe(l.ring0StackTop);
  });

  it('a misaligned stack, a return past the CS limit, a stack page not present', () => {
    const l = pair.layout;
    const win = l.codeWindow;
    const target = 0x30;
    // MAIN: sub esp, 2 (misaligned: the push and the RET take their handlers); push TARGET;
    // sub esp, 8; jmp F (followed: one block); F: add esp, 8; ret. TARGET: inc eax; jmp $.
    const main = [0x83, 0xec, 0x02, 0x68, ...le32(win + target), 0x83, 0xec, 0x08, 0xeb, 0x00, 0x83, 0xc4, 0x08, 0xc3];
    const misaligned = [...main, ...new Array<number>(target - main.length).fill(0x90), 0x40, 0xeb, 0xfe];
    // The same aligned, returning to an address past the CS limit (#GP from the RET).
    const aligned = misaligned.slice(3);
    // mov esp, NP_PAGE - 8; add esp, 8; ret: the RET's read faults (#PF, the ADD retired).
    const np = [0xbc, ...le32(l.npPage - 8), 0x83, 0xc4, 0x08, 0xc3];
    const failures: string[] = [];
    for (const budget of [1, 2, 100]) {
      for (const [name, code, paging] of [['misaligned', misaligned, false], ['not present', np, true]] as const) {
        const d = pair.run(pair.program([...code], {}, paging), 8, budget);
        if (d !== null) failures.push(`${name}, budget ${budget}:\n${d}`);
      }
      pair.withCsLimit(aligned, (win + target - 1) >>> 0);
      const d = lockstep(pair.interp, pair.jit, RUNNER_RANGES, 8, budget);
      if (d !== null) failures.push(`past the CS limit, budget ${budget}:\n${d}`);
    }
    expect(failures).toEqual([]);
  });

  it('a store or a push that takes its handler, faults from either, a call past the CS limit', () => {
    const l = pair.layout;
    const win = l.codeWindow;
    // mov ecx, [edi]; push eax; pop eax (the pages into the TLB, so that the pair runs inline up
    // to the condition that fails); mov [ebx], eax; call F; inc ecx; jmp $; F: inc edx; ret, with
    // EBX, EDI and ESP as below.
    const code = [0x8b, 0x0f, 0x50, 0x58, 0x89, 0x03, 0xe8, ...le32(3), 0x41, 0xeb, 0xfe, 0x42, 0xc3];
    const spinEnd = 13;
    const data = l.dataWindow;
    const failures: string[] = [];
    const cases = [
      { name: 'aligned', regs: { ebx: data, edi: data }, paging: false },
      { name: 'store misaligned', regs: { ebx: data + 1, edi: data + 1 }, paging: false },
      { name: 'store into the code frame', regs: { ebx: win + 0x800, edi: win + 0x800 }, paging: false },
      { name: 'store not present', regs: { ebx: l.npPage, edi: data }, paging: true },
      { name: 'push misaligned', regs: { ebx: data, edi: data, esp: l.ring0StackTop - 2 }, paging: false },
      { name: 'push not present', regs: { ebx: data, edi: data, esp: l.npPage + 0x1000 }, paging: true },
    ];
    for (const budget of [1, 2, 100]) {
      for (const c of cases) {
        const d = pair.run(pair.program([...code], { eax: STORED, ...c.regs }, c.paging), 8, budget);
        if (d !== null) failures.push(`${c.name}, budget ${budget}:\n${d}`);
      }
      // The call's target past the limit: #GP from the CALL, the store retired.
      pair.withCsLimit(code, (win + spinEnd) >>> 0);
      for (const h of [pair.interp, pair.jit]) h.setRegs({ eax: STORED, ebx: data, edi: data });
      const d = lockstep(pair.interp, pair.jit, RUNNER_RANGES, 8, budget);
      if (d !== null) failures.push(`past the CS limit, budget ${budget}:\n${d}`);
    }
    expect(failures).toEqual([]);
  });
});

/**
 * Flag-dead kinds (src-engine/cpu/fast-kinds.ts deadFlags, exec-block.ts): an INC, DEC, shift by
 * an immediate or ADD/SUB/AND/OR/XOR r32 whose flags a later instruction of the block overwrites
 * whole, with only moves, LEA and MOVZX r8 between, runs without writing the lazy record. Checked
 * against the handlers in lock step (jit-lockstep.ts: registers, EIP, EFLAGS, the lazy record,
 * memory): every such form before every overwriting form, with and without instructions between,
 * and the cases where the flags must stay live (a flag reader, INC/DEC keeping CF, a shift by 0, a
 * memory access that faults, a conditional branch that leaves the block), with the exception
 * frame of the fault compared in memory.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { RunnerPair } from './jit-lockstep';
import { jitOffConfig } from '../../../src-engine/cpu/jit/jit-config';
import { FK } from '../../../src-engine/cpu/fast-kinds';

let pair: RunnerPair;

/** A dword as four little-endian bytes. */
function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/**
 * The forms that get a flag-dead kind, on EAX (and ECX): inc, dec, shl 5, shr 3, then add, sub,
 * and, or, xor with ECX and with an immediate.
 */
const DEAD_FORMS = [
  [0x40], [0x48], [0xc1, 0xe0, 0x05], [0xc1, 0xe8, 0x03],
  [0x01, 0xc8], [0x05, ...le32(0x80000001)], [0x29, 0xc8], [0x83, 0xe8, 0x03], [0x21, 0xc8], [0x25, ...le32(0xff00ff00)],
  [0x09, 0xc8], [0x83, 0xc8, 0x81], [0x31, 0xc8], [0x35, ...le32(0xedb88320)],
];

/** Instructions that neither read nor write flags nor fault: mov edi, ecx; mov edi, imm; lea; movzx edi, cl. */
const BETWEEN = [[], [0x89, 0xcf], [0xbf, ...le32(7), 0x8d, 0x7c, 0x48, 0x04, 0x0f, 0xb6, 0xf9]];

/**
 * Instructions that overwrite the whole record, on EDX and ECX: add, sub, cmp, and, test, or, xor
 * with a register or an immediate, shl and shr by an immediate, an 8-bit add, and cmp fused with
 * jz (to the next instruction). The flags then reach a pushfd.
 */
const OVERWRITE = [
  [0x01, 0xca], [0x29, 0xca], [0x39, 0xca], [0x21, 0xca], [0x85, 0xca], [0x09, 0xca], [0x31, 0xca],
  [0x83, 0xc2, 0x7f], [0x83, 0xfa, 0x01], [0xf7, 0xc2, ...le32(0x80000000)], [0xc1, 0xe2, 0x1f], [0xc1, 0xea, 0x01],
  [0x00, 0xca], [0x39, 0xca, 0x74, 0x00],
];

/**
 * Instructions after which the earlier flags are still live: adc edx, ecx; adc dl, cl; inc edx (CF
 * kept); shl edx, 0 (no flags written), then adc; setb dl; jb to the next instruction (a
 * superblock exit, taken or not), then xor; pushfd.
 */
const LIVE = [
  [0x11, 0xca], [0x10, 0xca], [0x42], [0xc1, 0xe2, 0x00, 0x11, 0xca], [0x0f, 0x92, 0xc2], [0x72, 0x00, 0x31, 0xca], [],
];

/** Forms that get a flag-deferred kind before memory moves: add eax, 5 / 0x80000001; sub eax, 3 / 0x7fffffff. */
const DEFER_FORMS = [[0x83, 0xc0, 0x05], [0x05, ...le32(0x80000001)], [0x83, 0xe8, 0x03], [0x2d, ...le32(0x7fffffff)]];

/**
 * Moves between a deferred form and the overwriting instruction (EBX: an aligned dword of the data
 * window, ESI one byte past it): none; mov [ebx], eax (inline); mov [esi], eax and mov edi, [esi]
 * (unaligned: their handlers, after the deferred record is written); push eax, pop edi; mov [ebx],
 * al, movzx edi, byte [ebx]; a call over one byte into pop edi and a jump over one byte (both
 * followed); mov eax, [ebx] (writes EAX: the record cannot be deferred and stays live).
 */
const MOVES = [
  [], [0x89, 0x03], [0x89, 0x06], [0x8b, 0x3e], [0x50, 0x5f], [0x88, 0x03, 0x0f, 0xb6, 0x3b],
  [0xe8, ...le32(1), 0x90, 0x5f], [0xeb, 0x01, 0x90], [0x8b, 0x03],
];

/** pushfd; pop esi: the flags into ESI. jmp $+2: ends the block. */
const READ_FLAGS = [0x9c, 0x5e];
const JMP_NEXT = [0xeb, 0x00];
/** jmp $: the end of every program (the lock step compares while both spin). */
const SPIN = [0xeb, 0xfe];

/** EAX, ECX, EDX before each group: carries, overflows, zero results and signs. */
const OPERANDS = [
  [0xffffffff, 1, 0], [0x7fffffff, 1, 0x80000000], [0, 0, 0xffffffff], [0x80000000, 0x80000000, 1], [0x12345678, 0x9abcdef0, 5],
];

/** mov eax, x; mov ecx, y; mov edx, z. */
function setRegs([x, y, z]: number[]): number[] {
  return [0xb8, ...le32(x), 0xb9, ...le32(y), 0xba, ...le32(z)];
}

/** Every operand set before `form`, `between` and `after`, the flags read, the block ended. */
function groups(form: number[], between: number[], after: number[]): number[] {
  return OPERANDS.flatMap((ops) => [...setRegs(ops), ...form, ...between, ...after, ...READ_FLAGS, ...JMP_NEXT]);
}

/**
 * Runs `code` in lock step: one block per chunk (budget 1; `blocks` chunks, each group at most two
 * blocks), then again with several linked blocks per chunk. A divergence report or null.
 */
function runBoth(code: number[], blocks: number, regs: Record<string, number> = {}, paging = false): string | null {
  const c = pair.program(code, regs, paging);
  return pair.run(c, blocks, 1) ?? pair.run(c, Math.ceil(blocks / BLOCKS_PER_CHUNK) + 1, BLOCKS_PER_CHUNK * INSNS_PER_BLOCK);
}
/** The second run's chunks: about this many blocks of at most this many instructions. */
const BLOCKS_PER_CHUNK = 8;
const INSNS_PER_BLOCK = 12;

describe('flag-dead kinds match the handlers', () => {
  beforeAll(() => {
    pair = new RunnerPair();
    pair.jit.cpu.jit = jitOffConfig();
  });

  it('are given only where a later instruction overwrites the flags before anything can see them', () => {
    const h = pair.jit;
    const l = pair.layout;
    const kinds = (code: number[]): number[] => {
      h.writePhys(l.codeWindow, new Uint8Array(code));
      h.setRegs({ eip: l.codeWindow });
      h.cpu.flushBlocks();
      return h.cpu.lookupBlock().insns.map((i) => i.kind);
    };
    // mov edx, eax; inc ecx; shl edx, 13; xor eax, edx; mov edx, eax; shr edx, 17; xor edx, eax;
    // mov [ecx-1], al; cmp ecx, esi; jne (xorshift32, as GCC compiles it)
    expect(kinds([0x89, 0xc2, 0x41, 0xc1, 0xe2, 0x0d, 0x31, 0xd0, 0x89, 0xc2, 0xc1, 0xea, 0x11, 0x31, 0xc2, 0x88, 0x41, 0xff, 0x39, 0xce, 0x75, 0xe3, 0xc3]))
      .toEqual([FK.MOV_RR32, FK.INC32_NF, FK.SHL32_NF, FK.XOR_RR32_NF, FK.MOV_RR32, FK.SHR32_NF, FK.XOR_RR32, FK.MOV_MR8, FK.CMP_RR32_J, FK.JNZ, FK.RET32]);
    // add eax, ecx; adc edx, 0 / add eax, ecx; inc edx; cmp / add eax, ecx; shl edx, 0; cmp /
    // add eax, ecx; mov edi, [ebx]; cmp: the ADD keeps its record in all but the third.
    expect(kinds([0x01, 0xc8, 0x83, 0xd2, 0x00, 0xc3])[0]).toBe(FK.ADD_RR32);
    expect(kinds([0x01, 0xc8, 0x42, 0x39, 0xca, 0xc3]).slice(0, 2)).toEqual([FK.ADD_RR32, FK.INC32_NF]);
    expect(kinds([0x01, 0xc8, 0xc1, 0xe2, 0x00, 0x39, 0xca, 0xc3])[0]).toBe(FK.ADD_RR32_NF);
    expect(kinds([0x01, 0xc8, 0x8b, 0x3b, 0x39, 0xca, 0xc3])[0]).toBe(FK.ADD_RR32);
  });

  it('every flag-dead form before every overwriting form, with and without instructions between', () => {
    const failures: string[] = [];
    for (const form of DEAD_FORMS) {
      const code = [...BETWEEN.flatMap((between) => OVERWRITE.flatMap((after) => groups(form, between, after))), ...SPIN];
      const d = runBoth(code, 2 * BETWEEN.length * OVERWRITE.length * OPERANDS.length + 2);
      if (d !== null) failures.push(`form ${form.join(',')}:\n${d}`);
    }
    expect(failures).toEqual([]);
  });

  it('the flags stay live before a reader, INC/DEC, a shift by 0 and a branch out of the block', () => {
    const failures: string[] = [];
    for (const form of DEAD_FORMS) {
      const code = [...LIVE.flatMap((after) => groups(form, [0x89, 0xcf], after)), ...SPIN];
      const d = runBoth(code, 2 * LIVE.length * OPERANDS.length + 2);
      if (d !== null) failures.push(`form ${form.join(',')}:\n${d}`);
    }
    expect(failures).toEqual([]);
  });

  it('defers the record of ADD/SUB r32, imm across memory moves when nothing between writes the register', () => {
    const h = pair.jit;
    const l = pair.layout;
    const block = (code: number[]) => {
      h.writePhys(l.codeWindow, new Uint8Array(code));
      h.setRegs({ eip: l.codeWindow });
      h.cpu.flushBlocks();
      return h.cpu.lookupBlock().insns;
    };
    // fib's entry as GCC compiles it: sub esp, 28; mov [esp+20], ebx; mov ebx, [esp+32];
    // mov [esp+24], esi; cmp ebx, 1; jbe; ret
    const fib = block([0x83, 0xec, 0x1c, 0x89, 0x5c, 0x24, 0x14, 0x8b, 0x5c, 0x24, 0x20, 0x89, 0x74, 0x24, 0x18, 0x83, 0xfb, 0x01, 0x76, 0x00, 0xc3]);
    expect(fib.map((i) => i.kind).slice(0, 5)).toEqual([FK.SUB_RI32_DF, FK.MOV_MR32, FK.MOV_RM32, FK.MOV_MR32, FK.CMP_RI32_J]);
    expect(fib.map((i) => i.flagsFrom)).toEqual([0, 1, 1, 1, 0, 0, 0]);
    // sub esp, 28; push eax; cmp: the push writes ESP, so the SUB keeps its record.
    expect(block([0x83, 0xec, 0x1c, 0x50, 0x39, 0xca, 0xc3])[0].kind).toBe(FK.SUB_RI32);
    // add eax, 5; mov [ebx], eax; inc edx: INC reads CF, so the ADD keeps its record.
    expect(block([0x83, 0xc0, 0x05, 0x89, 0x03, 0x42, 0xc3])[0].kind).toBe(FK.ADD_RI32);
    // sub ebx, 2; mov [esp], eax; call (followed); sub esp, 28: deferred across the call.
    const call = block([0x83, 0xeb, 0x02, 0x89, 0x04, 0x24, 0xe8, ...le32(1), 0x90, 0x83, 0xec, 0x1c, 0x39, 0xca, 0xc3]);
    expect(call.map((i) => i.kind)).toEqual([FK.SUB_RI32_DF, FK.MOV_MR32, FK.CALL32_IN, FK.SUB_RI32_NF, FK.CMP_RR32, FK.RET32]);
    expect(call.map((i) => i.flagsFrom)).toEqual([0, 1, 1, 0, 0, 0]);
  });

  it('every flag-deferred form across memory moves, inline and through their handlers, before every overwriting form', () => {
    const l = pair.layout;
    const failures: string[] = [];
    for (const form of DEFER_FORMS) {
      const code = [...MOVES.flatMap((between) => OVERWRITE.flatMap((after) => groups(form, between, after))), ...SPIN];
      const d = runBoth(code, 2 * MOVES.length * OVERWRITE.length * OPERANDS.length + 2, { ebx: l.dataWindow, esi: l.dataWindow + 1 });
      if (d !== null) failures.push(`form ${form.join(',')}:\n${d}`);
    }
    expect(failures).toEqual([]);
  });

  it('a page fault in a memory move after a flag-deferred form sees its flags', () => {
    const l = pair.layout;
    // EBX: a page not present; ESI: the data window. mov edi, [ebx]; mov [ebx], eax; mov [ebx],
    // al; movzx edi, byte [ebx]; push dword [ebx]; a store that works, then the fault; a push,
    // then the fault; a followed call over one byte into the fault; mov eax, [esi] (EAX written:
    // not deferred), then the fault.
    const faulting = [
      [0x8b, 0x3b], [0x89, 0x03], [0x88, 0x03], [0x0f, 0xb6, 0x3b], [0xff, 0x33], [0x89, 0x06, 0x8b, 0x3b],
      [0x50, 0x8b, 0x3b], [0xe8, ...le32(1), 0x90, 0x8b, 0x3b], [0x8b, 0x06, 0x8b, 0x3b],
    ];
    const failures: string[] = [];
    // The deferred forms on EAX, and sub esp, 28 (a function's entry).
    for (const form of [...DEFER_FORMS, [0x83, 0xec, 0x1c]]) {
      for (const moves of faulting) {
        for (const ops of OPERANDS.slice(0, 3)) {
          const code = [...setRegs(ops), ...form, ...moves, 0x39, 0xca, ...SPIN];
          const d = runBoth(code, 4, { ebx: l.npPage, esi: l.dataWindow }, true);
          if (d !== null) failures.push(`form ${form.join(',')} moves ${moves.join(',')} operands ${ops.join(',')}:\n${d}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('a page fault between a form and the instruction that would overwrite its flags sees them', () => {
    const l = pair.layout;
    const failures: string[] = [];
    for (const form of DEAD_FORMS) {
      for (const ops of OPERANDS) {
        // The form; mov edi, [ebx] (EBX: a page not present); cmp edx, ecx
        const code = [...setRegs(ops), ...form, 0x8b, 0x3b, 0x39, 0xca, ...SPIN];
        const d = runBoth(code, 4, { ebx: l.npPage }, true);
        if (d !== null) failures.push(`form ${form.join(',')} operands ${ops.join(',')}:\n${d}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

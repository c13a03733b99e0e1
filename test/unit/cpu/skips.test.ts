/**
 * Branches within a superblock (src-engine/cpu/fast-kinds.ts blockSkips, exec-block.ts): with the
 * JIT off, a conditional branch whose target is a later instruction of the same block goes on
 * there when taken instead of ending the block, and the instructions passed over are not counted.
 * Checked in lock step with the handlers (jit-lockstep.ts: registers, EIP, the lazy record,
 * memory, and the retired count, which decides where each chunk ends): fused and standalone
 * branches over instructions that change state, taken and not, the CRC loop of bench.elf, a page
 * fault after a skip, and a target inside a flag-deferred window (no skip there).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { RunnerPair } from './jit-lockstep';
import { jitOffConfig } from '../../../src-engine/cpu/jit/jit-config';

let pair: RunnerPair;

/** A dword as four little-endian bytes. */
function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** Jcc rel8 (0x70 | condition code). */
const JCC_SHORT = 0x70;
/** jmp $+2 (ends a block) and jmp $ (the end of every program). */
const JMP_NEXT = [0xeb, 0x00];
const SPIN = [0xeb, 0xfe];
/** Skipped: add edx, 1; xor esi, edx; shl edx, 3 (each leaves a trace in EDX, ESI or the record). */
const SKIPPED = [0x83, 0xc2, 0x01, 0x31, 0xd6, 0xc1, 0xe2, 0x03];
/** At the target: add edi, edx; mov ebp, esi (reads what the skipped instructions change). */
const AFTER = [0x01, 0xd7, 0x89, 0xf5];

/**
 * Flag setters before the branch: cmp eax, ecx and test eax, ecx (fused with it); add eax, ecx,
 * or eax, ecx and sub al, cl (the branch runs on its own).
 */
const SETTERS = [[0x39, 0xc8], [0x85, 0xc8], [0x01, 0xc8], [0x09, 0xc8], [0x28, 0xc8]];

/** EAX, ECX: equal, below, above, across the sign, zero. */
const OPERANDS = [[5, 5], [1, 2], [0x90000000, 3], [0x7fffffff, 0x80000000], [0, 0]];

/** mov eax, x; mov ecx, y. */
function setRegs([x, y]: number[]): number[] {
  return [0xb8, ...le32(x), 0xb9, ...le32(y)];
}

/** Runs `code` in lock step with one-instruction chunks, then with 40-instruction ones. */
function runBoth(code: number[], insns: number, regs: Record<string, number> = {}, paging = false): string | null {
  const c = pair.program(code, regs, paging);
  return pair.run(c, insns, 1) ?? pair.run(c, Math.ceil(insns / 40) + 1, 40);
}

describe('branches to a later instruction of the same superblock', () => {
  beforeAll(() => {
    pair = new RunnerPair();
    pair.jit.cpu.jit = jitOffConfig();
  });

  it('are given where the target is in the block and not in a flag-deferred window', () => {
    const h = pair.jit;
    const l = pair.layout;
    const skips = (code: number[]): number[] => {
      h.writePhys(l.codeWindow, new Uint8Array(code));
      h.setRegs({ eip: l.codeWindow });
      h.cpu.flushBlocks();
      return h.cpu.lookupBlock().insns.map((i) => i.skip);
    };
    // The CRC loop: mov ecx, eax; shr eax, 1; and ecx, 1; test ecx, ecx; je L; xor eax, imm;
    // L: dec edx; jne (back); ret
    expect(skips([0x89, 0xc1, 0xd1, 0xe8, 0x83, 0xe1, 0x01, 0x85, 0xc9, 0x74, 0x05, 0x35, ...le32(0xedb88320), 0x4a, 0x75, 0xed, 0xc3]))
      .toEqual([0, 0, 0, 0, 6, 0, 0, 0, 0]);
    // cmp; je M; sub ebx, 2; mov [esi], eax; M: mov edi, [ebx]; cmp edx, ecx; ret: M is inside
    // the SUB's deferred window.
    expect(skips([0x39, 0xc8, 0x74, 0x05, 0x83, 0xeb, 0x02, 0x89, 0x06, 0x8b, 0x3b, 0x39, 0xca, 0xc3])).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  it('every condition after every setter, over instructions that change state, taken and not', () => {
    const failures: string[] = [];
    for (const setter of SETTERS) {
      const code: number[] = [];
      for (const ops of OPERANDS) {
        for (let cc = 0; cc < 16; cc++) {
          code.push(...setRegs(ops), ...setter, JCC_SHORT | cc, SKIPPED.length, ...SKIPPED, ...AFTER, ...JMP_NEXT);
        }
      }
      code.push(...SPIN);
      const d = runBoth(code, OPERANDS.length * 16 * 9 + 2);
      if (d !== null) failures.push(`setter ${setter.join(',')}:\n${d}`);
    }
    expect(failures).toEqual([]);
  });

  it('runs the CRC loop of bench.elf over a buffer', () => {
    const l = pair.layout;
    // mov ebx, DATA; mov esi, DATA + 64; mov eax, -1; B: movzx edx, byte [ebx]; xor eax, edx;
    // mov edx, 8; L: mov ecx, eax; shr eax, 1; and ecx, 1; test ecx, ecx; je S; xor eax, imm;
    // S: dec edx; jne L; inc ebx; cmp ebx, esi; jne B; spin
    const code = [
      0xbb, ...le32(l.dataWindow), 0xbe, ...le32(l.dataWindow + 64), 0xb8, ...le32(0xffffffff),
      0x0f, 0xb6, 0x13, 0x31, 0xd0, 0xba, ...le32(8),
      0x89, 0xc1, 0xd1, 0xe8, 0x83, 0xe1, 0x01, 0x85, 0xc9, 0x74, 0x05, 0x35, ...le32(0xedb88320), 0x4a, 0x75, 0xed,
      0x43, 0x39, 0xf3, 0x75, 0xdc, ...SPIN,
    ];
    const c = pair.program(code);
    c.data.forEach((_, k) => { c.data[k] = (k * 37 + 11) & 0xff; });
    for (const budget of [1, 7, 40, 1000]) {
      const d = pair.run(c, Math.ceil((64 * 70) / budget) + 2, budget);
      expect(d).toBeNull();
    }
  });

  it('a page fault after a skip, and after a branch into a flag-deferred window, sees the right EIP, count and flags', () => {
    const l = pair.layout;
    const failures: string[] = [];
    for (const ops of OPERANDS) {
      // cmp; je M; add edx, 1; M: mov edi, [ebx] (not present); spin
      const skip = [...setRegs(ops), 0x39, 0xc8, 0x74, 0x03, 0x83, 0xc2, 0x01, 0x8b, 0x3b, ...SPIN];
      // cmp; je M; sub ebx, 2; mov [esi], eax; M: mov edi, [ebx]; cmp edx, ecx; spin
      const window = [...setRegs(ops), 0x39, 0xc8, 0x74, 0x05, 0x83, 0xeb, 0x02, 0x89, 0x06, 0x8b, 0x3b, 0x39, 0xca, ...SPIN];
      for (const code of [skip, window]) {
        const d = runBoth(code, 10, { ebx: l.npPage, esi: l.dataWindow }, true);
        if (d !== null) failures.push(`operands ${ops.join(',')} code ${code.join(',')}:\n${d}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

// Code marks per 512-byte chunk (src-engine/cpu/code-marks.ts): a store into a frame holding
// decoded code moves the frame's code generation only when it touches a chunk with code; a block
// whose frame moved on is revalidated by comparing its bytes, and decoded again when they changed.
// Real CPU runs: the interpreter over a flat 32-bit machine (test/diff runner harness).
import { describe, expect, it } from 'vitest';
import { chunkBits, codeStore, revalidateBlock } from '../../../src-engine/cpu/code-marks';
import { Block } from '../../../src-engine/cpu/insn';
import type { PhysMemory } from '../../../src-engine/cpu/ops';
import { RunnerPair } from './jit-lockstep';
import { EAX, EBX } from '../../../src-engine/cpu/state';

const FRAMES = 4;

function memory(): PhysMemory {
  const buf = new SharedArrayBuffer(FRAMES * 4096);
  return {
    mem8: new Uint8Array(buf),
    mem16: new Uint16Array(buf),
    mem32: new Int32Array(buf),
    p2m: Int32Array.from({ length: FRAMES }, (_, g) => g + 1),
    codeMark: new Uint8Array(new SharedArrayBuffer(FRAMES)),
    codeGen: new Int32Array(new SharedArrayBuffer(FRAMES * 4)),
  };
}

/** A block over bytes [off, off + len) of `phys`, decoded in the frame's current generation. */
function blockAt(phys: PhysMemory, off: number, len: number): Block {
  const b = new Block([], 0, off, off, off >>> 12, phys.codeGen[off >>> 12], 3, len, len);
  b.code = phys.mem8.slice(off, off + len);
  phys.codeMark[off >>> 12] |= chunkBits(off & 0xfff, len);
  return b;
}

describe('code marks', () => {
  it('name the 512-byte chunks a range of a frame touches', () => {
    expect(chunkBits(0, 1)).toBe(0b1);
    expect(chunkBits(0x1ff, 2)).toBe(0b11);
    expect(chunkBits(0x200, 0x200)).toBe(0b10);
    expect(chunkBits(0xffe, 15)).toBe(0x80);
    expect(chunkBits(0, 4096)).toBe(0xff);
    expect(chunkBits(0x5f0, 0x220)).toBe(0b11100);
  });

  it('move the generation only for stores into chunks holding code, clearing the frame', () => {
    const phys = memory();
    const b = blockAt(phys, 0x1100, 20);
    expect(phys.codeMark[1]).toBe(0b1);
    expect(codeStore(phys, 0x1400, 4)).toBe(false);
    expect(codeStore(phys, 0x0100, 4)).toBe(false);
    expect(phys.codeGen[1]).toBe(0);
    expect(codeStore(phys, 0x11fe, 4)).toBe(true);
    expect(phys.codeGen[1]).toBe(1);
    expect(phys.codeMark[1]).toBe(0);
    expect(b.gen).toBe(0);
  });

  it('revalidate a block whose bytes are unchanged and refuse one whose bytes changed', () => {
    const phys = memory();
    phys.mem8.set([0x90, 0x40, 0xc3], 0x2010);
    const b = blockAt(phys, 0x2010, 3);
    phys.mem8[0x2100] = 7;
    expect(codeStore(phys, 0x2100, 1)).toBe(true);
    expect(revalidateBlock(phys, b)).toBe(true);
    expect(b.gen).toBe(1);
    // Revalidating marked the block's chunk again, so the next store into it is seen.
    expect(phys.codeMark[2]).toBe(0b1);
    phys.mem8[0x2011] = 0x41;
    expect(codeStore(phys, 0x2011, 1)).toBe(true);
    expect(revalidateBlock(phys, b)).toBe(false);
    expect(b.gen).toBe(1);
  });

  it('keep a running CPU exact: data stored next to a loop, then the loop patched', () => {
    const pair = new RunnerPair();
    const CODE = 0x4000;
    const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
    // mov ecx, 200; L: add ebx, 1 (imm at CODE+7); mov [CODE+0x40], ecx; cmp ecx, 100; jne skip;
    // mov byte [CODE+7], 3; skip: dec ecx; jnz L; mov eax, [CODE+0x40]
    const code = [
      0xb9, ...le32(200),
      0x83, 0xc3, 0x01,
      0x89, 0x0d, ...le32(CODE + 0x40),
      0x83, 0xf9, 0x64,
      0x75, 0x07,
      0xc6, 0x05, ...le32(CODE + 7), 0x03,
      0x49,
      0x75, 0xe4,
      0xa1, ...le32(CODE + 0x40),
    ];
    // Lock-step: the JIT side (every block compiled) against the interpreter, instruction by instruction.
    expect(pair.run(pair.program(code), 400, 7)).toBeNull();
    // 101 iterations (ECX 200 down to 100) add 1, the 99 after the patch add 3.
    expect(pair.jit.cpu.s[EBX]).toBe(101 + 99 * 3);
    expect(pair.jit.cpu.s[EAX]).toBe(1);
  });
});

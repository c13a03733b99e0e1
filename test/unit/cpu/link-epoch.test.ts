/**
 * What a handler changes in the middle of a run of linked blocks (src-engine/cpu/exec-block.ts):
 * the block loop reads the link epoch, the local attention flag and the single-step mode only
 * after a handler call, not after every block. Here a MOV CR3 or an INVLPG (their handlers move
 * the link epoch)
 * remaps the page a cached successor link points into: the next block must be looked up again
 * under the new mapping, not taken from the link. Checked in lock step with the handlers
 * (jit-lockstep.ts), and by the register the two versions of the code add to.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { RunnerPair } from './jit-lockstep';
import { jitOffConfig } from '../../../src-engine/cpu/jit/jit-config';

let pair: RunnerPair;

/** A dword as four little-endian bytes. */
function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** The linear page remapped (identity-mapped by the runner) and the frame it is remapped to (the code window's). */
const PAGE = 0x5000;
const CODE_FRAME = 0x4000;
/** Offset in that page of the code reached through the link. */
const TARGET_OFF = 0x100;
/** Offset in the code window of the loop's second block. */
const BACK = 0x40;
/** PTE bits kept when the frame changes (present, writable, ...). */
const PTE_FLAGS = 0xfff;
/** Bytes per page-table entry (32-bit paging). */
const PTE_BYTES = 4;

describe('a handler that moves the link epoch in a run of linked blocks', () => {
  beforeAll(() => {
    pair = new RunnerPair();
    pair.jit.cpu.jit = jitOffConfig();
  });

  /** mov eax, cr3; mov cr3, eax (its handler also sets the local attention flag) / invlpg [TARGET] (only the epoch). */
  const RELOADS = [[0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8], [0x0f, 0x01, 0x3d, ...le32(PAGE + TARGET_OFF)]];

  it.each(RELOADS.map((r, k) => [k === 0 ? 'MOV CR3' : 'INVLPG', r] as const))('after %s makes the next block be looked up under the new mapping', (_name, reload) => {
    const l = pair.layout;
    const win = l.codeWindow;
    const pteAddr = l.pageTable0 + (PAGE >>> 12) * PTE_BYTES;
    const pte = new DataView(pair.jit.readPhys(pteAddr, PTE_BYTES).buffer).getUint32(0, true);
    const remapped = CODE_FRAME | (pte & PTE_FLAGS);
    const target = PAGE + TARGET_OFF;
    const back = win + BACK;
    // mov esi, 4; TOP: jmp TARGET (another page: a block of its own, linked to TARGET's block).
    // BACK: mov ebx, [TABLE + esi * 4]; mov [PTE], ebx; the reload; dec esi;
    // jnz TOP; jmp $. The table keeps the mapping for two rounds (the links are made), remaps
    // PAGE in the third and restores it in the fourth.
    const top = 5;
    const head = [0xbe, ...le32(4), 0xe9, ...le32(target - (win + top + 5))];
    const loop = [
      0x8b, 0x1c, 0xb5, ...le32(l.dataWindow), 0x89, 0x1d, ...le32(pteAddr), ...reload, 0x4e, 0x75, 0,
      0xeb, 0xfe,
    ];
    const jnz = loop.length - 4;
    loop[jnz + 1] = (top - (BACK + jnz + 2)) & 0xff;
    const code = [...head, ...new Array<number>(BACK - head.length).fill(0x90), ...loop];
    // Under the first mapping TARGET holds inc edi; jmp BACK; under the second (the code window's
    // frame at the same offset) add edi, 100; jmp BACK.
    const first = [0x47, 0xe9, ...le32(back - (target + 6))];
    const second = [0x83, 0xc7, 0x64, 0xe9, ...le32(back - (target + 8))];
    code.push(...new Array<number>(TARGET_OFF - code.length).fill(0x90), ...second);
    for (const h of [pair.interp, pair.jit]) h.writePhys(target, new Uint8Array(first));
    const c = pair.program(code, {}, true);
    const table = new DataView(c.data.buffer);
    const rounds = [pte, remapped, pte, pte];
    rounds.forEach((v, k) => table.setUint32((k + 1) * PTE_BYTES, v, true));
    const d = pair.run(c, 4, 100);
    expect(d).toBeNull();
    // Three rounds through the first mapping, one through the second.
    expect(pair.jit.getRegs().edi).toBe(3 + 100);
    expect(new DataView(pair.jit.readPhys(pteAddr, PTE_BYTES).buffer).getUint32(0, true)).toBe(pte);
  });
});

/**
 * The differential harness's case generator, encoder, undefined-flags table, case JSON and
 * minimiser surgery (no QEMU needed; objdump, when installed, checks the encodings).
 */
import { describe, expect, it } from 'vitest';
import { FLAG, linearIp, REG_NAMES, type HarnessRegs } from '../../../diff/case';
import { recordingKey, storedCaseFromJson, storedCaseToJson } from '../../../diff/case-json';
import { disassemble, hasObjdump } from '../../../diff/disasm';
import { undefinedFlags, undefinedMemory } from '../../../diff/flags-mask';
import { assembleProgram, generateCase } from '../../../diff/generator';
import { removeInstructions } from '../../../diff/minimise';
import { loadRunnerLayout } from '../../../diff/runner-layout';

const layout = loadRunnerLayout();
const CASES = 400;
/** Cases disassembled with objdump (one process each, so fewer). */
const OBJDUMP_CASES = 150;
if (!hasObjdump()) console.warn('generator test: objdump (binutils) is not installed; encodings are not cross-checked.');

const pm: HarnessRegs = Object.fromEntries(REG_NAMES.map((r) => [r, 0])) as HarnessRegs;
pm.cr0 = 0x11;
const code = (...b: number[]): Uint8Array => new Uint8Array(b);
const { CF, PF, AF, ZF, SF, OF } = FLAG;

describe('random case generator', () => {
  it('is a pure function of (seed, index)', () => {
    for (const i of [0, 1, 77, 1234]) {
      const a = generateCase(9, i, layout);
      const b = generateCase(9, i, layout);
      expect(storedCaseToJson({ case: a, expected: { end: 'completed', states: [{ regs: a.regs, mem: [] }] }, source: 't' }))
        .toBe(storedCaseToJson({ case: b, expected: { end: 'completed', states: [{ regs: b.regs, mem: [] }] }, source: 't' }));
    }
    expect(Buffer.from(generateCase(9, 1, layout).code)).not.toEqual(Buffer.from(generateCase(9, 2, layout).code));
  });

  it('makes 1-8 instructions with the stack pointer in the data window and safe initial flags', () => {
    for (let i = 0; i < CASES; i++) {
      const c = generateCase(3, i, layout);
      expect(c.program.length).toBeGreaterThanOrEqual(1);
      expect(c.program.length).toBeLessThanOrEqual(9); // a group may finish past the target
      const ssBase = c.env.mode === 'real' ? c.regs.ss << 4 : 0;
      const sp = ssBase + c.regs.esp;
      expect(sp).toBeGreaterThanOrEqual(layout.dataWindow + 0x100);
      expect(sp).toBeLessThanOrEqual(layout.dataWindow + 0x300);
      expect(c.regs.eflags & (FLAG.TF | FLAG.VM | FLAG.NT)).toBe(0);
      expect(c.pinned).toContain('esp');
      expect(c.data.length).toBe(layout.dataWindowSize);
    }
  });

  it('resolves every branch to an instruction start or the end of the code', () => {
    let branches = 0;
    for (let i = 0; i < CASES; i++) {
      const c = generateCase(5, i, layout);
      const starts: number[] = [];
      let pc = layout.codeWindow;
      for (const p of c.program) {
        starts.push(pc);
        pc += p.bytes.length;
      }
      starts.push(pc);
      c.program.forEach((p, k) => {
        if (!p.fixup) return;
        branches++;
        const at = starts[k] - layout.codeWindow + p.fixup.at;
        const size = p.fixup.kind === 'rel8' ? 1 : p.fixup.kind.endsWith('16') ? 2 : 4;
        let v = 0;
        for (let j = size - 1; j >= 0; j--) v = v * 256 + c.code[at + j];
        if (p.fixup.kind.startsWith('rel')) v = (v << (32 - 8 * size)) >> (32 - 8 * size);
        const target = p.fixup.kind.startsWith('abs') ? v : starts[k + 1] + v;
        expect(starts).toContain(target);
        expect(target).toBe(starts[Math.min(p.fixup.target, c.program.length)]);
      });
    }
    expect(branches).toBeGreaterThan(CASES / 4);
  });

  it.skipIf(!hasObjdump())('encodes instructions objdump decodes with the same boundaries', () => {
    let checked = 0;
    for (let i = 0; i < OBJDUMP_CASES; i++) {
      const c = generateCase(7, i, layout);
      const lines = disassemble(c.code, layout.codeWindow, c.env.mode === 'real')!;
      let pc = layout.codeWindow;
      for (const [k, p] of c.program.entries()) {
        if (p.form.includes('#UD')) break; // objdump cannot know where an invalid encoding ends
        expect(lines[k]?.addr, `${c.name} [${k}] ${p.form}`).toBe(pc);
        expect(lines[k]?.text, `${c.name} [${k}] ${p.form}`).not.toMatch(/\(bad\)/);
        pc += p.bytes.length;
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(OBJDUMP_CASES * 3);
  });

  it('reassembles a program to the same code', () => {
    const c = generateCase(11, 42, layout);
    expect(Buffer.from(assembleProgram(c.program, layout))).toEqual(Buffer.from(c.code));
  });
});

describe('undefined flags table', () => {
  it('follows the SDM for logic, multiply and divide', () => {
    expect(undefinedFlags(code(0x21, 0xc0), 0, pm, false)).toBe(AF); // and eax, eax
    expect(undefinedFlags(code(0x66, 0x85, 0xc0), 0, pm, false)).toBe(AF); // test ax, ax
    expect(undefinedFlags(code(0x83, 0xe0, 0x01), 0, pm, false)).toBe(AF); // and eax, 1
    expect(undefinedFlags(code(0x83, 0xc0, 0x01), 0, pm, false)).toBe(0); // add eax, 1
    expect(undefinedFlags(code(0xf7, 0xe1), 0, pm, false)).toBe(SF | ZF | AF | PF); // mul ecx
    expect(undefinedFlags(code(0x0f, 0xaf, 0xc1), 0, pm, false)).toBe(SF | ZF | AF | PF); // imul eax, ecx
    expect(undefinedFlags(code(0xf7, 0xf1), 0, pm, false)).toBe(CF | PF | AF | ZF | SF | OF); // div ecx
    expect(undefinedFlags(code(0xf7, 0xf1), 0, pm, true)).toBe(0); // #DE: flags untouched
  });
  it('depends on the masked shift count', () => {
    const cl = (n: number): HarnessRegs => ({ ...pm, ecx: n });
    expect(undefinedFlags(code(0xd3, 0xe0), 0, cl(0), false)).toBe(0); // shl eax, cl (0)
    expect(undefinedFlags(code(0xd3, 0xe0), 0, cl(32), false)).toBe(0); // masked to 0
    expect(undefinedFlags(code(0xd3, 0xe0), 0, cl(1), false)).toBe(AF);
    expect(undefinedFlags(code(0xd3, 0xe0), 0, cl(5), false)).toBe(AF | OF);
    expect(undefinedFlags(code(0xd2, 0xe8), 0, cl(9), false)).toBe(AF | OF | CF); // shr al, 9
    expect(undefinedFlags(code(0xd2, 0xf8), 0, cl(9), false)).toBe(AF | OF); // sar al, 9: CF defined
    expect(undefinedFlags(code(0xc1, 0xc0, 0x01), 0, pm, false)).toBe(0); // rol eax, 1
    expect(undefinedFlags(code(0xc1, 0xc0, 0x03), 0, pm, false)).toBe(OF); // rol eax, 3
    expect(undefinedFlags(code(0xc1, 0xbc, 0x24, 0x10, 0x00, 0x00, 0x00, 0x02), 0, pm, false)).toBe(AF | OF); // sar dword [esp+0x10], 2
    expect(undefinedFlags(code(0x67, 0xc1, 0x7e, 0x10, 0x00), 0, pm, false)).toBe(0); // sar dword [bp+0x10], 0
    expect(undefinedFlags(code(0x66, 0x0f, 0xa4, 0xc0, 0x11), 0, pm, false)).toBe(CF | PF | AF | ZF | SF | OF); // shld ax, ax, 17
    expect(undefinedFlags(code(0x0f, 0xa4, 0xc0, 0x11), 0, pm, false)).toBe(AF | OF); // shld eax, eax, 17
  });
  it('covers bit scans, bit tests and BCD', () => {
    expect(undefinedFlags(code(0x0f, 0xbc, 0xc1), 0, pm, false)).toBe(CF | OF | SF | AF | PF);
    expect(undefinedFlags(code(0x0f, 0xa3, 0xc1), 0, pm, false)).toBe(OF | SF | AF | PF);
    expect(undefinedFlags(code(0x37), 0, pm, false)).toBe(OF | SF | ZF | PF);
    expect(undefinedFlags(code(0x27), 0, pm, false)).toBe(OF);
    expect(undefinedFlags(code(0xd4, 0x0a), 0, pm, false)).toBe(OF | AF | CF);
  });
  it('leaves the upper half of a 32-bit segment-register push undefined', () => {
    const after = { ...pm, ss: layout.sel.data0, esp: 0x6e00 };
    expect(undefinedMemory(code(0x0f, 0xa0), 0, pm, after, false, layout)).toEqual([{ addr: 0x6e02, len: 2, bits: 0xff }]);
    expect(undefinedMemory(code(0x66, 0x0f, 0xa0), 0, pm, after, false, layout)).toEqual([]);
  });
});

describe('stored case format and minimiser surgery', () => {
  it('round-trips a case with its expected states', () => {
    const c = generateCase(2, 5, layout);
    const states = [0, 1, 2].map((k) => ({ regs: { ...c.regs, eip: c.regs.eip + k }, mem: [k === 1 ? c.data.map((b) => b ^ 1) : c.data] }));
    const text = storedCaseToJson({ case: c, expected: { end: 'step-limit', states }, source: 'test', note: 'n' });
    const back = storedCaseFromJson(text, 'mem.json');
    expect(storedCaseToJson(back)).toBe(text);
    expect(recordingKey(back.expected)).toBe(recordingKey({ end: 'step-limit', states }));
    expect(linearIp(back.expected.states[2].regs)).toBe(c.regs.eip + 2);
    expect(() => storedCaseFromJson('{"format":"other"}', 'x.json')).toThrow(/x.json: expected "format"/);
  });
  it('retargets branches when instructions are removed and refuses self-loops', () => {
    const nop = { bytes: [0x90], form: 'nop' };
    const jmp = (target: number) => ({ bytes: [0xeb, 0], form: 'jmp', fixup: { kind: 'rel8' as const, at: 1, target } });
    const program = [jmp(3), nop, nop, nop, jmp(1)];
    const out = removeInstructions(program, 1, 3)!;
    expect(out.map((p) => p.fixup?.target)).toEqual([1, undefined, 1]);
    expect(removeInstructions([nop, jmp(0)], 0, 1)).toBeUndefined();
  });
});

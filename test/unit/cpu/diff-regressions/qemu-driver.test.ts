/**
 * The QEMU side of the differential harness: the runner kernel boots under qemu-system-i386,
 * hand-written cases record the states the SDM predicts (exceptions, ring changes, paging, real
 * mode, LDT), and generated cases record the same way twice in fresh processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CR0_ET, CR0_PE, CR0_PG, CR0_WP, FLAG, type CaseEnv, type DiffCase, type HarnessRegs } from '../../../diff/case';
import { recordingKey } from '../../../diff/case-json';
import { generateCase } from '../../../diff/generator';
import { QemuDriver } from '../../../diff/qemu-driver';
import { QemuPool } from '../../../diff/qemu-pool';
import { qemuVersion } from '../../../diff/qemu-process';
import { recordCase } from '../../../diff/record';
import { loadRunnerLayout } from '../../../diff/runner-layout';

const layout = loadRunnerLayout();
const hasQemu = qemuVersion() !== undefined;
if (!hasQemu) console.warn('qemu-driver test: qemu-system-i386 is not installed (Debian package qemu-system-x86); skipped.');
const W = layout.dataWindow;
const s = layout.sel;
const u32 = (b: Uint8Array, off: number): number => new DataView(b.buffer, b.byteOffset).getUint32(off, true);
const u16 = (b: Uint8Array, off: number): number => new DataView(b.buffer, b.byteOffset).getUint16(off, true);

function handCase(code: number[], regs: Partial<HarnessRegs>, env: CaseEnv = { mode: 'pm32', ring: 0, paging: false }): DiffCase {
  const base: HarnessRegs = {
    eax: 0, ecx: 0, edx: 0, ebx: 0, esp: W + 0x200, ebp: 0, esi: 0, edi: 0, eip: layout.codeWindow, eflags: FLAG.RESERVED1,
    cs: s.code0, ss: s.data0, ds: s.data0, es: s.data0, fs: s.data0, gs: s.data0, cr0: CR0_PE | CR0_ET, cr2: 0, cr3: 0, cr4: 0,
  };
  const data = new Uint8Array(layout.dataWindowSize).map((_, i) => i & 0xff);
  return { name: 'hand', env, program: [{ bytes: code, form: 'hand' }], code: new Uint8Array(code), regs: { ...base, ...regs }, data, pinned: ['esp'], maxSteps: 16 };
}

describe.skipIf(!hasQemu)('QEMU reference (qemu-system-i386 gdbstub)', () => {
  let q: QemuDriver;
  beforeAll(async () => {
    q = await QemuDriver.start(layout);
  });
  afterAll(async () => {
    await q?.close();
  });

  it('boots the runner to ready in 32-bit protected mode, ring 0, interrupts off', () => {
    expect(q.regs).toMatchObject({ eip: layout.ready, cs: s.code0, ss: s.data0, ds: s.data0 });
    expect(q.regs.cr0 & CR0_PE).toBe(CR0_PE);
    expect(q.regs.eflags & FLAG.IF).toBe(0);
  });

  it('folds REP iterations into one step and stops at the #DE stub with the fault frame pushed', async () => {
    // add eax, ebx; rep movsb; div ecx (ECX is 0 after the REP)
    const c = handCase([0x01, 0xd8, 0xf3, 0xa4, 0xf7, 0xf1], { eax: 5, ebx: 7, ecx: 3, esi: W + 0x100, edi: W + 0x180 });
    const r = await recordCase(q, c, layout);
    expect(r.states.map((x) => x.regs.eip)).toEqual([0x4002, 0x4004, layout.excStubs]);
    expect(r).toMatchObject({ end: 'exception', vector: 0 });
    expect(r.states[1].regs).toMatchObject({ eax: 12, ecx: 0, esi: W + 0x103, edi: W + 0x183 });
    expect(Array.from(r.states[1].mem[0].subarray(0x180, 0x183))).toEqual([0, 1, 2]);
    const last = r.states[2];
    expect(last.regs.esp).toBe(W + 0x200 - 12); // EFLAGS, CS, EIP (no error code for #DE)
    const frame = last.mem[0].subarray(0x200 - 12);
    expect([u32(frame, 0), u32(frame, 4), u32(frame, 8) & 0xffff]).toEqual([0x4004, s.code0, r.states[1].regs.eflags & 0xffff]);
  });

  it('delivers an exception from ring 3 on the TSS ring-0 stack', async () => {
    const c = handCase([0x90, 0xcc], { cs: s.code3, ss: s.data3, ds: s.data3, es: s.data3, fs: s.data3, gs: s.data3 }, { mode: 'pm32', ring: 3, paging: false });
    const r = await recordCase(q, c, layout);
    expect(r).toMatchObject({ end: 'exception', vector: 3 });
    const last = r.states[1];
    expect(last.regs).toMatchObject({ cs: s.code0, ss: s.data0, esp: layout.ring0StackTop - 20 });
    const frame = last.mem[0].subarray(layout.ring0StackTop - 20 - W);
    expect([u32(frame, 0), u32(frame, 4), u32(frame, 12), u32(frame, 16)]).toEqual([0x4002, s.code3, W + 0x200, s.data3]);
  });

  it('pages: a write into the not-present page raises #PF with CR2 and sets accessed/dirty bits', async () => {
    const c = handCase([0xc7, 0x05, 0x02, 0x70, 0, 0, 0x55, 0, 0, 0], { cr0: CR0_PE | CR0_ET | CR0_PG | CR0_WP, cr3: layout.pageDir }, { mode: 'pm32', ring: 0, paging: true });
    const r = await recordCase(q, c, layout);
    expect(r).toMatchObject({ end: 'exception', vector: 14 });
    const last = r.states[0];
    expect(last.regs.cr2).toBe(layout.npPage + 2);
    expect(u32(last.mem[0], last.regs.esp - W)).toBe(0x2); // error code: not present, write, supervisor
    expect(u32(last.mem[1], 0) & 0x20).toBe(0x20); // PDE accessed
    expect(u32(last.mem[2], 0) & 0x60).toBe(0x20); // code page: accessed, not dirty
    expect(u32(last.mem[2], 8) & 0x60).toBe(0x60); // data page (stack frame): accessed and dirty
    expect(u32(last.mem[2], 12)).toBe(0); // the not-present page
  });

  it('runs real-mode code and vectors INT through the IVT, then returns to protected mode', async () => {
    const real = handCase([0xb8, 0x34, 0x12, 0xcd, 0x21], { cr0: CR0_ET, cs: 0, ss: 0, ds: 0, es: 0, fs: 0, gs: 0, esp: W + 0x200 }, { mode: 'real', ring: 0, paging: false });
    const r = await recordCase(q, real, layout);
    expect(r).toMatchObject({ end: 'exception', vector: 0x21 });
    expect(r.states[0].regs.eax & 0xffff).toBe(0x1234);
    expect(r.states[1].regs).toMatchObject({ cs: 0, eip: layout.rmStubBase + 0x21 * layout.rmStubSize, esp: W + 0x200 - 6 });
    expect(u16(r.states[1].mem[0], 0x200 - 6)).toBe(0x4005);
    const back = await recordCase(q, handCase([0x40], { eax: 1 }), layout);
    expect(back.states[0].regs).toMatchObject({ eax: 2, eip: 0x4001, cs: s.code0 });
  });

  it('loads LDT selectors: present data, not present (#NP), beyond the LDT limit (#GP)', async () => {
    const load = (sel: number) => handCase([0x8e, 0xd8], { eax: sel }); // mov ds, eax
    expect((await recordCase(q, load(0x07), layout)).end).toBe('completed');
    expect(await recordCase(q, load(0x0f), layout)).toMatchObject({ end: 'exception', vector: 11 });
    expect(await recordCase(q, load(0x17), layout)).toMatchObject({ end: 'exception', vector: 13 });
  });

  it('executes exactly one instruction per step on straight-line generated code', async () => {
    let steps = 0;
    for (let i = 0; steps < 300; i++) {
      const c = generateCase(21, i, layout);
      if (c.program.some((p) => p.fixup)) continue;
      const r = await recordCase(q, c, layout);
      let pc = layout.codeWindow;
      r.states.forEach((st, k) => {
        pc += c.program[k].bytes.length;
        if (r.end === 'exception' && k === r.states.length - 1) return;
        expect(st.regs.eip, `${c.name} step ${k + 1} (${c.program[k].form})`).toBe(pc);
        steps++;
      });
    }
  });

  it('records generated cases identically in a fresh process and in reverse order', async () => {
    const cases = Array.from({ length: 150 }, (_, i) => generateCase(23, i, layout));
    const first: string[] = [];
    for (const c of cases) first.push(recordingKey(await recordCase(q, c, layout)));
    const pool = await QemuPool.start(layout, 1);
    try {
      for (let i = cases.length - 1; i >= 0; i--) expect(recordingKey(await pool.record(cases[i])), cases[i].name).toBe(first[i]);
    } finally {
      await pool.close();
    }
  });
});

/**
 * The QEMU corrections of the differential harness (test/diff/qemu-corrections.ts), above all
 * fault-rf: QEMU 7.2 pushes RF clear in the EFLAGS image of a fault-class exception, the SDM
 * (Vol. 3B 17.3.1.1) and our CPU push it set. The correction must change exactly that bit, only
 * for faults, and must not make the comparison blind to any other bit of the frame.
 * Pure checks need nothing; the rest needs qemu-system-i386 and/or test/support/cpu-harness.ts
 * and skips with a printed reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CR0_ET, CR0_PE, FLAG, caseMemRanges, type CaseEnv, type CaseRecording, type DiffCase, type HarnessRegs } from '../../../diff/case';
import { cpuHarnessPresent, CPU_HARNESS_MISSING } from '../../../diff/cpu-harness-api';
import { CpuWorker } from '../../../diff/cpu-worker-host';
import { CORRECTION, correctionFixes, correctQemuRecording, pushedEflagsAddress } from '../../../diff/qemu-corrections';
import { QemuPool } from '../../../diff/qemu-pool';
import { qemuVersion } from '../../../diff/qemu-process';
import { QEMU_WRONG_DIR, readStoredCases } from '../../../diff/regressions';
import { loadRunnerLayout } from '../../../diff/runner-layout';

const layout = loadRunnerLayout();
const hasQemu = qemuVersion() !== undefined;
const hasHarness = cpuHarnessPresent();
if (!hasQemu) console.warn('qemu-corrections test: qemu-system-i386 is not installed (Debian package qemu-system-x86); QEMU checks skipped.');
if (!hasHarness) console.warn(`qemu-corrections test: ${CPU_HARNESS_MISSING}; Domus replay checks skipped.`);

const W = layout.dataWindow;
const s = layout.sel;
const RF_BIT = 16;
const VEC = { DB: 1, BP: 3, UD: 6, GP: 13, PF: 14 } as const;
/** The stored #GP(0) case (ring 0, error code pushed) whose expected frame carries fault-rf. */
const GP_CASE = 'qemu-wrong-write-through-cs';

const u32 = (b: Uint8Array, off: number): number => new DataView(b.buffer, b.byteOffset).getUint32(off, true);
const clone = (r: CaseRecording): CaseRecording => ({ ...r, states: r.states.map((st) => ({ regs: { ...st.regs }, mem: st.mem.map((m) => m.slice()) })) });

function handCase(code: number[], regs: Partial<HarnessRegs> = {}, env: CaseEnv = { mode: 'pm32', ring: 0, paging: false }): DiffCase {
  const base: HarnessRegs = {
    eax: 0, ecx: 0, edx: 0, ebx: 0, esp: W + 0x200, ebp: 0, esi: 0, edi: 0, eip: layout.codeWindow, eflags: FLAG.RESERVED1,
    cs: s.code0, ss: s.data0, ds: s.data0, es: s.data0, fs: s.data0, gs: s.data0, cr0: CR0_PE | CR0_ET, cr2: 0, cr3: 0, cr4: 0,
  };
  const data = new Uint8Array(layout.dataWindowSize);
  return { name: 'hand', env, program: [{ bytes: code, form: 'hand' }], code: new Uint8Array(code), regs: { ...base, ...regs }, data, pinned: ['esp'], maxSteps: 4 };
}

/** A one-step recording that ends in `vector`'s stub with ESP lowered by `frameBytes` (no QEMU). */
function fakeException(c: DiffCase, vector: number, frameBytes: number): CaseRecording {
  const pm = (c.regs.cr0 & CR0_PE) !== 0;
  const regs: HarnessRegs = pm
    ? { ...c.regs, eip: layout.excStubs + vector * layout.stubSize, cs: s.code0, esp: c.regs.esp - frameBytes }
    : { ...c.regs, eip: layout.rmStubBase + vector * layout.rmStubSize, cs: 0, esp: c.regs.esp - frameBytes };
  return { states: [{ regs, mem: caseMemRanges(c, layout).map((r) => new Uint8Array(r.len)) }], end: 'exception', vector };
}

const faultRf = (c: DiffCase, rec: CaseRecording): boolean => correctionFixes(c, rec, layout).some((f) => f.id === CORRECTION.faultRf);

describe('fault-rf correction (no QEMU needed)', () => {
  const stored = readStoredCases(QEMU_WRONG_DIR).find((f) => f.file.endsWith(`${GP_CASE}.json`))!.stored;

  it('sets exactly bit 16 of the pushed EFLAGS doubleword and nothing else', () => {
    const expected = stored.expected;
    const last = expected.states[expected.states.length - 1];
    const at = pushedEflagsAddress(last.regs, VEC.GP, layout) - W;
    expect(at).toBe(stored.case.regs.esp - W - 4); // #GP frame: error, EIP, CS, EFLAGS
    expect((u32(last.mem[0], at) >>> RF_BIT) & 1).toBe(1);
    // What QEMU records: the same frame with RF clear.
    const raw = clone(expected);
    raw.states[0].mem[0][at + 2] &= ~1;
    const corrected = clone(raw);
    expect(correctQemuRecording(stored.case, corrected, layout)).toEqual([CORRECTION.faultRf]);
    const changed = [...raw.states[0].mem[0]].flatMap((b, i) => (b !== corrected.states[0].mem[0][i] ? [[i, b ^ corrected.states[0].mem[0][i]]] : []));
    expect(changed).toEqual([[at + 2, 1]]);
    expect(corrected.states[0].regs).toEqual(raw.states[0].regs);
    // Idempotent: an image that already has RF is left alone.
    expect(correctQemuRecording(stored.case, corrected, layout)).toEqual([]);
  });

  it('applies to faults only: not to INT n / INT3 / INTO, traps, or real-mode frames', () => {
    const ud2 = handCase([0x0f, 0x0b]);
    expect(faultRf(ud2, fakeException(ud2, VEC.UD, 12))).toBe(true);
    // INT 0x0D in ring 0 delivers vector 13 as a software interrupt (no error code, RF as it was).
    const int13 = handCase([0xcd, 0x0d]);
    expect(faultRf(int13, fakeException(int13, VEC.GP, 12))).toBe(false);
    // The same INT in ring 3 meets a DPL-0 gate: #GP(error code), a fault.
    const ring3 = { cs: s.code3, ss: s.data3, ds: s.data3, es: s.data3, fs: s.data3, gs: s.data3 };
    const int13r3 = handCase([0xcd, 0x0d], ring3, { mode: 'pm32', ring: 3, paging: false });
    expect(faultRf(int13r3, fakeException(int13r3, VEC.GP, 24))).toBe(true);
    // INT3 from ring 3 goes through its DPL-3 gate: a trap.
    const int3 = handCase([0xcc], ring3, { mode: 'pm32', ring: 3, paging: false });
    expect(faultRf(int3, fakeException(int3, VEC.BP, 20))).toBe(false);
    // A #DB is a fault only as general detect (MOV DRn); real-mode frames have no RF.
    const movDr = handCase([0x0f, 0x21, 0xf8]);
    expect(faultRf(movDr, fakeException(movDr, VEC.DB, 12))).toBe(true);
    const nop = handCase([0x90]);
    expect(faultRf(nop, fakeException(nop, VEC.DB, 12))).toBe(false);
    const real = handCase([0x0f, 0x0b], { cs: 0, ss: 0, ds: 0, es: 0, fs: 0, gs: 0, cr0: CR0_ET }, { mode: 'real', ring: 0, paging: false });
    expect(faultRf(real, fakeException(real, VEC.UD, 6))).toBe(false);
  });
});

describe.skipIf(!hasQemu)('fault-rf on QEMU recordings', () => {
  let pool: QemuPool;
  beforeAll(async () => {
    pool = await QemuPool.start(layout, 1);
  });
  afterAll(async () => {
    await pool?.close();
  });

  it('QEMU pushes RF clear for #UD and #GP; the correction changes that one bit', async () => {
    // UD2 (#UD, no error code); JMP FAR 0000:00000000 (#GP(0), error code).
    const cases = [handCase([0x0f, 0x0b]), handCase([0xea, 0, 0, 0, 0, 0, 0])];
    for (const c of cases) {
      const raw = await pool.record(c);
      expect(raw.end).toBe('exception');
      const last = raw.states[raw.states.length - 1];
      const at = pushedEflagsAddress(last.regs, raw.vector!, layout) - W;
      expect((u32(last.mem[0], at) >>> RF_BIT) & 1, 'QEMU 7.2 pushes RF clear').toBe(0);
      const corrected = clone(raw);
      expect(correctQemuRecording(c, corrected, layout)).toEqual([CORRECTION.faultRf]);
      expect((u32(corrected.states.at(-1)!.mem[0], at) ^ u32(last.mem[0], at)) >>> 0).toBe(FLAG.RF);
    }
  });
});

describe.skipIf(!hasHarness)('fault-rf against the Domus CPU', () => {
  let worker: CpuWorker;
  const stored = readStoredCases(QEMU_WRONG_DIR).find((f) => f.file.endsWith(`${GP_CASE}.json`))!.stored;
  const last = stored.expected.states[stored.expected.states.length - 1];
  const at = pushedEflagsAddress(last.regs, VEC.GP, layout);
  beforeAll(async () => {
    worker = await CpuWorker.start(layout);
  });
  afterAll(async () => {
    await worker?.close();
  });

  it('matches the corrected frame and fails QEMU\'s uncorrected one at the RF byte', async () => {
    expect(await worker.replay(stored.case, stored.expected)).toBeUndefined();
    const raw = clone(stored.expected);
    raw.states[0].mem[0][at - W + 2] &= ~1;
    const d = await worker.replay(stored.case, raw);
    expect(d?.mem.map((m) => [m.addr, [...m.expected], [...m.actual]])).toEqual([[at + 2, [0], [1]]]);
  });

  it('still reports every other bit of the pushed EFLAGS image', async () => {
    for (let bit = 0; bit < 32; bit++) {
      if (bit === RF_BIT) continue;
      const tampered = clone(stored.expected);
      tampered.states[0].mem[0][at - W + (bit >> 3)] ^= 1 << (bit & 7);
      const d = await worker.replay(stored.case, tampered);
      expect(d?.mem.map((m) => m.addr), `EFLAGS bit ${bit}`).toEqual([at + (bit >> 3)]);
    }
  });
});

describe.skipIf(!hasQemu || !hasHarness)('software interrupts on both CPUs', () => {
  let pool: QemuPool;
  let worker: CpuWorker;
  beforeAll(async () => {
    pool = await QemuPool.start(layout, 1);
    worker = await CpuWorker.start(layout);
  });
  afterAll(async () => {
    await pool?.close();
    await worker?.close();
  });

  it('INT 0x0D and INT3 push RF clear on QEMU and on our CPU (no correction)', async () => {
    for (const c of [handCase([0xcd, 0x0d]), handCase([0xcc]), handCase([0xcd, 0x80])]) {
      const { recording, corrections } = await pool.recordCorrected(c);
      expect(recording.end).toBe('exception');
      expect(corrections).toEqual([]);
      expect(await worker.replay(c, recording)).toBeUndefined();
    }
  });
});

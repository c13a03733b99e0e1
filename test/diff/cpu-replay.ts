/**
 * Replays a case on the Domus CPU in lockstep with QEMU's recording: after every step, registers
 * (EFLAGS under the undefined-flags mask) and the case's memory ranges must match. Undefined
 * flags are then copied from QEMU so both CPUs continue from the same state.
 */
import {
  REG_NAMES, REP_FOLD_LIMIT, caseMemRanges, caseMemWrites, classifyStop, idtHelperRegs, linearIp, sameIp, tableFor,
  type CaseRecording, type DiffCase, type HarnessRegs, type InterruptTable, type RegName, type StepState,
} from './case';
import type { CpuHarness, CreateCpuHarness } from './cpu-harness-api';
import { undefinedFlags, undefinedMemory } from './flags-mask';
import { IDT_HELPER_MAX_STEPS } from './record';
import { DiffHarnessError, type RunnerLayout } from './runner-layout';

/** Guest RAM of the CPU under test, as QEMU's -m 16. */
export const CPU_MEMORY_BYTES = 16 * 1024 * 1024;
/** Index of the compared page-table entries in caseMemRanges (paging cases). */
const PTE_RANGE = 2;
/** Instructions the runner may take to reach `ready` on our CPU. */
const BOOT_BUDGET = 1_000_000;

/** A register that differs. */
export interface RegDiff {
  reg: RegName;
  expected: number;
  actual: number;
}

/** A run of differing bytes. */
export interface MemDiff {
  addr: number;
  expected: Uint8Array;
  actual: Uint8Array;
}

/** The first point where our CPU and QEMU disagree. */
export interface Divergence {
  /** Index of the step (0-based) in the recording. */
  step: number;
  /** Registers before the step (identical on both sides). */
  before: HarnessRegs;
  /** EFLAGS bits ignored at this step (SDM-undefined). */
  flagsMask: number;
  regs: RegDiff[];
  mem: MemDiff[];
  /** Our CPU threw instead of completing the step. */
  error?: string;
}

function diffMemory(addr: number, expected: Uint8Array, actual: Uint8Array): MemDiff[] {
  const out: MemDiff[] = [];
  let i = 0;
  while (i < expected.length) {
    if (expected[i] === actual[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < expected.length && (expected[j] !== actual[j] || (j + 1 < expected.length && expected[j + 1] !== actual[j + 1]))) j++;
    out.push({ addr: addr + i, expected: expected.slice(i, j), actual: actual.slice(i, j) });
    i = j;
  }
  return out;
}

/** Our CPU, booted into the runner once and then fed case after case. */
export class CpuReplayer {
  private readonly h: CpuHarness;
  private readonly layout: RunnerLayout;
  private table: InterruptTable = 'pm';
  private readonly onStep: (step: number) => void;

  /** `onStep` hears the index of each step before it runs (the worker publishes it for hang reports). */
  constructor(create: CreateCpuHarness, layout: RunnerLayout, onStep: (step: number) => void = () => undefined) {
    this.layout = layout;
    this.onStep = onStep;
    this.h = create({ memBytes: CPU_MEMORY_BYTES });
    this.h.loadMultiboot(layout.elf);
    this.h.runUntil(layout.ready, BOOT_BUDGET);
  }

  /** Replays `c` against `expected`; undefined when every step matches. */
  replay(c: DiffCase, expected: CaseRecording): Divergence | undefined {
    const { h, layout } = this;
    const ranges = caseMemRanges(c, layout);
    this.selectTable(c);
    for (const w of caseMemWrites(c, layout)) h.writePhys(w.addr, w.data);
    // Control registers, then CS (it sets CPL, which the SS load checks), then everything.
    h.setRegs({ cr0: c.regs.cr0, cr3: c.regs.cr3, cr4: c.regs.cr4 });
    h.setRegs({ cs: c.regs.cs });
    h.setRegs(c.regs);
    let before: HarnessRegs = c.regs;
    for (let k = 0; k < expected.states.length; k++) {
      this.onStep(k);
      const want = expected.states[k];
      const inException = classifyStop(want.regs, c, layout, k + 1).end === 'exception';
      const mask = undefinedFlags(c.code, linearIp(before) - layout.codeWindow, before, inException);
      let got: StepState;
      try {
        got = this.stepFolded(before, ranges);
      } catch (err) {
        return { step: k, before, flagsMask: mask, regs: [], mem: [], error: (err as Error).stack ?? String(err) };
      }
      const regs: RegDiff[] = [];
      for (const r of REG_NAMES) {
        const m = r === 'eflags' ? ~mask : 0xffffffff;
        if (((got.regs[r] ^ want.regs[r]) & m) !== 0) regs.push({ reg: r, expected: want.regs[r], actual: got.regs[r] });
      }
      // Bytes the SDM leaves undefined count as equal, and take QEMU's value afterwards.
      const resync: { addr: number; data: Uint8Array }[] = [];
      for (const u of undefinedMemory(c.code, linearIp(before) - layout.codeWindow, before, want.regs, inException, layout, ranges[PTE_RANGE])) {
        ranges.forEach((rg, i) => {
          for (let a = u.addr; a < u.addr + u.len; a++) {
            if (a < rg.addr || a >= rg.addr + rg.len) continue;
            const g = got.mem[i][a - rg.addr];
            const w = want.mem[i][a - rg.addr];
            if (((g ^ w) & u.bits) === 0) continue;
            got.mem[i][a - rg.addr] = (g & ~u.bits) | (w & u.bits);
            resync.push({ addr: a, data: got.mem[i].slice(a - rg.addr, a - rg.addr + 1) });
          }
        });
      }
      const mem = ranges.flatMap((rg, i) => diffMemory(rg.addr, want.mem[i], got.mem[i]));
      if (regs.length > 0 || mem.length > 0) return { step: k, before, flagsMask: mask, regs, mem };
      if (got.regs.eflags !== want.regs.eflags) h.setRegs({ eflags: want.regs.eflags });
      for (const w of resync) h.writePhys(w.addr, w.data);
      before = want.regs;
    }
    return undefined;
  }

  private stepFolded(before: HarnessRegs, ranges: { addr: number; len: number }[]): StepState {
    const h = this.h;
    h.step();
    let regs = h.getRegs();
    for (let folds = 1; folds < REP_FOLD_LIMIT && sameIp(regs, before); folds++) {
      h.step();
      regs = h.getRegs();
    }
    return { regs, mem: ranges.map((r) => h.readPhys(r.addr, r.len)) };
  }

  private selectTable(c: DiffCase): void {
    const want = tableFor(c.env);
    if (this.table === want) return;
    const helper = idtHelperRegs(want, this.layout);
    this.h.setRegs({ cr0: helper.regs.cr0, cr3: 0, cr4: 0 });
    this.h.setRegs({ cs: helper.regs.cs });
    this.h.setRegs(helper.regs);
    for (let n = 0; n < IDT_HELPER_MAX_STEPS && this.h.getRegs().eip !== helper.done; n++) this.h.step();
    const eip = this.h.getRegs().eip;
    if (eip !== helper.done) {
      throw new DiffHarnessError('diff.idt-helper', `Our CPU ran the runner's ${want} IDTR helper to EIP 0x${eip.toString(16)} instead of 0x${helper.done.toString(16)}.`);
    }
    this.table = want;
  }
}


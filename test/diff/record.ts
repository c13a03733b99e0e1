/**
 * The recording loop both targets share: load a case, single-step it, fold the iterations of a
 * REP string instruction into one step (QEMU's gdbstub stops after every iteration, as hardware
 * does for TF), snapshot registers and memory after each step, and stop at the end of the code,
 * at an exception stub, when execution leaves the code window, or at the step limit.
 */
import {
  caseMemRanges, classifyStop, idtHelperRegs, REP_FOLD_LIMIT, sameIp, tableFor,
  type CaseRecording, type DiffCase, type HarnessRegs, type InterruptTable, type MemRange, type StepState,
} from './case';
import { DiffHarnessError, type RunnerLayout } from './runner-layout';

/** Something that can run a case one instruction at a time. */
export interface StepTarget {
  /** The interrupt table IDTR points at now ('pm' after the runner reaches ready). */
  interruptTable: InterruptTable;
  /** Writes the case's memory and registers. */
  load(c: DiffCase): Promise<void>;
  /** Writes registers only. */
  setRegs(regs: HarnessRegs): Promise<void>;
  /** Executes one instruction (or one iteration of a REP string instruction). */
  step(): Promise<void>;
  /** Reads the registers and the given memory ranges. */
  snapshot(ranges: MemRange[]): Promise<StepState>;
}

/** Instructions in the runner's IDTR helpers, at most. */
export const IDT_HELPER_MAX_STEPS = 16;

/** Points IDTR at the table a case needs by single-stepping one of the runner's helpers. */
export async function selectInterruptTable(target: StepTarget, c: DiffCase, layout: RunnerLayout): Promise<void> {
  const want = tableFor(c.env);
  if (target.interruptTable === want) return;
  const helper = idtHelperRegs(want, layout);
  await target.setRegs(helper.regs);
  let after = await target.snapshot([]);
  for (let n = 0; n < IDT_HELPER_MAX_STEPS && after.regs.eip !== helper.done; n++) {
    await target.step();
    after = await target.snapshot([]);
  }
  if (after.regs.eip !== helper.done) {
    throw new DiffHarnessError('diff.idt-helper', `The runner's ${want} IDTR helper ended at EIP 0x${after.regs.eip.toString(16)} instead of 0x${helper.done.toString(16)}.`);
  }
  target.interruptTable = want;
}

/** Runs a case on a target and returns every state it went through. */
export async function recordCase(target: StepTarget, c: DiffCase, layout: RunnerLayout): Promise<CaseRecording> {
  const ranges = caseMemRanges(c, layout);
  await selectInterruptTable(target, c, layout);
  await target.load(c);
  const states: StepState[] = [];
  let prev: HarnessRegs = c.regs;
  for (;;) {
    await target.step();
    let state = await target.snapshot(ranges);
    for (let folds = 1; folds < REP_FOLD_LIMIT && sameIp(state.regs, prev); folds++) {
      await target.step();
      state = await target.snapshot(ranges);
    }
    states.push(state);
    const stop = classifyStop(state.regs, c, layout, states.length);
    if (stop.end) return stop.vector === undefined ? { states, end: stop.end } : { states, end: stop.end, vector: stop.vector };
    prev = state.regs;
  }
}

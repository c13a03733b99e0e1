/**
 * Shrinks a diverging case while it still diverges: drop instructions (a generator group goes
 * as one unit), simplify registers nothing depends on to 0 or 1, clear status flags and DF,
 * zero the data window (whole, then halves down to 16-byte blocks), and stop recording at the
 * diverging step. Every attempt is re-recorded on QEMU and replayed on our CPU.
 */
import { FLAG, GPR_NAMES, STATUS_FLAGS, type CaseRecording, type DiffCase, type ProgramInsn } from './case';
import type { Divergence } from './cpu-replay';
import { assembleProgram } from './generator';
import type { RunnerLayout } from './runner-layout';

/** What the minimiser needs from the outside world. */
export interface MinimiseOps {
  layout: RunnerLayout;
  /** Records a case on QEMU. */
  record(c: DiffCase): Promise<CaseRecording>;
  /** Replays a case on our CPU against a recording. */
  diverges(c: DiffCase, expected: CaseRecording): Promise<Divergence | undefined>;
  /** Most attempts (default 300). */
  maxAttempts?: number;
}

/** A minimised case with its QEMU recording and divergence. */
export interface Minimised {
  case: DiffCase;
  recording: CaseRecording;
  divergence: Divergence;
  attempts: number;
}

const DEFAULT_MAX_ATTEMPTS = 300;
const SMALLEST_DATA_BLOCK = 16;

/** Removes program[a, b) and retargets fixups; undefined when a branch would target itself. */
export function removeInstructions(program: ProgramInsn[], a: number, b: number): ProgramInsn[] | undefined {
  const out: ProgramInsn[] = [];
  for (let i = 0; i < program.length; i++) {
    if (i >= a && i < b) continue;
    const p = { ...program[i] };
    if (p.fixup) {
      const t = p.fixup.target;
      p.fixup = { ...p.fixup, target: t >= b ? t - (b - a) : t >= a ? a : t };
      if (p.fixup.target === out.length) return undefined;
    }
    out.push(p);
  }
  return out;
}

/** Instruction units: runs of instructions that share a generator group. */
function units(program: ProgramInsn[]): [number, number][] {
  const out: [number, number][] = [];
  let i = 0;
  while (i < program.length) {
    let j = i + 1;
    while (j < program.length && program[i].group !== undefined && program[j].group === program[i].group) j++;
    out.push([i, j]);
    i = j;
  }
  return out;
}

/** Shrinks `c` (which diverges as `divergence`) as far as the attempt budget allows. */
export async function minimiseCase(c: DiffCase, recording: CaseRecording, divergence: Divergence, ops: MinimiseOps): Promise<Minimised> {
  const budget = ops.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  let best: Minimised = { case: c, recording, divergence, attempts: 0 };
  const tryCase = async (candidate: DiffCase): Promise<boolean> => {
    if (best.attempts >= budget) return false;
    best.attempts++;
    const rec = await ops.record(candidate);
    const d = await ops.diverges(candidate, rec);
    if (!d) return false;
    best = { case: candidate, recording: rec, divergence: d, attempts: best.attempts };
    return true;
  };
  const withProgram = (program: ProgramInsn[]): DiffCase => ({ ...best.case, program, code: assembleProgram(program, ops.layout) });

  // 1. Drop instructions, last first, until nothing more can go.
  for (let progress = true; progress && best.attempts < budget;) {
    progress = false;
    for (const [a, b] of units(best.case.program).reverse()) {
      if (best.case.program.length <= 1) break;
      const program = removeInstructions(best.case.program, a, b);
      if (program && (await tryCase(withProgram(program)))) progress = true;
    }
  }
  // 2. Registers nothing addresses through: 0, then 1.
  for (const name of GPR_NAMES) {
    if (best.case.pinned.includes(name)) continue;
    for (const v of [0, 1]) {
      if (best.case.regs[name] === v) break;
      if (await tryCase({ ...best.case, regs: { ...best.case.regs, [name]: v } })) break;
    }
  }
  // 3. Flags and CR2.
  const flagsCleared = (best.case.regs.eflags & ~STATUS_FLAGS) >>> 0;
  if (flagsCleared !== best.case.regs.eflags) await tryCase({ ...best.case, regs: { ...best.case.regs, eflags: flagsCleared } });
  if (best.case.regs.eflags & FLAG.DF) await tryCase({ ...best.case, regs: { ...best.case.regs, eflags: best.case.regs.eflags & ~FLAG.DF } });
  if (best.case.regs.cr2 !== 0) await tryCase({ ...best.case, regs: { ...best.case.regs, cr2: 0 } });
  // 4. Data: zero everything, else halves, quarters ... down to 16-byte blocks.
  const zeroed = (lo: number, hi: number): DiffCase => {
    const data = best.case.data.slice();
    data.fill(0, lo, hi);
    return { ...best.case, data };
  };
  const isZero = (lo: number, hi: number): boolean => best.case.data.subarray(lo, hi).every((b) => b === 0);
  const shrinkData = async (lo: number, hi: number): Promise<void> => {
    if (isZero(lo, hi) || (await tryCase(zeroed(lo, hi)))) return;
    if (hi - lo <= SMALLEST_DATA_BLOCK) return;
    const mid = lo + Math.ceil((hi - lo) / 2 / SMALLEST_DATA_BLOCK) * SMALLEST_DATA_BLOCK;
    await shrinkData(lo, mid);
    await shrinkData(mid, hi);
  };
  await shrinkData(0, best.case.data.length);
  // 5. Record only up to the diverging step.
  const steps = best.divergence.step + 1;
  if (steps < best.case.maxSteps) await tryCase({ ...best.case, maxSteps: steps });
  return best;
}

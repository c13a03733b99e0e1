/**
 * One differential run: generate cases (seed, 0..count-1), record each on a pool of QEMUs, replay
 * it on our CPU, minimise divergences and optionally store them as regression cases. Without a
 * CPU harness the run only records (for speed measurements and QEMU-side checks).
 */
import type { CaseRecording, DiffCase } from './case';
import type { Divergence } from './cpu-replay';
import { CpuWorker } from './cpu-worker-host';
import type { InjectedBug } from './fault-injection';
import { generateCase, type GeneratorConfig } from './generator';
import { minimiseCase } from './minimise';
import { qemuVersion } from './qemu-process';

let versionLine: string | undefined;
const qemuSource = (): string => (versionLine ??= qemuVersion() ?? 'qemu-system-i386');
import { DEFAULT_POOL_SIZE, QemuPool } from './qemu-pool';
import { CASES_DIR, writeStoredCase } from './regressions';
import { formatDivergence, summariseDivergence } from './report';
import type { RunnerLayout } from './runner-layout';

/** Options of a run. */
export interface DiffRunConfig {
  seed: number;
  count: number;
  /** First case index (default 0). */
  first?: number;
  /** QEMU processes (default 2). */
  jobs?: number;
  /** Minimise divergences (default true when comparing). */
  minimise?: boolean;
  /** Store minimised divergences in test/unit/cpu/diff-regressions/cases (default false). */
  write?: boolean;
  /** Stop generating after this many divergences (default 20). */
  maxDivergences?: number;
  generator?: GeneratorConfig;
  /** Give our CPU a known bug (the harness's self-tests). */
  inject?: InjectedBug;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** A divergence found by a run. */
export interface FoundDivergence {
  case: DiffCase;
  recording: CaseRecording;
  divergence: Divergence;
  /** The case as generated, before minimisation. */
  original: DiffCase;
  report: string;
  summary: string;
  file?: string;
}

/** What a run did. */
export interface DiffRunResult {
  cases: number;
  steps: number;
  seconds: number;
  casesPerSecond: number;
  /** How recordings ended: "completed", "exception #13", ... */
  ends: Record<string, number>;
  /** How often each QEMU correction (qemu-corrections.ts) was applied. */
  corrections: Record<string, number>;
  qemuRestarts: number;
  divergences: FoundDivergence[];
}

const DEFAULT_MAX_DIVERGENCES = 20;
const PROGRESS_EVERY = 5000;

/** Runs `count` generated cases on QEMU and, with `compare`, replays them on our CPU (a worker thread). */
export async function runDifferential(cfg: DiffRunConfig, layout: RunnerLayout, compare: boolean): Promise<DiffRunResult> {
  const log = cfg.log ?? (() => undefined);
  const jobs = cfg.jobs ?? DEFAULT_POOL_SIZE;
  const first = cfg.first ?? 0;
  const maxDiv = cfg.maxDivergences ?? DEFAULT_MAX_DIVERGENCES;
  const replayer = compare ? await CpuWorker.start(layout, { inject: cfg.inject }) : undefined;
  const pool = await QemuPool.start(layout, jobs);
  const result: DiffRunResult = { cases: 0, steps: 0, seconds: 0, casesPerSecond: 0, ends: {}, corrections: {}, qemuRestarts: 0, divergences: [] };
  const started = performance.now();
  let next = first;
  // The QEMU corrections each recording received (the minimiser's attempts included).
  const correctionsOf = new WeakMap<CaseRecording, string[]>();
  const recordCorrected = async (x: DiffCase): Promise<CaseRecording> => {
    const { recording, corrections } = await pool.recordCorrected(x);
    correctionsOf.set(recording, corrections);
    return recording;
  };
  const worker = async (): Promise<void> => {
    while (next < first + cfg.count && result.divergences.length < maxDiv) {
      const index = next++;
      const c = generateCase(cfg.seed, index, layout, cfg.generator);
      const rec = await recordCorrected(c);
      for (const id of correctionsOf.get(rec) ?? []) result.corrections[id] = (result.corrections[id] ?? 0) + 1;
      result.cases++;
      result.steps += rec.states.length;
      const end = rec.end === 'exception' ? `exception #${rec.vector}` : rec.end;
      result.ends[end] = (result.ends[end] ?? 0) + 1;
      if (result.cases % PROGRESS_EVERY === 0) log(`${result.cases} cases, ${result.divergences.length} divergences, ${Math.round(result.cases / ((performance.now() - started) / 1000))} cases/s`);
      if (!replayer) continue;
      const d = await replayer.replay(c, rec);
      if (!d) continue;
      let found = { case: c, recording: rec, divergence: d };
      if (cfg.minimise ?? true) {
        const m = await minimiseCase(c, rec, d, { layout, record: recordCorrected, diverges: (x, r) => replayer.replay(x, r) });
        found = m;
      }
      const fixes = correctionsOf.get(found.recording) ?? [];
      const summary = `${summariseDivergence(found.case, found.divergence, layout)}${fixes.length ? ` (QEMU corrections applied: ${fixes.join(', ')})` : ''}`;
      const entry: FoundDivergence = { ...found, original: c, summary, report: formatDivergence(found.case, found.recording, found.divergence, layout) };
      if (cfg.write) {
        entry.file = writeStoredCase(CASES_DIR, { case: found.case, expected: found.recording, source: `${qemuSource()}${fixes.length ? ` + corrections: ${fixes.join(', ')}` : ''}`, note: summary });
      }
      result.divergences.push(entry);
      log(`divergence ${result.divergences.length}: ${c.name} ${summary}${entry.file ? ` -> ${entry.file}` : ''}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: jobs * 2 }, worker));
  } finally {
    result.qemuRestarts = pool.restarts;
    await pool.close();
    await replayer?.close();
  }
  result.seconds = (performance.now() - started) / 1000;
  result.casesPerSecond = Math.round(result.cases / result.seconds);
  return result;
}

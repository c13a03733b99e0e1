/**
 * Command line of the differential harness. Node 20 cannot run TypeScript directly, so run it
 * through the esbuild wrapper:
 *
 *   node test/diff/cli.mjs compare   [--seed N] [--count N] [--first N] [--jobs N] [--write] [--no-minimise] [--modes a,b]
 *                                    [--inject cmc-keeps-cf]   (self-test: give our CPU a known bug)
 *   node test/diff/cli.mjs record    [--seed N] [--count N] [--jobs N]          QEMU only: speed and outcome mix
 *   node test/diff/cli.mjs stability [--seed N] [--count N] [--jobs N]          record twice (second run reversed) and compare
 *   node test/diff/cli.mjs replay    [FILE.json ...]                            stored cases on our CPU (default: all)
 *   node test/diff/cli.mjs show      FILE.json | --seed N --index N             case, disassembly and QEMU's states
 *   node test/diff/cli.mjs qemu-wrong [--write]                                 check (and rewrite) the QEMU-is-wrong cases
 *   node test/diff/cli.mjs rerecord  [FILE.json ...]                            re-record stored cases/ on QEMU (after a runner or correction change)
 *
 * Exit status: 0 when everything matched, 1 on divergences or instability, 2 on usage errors.
 */
import { recordingKey } from './case-json';
import { cpuHarnessPresent, CPU_HARNESS_MISSING } from './cpu-harness-api';
import { CpuWorker } from './cpu-worker-host';
import { runDifferential } from './diff-run';
import type { InjectedBug } from './fault-injection';
import { generateCase, type GeneratorConfig } from './generator';
import { DEFAULT_POOL_SIZE, QemuPool } from './qemu-pool';
import { qemuVersion } from './qemu-process';
import { CASES_DIR, QEMU_WRONG_DIR, readStoredCases } from './regressions';
import { formatCase, formatDivergence, formatRegs } from './report';
import { loadRunnerLayout, type RunnerLayout } from './runner-layout';
import { storedCaseFromJson, storedCaseToJson } from './case-json';
import { buildQemuWrongCases, qemuStillWrong } from './qemu-wrong';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

interface Args {
  cmd: string;
  files: string[];
  seed: number;
  count: number;
  first: number;
  index: number;
  jobs: number;
  write: boolean;
  minimise: boolean;
  modes?: GeneratorConfig['modes'];
  inject?: InjectedBug;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { cmd: argv[0] ?? 'help', files: [], seed: 1, count: 1000, first: 0, index: 0, jobs: DEFAULT_POOL_SIZE, write: false, minimise: true };
  for (let i = 1; i < argv.length; i++) {
    const v = argv[i];
    const num = (): number => {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n)) throw new Error(`${v} needs a number`);
      return n;
    };
    if (v === '--seed') a.seed = num();
    else if (v === '--count') a.count = num();
    else if (v === '--first') a.first = num();
    else if (v === '--index') a.index = num();
    else if (v === '--jobs') a.jobs = num();
    else if (v === '--write') a.write = true;
    else if (v === '--no-minimise') a.minimise = false;
    else if (v === '--modes') a.modes = argv[++i].split(',') as GeneratorConfig['modes'];
    else if (v === '--inject') a.inject = argv[++i] as InjectedBug;
    else if (v.startsWith('--')) throw new Error(`unknown option ${v}`);
    else a.files.push(v);
  }
  return a;
}

const print = (s: string): void => void process.stdout.write(`${s}\n`);

async function record(a: Args, layout: RunnerLayout): Promise<number> {
  const r = await runDifferential({ seed: a.seed, count: a.count, first: a.first, jobs: a.jobs, generator: { modes: a.modes }, log: print }, layout, false);
  print(`${r.cases} cases, ${r.steps} steps in ${r.seconds.toFixed(1)} s: ${r.casesPerSecond} cases/s with ${a.jobs} QEMU processes (${qemuVersion()})`);
  print(`outcomes: ${Object.entries(r.ends).sort((x, y) => y[1] - x[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  print(`QEMU corrections applied: ${Object.entries(r.corrections).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
  return 0;
}

async function stability(a: Args, layout: RunnerLayout): Promise<number> {
  const cases = Array.from({ length: a.count }, (_, i) => generateCase(a.seed, a.first + i, layout, { modes: a.modes }));
  const runOnce = async (order: number[]): Promise<string[]> => {
    const pool = await QemuPool.start(layout, a.jobs);
    const keys = new Array<string>(cases.length);
    let next = 0;
    try {
      await Promise.all(Array.from({ length: a.jobs * 2 }, async () => {
        while (next < order.length) {
          const i = order[next++];
          keys[i] = recordingKey(await pool.record(cases[i]));
        }
      }));
    } finally {
      await pool.close();
    }
    return keys;
  };
  const order = [...cases.keys()];
  const first = await runOnce(order);
  const second = await runOnce(order.reverse());
  const unstable = cases.filter((_, i) => first[i] !== second[i]);
  for (const c of unstable.slice(0, 10)) print(`unstable: ${c.name}\n${formatCase(c, layout).join('\n')}`);
  print(`${cases.length} cases recorded twice (second pass in reverse order, fresh QEMU processes): ${unstable.length} differ`);
  return unstable.length === 0 ? 0 : 1;
}

async function compare(a: Args, layout: RunnerLayout): Promise<number> {
  if (!cpuHarnessPresent()) {
    print(`${CPU_HARNESS_MISSING} (test/support/cpu-harness.ts)`);
    return 2;
  }
  const r = await runDifferential({ seed: a.seed, count: a.count, first: a.first, jobs: a.jobs, write: a.write, minimise: a.minimise, inject: a.inject, generator: { modes: a.modes }, log: print }, layout, true);
  for (const d of r.divergences) print(`\n${d.report}${d.file ? `\nstored as ${d.file}` : ''}`);
  print(`\nQEMU corrections applied: ${Object.entries(r.corrections).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
  print(`${r.cases} cases, ${r.steps} steps in ${r.seconds.toFixed(1)} s (${r.casesPerSecond} cases/s): ${r.divergences.length} divergences`);
  return r.divergences.length === 0 ? 0 : 1;
}

async function replay(a: Args, layout: RunnerLayout): Promise<number> {
  if (!cpuHarnessPresent()) {
    print(`${CPU_HARNESS_MISSING} (test/support/cpu-harness.ts)`);
    return 2;
  }
  const files = a.files.length > 0
    ? a.files.map((f) => ({ file: f, stored: storedCaseFromJson(readFileSync(f, 'utf8'), f) }))
    : [...readStoredCases(CASES_DIR), ...readStoredCases(QEMU_WRONG_DIR)];
  const replayer = await CpuWorker.start(layout);
  let bad = 0;
  for (const { file, stored } of files) {
    const d = await replayer.replay(stored.case, stored.expected);
    if (d) {
      bad++;
      print(`FAIL ${file}\n${formatDivergence(stored.case, stored.expected, d, layout)}\n`);
    } else {
      print(`ok   ${file}`);
    }
  }
  await replayer.close();
  print(`${files.length - bad} of ${files.length} stored cases match`);
  return bad === 0 ? 0 : 1;
}

async function show(a: Args, layout: RunnerLayout): Promise<number> {
  const stored = a.files[0] ? storedCaseFromJson(readFileSync(a.files[0], 'utf8'), a.files[0]) : undefined;
  const c = stored?.case ?? generateCase(a.seed, a.index, layout, { modes: a.modes });
  print(formatCase(c, layout).join('\n'));
  c.program.forEach((p, i) => print(`  [${i}] ${p.form}${p.fixup ? ` -> [${p.fixup.target}]` : ''}${p.group !== undefined ? ` (group ${p.group})` : ''}`));
  let rec = stored?.expected;
  if (!rec && qemuVersion()) {
    const pool = await QemuPool.start(layout, 1);
    try {
      rec = (await pool.recordCorrected(c)).recording;
    } finally {
      await pool.close();
    }
  }
  if (rec) {
    print(`${stored ? 'expected' : 'QEMU'} states (${rec.end}${rec.vector !== undefined ? ` #${rec.vector}` : ''}):`);
    rec.states.forEach((s, i) => print(`  step ${i + 1}:\n${formatRegs(s.regs).map((l) => `    ${l}`).join('\n')}`));
  }
  return 0;
}

async function qemuWrong(a: Args, layout: RunnerLayout): Promise<number> {
  for (const r of await qemuStillWrong(layout)) print(`${r.name}: QEMU ${r.fixed ? 'now matches the SDM (fixed? then the case can go)' : `still deviates from the SDM (its recording ends ${r.end})`}`);
  const cases = await buildQemuWrongCases(layout, qemuVersion() ?? 'qemu-system-i386');
  for (const c of cases) {
    if (!a.write) {
      print(`${c.case.name}: expected ${c.expected.end} #${c.expected.vector} (use --write to store)`);
      continue;
    }
    mkdirSync(QEMU_WRONG_DIR, { recursive: true });
    const file = path.join(QEMU_WRONG_DIR, `${c.case.name}.json`);
    writeFileSync(file, storedCaseToJson(c));
    print(`wrote ${file}`);
  }
  return 0;
}

async function rerecord(a: Args, layout: RunnerLayout): Promise<number> {
  const files = a.files.length > 0 ? a.files.map((f) => ({ file: f, stored: storedCaseFromJson(readFileSync(f, 'utf8'), f) })) : readStoredCases(CASES_DIR);
  const pool = await QemuPool.start(layout, 1);
  try {
    for (const { file, stored } of files) {
      const { recording, corrections } = await pool.recordCorrected(stored.case);
      const same = recordingKey(recording) === recordingKey(stored.expected);
      writeFileSync(file, storedCaseToJson({ ...stored, expected: recording, source: `${qemuVersion() ?? 'qemu-system-i386'}${corrections.length ? ` + corrections: ${corrections.join(', ')}` : ''}` }));
      print(`${same ? 'unchanged' : 'updated  '} ${file}`);
    }
  } finally {
    await pool.close();
  }
  return 0;
}

/** Entry point (cli.mjs calls it with the arguments after the command name's position). */
export async function main(argv: string[]): Promise<number> {
  let a: Args;
  try {
    a = parseArgs(argv);
  } catch (err) {
    print(`usage error: ${(err as Error).message}`);
    return 2;
  }
  const layout = loadRunnerLayout();
  const needsQemu = ['compare', 'record', 'stability', 'qemu-wrong', 'rerecord'].includes(a.cmd);
  if (needsQemu && !qemuVersion()) {
    print('qemu-system-i386 is not installed (Debian package qemu-system-x86); differential runs need it.');
    return 2;
  }
  switch (a.cmd) {
    case 'record': return record(a, layout);
    case 'stability': return stability(a, layout);
    case 'compare': return compare(a, layout);
    case 'replay': return replay(a, layout);
    case 'show': return show(a, layout);
    case 'qemu-wrong': return qemuWrong(a, layout);
    case 'rerecord': return rerecord(a, layout);
    default:
      print('commands: compare | record | stability | replay | show | qemu-wrong | rerecord  (see the header of test/diff/run.ts)');
      print(`CPU harness: ${cpuHarnessPresent() ? 'present' : CPU_HARNESS_MISSING}`);
      return a.cmd === 'help' ? 0 : 2;
  }
}

/**
 * The bench guest (../shared/guests/bench): boots it with `domus run` as a user would and
 * timestamps its serial lines as they arrive. MIPS per workload = the exact instruction count of
 * its README / wall time between its BEGIN and END lines. Also: process start to first COM1 byte.
 * Runs each configuration RUNS times and reports medians.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const GUEST_DIR = process.env.DOMUS_GUESTS ?? path.resolve('../shared/guests');
/** Dynamic instruction counts per workload (guests/bench/README.md, counted with QEMU -icount). */
const COUNTS: Record<string, number> = { alu: 202_832_552, mem: 227_322_388, call: 201_940_301 };
const RUNS = Number(process.env.DOMUS_BENCH_RUNS ?? 3);
/** Start-up runs (each stopped at the first byte): cheap, so more of them for a steadier median. */
const START_RUNS = Number(process.env.DOMUS_BENCH_START_RUNS ?? 11);

interface RunResult {
  firstByteMs: number;
  spans: Record<string, number>;
  exitCode: number | null;
}

function runOnce(elf: string, extra: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const env = { ...process.env };
    // A machine-wide CA bundle setting costs ~90 ms of Node start-up and has nothing to do with us.
    delete env.NODE_EXTRA_CA_CERTS;
    const child = spawn(process.execPath, ['bin/domus', 'run', '--kernel', elf, '--debug-exit', ...extra], { env });
    let firstByteMs = -1;
    let buf = '';
    const begins: Record<string, number> = {};
    const spans: Record<string, number> = {};
    child.stdout.on('data', (d: Buffer) => {
      const now = performance.now();
      if (firstByteMs < 0) firstByteMs = now - t0;
      buf += d.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^(BEGIN|END) (\S+)/.exec(line);
        if (m && m[1] === 'BEGIN') begins[m[2]] = now;
        if (m && m[1] === 'END' && begins[m[2]] !== undefined) spans[m[2]] = now - begins[m[2]];
      }
    });
    child.stderr.on('data', () => {});
    child.on('error', reject);
    child.on('exit', (code) => resolve({ firstByteMs, spans, exitCode: code }));
  });
}

interface StartResult {
  firstByteMs: number;
  /** Milestone -> ms since process start, from DOMUS_TRACE_START=1 (src-engine/node/startup-trace.ts). */
  marks: Map<string, number>;
}

/** One `domus run` with the start-up trace on, killed at its first stdout byte. */
function startOnce(elf: string): Promise<StartResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const env: NodeJS.ProcessEnv = { ...process.env, DOMUS_TRACE_START: '1' };
    delete env.NODE_EXTRA_CA_CERTS;
    const child = spawn(process.execPath, ['bin/domus', 'run', '--kernel', elf, '--debug-exit'], { env });
    let firstByteMs = -1;
    let err = '';
    child.stdout.once('data', () => {
      firstByteMs = performance.now() - t0;
      child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString('latin1')));
    child.on('error', reject);
    child.on('exit', () => {
      const marks = new Map<string, number>();
      for (const m of err.matchAll(/^domus startup: +([\d.]+) ms +(main|thread\d+) +(.*)$/gm)) {
        // Per-thread milestones are named by what they say (the pCPU threads share names: keep the last).
        const what = m[3].replace(/ +\(thread CPU [\d.]+ ms\)$/, '').replace(/ \(code cache: \w+\)| to \/.*$/g, '');
        marks.set(what, Number(m[1]));
      }
      resolve({ firstByteMs, marks });
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)];
}

/** Prints the figures. */
export default async function bench(log: (line: string) => void): Promise<void> {
  const elf = path.join(GUEST_DIR, 'bench/bench.elf');
  const warm = path.join(GUEST_DIR, 'bench/bench-warm.elf');
  if (!existsSync(elf)) {
    log(`skipped: ${elf} not found (set DOMUS_GUESTS to the shared guests folder)`);
    return;
  }
  // Process start to the first COM1 byte, with the engine's own start-up milestones.
  const load = os.loadavg()[0];
  const starts: StartResult[] = [];
  for (let i = 0; i < START_RUNS; i++) starts.push(await startOnce(elf));
  const fb = starts.map((r) => r.firstByteMs);
  log(`start: process start to first COM1 byte: median ${median(fb).toFixed(0)} ms, best ${Math.min(...fb).toFixed(0)} ms over ${START_RUNS} runs (goal < 150 ms; load average ${load.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after, ${os.cpus().length} CPUs)`);
  const names = [...new Set(starts.flatMap((r) => [...r.marks.keys()]))];
  const order = names.map((n) => ({ n, ms: median(starts.filter((r) => r.marks.has(n)).map((r) => r.marks.get(n) as number)) })).sort((a, b) => a.ms - b.ms);
  for (const { n, ms } of order) log(`start:   ${ms.toFixed(1).padStart(6)} ms  ${n}`);
  for (const [label, file] of [['bench.elf', elf], ['bench-warm.elf', warm]] as const) {
    if (!existsSync(file)) continue;
    const results: RunResult[] = [];
    for (let i = 0; i < RUNS; i++) results.push(await runOnce(file, []));
    const bad = results.find((r) => r.exitCode !== 1);
    if (bad) log(`${label}: WARNING exit code ${bad.exitCode} (expected 1 from debug-exit)`);
    log(`${label}: process start to first COM1 byte: median ${median(results.map((r) => r.firstByteMs)).toFixed(0)} ms (goal < 150 ms)`);
    const names = Object.keys(results[0].spans);
    for (const name of names) {
      const base = name.replace(/\.\d+$/, '');
      const ms = median(results.map((r) => r.spans[name]));
      const count = COUNTS[base];
      log(`${label}: ${name.padEnd(7)} ${ms.toFixed(0).padStart(6)} ms  ${count ? (count / ms / 1000).toFixed(1).padStart(6) + ' MIPS' : ''}`);
    }
  }
}

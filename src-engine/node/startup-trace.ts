/**
 * Start-up timeline for `domus run` (DOMUS_TRACE_START=1): one stderr line per milestone with
 * the milliseconds since the process started, from whichever thread reached it. Used to measure
 * where the time to the first COM1 byte goes (docs/performance.md); silent and free otherwise.
 *
 * Every thread of one process reads the same wall clock, so performance.timeOrigin + now() is
 * comparable across threads; the main thread's origin (process start) travels to the workers in
 * the environment variable DOMUS_TRACE_T0, which they inherit.
 */
import { readFileSync, writeSync } from 'node:fs';
import { isMainThread, threadId } from 'node:worker_threads';

/** Environment variable that turns the trace on ("1"). */
export const TRACE_ENV = 'DOMUS_TRACE_START';
/** Environment variable holding the main thread's performance.timeOrigin (ms since the epoch). */
const ORIGIN_ENV = 'DOMUS_TRACE_T0';

/** File descriptor of standard error. */
const STDERR_FD = 2;

/** True when the start-up trace is on. */
export const startupTraceOn = process.env[TRACE_ENV] === '1';

if (startupTraceOn && isMainThread) process.env[ORIGIN_ENV] = String(performance.timeOrigin);

/** Milliseconds since the process started (the main thread's time origin). */
export function sinceProcessStartMs(): number {
  const origin = Number(process.env[ORIGIN_ENV] ?? performance.timeOrigin);
  return performance.timeOrigin + performance.now() - origin;
}

/** Linux's per-thread scheduler statistics: CPU time (ns), run-queue wait (ns), time slices. */
const THREAD_SCHEDSTAT = '/proc/thread-self/schedstat';

/**
 * CPU time the calling thread has used (ms), from Linux's schedstat; undefined elsewhere. Under
 * load, wall-clock milestones stretch; a thread's CPU time shows the work it did.
 */
export function threadCpuMs(): number | undefined {
  try {
    return Number(readFileSync(THREAD_SCHEDSTAT, 'latin1').split(' ')[0]) / 1e6;
  } catch {
    return undefined;
  }
}

/** Writes one milestone of the start-up timeline to stderr when the trace is on. */
export function startupMark(what: string): void {
  if (!startupTraceOn) return;
  const who = isMainThread ? 'main' : `thread${threadId}`;
  const cpu = threadCpuMs();
  const cpuText = cpu === undefined ? '' : `  (thread CPU ${cpu.toFixed(1)} ms)`;
  // Straight to the file descriptor: an engine thread's process.stderr is flushed by its event
  // loop, which the hypervisor and pCPU loops never return to.
  writeSync(STDERR_FD, `domus startup: ${sinceProcessStartMs().toFixed(1).padStart(7)} ms  ${who.padEnd(8)} ${what}${cpuText}\n`);
}

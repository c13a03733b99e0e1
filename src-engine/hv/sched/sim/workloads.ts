/**
 * Synthetic guest behaviours for the scheduling simulator (spec/schedulers.md section 11:
 * "CPU hog = always runnable; periodic I/O = run X, block Y; timer wake = event at exact time").
 * A workload is asked for its next action whenever the previous one finished: run for some CPU
 * time, block until an absolute instant, or yield.
 */

/** A step of a scripted workload. */
export type WorkloadStep =
  /** Consume this much CPU time (ns). */
  | { run: number }
  /** Block for this long (ns of wall time). */
  | { block: number }
  /** Block until this absolute time (ns). */
  | { blockUntil: number }
  /** SCHEDOP_yield. */
  | { yield: true }
  /** Run forever. */
  | { hog: true };

/** A workload description (plain data, so the GUI can send it). */
export type WorkloadSpec =
  /** CPU-bound: always runnable. */
  | { kind: 'hog' }
  /** Never runs (blocked forever). */
  | { kind: 'idle' }
  /** Run `runNs` of CPU, then block `blockNs` of wall time, repeat. */
  | { kind: 'periodic'; runNs: number; blockNs: number }
  /** A job of `runNs` released at phase + k * period; blocks when no job is pending. */
  | { kind: 'timer'; periodNs: number; runNs: number; phaseNs?: number }
  /** I/O-bound: exponentially distributed runs and blocks (seeded, deterministic). */
  | { kind: 'io'; meanRunNs: number; meanBlockNs: number; seed?: number }
  /** Run `runNs`, then yield, repeat. */
  | { kind: 'yielder'; runNs: number }
  /** Explicit steps, optionally repeated. */
  | { kind: 'script'; steps: WorkloadStep[]; repeat?: boolean };

/** What the simulator does next with a vCPU. */
export type WorkloadAction = { run: number } | { blockUntil: number } | { yield: true };

/** A running workload. */
export interface Workload {
  /** The next action, asked at `now` when the previous one completed. */
  next(now: number): WorkloadAction;
}

/** mulberry32: small seeded PRNG (deterministic runs). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function periodicWorkload(runNs: number, blockNs: number): Workload {
  let running = false;
  return {
    next(now) {
      running = !running;
      return running ? { run: runNs } : { blockUntil: now + blockNs };
    },
  };
}

function timerWorkload(periodNs: number, runNs: number, phaseNs: number): Workload {
  let issued = 0;
  return {
    next(now) {
      const released = now < phaseNs ? 0 : Math.floor((now - phaseNs) / periodNs) + 1;
      if (issued < released) {
        issued++;
        return { run: runNs };
      }
      return { blockUntil: phaseNs + released * periodNs };
    },
  };
}

function ioWorkload(meanRunNs: number, meanBlockNs: number, seed: number): Workload {
  const rnd = seededRandom(seed);
  const exp = (mean: number): number => Math.max(1000, Math.round(-Math.log(1 - rnd()) * mean));
  let running = false;
  return {
    next(now) {
      running = !running;
      return running ? { run: exp(meanRunNs) } : { blockUntil: now + exp(meanBlockNs) };
    },
  };
}

function scriptWorkload(steps: WorkloadStep[], repeat: boolean): Workload {
  let i = 0;
  return {
    next(now) {
      if (i >= steps.length) {
        if (!repeat || steps.length === 0) return { blockUntil: Infinity };
        i = 0;
      }
      const s = steps[i++];
      if ('run' in s) return { run: s.run };
      if ('block' in s) return { blockUntil: now + s.block };
      if ('blockUntil' in s) return { blockUntil: s.blockUntil };
      if ('yield' in s) return { yield: true };
      return { run: Infinity };
    },
  };
}

/** Instantiates a workload description. */
export function makeWorkload(spec: WorkloadSpec): Workload {
  switch (spec.kind) {
    case 'hog':
      return { next: () => ({ run: Infinity }) };
    case 'idle':
      return { next: () => ({ blockUntil: Infinity }) };
    case 'periodic':
      return periodicWorkload(spec.runNs, spec.blockNs);
    case 'timer':
      return timerWorkload(spec.periodNs, spec.runNs, spec.phaseNs ?? 0);
    case 'io':
      return ioWorkload(spec.meanRunNs, spec.meanBlockNs, spec.seed ?? 1);
    case 'yielder': {
      let ran = false;
      return {
        next() {
          ran = !ran;
          return ran ? { run: spec.runNs } : { yield: true };
        },
      };
    }
    case 'script':
      return scriptWorkload(spec.steps, spec.repeat ?? false);
  }
}

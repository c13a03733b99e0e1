/** Shared fixtures of the scheduler tests. */
import { SchedCore, type SchedCoreConfig, type SchedHost } from '../../../src-engine/hv/sched/core';
import type { SchedName } from '../../../src-engine/hv/sched/sched-ops';
import type { SchedTraceRecord } from '../../../src-engine/hv/sched/sched-trace';

export const US = 1_000;
export const MS = 1_000_000;
export const S = 1_000_000_000;

/** A host with a hand-driven clock that records tickles. */
export class ManualHost implements SchedHost {
  t = 0;
  tickles: number[] = [];
  now(): number {
    return this.t;
  }
  tickle(pcpu: number): void {
    this.tickles.push(pcpu);
  }
  /** Tickles since the last call. */
  take(): number[] {
    const t = this.tickles;
    this.tickles = [];
    return t;
  }
}

/** A core on a manual clock, with every trace record collected. */
export function manualCore(nrCpus: number, scheduler: SchedName = 'credit2', extra: Partial<SchedCoreConfig> = {}) {
  const host = new ManualHost();
  const records: SchedTraceRecord[] = [];
  const core = new SchedCore(host, { nrCpus, scheduler, ...extra, traceListener: (r) => records.push(r) });
  host.take();
  return { host, core, records };
}

/** Runs a throwing function and returns what it threw (fails the test if it did not throw). */
export function thrown(f: () => unknown): { code: string; errno: string; message: string; xl?: string; libxl?: string } {
  try {
    f();
  } catch (e) {
    return e as { code: string; errno: string; message: string; xl?: string; libxl?: string };
  }
  throw new Error('expected an exception');
}

/**
 * Weights on real guests: two spin.elf domains with weights 256 and 512 in a 1-pCPU pool get CPU
 * time 1:2 within 5% over 20 s, under credit and under credit2 (issue "Hypervisor core"; spec
 * P5/P10). CPU time is the scheduler's accounting (vcpu.list cpuSeconds), which does not depend on
 * how fast this shared machine runs the guests; the trace gives the run lengths printed beside it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execIntervals } from '../../src-engine/hv/sched/sim/trace-analysis';
import type { SchedulerName } from '../../src-engine/api/types';
import {
  NS_PER_S, createGuest, hostLine, measureWindow, onePcpuPool, startRealEngine, type RealEngine,
} from '../unit/sched-real/real-engine';
import { msLine, runLengths, summarize } from '../unit/sched-real/real-analysis';

/** Warm-up before the window (credit1 converges over many 30 ms accounting periods). */
const WARMUP_MS = 3000;
/** The measurement window. */
const WINDOW_MS = 20_000;
/** Weight ratio tolerance: 1:2 within 5%. */
const RATIO_TOLERANCE = 0.05;

let engine: RealEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

async function weightRun(sched: SchedulerName): Promise<{ ratio: number; sum: number; report: string }> {
  engine = await startRealEngine({ pcpus: 2 });
  const svc = engine.svc;
  await onePcpuPool(svc, 'w1', sched);
  const a = await createGuest(svc, { name: 'light', guest: 'spin', pool: 'w1', weight: 256 });
  const b = await createGuest(svc, { name: 'heavy', guest: 'spin', pool: 'w1', weight: 512 });
  const { cpu, wall, use, records: recs, traceGap } = await measureWindow(svc, WARMUP_MS, WINDOW_MS);
  const light = cpu.get('light') ?? 0;
  const heavy = cpu.get('heavy') ?? 0;
  const ivs = execIntervals(recs, recs.length ? recs[recs.length - 1].t : 0);
  const runs = runLengths(ivs);
  const switches = recs.filter((r) => r.event === 'in').length / ((recs.at(-1)?.t ?? 0) - (recs[0]?.t ?? 0)) * NS_PER_S;
  const report = [
    `${sched}: light ${light.toFixed(3)} s, heavy ${heavy.toFixed(3)} s of ${wall.toFixed(2)} s -> heavy/light ${(heavy / light).toFixed(4)}; pool busy ${(100 * (light + heavy) / wall).toFixed(2)}%`,
    `  run lengths light (d${a}): ${msLine(summarize(runs.get(a) ?? []))}`,
    `  run lengths heavy (d${b}): ${msLine(summarize(runs.get(b) ?? []))}`,
    `  ${switches.toFixed(1)} switches/s${traceGap ? ' (trace ring wrapped)' : ''}; ${hostLine(use)}`,
  ].join('\n');
  console.log(report);
  return { ratio: heavy / light, sum: (light + heavy) / wall, report };
}

describe('weights 256:512 on a 1-pCPU pool (real spin guests, 20 s)', () => {
  for (const sched of ['credit', 'credit2'] as const) {
    it(`${sched}: CPU time 1:2 within 5%`, async () => {
      const r = await weightRun(sched);
      expect(r.sum, `the pool's pCPU must be busy all the time (work-conserving)\n${r.report}`).toBeGreaterThan(0.98);
      expect(Math.abs(r.ratio / 2 - 1), `heavy/light must be 2 within 5%\n${r.report}`).toBeLessThanOrEqual(RATIO_TOLERANCE);
    });
  }
});

/**
 * Caps and reservations on real guests (issue "Hypervisor core"; spec P7/P11/P14): cap=25 holds a
 * spin.elf domain at 25% +-3 of one pCPU under credit and credit2, and an RTDS VCPU with period
 * 10000 us, budget 4000 us and extratime off gets 40% +-2 of a pCPU. Shares are the scheduler's
 * accounting (vcpu.list cpuSeconds) over wall time; the trace gives what each period received.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execIntervals } from '../../src-engine/hv/sched/sim/trace-analysis';
import {
  NS_PER_MS, createGuest, hostLine, measureWindow, onePcpuPool, startRealEngine, type RealEngine,
} from '../unit/sched-real/real-engine';
import { msLine, runLengths, summarize } from '../unit/sched-real/real-analysis';

const WARMUP_MS = 3000;
const WINDOW_MS = 10_000;
/** xl sched-credit/credit2 -c 25: a quarter of one pCPU, +-3 points. */
const CAP = 25;
const CAP_TOLERANCE = 3;
/** RTDS reservation and its tolerance in points. */
const RTDS_PERIOD_US = 10_000;
const RTDS_BUDGET_US = 4_000;
const RTDS_TOLERANCE = 2;

let engine: RealEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

/** Share (%) of one pCPU the domain got over the window, with a report of how it got it. */
async function measureShare(name: string, domid: number, periodNs?: number): Promise<{ share: number; report: string }> {
  const { cpu, wall, use, records: recs } = await measureWindow(engine!.svc, WARMUP_MS, WINDOW_MS);
  const share = (100 * (cpu.get(name) ?? 0)) / wall;
  const ivs = execIntervals(recs, recs.at(-1)?.t ?? 0);
  const lines = [`${name}: ${share.toFixed(2)}% of one pCPU over ${wall.toFixed(2)} s`, `  run lengths: ${msLine(summarize(runLengths(ivs).get(domid) ?? []))}`];
  if (periodNs !== undefined && ivs.length > 0) {
    // Time received in each whole period [k P, (k+1) P) (RTDS periods are aligned to multiples of P).
    const first = Math.ceil(ivs[0].start / periodNs) * periodNs;
    const last = Math.floor((recs.at(-1)?.t ?? 0) / periodNs) * periodNs;
    const per: number[] = [];
    for (let p = first; p < last; p += periodNs) {
      let got = 0;
      for (const iv of ivs) if (iv.domid === domid) got += Math.max(0, Math.min(iv.end, p + periodNs) - Math.max(iv.start, p));
      per.push(got);
    }
    lines.push(`  received per ${periodNs / NS_PER_MS} ms period: ${msLine(summarize(per))}`);
  }
  lines.push(`  ${hostLine(use)}`);
  const report = lines.join('\n');
  console.log(report);
  return { share, report };
}

describe('caps and RTDS reservations on a 1-pCPU pool (real spin guests)', () => {
  for (const sched of ['credit', 'credit2'] as const) {
    it(`${sched}: cap=${CAP} holds a spin domain at ${CAP}% +-${CAP_TOLERANCE} of one pCPU`, async () => {
      engine = await startRealEngine({ pcpus: 2 });
      await onePcpuPool(engine.svc, 'c1', sched);
      const domid = await createGuest(engine.svc, { name: 'capped', guest: 'spin', pool: 'c1', cap: CAP });
      expect((await engine.svc.request('sched.get', { domain: 'capped' })).cap).toBe(CAP);
      const r = await measureShare('capped', domid);
      expect(Math.abs(r.share - CAP), `the capped domain must get ${CAP}% +-${CAP_TOLERANCE}\n${r.report}`).toBeLessThanOrEqual(CAP_TOLERANCE);
    });
  }

  it(`rtds: period ${RTDS_PERIOD_US} us, budget ${RTDS_BUDGET_US} us, extratime off gets 40% +-${RTDS_TOLERANCE}`, async () => {
    engine = await startRealEngine({ pcpus: 2 });
    const svc = engine.svc;
    await onePcpuPool(svc, 'rt1', 'rtds');
    const domid = await createGuest(svc, { name: 'reserved', guest: 'spin', pool: 'rt1' }, true);
    await svc.request('sched.set', { domain: 'reserved', rtds: [{ vcpu: 'all', params: { periodUs: RTDS_PERIOD_US, budgetUs: RTDS_BUDGET_US, extratime: false } }] });
    expect((await svc.request('sched.get', { domain: 'reserved' })).rtds).toEqual([{ periodUs: RTDS_PERIOD_US, budgetUs: RTDS_BUDGET_US, extratime: false }]);
    await svc.request('domain.unpause', { domain: 'reserved' });
    const r = await measureShare('reserved', domid, RTDS_PERIOD_US * 1000);
    const want = (100 * RTDS_BUDGET_US) / RTDS_PERIOD_US;
    expect(Math.abs(r.share - want), `the RTDS VCPU must get ${want}% +-${RTDS_TOLERANCE}\n${r.report}`).toBeLessThanOrEqual(RTDS_TOLERANCE);
  });
});

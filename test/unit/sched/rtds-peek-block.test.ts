/**
 * RTDS halt decisions (SchedOps.peekBlock in rtds.ts): what a pCPU takes when its VCPU halts,
 * without asking the hypervisor thread, must be exactly what block() then schedule() decide at
 * every halt instant of the window, with a slice end no earlier than the published length gives,
 * and so must every step of a chain (the VCPUs switched to halting in turn). Random RTDS pools of
 * tick-like VCPUs (run briefly, block, wake later) beside hogs, with periods, budgets, extratime
 * and pins on 1-3 pCPUs, on a manual clock; replenishments fire when due, never inside a chain
 * (the engine replays a taken chain before it runs due timers).
 */
import { describe, expect, it } from 'vitest';
import type { ScheduleDecision, SchedulePeek, VcpuRef } from '../../../src-engine/hv/sched/core-records';
import { seededRandom } from '../../../src-engine/hv/sched/sim/workloads';
import { MS, S, US, manualCore } from './helpers';

/** Steps of a chain asked for (the engine publishes up to seven). */
const CHAIN_MAX = 7;

interface Counts {
  checked: number;
  chained: number;
  switches: number;
}

function drive(seed: number, nrCpus: number): Counts {
  const rnd = seededRandom(seed);
  const { host, core } = manualCore(nrCpus, 'rtds');
  const ticks = new Set<number>();
  const nrHogs = Math.floor(rnd() * 3);
  const nrTicks = 2 + Math.floor(rnd() * 8);
  for (let d = 1; d <= nrHogs + nrTicks; d++) {
    core.addDomain({ domid: d, name: `d${d}`, maxVcpus: 1, paused: false });
    const periodUs = [2000, 5000, 10_000][Math.floor(rnd() * 3)];
    core.setVcpuParams(d, 0, { periodUs, budgetUs: Math.floor(periodUs * (0.05 + rnd() * 0.4)), extratime: rnd() < 0.6 });
    if (d > nrHogs) ticks.add(d);
    if (nrCpus > 1 && rnd() < 0.3) core.setAffinity(d, 0, [Math.floor(rnd() * nrCpus)]);
  }
  const dec: ScheduleDecision[] = Array.from({ length: nrCpus }, (_, p) => core.schedule(p));
  const serve = (): void => {
    for (let i = 0; i < 100; i++) {
      const t = [...new Set(host.take())];
      if (t.length === 0) return;
      for (const p of t) dec[p] = core.schedule(p);
    }
    throw new Error('tickle storm');
  };
  serve();
  const wakeAt = new Map<number, number>();
  const counts: Counts = { checked: 0, chained: 0, switches: 0 };
  const chain: SchedulePeek[] = [];
  const isTick = (v: VcpuRef | null): boolean => v !== null && ticks.has(v.domid);
  while (host.t < S / 2) {
    if (core.nextTimer() <= host.t) {
      core.runTimers();
      serve();
      continue;
    }
    let next = core.nextTimer();
    for (const t of wakeAt.values()) next = Math.min(next, t);
    for (const d of dec) if (d.vcpu) next = Math.min(next, d.until);
    const running = dec.map((d, p) => (isTick(d.vcpu) ? p : -1)).filter((p) => p >= 0);
    if (running.length > 0 && rnd() < 0.7) {
      const p = running[Math.floor(rnd() * running.length)];
      const from = host.t + Math.floor(rnd() * 20 * US);
      const until = from + Math.floor(rnd() * 20 * MS);
      const t = from + Math.floor(rnd() * Math.min(until - from + 1, 2 * MS));
      if (t < dec[p].until) {
        const peek = core.peekBlock(p, from, until);
        const steps = core.peekBlockChain(p, from, until, CHAIN_MAX, chain);
        if (peek !== null && peek.vcpu !== null) expect(steps, `seed ${seed}: the chain starts with peekBlock's answer`).toBeGreaterThan(0);
        if (steps > 0) expect({ vcpu: chain[0].vcpu, len: chain[0].len }).toEqual({ vcpu: peek?.vcpu, len: peek?.len });
        let at = t;
        for (let k = 0; k < Math.max(1, steps); k++) {
          if (k > 0) at += Math.floor(rnd() * Math.min((until - at) / 2, MS));
          if (at > until || at >= dec[p].until) break;
          host.t = at;
          const v = dec[p].vcpu as VcpuRef;
          core.block(v.domid, v.vcpu);
          wakeAt.set(v.domid, at + Math.floor(rnd() * 8 * MS));
          const real = core.schedule(p);
          dec[p] = real;
          const want = k === 0 ? peek : k < steps ? chain[k] : null;
          if (want !== null) {
            counts.checked++;
            if (k > 0) counts.chained++;
            expect(real.vcpu, `seed ${seed}: pCPU ${p} halting at ${at}, step ${k} (window ${from}-${until})`).toEqual(want.vcpu);
            expect(real.until, `seed ${seed}: slice end of pCPU ${p} at ${at}, step ${k}`).toBeGreaterThanOrEqual(at + want.len);
            if (want.vcpu !== null) counts.switches++;
          }
          // Nothing else may happen between the steps of a chain; tickles are served after it.
          if (!isTick(real.vcpu)) break;
        }
        serve();
        continue;
      }
    }
    if (next === Infinity) next = host.t + MS;
    host.t = Math.max(host.t, next);
    for (const [d, t] of [...wakeAt]) {
      if (t > host.t) continue;
      wakeAt.delete(d);
      core.wake(d, 0);
    }
    for (let p = 0; p < nrCpus; p++) if (dec[p].vcpu && dec[p].until <= host.t) dec[p] = core.schedule(p);
    serve();
  }
  return counts;
}

describe('RTDS peekBlock: the halt decision is the one block() and schedule() take', () => {
  it('1-3 pCPUs, periods, budgets, extratime and pins: every published halt decision and chain step holds', () => {
    const total: Counts = { checked: 0, chained: 0, switches: 0 };
    for (let seed = 1; seed <= 40; seed++) {
      const c = drive(seed, 1 + (seed % 3));
      total.checked += c.checked;
      total.chained += c.chained;
      total.switches += c.switches;
    }
    console.log(`rtds peekBlock: ${JSON.stringify(total)}`);
    expect(total.checked).toBeGreaterThan(5_000);
    expect(total.chained).toBeGreaterThan(1_000);
    expect(total.switches).toBeGreaterThan(2_000);
  });
});

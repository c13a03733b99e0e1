/**
 * SchedCore.peekBlock: the decision a pCPU may take when its VCPU halts, without asking the
 * hypervisor thread, must be exactly what block() then schedule() decide at every halt instant of
 * the published window, with a slice end no earlier than the published length gives
 * (docs/architecture.md, "Halt decisions"). Random credit2 pools of tick-like VCPUs (run briefly,
 * block, wake later) beside hogs, with weights, pins and several pCPUs and runqueues, on a manual
 * clock; at every halt the peek is compared with the real calls at a random instant of a window,
 * and so is each step of a chain (peekBlockChain: the VCPUs switched to halting in turn).
 */
import { describe, expect, it } from 'vitest';
import type { ScheduleDecision, SchedulePeek } from '../../../src-engine/hv/sched/core-records';
import { MS, S, US, manualCore } from './helpers';
import { seededRandom } from '../../../src-engine/hv/sched/sim/workloads';

/** A small deterministic PRNG so a failure can be replayed. */
const prng = seededRandom;

interface Counts {
  checked: number;
  /** Checked steps after the first of a chain. */
  chained: number;
  /** Published decisions that named a VCPU (not idle). */
  switches: number;
}

/** Drives one random pool; returns how many halts were checked against a peek. */
function drive(seed: number, nrCpus: number, runqueue: 'cpu' | 'all', ratelimitUs?: number): Counts {
  const rnd = prng(seed);
  const { host, core } = manualCore(nrCpus, 'credit2', { boot: { credit2Runqueue: runqueue } });
  if (ratelimitUs !== undefined) core.setPoolParams('Pool-0', { sched: 'credit2', ratelimitUs });
  const ticks: [number, number][] = [];
  const nrHogs = Math.floor(rnd() * 3);
  const nrTicks = 2 + Math.floor(rnd() * 8);
  for (let d = 1; d <= nrHogs + nrTicks; d++) {
    core.addDomain({ domid: d, name: `d${d}`, maxVcpus: 1, weight: [128, 256, 512][Math.floor(rnd() * 3)], paused: false });
    if (d > nrHogs) ticks.push([d, 0]);
    if (nrCpus > 1 && rnd() < 0.2) core.setAffinity(d, 0, [Math.floor(rnd() * nrCpus)]);
  }
  const dec: (ScheduleDecision | null)[] = Array.from({ length: nrCpus }, (_, p) => core.schedule(p));
  const serve = (): void => {
    for (let i = 0; i < 100; i++) {
      const t = [...new Set(host.take())];
      if (t.length === 0) return;
      for (const p of t) dec[p] = core.schedule(p);
    }
    throw new Error('tickle storm');
  };
  serve();
  /** When each blocked tick VCPU wakes. */
  const wakeAt = new Map<number, number>();
  const counts: Counts = { checked: 0, chained: 0, switches: 0 };
  const chain: SchedulePeek[] = [];
  while (host.t < S / 2) {
    // Wake tick VCPUs whose timer is due, and end slices that are due, in time order.
    let next = Infinity;
    for (const t of wakeAt.values()) next = Math.min(next, t);
    for (const d of dec) if (d?.vcpu) next = Math.min(next, d.until);
    // A tick VCPU on some pCPU halts after a short run instead, if one runs.
    const running = dec.map((d, p) => (d?.vcpu && ticks.some(([x]) => x === d.vcpu?.domid) ? p : -1)).filter((p) => p >= 0);
    if (running.length > 0 && rnd() < 0.7) {
      const p = running[Math.floor(rnd() * running.length)];
      const from = host.t + Math.floor(rnd() * 20 * US);
      const until = from + Math.floor(rnd() * 2 * MS);
      const t = from + Math.floor(rnd() * (until - from + 1));
      if (t < next) {
        const peek = core.peekBlock(p, from, until);
        // A chain: the VCPUs switched to halt in turn, each at a later instant of the window.
        const steps = core.peekBlockChain(p, from, until, 4, chain);
        if (peek !== null && peek.vcpu !== null) expect(steps, `seed ${seed}: the chain starts with peekBlock's answer`).toBeGreaterThan(0);
        if (steps > 0) expect({ vcpu: chain[0].vcpu, len: chain[0].len }).toEqual({ vcpu: peek?.vcpu, len: peek?.len });
        let at = t;
        for (let k = 0; k < Math.max(1, steps); k++) {
          if (k > 0) at += Math.floor(rnd() * ((until - at) / 2));
          if (at > until || at >= next) break;
          host.t = at;
          const v = (dec[p] as ScheduleDecision).vcpu as { domid: number; vcpu: number };
          core.block(v.domid, v.vcpu);
          wakeAt.set(v.domid, at + Math.floor(rnd() * 3 * MS));
          const real = core.schedule(p);
          dec[p] = real;
          const want = k === 0 ? peek : chain[k];
          if (want !== null && (k === 0 || k < steps)) {
            counts.checked++;
            if (k > 0) counts.chained++;
            expect(real.vcpu, `seed ${seed}: pCPU ${p} halting at ${at}, step ${k} (window ${from}-${until})`).toEqual(want.vcpu);
            expect(real.until, `seed ${seed}: slice end of pCPU ${p} at ${at}, step ${k}`).toBeGreaterThanOrEqual(at + want.len);
            if (want.vcpu !== null) counts.switches++;
          }
          // Nothing else may happen between the steps of a chain; tickles are served after it.
          if (real.vcpu === null || !ticks.some(([x]) => x === real.vcpu?.domid)) break;
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
    for (let p = 0; p < nrCpus; p++) if (dec[p]?.vcpu && (dec[p] as ScheduleDecision).until <= host.t) dec[p] = core.schedule(p);
    serve();
  }
  return counts;
}

describe('peekBlock: the halt decision is the one block() and schedule() take', () => {
  it('one runqueue, 1-3 pCPUs: every published halt decision holds', () => {
    const total: Counts = { checked: 0, chained: 0, switches: 0 };
    for (let seed = 1; seed <= 40; seed++) {
      const c = drive(seed, 1 + (seed % 3), 'all', seed % 5 === 0 ? 0 : undefined);
      total.checked += c.checked;
      total.switches += c.switches;
      total.chained += c.chained;
    }
    expect(total.checked).toBeGreaterThan(5_000);
    expect(total.chained).toBeGreaterThan(1_000);
    expect(total.switches).toBeGreaterThan(2_000);
  });

  it('a runqueue per pCPU (balancing at epoch ends): every published halt decision holds', () => {
    let checked = 0;
    for (let seed = 100; seed < 120; seed++) checked += drive(seed, 2 + (seed % 2), 'cpu').checked;
    expect(checked).toBeGreaterThan(1_000);
  });

  it('is side-effect free: peeking does not change what the scheduler then decides', () => {
    const run = (peek: boolean): string => {
      const { host, core } = manualCore(1, 'credit2');
      for (let d = 1; d <= 4; d++) core.addDomain({ domid: d, name: `d${d}`, maxVcpus: 1, weight: 128 * d, paused: false });
      let dec = core.schedule(0);
      const out: string[] = [];
      for (let i = 0; i < 300; i++) {
        host.t += 37 * US;
        if (peek) core.peekBlock(0, host.t, host.t + MS);
        const v = dec.vcpu;
        if (v !== null && i % 3 === 0) core.block(v.domid, v.vcpu);
        dec = core.schedule(0);
        if (i % 3 === 2) for (let d = 1; d <= 4; d++) core.wake(d, 0);
        host.take();
        out.push(JSON.stringify(dec));
      }
      return out.join('\n') + JSON.stringify(core.vcpus().map((x) => x.cpuTimeNs));
    };
    expect(run(true)).toEqual(run(false));
  });
});

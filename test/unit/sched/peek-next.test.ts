/**
 * SchedCore.peekNext: the decision a pCPU may take at its slice end without asking the
 * hypervisor thread must be exactly the one schedule() then takes, at every stop instant of the
 * published window, with a slice end no earlier than the published length gives (docs/architecture.md,
 * "The exit protocol"). Random credit2 pools (weights, caps, blocks, wakes, yields, pins, several
 * pCPUs and runqueues), RTDS pools and ARINC 653 schedules are driven on a manual clock; at every
 * slice end the peek is compared with the real call at a random instant of the window. The engine
 * checks the same at run time (a mismatch is logged as an error).
 */
import { describe, expect, it } from 'vitest';
import type { SchedCore } from '../../../src-engine/hv/sched/core';
import type { ScheduleDecision } from '../../../src-engine/hv/sched/core-records';
import { MS, S, US, manualCore, type ManualHost } from './helpers';
import { seededRandom } from '../../../src-engine/hv/sched/sim/workloads';

/** Windows like the engine's (hv-pcpu-sched.ts): from just after the deadline to 200 us after it. */
const LEAD_NS = 1 * US;
const WINDOW_NS = 200 * US;
/** The engine's wide window (2 ms) and the narrow one it falls back to (50 us). */
const WIDE_WINDOW_NS = 2 * MS;
const NARROW_WINDOW_NS = 50 * US;

/** A small deterministic PRNG so a failure can be replayed. */
const prng = seededRandom;

interface Counts {
  checked: number;
  published: number;
  switches: number;
  /** Published slice lengths that were exactly the real one. */
  exact: number;
}

/** Schedules every tickled pCPU at the current instant (as the engine's pass does). */
function serveTickles(host: ManualHost, core: SchedCore, dec: (ScheduleDecision | null)[]): void {
  for (let i = 0; i < 100; i++) {
    const t = [...new Set(host.take())];
    if (t.length === 0) return;
    for (const p of t) dec[p] = core.schedule(p);
  }
  throw new Error('tickle storm');
}

interface DriveOpts {
  sched?: 'credit2' | 'rtds';
  caps?: boolean;
  runqueue?: 'cpu' | 'all';
  ratelimitUs?: number;
  churn: number;
}

/** New parameters for one domain: credit2 weights, RTDS periods, budgets and extratime. */
function newParams(core: SchedCore, rnd: () => number, sched: 'credit2' | 'rtds', d: number, nrVcpus: number): void {
  if (sched === 'credit2') {
    core.setDomainParams(d, { sched: 'credit2', weight: [128, 256, 512, 1024][Math.floor(rnd() * 4)] });
    return;
  }
  const periodUs = [2000, 5000, 10_000][Math.floor(rnd() * 3)];
  const budgetUs = Math.floor(periodUs * (0.1 + rnd() * 0.6));
  for (let v = 0; v < nrVcpus; v++) core.setVcpuParams(d, v, { periodUs, budgetUs, extratime: rnd() < 0.6 });
}

function drive(seed: number, nrCpus: number, opts: DriveOpts): Counts {
  const rnd = prng(seed);
  const sched = opts.sched ?? 'credit2';
  const { host, core } = manualCore(nrCpus, sched, { boot: { credit2Runqueue: opts.runqueue ?? 'all' } });
  if (opts.ratelimitUs !== undefined && sched === 'credit2') core.setPoolParams('Pool-0', { sched: 'credit2', ratelimitUs: opts.ratelimitUs });
  const vcpus: [number, number][] = [];
  const nrDoms = 2 + Math.floor(rnd() * 3);
  for (let d = 1; d <= nrDoms; d++) {
    const n = 1 + Math.floor(rnd() * 2);
    core.addDomain({ domid: d, name: `d${d}`, maxVcpus: n, weight: [128, 256, 512][Math.floor(rnd() * 3)], paused: false });
    if (opts.caps && rnd() < 0.4) core.setDomainParams(d, { sched: 'credit2', cap: 20 + Math.floor(rnd() * 60) });
    if (sched === 'rtds') newParams(core, rnd, sched, d, n);
    for (let v = 0; v < n; v++) vcpus.push([d, v]);
  }
  const dec: (ScheduleDecision | null)[] = Array.from({ length: nrCpus }, (_, p) => core.schedule(p));
  const blocked = new Set<string>();
  const counts: Counts = { checked: 0, published: 0, switches: 0, exact: 0 };
  while (host.t < S) {
    // Scheduler timers (caps) that fall due.
    if (core.nextTimer() <= host.t) {
      core.runTimers();
      serveTickles(host, core, dec);
    }
    // Now and then something else happens first.
    if (rnd() < opts.churn) {
      host.t += Math.floor(rnd() * 300 * US);
      const [d, v] = vcpus[Math.floor(rnd() * vcpus.length)];
      const key = `${d}.${v}`;
      const info = core.vcpuInfo(d, v);
      const r = rnd();
      if (blocked.has(key)) {
        core.wake(d, v);
        blocked.delete(key);
      } else if (r < 0.4 && info.state === 'running') {
        core.block(d, v);
        blocked.add(key);
        dec[info.pcpu] = core.schedule(info.pcpu);
      } else if (r < 0.55 && info.state === 'running') {
        core.yield(d, v);
      } else if (r < 0.7) {
        newParams(core, rnd, sched, d, core.vcpus().filter((x) => x.domid === d).length);
      } else if (r < 0.8 && nrCpus > 1) {
        core.setAffinity(d, v, rnd() < 0.5 ? [Math.floor(rnd() * nrCpus)] : Array.from({ length: nrCpus }, (_, i) => i));
      }
      serveTickles(host, core, dec);
      continue;
    }
    // The pCPU whose slice ends first stops somewhere in its window (if the clock allows).
    let p = -1;
    for (let i = 0; i < nrCpus; i++) if (dec[i]?.vcpu && Number.isFinite(dec[i]?.until) && (p < 0 || (dec[i] as ScheduleDecision).until < (dec[p] as ScheduleDecision).until)) p = i;
    if (p < 0) {
      host.t += MS;
      for (const [d, v] of vcpus) if (blocked.delete(`${d}.${v}`)) core.wake(d, v);
      serveTickles(host, core, dec);
      continue;
    }
    const deadline = (dec[p] as ScheduleDecision).until;
    const from = Math.max(deadline + LEAD_NS, host.t);
    let until = deadline + WIDE_WINDOW_NS;
    if (from > deadline + NARROW_WINDOW_NS) {
      host.t = Math.max(host.t, deadline);
      dec[p] = core.schedule(p);
      serveTickles(host, core, dec);
      continue;
    }
    let peek = core.peekNext(p, from, until);
    if (peek === null) {
      until = deadline + NARROW_WINDOW_NS;
      peek = core.peekNext(p, from, until);
    }
    const t = from + Math.floor(rnd() * (until - from + 1));
    host.t = t;
    const before = dec[p]?.vcpu;
    const real = core.schedule(p);
    dec[p] = real;
    if (peek !== null) {
      counts.published++;
      expect(real.vcpu, `seed ${seed}: pCPU ${p} at ${t} (window ${from}-${until})`).toEqual(peek.vcpu);
      expect(real.until, `seed ${seed}: slice end of pCPU ${p} at ${t}`).toBeGreaterThanOrEqual(t + peek.len);
      if (real.until === t + peek.len) counts.exact++;
      counts.checked++;
      if (real.vcpu && (real.vcpu.domid !== before?.domid || real.vcpu.vcpu !== before?.vcpu)) counts.switches++;
    }
    serveTickles(host, core, dec);
  }
  return counts;
}

describe('peekNext: the published decision is the one schedule() takes', () => {
  it('two equal hogs on one pCPU: nearly every slice end is known in advance', () => {
    const { host, core } = manualCore(1, 'credit2');
    for (let d = 1; d <= 2; d++) core.addDomain({ domid: d, name: `hog${d}`, maxVcpus: 1, paused: false });
    let dec = core.schedule(0);
    let published = 0;
    for (let i = 0; i < 2000; i++) {
      const peek = core.peekNext(0, dec.until + LEAD_NS, dec.until + WINDOW_NS);
      host.t = dec.until + LEAD_NS + ((i * 7919) % (WINDOW_NS - LEAD_NS));
      const prev = dec.vcpu;
      dec = core.schedule(0);
      if (peek === null) continue;
      expect(dec.vcpu).toEqual(peek.vcpu);
      expect(dec.vcpu).not.toEqual(prev);
      expect(dec.until).toBeGreaterThanOrEqual(host.t + peek.len);
      published++;
    }
    // Only a slice end near an epoch end (credits reset) may decide differently across the window.
    expect(published).toBeGreaterThan(1900);
  });

  it('a tie at the deadline itself is not published as a switch', () => {
    const { host, core } = manualCore(1, 'credit2');
    for (let d = 1; d <= 2; d++) core.addDomain({ domid: d, name: `hog${d}`, maxVcpus: 1, paused: false });
    let dec = core.schedule(0);
    for (let i = 0; i < 20; i++) {
      host.t = dec.until;
      dec = core.schedule(0);
    }
    // At exactly the deadline the running VCPU may tie and continue; a window starting there and
    // ending after it must not claim one answer for both.
    const peek = core.peekNext(0, dec.until, dec.until + WINDOW_NS);
    const atDeadline = core.peekNext(0, dec.until, dec.until);
    const after = core.peekNext(0, dec.until + LEAD_NS, dec.until + WINDOW_NS);
    if (atDeadline !== null && after !== null && JSON.stringify(atDeadline) !== JSON.stringify(after)) expect(peek).toBeNull();
    expect(after).not.toBeNull();
  });

  it('random single-runqueue pools: 50 seeds, every published decision holds', () => {
    const total: Counts = { checked: 0, published: 0, switches: 0, exact: 0 };
    for (let seed = 1; seed <= 50; seed++) {
      const c = drive(seed, 1 + (seed % 3), { caps: seed % 4 === 0, churn: 0.15, ratelimitUs: seed % 5 === 0 ? 0 : undefined });
      total.checked += c.checked;
      total.switches += c.switches;
      total.exact += c.exact;
    }
    // The property must have been exercised, switches included.
    expect(total.checked).toBeGreaterThan(12_000);
    expect(total.switches).toBeGreaterThan(3_000);
    console.log(`peekNext: ${total.checked} published decisions held, ${total.switches} of them switches, ${total.exact} with the exact slice length`);
  });

  it('random pools with a runqueue per pCPU (balancing at epoch ends): every published decision holds', () => {
    let checked = 0;
    for (let seed = 1000; seed < 1030; seed++) checked += drive(seed, 2 + (seed % 2), { runqueue: 'cpu', churn: 0.2 }).checked;
    expect(checked).toBeGreaterThan(2_000);
  });

  it('random RTDS pools (periods, budgets, extratime): every published decision holds', () => {
    const total: Counts = { checked: 0, published: 0, switches: 0, exact: 0 };
    for (let seed = 2000; seed < 2040; seed++) {
      const c = drive(seed, 1 + (seed % 3), { sched: 'rtds', churn: 0.15 });
      total.checked += c.checked;
      total.switches += c.switches;
    }
    expect(total.checked).toBeGreaterThan(5_000);
    expect(total.switches).toBeGreaterThan(1_000);
  });

  it('ARINC 653 (windows, idle gaps, partitions paused and unpaused): every published decision holds', () => {
    const rnd = prng(7);
    const { host, core } = manualCore(1, 'arinc653');
    for (let d = 1; d <= 3; d++) core.addDomain({ domid: d, name: `p${d}`, uuid: `p${d}`, maxVcpus: 1, paused: false });
    const entries = [1, 2, 3, 1].map((d, i) => ({ uuid: `p${d}`, vcpu: 0, runtime: (i + 1) * 2 * MS }));
    core.setPoolParams(0, { sched: 'arinc653', majorFrame: 25 * MS, entries });
    let dec = core.schedule(0);
    let checked = 0;
    for (let i = 0; i < 3000; i++) {
      if (rnd() < 0.05) {
        const d = 1 + Math.floor(rnd() * 3);
        if (core.vcpuInfo(d, 0).state === 'paused') core.unpauseDomain(d);
        else core.pauseDomain(d);
        dec = core.schedule(0);
        host.take();
        continue;
      }
      if (dec.vcpu === null) {
        host.t = Math.max(host.t, dec.until);
        dec = core.schedule(0);
        continue;
      }
      const from = dec.until + LEAD_NS;
      const until = dec.until + WINDOW_NS;
      const peek = core.peekNext(0, from, until);
      host.t = from + Math.floor(rnd() * (until - from + 1));
      dec = core.schedule(0);
      host.take();
      if (peek === null) continue;
      expect(dec.vcpu, `at ${host.t}`).toEqual(peek.vcpu);
      expect(dec.until).toBeGreaterThanOrEqual(host.t + peek.len);
      checked++;
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('is side-effect free: peeking does not change what schedule() then decides', () => {
    const run = (peek: boolean): string[] => {
      const { host, core } = manualCore(2, 'credit2');
      for (let d = 1; d <= 3; d++) core.addDomain({ domid: d, name: `d${d}`, maxVcpus: 1, weight: 128 * d, paused: false });
      const out: string[] = [];
      const dec = [core.schedule(0), core.schedule(1)];
      for (let i = 0; i < 500; i++) {
        const p = dec[0].until <= dec[1].until ? 0 : 1;
        if (peek) for (let q = 0; q < 2; q++) core.peekNext(q, dec[q].until, dec[q].until + WINDOW_NS);
        host.t = Math.max(host.t, dec[p].until + 3 * US);
        dec[p] = core.schedule(p);
        for (const q of host.take()) dec[q] = core.schedule(q);
        out.push(`${p}:${JSON.stringify(dec[p])}`);
      }
      out.push(JSON.stringify(core.vcpus().map((v) => [v.cpuTimeNs, core.vcpuSchedState(v.domid, v.vcpu)])));
      return out;
    };
    expect(run(true)).toEqual(run(false));
  });
});

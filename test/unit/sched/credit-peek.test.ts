/**
 * Credit's published decisions (SchedOps.peekNext, peekBlock; src-engine/hv/sched/credit-peek.ts):
 * what a pCPU takes at its slice end, at a wake preemption or when its VCPU halts, without asking
 * the hypervisor thread, must be exactly what schedule() (after block() for a halt) then decides
 * at every instant of the published window, with a slice end no earlier than the published length
 * gives (docs/architecture.md, "Published next decisions", "Halt decisions"). Random credit pools
 * (hogs and tick-like VCPUs that run briefly, block and wake later; weights, caps that park,
 * yields, hard and soft affinities, 1-3 pCPUs with load balancing, rate limits, time slices,
 * migration delays) run on a manual clock with the credit ticks and accounting periods firing when
 * due, as the engine's passes run them: never between a decision's publication and its replay.
 * Every published decision is compared with the real calls at a random instant of its window, and
 * every step of a halt chain with the real block() and schedule() at later instants.
 */
import { describe, expect, it } from 'vitest';
import type { SchedCore } from '../../../src-engine/hv/sched/core';
import type { ScheduleDecision, SchedulePeek, VcpuRef } from '../../../src-engine/hv/sched/core-records';
import { seededRandom } from '../../../src-engine/hv/sched/sim/workloads';
import { MS, S, US, manualCore, type ManualHost } from './helpers';

/** The engine's windows (runtime/hv-pcpu-sched.ts): lead after a deadline, wide, narrow, halt. */
const LEAD_NS = 1 * US;
const WIDE_WINDOW_NS = 2 * MS;
const NARROW_WINDOW_NS = 50 * US;
const HALT_WINDOW_NS = 20 * MS;
/** Steps of a halt chain asked for (the engine publishes up to seven). */
const CHAIN_MAX = 7;

/** What a run of the driver checked. */
interface Counts {
  /** Published slice-end and preemption decisions compared with schedule(). */
  next: number;
  /** Of those, wake preemptions (peekNext with `tickled`). */
  preempt: number;
  /** Of those, the running VCPU kept by the rate limit. */
  kept: number;
  /** Published decisions that switched to another VCPU. */
  switches: number;
  /** Published halt steps compared with block() and schedule(). */
  halts: number;
  /** Of those, steps after the first of a chain. */
  chained: number;
  /** Published decisions naming a VCPU queued on another pCPU (a steal). */
  stolen: number;
}

/** How one random pool is set up and driven. */
interface DriveOpts {
  cpus: number;
  tsliceMs?: number;
  ratelimitUs?: number;
  migrDelayUs?: number;
  caps?: boolean;
  affinity?: boolean;
  /** Chance per step that something else happens (an early wake, a yield, a parameter change). */
  churn: number;
  /** Virtual time to run. */
  span: number;
}

const key = (d: number, v: number): string => `${d}.${v}`;
const same = (a: VcpuRef | null | undefined, b: VcpuRef | null | undefined): boolean =>
  (a ?? null) === null ? (b ?? null) === null : b != null && a?.domid === b.domid && a.vcpu === b.vcpu;

/** A pool on a manual clock with its random workload, and the checks. */
class CreditPeekDriver {
  readonly host: ManualHost;
  readonly core: SchedCore;
  readonly counts: Counts = { next: 0, preempt: 0, kept: 0, switches: 0, halts: 0, chained: 0, stolen: 0 };
  private readonly rnd: () => number;
  private readonly vcpus: [number, number][] = [];
  /** Domains whose VCPUs halt after short runs. */
  private readonly ticks = new Set<number>();
  private readonly wakeAt = new Map<string, [number, number, number]>();
  private readonly dec: (ScheduleDecision | null)[];
  private readonly chain: SchedulePeek[] = [];
  /** Odd seeds stop at fractional nanoseconds, as the engine's clocks do. */
  private readonly frac: boolean;

  constructor(
    private readonly seed: number,
    private readonly o: DriveOpts,
  ) {
    this.rnd = seededRandom(seed);
    this.frac = seed % 2 === 1;
    const rnd = this.rnd;
    const m = manualCore(o.cpus, 'credit', { boot: { creditMigrationDelayUs: o.migrDelayUs ?? 0 } });
    this.host = m.host;
    this.core = m.core;
    if (o.tsliceMs !== undefined || o.ratelimitUs !== undefined) {
      this.core.setPoolParams('Pool-0', { sched: 'credit', tsliceMs: o.tsliceMs, ratelimitUs: o.ratelimitUs });
    }
    const nrHogs = Math.floor(rnd() * 3) + (o.cpus > 1 ? 1 : 0);
    const nrTicks = 2 + Math.floor(rnd() * 10);
    for (let d = 1; d <= nrHogs + nrTicks; d++) {
      const n = rnd() < 0.25 ? 2 : 1;
      this.core.addDomain({ domid: d, name: `d${d}`, maxVcpus: n, weight: [128, 256, 512][Math.floor(rnd() * 3)], paused: false });
      if (d > nrHogs) this.ticks.add(d);
      if (o.caps && rnd() < 0.3) this.core.setDomainParams(d, { sched: 'credit', cap: 10 + Math.floor(rnd() * 60) });
      for (let v = 0; v < n; v++) {
        this.vcpus.push([d, v]);
        if (o.affinity) this.newAffinity(d, v);
      }
    }
    this.dec = Array.from({ length: o.cpus }, (_, p) => this.core.schedule(p));
    this.serve();
  }

  /** A random hard pin, soft affinity or none. */
  private newAffinity(d: number, v: number): void {
    const r = this.rnd();
    const n = this.o.cpus;
    if (n === 1) return;
    const one = [Math.floor(this.rnd() * n)];
    const all = Array.from({ length: n }, (_, i) => i);
    if (r < 0.2) this.core.setAffinity(d, v, one);
    else if (r < 0.45) this.core.setAffinity(d, v, all, one);
    else this.core.setAffinity(d, v, all, all);
  }

  /** A random instant of [from, from + span]. */
  private instant(from: number, span: number): number {
    return from + (this.frac ? this.rnd() * span : Math.floor(this.rnd() * (span + 1)));
  }

  private isTick(v: VcpuRef | null): boolean {
    return v !== null && this.ticks.has(v.domid);
  }

  /** schedule(p) checked against `want` (a peek), counted. */
  private check(p: number, t: number, want: SchedulePeek, what: string): ScheduleDecision {
    const before = this.dec[p]?.vcpu ?? null;
    const wasOn = want.vcpu === null ? p : this.core.vcpuInfo(want.vcpu.domid, want.vcpu.vcpu).pcpu;
    const real = this.core.schedule(p);
    this.dec[p] = real;
    expect(real.vcpu, `seed ${this.seed}: ${what} on pCPU ${p} at ${t}`).toEqual(want.vcpu);
    expect(real.until, `seed ${this.seed}: slice end of ${what} on pCPU ${p} at ${t}`).toBeGreaterThanOrEqual(t + want.len);
    if (!same(real.vcpu, before)) this.counts.switches++;
    if (wasOn !== p) this.counts.stolen++;
    return real;
  }

  /** Serves pending tickles as the engine's pass does: a running pCPU takes the published preemption. */
  private serve(): void {
    for (let i = 0; i < 200; i++) {
      const t = [...new Set(this.host.take())];
      if (t.length === 0) return;
      for (const p of t) {
        const cur = this.dec[p]?.vcpu ?? null;
        if (cur === null || this.rnd() < 0.2) {
          this.dec[p] = this.core.schedule(p);
          continue;
        }
        const from = this.host.t;
        const until = from + (this.rnd() < 0.5 ? NARROW_WINDOW_NS : WIDE_WINDOW_NS);
        const peek = this.core.peekNext(p, from, until, true);
        this.host.t = this.instant(from, until - from);
        if (peek === null) {
          this.dec[p] = this.core.schedule(p);
          continue;
        }
        const real = this.check(p, this.host.t, peek, 'preemption');
        this.counts.next++;
        this.counts.preempt++;
        if (same(real.vcpu, cur)) this.counts.kept++;
      }
    }
    throw new Error(`seed ${this.seed}: tickle storm`);
  }

  /** Something else happens: an early wake, a block, a yield, new weights, caps, affinities, slices. */
  private churn(): void {
    const rnd = this.rnd;
    const core = this.core;
    this.host.t += Math.floor(rnd() * 300 * US);
    const [d, v] = this.vcpus[Math.floor(rnd() * this.vcpus.length)];
    const info = core.vcpuInfo(d, v);
    const r = rnd();
    if (this.wakeAt.has(key(d, v))) {
      this.wakeAt.delete(key(d, v));
      core.wake(d, v);
    } else if (r < 0.2 && info.state === 'running') {
      core.block(d, v);
      this.wakeAt.set(key(d, v), [d, v, this.host.t + Math.floor(rnd() * 5 * MS)]);
      this.dec[info.pcpu] = core.schedule(info.pcpu);
    } else if (r < 0.45 && info.state === 'running') {
      core.yield(d, v);
    } else if (r < 0.6) {
      core.setDomainParams(d, { sched: 'credit', weight: [64, 128, 256, 512, 1024][Math.floor(rnd() * 5)] });
    } else if (r < 0.7 && this.o.caps) {
      core.setDomainParams(d, { sched: 'credit', cap: rnd() < 0.3 ? 0 : 10 + Math.floor(rnd() * 80) });
    } else if (r < 0.85 && this.o.affinity) {
      this.newAffinity(d, v);
    } else if (r < 0.88) {
      const tsliceMs = [1, 5, 10, 30][Math.floor(rnd() * 4)];
      const ratelimitUs = Math.min(tsliceMs * 1000, [0, 100, 500, 1000, 3000][Math.floor(rnd() * 5)]);
      core.setPoolParams('Pool-0', { sched: 'credit', tsliceMs, ratelimitUs });
    }
    this.serve();
  }

  /** The pCPU's tick VCPU halts at a random instant of a halt window; the chain's steps follow. */
  private halt(p: number, sliceEnd: number): void {
    const rnd = this.rnd;
    const core = this.core;
    const from = this.host.t + Math.floor(rnd() * 20 * US);
    const until = from + Math.floor(rnd() * (rnd() < 0.5 ? WIDE_WINDOW_NS : HALT_WINDOW_NS));
    const t = this.instant(from, Math.min(until - from, 3 * MS));
    if (t >= sliceEnd) {
      this.host.t = Math.max(this.host.t, sliceEnd);
      return;
    }
    const peek = core.peekBlock(p, from, until);
    const steps = core.peekBlockChain(p, from, until, CHAIN_MAX, this.chain);
    if (peek !== null && peek.vcpu !== null) expect(steps, `seed ${this.seed}: the chain starts with peekBlock's answer`).toBeGreaterThan(0);
    if (steps > 0) expect({ vcpu: this.chain[0].vcpu, len: this.chain[0].len }).toEqual({ vcpu: peek?.vcpu, len: peek?.len });
    let at = t;
    for (let k = 0; k < Math.max(1, steps); k++) {
      if (k > 0) at = this.instant(at, Math.floor(Math.min((until - at) / 2, 2 * MS)));
      const cur = (this.dec[p] as ScheduleDecision).vcpu as VcpuRef;
      if (at > until || at >= (this.dec[p] as ScheduleDecision).until) break;
      this.host.t = at;
      core.block(cur.domid, cur.vcpu);
      this.wakeAt.set(key(cur.domid, cur.vcpu), [cur.domid, cur.vcpu, at + Math.floor(rnd() * 12 * MS)]);
      const want = k === 0 ? peek : k < steps ? this.chain[k] : null;
      const real = want === null ? core.schedule(p) : this.check(p, at, want, `halt step ${k} (window ${from}-${until})`);
      this.dec[p] = real;
      if (want !== null) {
        this.counts.halts++;
        if (k > 0) this.counts.chained++;
      }
      // Nothing else may happen between the steps of a chain; tickles are served after it.
      if (!this.isTick(real.vcpu)) break;
    }
    this.serve();
  }

  /** A slice end: the pCPU stops somewhere in the published window. */
  private sliceEnd(p: number): void {
    const core = this.core;
    const deadline = (this.dec[p] as ScheduleDecision).until;
    const from = Math.max(deadline + LEAD_NS, this.host.t);
    if (from > deadline + NARROW_WINDOW_NS) {
      this.host.t = Math.max(this.host.t, deadline);
      this.dec[p] = core.schedule(p);
      this.serve();
      return;
    }
    let until = deadline + WIDE_WINDOW_NS;
    let peek = core.peekNext(p, from, until);
    if (peek === null) {
      until = deadline + NARROW_WINDOW_NS;
      peek = core.peekNext(p, from, until);
    }
    this.host.t = this.instant(from, until - from);
    if (peek === null) this.dec[p] = core.schedule(p);
    else {
      this.check(p, this.host.t, peek, `slice end (window ${from}-${until})`);
      this.counts.next++;
    }
    this.serve();
  }

  run(): Counts {
    const core = this.core;
    const host = this.host;
    while (host.t < this.o.span) {
      // Scheduler timers (ticks, accounting) and wakes that fell due, as the engine's pass runs them.
      if (core.nextTimer() <= host.t) {
        core.runTimers();
        this.serve();
        continue;
      }
      let woke = false;
      for (const [k, [d, v, t]] of [...this.wakeAt]) {
        if (t > host.t) continue;
        this.wakeAt.delete(k);
        core.wake(d, v);
        woke = true;
      }
      if (woke) {
        this.serve();
        continue;
      }
      if (this.rnd() < this.o.churn) {
        this.churn();
        continue;
      }
      let next = Math.min(core.nextTimer(), host.t + 20 * MS);
      for (const [, , t] of this.wakeAt.values()) next = Math.min(next, t);
      const ticking = this.dec.map((d, p) => (this.isTick(d?.vcpu ?? null) ? p : -1)).filter((p) => p >= 0);
      if (ticking.length > 0 && this.rnd() < 0.6) {
        const p = ticking[Math.floor(this.rnd() * ticking.length)];
        this.halt(p, (this.dec[p] as ScheduleDecision).until);
        continue;
      }
      let p = -1;
      for (let i = 0; i < this.o.cpus; i++) {
        const d = this.dec[i];
        if (d?.vcpu && Number.isFinite(d.until) && (p < 0 || d.until < (this.dec[p] as ScheduleDecision).until)) p = i;
      }
      if (p >= 0 && (this.dec[p] as ScheduleDecision).until <= next) this.sliceEnd(p);
      else host.t = Math.max(host.t, next);
    }
    return this.counts;
  }
}

/** Runs seeds and adds their counts up. */
function runSeeds(seeds: number[], opts: (seed: number) => DriveOpts): Counts {
  const total: Counts = { next: 0, preempt: 0, kept: 0, switches: 0, halts: 0, chained: 0, stolen: 0 };
  for (const seed of seeds) {
    const c = new CreditPeekDriver(seed, opts(seed)).run();
    for (const k of Object.keys(total) as (keyof Counts)[]) total[k] += c[k];
  }
  return total;
}

const range = (a: number, n: number): number[] => Array.from({ length: n }, (_, i) => a + i);

describe('credit peekNext and peekBlock: every published decision is the one the real calls take', () => {
  it('one pCPU: hogs beside tick VCPUs, weights, caps, yields, rate limits and slices', () => {
    const c = runSeeds(range(1, 30), (seed) => ({
      cpus: 1,
      caps: seed % 3 === 0,
      ratelimitUs: seed % 5 === 0 ? 0 : seed % 5 === 1 ? 3000 : undefined,
      tsliceMs: seed % 4 === 2 ? 5 : undefined,
      churn: 0.05,
      span: S / 2,
    }));
    console.log(`credit peek, 1 pCPU: ${JSON.stringify(c)}`);
    expect(c.next).toBeGreaterThan(3_000);
    expect(c.preempt).toBeGreaterThan(1_000);
    expect(c.kept).toBeGreaterThan(100);
    expect(c.halts).toBeGreaterThan(5_000);
    expect(c.chained).toBeGreaterThan(2_000);
  });

  it('2-3 pCPUs: load balancing, steals, affinities and migration delays', () => {
    const c = runSeeds(range(100, 30), (seed) => ({
      cpus: 2 + (seed % 2),
      affinity: seed % 3 !== 0,
      caps: seed % 4 === 0,
      migrDelayUs: seed % 5 < 2 ? [0, 500, 2000][seed % 3] : 0,
      ratelimitUs: seed % 7 === 0 ? 0 : undefined,
      churn: 0.08,
      span: S / 2,
    }));
    console.log(`credit peek, 2-3 pCPUs: ${JSON.stringify(c)}`);
    expect(c.next).toBeGreaterThan(3_000);
    expect(c.halts).toBeGreaterThan(5_000);
    expect(c.chained).toBeGreaterThan(1_000);
    expect(c.stolen).toBeGreaterThan(100);
  });

  it('two equal hogs on one pCPU: every slice end is known in advance', () => {
    const { host, core } = manualCore(1, 'credit');
    for (let d = 1; d <= 2; d++) core.addDomain({ domid: d, name: `hog${d}`, maxVcpus: 1, paused: false });
    let dec = core.schedule(0);
    let published = 0;
    for (let i = 0; i < 2000; i++) {
      if (core.nextTimer() <= host.t) core.runTimers();
      for (const p of host.take()) if (p === 0) dec = core.schedule(0);
      const peek = core.peekNext(0, dec.until + LEAD_NS, dec.until + WIDE_WINDOW_NS);
      host.t = dec.until + LEAD_NS + ((i * 7919) % WIDE_WINDOW_NS);
      dec = core.schedule(0);
      if (peek === null) continue;
      expect(dec.vcpu).toEqual(peek.vcpu);
      expect(dec.until).toBeGreaterThanOrEqual(host.t + peek.len);
      published++;
    }
    expect(published).toBeGreaterThan(1990);
  });

  it('fifty tick VCPUs beside a spin VCPU on one pCPU: nearly every halt is known in advance', () => {
    const { host, core } = manualCore(1, 'credit');
    core.addDomain({ domid: 1, name: 'spin', maxVcpus: 1, paused: false });
    for (let d = 2; d <= 51; d++) core.addDomain({ domid: d, name: `tick${d}`, maxVcpus: 1, paused: false });
    let dec = core.schedule(0);
    const wakeAt = new Map<number, number>();
    let halts = 0;
    let known = 0;
    while (host.t < S) {
      if (core.nextTimer() <= host.t) core.runTimers();
      for (const [d, t] of [...wakeAt]) {
        if (t > host.t) continue;
        wakeAt.delete(d);
        core.wake(d, 0);
      }
      if (host.take().length > 0) dec = core.schedule(0);
      const v = dec.vcpu;
      if (v !== null && v.domid > 1) {
        // A tick VCPU runs 20 us, then halts until its next 100 Hz tick.
        const peek = core.peekBlock(0, host.t, host.t + HALT_WINDOW_NS);
        host.t += 20 * US;
        core.block(v.domid, 0);
        wakeAt.set(v.domid, Math.ceil(host.t / (10 * MS)) * 10 * MS + v.domid * US);
        dec = core.schedule(0);
        halts++;
        if (peek === null) continue;
        known++;
        expect(dec.vcpu).toEqual(peek.vcpu);
        expect(dec.until).toBeGreaterThanOrEqual(host.t + peek.len);
        continue;
      }
      let next = Math.min(core.nextTimer(), dec.until);
      for (const t of wakeAt.values()) next = Math.min(next, t);
      host.t = Math.max(host.t, next);
      if (dec.until <= host.t) dec = core.schedule(0);
    }
    expect(halts).toBeGreaterThan(4_000);
    expect(known / halts).toBeGreaterThan(0.95);
  });

  it('is side-effect free: peeking does not change what the scheduler then decides', () => {
    const run = (peek: boolean): string => {
      const { host, core } = manualCore(2, 'credit', { boot: { creditMigrationDelayUs: 300 } });
      for (let d = 1; d <= 5; d++) core.addDomain({ domid: d, name: `d${d}`, maxVcpus: 1, weight: 128 * d, paused: false });
      core.setDomainParams(2, { sched: 'credit', cap: 30 });
      const dec = [core.schedule(0), core.schedule(1)];
      const chain: SchedulePeek[] = [];
      const out: string[] = [];
      for (let i = 0; i < 600; i++) {
        host.t += 173 * US;
        if (core.nextTimer() <= host.t) core.runTimers();
        for (const q of new Set(host.take())) dec[q] = core.schedule(q);
        const p = i % 2;
        if (peek) {
          core.peekNext(p, host.t, host.t + WIDE_WINDOW_NS);
          core.peekNext(1 - p, host.t, host.t + WIDE_WINDOW_NS, true);
          core.peekBlockChain(p, host.t, host.t + HALT_WINDOW_NS, CHAIN_MAX, chain);
        }
        const v = dec[p].vcpu;
        if (v !== null && i % 3 === 0) core.block(v.domid, v.vcpu);
        dec[p] = core.schedule(p);
        if (i % 3 === 2) for (let d = 1; d <= 5; d++) core.wake(d, 0);
        out.push(`${p}:${JSON.stringify(dec[p])}`);
      }
      out.push(JSON.stringify(core.vcpus().map((x) => [x.cpuTimeNs, core.vcpuSchedState(x.domid, x.vcpu)])));
      return out.join('\n');
    };
    expect(run(true)).toEqual(run(false));
  });
});

/**
 * Credit2EdgeModel and CreditEdgeModel (src-engine/hv/sched/credit2-edge-model.ts,
 * credit-edge-model.ts): the numbers a pCPU steps to take
 * the timer edges of halted tick VCPUs while it runs a busy one (docs/architecture.md, "Timer
 * edges taken by a busy pCPU") must give exactly what SchedCore's wake, block and schedule give at
 * the same instants: whether a wake tickles the pCPU, which VCPU each schedule picks, its slice end,
 * and whether context_saved's re-insert tickles again. Random 1-pCPU credit2 and credit pools of spin-like and
 * tick-like VCPUs (PIT edges every 10 ms at random phases, handlers of a few microseconds) under
 * rate limits from 0 to 2 ms, driven on a manual clock; the model is loaded as a hypervisor pass
 * would (SchedCore.loadEdgeModel) at random points and stepped beside the real calls until it asks
 * or a scheduler timer runs (credit's tick and accounting: a pass, which ends the model).
 */
import { describe, expect, it } from 'vitest';
import type { ScheduleDecision } from '../../../src-engine/hv/sched/core-records';
import { Credit2EdgeModel, credit2EdgeModelWords } from '../../../src-engine/hv/sched/credit2-edge-model';
import { CreditEdgeModel, creditEdgeModelWords } from '../../../src-engine/hv/sched/credit-edge-model';
import { EDGE_TICKLE, MODEL_ASK } from '../../../src-engine/hv/sched/edge-model';
import { seededRandom } from '../../../src-engine/hv/sched/sim/workloads';
import { MS, S, US, manualCore } from './helpers';

/** The tick guests' PIT period. */
const PERIOD = 10 * MS;

interface Counts {
  /** Steps compared with the real calls. */
  wakes: number;
  tickles: number;
  schedules: number;
  /** Schedules that picked another unit than the running one. */
  switches: number;
  /** Model answers "ask" (it stops being stepped until the next load). */
  asks: number;
  loads: number;
}

/**
 * The goal case instead of a random pool: one spin VCPU and 50 tick VCPUs of weight 256 under the
 * default rate limit, the model loaded again at once whenever it stopped (as the hypervisor's next
 * pass would), for `seconds` of simulated time.
 */
interface GoalCase {
  seconds: number;
}

function drive(seed: number, sched: 'credit2' | 'credit', ratelimitUs: number | undefined, c: Counts, goal?: GoalCase): void {
  const rnd = seededRandom(seed);
  // Odd seeds run at fractional instants, as the engine's clock does.
  const frac = seed % 2 === 1 ? (): number => Math.floor(rnd() * 1000) / 1000 : (): number => 0;
  const { host, core } = manualCore(1, sched);
  if (ratelimitUs !== undefined) core.setPoolParams('Pool-0', { sched, ratelimitUs });
  const nrSpin = goal ? 1 : 1 + Math.floor(rnd() * 2);
  const nrTicks = goal ? 50 : 3 + Math.floor(rnd() * 10);
  const ticks = new Set<number>();
  for (let d = 1; d <= nrSpin + nrTicks; d++) {
    core.addDomain({ domid: d, name: `d${d}`, maxVcpus: 1, weight: goal ? 256 : [128, 256, 256, 512][Math.floor(rnd() * 4)], paused: false });
    if (d > nrSpin) ticks.add(d);
  }
  /** Each tick VCPU's next PIT edge. */
  const edge = new Map<number, number>();
  for (const d of ticks) edge.set(d, Math.floor(rnd() * PERIOD) + frac());
  const model = sched === 'credit2' ? new Credit2EdgeModel(new Float64Array(credit2EdgeModelWords(64))) : new CreditEdgeModel(new Float64Array(creditEdgeModelWords(64)));
  let live = false;
  let dec: ScheduleDecision = core.schedule(0);
  host.take();
  /** When the running tick VCPU halts (its handler's length), or Infinity for a spin VCPU. */
  let haltAt = Infinity;
  const running = (): number => dec.vcpu?.domid ?? -1;
  const startRun = (t: number): void => {
    haltAt = ticks.has(running()) ? t + 2 * US + Math.floor(rnd() * 60 * US) + frac() : Infinity;
  };
  startRun(0);
  /** When a tickled pCPU stops its VCPU, or Infinity. */
  let stopAt = Infinity;
  /** Real schedule at `t`, compared with the model's (if live); repeats while context_saved tickled. */
  const schedule = (t: number, blocked: boolean): void => {
    host.t = t;
    if (blocked) core.block(running(), 0);
    host.take();
    for (let k = 0; ; k++) {
      expect(k, `seed ${seed}: tickle storm`).toBeLessThan(10);
      const prev = running();
      dec = core.schedule(0);
      const again = host.take().includes(0);
      if (live) {
        if (k === 0 && blocked) expect(model.block(), `seed ${seed}`).toBe(true);
        const i = model.schedule(t);
        if (i === MODEL_ASK) {
          c.asks++;
          live = false;
        } else {
          c.schedules++;
          const want = dec.vcpu === null ? 'idle' : `d${dec.vcpu.domid}v${dec.vcpu.vcpu} until ${dec.until}`;
          expect(`d${model.domid(i)}v${model.vcpu(i)} until ${t + model.slice()}`, `seed ${seed} at ${t}: schedule`).toBe(want);
          expect(model.tickled(), `seed ${seed} at ${t}: context_saved's tickle`).toBe(again);
          if (model.domid(i) !== prev) c.switches++;
        }
      }
      if (!again) break;
    }
    startRun(t);
  };
  const end = goal ? goal.seconds * S : S / 4;
  for (let steps = 0; host.t < end; steps++) {
    if (steps > 2_000_000) throw new Error(`seed ${seed}: no progress at ${host.t} (running d${running()}, until ${dec.until}, timer ${core.nextTimer()})`);
    // A hypervisor pass loads the model now and then (and after it asked, sooner).
    if (!live && (goal !== undefined || rnd() < 0.3)) {
      const offered = [...ticks].filter((d) => core.vcpuInfo(d, 0).state === 'blocked').map((d) => ({ domid: d, vcpu: 0 }));
      live = core.loadEdgeModel(0, offered, model);
      if (live) c.loads++;
    } else if (live && goal === undefined && rnd() < 0.02) {
      live = false;
    }
    let nextEdge = Infinity;
    let who = -1;
    for (const [d, t] of edge) {
      if (t < nextEdge) {
        nextEdge = t;
        who = d;
      }
    }
    const timer = core.nextTimer();
    // A pCPU past its slice end stops at stopAt (a little late; edges may come first).
    const sliceEnd = stopAt === Infinity ? dec.until : Infinity;
    const t = Math.min(nextEdge, haltAt, sliceEnd, stopAt, timer);
    expect(t, `seed ${seed}: the clock goes forwards`).toBeGreaterThanOrEqual(host.t);
    if (t === timer) {
      // A scheduler timer (credit's tick and accounting) wakes the hypervisor: its pass ends the model.
      host.t = t;
      core.runTimers();
      live = false;
      if (host.take().includes(0)) {
        stopAt = Infinity;
        schedule(t, false);
      }
    } else if (t === haltAt) {
      stopAt = Infinity;
      schedule(t, true);
    } else if (t === stopAt) {
      stopAt = Infinity;
      schedule(t, false);
    } else if (t === sliceEnd) {
      // The pCPU stops at or a little after its slice end (never at the very instant it started).
      stopAt = Math.max(t + (rnd() < 0.5 ? 0 : Math.floor(rnd() * 5 * US) + frac()), host.t + 1);
    } else {
      edge.set(who, nextEdge + PERIOD);
      // An edge of a VCPU that is not blocked only sets IRR: no wake.
      if (core.vcpuInfo(who, 0).state !== 'blocked') continue;
      host.t = t;
      core.wake(who, 0);
      const tickled = host.take().includes(0);
      if (live) {
        const r = model.wake(model.indexOf(who, 0), t);
        if (r === MODEL_ASK) {
          c.asks++;
          live = false;
        } else {
          c.wakes++;
          expect(r === EDGE_TICKLE, `seed ${seed} at ${t}: d${who} wakes, tickle`).toBe(tickled);
          if (tickled) c.tickles++;
        }
      }
      // A tickled pCPU stops its VCPU a little later: at once, within 20 us, or (a loaded host) up
      // to 300 us, when more edges may have come (their wakes see the tickle pending).
      if (tickled) stopAt = t + Math.floor(rnd() * (rnd() < 0.3 ? 300 : 20) * US) + frac();
    }
  }
}

describe('edge models: a pCPU stepping the scheduler by itself', () => {
  for (const sched of ['credit2', 'credit'] as const) {
    it(`${sched}: gives what wake, block and schedule give, at every step, on random 1-pCPU pools`, () => {
      const c: Counts = { wakes: 0, tickles: 0, schedules: 0, switches: 0, asks: 0, loads: 0 };
      for (let seed = 1; seed <= 40; seed++) drive(seed, sched, [0, 100, 500, 1000, 2000][seed % 5], c);
      console.log(`${sched} edge model: ${c.loads} loads, ${c.wakes} wakes (${c.tickles} tickled), ${c.schedules} schedules (${c.switches} switches), ${c.asks} asks`);
      // The steps the pCPU needs in the 50-ticks-beside-spin case all came up, many times.
      expect(c.wakes).toBeGreaterThan(2000);
      expect(c.tickles).toBeGreaterThan(200);
      expect(c.switches).toBeGreaterThan(1000);
      expect(c.loads).toBeGreaterThan(100);
    });
  }

  // How often the pCPU would still have to ask in the goal case (each ask is one hypervisor pass).
  for (const sched of ['credit2', 'credit'] as const) {
    it(`${sched}: 50 ticks beside a spin VCPU, default rate limit: every step agrees, and the model seldom asks`, () => {
      const c: Counts = { wakes: 0, tickles: 0, schedules: 0, switches: 0, asks: 0, loads: 0 };
      const seconds = 1;
      drive(1000, sched, undefined, c, { seconds });
      console.log(`${sched} goal case over ${seconds} s: ${c.wakes / seconds} wakes/s (${c.tickles / seconds} tickled), ${c.switches / seconds} switches/s, ${c.asks / seconds} asks/s, ${c.loads / seconds} loads/s`);
      expect(c.wakes / seconds).toBeGreaterThan(4000);
      // Credit2's epoch ends (the spin VCPU's credit runs out) are stepped too: neither model asks.
      expect(c.asks).toBe(0);
    });
  }

  it('refuses a pool it does not mirror: a capped domain, or two pCPUs', () => {
    const model = new Credit2EdgeModel(new Float64Array(credit2EdgeModelWords(8)));
    const a = manualCore(1, 'credit2');
    a.core.addDomain({ domid: 1, name: 'spin', maxVcpus: 1, weight: 256, paused: false });
    a.core.addDomain({ domid: 2, name: 'tick', maxVcpus: 1, weight: 256, paused: false });
    a.core.schedule(0);
    expect(a.core.loadEdgeModel(0, [], model)).toBe(true);
    a.core.setDomainParams(1, { sched: 'credit2', cap: 50 });
    expect(a.core.loadEdgeModel(0, [], model)).toBe(false);
    // Every step of a refused model asks.
    expect(model.schedule(1 * MS)).toBe(MODEL_ASK);
    const b = manualCore(2, 'credit2');
    b.core.addDomain({ domid: 1, name: 'spin', maxVcpus: 1, weight: 256, paused: false });
    b.core.schedule(0);
    b.core.schedule(1);
    expect(b.core.loadEdgeModel(0, [], model) || b.core.loadEdgeModel(1, [], model)).toBe(false);
    // The model must be the pool's scheduler's.
    const credit = new CreditEdgeModel(new Float64Array(creditEdgeModelWords(8)));
    expect(a.core.loadEdgeModel(0, [], credit)).toBe(false);
  });
});

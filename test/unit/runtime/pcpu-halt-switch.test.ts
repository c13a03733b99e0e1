/**
 * Halt decisions on the real engine (runtime/hv-pcpu-sched.ts, docs/architecture.md "Halt
 * decisions"): tick.elf domains beside a spin.elf domain on a one-pCPU credit2 pool. A tick VCPU
 * that halts with another VCPU waiting switches to the published halt decision without a round
 * trip, and the hypervisor replays block and schedule at the halt instant. Every replay must agree
 * (a disagreement is logged as an error), every tick domain keeps ticking at 100 Hz (a halt whose
 * posted EOI raised the next interrupt is woken by the replay), and the spin domain keeps the pCPU.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createGuest, domainCpu, onePcpuPool, sleep, startRealEngine, type RealEngine } from '../sched-real/real-engine';
import type { EngineService } from '../../../src-engine/node/service/engine-service';

/** The pool's pCPU. */
const PCPU = 1;
/** Tick domains beside the spin domain. */
const TICKS = 8;
/** tick.elf's PIT rate (Hz). */
const TICK_HZ = 100;

let engine: RealEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

/** Halt decisions pCPU PCPU took so far. */
function haltTakes(svc: EngineService): number {
  return svc.engine.pcpuStats()[PCPU].haltTakes;
}

/** Error lines the hypervisor logged (a replay that disagreed with the pCPU's switch). */
async function hvErrors(svc: EngineService): Promise<string[]> {
  const log = await svc.request('log.dmesg', {});
  return log.filter((e) => e.level === 'error' && e.source === 'hypervisor').map((e) => e.message);
}

/** HLT exits of domain `domid` so far (one per timer interrupt served, for tick.elf). */
async function hlts(svc: EngineService, domid: number): Promise<number> {
  return (await svc.request('domain.get', { domain: domid })).exits.hlt ?? 0;
}

describe('halt decisions (credit2, tick domains beside a spin domain on one pCPU)', () => {
  it('halts switch without a round trip; every replay agrees; every tick domain keeps its rate', async () => {
    engine = await startRealEngine({ pcpus: 2, memoryPoolMiB: 160 });
    const svc = engine.svc;
    await onePcpuPool(svc, 'hs', 'credit2', PCPU);
    await createGuest(svc, { name: 'spin', guest: 'spin', pool: 'hs' });
    const ticks: number[] = [];
    for (let i = 0; i < TICKS; i++) ticks.push(await createGuest(svc, { name: `tick${i}`, guest: 'tick', pool: 'hs' }));
    await sleep(1500);
    const h0 = await Promise.all(ticks.map((d) => hlts(svc, d)));
    const t0 = haltTakes(svc);
    const c0 = await domainCpu(svc);
    const w0 = performance.now();
    await sleep(3000);
    const wall = (performance.now() - w0) / 1000;
    const h1 = await Promise.all(ticks.map((d) => hlts(svc, d)));
    const took = haltTakes(svc) - t0;
    const c1 = await domainCpu(svc);
    const rates = h1.map((h, i) => (h - h0[i]) / wall);
    const spin = ((c1.get('spin') ?? 0) - (c0.get('spin') ?? 0)) / wall;
    const report = `${took} halts switched by the pCPU in ${wall.toFixed(2)} s; HLTs/s per tick domain ${rates.map((r) => r.toFixed(0)).join(' ')}; spin ${(100 * spin).toFixed(1)}% of the pCPU`;
    console.log(report);
    expect(await hvErrors(svc), report).toEqual([]);
    // Each tick domain halts once per interrupt; a lost wake-up would stop its ticks.
    for (const r of rates) expect(r, report).toBeGreaterThan(TICK_HZ * 0.8);
    // Most of the TICKS * 100 halts a second have another VCPU waiting (the spin VCPU at least).
    expect(took, report).toBeGreaterThan(TICKS * TICK_HZ * wall * 0.3);
    expect(spin, report).toBeGreaterThan(0.5);
  }, 40_000);
});

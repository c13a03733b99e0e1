/**
 * Edge publications withdrawn safely (runtime/hv-pcpu-edges.ts, DOMUS_EDGE_OFFERS=1): while the pCPU
 * of a one-pCPU pool takes the PIT edges of tick domains beside a spin domain, each toolstack
 * operation that changes what the publication assumed (pause, destroy, vcpu-pin, save and restore,
 * moving a domain to another cpupool and back, weights and the rate limit) runs in a hypervisor pass, which ends
 * the publication and replays its steps before the operation. No replay may disagree (close() fails
 * on a logged hv error), the domain operated on must behave as the operation says, and the other
 * tick domains must keep their 100 Hz.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGuest, onePcpuPool, sleep, startRealEngine, type RealEngine } from '../sched-real/real-engine';
import type { EngineService } from '../../../src-engine/node/service/engine-service';
import { EDGE_OFFERS_ENV } from '../../../src-engine/runtime/hv-pcpu-edges';

/** The pool's pCPU. */
const PCPU = 1;
/** Tick domains beside the spin domain. */
const TICKS = 6;
/** tick.elf's PIT rate (Hz). */
const TICK_HZ = 100;
/** How long the rates are measured after an operation (ms). */
const WINDOW_MS = 1000;

let engine: RealEngine | undefined;
let saved: string | undefined;
let dir = '';
beforeAll(() => {
  saved = process.env[EDGE_OFFERS_ENV];
  process.env[EDGE_OFFERS_ENV] = '1';
  dir = mkdtempSync(path.join(os.tmpdir(), 'domus-edges-'));
});
afterAll(() => {
  if (saved === undefined) delete process.env[EDGE_OFFERS_ENV];
  else process.env[EDGE_OFFERS_ENV] = saved;
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

async function hlts(svc: EngineService, domid: number): Promise<number> {
  return (await svc.request('domain.get', { domain: domid })).exits.hlt ?? 0;
}

/** HLTs a second of each domain in `doms` over WINDOW_MS. */
async function rates(svc: EngineService, doms: number[]): Promise<number[]> {
  const h0 = await Promise.all(doms.map((d) => hlts(svc, d)));
  const s0 = svc.engine.pcpuStats()[PCPU];
  const k0 = svc.engine.hvWakes();
  const w0 = performance.now();
  await sleep(WINDOW_MS);
  const wall = (performance.now() - w0) / 1000;
  const h1 = await Promise.all(doms.map((d) => hlts(svc, d)));
  const s1 = svc.engine.pcpuStats()[PCPU];
  lastStats = `edges taken ${((s1.edgeTakes - s0.edgeTakes) / wall).toFixed(0)}/s, declines ${((s1.edgeDeclines - s0.edgeDeclines) / wall).toFixed(0)}/s, hypervisor wake-ups ${((svc.engine.hvWakes() - k0) / wall).toFixed(0)}/s`;
  return h1.map((h, i) => (h - h0[i]) / wall);
}

/** The pCPU's edge counts over the last rates() window. */
let lastStats = '';

/** The spin and tick domains on pool 'ew', running a second with edges taken by its pCPU. */
async function setup(): Promise<{ svc: EngineService; spin: number; ticks: number[] }> {
  engine = await startRealEngine({ pcpus: 2, memoryPoolMiB: 128 });
  const svc = engine.svc;
  await onePcpuPool(svc, 'ew', 'credit2', PCPU);
  const spin = await createGuest(svc, { name: 'spin', guest: 'spin', pool: 'ew' });
  const ticks: number[] = [];
  for (let i = 0; i < TICKS; i++) ticks.push(await createGuest(svc, { name: `tick${i}`, guest: 'tick', pool: 'ew' }));
  await sleep(1000);
  expect(svc.engine.pcpuStats()[PCPU].edgeTakes, 'edges taken before the operation').toBeGreaterThan(0);
  return { svc, spin, ticks };
}

/**
 * The tick domains keep ticking (`share` of their rate: on a loaded host, or with a rate limit, a
 * woken VCPU may wait, and the PIT coalesces an edge that finds the last one unserved; with a
 * second engine running beside, both the round-trip path and this one measured 45-65 Hz).
 */
function keepRate(r: number[], what: string, share = 0.3): void {
  for (const x of r) expect(x, `${what}: HLTs/s ${r.map((v) => v.toFixed(0)).join(' ')}; ${lastStats}`).toBeGreaterThan(TICK_HZ * share);
}

describe('edge publications are withdrawn safely (DOMUS_EDGE_OFFERS=1)', () => {
  it('pause and unpause of a tick domain', async () => {
    const { svc, ticks } = await setup();
    await svc.request('domain.pause', { domain: ticks[0] });
    await sleep(50);
    const [paused, ...others] = await rates(svc, ticks);
    expect(paused, 'a paused domain takes no tick').toBe(0);
    keepRate(others, 'pause');
    await svc.request('domain.unpause', { domain: ticks[0] });
    await sleep(300);
    keepRate(await rates(svc, ticks), 'unpause');
  }, 40_000);

  it('destroy of a tick domain and of the spin domain', async () => {
    const { svc, spin, ticks } = await setup();
    await svc.request('domain.destroy', { domain: ticks[0] });
    keepRate(await rates(svc, ticks.slice(1)), 'destroy a tick domain');
    await svc.request('domain.destroy', { domain: spin });
    keepRate(await rates(svc, ticks.slice(1)), 'destroy the spin domain');
  }, 40_000);

  it('vcpu-pin: soft affinity set and cleared on the spin VCPU and a tick VCPU', async () => {
    const { svc, spin, ticks } = await setup();
    await svc.request('vcpu.pin', { domain: ticks[0], vcpu: 0, hard: String(PCPU), soft: String(PCPU) });
    await svc.request('vcpu.pin', { domain: spin, vcpu: 0, hard: String(PCPU), soft: String(PCPU) });
    keepRate(await rates(svc, ticks), 'soft affinity set');
    await svc.request('vcpu.pin', { domain: spin, vcpu: 0, hard: 'all', soft: 'all' });
    await svc.request('vcpu.pin', { domain: ticks[0], vcpu: 0, hard: 'all', soft: 'all' });
    keepRate(await rates(svc, ticks), 'soft affinity cleared');
  }, 40_000);

  it('save and restore of a tick domain', async () => {
    const { svc, ticks } = await setup();
    const file = path.join(dir, 'tick0.save');
    await svc.request('domain.save', { domain: ticks[0], file });
    keepRate(await rates(svc, ticks.slice(1)), 'after the save');
    const r = await svc.request('domain.restore', { file });
    await svc.request('pool.migrate', { domain: r.domid, pool: 'ew' });
    await sleep(300);
    keepRate(await rates(svc, [r.domid, ...ticks.slice(1)]), 'after the restore');
  }, 40_000);

  it('a tick domain moved to Pool-0 and back', async () => {
    const { svc, ticks } = await setup();
    await svc.request('pool.migrate', { domain: ticks[0], pool: 'Pool-0' });
    keepRate(await rates(svc, ticks), 'moved to Pool-0');
    await svc.request('pool.migrate', { domain: ticks[0], pool: 'ew' });
    keepRate(await rates(svc, ticks), 'moved back');
  }, 40_000);

  // A cap is left out: with a cap on the spin domain the published halt decisions (credit2-peek.ts)
  // disagree with their replay with or without edge publications (a bug of its own, not of these).
  it('scheduler parameters: weights and the pool rate limit', async () => {
    const { svc, spin, ticks } = await setup();
    await svc.request('sched.set', { domain: ticks[0], weight: 512 });
    await svc.request('pool.setParams', { pool: 'ew', params: { ratelimitUs: 500 } });
    keepRate(await rates(svc, ticks), 'weight and rate limit');
    await svc.request('sched.set', { domain: spin, weight: 128 });
    await svc.request('pool.setParams', { pool: 'ew', params: { ratelimitUs: 1000 } });
    keepRate(await rates(svc, ticks), 'weight and rate limit again');
  }, 40_000);
});

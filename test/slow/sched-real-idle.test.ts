/**
 * Idle guests on a real engine (issue "Hypervisor core"): an idle tick.elf domain (PIT at 100 Hz,
 * HLT in between) costs < 0.5% of a host CPU, and 50 of them in the pool of a spin.elf domain slow
 * it by < 10%. Host CPU is this process's threads' CPU time from /proc (the engine's hypervisor and
 * pCPU threads live in it), minus the same measurement with no domain. The slowdown is the spin
 * domain's share of its pCPU in the scheduler's accounting, alone and beside the 50; its guest
 * instruction rate is reported too (that one also moves with the load of this shared machine).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createGuest, domainCpu, hostLine, onePcpuPool, sleep, startRealEngine, threadSnapshot, threadUse, type RealEngine,
} from '../unit/sched-real/real-engine';

const BASELINE_MS = 5000;
const MEASURE_MS = 10_000;
/** Goal: an idle domain costs less than 0.5% of one host CPU. */
const IDLE_COST_MAX = 0.005;
const TICK_DOMAINS = 50;
const PHASE_MS = 8000;
/** Goal: 50 idle domains beside it slow a CPU-bound domain by less than 10%. */
const SLOWDOWN_MAX = 0.1;
/** tick.elf prints one TICK line per 100 timer interrupts: once a second at 100 Hz. */
const TICK_LINE_RE = /TICK (\d+) tsc=/g;

let engine: RealEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

/** Host CPU (fraction of one CPU) this process used over `ms`, with the per-thread detail. */
async function processCpu(ms: number): Promise<ReturnType<typeof threadUse>> {
  const a = threadSnapshot();
  await sleep(ms);
  return threadUse(a, threadSnapshot());
}

function lastTick(text: string): number {
  let n = 0;
  for (const m of text.matchAll(TICK_LINE_RE)) n = Number(m[1]);
  return n;
}

describe('idle tick domains on a real engine', () => {
  it('one idle tick domain costs less than 0.5% of a host CPU and keeps its 100 Hz', async () => {
    engine = await startRealEngine({ pcpus: 2 });
    const svc = engine.svc;
    await sleep(1000);
    const base = await processCpu(BASELINE_MS);
    const domid = await createGuest(svc, { name: 'idle', guest: 'tick' });
    await sleep(1500);
    const console0 = new TextDecoder().decode(svc.domains.get(domid)?.consoles.get(1)?.contents());
    const exits0 = (await svc.request('domain.get', { domain: domid })).exits;
    const t0 = performance.now();
    const busy = await processCpu(MEASURE_MS);
    const wall = (performance.now() - t0) / 1000;
    const exits1 = (await svc.request('domain.get', { domain: domid })).exits;
    const console1 = new TextDecoder().decode(svc.domains.get(domid)?.consoles.get(1)?.contents());
    const cpu = (await domainCpu(svc)).get('idle') ?? 0;
    const cost = busy.total - base.total;
    const hltPerS = ((exits1.hlt ?? 0) - (exits0.hlt ?? 0)) / wall;
    const seconds = lastTick(console1) - lastTick(console0);
    const report = [
      `idle tick domain: engine process ${(100 * busy.total).toFixed(3)}% of one host CPU, without it ${(100 * base.total).toFixed(3)}% -> cost ${(100 * cost).toFixed(3)}% (${(50 * cost).toFixed(3)}% of the 2-CPU host)`,
      `  ${hltPerS.toFixed(1)} HLT exits/s; guest counted ${seconds} s in ${wall.toFixed(2)} s; its VCPU ran ${cpu.toFixed(3)} s in all`,
      `  threads: ${busy.threads.slice(0, 4).map((t) => `${(100 * t.run).toFixed(2)}% (${t.switchesPerS.toFixed(0)} switches/s)`).join(', ')}`,
      `  ${hostLine(busy)}`,
    ].join('\n');
    console.log(report);
    expect.soft(Math.abs(seconds - wall), `the guest's 100 Hz clock must keep time within a second\n${report}`).toBeLessThanOrEqual(1.5);
    expect(cost, `an idle domain must cost less than ${100 * IDLE_COST_MAX}% of a host CPU\n${report}`).toBeLessThan(IDLE_COST_MAX);
  });

  it(`${TICK_DOMAINS} idle tick domains beside a spin domain slow it by less than 10%`, async () => {
    engine = await startRealEngine({ pcpus: 2, memoryPoolMiB: 320 });
    const svc = engine.svc;
    await onePcpuPool(svc, 'shared', 'credit2');
    const spin = await createGuest(svc, { name: 'worker', guest: 'spin', pool: 'shared' });
    await sleep(1500);
    const phase = async () => {
      const c0 = (await domainCpu(svc)).get('worker') ?? 0;
      const i0 = (await svc.request('domain.get', { domain: spin })).instructions;
      const t0 = performance.now();
      const use = await processCpu(PHASE_MS);
      const wall = (performance.now() - t0) / 1000;
      const c1 = (await domainCpu(svc)).get('worker') ?? 0;
      const i1 = (await svc.request('domain.get', { domain: spin })).instructions;
      return { share: (c1 - c0) / wall, mips: (i1 - i0) / wall / 1e6, use };
    };
    const alone = await phase();
    for (let i = 0; i < TICK_DOMAINS; i++) await createGuest(svc, { name: `tick${i}`, guest: 'tick', pool: 'shared' });
    await sleep(2000);
    const beside = await phase();
    const cpu = await domainCpu(svc);
    let tickCpu = 0;
    for (let i = 0; i < TICK_DOMAINS; i++) tickCpu += cpu.get(`tick${i}`) ?? 0;
    const slowdown = 1 - beside.share / alone.share;
    const report = [
      `spin alone: ${(100 * alone.share).toFixed(2)}% of its pCPU, ${alone.mips.toFixed(1)} MIPS; engine ${(100 * alone.use.total).toFixed(1)}% of a host CPU`,
      `beside ${TICK_DOMAINS} tick domains: ${(100 * beside.share).toFixed(2)}% of its pCPU, ${beside.mips.toFixed(1)} MIPS; engine ${(100 * beside.use.total).toFixed(1)}% of a host CPU`,
      `  slowdown by CPU share ${(100 * slowdown).toFixed(2)}%, by instruction rate ${(100 * (1 - beside.mips / alone.mips)).toFixed(1)}%; the tick domains ran ${tickCpu.toFixed(3)} s in all`,
      `  ${hostLine(beside.use)}`,
    ].join('\n');
    console.log(report);
    expect(alone.share, `alone, the spin domain must have its pCPU\n${report}`).toBeGreaterThan(0.98);
    expect(slowdown, `${TICK_DOMAINS} idle domains must slow the spin domain by less than 10%\n${report}`).toBeLessThan(SLOWDOWN_MAX);
  });
});

/**
 * Timer interrupts taken on the pCPU (runtime/hv-pcpu-timer.ts, runtime/pcpu-timer.ts;
 * docs/architecture.md "Timer interrupts on the pCPU"): an idle tick.elf domain (PIT at 100 Hz
 * through the 8259, HLT in between) has its PIT ticks taken by the pCPU it halts on, which sleeps
 * until each edge and switches the VCPU in with the vector injected, while the hypervisor thread
 * sleeps; the hypervisor replays every take at its next wake-up and logs an error if the replay
 * disagrees (startRealEngine's close() fails on one). The domain must keep exactly its rate.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createGuest, onePcpuPool, sleep, startRealEngine, type RealEngine } from '../sched-real/real-engine';
import type { EngineService } from '../../../src-engine/node/service/engine-service';
import type { SchedulerName } from '../../../src-engine/api/types';

/** tick.elf's PIT rate (Hz). */
const TICK_HZ = 100;
/** ARINC 653 window of each domain in the alternating schedule (us). */
const A653_WINDOW_US = 10_000;

let engine: RealEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

/** Exits of domain `domid` by reason. */
async function exits(svc: EngineService, domid: number): Promise<Record<string, number>> {
  return (await svc.request('domain.get', { domain: domid })).exits;
}

/** Error lines the hypervisor logged (a replay that disagreed with a take). */
async function hvErrors(svc: EngineService): Promise<string[]> {
  const log = await svc.request('log.dmesg', {});
  return log.filter((e) => e.level === 'error' && e.source === 'hypervisor').map((e) => e.message);
}

/** Measures one tick domain for `ms`: HLTs and timer takes a second. */
async function measure(svc: EngineService, domid: number, ms: number): Promise<{ hlt: number; takes: number; report: string }> {
  const e0 = await exits(svc, domid);
  const w0 = performance.now();
  await sleep(ms);
  const wall = (performance.now() - w0) / 1000;
  const e1 = await exits(svc, domid);
  const hlt = ((e1.hlt ?? 0) - (e0.hlt ?? 0)) / wall;
  const takes = ((e1['timer-take'] ?? 0) - (e0['timer-take'] ?? 0)) / wall;
  return { hlt, takes, report: `HLTs ${hlt.toFixed(1)}/s, timer edges taken on the pCPU ${takes.toFixed(1)}/s over ${wall.toFixed(2)} s` };
}

/**
 * The tick rate is kept and most ticks are taken on the pCPU. On a loaded host a pCPU thread that
 * gets a host CPU more than a period late sees two PIT edges as one, as the hypervisor thread would
 * (the PIT coalesces them), so the rate is only bounded loosely; never more than the PIT's.
 */
function checkRates(m: { hlt: number; takes: number; report: string }): void {
  expect(m.hlt, m.report).toBeGreaterThan(TICK_HZ * 0.4);
  expect(m.hlt, m.report).toBeLessThan(TICK_HZ * 1.1);
  // The TICK line once a second, and edges the pCPU could not take, go the round trip.
  expect(m.takes, m.report).toBeGreaterThan(m.hlt * 0.6);
}

describe('timer interrupts taken on the pCPU (an idle tick domain)', () => {
  for (const scheduler of ['credit2', 'credit'] as SchedulerName[]) {
    it(`${scheduler}, one pCPU pool: the pCPU takes the ticks; every replay agrees; the rate is kept`, async () => {
      engine = await startRealEngine({ pcpus: 2, memoryPoolMiB: 64 });
      const svc = engine.svc;
      await onePcpuPool(svc, 'tp', scheduler, 1);
      const d = await createGuest(svc, { name: 'tick', guest: 'tick', pool: 'tp' });
      await sleep(1000);
      const m = await measure(svc, d, 3000);
      console.log(`${scheduler}: ${m.report}`, await hvErrors(svc));
      expect(await hvErrors(svc), m.report).toEqual([]);
      checkRates(m);
      // The pCPU's own count (Engine.pcpuStats) is the domain's takes (only it runs there): those
      // replayed so far, plus those the hypervisor has not replayed yet (it wakes at least once a
      // second for them).
      const replayed = (await exits(svc, d))['timer-take'] ?? 0;
      const pcpuTakes = svc.engine.pcpuStats()[1].timerTakes;
      expect(pcpuTakes, m.report).toBeGreaterThanOrEqual(replayed);
      expect(pcpuTakes, m.report).toBeLessThanOrEqual(replayed + 2 * TICK_HZ);
    }, 30_000);
  }

  it('ARINC 653, tick and spin in alternate 10 ms windows: no edge is taken outside the tick window', async () => {
    // The tick VCPU halts inside its window; the pCPU then idles until the window ends (a deadline
    // that is not a scheduler timer). An offer that outlived the window let the pCPU take an edge
    // in the spin domain's window, which the replay caught as a mismatch (seen in `bench sched`).
    engine = await startRealEngine({ pcpus: 2, memoryPoolMiB: 64 });
    const svc = engine.svc;
    await onePcpuPool(svc, 'a653', 'arinc653', 1);
    const tick = await createGuest(svc, { name: 'tick', guest: 'tick', pool: 'a653' });
    await createGuest(svc, { name: 'spin', guest: 'spin', pool: 'a653' });
    await svc.request('pool.setArinc653', {
      pool: 'a653',
      schedule: { majorFrameUs: 2 * A653_WINDOW_US, entries: ['tick', 'spin'].map((domain) => ({ domain, vcpu: 0, runtimeUs: A653_WINDOW_US })) },
    });
    await sleep(500);
    const m = await measure(svc, tick, 3000);
    console.log(`arinc653: ${m.report}`, await hvErrors(svc));
    expect(await hvErrors(svc), m.report).toEqual([]);
    // Half of the edges fall in the spin window and wait for the tick window: about 50 HLTs a second.
    expect(m.hlt, m.report).toBeGreaterThan(TICK_HZ * 0.2);
  }, 30_000);

  it('Pool-0 with two pCPUs: the same, whichever pCPU the VCPU halts on', async () => {
    engine = await startRealEngine({ pcpus: 2, memoryPoolMiB: 64 });
    const svc = engine.svc;
    const d = await createGuest(svc, { name: 'tick', guest: 'tick' });
    await sleep(1000);
    const m = await measure(svc, d, 3000);
    console.log(`Pool-0: ${m.report}`, await hvErrors(svc));
    expect(await hvErrors(svc), m.report).toEqual([]);
    checkRates(m);
  }, 30_000);
});

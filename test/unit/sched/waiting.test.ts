import { describe, expect, it } from 'vitest';
import { manualCore, MS } from './helpers';

/** Schedules every tickled pCPU until no tickle is left. */
function settle(h: ReturnType<typeof manualCore>): void {
  for (let guard = 0; guard < 20; guard++) {
    const t = h.host.take();
    if (t.length === 0) return;
    for (const p of new Set(t)) h.core.schedule(p);
  }
}

describe('SchedCore.waiting (what lazy halts rely on)', () => {
  it('is false while every runnable vCPU of the pool runs, true once one waits for a pCPU', () => {
    const h = manualCore(1, 'credit2');
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 1, paused: false });
    settle(h);
    expect(h.core.vcpuInfo(1, 0).state).toBe('running');
    expect(h.core.waiting(0)).toBe(false);
    h.core.addDomain({ domid: 2, name: 'b', maxVcpus: 1, paused: false });
    // Domain 2 is runnable but pCPU 0 is busy with domain 1 until it is scheduled again.
    expect(h.core.waiting(0)).toBe(true);
  });

  it('turns false again when the waiting vCPU blocks, and ignores other pools', () => {
    const h = manualCore(2, 'credit');
    h.core.poolRemoveCpu('Pool-0', 1);
    // A pCPU outside every pool has nothing waiting for it.
    expect(h.core.waiting(1)).toBe(false);
    h.core.createPool('other', 'credit', [1]);
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 1, paused: false });
    h.core.addDomain({ domid: 2, name: 'b', maxVcpus: 1, paused: false });
    h.core.addDomain({ domid: 3, name: 'c', maxVcpus: 1, paused: false, pool: 'other' });
    settle(h);
    h.host.t += MS;
    settle(h);
    const onCpu0 = [1, 2].filter((d) => h.core.vcpuInfo(d, 0).state === 'running');
    expect(onCpu0).toHaveLength(1);
    expect(h.core.waiting(0)).toBe(true);
    expect(h.core.waiting(1)).toBe(false);
    // The one that waits blocks (a HLT): nothing waits for pCPU 0 any more.
    const waiter = onCpu0[0] === 1 ? 2 : 1;
    h.core.block(waiter, 0);
    expect(h.core.waiting(0)).toBe(false);
  });
});

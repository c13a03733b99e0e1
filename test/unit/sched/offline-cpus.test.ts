// pCPUs that are not online yet (the engine starts the workers of pCPUs 1..N-1 late): no scheduler
// places or tickles work on them; they may be named in affinities; once online they take work.
import { describe, expect, it } from 'vitest';
import type { SchedName } from '../../../src-engine/hv/sched/sched-ops';
import { manualCore, MS } from './helpers';

type Harness = ReturnType<typeof manualCore>;

/** Schedules the tickled pCPUs (all must be online) until none is tickled; what each runs. */
function serve(h: Harness, online: Set<number>): Record<number, string> {
  const out: Record<number, string> = {};
  for (let guard = 0; guard < 20; guard++) {
    const t = h.host.take();
    if (t.length === 0) break;
    for (const p of new Set(t)) {
      expect(online.has(p), `pCPU ${p} was tickled while offline`).toBe(true);
      const d = h.core.schedule(p);
      out[p] = d.vcpu ? `${d.vcpu.domid}.${d.vcpu.vcpu}` : 'idle';
    }
  }
  return out;
}

const SCHEDULERS: SchedName[] = ['credit', 'credit2', 'rtds', 'null'];

describe('pCPUs not yet online', () => {
  for (const sched of SCHEDULERS) {
    it(`${sched}: runs a new domain on the online pCPU, then spreads to a pCPU that comes online`, () => {
      const h = manualCore(2, sched, { offlineCpus: [1] });
      const online = new Set([0]);
      h.core.addDomain({ domid: 1, name: 'vm1', maxVcpus: 2 });
      const first = serve(h, online);
      expect(first[0]).toMatch(/^1\.[01]$/);
      // Time passes; pCPU 1's worker starts and asks for work for the first time.
      h.host.t = 40 * MS;
      h.core.setPcpuOnline(1);
      online.add(1);
      const d = h.core.schedule(1);
      serve(h, online);
      // The other vCPU runs there at once, or (credit's balancing) when pCPU 0's slice ends.
      const other = first[0] === '1.0' ? 1 : 0;
      let ran = d.vcpu?.vcpu === other;
      for (let k = 0; k < 5 && !ran; k++) {
        h.host.t += 40 * MS;
        h.core.schedule(0);
        ran = h.core.schedule(1).vcpu?.vcpu === other || h.core.vcpuInfo(1, other).state === 'running';
        serve(h, online);
      }
      expect(ran).toBe(true);
    });
  }

  it('accepts hard affinity to an offline pCPU; that vCPU waits for it and then runs there', () => {
    const h = manualCore(2, 'credit2', { offlineCpus: [1] });
    const online = new Set([0]);
    h.core.addDomain({ domid: 1, name: 'pinned', maxVcpus: 1, vcpus: [{ hard: [1] }] });
    expect(serve(h, online)).not.toHaveProperty('0', '1.0');
    expect(h.core.vcpuInfo(1, 0).state).not.toBe('running');
    h.core.setPcpuOnline(1);
    expect(h.core.schedule(1).vcpu).toMatchObject({ domid: 1, vcpu: 0 });
  });

  it('treats a pool whose pCPUs are all offline as if they were online (its work waits for them)', () => {
    const h = manualCore(2, 'credit2', { offlineCpus: [1] });
    h.core.poolRemoveCpu('Pool-0', 1);
    h.core.createPool('late', 'credit', [1]);
    h.core.addDomain({ domid: 2, name: 'in-late', maxVcpus: 1, pool: 'late' });
    expect(h.host.take()).toContain(1);
    h.core.setPcpuOnline(1);
    expect(h.core.schedule(1).vcpu).toMatchObject({ domid: 2, vcpu: 0 });
  });
});

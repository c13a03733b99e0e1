import { describe, expect, it } from 'vitest';
import { SchedCore } from '../../../src-engine/hv/sched/core';
import { manualCore, MS, thrown, US } from './helpers';

/** Schedules every tickled pCPU once and returns what each now runs ("d.v" or "idle"). */
function serve(h: ReturnType<typeof manualCore>): Record<number, string> {
  const out: Record<number, string> = {};
  for (let guard = 0; guard < 20; guard++) {
    const t = h.host.take();
    if (t.length === 0) break;
    for (const p of new Set(t)) {
      const d = h.core.schedule(p);
      out[p] = d.vcpu ? `${d.vcpu.domid}.${d.vcpu.vcpu}` : 'idle';
    }
  }
  return out;
}

describe('SchedCore construction', () => {
  it('boots Pool-0 with every pCPU and credit2, like current Xen', () => {
    const { core } = manualCore(4, undefined);
    expect(core.xlCpupoolList()).toEqual([{ name: 'Pool-0', id: 0, nrCpus: 4, sched: 'credit2', nDom: 0, cpus: [0, 1, 2, 3] }]);
    expect(core.freeCpus()).toEqual([]);
  });
  it('honours the boot scheduler and refuses an unknown one', () => {
    expect(manualCore(2, 'rtds').core.xlCpupoolList()[0].sched).toBe('rtds');
    expect(() => new SchedCore({ now: () => 0, tickle: () => {} }, { nrCpus: 2, scheduler: 'sedf' as never })).toThrow('Unknown scheduler');
    expect(() => new SchedCore({ now: () => 0, tickle: () => {} }, { nrCpus: 0 })).toThrow(RangeError);
  });
  it('gives an idle pCPU no deadline', () => {
    const { core } = manualCore(2);
    expect(core.schedule(1)).toEqual({ pcpu: 1, vcpu: null, until: Infinity });
  });
});

describe('execution events', () => {
  it('tickles an idle pCPU when a domain starts and runs its vCPU there', () => {
    const h = manualCore(2, 'credit2');
    h.core.addDomain({ domid: 1, name: 'vm1', maxVcpus: 1 });
    const ran = serve(h);
    expect(Object.values(ran)).toEqual(['1.0']);
    expect(h.core.vcpuInfo(1, 0).state).toBe('running');
  });

  it('switches a blocked vCPU out with reason "block" and back in after wake', () => {
    const h = manualCore(1, 'credit');
    h.core.addDomain({ domid: 1, name: 'vm1', maxVcpus: 1 });
    serve(h);
    h.host.t = 5 * MS;
    h.core.block(1, 0);
    expect(h.host.take()).toEqual([0]);
    expect(h.core.schedule(0).vcpu).toBeNull();
    expect(h.records.filter((r) => r.event === 'out').at(-1)?.reason).toBe('block');
    expect(h.core.vcpuInfo(1, 0).state).toBe('blocked');
    h.host.t = 7 * MS;
    h.core.wake(1, 0);
    expect(serve(h)).toEqual({ 0: '1.0' });
    expect(h.core.vcpuInfo(1, 0).cpuTimeNs).toBe(5 * MS);
  });

  it('records a yield as the reason of the switch it causes', () => {
    const h = manualCore(1, 'credit2');
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 1 });
    h.core.addDomain({ domid: 2, name: 'b', maxVcpus: 1 });
    serve(h);
    const first = h.core.pcpus()[0].current;
    h.host.t = 2 * MS;
    h.core.yield(first!.domid, 0);
    expect(h.core.reschedPending(0)).toBe(true);
    h.core.schedule(0);
    expect(h.core.pcpus()[0].current?.domid).not.toBe(first?.domid);
    expect(h.records.filter((r) => r.event === 'out').at(-1)?.reason).toBe('yield');
  });

  it('coalesces tickles until the pCPU schedules', () => {
    const h = manualCore(1, 'credit');
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 1 });
    serve(h);
    h.core.block(1, 0);
    h.core.pauseDomain(1);
    expect(h.host.take()).toEqual([0]);
    h.core.schedule(0);
    expect(h.core.reschedPending(0)).toBe(false);
  });

  it('never runs a paused domain and refuses to unpause a running one', () => {
    const h = manualCore(2, 'credit2');
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 2, paused: true });
    expect(serve(h)).toEqual({});
    expect(h.core.schedule(0).vcpu).toBeNull();
    expect(h.core.xlList()[0].paused).toBe(true);
    h.core.unpauseDomain(1);
    expect(Object.values(serve(h)).sort()).toEqual(['1.0', '1.1']);
    expect(thrown(() => h.core.unpauseDomain(1)).code).toBe('domain.not-paused');
  });

  it('keeps offline vCPUs off the pCPUs until they come online', () => {
    const h = manualCore(2, 'credit');
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 3, onlineVcpus: 1 });
    serve(h);
    expect(h.core.vcpus().map((v) => v.state)).toEqual(['running', 'offline', 'offline']);
    // credit1 balances at most once per load-balance-ratelimit (1 ms) per pCPU.
    h.host.t = 2 * MS;
    h.core.setVcpuOnline(1, 2, true);
    serve(h);
    expect(h.core.vcpuInfo(1, 2).state).toBe('running');
    h.core.setVcpuOnline(1, 2, false);
    serve(h);
    expect(h.core.vcpuInfo(1, 2).state).toBe('offline');
    expect(h.records.filter((r) => r.event === 'out').at(-1)?.reason).toBe('offline');
  });
});

describe('affinity', () => {
  it('refuses a hard affinity outside the pool with EINVAL and xl message', () => {
    const h = manualCore(4, 'credit2');
    h.core.createPool('p1', 'credit');
    h.core.poolRemoveCpu(0, 3);
    h.core.poolAddCpu('p1', 3);
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 2 });
    const e = thrown(() => h.core.setAffinity(1, 1, [3]));
    expect(e.errno).toBe('EINVAL');
    expect(e.xl).toBe("Could not set affinity for vcpu `1'.");
    expect(thrown(() => h.core.addDomain({ domid: 2, name: 'b', maxVcpus: 1, hard: [3] })).code).toBe('affinity.empty');
  });

  it('stores the mask as given and prints it like xl vcpu-list', () => {
    const h = manualCore(4, 'credit2');
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 1 });
    h.core.setAffinity(1, 0, [0, 1, 3], [2]);
    expect(h.core.xlVcpuList()[0]).toMatchObject({ hard: '0-1,3', soft: '2' });
    h.core.setAffinity(1, 0, null, [0, 1, 2, 3]);
    expect(h.core.xlVcpuList()[0]).toMatchObject({ hard: '0-1,3', soft: 'all' });
  });

  it('moves a running vCPU off a pCPU it may no longer use at that pCPU’s next decision', () => {
    const h = manualCore(2, 'credit');
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 1 });
    const ran = serve(h);
    const where = Number(Object.keys(ran)[0]);
    const other = 1 - where;
    h.host.t = 3 * MS;
    h.core.setAffinity(1, 0, [other]);
    const after = serve(h);
    expect(after[where]).toBe('idle');
    expect(after[other]).toBe('1.0');
    const outs = h.records.filter((r) => r.event === 'out');
    expect(outs.at(-1)).toMatchObject({ t: 3 * MS, pcpu: where, reason: 'migrate' });
    expect(h.records.filter((r) => r.event === 'in').at(-1)).toMatchObject({ pcpu: other, reason: 'migrate' });
  });
});

describe('parameters', () => {
  it('refuses parameters meant for another scheduler with EINVAL', () => {
    const h = manualCore(2, 'credit2');
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 1 });
    expect(thrown(() => h.core.setDomainParams(1, { sched: 'credit', weight: 512 })).errno).toBe('EINVAL');
    expect(thrown(() => h.core.setPoolParams(0, { sched: 'credit', tsliceMs: 10 })).code).toBe('sched.wrong-scheduler');
    expect(thrown(() => h.core.setVcpuParams(1, 0, { periodUs: 10000, budgetUs: 100, extratime: false })).libxl).toBe(
      'per-VCPU parameter setting not supported for this scheduler',
    );
  });

  it('reads back weight and cap and checks their libxl ranges', () => {
    const h = manualCore(2, 'credit2');
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 2, weight: 512, cap: 150 });
    expect(h.core.getDomainParams(1)).toEqual({ sched: 'credit2', weight: 512, cap: 150 });
    expect(thrown(() => h.core.setDomainParams(1, { sched: 'credit2', weight: 0 })).libxl).toBe(
      'Cpu weight out of range, valid values are within range from 1 to 65535',
    );
    expect(thrown(() => h.core.setDomainParams(1, { sched: 'credit2', cap: 201 })).libxl).toBe(
      'Cpu cap out of range, valid range is from 0 to 200 for specified number of vcpus',
    );
    expect(thrown(() => h.core.addDomain({ domid: 2, name: 'b', maxVcpus: 1, weight: 70000 })).code).toBe('sched.weight-range');
    expect(h.core.domainIds()).toEqual([1]);
  });
});

describe('observability', () => {
  it('accounts CPU time per vCPU and busy time per pCPU', () => {
    const h = manualCore(1, 'credit');
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 1 });
    serve(h);
    h.host.t = 4 * MS;
    expect(h.core.vcpuInfo(1, 0).cpuTimeNs).toBe(4 * MS);
    expect(h.core.pcpus()[0]).toMatchObject({ pcpu: 0, pool: 'Pool-0', current: { domid: 1, vcpu: 0 }, busyNs: 4 * MS });
    h.core.block(1, 0);
    h.core.schedule(0);
    h.host.t = 10 * MS;
    expect(h.core.pcpus()[0].busyNs).toBe(4 * MS);
    expect(h.core.xlList()[0]).toMatchObject({ name: 'a', domid: 1, vcpus: 1, running: false, blocked: true, paused: false, cpuSeconds: 0.004, pool: 'Pool-0' });
  });

  it('returns the trace of the last N nanoseconds and lets subscribers go', () => {
    const h = manualCore(1, 'credit');
    let seen = 0;
    const off = h.core.subscribeTrace(() => seen++);
    h.core.addDomain({ domid: 1, name: 'a', maxVcpus: 1 });
    serve(h);
    h.host.t = 50 * MS;
    h.core.block(1, 0);
    h.core.schedule(0);
    const recent = h.core.traceSince(10 * MS);
    expect(recent.map((r) => r.event)).toEqual(['block', 'unrunnable', 'out']);
    off();
    const before = seen;
    h.core.wake(1, 0);
    expect(seen).toBe(before);
  });

  it('exposes the data of xl sched-credit, sched-credit2 and sched-rtds', () => {
    const h = manualCore(6, 'credit');
    h.core.poolRemoveCpu(0, 4);
    h.core.poolRemoveCpu(0, 5);
    h.core.createPool('c2', 'credit2', [4]);
    h.core.createPool('rt', 'rtds', [5]);
    h.core.addDomain({ domid: 0, name: 'Domain-0', maxVcpus: 2 });
    h.core.addDomain({ domid: 3, name: 'vm1', maxVcpus: 2, weight: 512, cap: 50 });
    h.core.addDomain({ domid: 4, name: 'vm2', maxVcpus: 1, pool: 'c2', weight: 128 });
    h.core.addDomain({ domid: 5, name: 'vm3', maxVcpus: 2, pool: 'rt', vcpus: [{ rtds: { periodUs: 300, budgetUs: 150, extratime: false } }] });
    expect(h.core.xlSchedCredit()).toEqual([
      {
        pool: 'Pool-0',
        sched: 'credit',
        tsliceMs: 30,
        ratelimitUs: 1000,
        migrationDelayUs: 0,
        domains: [
          { name: 'Domain-0', domid: 0, weight: 256, cap: 0 },
          { name: 'vm1', domid: 3, weight: 512, cap: 50 },
        ],
      },
    ]);
    expect(h.core.xlSchedCredit2()).toEqual([{ pool: 'c2', sched: 'credit2', ratelimitUs: 1000, domains: [{ name: 'vm2', domid: 4, weight: 128, cap: 0 }] }]);
    expect(h.core.xlSchedRtds()).toEqual([
      {
        pool: 'rt',
        domains: [{ name: 'vm3', domid: 5, periodUs: 10000, budgetUs: 4000, extratime: true }],
        vcpus: [
          { name: 'vm3', domid: 5, vcpu: 0, periodUs: 300, budgetUs: 150, extratime: false },
          { name: 'vm3', domid: 5, vcpu: 1, periodUs: 10000, budgetUs: 4000, extratime: true },
        ],
      },
    ]);
    expect(h.core.xlCpupoolList().map((p) => [p.name, p.nrCpus, p.sched, p.nDom, p.cpus.join(',')])).toEqual([
      ['Pool-0', 4, 'credit', 2, '0,1,2,3'],
      ['c2', 1, 'credit2', 1, '4'],
      ['rt', 1, 'rtds', 1, '5'],
    ]);
    expect(h.core.xlVcpuList().find((r) => r.domid === 5 && r.vcpu === 1)).toMatchObject({ cpu: 5, online: true, hard: 'all', soft: 'all' });
  });

  it('keeps scheduler timers in one queue the owner drives', () => {
    const h = manualCore(1, 'credit');
    expect(h.core.nextTimer()).toBe(10 * MS);
    h.host.t = 10 * MS;
    h.core.runTimers();
    expect(h.core.nextTimer()).toBe(20 * MS);
    const c2 = manualCore(1, 'credit2');
    expect(c2.core.nextTimer()).toBe(Infinity);
    c2.core.addDomain({ domid: 1, name: 'a', maxVcpus: 1, cap: 20 });
    expect(c2.core.nextTimer()).toBe(10 * MS);
    expect(c2.core.dump().join('\n')).toContain('credit2 pool 0');
    expect(US).toBe(1000);
  });
});

// A XenHost over a small machine pool with recording hooks, and Xen domains on it, for the unit
// tests of src-engine/hv/xen (no CPU runs here; VCPU state blocks are plain reset states).
import { DEFAULT_FEATURES } from '../../../src-engine/cpu/cpuid';
import { resetState } from '../../../src-engine/cpu/reset';
import { STATE_BYTES } from '../../../src-engine/cpu/state';
import { MachineMemory } from '../../../src-engine/hv/memory/machine-memory';
import { DomainMemory } from '../../../src-engine/hv/memory/domain-memory';
import { pvhMemoryMap } from '../../../src-engine/boot/pvh';
import { XenHost, type XenDomainSetup } from '../../../src-engine/hv/xen/xen-host';
import type { XenDomain } from '../../../src-engine/hv/xen/xen-domain';

/** What the hooks saw. */
export interface HostRecord {
  kicks: string[];
  p2m: number[];
  online: string[];
  shutdowns: string[];
  console: Map<number, string>;
  consoleIo: Map<number, string>;
}

/** A host with a settable clock. */
export interface TestHost {
  host: XenHost;
  pool: MachineMemory;
  rec: HostRecord;
  /** Host time in ns (set it to move time). */
  clock: { now: number };
  domain(domid: number, opts?: Partial<XenDomainSetup> & { ramMiB?: number }): XenDomain;
}

/** Makes a host over a `poolMiB` pool. */
export function makeHost(poolMiB = 32): TestHost {
  const pool = new MachineMemory(poolMiB * 2 ** 20);
  const clock = { now: 1_000_000_000 };
  const rec: HostRecord = { kicks: [], p2m: [], online: [], shutdowns: [], console: new Map(), consoleIo: new Map() };
  const dec = new TextDecoder();
  const host = new XenHost(pool, {
    now: () => clock.now,
    wallMs: () => 1_700_000_000_000,
    kickVcpu: (d, v) => rec.kicks.push(`${d}.${v}`),
    p2mChanged: (d) => rec.p2m.push(d),
    vcpuOnline: (d, v, on) => rec.online.push(`${d}.${v}:${on}`),
    domainShutdown: (d, r) => rec.shutdowns.push(`${d}:${r}`),
    consoleOutput: (d, data, src) => {
      const m = src === 'pv-console' ? rec.console : rec.consoleIo;
      m.set(d, (m.get(d) ?? '') + dec.decode(data));
    },
    log: (level, m) => {
      if (level === 'error') throw new Error(m);
    },
  });
  host.dispatchOptions = { strict: true };
  return {
    host,
    pool,
    rec,
    clock,
    domain(domid, opts = {}) {
      const ram = (opts.ramMiB ?? 2) * 2 ** 20;
      const memory = opts.memory ?? new DomainMemory(pool, `dom${domid}`, { ramBytes: ram });
      const nr = opts.nrVcpus ?? 1;
      const states = new SharedArrayBuffer(nr * STATE_BYTES);
      for (let v = 0; v < nr; v++) resetState(new Int32Array(states, v * STATE_BYTES, STATE_BYTES / 4));
      return host.createDomain({
        domid, name: `dom${domid}`, uuid: `00000000-0000-4000-8000-${String(domid).padStart(12, '0')}`, memory, states, nrVcpus: nr,
        features: { ...DEFAULT_FEATURES, hypervisor: true }, timeBaseNs: clock.now, memoryMap: pvhMemoryMap(memory.ramSize), ...opts,
      });
    },
  };
}

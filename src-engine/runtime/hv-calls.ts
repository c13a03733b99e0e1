/**
 * The toolstack's calls to the hypervisor thread (the `call` messages of engine.ts), dispatched
 * by name to the thread's domain operations and to HvToolstack.
 */
import { DomusError } from '../base/errors';
import type { MachineMemory } from '../hv/memory/machine-memory';
import type { DomainRestore, DomainSpec, HvDomain } from './hv-domain';
import { DOMAIN_CALLS, type HvToolstack } from './hv-toolstack';
import type { XenHost } from '../hv/xen/xen-host';
import { toWire, type HostToHv, type HvToHost } from './messages';

/** What the calls need from the hypervisor thread. */
export interface HvCallHost {
  readonly nrPcpus: number;
  readonly pool: MachineMemory;
  readonly domains: ReadonlyMap<number, HvDomain>;
  readonly toolstack: HvToolstack;
  readonly xen: XenHost;
  /** The domain with ID `domid`, or a domain.not-found error. */
  domain(domid: number): HvDomain;
  createDomain(spec: DomainSpec, restore?: DomainRestore): unknown;
  setPaused(d: HvDomain, paused: boolean): null;
  destroyDomain(d: HvDomain): null;
  /** True if a pCPU runs one of `d`'s VCPUs now. */
  runsOnPcpu(d: HvDomain): boolean;
  /** Ends the hypervisor loop (engine shutdown). */
  stop(): void;
}

/** Serves toolstack call `method` with `args`; throws DomusError for an unknown one. */
export function serveHvCall(h: HvCallHost, method: string, args: unknown): unknown {
  const a = args as Record<string, unknown>;
  switch (method) {
    case 'create':
      return h.createDomain(a.spec as DomainSpec, a.restore as DomainRestore | undefined);
    case 'unpause':
      return h.setPaused(h.domain(a.domid as number), false);
    case 'pause':
      return h.setPaused(h.domain(a.domid as number), true);
    case 'destroy':
      return h.destroyDomain(h.domain(a.domid as number));
    case 'xenstore':
      return h.toolstack.xenstoreOp(a.op as string, a.path as string, a.value as string | undefined, a.watchId as number | undefined);
    case 'sched':
      return h.toolstack.schedOp(a.op as string, (a.args as unknown[]) ?? []);
    case 'domains':
      return [...h.domains.values()].map((d) => h.toolstack.summary(d));
    case 'host':
      return { nrPcpus: h.nrPcpus, totalFrames: h.pool.totalFrames, freeFrames: h.pool.freeFrames };
    case 'shutdown-engine':
      h.stop();
      return null;
    default: {
      if (!DOMAIN_CALLS.has(method)) throw new DomusError('engine.unknown-call', `The hypervisor has no operation "${method}".`);
      const d = h.domain(a.domid as number);
      return h.toolstack.domainCall(method, d, a, h.runsOnPcpu(d));
    }
  }
}

/** How drainHostMessages reaches the host thread. */
export interface HostMessageIo {
  /** The next message from the host, or undefined. */
  poll(): HostToHv | undefined;
  post(m: HvToHost): void;
  /** After each call: what it produced (a new domain's BIOS messages) goes out before later replies. */
  afterCall(): void;
}

/** Serves every message the host posted (console input, calls); true if there was any. */
export function drainHostMessages(h: HvCallHost, io: HostMessageIo): boolean {
  let any = false;
  for (;;) {
    const m = io.poll();
    if (m === undefined) return any;
    any = true;
    if (m.t === 'console-in') {
      const d = h.domains.get(m.domid);
      if (d?.spec.pvh !== undefined) h.xen.consoleInput(m.domid, m.data);
      else d?.platform.consoleInput(m.com as 1 | 2 | 3 | 4, m.data);
      continue;
    }
    try {
      const result = serveHvCall(h, m.method, m.args);
      io.post({ t: 'reply', id: m.id, ok: true, result });
    } catch (e) {
      io.post({ t: 'reply', id: m.id, ok: false, error: toWire(e) });
    }
    io.afterCall();
  }
}

/**
 * The engine as the toolstack (host thread) sees it: it starts the hypervisor thread and one
 * worker per pCPU, shares the machine memory pool and control block with them, and offers
 * domain operations as promises and domain events as callbacks. It never blocks: waiting is done
 * by the worker threads.
 */
import { DomusError, MemoryError } from '../base/errors';
import { MAX_POOL_BYTES, MachineMemory, type MachineMemoryBuffers } from '../hv/memory/machine-memory';
import { ATTN_CTRL, ATTN_STATS, CB_HOST_MSGS, CB_HV_WAKES, P_CUR_DOM, CB_SHUTDOWN, P_ATTN, P_BUSY_NS, P_EDECLINES, P_ESWITCHES, P_ETAKES, P_HALT_TAKES, P_INSNS, P_NO_NEXT, P_PREEMPT_TAKES, P_TAKES, P_TTAKES, P_TAKE_MISSES, P_WAKE, controlBlockBytes, getF64, ringDoorbell, slot } from './control-block';
import type { DomainRestore, DomainSpec, PvhSpec } from './hv-domain';
import type { TextScreen } from '../api/types';
import type { DomainShare, HostToHv, HostToPcpu, HvInit, HvToHost, PcpuInit, ShutdownReason, WireError } from './messages';
import type { EngineHost, WorkerHandle } from './thread-env';

/** How to start an engine. */
export interface EngineOptions {
  /** pCPU workers (default: the host's CPU count). */
  pcpus?: number;
  /** Machine memory pool in MiB (default: half the host RAM, at most 2 GiB). */
  memoryPoolMiB?: number;
  /** Scheduler of Pool-0 (default credit2, as current Xen). */
  scheduler?: string;
}

/** Events a domain reports. */
export interface EngineEvents {
  console?: (domid: number, com: number, data: Uint8Array) => void;
  shutdown?: (domid: number, reason: ShutdownReason, code: number | undefined, detail: string | undefined) => void;
  destroyed?: (domid: number) => void;
  /** A line for the user from the domain's firmware. */
  message?: (domid: number, text: string) => void;
  /** Every VCPU halted with interrupts off (the domain stays until destroyed). */
  halted?: (domid: number) => void;
  /** A toolstack xenstore watch fired for `path`. */
  xenstoreWatch?: (watchId: number, path: string) => void;
  log?: (level: string, source: string, message: string) => void;
  /** A worker thread died (an engine bug); the engine is no longer usable. */
  fatal?: (message: string) => void;
}

/** Per-domain statistics. */
export interface DomainStats {
  instructions: number;
  exits: Record<string, number>;
  uptimeNs: number;
}

/** A pCPU's counters (Engine.pcpuStats). */
export interface PcpuStats {
  busyNs: number;
  instructions: number;
  /** Slice ends at which the pCPU switched with the published decision, without asking. */
  takes: number;
  /** Slice ends at which a published decision stood but did not hold, or was revoked. */
  takeMisses: number;
  /** Slice ends with nothing published: the pCPU asked. */
  noNext: number;
  /** Halts at which the pCPU switched with a published halt decision (a chain step each), without asking. */
  haltTakes: number;
  /** Stops on the hypervisor's preempt bit that the pCPU switched with the decision published for it, without asking. */
  preemptTakes: number;
  /** PIT edges the pCPU took from a timer offer (injected without the hypervisor waking). */
  timerTakes: number;
  /** PIT edges the pCPU took while it ran another VCPU (edge publications, DOMUS_EDGE_OFFERS=1). */
  edgeTakes: number;
  /** VCPU switches the pCPU made by stepping an edge publication's scheduler model. */
  edgeSwitches: number;
  /** Edge publications the pCPU gave up (the model asked, a guest did what the publication rules out). */
  edgeDeclines: number;
}

/** A created domain's identity. */
export interface CreatedDomain {
  domid: number;
  boot: unknown;
}

const DEFAULT_POOL_CAP = 2048;
/**
 * Late pCPU start: the workers of pCPUs 1..N-1 start when the first console output arrives or
 * this long after the engine, whichever comes first. Each worker's start costs ~40-50 ms of host
 * CPU (Node's bootstrap and the pCPU program); on a small host that work would compete with the
 * first guest's start-up (docs/performance.md). Xen too brings secondary CPUs up during boot,
 * after the boot CPU runs. Until a worker asks for work, the scheduler core counts its pCPU as
 * offline and places no work there (hv-main.ts, SchedCoreConfig.offlineCpus).
 */
const LATE_PCPU_START_MS = 300;

/** The running engine. */
export class Engine {
  readonly nrPcpus: number;
  readonly poolBytes: number;
  readonly oversubscribed: boolean;
  private readonly cb: Int32Array;
  private readonly hv: WorkerHandle;
  private readonly pcpus: WorkerHandle[] = [];
  /** Domains the pCPU workers know (sent again to a worker that starts late). */
  private readonly shares = new Map<number, DomainShare>();
  private readonly pcpuInit: (i: number) => PcpuInit;
  private cancelLate: (() => void) | undefined;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private readonly ready: Promise<void>;
  private dead: string | undefined;
  private readyReject: (e: Error) => void = () => {};
  private closed = false;

  constructor(
    private readonly host: EngineHost,
    options: EngineOptions,
    private readonly events: EngineEvents,
  ) {
    const hostCpus = host.hostCpus();
    this.nrPcpus = options.pcpus ?? hostCpus;
    if (!Number.isInteger(this.nrPcpus) || this.nrPcpus < 1 || this.nrPcpus > 256) {
      throw new DomusError('engine.pcpus', `The number of pCPUs must be between 1 and 256 (got ${options.pcpus}).`);
    }
    this.oversubscribed = this.nrPcpus > hostCpus;
    const defaultMiB = Math.min(DEFAULT_POOL_CAP, Math.floor(host.hostMemory() / 2 / 2 ** 20));
    const poolMiB = options.memoryPoolMiB ?? defaultMiB;
    if (!Number.isInteger(poolMiB) || poolMiB < 1 || poolMiB * 2 ** 20 > MAX_POOL_BYTES) {
      throw new MemoryError('memory.pool-size', `The memory pool must be between 1 and ${MAX_POOL_BYTES / 2 ** 20} MiB (got ${poolMiB}).`);
    }
    this.poolBytes = poolMiB * 2 ** 20;
    const pool = new MachineMemory(this.poolBytes).buffers;
    const controlBlock = new SharedArrayBuffer(controlBlockBytes(this.nrPcpus));
    this.cb = new Int32Array(controlBlock);
    let readyResolve: () => void = () => {};
    this.ready = new Promise((resolve, reject) => {
      readyResolve = resolve;
      this.readyReject = reject;
    });
    // Nobody may be waiting yet; a failure still surfaces through whenReady() and calls.
    this.ready.catch(() => {});
    const hvInit: HvInit = { nrPcpus: this.nrPcpus, controlBlock, pool, scheduler: options.scheduler ?? 'credit2' };
    this.hv = host.spawn('hv', hvInit);
    this.hv.onMessage((m) => {
      if ((m as HvToHost).t === 'ready') readyResolve();
      else this.onHv(m as HvToHost);
    });
    this.hv.onExit((code, err) => this.workerDied('hypervisor', code, err));
    this.pcpuInit = (i) => ({ index: i, controlBlock, pool: pool as MachineMemoryBuffers });
    this.spawnPcpu();
    if (this.nrPcpus > 1) this.cancelLate = host.later(LATE_PCPU_START_MS, () => this.startLatePcpus());
  }

  /** Starts the worker of the next pCPU and tells it the domains that exist. */
  private spawnPcpu(): void {
    const i = this.pcpus.length;
    const w = this.host.spawn('pcpu', this.pcpuInit(i));
    w.onExit((code, err) => this.workerDied(`pcpu${i}`, code, err));
    this.pcpus.push(w);
    for (const share of this.shares.values()) this.toPcpu(i, { t: 'domain', share });
  }

  /** Starts the workers of pCPUs 1..N-1 (once). */
  private startLatePcpus(): void {
    this.cancelLate?.();
    this.cancelLate = undefined;
    if (this.closed || this.dead !== undefined) return;
    while (this.pcpus.length < this.nrPcpus) this.spawnPcpu();
  }

  /** Resolves once the hypervisor thread is serving. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  private workerDied(which: string, code: number, err: Error | undefined): void {
    if (this.closed) return;
    this.dead = `the ${which} thread stopped (exit code ${code})${err ? `: ${err.stack ?? err.message}` : ''}`;
    this.readyReject(new DomusError('engine.dead', `The engine failed to start: ${this.dead}`));
    for (const p of this.pending.values()) p.reject(new DomusError('engine.dead', `The engine failed: ${this.dead}`));
    this.pending.clear();
    this.events.fatal?.(this.dead);
  }

  private onHv(m: HvToHost): void {
    switch (m.t) {
      case 'reply': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.result);
        else p.reject(fromWire(m.error));
        return;
      }
      case 'console':
        if (this.pcpus.length < this.nrPcpus) this.startLatePcpus();
        this.events.console?.(m.domid, m.com, m.data);
        return;
      case 'domain-shutdown':
        this.events.shutdown?.(m.domid, m.reason, m.code, m.detail);
        return;
      case 'domain-destroyed':
        this.shares.delete(m.domid);
        this.toPcpus({ t: 'domain-gone', domid: m.domid });
        this.events.destroyed?.(m.domid);
        return;
      case 'log':
        this.events.log?.(m.level, m.source, m.message);
        return;
      case 'domain-halted':
        this.events.halted?.(m.domid);
        return;
      case 'domain-message':
        this.events.message?.(m.domid, m.text);
        return;
      case 'xenstore-watch':
        this.events.xenstoreWatch?.(m.watchId, m.path);
        return;
      default:
        return;
    }
  }

  /** Calls an operation on the hypervisor thread. */
  call<T>(method: string, args: unknown): Promise<T> {
    if (this.dead) return Promise.reject(new DomusError('engine.dead', `The engine failed: ${this.dead}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.post({ t: 'call', id, method, args });
    });
  }

  private post(m: HostToHv): void {
    this.hv.postMessage(m);
    Atomics.add(this.cb, CB_HOST_MSGS, 1);
    ringDoorbell(this.cb);
  }

  private toPcpus(m: HostToPcpu): void {
    for (let i = 0; i < this.pcpus.length; i++) this.toPcpu(i, m);
  }

  private toPcpu(i: number, m: HostToPcpu): void {
    this.pcpus[i].postMessage(m);
    Atomics.or(this.cb, slot(i, P_ATTN), ATTN_CTRL);
    Atomics.add(this.cb, slot(i, P_WAKE), 1);
    Atomics.notify(this.cb, slot(i, P_WAKE));
  }

  /** Creates a domain (paused), gives its memory to the pCPU workers, then starts it. */
  async createDomain(spec: DomainSpec, options: { paused?: boolean; restore?: DomainRestore } = {}): Promise<CreatedDomain> {
    await this.ready;
    const r = await this.call<{ domid: number; share: DomainShare; boot: unknown }>('create', { spec, restore: options.restore });
    this.shares.set(r.domid, r.share);
    this.toPcpus({ t: 'domain', share: r.share });
    if (!options.paused) await this.call('unpause', { domid: r.domid });
    return { domid: r.domid, boot: r.boot };
  }

  destroyDomain(domid: number): Promise<void> {
    return this.call('destroy', { domid });
  }

  pauseDomain(domid: number): Promise<void> {
    return this.call('pause', { domid });
  }

  unpauseDomain(domid: number): Promise<void> {
    return this.call('unpause', { domid });
  }

  /**
   * The state of a paused domain for a save image. Fails with code domain.busy while its VCPUs
   * are still leaving their pCPUs (callers retry shortly after).
   */
  snapshotDomain(domid: number): Promise<DomainRestore & { uuid: string; onlineVcpus: number; pvh?: PvhSpec }> {
    return this.call('snapshot', { domid });
  }

  domainStats(domid: number): Promise<DomainStats> {
    return this.call('stats', { domid });
  }

  /** The VGA text screen of a BIOS-booted domain, or null. */
  domainScreen(domid: number): Promise<TextScreen | null> {
    return this.call('screen', { domid });
  }

  /** Sends console input to a domain's COM port. */
  consoleInput(domid: number, com: number, data: Uint8Array): void {
    this.post({ t: 'console-in', domid, com, data });
  }

  /**
   * Per pCPU (read from the control block): busy time, instructions, and how its slice ends went:
   * switched with the published decision without asking (`takes`), a decision stood but did not
   * hold (`takeMisses`), nothing was published so it asked (`noNext`).
   */
  pcpuStats(): PcpuStats[] {
    const out = [];
    // Busy pCPUs publish their run in progress at their next block boundary, so a VCPU that
    // never exits still shows in the next sample.
    for (let i = 0; i < this.nrPcpus; i++) if (Atomics.load(this.cb, slot(i, P_CUR_DOM)) >= 0) Atomics.or(this.cb, slot(i, P_ATTN), ATTN_STATS);
    for (let i = 0; i < this.nrPcpus; i++) {
      out.push({
        busyNs: getF64(this.cb, slot(i, P_BUSY_NS)),
        instructions: getF64(this.cb, slot(i, P_INSNS)),
        takes: this.cb[slot(i, P_TAKES)],
        takeMisses: this.cb[slot(i, P_TAKE_MISSES)],
        noNext: this.cb[slot(i, P_NO_NEXT)],
        haltTakes: this.cb[slot(i, P_HALT_TAKES)],
        preemptTakes: this.cb[slot(i, P_PREEMPT_TAKES)],
        timerTakes: this.cb[slot(i, P_TTAKES)],
        edgeTakes: this.cb[slot(i, P_ETAKES)],
        edgeSwitches: this.cb[slot(i, P_ESWITCHES)],
        edgeDeclines: this.cb[slot(i, P_EDECLINES)],
      });
    }
    return out;
  }

  /** Times the hypervisor thread woke from its sleep so far (a statistic). */
  hvWakes(): number {
    return Atomics.load(this.cb, CB_HV_WAKES);
  }

  /** Stops every thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelLate?.();
    Atomics.store(this.cb, CB_SHUTDOWN, 1);
    ringDoorbell(this.cb);
    for (let i = 0; i < this.nrPcpus; i++) {
      Atomics.or(this.cb, slot(i, P_ATTN), 1);
      Atomics.add(this.cb, slot(i, P_WAKE), 1);
      Atomics.notify(this.cb, slot(i, P_WAKE));
    }
    await Promise.all([this.hv.terminate(), ...this.pcpus.map((w) => w.terminate())]);
  }
}

function fromWire(e: WireError): Error {
  const err = new DomusError(e.code, e.message, e.subject);
  err.name = e.name;
  return err;
}

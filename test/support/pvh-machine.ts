/**
 * An in-process Xen host for PVH tests: domains built with the PVH loader and the engine's Xen
 * interface (src-engine/hv/xen), their VCPUs run by Cpu objects on a set of simulated pCPUs
 * (each VCPU pinned to one), on a virtual clock that advances with the instructions retired and
 * jumps to the next Xen timer while every VCPU halts. Deterministic.
 *
 * It is also the prototype of the runtime wiring (docs/xen-abi.md "Wiring"): the CpuOps below
 * are what a pCPU worker forwards to the hypervisor thread (hypercall, MSRs, INTA) or answers
 * itself (CPUID), and the XenHostOps are what the hypervisor thread implements (kick, P2M flush,
 * VCPU online, shutdown, console).
 */
import { Cpu, RunExit } from '../../src-engine/cpu/cpu';
import type { CpuOps } from '../../src-engine/cpu/ops';
import { DEFAULT_FEATURES, type CpuFeatures } from '../../src-engine/cpu/cpuid';
import { STOP } from '../../src-engine/cpu/fault';
import { S_HALTED, S_LAST_PCPU, S_RUNNING, STATE_BYTES } from '../../src-engine/cpu/state';
import { MachineMemory } from '../../src-engine/hv/memory/machine-memory';
import { DomainMemory, P2M_ENTRIES } from '../../src-engine/hv/memory/domain-memory';
import type { XenSaveState } from '../../src-engine/hv/xen/save/xen-save-state';
import { loadPvhKernel, pvhMemoryMap, type PvhModule } from '../../src-engine/boot/pvh';
import { XenHost, type XenConsoleSource } from '../../src-engine/hv/xen/xen-host';
import { xenCpuid } from '../../src-engine/hv/xen/cpuid-msr';
import { HcAfter } from '../../src-engine/hv/xen/hypercalls/types';
import type { VbdConfig } from '../../src-engine/hv/xen/backends/blkback';
import type { VifConfig } from '../../src-engine/hv/xen/backends/vif-nodes';
import type { XenDomain } from '../../src-engine/hv/xen/xen-domain';

/** Instructions a VCPU runs before its pCPU moves on (also the interleaving grain). */
const DEFAULT_SLICE = 5_000;
/** Virtual nanoseconds per retired instruction (a 1 GHz, 1-IPC machine). */
const NS_PER_INSTRUCTION = 1;
/** Wall clock at virtual time 0 (ms since the epoch). */
const WALL_BASE_MS = 1_700_000_000_000;

/** A domain to build. */
export interface PvhDomainSpec {
  readonly name: string;
  readonly kernel: Uint8Array;
  readonly cmdline?: string;
  readonly modules?: readonly PvhModule[];
  readonly memMiB: number;
  readonly vcpus?: number;
  readonly vbds?: readonly VbdConfig[];
  readonly vifs?: readonly VifConfig[];
  /** pCPU of each VCPU (default: VCPU v on pCPU v mod pcpus). */
  readonly pin?: readonly number[];
}

/** A domain saved by PvhMachine.saveDomain(). */
export interface PvhSavedDomain {
  readonly name: string;
  readonly memMiB: number;
  readonly pin: readonly number[];
  /** Own pages by guest frame. */
  readonly pages: ReadonlyMap<number, Uint8Array>;
  /** VCPU state blocks. */
  readonly states: Uint8Array;
  readonly xen: XenSaveState;
}

/** A domain in the machine. */
export interface MachineDomain {
  readonly domid: number;
  readonly name: string;
  readonly memory: DomainMemory;
  readonly xen: XenDomain;
  readonly cpus: Cpu[];
  readonly pin: number[];
  /** PV console ring output. */
  console: string;
  /** console_io output. */
  consoleIo: string;
  /** Set when the domain shut down (reason) or crashed ("triple-fault"). */
  shutdown: string | undefined;
}

/** How run() ended. */
export type PvhRunEnd = 'until' | 'all-shutdown' | 'hang' | 'budget';

/** The machine. */
export class PvhMachine {
  readonly pool: MachineMemory;
  readonly xen: XenHost;
  readonly domains = new Map<number, MachineDomain>();
  /** "domid.vcpu@pcpu" for every slice run. */
  readonly ranOn = new Set<string>();
  time = 0;
  private nextDomid = 1;
  private readonly attn = new Map<Cpu, Int32Array>();
  private readonly flush = new Set<number>();
  private readonly rr: number[];
  /** Local clock of the VCPU running now. */
  private clock = (): number => this.time;

  constructor(
    poolMiB: number,
    readonly pcpus = 1,
    readonly slice = DEFAULT_SLICE,
    strict = true,
  ) {
    this.pool = new MachineMemory(poolMiB * 2 ** 20);
    this.rr = new Array<number>(pcpus).fill(0);
    this.xen = new XenHost(this.pool, {
      now: () => this.clock(),
      wallMs: () => WALL_BASE_MS + this.clock() / 1e6,
      kickVcpu: (domid, v) => {
        const c = this.domains.get(domid)?.cpus[v];
        if (c !== undefined) this.attn.get(c)![0] = 1;
      },
      p2mChanged: (domid) => {
        this.flush.add(domid);
        for (const c of this.domains.get(domid)?.cpus ?? []) this.attn.get(c)![0] = 1;
      },
      vcpuOnline: () => {},
      domainShutdown: (domid, reason) => {
        const d = this.domains.get(domid);
        if (d !== undefined) d.shutdown = reason;
      },
      consoleOutput: (domid, data, source: XenConsoleSource) => {
        const d = this.domains.get(domid);
        if (d === undefined) return;
        const text = new TextDecoder().decode(data);
        if (source === 'pv-console') d.console += text;
        else d.consoleIo += text;
      },
      log: (level, message) => {
        if (level === 'error') throw new Error(message);
      },
    });
    if (strict) this.xen.dispatchOptions = { strict: true };
  }

  /** Builds a domain from `spec`; returns its domid. */
  addDomain(spec: PvhDomainSpec): number {
    const domid = this.nextDomid++;
    const ram = spec.memMiB * 2 ** 20;
    const memory = new DomainMemory(this.pool, spec.name, { ramBytes: ram });
    const nr = spec.vcpus ?? 1;
    const states = new SharedArrayBuffer(nr * STATE_BYTES);
    const features: CpuFeatures = { ...DEFAULT_FEATURES, hypervisor: true };
    const memoryMap = pvhMemoryMap(ram);
    const boot = loadPvhKernel({ kernel: spec.kernel, kernelPath: `${spec.name}.elf`, cmdline: spec.cmdline, modules: spec.modules, memory, memoryMap });
    const xen = this.xen.createDomain({
      domid, name: spec.name, uuid: `00000000-0000-4000-8000-${domid.toString(16).padStart(12, '0')}`, memory, states, nrVcpus: nr,
      features, timeBaseNs: this.time, memoryMap, vbds: spec.vbds, vifs: spec.vifs,
    });
    const d: MachineDomain = {
      domid, name: spec.name, memory, xen, cpus: [], pin: [], console: '', consoleIo: '', shutdown: undefined,
    };
    for (let v = 0; v < nr; v++) {
      const cpu = new Cpu(states, v * STATE_BYTES, memory.physMemory, this.ops(d, v), { features, vcpuId: v });
      const attn = new Int32Array(1);
      cpu.attn = attn;
      this.attn.set(cpu, attn);
      if (v === 0) cpu.init(boot.init);
      else {
        cpu.reset();
        cpu.s[S_RUNNING] = 0;
      }
      d.cpus.push(cpu);
      d.pin.push(spec.pin?.[v] ?? v % this.pcpus);
    }
    this.domains.set(domid, d);
    return domid;
  }

  /** The CpuOps of VCPU `v` of `d`: what the runtime's pCPU loop must provide for PVH. */
  private ops(d: MachineDomain, v: number): CpuOps {
    const self = (): Cpu => d.cpus[v];
    return {
      ioRead: (_p, size) => (size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff),
      ioWrite: () => {},
      mmioRead: (_a, size) => (size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff),
      mmioWrite: () => {},
      rdmsr: (index) => this.xen.readMsr(d.domid, index),
      wrmsr: (index, lo, hi) => this.xen.writeMsr(d.domid, v, index, lo, hi) ?? false,
      cpuid: (leaf, sub, out) => xenCpuid(leaf, sub, out, d.domid, v),
      hypercall: () => {
        const after = this.xen.hypercall(d.domid, v);
        // The VCPU must look at its state: INTR line (upcall), S_HALTED (SCHEDOP_block/poll).
        self().localAttention = true;
        if (after === HcAfter.Reschedule || d.shutdown !== undefined) throw STOP;
        return true;
      },
      acknowledgeInterrupt: () => this.xen.acknowledgeUpcall(d.domid, v),
      attention: () => {
        this.attn.get(self())![0] = 0;
        if (this.flush.has(d.domid)) {
          for (const c of d.cpus) c.afterStateLoad();
          this.flush.delete(d.domid);
        }
        return d.shutdown !== undefined;
      },
      nowNs: () => this.clock(),
    };
  }

  /** True if VCPU `v` of `d` can run now. */
  private runnable(d: MachineDomain, v: number): boolean {
    if (d.shutdown !== undefined) return false;
    const s = d.cpus[v].s;
    if (s[S_RUNNING] === 0) return false;
    return s[S_HALTED] === 0 || this.xen.wakeable(d.domid, v);
  }

  /** Runs until `until()` holds, every domain shut down, nothing can run, or `maxNs` of virtual time. */
  run(opts: { until?: () => boolean; maxNs: number }): PvhRunEnd {
    const stop = this.time + opts.maxNs;
    for (;;) {
      if (opts.until?.()) return 'until';
      if ([...this.domains.values()].every((d) => d.shutdown !== undefined)) return 'all-shutdown';
      if (this.time >= stop) return 'budget';
      const start = this.time;
      let longest = 0;
      for (let p = 0; p < this.pcpus; p++) {
        const cands: [MachineDomain, number][] = [];
        for (const d of this.domains.values()) for (let v = 0; v < d.cpus.length; v++) if (d.pin[v] === p && this.runnable(d, v)) cands.push([d, v]);
        if (cands.length === 0) continue;
        const [d, v] = cands[this.rr[p]++ % cands.length];
        const cpu = d.cpus[v];
        this.ranOn.add(`${d.domid}.${v}@${p}`);
        // As the runtime: a Cpu's caches are only valid on the pCPU that last ran the VCPU, and a
        // state block rewritten behind its back (VCPUOP_initialise clears S_LAST_PCPU) is reloaded.
        if (cpu.s[S_LAST_PCPU] !== p + 1) {
          cpu.afterStateLoad();
          cpu.s[S_LAST_PCPU] = p + 1;
        }
        const i0 = cpu.icount;
        this.clock = () => start + (cpu.icount - i0) * NS_PER_INSTRUCTION;
        this.xen.vcpuScheduled(d.domid, v);
        cpu.localAttention = true;
        const e = cpu.run(i0 + this.slice);
        this.clock = () => this.time;
        longest = Math.max(longest, (cpu.icount - i0) * NS_PER_INSTRUCTION, 1);
        if (e === RunExit.Shutdown) d.shutdown = 'triple-fault';
      }
      if (longest === 0) {
        const next = this.xen.nextDeadline();
        if (next === Infinity) return 'hang';
        this.time = Math.max(this.time + 1, next);
      } else {
        this.time = start + longest;
      }
      this.xen.runTimers();
      this.xen.service();
    }
  }

  /**
   * Saves a domain as the runtime's save image holds it: its own pages (not the Xen overlays),
   * its VCPU state blocks and XenHost.saveDomain(). The domain keeps running until destroyed.
   */
  saveDomain(domid: number): PvhSavedDomain {
    const d = this.domain(domid);
    const xen = this.xen.saveDomain(domid);
    const pages = new Map<number, Uint8Array>();
    for (let g = 0; g < P2M_ENTRIES; g++) if (d.memory.p2m[g] !== 0 && d.xen.physmap.isOwnRam(g)) pages.set(g, d.memory.read(g * 4096, 4096));
    const states = new Uint8Array(d.cpus[0].s.buffer as SharedArrayBuffer).slice();
    return { name: d.name, memMiB: d.memory.ramSize / 2 ** 20, pin: [...d.pin], pages, states, xen };
  }

  /** Rebuilds a saved domain under its saved domid (no loader: memory and registers are the image's). */
  restoreDomain(saved: PvhSavedDomain, opts: { vbds?: readonly VbdConfig[]; vifs?: readonly VifConfig[]; pin?: readonly number[] } = {}): number {
    const domid = saved.xen.domid;
    if (this.domains.has(domid)) throw new Error(`domain ${domid} exists`);
    const ram = saved.memMiB * 2 ** 20;
    const memory = new DomainMemory(this.pool, saved.name, { ramBytes: ram });
    for (const [g, data] of saved.pages) {
      if (!memory.isRam(g * 4096, 4096)) memory.populate(g);
      memory.write(g * 4096, data);
    }
    const states = new SharedArrayBuffer(saved.states.length);
    new Uint8Array(states).set(saved.states);
    const nr = states.byteLength / STATE_BYTES;
    const features: CpuFeatures = { ...DEFAULT_FEATURES, hypervisor: true };
    let xen: XenDomain;
    try {
      xen = this.xen.createDomain(
        {
          domid, name: saved.name, uuid: `00000000-0000-4000-8000-${domid.toString(16).padStart(12, '0')}`, memory, states, nrVcpus: nr,
          features, timeBaseNs: this.time, memoryMap: pvhMemoryMap(ram), vbds: opts.vbds, vifs: opts.vifs,
        },
        saved.xen,
      );
    } catch (e) {
      memory.release();
      throw e;
    }
    const d: MachineDomain = { domid, name: saved.name, memory, xen, cpus: [], pin: [], console: '', consoleIo: '', shutdown: undefined };
    for (let v = 0; v < nr; v++) {
      const cpu = new Cpu(states, v * STATE_BYTES, memory.physMemory, this.ops(d, v), { features, vcpuId: v });
      const attn = new Int32Array(1);
      cpu.attn = attn;
      this.attn.set(cpu, attn);
      // Registers came from the image: the pCPU that runs it first reloads them.
      cpu.s[S_LAST_PCPU] = 0;
      d.cpus.push(cpu);
      d.pin.push(opts.pin?.[v] ?? saved.pin[v] ?? v % this.pcpus);
    }
    this.domains.set(domid, d);
    this.nextDomid = Math.max(this.nextDomid, domid + 1);
    return domid;
  }

  /** The domain `domid`. */
  domain(domid: number): MachineDomain {
    const d = this.domains.get(domid);
    if (d === undefined) throw new Error(`no domain ${domid}`);
    return d;
  }

  /** Destroys a domain (Xen state first, then its memory). */
  destroy(domid: number): void {
    const d = this.domain(domid);
    this.xen.destroyDomain(domid);
    d.memory.release();
    this.domains.delete(domid);
  }
}

/** "PASS x" / "FAIL x: why" lines of a guest's console, and its DONE line. */
export function guestResults(text: string): { pass: string[]; fail: string[]; done: boolean } {
  const pass: string[] = [];
  const fail: string[] = [];
  let done = false;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('PASS ')) pass.push(line.slice(5));
    else if (line.startsWith('FAIL ')) fail.push(line.slice(5));
    else if (line.startsWith('DONE ')) done = true;
  }
  return { pass, fail, done };
}

/**
 * The Xen interface of the whole engine: every PVH domain's Xen state, the xenstore daemon, the
 * console and block back ends, and the entry points the runtime calls from the hypervisor
 * thread (hypercalls, MSRs, interrupt acknowledge, timers) - see docs/xen-abi.md for the wiring.
 *
 * Design. The host plays "domain 0": the toolstack that builds domains (special pages, event
 * channels, xenstore nodes, back ends) and the back ends themselves. Domains reach each other
 * only through event channels and grants, both checked here. The runtime tells the host about
 * time (XenHostOps.now) and is told when a VCPU needs attention (kickVcpu), when a P2M changed
 * (p2mChanged: flush pCPU translations), when VCPUs come and go and when a domain shuts down.
 *
 * Concurrency. All methods run on the hypervisor thread. Guest-shared words are changed with
 * Atomics (shared-info.ts, rings, grant entries).
 */
import type { MachineMemory } from '../memory/machine-memory';
import { FRAME_SIZE } from '../memory/machine-memory';
import { S_RUNNING } from '../../cpu/state';
import {
  DOMID_0, HVM_PARAM_CONSOLE_EVTCHN, HVM_PARAM_CONSOLE_PFN, HVM_PARAM_PAE_ENABLED, HVM_PARAM_STORE_EVTCHN,
  HVM_PARAM_STORE_PFN, SHUTDOWN_NAMES, SPECIAL_PFN_BASE, SPECIAL_PFN_COUNT, CONSOLE_PFN, XENSTORE_PFN,
  type XenShutdownReason,
} from './abi/xen-constants';
import { EINVAL, XenFault, xenCheck } from './abi/xen-errno';
import { acquireGrant, releaseGrant, unmapAll, type GrantEnv } from './grant-mapping';
import { PinnedFrames } from './physmap';
import { XenDomain, type XenDomainConfig } from './xen-domain';
import type { XenVcpu } from './xen-vcpu';
import type { BackendEndpoint } from './event-channels';
import { dispatchHypercall, type DispatchOptions } from './hypercalls/dispatch';
import type { HcAfter } from './hypercalls/types';
import { writeHypercallMsr, XEN_HYPERCALL_MSR } from './cpuid-msr';
import { VCPU_INFO_BYTES } from './shared-info';
import { XenstoreServer } from './xenstore/xs-server';
import { XenstoreTool } from './xenstore/xs-tool';
import { XsRingConnection } from './xenstore/xs-ring';
import { ConsoleBackend } from './backends/console-backend';
import { BlkBackend, type VbdConfig } from './backends/blkback';
import type { BackendEnv } from './backends/backend-env';
import { writeVifNodes, type VifConfig } from './backends/vif-nodes';
import { buildDomainNodes } from './xenstore/xs-domain-nodes';
import type { XenSaveState } from './save/xen-save-state';
import { backendEndpointOf, checkXenSave, restoreXenState, saveXenState, type XenRestoreEnv } from './save/xen-host-save';

/** Where console text came from. */
export type XenConsoleSource = 'pv-console' | 'console_io';

/** What the runtime provides to the Xen interface. */
export interface XenHostOps {
  /** Monotonic host time in ns (the clock RDTSC derives from). */
  now(): number;
  /** Wall-clock time in ms since the epoch. */
  wallMs(): number;
  /**
   * VCPU `vcpu` of `domid` needs attention: if a pCPU runs it, make it look at its state block
   * (ATTN_EVENT); if it is blocked, wake it when XenHost.wakeable() says so.
   */
  kickVcpu(domid: number, vcpu: number): void;
  /** The domain's P2M changed: pCPUs running it must flush their translations (ATTN_FLUSH). */
  p2mChanged(domid: number): void;
  /** A VCPU went online (VCPUOP_up) or offline (VCPUOP_down): tell the scheduler. */
  vcpuOnline(domid: number, vcpu: number, online: boolean): void;
  /** The guest asked to shut down (SCHEDOP_shutdown). */
  domainShutdown(domid: number, reason: XenShutdownReason): void;
  /** Console text of a domain (PV console ring or console_io). */
  consoleOutput(domid: number, data: Uint8Array, source: XenConsoleSource): void;
  /** Engine log. */
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
}

/** What the toolstack gives beyond XenDomainConfig. */
export interface XenDomainSetup extends XenDomainConfig {
  /** The domain UUID (XENVER_guest_handle, /vm path). */
  readonly uuid: string;
  /** Virtual block devices to serve. */
  readonly vbds?: readonly VbdConfig[];
  /** Network devices (xenstore nodes only: there is no netback yet). */
  readonly vifs?: readonly VifConfig[];
}

/** Per-domain engine-side state: back ends and the xenstore ring connection. */
export interface DomainBackends {
  readonly store: XsRingConnection;
  readonly console: ConsoleBackend;
  readonly vbds: BlkBackend[];
  readonly storeEndpoint: BackendEndpoint;
  readonly consoleEndpoint: BackendEndpoint;
  readonly uuid: string;
}

/** The engine's Xen. */
export class XenHost implements GrantEnv {
  readonly pinned = new PinnedFrames();
  readonly domains = new Map<number, XenDomain>();
  readonly xenstore: XenstoreServer;
  /** Domain 0's xenstore client (toolstack, CLI verbs, back ends). */
  readonly xs: XenstoreTool;
  private readonly backends = new Map<number, DomainBackends>();
  private nextBackendPort = 1;
  /** Dispatch options (tests set strict). */
  dispatchOptions: DispatchOptions;

  constructor(
    readonly pool: MachineMemory,
    readonly ops: XenHostOps,
  ) {
    this.xenstore = new XenstoreServer((m) => ops.log('info', m));
    this.xs = new XenstoreTool(this.xenstore);
    this.dispatchOptions = { onBug: (m) => ops.log('error', `engine bug in a hypercall: ${m}`) };
    this.xs.write('/local/domain/0/name', 'Domain-0');
    this.xs.write('/local/domain/0/domid', '0');
  }

  /** GrantEnv: the Xen state of `domid`. */
  domain(domid: number): XenDomain | undefined {
    return this.domains.get(domid);
  }

  private mustDomain(domid: number): XenDomain {
    const d = this.domains.get(domid);
    if (d === undefined) throw new Error(`Xen: no PVH domain ${domid}`);
    return d;
  }

  /**
   * Makes domain `cfg.domid` Xen-capable: shared_info, grant table, special pages (console and
   * xenstore rings), their event channels and HVM parameters, xenstore nodes, back ends. With
   * `saved` (a save image's Xen state, see save/), the domain gets that state back instead of
   * fresh state: its memory and VCPU registers must already hold the image. Whatever fails leaves
   * no Xen state behind.
   */
  createDomain(cfg: XenDomainSetup, saved?: XenSaveState): XenDomain {
    if (saved !== undefined) checkXenSave(saved, cfg);
    const now = this.ops.now();
    if (saved === undefined) for (let g = SPECIAL_PFN_BASE; g < SPECIAL_PFN_BASE + SPECIAL_PFN_COUNT; g++) cfg.memory.populate(g);
    const d = new XenDomain(
      {
        ...cfg,
        maxPages: Math.max(cfg.maxPages ?? 0, cfg.memory.currentPages),
        // A restored domain's system time continues from where it was saved.
        timeBaseNs: saved === undefined ? cfg.timeBaseNs : now - saved.systemNs,
      },
      this.pinned,
      {
        kick: (v) => this.ops.kickVcpu(cfg.domid, v),
        p2mChanged: () => this.ops.p2mChanged(cfg.domid),
        peer: (id) => (id === DOMID_0 ? undefined : this.domains.get(id)?.evtchn),
      },
    );
    this.domains.set(cfg.domid, d);
    try {
      this.attach(d, cfg, saved, now);
    } catch (e) {
      this.destroyDomain(cfg.domid);
      throw e;
    }
    return d;
  }

  /** createDomain's second half: rings, ports, back ends and xenstore, fresh or from `saved`. */
  private attach(d: XenDomain, cfg: XenDomainSetup, saved: XenSaveState | undefined, now: number): void {
    const pool = this.pool;
    const frameOf = (gfn: number) => () => {
      const f = d.physmap.frameAt(gfn);
      return f < 0 ? -1 : f * FRAME_SIZE;
    };
    const storeEndpoint: BackendEndpoint = { port: this.nextBackendPort++, notify: () => this.backends.get(cfg.domid)?.store.service() };
    const consoleEndpoint: BackendEndpoint = { port: this.nextBackendPort++, notify: () => this.backends.get(cfg.domid)?.console.service() };
    let storePort = 0;
    let consolePort = 0;
    const mem = { mem8: pool.mem8, mem32: pool.mem32, codeMark: pool.codeMark, codeGen: pool.codeGen };
    const store = new XsRingConnection(this.xenstore, cfg.domid, pool.mem8, pool.mem32, pool.codeMark, pool.codeGen, {
      ringOffset: frameOf(XENSTORE_PFN),
      notify: () => d.evtchn.raiseFromBackend(storePort, storeEndpoint),
    });
    const console = new ConsoleBackend(mem, frameOf(CONSOLE_PFN), () => d.evtchn.raiseFromBackend(consolePort, consoleEndpoint), (b) =>
      this.ops.consoleOutput(cfg.domid, b, 'pv-console'),
    );
    const be: DomainBackends = { store, console, vbds: [], storeEndpoint, consoleEndpoint, uuid: cfg.uuid };
    this.backends.set(cfg.domid, be);
    for (const v of cfg.vbds ?? []) be.vbds.push(new BlkBackend(this.backendEnv(), cfg.domid, v));
    if (saved !== undefined) {
      [storePort, consolePort] = restoreXenState(this.restoreEnv(be), d, be, saved, now);
      d.writeWallclock(this.ops.wallMs() * 1e6, now);
      return;
    }
    d.vcpus[0].initialised = true;
    XsRingConnection.initialise(pool.mem8, pool.mem32, frameOf(XENSTORE_PFN)());
    ConsoleBackend.initialise(pool.mem8, frameOf(CONSOLE_PFN)());
    storePort = d.evtchn.bindBackend(storeEndpoint);
    consolePort = d.evtchn.bindBackend(consoleEndpoint);
    d.params.set(HVM_PARAM_STORE_PFN, [XENSTORE_PFN, 0]);
    d.params.set(HVM_PARAM_STORE_EVTCHN, [storePort, 0]);
    d.params.set(HVM_PARAM_CONSOLE_PFN, [CONSOLE_PFN, 0]);
    d.params.set(HVM_PARAM_CONSOLE_EVTCHN, [consolePort, 0]);
    d.params.set(HVM_PARAM_PAE_ENABLED, [cfg.features.pae ? 1 : 0, 0]);
    buildDomainNodes(this.xs, {
      domid: cfg.domid, name: cfg.name, uuid: cfg.uuid, memoryKiB: (cfg.memory.ramSize / 1024) | 0, vcpus: cfg.nrVcpus,
      storePort, consolePort, storePfn: XENSTORE_PFN, consolePfn: CONSOLE_PFN,
    });
    this.xenstore.introduceDomain(cfg.domid);
    (cfg.vifs ?? []).forEach((v, n) => writeVifNodes(this.xs, cfg.domid, n, v));
    for (const b of be.vbds) b.start();
    d.writeWallclock(this.ops.wallMs() * 1e6, now);
  }

  /**
   * The Xen state of a paused PVH domain for a save image (save/xen-save-state.ts): everything
   * but its RAM contents and VCPU registers. Console output still in its ring is passed on first.
   */
  saveDomain(domid: number): XenSaveState {
    const d = this.mustDomain(domid);
    const be = this.backends.get(domid);
    if (be === undefined) throw new Error(`Xen: domain ${domid} has no back ends`);
    be.console.service();
    return saveXenState(d, be, this.xenstore, this.ops.now());
  }

  private restoreEnv(be: DomainBackends): XenRestoreEnv {
    return {
      pool: this.pool,
      pinned: this.pinned,
      domain: (id) => this.domains.get(id),
      xs: this.xs,
      xenstore: this.xenstore,
      endpoint: (ref) => backendEndpointOf(be, ref),
    };
  }

  /**
   * Tears down a domain's Xen state. Call BEFORE releasing its DomainMemory: overlays and
   * foreign mappings leave its P2M, frames other domains still map are handed over to them.
   */
  destroyDomain(domid: number): void {
    const d = this.domains.get(domid);
    if (d === undefined) return;
    d.dying = true;
    const be = this.backends.get(domid);
    if (be !== undefined) {
      for (const b of be.vbds) b.stop();
      be.console.service();
      be.store.close();
      this.backends.delete(domid);
    }
    this.xenstore.releaseDomain(domid);
    unmapAll(this, d);
    // Frames of this domain that others map stay theirs until unmapped.
    for (const other of this.domains.values()) {
      for (const m of other.maptrack.values()) {
        if (m.grantor !== domid || d.memory.p2m[m.grantorGfn] !== m.frame + 1 || !d.physmap.isOwnRam(m.grantorGfn)) continue;
        Atomics.store(d.memory.p2m, m.grantorGfn, 0);
        this.pinned.orphan(m.frame);
      }
    }
    for (const vc of d.vcpus) {
      if (vc.registeredGfn >= 0) this.pinned.unpin(d.physmap.frameAt(vc.registeredGfn));
    }
    d.evtchn.closeAll();
    d.physmap.dropOverlays();
    d.grants.release();
    this.pool.free([d.sharedInfoFrame]);
    this.domains.delete(domid);
  }

  // ---- runtime entry points

  /** Serves VCPU `vcpu`'s hypercall (REQ_HYPERCALL): registers in, EAX out. */
  hypercall(domid: number, vcpu: number): HcAfter {
    return dispatchHypercall(this, this.mustDomain(domid), vcpu, this.ops.now(), this.dispatchOptions);
  }

  /** RDMSR of a Xen MSR: [lo, hi], or undefined if `index` is not one (the CPU raises #GP). */
  readMsr(domid: number, index: number): [number, number] | undefined {
    void domid;
    return index >>> 0 === XEN_HYPERCALL_MSR ? [0, 0] : undefined;
  }

  /** WRMSR of a Xen MSR: true if accepted, false to raise #GP, undefined if not a Xen MSR. */
  writeMsr(domid: number, vcpu: number, index: number, lo: number, hi: number): boolean | undefined {
    if (index >>> 0 !== XEN_HYPERCALL_MSR) return undefined;
    return writeHypercallMsr(this.mustDomain(domid), vcpu, lo, hi);
  }

  /** The interrupt acknowledge of a PVH VCPU (REQ_INTA): the upcall vector, or -1. */
  acknowledgeUpcall(domid: number, vcpu: number): number {
    return this.domains.get(domid)?.acknowledgeUpcall(vcpu) ?? -1;
  }

  /** True if an upcall is pending for the VCPU (evtchn_upcall_pending in its vcpu_info). */
  upcallPending(domid: number, vcpu: number): boolean {
    return this.domains.get(domid)?.upcallPending(vcpu) ?? false;
  }

  /** The callback vector of the VCPU (0: none set). */
  upcallVector(domid: number, vcpu: number): number {
    return this.domains.get(domid)?.upcallVector(vcpu) ?? 0;
  }

  /** True if a halted VCPU has something to do (see XenDomain.wakeable). */
  wakeable(domid: number, vcpu: number): boolean {
    return this.domains.get(domid)?.wakeable(vcpu) ?? false;
  }

  /** True if a halted VCPU can never run again (see XenDomain.haltIsFinal). */
  haltIsFinal(domid: number, vcpu: number): boolean {
    return this.domains.get(domid)?.haltIsFinal(vcpu) ?? true;
  }

  /** Call when a VCPU is put on a pCPU: refreshes its time record and INTR line. */
  vcpuScheduled(domid: number, vcpu: number): void {
    const d = this.domains.get(domid);
    if (d === undefined) return;
    d.refreshTime(vcpu, this.ops.now());
    d.syncUpcallLine(vcpu);
  }

  /** Earliest Xen timer deadline (host ns), Infinity if none. */
  nextDeadline(): number {
    let t = Infinity;
    for (const d of this.domains.values()) t = Math.min(t, d.nextDeadline());
    return t;
  }

  /** Fires the timers due now. */
  runTimers(): void {
    const now = this.ops.now();
    for (const d of this.domains.values()) d.runTimers(now);
  }

  /** Periodic work (every loop iteration): drains console rings written without a notify. */
  service(): void {
    for (const be of this.backends.values()) be.console.service();
  }

  /** Keyboard input for a domain's PV console. */
  consoleInput(domid: number, data: Uint8Array): void {
    this.backends.get(domid)?.console.input(data);
  }

  /**
   * `domus shutdown` / `reboot`: asks the guest to shut down by writing control/shutdown (the
   * guest acknowledges by writing "" and calls SCHEDOP_shutdown).
   */
  requestShutdown(domid: number, reason: 'poweroff' | 'reboot' | 'suspend' | 'halt' | 'crash'): void {
    this.mustDomain(domid);
    this.xs.write(`/local/domain/${domid}/control/shutdown`, reason);
  }

  /**
   * `xl vcpu-set` for a PV-aware guest (libxl_set_vcpuonline): cpu/<n>/availability becomes
   * "online" below `online` and "offline" from there up to the domain's VCPU count; the guest
   * watches the nodes and takes its VCPUs up and down itself (VCPUOP_up/down).
   */
  setVcpuAvailability(domid: number, online: number): void {
    const d = this.mustDomain(domid);
    for (let v = 0; v < d.vcpus.length; v++) this.xs.write(`/local/domain/${domid}/cpu/${v}/availability`, v < online ? 'online' : 'offline');
  }

  /** `xl mem-set` (libxl_set_memory_target): the balloon driver's target, memory/target in KiB. */
  setMemoryTarget(domid: number, kib: number): void {
    this.mustDomain(domid);
    this.xs.write(`/local/domain/${domid}/memory/target`, String(kib));
  }

  /**
   * `xl mem-max` (XEN_DOMCTL_max_mem, libxl_domain_setmaxmem): the most pages the domain may
   * populate from now on (pages it already has stay), and memory/static-max.
   */
  setMaxPages(domid: number, pages: number): void {
    const d = this.mustDomain(domid);
    d.physmap.maxPages = pages;
    this.xs.write(`/local/domain/${domid}/memory/static-max`, String(pages * 4));
  }

  // ---- called by hypercall handlers

  /** Console text from a guest. */
  consoleOutput(domid: number, data: Uint8Array, source: XenConsoleSource): void {
    this.ops.consoleOutput(domid, data, source);
  }

  /** The 16-byte domain handle (UUID) for XENVER_guest_handle. */
  domainHandle(domid: number): Uint8Array {
    const hex = (this.backends.get(domid)?.uuid ?? '').replace(/-/g, '').padEnd(32, '0').slice(0, 32);
    const out = new Uint8Array(16);
    for (let k = 0; k < 16; k++) out[k] = parseInt(hex.slice(k * 2, k * 2 + 2), 16) || 0;
    return out;
  }

  /** XENMAPSPACE_shared_info: shows the shared_info page at `gfn`. */
  mapSharedInfo(d: XenDomain, gfn: number, vcpu: number): void {
    const old = d.physmap.gfnOf(d.sharedInfoFrame);
    if (old === gfn) return;
    if (old >= 0) d.physmap.clear(old);
    d.physmap.mapOverlay(gfn, 'shared-info', d.sharedInfoFrame);
    d.latchWidth(vcpu);
    const now = this.ops.now();
    d.writeWallclock(this.ops.wallMs() * 1e6, now);
    for (const vc of d.vcpus) d.refreshTime(vc.id, now);
  }

  /** SCHEDOP_shutdown. */
  shutdownDomain(d: XenDomain, reason: number): void {
    if (d.shutdownCode !== undefined) return;
    d.shutdownCode = reason;
    this.backends.get(d.domid)?.console.service();
    this.ops.domainShutdown(d.domid, SHUTDOWN_NAMES[reason] ?? 'crash');
  }

  /** VCPUOP_up / VCPUOP_down. */
  setVcpuOnline(d: XenDomain, vcpu: number, online: boolean): void {
    d.vcpus[vcpu].s[S_RUNNING] = online ? 1 : 0;
    this.ops.vcpuOnline(d.domid, vcpu, online);
  }

  /** VCPUOP_register_vcpu_info: moves VCPU `vc`'s vcpu_info into guest frame `gfn`. */
  registerVcpuInfo(d: XenDomain, vc: XenVcpu, gfn: number, offset: number): void {
    xenCheck(vc.registeredGfn < 0, EINVAL, 'vcpu_info is already registered');
    xenCheck(offset <= FRAME_SIZE - VCPU_INFO_BYTES && offset % 8 === 0, EINVAL, `offset ${offset}`);
    xenCheck(d.physmap.isOwnRam(gfn), EINVAL, `gfn 0x${gfn.toString(16)} is not RAM of the domain`);
    const frame = d.physmap.frameAt(gfn);
    const newOff = frame * FRAME_SIZE + offset;
    const mem8 = this.pool.mem8;
    if (vc.vcpuInfoOff >= 0) mem8.copyWithin(newOff, vc.vcpuInfoOff, vc.vcpuInfoOff + VCPU_INFO_BYTES);
    else mem8.fill(0, newOff, newOff + VCPU_INFO_BYTES);
    this.pinned.pin(frame);
    vc.registeredGfn = gfn;
    vc.vcpuInfoOff = newOff;
    // As Xen: mark everything pending so the guest rescans its ports.
    const sel = newOff + (d.width === 32 ? 4 : 8);
    Atomics.store(this.pool.mem32, sel >> 2, -1);
    if (d.width === 64) Atomics.store(this.pool.mem32, (sel >> 2) + 1, -1);
    Atomics.store(mem8, newOff, 1);
    d.refreshTime(vc.id, this.ops.now());
    d.assertUpcall(vc.id);
  }

  /** Kicks a VCPU (NMI sent, upcall raised). */
  kick(d: XenDomain, vcpu: number): void {
    this.ops.kickVcpu(d.domid, vcpu);
  }

  private backendEnv(): BackendEnv {
    return {
      pool: this.pool,
      xs: this.xs,
      acquireGrant: (domid, ref, write) => acquireGrant(this, domid, ref, DOMID_0, write),
      releaseGrant: (domid, ref, write, frame) => releaseGrant(this, domid, ref, write, frame),
      attachPort: (domid, port, ep) => {
        const d = this.domains.get(domid);
        if (d === undefined) throw new XenFault(EINVAL, `no domain ${domid}`);
        d.evtchn.attachBackend(port, ep);
      },
      raisePort: (domid, port, ep) => this.domains.get(domid)?.evtchn.raiseFromBackend(port, ep),
      detachPort: (domid, port, ep) => this.domains.get(domid)?.evtchn.detachBackend(port, ep),
      allocBackendPort: () => this.nextBackendPort++,
      log: (m) => this.ops.log('warn', m),
    };
  }
}

/**
 * A domain as the Xen interface sees it: its VCPUs' Xen state, the shared_info page, event
 * channels, grant table, HVM parameters, guest-physical map edits and timers. The runtime keeps
 * its own HvDomain (scheduling, exits, console streams) and owns one of these per PVH domain.
 *
 * Design. Raising an event is the 2-level algorithm of Xen's evtchn_2l_set_pending: set the
 * pending bit; if it was clear and the port is unmasked, set the selector bit in the target
 * VCPU's vcpu_info; if that was clear, set evtchn_upcall_pending. The upcall is delivered as the
 * callback vector (HVM_PARAM_CALLBACK_IRQ type 2, or the VCPU's own vector) through the CPU's
 * external-interrupt path: the VCPU's INTR line (S_INTR_LINE) is raised and follows
 * upcall_pending like a level - acknowledgeUpcall() re-reads upcall_pending at each interrupt
 * window and drops the line once the guest has cleared it. evtchn_upcall_mask is ignored for
 * vector delivery, as in Xen (PVH guests mask with EFLAGS.IF).
 *
 * Concurrency. Everything here runs on the hypervisor thread. The words it shares with the guest
 * (shared_info, vcpu_info) are changed with Atomics; S_INTR_LINE and S_HALTED in the VCPU state
 * block are written here and read by the pCPU running the VCPU after it is kicked.
 */
import type { CpuFeatures } from '../../cpu/cpuid';
import { IF, S_EFLAGS, S_HALTED, S_INTR_LINE, S_MSR_EFER, S_NMI_PENDING } from '../../cpu/state';
import type { DomainMemory } from '../memory/domain-memory';
import { FRAME_SIZE } from '../memory/machine-memory';
import type { E820Entry } from '../../boot/e820';
import type { GuestWidth } from './abi/layouts';
import type { GrantMapRecord } from './grant-mapping';
import {
  CALLBACK_TYPE_SHIFT_HI, DEFAULT_MAX_EVTCHN_PORTS, DEFAULT_MAX_GRANT_FRAMES, HVM_PARAM_CALLBACK_IRQ,
  HVM_PARAM_CALLBACK_TYPE_VECTOR, INITIAL_GRANT_FRAMES, VIRQ_TIMER, XEN_LEGACY_MAX_VCPUS,
} from './abi/xen-constants';
import { EventChannels } from './event-channels';
import { GrantTable } from './grant-table';
import { Physmap, type PinnedFrames } from './physmap';
import { evtchn2lPorts, SharedInfoPage, testAndSetUpcallPending, upcallPending, writeVcpuTime } from './shared-info';
import { XenVcpu } from './xen-vcpu';

/** EFER.LMA: the VCPU is in long mode (its shared_info layout is then 64-bit). */
const EFER_LMA = 1 << 10;
const TWO32 = 4294967296;
/** Hypercall numbers counted one by one; larger (invalid) ones are counted together as -1. */
const HYPERCALL_COUNT_SLOTS = 64;

/** What the toolstack gives to make a domain Xen-capable. */
export interface XenDomainConfig {
  readonly domid: number;
  readonly name: string;
  readonly memory: DomainMemory;
  /** The VCPU state blocks (STATE_BYTES each). */
  readonly states: SharedArrayBuffer;
  readonly nrVcpus: number;
  readonly features: CpuFeatures;
  /** Host ns at which the domain's system time is 0 (its creation). */
  readonly timeBaseNs: number;
  /** Xen's max_pages (default: the RAM plus the special pages populated at creation). */
  readonly maxPages?: number;
  /** xl max_event_channels (default 1023). */
  readonly maxEvtchnPorts?: number;
  /** xl max_grant_frames (default 64). */
  readonly maxGrantFrames?: number;
  /** The memory map handed to the guest (hvm_start_info and XENMEM_memory_map). */
  readonly memoryMap?: readonly E820Entry[];
}

/** Callbacks from a domain to whoever runs its VCPUs. */
export interface XenDomainHooks {
  /** VCPU `v` may need to run or look at its INTR line (see XenHostOps.kickVcpu). */
  kick(v: number): void;
  /** The P2M changed: translations cached by pCPUs must be dropped. */
  p2mChanged(): void;
  /** Another domain's event channels (interdomain ports). */
  peer(domid: number): EventChannels | undefined;
}

/** One domain's Xen state. */
export class XenDomain {
  readonly domid: number;
  readonly name: string;
  readonly memory: DomainMemory;
  readonly vcpus: XenVcpu[] = [];
  readonly shared: SharedInfoPage;
  /** Machine frame of the shared_info page (owned here). */
  readonly sharedInfoFrame: number;
  readonly evtchn: EventChannels;
  readonly grants: GrantTable;
  readonly physmap: Physmap;
  readonly timeBaseNs: number;
  /** What the domain's VCPUs implement. */
  readonly features: CpuFeatures;
  /** HVM parameters: index -> [low word, high word]. */
  readonly params = new Map<number, [number, number]>();
  /** Set once the guest asked to shut down (SHUTDOWN_* code). */
  shutdownCode: number | undefined;
  /** SCHEDOP_shutdown_code: the reason a later shutdown will report. */
  pendingShutdownCode: number | undefined;
  /** Being destroyed: no new grant uses. */
  dying = false;
  /** The E820 map the guest was given (XENMEM_memory_map). */
  readonly memoryMap: readonly E820Entry[];
  /** Host grant mappings this domain made: handle -> mapping. */
  readonly maptrack = new Map<number, GrantMapRecord>();
  /** Next maptrack handle. */
  nextHandle = 0;
  /** Hypercalls made, by number (statistics; -1 = numbers beyond the table). */
  readonly hypercalls = new Map<number, number>();
  /** The shared_info layout width has been latched. */
  private widthLatched = false;

  constructor(
    cfg: XenDomainConfig,
    pinned: PinnedFrames,
    private readonly hooks: XenDomainHooks,
  ) {
    this.domid = cfg.domid;
    this.name = cfg.name;
    this.memory = cfg.memory;
    this.timeBaseNs = cfg.timeBaseNs;
    this.memoryMap = cfg.memoryMap ?? [];
    this.features = cfg.features;
    const pool = cfg.memory.pool;
    for (let v = 0; v < cfg.nrVcpus; v++) this.vcpus.push(new XenVcpu(v, cfg.states, cfg.memory, cfg.features));
    [this.sharedInfoFrame] = pool.allocate(1, `shared_info of ${cfg.name}`);
    this.shared = new SharedInfoPage(pool.mem8, pool.mem32, this.sharedInfoFrame * FRAME_SIZE);
    for (let v = 0; v < Math.min(cfg.nrVcpus, XEN_LEGACY_MAX_VCPUS); v++) this.vcpus[v].vcpuInfoOff = this.shared.vcpuInfoOffset(v);
    this.physmap = new Physmap(cfg.memory, pinned, cfg.maxPages ?? cfg.memory.currentPages, () => hooks.p2mChanged());
    const maxPort = Math.min(cfg.maxEvtchnPorts ?? DEFAULT_MAX_EVTCHN_PORTS, evtchn2lPorts(32) - 1);
    this.evtchn = new EventChannels(
      { domid: cfg.domid, nrVcpus: cfg.nrVcpus, deliver: (p, v) => this.deliver(p, v), peer: (d) => hooks.peer(d) },
      maxPort,
    );
    this.grants = new GrantTable(pool, cfg.name, cfg.maxGrantFrames ?? DEFAULT_MAX_GRANT_FRAMES);
    this.grants.grow(INITIAL_GRANT_FRAMES);
  }

  /** Guest system time (ns since the time base) at host time `nowNs`. */
  systemTime(nowNs: number): number {
    return nowNs - this.timeBaseNs;
  }

  /** Host time of guest system time `ns`. */
  hostTime(systemNs: number): number {
    return systemNs + this.timeBaseNs;
  }

  /** The layout width of shared_info. */
  get width(): GuestWidth {
    return this.shared.width;
  }

  /**
   * Latches the shared_info width from VCPU `v`'s mode (hypercall-page MSR write, CALLBACK_IRQ):
   * 64-bit if it is in long mode now, else 32-bit.
   */
  latchWidth(v: number): void {
    if (this.widthLatched) return;
    this.widthLatched = true;
    this.shared.width = (this.vcpus[v].s[S_MSR_EFER] & EFER_LMA) !== 0 ? 64 : 32;
  }

  /** True once the shared_info width is latched (save images). */
  get widthIsLatched(): boolean {
    return this.widthLatched;
  }

  /** Sets the shared_info width and whether it is latched, as a save image recorded them. */
  restoreWidth(width: GuestWidth, latched: boolean): void {
    this.shared.width = width;
    this.widthLatched = latched;
  }

  /** Counts one hypercall `nr` (numbers beyond the table under -1). */
  countHypercall(nr: number): void {
    const key = nr < HYPERCALL_COUNT_SLOTS ? nr : -1;
    this.hypercalls.set(key, (this.hypercalls.get(key) ?? 0) + 1);
  }

  // ---- events and upcalls

  /** Raises `port` for VCPU `v` (2-level ABI, see the file comment). */
  deliver(port: number, v: number): void {
    const sh = this.shared;
    if (sh.testAndSetPending(port)) return;
    this.checkPollers(port);
    if (sh.isMasked(port)) return;
    const vc = this.vcpus[v];
    if (vc === undefined || vc.vcpuInfoOff < 0) return;
    if (sh.testAndSetSelector(vc.vcpuInfoOff, port)) return;
    testAndSetUpcallPending(this.memory.pool.mem8, vc.vcpuInfoOff);
    this.assertUpcall(v);
  }

  /** EVTCHNOP_unmask (evtchn_2l_unmask): clears the mask and re-raises a pending port. */
  unmask(port: number): void {
    const sh = this.shared;
    sh.clearMask(port);
    const c = this.evtchn.get(port);
    const vc = this.vcpus[c?.vcpu ?? 0];
    if (!sh.isPending(port) || vc.vcpuInfoOff < 0) return;
    if (sh.testAndSetSelector(vc.vcpuInfoOff, port)) return;
    testAndSetUpcallPending(this.memory.pool.mem8, vc.vcpuInfoOff);
    this.assertUpcall(vc.id);
  }

  /** Wakes a VCPU in SCHEDOP_poll on `port`. */
  private checkPollers(port: number): void {
    for (const vc of this.vcpus) {
      if (vc.pollPorts?.includes(port)) this.endPoll(vc);
    }
  }

  /** Ends a poll: the VCPU runs again (the hypercall already returned 0). */
  endPoll(vc: XenVcpu): void {
    vc.pollPorts = null;
    vc.pollUntil = Infinity;
    vc.s[S_HALTED] = 0;
    this.hooks.kick(vc.id);
  }

  /** The IDT vector upcalls of VCPU `v` use, or 0 if the guest set none. */
  upcallVector(v: number): number {
    const own = this.vcpus[v]?.upcallVector ?? 0;
    if (own !== 0) return own;
    const p = this.params.get(HVM_PARAM_CALLBACK_IRQ);
    if (p === undefined || p[1] >>> CALLBACK_TYPE_SHIFT_HI !== HVM_PARAM_CALLBACK_TYPE_VECTOR) return 0;
    return p[0] & 0xff;
  }

  /** True if evtchn_upcall_pending is set for VCPU `v`. */
  upcallPending(v: number): boolean {
    const vc = this.vcpus[v];
    return vc !== undefined && vc.vcpuInfoOff >= 0 && upcallPending(this.memory.pool.mem8, vc.vcpuInfoOff);
  }

  /** Raises VCPU `v`'s INTR line if an upcall can be delivered, and kicks it. */
  assertUpcall(v: number): void {
    const vc = this.vcpus[v];
    if (this.upcallVector(v) !== 0 && this.upcallPending(v)) {
      vc.s[S_INTR_LINE] = 1;
      if (vc.blocked) {
        // SCHEDOP_block ends with the new event (the hypercall already returned 0).
        vc.blocked = false;
        vc.s[S_HALTED] = 0;
      }
    }
    this.hooks.kick(v);
  }

  /**
   * Makes VCPU `v`'s INTR line follow upcall_pending (call after each hypercall and when it is
   * scheduled in: the guest may have set or cleared upcall_pending itself). True if it is up.
   */
  syncUpcallLine(v: number): boolean {
    const up = this.upcallVector(v) !== 0 && this.upcallPending(v);
    this.vcpus[v].s[S_INTR_LINE] = up ? 1 : 0;
    return up;
  }

  /**
   * The interrupt acknowledge of a PVH VCPU: the upcall vector while upcall_pending is set, else
   * -1 (spurious; the line drops until the next event).
   */
  acknowledgeUpcall(v: number): number {
    const vec = this.upcallVector(v);
    if (vec !== 0 && this.upcallPending(v)) return vec;
    this.vcpus[v].s[S_INTR_LINE] = 0;
    return -1;
  }

  /**
   * True if VCPU `v` has something to do: not halted, or halted with a deliverable upcall/NMI
   * (what the scheduler asks before blocking a halted VCPU and when it is kicked).
   */
  wakeable(v: number): boolean {
    const vc = this.vcpus[v];
    const s = vc.s;
    if (s[S_HALTED] === 0) {
      vc.blocked = false;
      return true;
    }
    return s[S_NMI_PENDING] > 0 || (s[S_INTR_LINE] !== 0 && (s[S_EFLAGS] & IF) !== 0);
  }

  /**
   * True if a halted VCPU `v` can never run again: interrupts off, no NMI, no SCHEDOP_poll or
   * SCHEDOP_block in progress (those end whatever EFLAGS.IF says).
   */
  haltIsFinal(v: number): boolean {
    const vc = this.vcpus[v];
    return vc.pollPorts === null && !vc.blocked && vc.s[S_NMI_PENDING] === 0 && (vc.s[S_EFLAGS] & IF) === 0;
  }

  // ---- time

  /** Rewrites VCPU `v`'s vcpu_time_info for host time `nowNs`. */
  refreshTime(v: number, nowNs: number): void {
    const vc = this.vcpus[v];
    if (vc.vcpuInfoOff < 0) return;
    const pool = this.memory.pool;
    writeVcpuTime(pool.mem32, pool.mem8, vc.vcpuInfoOff, vc.tscAt(nowNs), this.systemTime(nowNs));
  }

  /** Writes the wall clock: `wallNs` is the time of day (ns since the epoch) at host time `nowNs`. */
  writeWallclock(wallNs: number, nowNs: number): void {
    const atBase = wallNs - this.systemTime(nowNs);
    const sec = Math.floor(atBase / 1e9);
    this.shared.writeWallclock(sec, Math.floor(atBase - sec * 1e9));
  }

  /** Earliest timer deadline over the domain's VCPUs (host ns). */
  nextDeadline(): number {
    let t = Infinity;
    for (const vc of this.vcpus) t = Math.min(t, vc.nextDeadline());
    return t;
  }

  /** Fires every timer due at host time `nowNs` (VIRQ_TIMER, poll timeouts). */
  runTimers(nowNs: number): void {
    for (const vc of this.vcpus) {
      let fire = false;
      if (vc.singleshotAt <= nowNs) {
        vc.singleshotAt = Infinity;
        fire = true;
      }
      if (vc.periodicAt <= nowNs) {
        // Skip missed periods rather than firing a burst (Xen's periodic timer does the same).
        const missed = Math.floor((nowNs - vc.periodicAt) / vc.periodNs);
        vc.periodicAt += (missed + 1) * vc.periodNs;
        fire = true;
      }
      if (fire) this.evtchn.raiseVirq(VIRQ_TIMER, vc.id);
      if (vc.pollUntil <= nowNs) this.endPoll(vc);
    }
  }

  /** A 64-bit parameter value as a number (exact below 2^53). */
  paramNumber(index: number): number {
    const p = this.params.get(index);
    return p === undefined ? 0 : p[1] * TWO32 + (p[0] >>> 0);
  }
}

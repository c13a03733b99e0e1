/**
 * The hypervisor thread: owns the machine memory pool, every domain (memory, devices, VCPU
 * state blocks) and the scheduler core. It serves the pCPU workers' exits synchronously from
 * their mailboxes, runs device and scheduler timers, and answers the toolstack's calls.
 *
 * Design. One loop: serve posted requests, drain toolstack messages, serve every pCPU mailbox with
 * a request, run due timers (device ticks, scheduler timers, slice ends), post console output and
 * events, then sleep in Atomics.wait on the doorbell until the earliest deadline. Before it sleeps,
 * pCPUs with nothing else waiting may leave their VCPU's HLT for the next wake-up (lazy halts,
 * PcpuSlots.offerLazyHalts). Nothing here busy-waits.
 *
 * Concurrency. This thread alone mutates the scheduler, the pool allocator and device state. pCPU
 * workers only touch their own mailbox words, VCPU state blocks of the VCPU they run, and guest
 * memory. Interrupts travel through each VCPU's local APIC region (shared memory, see
 * machine/lapic-regs.ts): this thread sets IRR bits and pokes the pCPU running the VCPU with
 * ATTN_EVENT, or wakes the VCPU if it is blocked.
 */
import { errorMessage, DomusError } from '../base/errors';
import { SchedCore } from '../hv/sched/core';
import type { SchedName } from '../hv/sched/sched-ops';
import { MachineMemory } from '../hv/memory/machine-memory';
import { S_FAULT_KIND, S_HALTED, S_LAST_PCPU } from '../cpu/state';
import { describeCpuState } from '../cpu/describe';
import { ATTN_FLUSH, CB_DOORBELL, CB_HV_WAKES, CB_HOST_MSGS, CB_SHUTDOWN, REQ_EDGE_STEP, REQ_SCHEDULE, REQ_SWITCHED, REQ_TIMER_TAKEN, RES_OK, RES_STOP, HALT_IF_ON, SCHED_HALTED, SCHED_SHUTDOWN, SCHED_SIPI_WAIT, instantOf } from './control-block';
import { HvDomain, type DomainRestore, type DomainShutdown, type DomainSpec } from './hv-domain';
import { lapicStartupPending } from '../machine/lapic-core';
import type { HostToHv, HvInit, HvToHost } from './messages';
import type { WorkerEnv } from './thread-env';
import type { HvServices } from './hv-bios';
import { XenHost } from '../hv/xen/xen-host';
import { HvToolstack } from './hv-toolstack';
import { drainHostMessages, type HvCallHost } from './hv-calls';
import { EXIT_NAMES, serveDeviceExit, type ExitAnswer } from './hv-exits';
import { PcpuSlots } from './hv-pcpu-slots';
import { PcpuScheduling, type PcpuSchedHost, type Running, type SwitchCounts } from './hv-pcpu-sched';
import { HvConsoleOut } from './hv-console-out';
import { restoredDomid } from './pvh-save';
import { PcpuTimers } from './hv-pcpu-timer';
import { EarliestDeadlines, runDeviceTimers } from './hv-device-timers';
import { PcpuEdges, edgeOffersFromEnvironment } from './hv-pcpu-edges';

/** The answer to an exit of a VCPU that must stop (its domain is going away). */
const NO_ANSWER: ExitAnswer = { r0: 0, r1: 0, r2: 0, stop: true };

/** Largest sleep between loop iterations when nothing is due (ms). */
const MAX_SLEEP_MS = 1000;
/**
 * Longest sleep during which a pCPU may leave a HLT for this thread's next wake-up (ns): a HLT
 * with interrupts enabled that turns out final (every source masked) is reported this late at most.
 */
const LAZY_HALT_MAX_NS = 100e6;

/** The hypervisor thread's state and loop. */
export class Hypervisor implements HvCallHost, PcpuSchedHost {
  readonly pool: MachineMemory;
  readonly sched: SchedCore;
  readonly domains = new Map<number, HvDomain>();
  private readonly cb: Int32Array;
  /** The pCPU words of the control block. */
  private readonly slots: PcpuSlots;
  private readonly nr: number;
  /** Number of pCPUs (HvCallHost). */
  get nrPcpus(): number {
    return this.nr;
  }
  private readonly running: (Running | null)[];
  private readonly sliceEnd: number[];
  /** pCPUs that are idle (their last scheduling answer was "nothing"). */
  private readonly idle: boolean[];
  /**
   * pCPUs whose worker has asked for work at least once. The engine starts the workers of pCPUs
   * 1..N-1 after the first guest runs (engine.ts, "late pCPU start"); until then the scheduler
   * counts those pCPUs as offline, so it places and tickles work on running ones only.
   */
  private readonly started: boolean[];
  /** Idle pCPUs tickled since the last loop pass: decide for them and wake them directly. */
  private readonly directPending = new Set<number>();
  private hostMsgsSeen = 0;
  private nextDomid = 1;
  private readonly clock: { now: () => number; wallMs: () => number };
  private stopped = false;
  /** The engine's Xen: hypercalls, event channels, grants, xenstore and PV back ends of PVH domains. */
  readonly xen: XenHost;
  /** Scheduling on behalf of the pCPUs: their schedule() calls and published next decisions. */
  private readonly ps: PcpuScheduling;
  /** Toolstack operations through the guests' own interfaces (xenstore, power button). */
  readonly toolstack: HvToolstack;
  /** pCPU `p` may halt lazily: it runs a VCPU and no other VCPU of its pool waits (PcpuSlots.offerLazyHalts). */
  private readonly lazyHaltOk = (p: number): boolean => this.running[p] !== null && !this.sched.waiting(p);
  /** Console output and messages to the host thread. */
  private readonly out: HvConsoleOut;
  /** Timer interrupts taken on the pCPUs: offers and their replays. */
  readonly timers: PcpuTimers;
  /** Timer edges taken by busy pCPUs: edge publications and their replays (DOMUS_EDGE_OFFERS=1). */
  readonly edges: PcpuEdges;
  /**
   * pCPU `p` may halt lazily: it takes a timer offer (it will run the VCPU it switches in), or
   * lazyHaltOk and a timer of this thread's comes soon.
   */
  private lazyNear = false;
  private readonly lazyOk = (p: number): boolean => this.timers.offered(p) || (this.lazyNear && this.lazyHaltOk(p));
  /** pCPU `p` may get a timer offer (nothing else stands for it) or an edge publication (no preemption pending either). */
  private readonly timerOk = (p: number): boolean => !this.edges.stands(p) && this.lazyHaltOk(p);
  private readonly edgeOk = (p: number): boolean => this.running[p] !== null && !this.slots.preemptPending(p);

  constructor(
    private readonly env: WorkerEnv,
    init: HvInit,
    private readonly services?: HvServices,
  ) {
    this.cb = new Int32Array(init.controlBlock);
    this.nr = init.nrPcpus;
    this.slots = new PcpuSlots(this.cb, this.nr);
    this.pool = MachineMemory.fromBuffers(init.pool);
    this.running = new Array<Running | null>(this.nr).fill(null);
    this.sliceEnd = new Array<number>(this.nr).fill(Infinity);
    this.idle = new Array<boolean>(this.nr).fill(false);
    this.started = new Array<boolean>(this.nr).fill(false);
    this.clock = { now: () => env.nowNs(), wallMs: () => env.wallMs() };
    const arrays = { running: this.running, sliceEnd: this.sliceEnd, idle: this.idle, started: this.started, directPending: this.directPending };
    this.ps = new PcpuScheduling(this, this.slots, arrays);
    this.timers = new PcpuTimers(this.cb, this, this.ps, arrays);
    this.edges = new PcpuEdges(this.cb, this, this.ps, arrays, edgeOffersFromEnvironment());
    this.ps.edgesStand = (p) => this.edges.stands(p);
    this.earliest = new EarliestDeadlines(this.nr + 1);
    this.sched = new SchedCore(
      { now: () => this.ps.schedNow(), tickle: (p) => this.tickle(p) },
      // pCPU 0 is the boot pCPU; the others come online as their workers start.
      { nrCpus: this.nr, scheduler: init.scheduler as SchedName, offlineCpus: Array.from({ length: this.nr - 1 }, (_, i) => i + 1) },
    );
    this.xen = new XenHost(this.pool, {
      now: () => env.nowNs(),
      wallMs: () => env.wallMs(),
      kickVcpu: (domid, v) => {
        const d = this.domains.get(domid);
        if (d === undefined) return;
        d.kicks.add(v);
        this.processKicks(d);
      },
      p2mChanged: (domid) => {
        const d = this.domains.get(domid);
        if (d !== undefined) for (let v = 0; v < d.vcpuState.length; v++) this.reloadVcpu(d, v);
      },
      vcpuOnline: (domid, v, online) => this.pvhVcpuOnline(domid, v, online),
      domainShutdown: (domid, reason) => this.domains.get(domid)?.requestShutdown({ reason }),
      consoleOutput: (domid, data, source) => {
        const d = this.domains.get(domid);
        if (d !== undefined) this.toolstack.consoleOutput(d, data, source);
      },
      log: (level, message) => this.post({ t: 'log', level, source: 'xen', message }),
    });
    this.out = new HvConsoleOut((m) => this.post(m));
    this.toolstack = new HvToolstack({ xen: this.xen, sched: this.sched, services, nowNs: () => env.nowNs(), post: (m) => this.post(m) });
  }

  /** Engine time in ns (PcpuSchedHost). */
  nowNs(): number {
    return this.env.nowNs();
  }

  /** Reports an engine error to the host's log (PcpuSchedHost). */
  logError(message: string): void {
    this.post({ t: 'log', level: 'error', source: 'hypervisor', message });
  }

  /** Published next decisions so far: made, revoked, replayed, and replays that disagreed. */
  get switchCounts(): Readonly<SwitchCounts> {
    return this.ps.counts;
  }

  /** True if a pCPU runs one of `d`'s VCPUs now (HvCallHost). */
  runsOnPcpu(d: HvDomain): boolean {
    return this.running.some((r) => r?.dom === d);
  }

  /** Ends the loop (HvCallHost). */
  stop(): void {
    this.stopped = true;
  }

  /** VCPUOP_up / VCPUOP_down of a PVH guest. */
  private pvhVcpuOnline(domid: number, v: number, online: boolean): void {
    const d = this.domains.get(domid);
    if (d === undefined) return;
    if (online) {
      d.deadHalt[v] = false;
      if (!d.shutdown) this.sched.wake(d.domid, v);
      return;
    }
    // Going down: the pCPU running it stops it (it then waits to be brought up and blocks).
    for (let p = 0; p < this.nr; p++) {
      const r = this.running[p];
      if (r !== null && r.dom === d && r.vcpu === v) this.tickle(p);
    }
  }

  private post(m: HvToHost): void {
    this.env.parent.postMessage(m);
  }

  /**
   * Asks pCPU `p` to stop its VCPU and reschedule. An idle pCPU is not woken to ask: the loop
   * decides for it after the current operation (the scheduler may be mid-call) and wakes it
   * with its assignment.
   */
  private tickle(p: number): void {
    if (p === this.ps.deciding || this.edges.captureTickle(p)) return;
    if (this.idle[p] && this.running[p] === null) {
      this.directPending.add(p);
      return;
    }
    // At the pass end, with the decision for the stop published first (wake preemptions).
    if (this.running[p] !== null) this.ps.deferPreempt(p);
    else this.slots.preempt(p);
  }

  /** Decides for tickled idle pCPUs and wakes them with their assignment. */
  private assignIdle(): void {
    if (this.directPending.size === 0) return;
    for (const p of [...this.directPending]) {
      this.directPending.delete(p);
      if (!this.idle[p] || this.running[p] !== null) continue;
      const [domid, vcpu] = this.ps.decide(p);
      if (domid >= 0) this.slots.hand(p, domid, vcpu, this.sliceEnd[p]);
    }
  }

  /**
   * Serves pCPU `p`'s posted requests in order: device writes, HLTs (the pCPU then sleeps) and
   * switches it made by itself (PcpuSchedHost).
   */
  drainPosted(p: number): void {
    this.slots.drainPosted(p, (r) => {
      if (r.kind === REQ_SCHEDULE) {
        // A HLT carries its instant (several may wait in the ring while the pCPU takes timer edges).
        const prev = this.running[p];
        const taken = this.timers.takePending(p);
        this.haltIfOn = (r.a0 & HALT_IF_ON) !== 0;
        const [domid, vcpu] = this.ps.schedule(p, r.a0 & ~HALT_IF_ON, r.a1 !== 0 || r.a2 !== 0 ? instantOf(r.a1, r.a2) : this.slots.stopNs(p), taken);
        this.haltIfOn = false;
        if (domid < 0) this.timers.halted(p, prev);
        else if (!taken) this.slots.hand(p, domid, vcpu, this.sliceEnd[p]);
      } else if (r.kind === REQ_TIMER_TAKEN) {
        this.timers.posted(p, r.a0, instantOf(r.a1, r.a2));
      } else if (r.kind === REQ_EDGE_STEP) {
        this.edges.posted(p, r.a0, r.a1, r.a2);
      } else if (r.kind === REQ_SWITCHED) {
        this.ps.switched(p, r.a0, r.a1, r.a2);
      } else {
        this.exit(p, r.kind, r.a0, r.a1, r.a2);
      }
    });
  }

  /**
   * The loop on a thread of its own: passes, and sleeps in Atomics.wait on the doorbell between
   * them; returns when the engine shuts down.
   */
  run(): void {
    const cb = this.cb;
    this.start();
    for (;;) {
      const bell = Atomics.load(cb, CB_DOORBELL);
      const wait = this.pass();
      if (wait < 0) return;
      if (wait > 0 && Atomics.wait(cb, CB_DOORBELL, bell, wait) !== 'not-equal') Atomics.add(cb, CB_HV_WAKES, 1);
    }
  }

  /** Tells the host the hypervisor serves (before the first pass). */
  start(): void {
    this.post({ t: 'ready' });
  }

  /**
   * One pass of the loop: posted requests, host messages, pCPU mailboxes, timers, idle pCPUs,
   * console output. Returns how long the caller may sleep on the doorbell (ms; 0: pass again at
   * once), or -1 once the engine shuts down. The caller reads the doorbell before the pass and
   * sleeps only while it still holds that value (run(), hv-inline.ts).
   */
  pass(): number {
    const cb = this.cb;
    if (this.stopped || Atomics.load(cb, CB_SHUTDOWN) !== 0) return -1;
    this.slots.endLazyHalts();
    // Nothing the pCPUs may take stands while this pass changes scheduler state.
    this.timers.end();
    this.edges.end();
    this.ps.settle();
    // Posted requests first: a lazy HLT was posted before whatever woke this thread.
    let worked = this.drainAllPosted();
    this.timers.finish();
    this.edges.finish();
    const msgs = Atomics.load(cb, CB_HOST_MSGS);
    if (msgs !== this.hostMsgsSeen) {
      this.hostMsgsSeen = msgs;
      if (this.drainHost()) worked = true;
    }
    for (let p = 0; p < this.nr; p++) {
      if (this.slots.hasRequest(p)) {
        this.serve(p);
        worked = true;
      }
    }
    let next = this.runTimers();
    this.assignIdle();
    this.afterWork();
    // Edge publications replace next decisions (only before a sleep: 50 checks a pass cost more than they saved).
    const edges = !worked && this.edges.publish(this.env.nowNs(), this.edgeOk);
    this.ps.publish();
    if (worked) return 0;
    const now = this.env.nowNs();
    // Timer offers and edges: the pCPUs take those PIT edges themselves, so they do not bound the sleep.
    if (this.timers.publish(now, this.timerOk) || edges) next = Math.min(this.otherTimers, this.edges.limit(), this.nextUncovered());
    this.lazyNear = next - now <= LAZY_HALT_MAX_NS;
    // A HLT posted while an earlier offer stood rang no doorbell: serve it instead of sleeping.
    if (this.slots.offerLazyHalts(this.lazyOk) && this.slots.anyPosted()) return 0;
    // A pCPU running a VCPU ends its slice itself (P_DEADLINE) and asks: waking for it too
    // would cost a wake-up per VCPU switch. Only idle deadlines (an ARINC 653 window) need one.
    for (let p = 0; p < this.nr; p++) if (this.running[p] === null) next = Math.min(next, this.sliceEnd[p]);
    next = Math.min(next, this.out.due);
    return Math.min(MAX_SLEEP_MS, Math.max(0, (next - this.env.nowNs()) / 1e6));
  }

  private drainHost(): boolean {
    return drainHostMessages(this, {
      poll: () => this.env.parent.poll() as HostToHv | undefined,
      post: (m) => this.post(m),
      afterCall: () => this.afterWork(),
    });
  }

  /** The domain with ID `domid`, or a domain.not-found error (HvCallHost). */
  domain(domid: number): HvDomain {
    const d = this.domains.get(domid);
    if (d === undefined) throw new DomusError('domain.not-found', `There is no domain with ID ${domid}.`, String(domid));
    return d;
  }

  createDomain(spec: DomainSpec, restore?: DomainRestore): unknown {
    const domid = restoredDomid(restore, spec, this.domains, this.nextDomid);
    this.nextDomid = Math.max(this.nextDomid, domid + 1);
    const d = new HvDomain(domid, spec, this.pool, this.clock, this.env.nowNs(), restore, this.services);
    d.onVcpuReload = (v) => this.reloadVcpu(d, v);
    if (spec.pvh !== undefined) this.toolstack.attachXen(d, spec.pvh, restore?.xen);
    try {
      this.sched.addDomain({
        domid,
        name: spec.name,
        uuid: d.uuid,
        maxVcpus: d.vcpuState.length,
        onlineVcpus: spec.vcpus,
        pool: spec.pool,
        weight: spec.weight,
        cap: spec.cap,
        paused: true,
        memoryMiB: spec.memoryMiB,
        vcpus: spec.hard?.map((h, i) => ({ hard: h, soft: spec.soft?.[i] })),
      });
    } catch (e) {
      if (spec.pvh !== undefined) this.xen.destroyDomain(domid);
      d.release();
      throw e;
    }
    this.domains.set(domid, d);
    // Messages from power-on (BIOS) go out after the reply, once the toolstack knows the domain.
    return { domid, share: d.share(), boot: d.bootSummary ?? d.biosBoot };
  }

  /**
   * VCPU `v`'s registers or A20 changed on this thread: the pCPU running it (if any) drops what
   * it derived from them before its next instruction, and any pCPU that runs it later reloads.
   */
  private reloadVcpu(d: HvDomain, v: number): void {
    d.vcpuState[v][S_LAST_PCPU] = 0;
    for (let p = 0; p < this.nr; p++) if (this.running[p]?.dom === d && this.running[p]?.vcpu === v) this.slots.attention(p, ATTN_FLUSH);
  }

  setPaused(d: HvDomain, paused: boolean): null {
    if (d.shutdown) throw new DomusError('domain.shut-down', `Domain ${d.spec.name} has shut down; it can only be destroyed.`, d.spec.name);
    if (paused === d.paused) return null;
    d.paused = paused;
    if (paused) this.sched.pauseDomain(d.domid);
    else this.sched.unpauseDomain(d.domid);
    return null;
  }

  destroyDomain(d: HvDomain): null {
    if (!d.shutdown) this.shutdownDomain(d, { reason: 'poweroff', detail: 'destroyed' }, false);
    this.domains.delete(d.domid);
    // Xen state first (grants it holds, shared frames), then the memory; pCPUs that still ran it
    // have been told to stop; its frames are only reused after zeroing.
    if (d.spec.pvh !== undefined) {
      this.xen.destroyDomain(d.domid);
    }
    this.toolstack.forget(d.domid);
    d.release();
    this.out.flushMessages(d);
    this.post({ t: 'domain-destroyed', domid: d.domid });
    return null;
  }

  /** Carries out the shutdown a device of `d` asked for (DeviceTimerHost). */
  takeShutdown(d: HvDomain): void {
    const s = d.pendingShutdown;
    d.pendingShutdown = undefined;
    if (s !== undefined) this.shutdownDomain(d, s);
  }

  /** Takes a domain off the CPUs and tells the toolstack why. */
  private shutdownDomain(d: HvDomain, s: DomainShutdown, notify = true): void {
    if (d.shutdown) return;
    this.out.flushConsole(d);
    this.out.flushMessages(d);
    const row = this.sched.xlList().find((r) => r.domid === d.domid);
    if (row) {
      d.lastCpuSeconds = row.cpuSeconds;
      d.lastPool = row.pool;
      d.lastOnlineVcpus = row.vcpus;
    }
    d.shutdown = s;
    try {
      this.sched.removeDomain(d.domid);
    } catch (e) {
      this.env.debug(`removing domain ${d.domid} from the scheduler: ${errorMessage(e)}`);
    }
    for (let p = 0; p < this.nr; p++) {
      if (this.running[p]?.dom === d) this.tickle(p);
    }
    if (notify) this.post({ t: 'domain-shutdown', domid: d.domid, reason: s.reason, code: s.code, detail: s.detail });
  }

  /** Serves all posted requests (before any request: a VCPU may post, then signal another). */
  private drainAllPosted(): boolean {
    let any = false;
    for (let p = 0; p < this.nr; p++) {
      if (!this.slots.hasPosted(p)) continue;
      this.drainPosted(p);
      any = true;
    }
    return any;
  }

  /** Serves pCPU `p`'s mailbox (after every posted request, see drainAllPosted). */
  private serve(p: number): void {
    this.drainAllPosted();
    const { kind, a0, a1, a2 } = this.slots.request(p);
    if (kind === REQ_SCHEDULE) {
      const [r0, r1, r2] = this.ps.schedule(p, a0);
      this.slots.answer(p, r0, r1, r2, RES_OK);
      return;
    }
    const status = this.exit(p, kind, a0, a1, a2);
    const ans = this.lastExit;
    this.slots.answer(p, ans.r0, ans.r1, ans.r2, status);
  }

  /** The posted HLT being replayed had interrupts on (HALT_IF_ON): not final, whatever EFLAGS shows now. */
  private haltIfOn = false;
  /** The answer of the last device exit served by exit(). */
  private lastExit: ExitAnswer = { r0: 0, r1: 0, r2: 0, stop: false };

  /** Serves device exit `kind` of the VCPU pCPU `p` runs into lastExit; returns the response status. */
  private exit(p: number, kind: number, a0: number, a1: number, a2: number): number {
    const cur = this.running[p];
    if (cur === null || cur.dom.shutdown || cur.dom.pendingShutdown) {
      this.lastExit = NO_ANSWER;
      return RES_STOP;
    }
    const d = cur.dom;
    d.countExit(EXIT_NAMES[kind] ?? 'other');
    const ans = serveDeviceExit(d, cur.vcpu, this.xen, kind, a0, a1, a2);
    this.lastExit = ans;
    let status = ans.stop ? RES_STOP : RES_OK;
    if (d.pendingShutdown) {
      this.takeShutdown(d);
      status = RES_STOP;
    }
    if (d.kicks.size > 0) this.processKicks(d);
    return status;
  }

  /**
   * The scheduler side of VCPU `prev` leaving its pCPU for `reason` (blocked, preempted, dead);
   * true if it halted with an interrupt already waiting, so it should simply run on (PcpuSchedHost).
   * `taken`: the pCPU switched away at the halt itself, so it blocks (wakeAfterHalt follows).
   */
  putAway(reason: number, prev: Running, taken: boolean): boolean {
    if (!prev.dom.shutdown) {
      const d = prev.dom;
      const v = prev.vcpu;
      // A PVH VCPU that blocked in a hypercall (SCHEDOP_block/poll) left through RES_STOP, halted.
      if (reason === SCHED_HALTED || (d.spec.pvh !== undefined && d.vcpuState[v][S_HALTED] !== 0 && reason !== SCHED_SHUTDOWN)) {
        d.countExit('hlt');
        if (!taken && this.wakeable(d, v)) {
          d.vcpuState[v][S_HALTED] = 0;
          return true;
        }
        d.deadHalt[v] = !taken && !this.haltIfOn && (d.spec.pvh !== undefined ? this.xen.haltIsFinal(d.domid, v) : d.haltIsFinal(v));
        this.sched.block(d.domid, v);
        if (d.allDeadHalted() && !d.haltReported) {
          // Nothing but a reset can wake it; xl would show it blocked forever. Tell the toolstack
          // (`domus run` ends there); the domain stays until it is destroyed.
          d.haltReported = true;
          this.out.flushConsole(d);
          this.out.flushMessages(d);
          this.post({ t: 'domain-halted', domid: d.domid });
        }
      } else if (reason === SCHED_SHUTDOWN) {
        const kind = d.vcpuState[v][S_FAULT_KIND];
        const detail = `${d.faultDetail(v) ?? 'the VCPU shut down'}\nVCPU ${v} state:\n${describeCpuState(d.vcpuState[v])}`;
        this.shutdownDomain(d, { reason: 'crash', code: kind, detail });
      } else if (reason === SCHED_SIPI_WAIT) {
        // An AP waits for INIT/SIPI; if one already arrived, let it run (the pCPU applies it).
        if (!lapicStartupPending(d.lapics[v])) this.sched.block(d.domid, v);
      } else {
        d.countExit('preempt');
      }
    }
    return false;
  }

  /**
   * Local APICs that gained something (IPI, APIC timer, IOAPIC message, LINT0 from the 8259):
   * poke the pCPU running that VCPU, or wake it if it is blocked and can now act on it (DeviceTimerHost).
   */
  processKicks(d: HvDomain): void {
    for (const v of d.kicks) {
      d.kicks.delete(v);
      let onPcpu = -1;
      for (let p = 0; p < this.nr; p++) {
        const r = this.running[p];
        if (r !== null && r.dom === d && r.vcpu === v) onPcpu = p;
      }
      if (onPcpu >= 0) {
        this.slots.poke(onPcpu);
        continue;
      }
      // Paused or not (Xen's vcpu_unblock): the pause count keeps it off the pCPUs until unpause.
      if (this.wakeable(d, v) && !d.shutdown) {
        d.deadHalt[v] = false;
        this.sched.wake(d.domid, v);
      }
    }
  }

  /** A VCPU blocked by a halt decision's replay wakes if an interrupt arrived since (PcpuSchedHost). */
  wakeAfterHalt(prev: Running): void {
    const d = prev.dom;
    if (d.shutdown || !this.wakeable(d, prev.vcpu)) return;
    d.deadHalt[prev.vcpu] = false;
    this.sched.wake(d.domid, prev.vcpu);
  }

  /** Local APICs of `d` may have changed (PcpuSchedHost). */
  kicked(d: HvDomain): void {
    if (d.kicks.size > 0) this.processKicks(d);
  }

  /** True if VCPU `v` of `d` can take an interrupt or event now (so HLT should not block it). */
  private wakeable(d: HvDomain, v: number): boolean {
    return d.spec.pvh !== undefined ? this.xen.wakeable(d.domid, v) : d.interruptDeliverable(v);
  }

  /** Runs due timers; returns the earliest next deadline of device and scheduler timers. */
  private runTimers(): number {
    const now = this.env.nowNs();
    if (this.sched.nextTimer() <= now) this.sched.runTimers();
    if (this.xen.nextDeadline() <= now) this.xen.runTimers();
    this.otherTimers = Math.min(this.sched.nextTimer(), this.xen.nextDeadline());
    const next = Math.min(this.otherTimers, runDeviceTimers(this.domains.values(), now, this.earliest, this));
    // Slice ends that are not due yet bound the loop's sleep there (run()).
    for (let p = 0; p < this.nr; p++) {
      if (this.sliceEnd[p] > now) continue;
      this.sliceEnd[p] = Infinity;
      this.tickle(p);
    }
    return next;
  }

  /** The scheduler's and Xen's next timers, and the earliest device deadlines of the domains (runTimers). */
  private otherTimers = Infinity;
  private readonly earliest: EarliestDeadlines;
  /** The earliest device deadline of a domain whose PIT no pCPU takes itself. */
  private readonly coveredBy = (d: HvDomain): boolean => this.timers.covers(d) || this.edges.covers(d);
  private readonly nextUncovered = (): number =>
    this.edges.anyStands() ? this.edges.firstUncovered(this.domains.values(), this.coveredBy) : this.earliest.firstUncovered(this.coveredBy);

  private afterWork(): void {
    // PV console rings written without a notify.
    if (this.xen.domains.size > 0) this.xen.service();
    this.out.afterWork(this.domains.values(), this.env.nowNs());
  }
}

/** Entry point of the hypervisor worker. */
export function hvMain(env: WorkerEnv, services?: HvServices): void {
  const hv = new Hypervisor(env, env.data as HvInit, services);
  hv.run();
}

/**
 * The program of one pCPU worker thread: ask the scheduler (on the hypervisor thread) what to
 * run, run that VCPU's code until an exit, report why it stopped, repeat. With nothing to run the
 * thread sleeps in Atomics.wait on its wake word; it never spins.
 *
 * Design. A Cpu object per (domain, VCPU) this worker has run caches its TLB and jump cache; the
 * architectural state lives in the VCPU's shared state block, so when a VCPU comes back after
 * running on another pCPU its caches are dropped (afterStateLoad). Decoded blocks are shared by
 * all VCPUs on this worker (keyed by machine address, so domains never share code by accident).
 *
 * Concurrency. Port I/O, MMIO, interrupt acknowledge and scheduling are synchronous requests to
 * the hypervisor thread through this pCPU's mailbox (control-block.ts): write the arguments,
 * publish the request, ring the doorbell, sleep until the response counter moves. Two kinds of
 * request need no answer and are posted instead (the POST ring): writes to the 8259s, the POST
 * port and the UARTs (LAZY_POST_PORTS: EOIs, mask changes, serial output), which do not even ring
 * the doorbell (the next request, HLT or the end of a run chunk does), and a HLT of an HVM VCPU,
 * after which the pCPU sleeps at once and the hypervisor hands it its next VCPU like an idle
 * pCPU's; while the hypervisor sleeps with nothing else waiting for this pCPU, even that HLT
 * rings no doorbell (P_LAZY_HALT, lazy halts). With a timer offer (pcpu-timer.ts) the pCPU then
 * sleeps until the PIT's next edge and takes the tick itself, so an idle timer tick wakes this
 * thread only (docs/architecture.md, "Timer interrupts on the pCPU").
 */
import { Cpu, RunExit } from '../cpu/cpu';
import type { CpuOps } from '../cpu/ops';
import { FAULT_KIND_ENGINE, STATE_BYTES, S_ICOUNT_HI, S_ICOUNT_LO, S_LAST_PCPU } from '../cpu/state';
import type { Block } from '../cpu/insn';
import { physMemoryOf } from '../hv/memory/machine-memory';
import { adoptPoolBuffer } from '../cpu/wasm/wasm-pool';
import {
  ATTN_CTRL, ATTN_FLUSH, ATTN_PREEMPT, ATTN_STATS, NO_DEADLINE, P_DEADLINE, P_LAZY_HALT, P_STOP_NS, CB_SHUTDOWN, P_ASSIGN_DOM, P_ASSIGN_SEQ, P_ASSIGN_VCPU, P_ATTN, P_BUSY_NS, P_CUR_DOM,
  P_CUR_VCPU, P_INSNS, P_POST_TAIL, P_RES1, P_RES2, P_WAKE, REQ_INTA, REQ_IO_IN,
  REQ_IO_OUT, REQ_MMIO_READ, REQ_MMIO_WRITE, REQ_MSR_READ, REQ_MSR_WRITE, REQ_HYPERCALL, REQ_SCHEDULE, REQ_IPI, REQ_EOI,
  HALT_IF_ON, instantHi, instantLo, SCHED_HALTED, SCHED_PREEMPTED, SCHED_SHUTDOWN, SCHED_SIPI_WAIT, SCHED_START, SCHED_STOPPED, SCHED_IDLE_WAKE,
  P_NEXT_DOM, P_NEXT_FROM, P_NEXT_LEN, P_NEXT_SEQ, P_NEXT_UNTIL, P_NEXT_VCPU, P_NEXT_TOKEN, P_NEXT_TOKEN_PCPU, P_NO_NEXT, P_POOL_TOKEN, P_SLICE_EXTEND, P_TAKEN_NS, P_TAKES, P_TAKE_MISSES, REQ_SWITCHED,
  HCHAIN_SEQ_STEP, HCHAIN_STEP_WORDS, HC_DOM, HC_EXTINT, HC_LEN, HC_TAKEN_NS, HC_VCPU, P_HCHAIN, P_HNEXT_STEPS,
  P_NEXT_EXTINT, P_HALT_TAKES, P_PREEMPT_TAKES, P_HNEXT_FROM, P_HNEXT_UNTIL, P_TAKEN_KIND, TAKE_HALT, TAKE_SLICE_END, P_TIDLE, REQ_TIMER_TAKEN,
  getF64, putF64, ringDoorbell, slot,
} from './control-block';
import type { DomainShare, HostToPcpu, PcpuInit } from './messages';
import { lapicRegions } from '../machine/lapic-regs';
import { lapicHasInterrupt, lapicPendingVector } from '../machine/lapic-core';
import {
  LAPIC_ACK_EXTINT, LAPIC_EFFECT_EOI, LAPIC_EFFECT_IPI, LAPIC_EFFECT_TIMER, LAPIC_MSR_FAULT, lapicAcknowledge, lapicClaims,
  lapicMmioBase, lapicMmioRead, lapicMmioWrite, lapicOwnsMsr, lapicReadMsr, lapicWriteMsr, newLapicWriteOut,
} from '../machine/lapic';
import { lapicApplyStartup, lapicTakeNmis } from '../machine/lapic-startup';
import { lapicStartupPending } from '../machine/lapic-core';
import { readTsc } from '../cpu/msr';
import { IF, S_EFLAGS, S_HALTED, S_INJECT_VECTOR, S_INTR_LINE, S_NMI_PENDING } from '../cpu/state';
import type { WorkerEnv } from './thread-env';
import { xenCpuid } from '../hv/xen/cpuid-msr';
import { SLICE_CHECK_INSNS, newSliceRate, sliceChunk, sliceRateUpdate } from './slice-chunk';
import { LSR_ASK, LSR_CACHE_WORDS, readCachedLsr, uartLineEnd } from '../machine/uart-lsr-cache';
import { DOMAIN_WAIT_MS, GONE_REMEMBERED, LAZY_POST_PORTS, NEXT_REACH_NS, RING_HALT_SWITCHED, RING_SWITCHED, SWITCHED_RING_INSNS } from './pcpu-consts';
import { NS_PER_MS, PcpuTimer, TIMER_TAKE_SLICE_NS } from './pcpu-timer';
import { PcpuPoster } from './pcpu-post';
import { EDGES_ASK, EDGES_SWITCH, PcpuEdgeTaker } from './pcpu-edge-take';

/** The local APIC registers of no VCPU (a pCPU running nothing). */
const NO_APIC = new Int32Array(0);
/** The LSR cache of a pCPU running nothing: every read asks. */
const NO_LSR_CACHE = new Int32Array(LSR_CACHE_WORDS).fill(LSR_ASK);

interface PcpuDomain {
  share: DomainShare;
  cpus: (Cpu | undefined)[];
  lapics: Int32Array[];
  /** The UARTs' published line status (machine/uart-lsr-cache.ts). */
  lsr: Int32Array;
}

/** Runs the pCPU worker until the engine shuts down. */
export function pcpuMain(env: WorkerEnv): void {
  const init = env.data as PcpuInit;
  const me = init.index;
  const cb = new Int32Array(init.controlBlock);
  const base = slot(me, 0);
  const domains = new Map<number, PcpuDomain>();
  /** Domains destroyed lately (domain-gone), oldest first; see cpuFor. */
  const gone = new Set<number>();
  const blocks = new Map<number, Block>();
  let current: Cpu | null = null;
  /** The running VCPU's local APIC registers. */
  let apic: Int32Array = NO_APIC;
  /** Time and instruction count up to which the current run is already in P_BUSY_NS / P_INSNS. */
  let publishedNs = 0;
  let publishedInsns = 0;

  /** Adds the current run's time and instructions since the last publication to the counters. */
  function publishRun(cpu: Cpu): void {
    const now = env.nowNs();
    putF64(cb, base + P_BUSY_NS, getF64(cb, base + P_BUSY_NS) + (now - publishedNs));
    putF64(cb, base + P_INSNS, getF64(cb, base + P_INSNS) + (cpu.icount - publishedInsns));
    publishedNs = now;
    publishedInsns = cpu.icount;
  }
  const apicOut = newLapicWriteOut();

  /** The running VCPU belongs to a PVH domain: its INTR line is Xen's upcall, not the local APIC's. */
  let pvh = false;
  /** The running domain's published UART line status. */
  let lsrCache: Int32Array = NO_LSR_CACHE;
  let curDomid = -1;
  let curVcpu = 0;

  /**
   * While the switch that injected an 8259 interrupt by itself (a taken decision with P_*_EXTINT)
   * waits for its replay, the post index of its REQ_SWITCHED, else -1: until the hypervisor has
   * replayed the INTA cycle, the 8259's INTR on LINT0 still shows the interrupt already injected.
   */
  let extIntHold = -1;

  /** The running VCPU's INTR line from its local APIC (HVM). */
  function intrLine(): number {
    if (extIntHold >= 0) {
      if (Atomics.load(cb, base + P_POST_TAIL) <= extIntHold) return lapicPendingVector(apic) >= 0 ? 1 : 0;
      extIntHold = -1;
    }
    return lapicHasInterrupt(apic) ? 1 : 0;
  }

  /** After anything that may change what the local APIC offers: the INTR line and a recheck. */
  function recheck(): void {
    if (current === null) return;
    if (!pvh) current.s[S_INTR_LINE] = intrLine();
    current.localAttention = true;
  }

  function apicEffects(e: number): void {
    if ((e & LAPIC_EFFECT_IPI) !== 0) call(REQ_IPI, apicOut.ipi.icrLow, apicOut.ipi.icrHigh, 0);
    if ((e & LAPIC_EFFECT_EOI) !== 0) call(REQ_EOI, apicOut.eoiVector, 0, 0);
    // A reprogrammed timer moves a deadline the hypervisor thread sleeps towards.
    if ((e & LAPIC_EFFECT_TIMER) !== 0) ringDoorbell(cb);
    recheck();
  }

  /** The posted ring and the mailbox (pcpu-post.ts). */
  const poster = new PcpuPoster(cb, base);
  const post = (kind: number, a0: number, a1: number, a2: number, ring: boolean): void => poster.post(kind, a0, a1, a2, ring);
  const call = (kind: number, a0: number, a1: number, a2: number): number => poster.call(kind, a0, a1, a2);

  function drainControl(): void {
    for (;;) {
      const m = env.parent.poll() as HostToPcpu | undefined;
      if (m === undefined) return;
      if (m.t === 'domain') {
        domains.set(m.share.domid, { share: m.share, cpus: [], lapics: lapicRegions(m.share.lapics, m.share.nrVcpus), lsr: new Int32Array(m.share.lsrCache) });
        gone.delete(m.share.domid);
      } else if (m.t === 'domain-gone') {
        domains.delete(m.domid);
        gone.add(m.domid);
        if (gone.size > GONE_REMEMBERED) gone.delete(gone.values().next().value as number);
      }
    }
  }

  const ops: CpuOps = {
    ioRead: (port, size) => {
      const lsr = readCachedLsr(lsrCache, port, size);
      return lsr !== LSR_ASK ? lsr : call(REQ_IO_IN, port, size, 0) >>> 0;
    },
    ioWrite: (port, size, value) => {
      // A tick handler's EOI under an edge publication: the hypervisor replays it with the steps.
      if (!pvh && LAZY_POST_PORTS.has(port) && edgesOn && edges.noteWrite(port, size, value)) poster.postQuiet(REQ_IO_OUT, port, size, value);
      else if (!pvh && LAZY_POST_PORTS.has(port)) post(REQ_IO_OUT, port, size, value, uartLineEnd(port, value));
      else call(REQ_IO_OUT, port, size, value);
    },
    mmioRead: (addr, size) => {
      if (lapicClaims(apic, addr)) return lapicMmioRead(apic, addr - lapicMmioBase(apic), size, env.nowNs());
      return call(REQ_MMIO_READ, addr, size, 0) >>> 0;
    },
    mmioWrite: (addr, size, value) => {
      if (lapicClaims(apic, addr)) {
        apicEffects(lapicMmioWrite(apic, addr - lapicMmioBase(apic), size, value, env.nowNs(), apicOut));
        return;
      }
      call(REQ_MMIO_WRITE, addr, size, value);
    },
    rdmsr: (index) => {
      if (lapicOwnsMsr(index)) return lapicReadMsr(apic, index, env.nowNs());
      const ok = call(REQ_MSR_READ, index, 0, 0);
      return ok === 1 ? [cb[base + P_RES1], cb[base + P_RES2]] : undefined;
    },
    wrmsr: (index, lo, hi) => {
      if (lapicOwnsMsr(index) && current !== null) {
        const e = lapicWriteMsr(apic, index, lo, hi, env.nowNs(), readTsc(current));
        if (e === LAPIC_MSR_FAULT) return false;
        apicEffects(e);
        return true;
      }
      return call(REQ_MSR_WRITE, index, lo, hi) === 1;
    },
    // Xen's CPUID leaves for PVH guests, answered here without a round trip.
    cpuid: (leaf, sub, out) => pvh && xenCpuid(leaf, sub, out, curDomid, curVcpu),
    hypercall: () => {
      const handled = call(REQ_HYPERCALL, 0, 0, 0) === 1;
      // The call may have raised the upcall line or halted the VCPU (SCHEDOP_block/poll).
      if (current !== null) current.localAttention = true;
      return handled;
    },
    acknowledgeInterrupt: () => {
      if (pvh) return call(REQ_INTA, 0, 0, 0);
      let vector = lapicAcknowledge(apic);
      if (vector === LAPIC_ACK_EXTINT) vector = call(REQ_INTA, 0, 0, 0);
      recheck();
      return vector;
    },
    attention: () => {
      const a = Atomics.exchange(cb, base + P_ATTN, 0);
      if ((a & ATTN_CTRL) !== 0) drainControl();
      if ((a & ATTN_FLUSH) !== 0 && current !== null) current.afterStateLoad();
      if ((a & ATTN_STATS) !== 0 && current !== null) {
        publishRun(current);
        // The domain's instruction count lives in the state block; bring it up to date too.
        current.s[S_ICOUNT_LO] = current.icount | 0;
        current.s[S_ICOUNT_HI] = Math.floor(current.icount / 4294967296);
      }
      if (current !== null && !pvh) {
        current.s[S_NMI_PENDING] += lapicTakeNmis(apic);
        current.s[S_INTR_LINE] = intrLine();
        // INIT/SIPI: leave run() so the loop applies it before the next entry.
        if (lapicStartupPending(apic)) return true;
      }
      return (a & ATTN_PREEMPT) !== 0;
    },
    nowNs: () => env.nowNs(),
  };

  function cpuFor(domid: number, vcpu: number): Cpu | null {
    let d = domains.get(domid);
    if (d === undefined) {
      // The host posts the domain description before the domain can be scheduled; it may still
      // be in flight.
      // A domain destroyed since it was assigned here is dropped at once: waiting for it would
      // leave this pCPU idle for DOMAIN_WAIT_MS while other VCPUs are assigned to it.
      const deadline = env.wallMs() + DOMAIN_WAIT_MS;
      while (d === undefined && !gone.has(domid) && env.wallMs() < deadline) {
        drainControl();
        d = domains.get(domid);
        if (d === undefined && !gone.has(domid)) Atomics.wait(cb, base + P_WAKE, Atomics.load(cb, base + P_WAKE), 1);
      }
      if (d === undefined && gone.has(domid)) return null;
      if (d === undefined) {
        env.debug(`pcpu${me}: no description of domain ${domid}; dropping its VCPU ${vcpu}`);
        return null;
      }
    }
    let cpu = d.cpus[vcpu];
    if (cpu === undefined) {
      const phys = physMemoryOf(init.pool, d.share.p2m);
      if (d.share.statesOffset !== 0) adoptPoolBuffer(d.share.states, phys.mem8.buffer);
      cpu = new Cpu(d.share.states, d.share.statesOffset + vcpu * STATE_BYTES, phys, ops, { features: d.share.features, vcpuId: vcpu, blocks });
      cpu.attn = cb;
      cpu.attnIdx = base + P_ATTN;
      d.cpus[vcpu] = cpu;
      cpu.afterStateLoad();
    } else if (cpu.s[S_LAST_PCPU] !== me + 1) {
      cpu.afterStateLoad();
    }
    cpu.s[S_LAST_PCPU] = me + 1;
    return cpu;
  }

  /**
   * At the slice end, engine time `now`: a later slice end to run on to, or `now`. A slice taken
   * without the hypervisor (`took`, starting from `tookDeadline`) may have been lengthened by its
   * replay; and a pCPU a little short of a published decision's window runs on to its start.
   */
  function sliceEndAgain(took: boolean, tookDeadline: number, now: number): number {
    if (took) {
      const ext = Atomics.load(cb, base + P_SLICE_EXTEND);
      if (tookDeadline + ext > now) return tookDeadline + ext;
    }
    if (Atomics.load(cb, base + P_NEXT_SEQ) === 0) return now;
    // A torn read (the decision revoked meanwhile) only moves the slice end by NEXT_REACH_NS.
    const from = getF64(cb, base + P_NEXT_FROM);
    return from > now && from - now <= NEXT_REACH_NS ? from : now;
  }

  /**
   * At a slice end (or, `halt`, a HLT with interrupts enabled; or a preemption) at engine time `t`
   * (integer ns; `count`: a slice end, counted in the slice-end statistics):
   * takes the decision the hypervisor published for it, if one stands and `t` is inside its window.
   * Then the next VCPU is in `handed` and its slice end in `takenDeadline`, and REQ_SWITCHED is
   * posted for the hypervisor to replay; no round trip. False: ask (or post the HLT) as usual.
   */
  function takeNext(t: number, halt: boolean, count: boolean): boolean {
    const word = Atomics.load(cb, base + P_NEXT_SEQ);
    // The published sequence number and, in the low bits, the halt steps taken since.
    const step = word % HCHAIN_SEQ_STEP;
    // The fields are stable while the word stands; the compare-exchange below proves it did.
    // A slice-end decision holds only before any halt step (it assumed the VCPU running then).
    const e = base + P_HCHAIN + step * HCHAIN_STEP_WORDS;
    const domid = word === 0 ? -1 : halt ? (step < cb[base + P_HNEXT_STEPS] ? cb[e + HC_DOM] : -1) : step === 0 ? cb[base + P_NEXT_DOM] : -1;
    if (domid < 0) {
      if (count) cb[base + P_NO_NEXT]++;
      return false;
    }
    const from = getF64(cb, base + (halt ? P_HNEXT_FROM : P_NEXT_FROM));
    const until = getF64(cb, base + (halt ? P_HNEXT_UNTIL : P_NEXT_UNTIL));
    const vcpu = halt ? cb[e + HC_VCPU] : cb[base + P_NEXT_VCPU];
    const extint = halt ? cb[e + HC_EXTINT] : cb[base + P_NEXT_EXTINT];
    const len = getF64(cb, halt ? e + HC_LEN : base + P_NEXT_LEN);
    const tokenIdx = slot(cb[base + P_NEXT_TOKEN_PCPU], P_POOL_TOKEN);
    // Our own earlier steps moved the pool's token on.
    const token = (cb[base + P_NEXT_TOKEN] + step) | 0;
    if (t < from || t > until) {
      if (count) cb[base + P_TAKE_MISSES]++;
      return false;
    }
    putF64(cb, halt ? e + HC_TAKEN_NS : base + P_TAKEN_NS, t);
    cb[base + P_TAKEN_KIND] = halt ? TAKE_HALT : TAKE_SLICE_END;
    Atomics.store(cb, base + P_SLICE_EXTEND, 0);
    // First the pool's token (no sibling switched since; the others' decisions stop holding), then
    // our own decision (not ended): a halt step counts up, a slice end ends the publication.
    // Losing the second after winning the first only makes the siblings ask.
    if (Atomics.compareExchange(cb, tokenIdx, token, (token + 1) | 0) !== token || Atomics.compareExchange(cb, base + P_NEXT_SEQ, word, halt ? word + 1 : 0) !== word) {
      if (count) cb[base + P_TAKE_MISSES]++;
      return false;
    }
    post(REQ_SWITCHED, word - step, halt ? TAKE_HALT : TAKE_SLICE_END, step, halt ? RING_HALT_SWITCHED : RING_SWITCHED);
    takenInject = extint;
    if (extint !== 0) extIntHold = poster.head - 1;
    cb[base + (halt ? P_HALT_TAKES : count ? P_TAKES : P_PREEMPT_TAKES)]++;
    handedDom = domid;
    handedVcpu = vcpu;
    takenDeadline = len === NO_DEADLINE ? NO_DEADLINE : t + len;
    return true;
  }

  /**
   * Sleeps until the hypervisor has work for this pCPU (or control messages arrive), or until the
   * PIT edge of a timer offer this pCPU takes itself (pcpu-timer.ts); `wakeSnapshot` is the wake
   * word's value before the hypervisor last decided for this pCPU. `mayTake`: the VCPU that halted
   * here (if any) could take an interrupt (IF set, nothing pending). A standing offer the pCPU
   * cannot take rings the doorbell: the hypervisor does not wake for that edge by itself.
   */
  function sleepIdle(wakeSnapshot: number, mayTake = true): void {
    cb[base + P_CUR_DOM] = -1;
    let wake = wakeSnapshot;
    for (;;) {
      const word = timer.word();
      if (word !== 0 && mayTake && word !== timer.declinedSeq && timer.planTake(word, poster.head)) {
        const now = env.nowNs();
        if (now < timer.plan.at) {
          Atomics.wait(cb, base + P_WAKE, wake, (timer.plan.at - now) / NS_PER_MS);
          if (Atomics.load(cb, base + P_WAKE) === wake) continue;
        } else if (takeTimer(Math.floor(now))) {
          return;
        } else if (timer.word() !== word) {
          continue;
        }
      }
      if (Atomics.load(cb, base + P_WAKE) === wake) {
        if (word !== 0 && timer.declinedSeq !== word) {
          timer.declinedSeq = word;
          poster.ring();
        }
        Atomics.store(cb, base + P_TIDLE, 1);
        if (timer.word() === word) Atomics.wait(cb, base + P_WAKE, wake);
        Atomics.store(cb, base + P_TIDLE, 0);
        if (Atomics.load(cb, base + P_WAKE) === wake) continue;
      }
      if ((Atomics.load(cb, base + P_ATTN) & ATTN_CTRL) !== 0) {
        Atomics.and(cb, base + P_ATTN, ~ATTN_CTRL);
        drainControl();
      }
      const seq = Atomics.load(cb, base + P_ASSIGN_SEQ);
      if (seq !== assignSeen) {
        assignSeen = seq;
        if (cb[base + P_ASSIGN_DOM] >= 0) {
          handedDom = cb[base + P_ASSIGN_DOM];
          handedVcpu = cb[base + P_ASSIGN_VCPU];
        }
        break;
      }
      // Woken for a new timer offer only: sleep on towards its edge.
      if (timer.word() === 0 || (Atomics.load(cb, base + P_ATTN) & ATTN_PREEMPT) !== 0) break;
      wake = Atomics.load(cb, base + P_WAKE);
    }
    reason = SCHED_IDLE_WAKE;
  }

  /** Takes the planned timer edge at `t`: the offer's VCPU runs next with its vector injected. */
  function takeTimer(t: number): boolean {
    if (!timer.take(t)) return false;
    // The take needs no hypervisor soon: it replays it at its next wake-up.
    poster.postQuiet(REQ_TIMER_TAKEN, timer.plan.word, instantLo(t), instantHi(t));
    timer.tookAt(t, poster.head);
    handedDom = timer.plan.domid;
    handedVcpu = timer.plan.vcpu;
    takenInject = timer.plan.vector;
    extIntHold = poster.head - 1;
    takenDeadline = t + TIMER_TAKE_SLICE_NS;
    return true;
  }

  /** Switches to where the last step of the edge publication sends this pCPU (edges.next). */
  function handEdgeNext(): void {
    const n = edges.next;
    handedDom = n.domid;
    handedVcpu = n.vcpu;
    takenDeadline = n.deadline;
    takenInject = n.inject;
    if (n.inject !== 0) extIntHold = poster.head - 1;
  }

  /** The run rate of this pCPU's chunks (sizes the last chunk of a slice, slice-chunk.ts). */
  const rate = newSliceRate();
  /** Timer offers this pCPU takes itself (pcpu-timer.ts). */
  const timer = new PcpuTimer(cb, base);
  /** Timer edges this pCPU takes while it runs a VCPU (pcpu-edge-take.ts), and whether it does now. */
  const edges = new PcpuEdgeTaker(cb, base, poster);
  let edgesOn = false;
  /** The run stopped for a step of the edge publication: switch to edges.next (or, `edgeAsk`, ask). */
  let edgeSwitch = false;
  let edgeAsk = false;
  let reason = SCHED_START;
  let assignSeen = Atomics.load(cb, base + P_ASSIGN_SEQ);
  /** A VCPU handed over directly while idle or taken by this pCPU (domid, vcpu), or -1. */
  let handedDom = -1;
  let handedVcpu = 0;
  /** The slice end of a VCPU taken at a slice end (takeNext), before the hypervisor extends it. */
  let takenDeadline: number | undefined;
  /** The 8259 vector plus one to inject into the VCPU taken (takeNext), or 0. */
  let takenInject = 0;
  drainControl();
  while (Atomics.load(cb, CB_SHUTDOWN) === 0) {
    let domid: number;
    let vcpu: number;
    /** The slice end of a VCPU taken at a slice end, or undefined (the hypervisor's P_DEADLINE). */
    const taken = takenDeadline;
    takenDeadline = undefined;
    /** The 8259 vector plus one to inject on entry (a decision taken with P_*_EXTINT), or 0. */
    const inject = takenInject;
    takenInject = 0;
    if (inject === 0) extIntHold = -1;
    if (handedDom >= 0) {
      domid = handedDom;
      vcpu = handedVcpu;
      handedDom = -1;
    } else {
      domid = call(REQ_SCHEDULE, reason, 0, 0);
      vcpu = cb[base + P_RES1];
      // An assignment made before this answer is superseded by it.
      assignSeen = Atomics.load(cb, base + P_ASSIGN_SEQ);
    }
    if (domid < 0) {
      sleepIdle(cb[base + P_RES2]);
      continue;
    }
    const cpu = cpuFor(domid, vcpu);
    if (cpu === null) {
      reason = SCHED_STOPPED;
      continue;
    }
    current = cpu;
    const dom = domains.get(domid) as PcpuDomain;
    pvh = dom.share.pvh;
    lsrCache = dom.lsr;
    curDomid = domid;
    curVcpu = vcpu;
    apic = dom.lapics[vcpu];
    if (!pvh) {
      // INIT/SIPI sent to this VCPU take effect before it runs.
      if (lapicApplyStartup(apic, cpu.s) !== 0) cpu.afterStateLoad();
      // The interrupt the hypervisor pre-answered for a decision taken here (its INTA cycle is
      // replayed with the switch): delivered on entry, as prepareEntry does for a hand-over.
      if (inject !== 0) {
        cpu.s[S_INJECT_VECTOR] = inject;
        cpu.s[S_HALTED] = 0;
      }
      cpu.s[S_INTR_LINE] = intrLine();
    }
    cb[base + P_CUR_DOM] = domid;
    cb[base + P_CUR_VCPU] = vcpu;
    publishedNs = env.nowNs();
    publishedInsns = cpu.icount;
    let exit: RunExit;
    /** This slice was taken without the hypervisor, which may lengthen it (P_SLICE_EXTEND). */
    const took = taken !== undefined;
    let deadline = taken ?? getF64(cb, base + P_DEADLINE);
    const tookDeadline = deadline;
    let atDeadline = false;
    try {
      // Run in chunks and end the slice at its deadline ourselves (the hypervisor does not wake
      // for it); ATTN_PREEMPT from the hypervisor still stops it early (tickles, pauses).
      let now = publishedNs;
      // After a take, the first chunk is short so that REQ_SWITCHED reaches the hypervisor soon.
      let cap = took ? SWITCHED_RING_INSNS : SLICE_CHECK_INSNS;
      edgesOn = !pvh && edges.sync(domid, vcpu);
      poster.fillRing = edgesOn;
      edgeSwitch = false;
      edgeAsk = false;
      for (;;) {
        const start = cpu.icount;
        // A timer offer's edge ends the chunk too (edgePassed below), and an offered edge (takeDue).
        const due = Math.min(timer.dueNs(), edgesOn ? edges.dueNs() : NO_DEADLINE);
        exit = cpu.run(start + Math.min(cap, sliceChunk(rate, now, due < deadline ? due : deadline, NO_DEADLINE)));
        cap = SLICE_CHECK_INSNS;
        if (exit !== RunExit.Limit) break;
        const t = env.nowNs();
        sliceRateUpdate(rate, cpu.icount - start, t - now);
        now = t;
        // Posted writes wait at most one chunk for the hypervisor.
        poster.ringIfUnrung();
        // A timer offer's edge came while a VCPU runs: the hypervisor, which left it to this pCPU, serves it.
        if (timer.edgePassed(now)) poster.ring();
        edgesOn = !pvh && edges.sync(domid, vcpu);
        poster.fillRing = edgesOn;
        if (edgesOn) {
          const r = edges.takeDue(now);
          edgeSwitch = r === EDGES_SWITCH;
          edgeAsk = r === EDGES_ASK;
          if (edgeSwitch || edgeAsk) {
            exit = RunExit.Attention;
            break;
          }
        }
        if (deadline !== NO_DEADLINE && now >= deadline) {
          const later = sliceEndAgain(took, tookDeadline, now);
          if (later > now) {
            deadline = later;
            continue;
          }
          edgeSwitch = edgesOn && edges.atSliceEnd(Math.floor(now));
          atDeadline = !edgeSwitch;
          exit = RunExit.Attention;
          break;
        }
      }
    } catch (err) {
      // An engine bug: report it and drop the VCPU; the engine and other domains carry on.
      env.debug(`pcpu${me}: engine fault running domain ${domid} vcpu ${vcpu}: ${err instanceof Error ? err.stack : String(err)}`);
      exit = RunExit.Shutdown;
      cpu.recordFault(FAULT_KIND_ENGINE, `engine fault: ${err instanceof Error ? err.message : String(err)}`);
    }
    publishRun(cpu);
    const stopNs = Math.floor(env.nowNs());
    putF64(cb, base + P_STOP_NS, stopNs);
    /** An interrupt reached the local APIC as the VCPU halted: the hypervisor keeps it running. */
    const haltPending = exit === RunExit.Halt && !pvh && intrLine() !== 0;
    current = null;
    apic = NO_APIC;
    edgesOn = false;
    if (edgeSwitch || edgeAsk) {
      reason = SCHED_PREEMPTED;
      if (edgeSwitch) handEdgeNext();
      continue;
    }
    // A slice that ended at its deadline, or was preempted (a wake), may go on with the published
    // next decision; at a deadline only if no preemption came meanwhile (it was published after).
    if (exit === RunExit.Attention && (!atDeadline || (Atomics.load(cb, base + P_ATTN) & ATTN_PREEMPT) === 0) && takeNext(stopNs, false, atDeadline)) continue;
    if (exit === RunExit.Halt && !pvh) {
      // A HLT that an interrupt can end, with nothing pending: switch to the published halt
      // decision (another VCPU of the pool) without a round trip; the hypervisor replays the block.
      if ((cpu.s[S_EFLAGS] & IF) !== 0 && !haltPending && (Atomics.load(cb, base + P_ATTN) & ATTN_PREEMPT) === 0) {
        // Under an edge publication the model says what runs next; else a published halt decision may.
        if (edges.sync(domid, vcpu) && edges.atHalt(stopNs)) {
          handEdgeNext();
          continue;
        }
        if (takeNext(stopNs, true, false)) continue;
      }
      // HLT needs no answer: post it and sleep like an idle pCPU; the hypervisor blocks the VCPU
      // and hands this pCPU whatever it should run next. While the hypervisor sleeps with nothing
      // waiting for this pCPU, a HLT that an interrupt can end is left for its next wake-up
      // (P_LAZY_HALT); a HLT with interrupts off may be final and is reported at once.
      const wakeSnapshot = Atomics.load(cb, base + P_WAKE);
      const mayBeLazy = (cpu.s[S_EFLAGS] & IF) !== 0;
      // The instant rides with the HLT: several may wait in the ring while this pCPU takes timer edges.
      post(REQ_SCHEDULE, mayBeLazy ? SCHED_HALTED | HALT_IF_ON : SCHED_HALTED, instantLo(stopNs), instantHi(stopNs), false);
      if (!mayBeLazy || Atomics.load(cb, base + P_LAZY_HALT) === 0) poster.ring();
      // An edge publication this pCPU no longer follows: the hypervisor must serve those edges.
      if (edges.standing()) edges.decline();
      sleepIdle(wakeSnapshot, mayBeLazy && !haltPending);
      continue;
    }
    reason =
      exit === RunExit.Halt ? SCHED_HALTED
      : exit === RunExit.Shutdown ? SCHED_SHUTDOWN
      : exit === RunExit.WaitForSipi ? SCHED_SIPI_WAIT
      : exit === RunExit.Attention ? SCHED_PREEMPTED
      : SCHED_STOPPED;
  }
}

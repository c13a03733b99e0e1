/**
 * Deterministic discrete-event simulator for the scheduling core. It plays the pCPUs: it runs the
 * vCPU each pCPU was given until the slice deadline, the end of the workload's burst (block or
 * yield) or a tickle, on a virtual clock in ns. The real SchedCore and schedulers run unchanged.
 *
 * Design
 * ------
 * At each instant the simulator processes, in this order: scripted actions (`at`), guest wake
 * events, scheduler timers, burst ends and slice deadlines, then every pending schedule call
 * (tickles raised meanwhile are served at the same instant, lowest pCPU first). Xen runs its
 * timer softirq before the schedule softirq; guest timer wake-ups are timers too, so they come
 * first. Scheduling decisions take zero virtual time.
 */
import { SchedCore, type SchedCoreConfig, type SchedDomainConfig } from '../core';
import type { ScheduleDecision } from '../core-records';
import type { SchedTraceRecord } from '../sched-trace';
import { makeWorkload, type Workload, type WorkloadSpec } from './workloads';

/** A domain for the simulator: the core's config plus one workload per vCPU. */
export interface SimDomainConfig extends SchedDomainConfig {
  /** One workload for every vCPU, or one per vCPU. */
  workload: WorkloadSpec | WorkloadSpec[];
}

interface SimVcpu {
  domid: number;
  vcpu: number;
  wl: Workload;
  /** CPU time left in the current run action. */
  remaining: number;
  blocked: boolean;
  wakeAt: number;
  /** pCPU it runs on in the simulation, -1 if none. */
  pcpu: number;
  dead: boolean;
}

interface SimPcpu {
  cur: SimVcpu | null;
  deadline: number;
  lastProgress: number;
}

interface SimAction {
  t: number;
  seq: number;
  fn: (sim: Simulator) => void;
}

/** Most steps at one instant before the simulator declares it makes no progress. */
const SIM_MAX_STEPS_PER_INSTANT = 10_000;
/** Most schedule calls at one instant before the simulator declares a livelock. */
const SIM_MAX_SCHEDULES_PER_INSTANT = 100_000;

/** The simulator. */
export class Simulator {
  /** The core under simulation. */
  readonly core: SchedCore;
  /** Every trace record since the start. */
  readonly records: SchedTraceRecord[] = [];
  /** Virtual time, ns. */
  now = 0;
  private readonly vcpus = new Map<string, SimVcpu>();
  private readonly pcpus: SimPcpu[] = [];
  private readonly pending = new Set<number>();
  private actions: SimAction[] = [];
  private seq = 0;

  constructor(config: SchedCoreConfig) {
    this.core = new SchedCore(
      { now: () => this.now, tickle: (p) => this.pending.add(p) },
      { traceCapacity: 0, ...config, traceListener: (r) => this.records.push(r) },
    );
    for (let i = 0; i < config.nrCpus; i++) this.pcpus.push({ cur: null, deadline: Infinity, lastProgress: 0 });
  }

  /** Creates a domain now, with its workloads. */
  addDomain(cfg: SimDomainConfig): void {
    const specs = Array.isArray(cfg.workload) ? cfg.workload : Array.from({ length: cfg.maxVcpus }, () => cfg.workload as WorkloadSpec);
    const created: SimVcpu[] = [];
    for (let i = 0; i < cfg.maxVcpus; i++) {
      const sv: SimVcpu = { domid: cfg.domid, vcpu: i, wl: makeWorkload(specs[i] ?? { kind: 'idle' }), remaining: 0, blocked: false, wakeAt: Infinity, pcpu: -1, dead: false };
      created.push(sv);
    }
    this.core.addDomain(cfg);
    for (const sv of created) {
      this.vcpus.set(key(sv.domid, sv.vcpu), sv);
      this.advanceWorkload(sv);
    }
  }

  /** Destroys a domain now. */
  removeDomain(domid: number): void {
    for (const sv of this.vcpus.values()) if (sv.domid === domid) sv.dead = true;
    this.core.removeDomain(domid);
    for (const [k, sv] of this.vcpus) if (sv.domid === domid) this.vcpus.delete(k);
  }

  /** Runs `fn` at virtual time `t` (before anything else happening at `t`). */
  at(t: number, fn: (sim: Simulator) => void): void {
    this.actions.push({ t: wholeNs(t), seq: this.seq++, fn });
    this.actions.sort((a, b) => a.t - b.t || a.seq - b.seq);
  }

  /** Advances the simulation to `end`. */
  runUntil(end: number): void {
    let sameInstant = 0;
    for (;;) {
      const t = this.nextEventTime();
      if (t > end) {
        this.advance(end);
        this.now = end;
        return;
      }
      sameInstant = t === this.now ? sameInstant + 1 : 0;
      if (sameInstant > SIM_MAX_STEPS_PER_INSTANT) throw new Error(`sim: no progress at t=${this.now}: ${this.describe()}`);
      this.advance(t);
      this.now = t;
      this.step();
    }
  }

  /** One line per pCPU for diagnostics. */
  private describe(): string {
    return this.pcpus.map((p, c) => `cpu${c}: ${p.cur ? `d${p.cur.domid}v${p.cur.vcpu} rem=${p.cur.remaining}` : 'idle'} until=${p.deadline}`).join('; ');
  }

  /** Advances by `ns`. */
  runFor(ns: number): void {
    this.runUntil(this.now + ns);
  }

  private nextEventTime(): number {
    if (this.pending.size > 0) return this.now;
    let t = this.actions.length > 0 ? this.actions[0].t : Infinity;
    for (const sv of this.vcpus.values()) if (sv.blocked && sv.wakeAt < t) t = sv.wakeAt;
    t = Math.min(t, this.core.nextTimer());
    for (const p of this.pcpus) {
      t = Math.min(t, p.deadline);
      if (p.cur) t = Math.min(t, p.lastProgress + p.cur.remaining);
    }
    return Math.max(t, this.now);
  }

  private advance(t: number): void {
    for (const p of this.pcpus) {
      if (p.cur && t > p.lastProgress) {
        p.cur.remaining -= t - p.lastProgress;
      }
      p.lastProgress = t;
    }
  }

  /** Asks the workload what to do after its previous action, while not running or running. */
  private advanceWorkload(sv: SimVcpu): void {
    for (let guard = 0; guard < 1000; guard++) {
      const a = sv.wl.next(this.now);
      if ('run' in a) {
        if (!(a.run >= 1)) continue;
        sv.remaining = wholeNs(a.run);
        return;
      }
      if ('yield' in a) {
        if (sv.pcpu >= 0) {
          this.core.yield(sv.domid, sv.vcpu);
          this.pending.add(sv.pcpu);
        }
        continue;
      }
      sv.remaining = 0;
      sv.blocked = true;
      sv.wakeAt = wholeNs(a.blockUntil);
      this.core.block(sv.domid, sv.vcpu);
      if (sv.pcpu >= 0) this.pending.add(sv.pcpu);
      return;
    }
    throw new Error(`sim: workload of d${sv.domid}v${sv.vcpu} makes no progress`);
  }

  private step(): void {
    while (this.actions.length > 0 && this.actions[0].t <= this.now) {
      const a = this.actions.shift() as SimAction;
      a.fn(this);
    }
    const waking = [...this.vcpus.values()].filter((sv) => sv.blocked && sv.wakeAt <= this.now).sort((a, b) => a.domid - b.domid || a.vcpu - b.vcpu);
    for (const sv of waking) {
      sv.blocked = false;
      sv.wakeAt = Infinity;
      const a = sv.wl.next(this.now);
      if ('blockUntil' in a) {
        sv.blocked = true;
        sv.wakeAt = wholeNs(a.blockUntil);
        continue;
      }
      sv.remaining = 'run' in a && a.run >= 1 ? wholeNs(a.run) : 0;
      this.core.wake(sv.domid, sv.vcpu);
      if (sv.remaining <= 0) this.advanceWorkload(sv);
    }
    this.core.runTimers();
    this.pcpus.forEach((p, cpu) => {
      const cur = p.cur;
      if (cur && !cur.dead && !cur.blocked && cur.remaining <= 0) this.advanceWorkload(cur);
      if (this.now >= p.deadline) this.pending.add(cpu);
    });
    let calls = 0;
    while (this.pending.size > 0) {
      const cpu = Math.min(...this.pending);
      this.pending.delete(cpu);
      this.apply(cpu, this.core.schedule(cpu));
      if (++calls > SIM_MAX_SCHEDULES_PER_INSTANT) throw new Error(`sim: scheduling livelock at t=${this.now}`);
    }
  }

  private apply(cpu: number, d: ScheduleDecision): void {
    const p = this.pcpus[cpu];
    const next = d.vcpu ? (this.vcpus.get(key(d.vcpu.domid, d.vcpu.vcpu)) ?? null) : null;
    if (d.vcpu && !next) throw new Error(`sim: pCPU ${cpu} was given unknown d${d.vcpu.domid}v${d.vcpu.vcpu}`);
    if (p.cur !== next) {
      if (p.cur && p.cur.pcpu === cpu) p.cur.pcpu = -1;
      if (next) {
        if (next.pcpu >= 0 && next.pcpu !== cpu) {
          // The core took it off that pCPU internally (eviction); that pCPU's own schedule call
          // at this instant is still pending.
          const other = this.pcpus[next.pcpu];
          if (other.cur === next) other.cur = null;
        }
        if (next.blocked) throw new Error(`sim: blocked d${next.domid}v${next.vcpu} given to pCPU ${cpu} at t=${this.now}`);
        next.pcpu = cpu;
      }
      p.cur = next;
    }
    p.lastProgress = this.now;
    p.deadline = d.until;
  }
}

/** Virtual time is kept in whole nanoseconds so that instants compare exactly. */
function wholeNs(t: number): number {
  return Number.isFinite(t) ? Math.round(t) : t;
}

function key(domid: number, vcpu: number): string {
  return `${domid}.${vcpu}`;
}

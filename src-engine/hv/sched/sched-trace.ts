/**
 * The schedule trace: every switch in/out of a pCPU and every state change that matters to the
 * scheduling properties (spec/schedulers.md section 11: "the engine emits a trace ... each
 * property is a pure function over the trace"). Kept in a ring buffer for the GUI timeline and
 * `domus top`; subscribers (the simulator, the GUI stream) see every record as it happens.
 */
import type { CpuSet } from '../../base/cpulist';

/** What a trace record reports. */
export type SchedTraceEvent =
  /** A vCPU starts running on the pCPU. */
  | 'in'
  /** A vCPU stops running on the pCPU. */
  | 'out'
  /** A vCPU became runnable after blocking. */
  | 'wake'
  /** A vCPU halted (blocked). */
  | 'block'
  /** A vCPU yielded. */
  | 'yield'
  /** Pause / unpause of the vCPU (domain pause, scheduler pause, parking, offline). */
  | 'runnable'
  | 'unrunnable'
  /** Hard/soft affinity changed (payload: hard, soft). */
  | 'affinity'
  /** The vCPU now belongs to a pool (payload: pool) - creation or cpupool-migrate. */
  | 'pool'
  /** The vCPU was destroyed. */
  | 'destroy'
  /** A pool's pCPU set changed (domid/vcpu = -1; payload: pool, cpus). */
  | 'pool-cpus';

/** Why a vCPU was switched out (or in). */
export type SchedTraceReason =
  | 'slice'
  | 'preempt'
  | 'block'
  | 'yield'
  | 'pause'
  | 'offline'
  | 'park'
  | 'migrate'
  | 'pool-move'
  | 'destroy'
  | 'cpu-remove'
  | 'pick';

/** One trace record. */
export interface SchedTraceRecord {
  /** Time in ns. */
  t: number;
  /** pCPU concerned (the unit's assigned pCPU for non-switch events; -1 if none). */
  pcpu: number;
  domid: number;
  vcpu: number;
  event: SchedTraceEvent;
  reason?: SchedTraceReason;
  /** 'affinity': the new masks. */
  hard?: CpuSet;
  soft?: CpuSet;
  /** 'pool' and 'pool-cpus': the pool id. */
  pool?: number;
  /** 'pool-cpus': the pool's pCPUs after the change. */
  cpus?: CpuSet;
}

/** A subscriber; return nothing. */
export type SchedTraceListener = (r: SchedTraceRecord) => void;

/** Default ring capacity: about a minute of busy scheduling on a small host. */
export const DEFAULT_TRACE_CAPACITY = 65_536;

/** Ring buffer of trace records with subscribe hooks. */
export class SchedTrace {
  private ring: (SchedTraceRecord | undefined)[];
  private head = 0;
  private count = 0;
  private listeners = new Set<SchedTraceListener>();

  constructor(readonly capacity: number = DEFAULT_TRACE_CAPACITY) {
    this.ring = new Array<SchedTraceRecord | undefined>(Math.max(0, capacity));
  }

  /** Appends a record and tells every subscriber. */
  emit(r: SchedTraceRecord): void {
    if (this.capacity > 0) {
      this.ring[this.head] = r;
      this.head = (this.head + 1) % this.capacity;
      if (this.count < this.capacity) this.count++;
    }
    for (const l of this.listeners) l(r);
  }

  /** Subscribes; returns the unsubscribe function. */
  subscribe(l: SchedTraceListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Records still in the ring, oldest first. */
  all(): SchedTraceRecord[] {
    const out: SchedTraceRecord[] = [];
    const start = (this.head - this.count + this.capacity) % Math.max(1, this.capacity);
    for (let i = 0; i < this.count; i++) {
      const r = this.ring[(start + i) % this.capacity];
      if (r) out.push(r);
    }
    return out;
  }

  /** Records with t >= now - windowNs (the "last N seconds" view). */
  since(now: number, windowNs: number): SchedTraceRecord[] {
    const from = now - windowNs;
    return this.all().filter((r) => r.t >= from);
  }
}

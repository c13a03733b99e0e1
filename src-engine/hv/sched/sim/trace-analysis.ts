/**
 * Pure functions over a schedule trace (spec/schedulers.md section 11: "each property is a pure
 * function over the trace"): execution intervals, shares, idle time, wake latencies, and the
 * invariant checks P1-P4 (exclusivity, hard affinity, pool isolation, only runnable vCPUs run).
 * Used by the property tests, the what-if API and the GUI timeline.
 */
import type { CpuSet } from '../../../base/cpulist';
import { maskHas } from '../cpumask';
import type { SchedTraceRecord } from '../sched-trace';

/** One stretch of a vCPU running on a pCPU: [start, end). */
export interface ExecInterval {
  pcpu: number;
  domid: number;
  vcpu: number;
  start: number;
  end: number;
}

/** "domid.vcpu". */
export function vcpuKey(domid: number, vcpu: number): string {
  return `${domid}.${vcpu}`;
}

/** Execution intervals from the in/out records; intervals still open are closed at `endTime`. */
export function execIntervals(records: readonly SchedTraceRecord[], endTime: number): ExecInterval[] {
  const open = new Map<number, ExecInterval>();
  const out: ExecInterval[] = [];
  for (const r of records) {
    if (r.event === 'out') {
      const iv = open.get(r.pcpu);
      if (iv && iv.domid === r.domid && iv.vcpu === r.vcpu) {
        iv.end = r.t;
        out.push(iv);
        open.delete(r.pcpu);
      }
    } else if (r.event === 'in') {
      const prev = open.get(r.pcpu);
      if (prev) {
        prev.end = r.t;
        out.push(prev);
      }
      open.set(r.pcpu, { pcpu: r.pcpu, domid: r.domid, vcpu: r.vcpu, start: r.t, end: r.t });
    }
  }
  for (const iv of open.values()) {
    iv.end = endTime;
    out.push(iv);
  }
  return out.filter((iv) => iv.end > iv.start).sort((a, b) => a.start - b.start || a.pcpu - b.pcpu);
}

function overlap(iv: ExecInterval, from: number, to: number): number {
  return Math.max(0, Math.min(iv.end, to) - Math.max(iv.start, from));
}

/** Run time of one vCPU in [from, to). */
export function runTime(ivs: readonly ExecInterval[], domid: number, vcpu: number, from: number, to: number): number {
  let t = 0;
  for (const iv of ivs) if (iv.domid === domid && iv.vcpu === vcpu) t += overlap(iv, from, to);
  return t;
}

/** Run time of a whole domain in [from, to). */
export function domainRunTime(ivs: readonly ExecInterval[], domid: number, from: number, to: number): number {
  let t = 0;
  for (const iv of ivs) if (iv.domid === domid) t += overlap(iv, from, to);
  return t;
}

/** Busy time of a pCPU in [from, to). */
export function pcpuBusy(ivs: readonly ExecInterval[], pcpu: number, from: number, to: number): number {
  let t = 0;
  for (const iv of ivs) if (iv.pcpu === pcpu) t += overlap(iv, from, to);
  return t;
}

/** Share of one pCPU each vCPU received in [from, to), keyed "domid.vcpu". */
export function shares(ivs: readonly ExecInterval[], from: number, to: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const iv of ivs) {
    const k = vcpuKey(iv.domid, iv.vcpu);
    m.set(k, (m.get(k) ?? 0) + overlap(iv, from, to) / (to - from));
  }
  return m;
}

/** Wake-to-run latencies (ns) of one vCPU: from each 'wake' record to its next 'in'. */
export function wakeLatencies(records: readonly SchedTraceRecord[], domid: number, vcpu: number): number[] {
  const lat: number[] = [];
  let wokeAt = -1;
  for (const r of records) {
    if (r.domid !== domid || r.vcpu !== vcpu) continue;
    if (r.event === 'wake') wokeAt = r.t;
    else if (r.event === 'in' && wokeAt >= 0) {
      lat.push(r.t - wokeAt);
      wokeAt = -1;
    }
  }
  return lat;
}

/** Time a vCPU was runnable (not necessarily running) in [from, to), from runnable records. */
export function runnableTime(records: readonly SchedTraceRecord[], domid: number, vcpu: number, from: number, to: number): number {
  let since = -1;
  let total = 0;
  for (const r of records) {
    if (r.domid !== domid || r.vcpu !== vcpu) continue;
    if (r.event === 'runnable' && since < 0) since = r.t;
    else if (r.event === 'unrunnable' && since >= 0) {
      total += Math.max(0, Math.min(r.t, to) - Math.max(since, from));
      since = -1;
    }
  }
  if (since >= 0) total += Math.max(0, to - Math.max(since, from));
  return total;
}

interface CheckState {
  hard: Map<string, CpuSet>;
  pool: Map<string, number>;
  poolCpus: Map<number, CpuSet>;
  runnable: Map<string, boolean>;
  /** pCPU -> running vCPU key. */
  running: Map<number, string>;
}

/**
 * Replays the trace and checks the invariants after every instant (a switch caused by an event
 * at t must happen at t): P1 exclusivity, P2 hard affinity, P3 pool isolation, P4 only runnable
 * vCPUs run. Returns human-readable violations (empty = all hold).
 */
export function checkInvariants(records: readonly SchedTraceRecord[]): string[] {
  const st: CheckState = { hard: new Map(), pool: new Map(), poolCpus: new Map(), runnable: new Map(), running: new Map() };
  const errors: string[] = [];
  const report = (msg: string): void => {
    if (errors.length < 50) errors.push(msg);
  };
  let i = 0;
  while (i < records.length) {
    const t = records[i].t;
    for (; i < records.length && records[i].t === t; i++) {
      const r = records[i];
      const k = vcpuKey(r.domid, r.vcpu);
      switch (r.event) {
        case 'affinity':
          if (r.hard) st.hard.set(k, r.hard);
          break;
        case 'pool':
          if (r.pool !== undefined) st.pool.set(k, r.pool);
          break;
        case 'pool-cpus':
          if (r.pool !== undefined && r.cpus) st.poolCpus.set(r.pool, r.cpus);
          break;
        case 'runnable':
          st.runnable.set(k, true);
          break;
        case 'unrunnable':
          st.runnable.set(k, false);
          break;
        case 'in': {
          const other = st.running.get(r.pcpu);
          if (other !== undefined) report(`P1: t=${t} pCPU ${r.pcpu} switched to ${k} while ${other} still ran there`);
          for (const [c, v] of st.running) if (v === k && c !== r.pcpu) report(`P1: t=${t} ${k} runs on pCPU ${c} and ${r.pcpu}`);
          st.running.set(r.pcpu, k);
          break;
        }
        case 'out':
          if (st.running.get(r.pcpu) === k) st.running.delete(r.pcpu);
          break;
        case 'destroy':
          st.runnable.delete(k);
          break;
        default:
          break;
      }
    }
    for (const [cpu, k] of st.running) {
      const hard = st.hard.get(k);
      const pool = st.pool.get(k);
      const cpus = pool === undefined ? undefined : st.poolCpus.get(pool);
      if (hard && !maskHas(hard, cpu)) report(`P2: t=${t} ${k} runs on pCPU ${cpu} outside its hard affinity ${hard.join(',')}`);
      if (cpus && !maskHas(cpus, cpu)) report(`P3: t=${t} ${k} of pool ${pool} runs on pCPU ${cpu}, not in the pool (${cpus.join(',')})`);
      if (st.runnable.get(k) !== true) report(`P4: t=${t} ${k} runs on pCPU ${cpu} while not runnable`);
    }
  }
  return errors;
}

/**
 * Work conservation (spec P12): the longest stretch during which some runnable vCPU waited while a
 * pCPU of its pool inside its hard affinity stood idle. Returns 0 for a work-conserving run.
 */
export function maxIdleWhileWaiting(records: readonly SchedTraceRecord[], endTime: number): number {
  const hard = new Map<string, CpuSet>();
  const pool = new Map<string, number>();
  const poolCpus = new Map<number, CpuSet>();
  const runnable = new Set<string>();
  const running = new Map<number, string>();
  const since = new Map<string, number>();
  let worst = 0;
  const evaluate = (t: number): void => {
    const busy = new Set(running.values());
    for (const k of runnable) {
      let starved = false;
      if (!busy.has(k)) {
        const cpus = poolCpus.get(pool.get(k) ?? -1) ?? [];
        const h = hard.get(k) ?? cpus;
        starved = cpus.some((c) => maskHas(h, c) && !running.has(c));
      }
      if (starved && !since.has(k)) since.set(k, t);
      if (!starved && since.has(k)) {
        worst = Math.max(worst, t - (since.get(k) as number));
        since.delete(k);
      }
    }
    for (const [k, s] of since) {
      if (!runnable.has(k)) {
        worst = Math.max(worst, t - s);
        since.delete(k);
      }
    }
  };
  let i = 0;
  while (i < records.length) {
    const t = records[i].t;
    for (; i < records.length && records[i].t === t; i++) {
      const r = records[i];
      const k = vcpuKey(r.domid, r.vcpu);
      if (r.event === 'affinity' && r.hard) hard.set(k, r.hard);
      else if (r.event === 'pool' && r.pool !== undefined) pool.set(k, r.pool);
      else if (r.event === 'pool-cpus' && r.pool !== undefined && r.cpus) poolCpus.set(r.pool, r.cpus);
      else if (r.event === 'runnable') runnable.add(k);
      else if (r.event === 'unrunnable' || r.event === 'destroy') runnable.delete(k);
      else if (r.event === 'in') running.set(r.pcpu, k);
      else if (r.event === 'out' && running.get(r.pcpu) === k) running.delete(r.pcpu);
    }
    evaluate(t);
  }
  for (const s of since.values()) worst = Math.max(worst, endTime - s);
  return worst;
}

/** Percentile (0..100) of a list of numbers; NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const idx = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[idx];
}

/**
 * Pure functions over a real engine's schedule trace (src-engine/hv/sched/sched-trace.ts records,
 * engine-clock ns). The simulator's checks (hv/sched/sim/trace-analysis.ts) assume decisions take
 * no time, so a switch caused by an event at t happens at t; on real pCPU threads it happens at
 * that pCPU's next decision. These checks state the properties the way spec/schedulers.md
 * section 11 words them for a real engine: P2 "as of the start of the interval", vcpu-pin "off
 * the disallowed pCPU at its next scheduling decision", ARINC 653 windows "exact to one
 * emulation quantum" (the overrun is measured, not assumed).
 */
import { maskHas } from '../../../src-engine/hv/sched/cpumask';
import { percentile, type ExecInterval } from '../../../src-engine/hv/sched/sim/trace-analysis';
import type { SchedTraceReason, SchedTraceRecord } from '../../../src-engine/hv/sched/sched-trace';

/** n, mean and percentiles of a sample (NaN when empty). */
export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Summarises a sample. */
export function summarize(xs: readonly number[]): Summary {
  const n = xs.length;
  return {
    n,
    mean: n === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / n,
    p50: percentile(xs, 50),
    p90: percentile(xs, 90),
    p99: percentile(xs, 99),
    max: n === 0 ? NaN : Math.max(...xs),
  };
}

/** A summary of nanosecond values, printed in ms. */
export function msLine(s: Summary): string {
  const f = (v: number) => (v / 1e6).toFixed(3);
  return `n=${s.n} mean ${f(s.mean)} p50 ${f(s.p50)} p90 ${f(s.p90)} p99 ${f(s.p99)} max ${f(s.max)} ms`;
}

/** "domid.vcpu". */
function key(domid: number, vcpu: number): string {
  return `${domid}.${vcpu}`;
}

/** Replayed scheduler state: hard affinity, pool of each vCPU, pCPUs of each pool, who runs where. */
interface Replay {
  hard: Map<string, readonly number[]>;
  pool: Map<string, number>;
  poolCpus: Map<number, readonly number[]>;
  running: Map<number, string>;
}

function replayStep(st: Replay, r: SchedTraceRecord): void {
  const k = key(r.domid, r.vcpu);
  if (r.event === 'affinity' && r.hard) st.hard.set(k, r.hard);
  else if (r.event === 'pool' && r.pool !== undefined) st.pool.set(k, r.pool);
  else if (r.event === 'pool-cpus' && r.pool !== undefined && r.cpus) st.poolCpus.set(r.pool, r.cpus);
  else if (r.event === 'in') st.running.set(r.pcpu, k);
  else if (r.event === 'out' && st.running.get(r.pcpu) === k) st.running.delete(r.pcpu);
}

/** Result of the hard-affinity check. */
export interface AffinityCheck {
  /** 'in' records checked against a known hard affinity. */
  checked: number;
  violations: string[];
}

/**
 * P2 and P3 as of the start of every execution interval: each 'in' of vCPU v on pCPU c must have
 * c in hard(v) and in the pCPUs of v's pool, by the records before it. `initialPoolCpus` gives
 * the pools' pCPUs at the first record (the engine does not trace Pool-0's creation).
 */
export function checkAffinityAtStart(records: readonly SchedTraceRecord[], initialPoolCpus: ReadonlyMap<number, readonly number[]> = new Map()): AffinityCheck {
  const st: Replay = { hard: new Map(), pool: new Map(), poolCpus: new Map(initialPoolCpus), running: new Map() };
  const violations: string[] = [];
  let checked = 0;
  for (const r of records) {
    if (r.event === 'in') {
      const k = key(r.domid, r.vcpu);
      const hard = st.hard.get(k);
      const pool = st.pool.get(k);
      const cpus = pool === undefined ? undefined : st.poolCpus.get(pool);
      if (hard) {
        checked++;
        if (!maskHas(hard, r.pcpu)) violations.push(`t=${r.t} ${k} switched in on pCPU ${r.pcpu}, outside its hard affinity {${hard.join(',')}}`);
      }
      if (cpus && !maskHas(cpus, r.pcpu)) violations.push(`t=${r.t} ${k} of pool ${pool} switched in on pCPU ${r.pcpu}, not one of the pool's {${cpus.join(',')}}`);
    }
    replayStep(st, r);
  }
  return { checked, violations };
}

/** What happened after one vcpu-pin that excluded the pCPU the vCPU was running on. */
export interface PinMove {
  /** Time of the affinity record. */
  t: number;
  from: number;
  hard: readonly number[];
  /** ns from the pin to the switch-out on the old pCPU (NaN if none seen). */
  outAfter: number;
  outReason: SchedTraceReason | undefined;
  /** ns from the pin to the next switch-in anywhere, and where. */
  inAfter: number;
  inPcpu: number;
}

/**
 * For every affinity change of (domid, vcpu) made while it ran on a pCPU the new hard affinity
 * excludes: how long until it left that pCPU (and why), and until it ran again (and where).
 */
export function pinMoves(records: readonly SchedTraceRecord[], domid: number, vcpu: number): PinMove[] {
  const st: Replay = { hard: new Map(), pool: new Map(), poolCpus: new Map(), running: new Map() };
  const k = key(domid, vcpu);
  const moves: PinMove[] = [];
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    replayStep(st, r);
    if (r.event !== 'affinity' || r.domid !== domid || r.vcpu !== vcpu || !r.hard) continue;
    const from = [...st.running].find(([, v]) => v === k)?.[0];
    if (from === undefined || maskHas(r.hard, from)) continue;
    const m: PinMove = { t: r.t, from, hard: r.hard, outAfter: NaN, outReason: undefined, inAfter: NaN, inPcpu: -1 };
    for (let j = i + 1; j < records.length; j++) {
      const q = records[j];
      if (q.domid !== domid || q.vcpu !== vcpu) continue;
      if (q.event === 'out' && Number.isNaN(m.outAfter) && q.pcpu === from) {
        m.outAfter = q.t - r.t;
        m.outReason = q.reason;
      } else if (q.event === 'in' && !Number.isNaN(m.outAfter)) {
        m.inAfter = q.t - r.t;
        m.inPcpu = q.pcpu;
        break;
      }
    }
    moves.push(m);
  }
  return moves;
}

/** An ARINC 653 frame as installed: windows back to back from `frameStart`, idle after the last. */
export interface FrameLayout {
  /** Engine time of some frame start (frames repeat every majorFrame from it, both ways). */
  frameStart: number;
  majorFrame: number;
  windows: { domid: number; runtime: number }[];
}

/** How execution intervals sit in their ARINC 653 windows. */
export interface WindowCheck {
  intervals: number;
  /** Intervals that started outside a window of their own domain. */
  startedOutside: string[];
  /** ns each interval ran past the end of the window it started in (0 if none). */
  overrun: number[];
  /** Per domain: run time inside its own windows / total length of its windows, over [from, to). */
  windowUse: Map<number, number>;
  /** Per domain: run time outside its own windows (overruns), ns. */
  outside: Map<number, number>;
}

/** Window [start, end) of entry `i` in the frame that starts at `f`. */
function windowOf(layout: FrameLayout, f: number, i: number): [number, number] {
  let s = f;
  for (let j = 0; j < i; j++) s += layout.windows[j].runtime;
  return [s, s + layout.windows[i].runtime];
}

/** Checks intervals in [from, to) against an ARINC 653 layout. */
export function checkWindows(ivs: readonly ExecInterval[], layout: FrameLayout, from: number, to: number): WindowCheck {
  const res: WindowCheck = { intervals: 0, startedOutside: [], overrun: [], windowUse: new Map(), outside: new Map() };
  const frameOf = (t: number) => layout.frameStart + Math.floor((t - layout.frameStart) / layout.majorFrame) * layout.majorFrame;
  const inOwn = new Map<number, number>();
  for (const iv of ivs) {
    if (iv.end <= from || iv.start >= to) continue;
    res.intervals++;
    const f = frameOf(iv.start);
    let own: [number, number] | undefined;
    layout.windows.forEach((w, i) => {
      const [s, e] = windowOf(layout, f, i);
      if (w.domid === iv.domid && iv.start >= s && iv.start < e) own = [s, e];
    });
    if (!own) {
      res.startedOutside.push(`d${iv.domid} started at +${((iv.start - f) / 1e6).toFixed(3)} ms into a frame`);
    }
    res.overrun.push(own ? Math.max(0, iv.end - own[1]) : iv.end - iv.start);
    // Time inside any own window (an overlong interval can only spill into others' windows).
    let inside = 0;
    for (let fr = frameOf(iv.start); fr < iv.end; fr += layout.majorFrame) {
      layout.windows.forEach((w, i) => {
        if (w.domid !== iv.domid) return;
        const [s, e] = windowOf(layout, fr, i);
        inside += Math.max(0, Math.min(e, iv.end, to) - Math.max(s, iv.start, from));
      });
    }
    const total = Math.min(iv.end, to) - Math.max(iv.start, from);
    inOwn.set(iv.domid, (inOwn.get(iv.domid) ?? 0) + inside);
    res.outside.set(iv.domid, (res.outside.get(iv.domid) ?? 0) + Math.max(0, total - inside));
  }
  for (const w of layout.windows) {
    let windowTime = 0;
    for (let fr = frameOf(from); fr < to; fr += layout.majorFrame) {
      layout.windows.forEach((x, i) => {
        if (x.domid !== w.domid) return;
        const [s, e] = windowOf(layout, fr, i);
        windowTime += Math.max(0, Math.min(e, to) - Math.max(s, from));
      });
    }
    res.windowUse.set(w.domid, windowTime > 0 ? (inOwn.get(w.domid) ?? 0) / windowTime : NaN);
  }
  return res;
}

/** Wake-up path of a periodic (timer-driven) vCPU, each stage in ns. */
export interface WakeLatency {
  /** Timer lateness: wake record minus the estimated due time of that period. */
  dueToWake: number[];
  /** Scheduler latency: wake record to the vCPU's next switch-in. */
  wakeToIn: number[];
  /** Total: estimated due time to switch-in. */
  dueToIn: number[];
  /** Switch-in to the vCPU blocking again (pCPU thread wake-up plus the interrupt handler). */
  inToBlock: number[];
}

/** Width of the "on time" cluster used to find the timer's phase (ns). */
const ON_TIME_NS = 300_000;

/**
 * Latencies of a vCPU woken by a drift-free periodic timer of period `periodNs` (the engine's
 * devices run on its clock). Due times are not traced; the timer's phase is estimated as the start
 * of the densest ON_TIME_NS-wide cluster of wake times modulo the period (most wakes come on time
 * on any usable host), so lateness is known modulo the period: a wake more than one period late
 * looks on time, and the lost period shows in `missed`.
 */
export function periodicWakeLatency(records: readonly SchedTraceRecord[], domid: number, vcpu: number, periodNs: number): WakeLatency & { missed: number } {
  const mine = records.filter((r) => r.domid === domid && r.vcpu === vcpu);
  const wakes: { t: number; in: number; block: number }[] = [];
  for (let i = 0; i < mine.length; i++) {
    if (mine[i].event !== 'wake') continue;
    let tin = NaN;
    let tblock = NaN;
    for (let j = i + 1; j < mine.length; j++) {
      const q = mine[j];
      if (q.event === 'wake') break;
      if (q.event === 'in' && Number.isNaN(tin)) tin = q.t;
      if (q.event === 'block' && !Number.isNaN(tin)) {
        tblock = q.t;
        break;
      }
    }
    wakes.push({ t: mine[i].t, in: tin, block: tblock });
  }
  const out = { dueToWake: [] as number[], wakeToIn: [] as number[], dueToIn: [] as number[], inToBlock: [] as number[], missed: 0 };
  if (wakes.length === 0) return out;
  const t0 = wakes[0].t;
  const mod = (x: number) => ((x % periodNs) + periodNs) % periodNs;
  const residues = wakes.map((w) => mod(w.t - t0)).sort((a, b) => a - b);
  let phase = residues[0];
  let best = -1;
  for (let i = 0, j = 0; i < residues.length; i++) {
    // Count residues in [r_i, r_i + ON_TIME_NS), wrapping around the period.
    while (j < i + residues.length && mod(residues[j % residues.length] - residues[i]) < ON_TIME_NS) j++;
    if (j - i > best) {
      best = j - i;
      phase = residues[i];
    }
  }
  let firstDue = Infinity;
  let lastDue = -Infinity;
  for (const w of wakes) {
    const late = mod(w.t - t0 - phase);
    const due = w.t - late;
    firstDue = Math.min(firstDue, due);
    lastDue = Math.max(lastDue, due);
    out.dueToWake.push(late);
    if (!Number.isNaN(w.in)) {
      out.wakeToIn.push(w.in - w.t);
      out.dueToIn.push(w.in - due);
    }
    if (!Number.isNaN(w.block)) out.inToBlock.push(w.block - w.in);
  }
  out.missed = Math.max(0, Math.round((lastDue - firstDue) / periodNs) + 1 - wakes.length);
  return out;
}

/** Lengths (ns) of the execution intervals of each domain. */
export function runLengths(ivs: readonly ExecInterval[]): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (const iv of ivs) {
    let l = m.get(iv.domid);
    if (!l) m.set(iv.domid, (l = []));
    l.push(iv.end - iv.start);
  }
  return m;
}

/**
 * The schedule timeline: one lane per pCPU, a coloured bar for every stretch a vCPU ran there
 * (from the engine's schedule trace), over the last N seconds; plus the share each vCPU got in
 * that window as a table (the accessible form of the picture).
 */
import { useEffect, useMemo, useState } from 'react';
import type { TraceRecord, VcpuInfo } from '../../../src-engine/api/types';
import { useStore } from '../../state/use-engine';
import { usePoll } from '../../state/use-poll';
import { seriesColor } from '../ui/sparkline';

/** A stretch of one vCPU on one pCPU, [start, end) in ns. */
export interface RunInterval {
  pcpu: number;
  domid: number;
  vcpu: number;
  start: number;
  end: number;
}

/**
 * Intervals from the trace. A record says that from `t` its pCPU runs (domid, vcpu), or nothing when
 * domid is negative (idle). Records that carry the core's `event` count only as 'in' (starts
 * running) and 'out' (the pCPU goes idle); wake, block, affinity and pool records are skipped.
 * `stillRunning` (from vcpu.list) decides whether each pCPU's last stretch reaches `now`.
 */
export function intervalsFromTrace(records: readonly TraceRecord[], now: number, stillRunning?: (pcpu: number, domid: number, vcpu: number) => boolean): RunInterval[] {
  const sorted = [...records].sort((a, b) => a.t - b.t);
  const open = new Map<number, { t: number; domid: number; vcpu: number }>();
  const out: RunInterval[] = [];
  for (const r of sorted) {
    const ev = (r as TraceRecord & { event?: string }).event;
    if (ev !== undefined && ev !== 'in' && ev !== 'out') continue;
    if (r.pcpu < 0) continue;
    const prev = open.get(r.pcpu);
    if (prev && prev.domid >= 0 && r.t > prev.t) out.push({ pcpu: r.pcpu, domid: prev.domid, vcpu: prev.vcpu, start: prev.t, end: r.t });
    open.set(r.pcpu, ev === 'out' ? { t: r.t, domid: -1, vcpu: -1 } : { t: r.t, domid: r.domid, vcpu: r.vcpu });
  }
  // The last stretch of each pCPU lasts until now, if the engine still runs that vCPU there.
  for (const [pcpu, r] of open) {
    if (r.domid >= 0 && now > r.t && (stillRunning?.(pcpu, r.domid, r.vcpu) ?? true)) out.push({ pcpu, domid: r.domid, vcpu: r.vcpu, start: r.t, end: now });
  }
  return out;
}

/** Windows offered, seconds. */
const WINDOWS = [2, 5, 10, 30] as const;
/** Redraw period, ms. */
const REDRAW_MS = 500;

/** Draws intervals (live trace or a simulator answer). */
export function TimelineChart({ intervals, nrPcpus, from, to, names, label, ends }: { intervals: readonly RunInterval[]; nrPcpus: number; from: number; to: number; names: (domid: number) => string; label: string; ends?: [string, string] }) {
  const W = 900;
  const LANE = 22;
  const LEFT = 64;
  const span = Math.max(1, to - from);
  const x = (t: number) => LEFT + ((Math.max(from, Math.min(to, t)) - from) / span) * (W - LEFT);
  const domids = [...new Set(intervals.map((i) => i.domid))].sort((a, b) => a - b);
  const shares = new Map<string, number>();
  for (const i of intervals) {
    const k = `${i.domid}.${i.vcpu}`;
    const overlap = Math.min(to, i.end) - Math.max(from, i.start);
    if (overlap > 0) shares.set(k, (shares.get(k) ?? 0) + overlap);
  }
  return (
    <figure className="space-y-1">
      <svg role="img" aria-label={label} viewBox={`0 0 ${W} ${nrPcpus * LANE + 18}`} className="w-full rounded border border-slate-200 bg-white">
        {Array.from({ length: nrPcpus }, (_, p) => (
          <g key={p}>
            <text x={4} y={p * LANE + 15} fontSize={11} fill="#475569">pCPU {p}</text>
            <rect x={LEFT} y={p * LANE + 3} width={W - LEFT} height={LANE - 6} fill="#f1f5f9" />
          </g>
        ))}
        {intervals.filter((i) => i.end > from && i.start < to && i.pcpu < nrPcpus).map((i, k) => (
          <rect key={k} x={x(i.start)} y={i.pcpu * LANE + 3} width={Math.max(0.6, x(i.end) - x(i.start))} height={LANE - 6} fill={seriesColor(domids.indexOf(i.domid))} opacity={i.vcpu % 2 ? 0.7 : 1}>
            <title>{`${names(i.domid)} vCPU ${i.vcpu} on pCPU ${i.pcpu}: ${((i.end - i.start) / 1e6).toFixed(2)} ms`}</title>
          </rect>
        ))}
        <text x={LEFT} y={nrPcpus * LANE + 14} fontSize={10} fill="#64748b">{ends?.[0] ?? `−${(span / 1e9).toFixed(span < 5e9 ? 1 : 0)} s`}</text>
        <text x={W - 4} y={nrPcpus * LANE + 14} fontSize={10} fill="#64748b" textAnchor="end">{ends?.[1] ?? 'now'}</text>
      </svg>
      <table className="text-xs" aria-label={`${label}: share per vCPU`}>
        <thead className="text-slate-500"><tr><th scope="col" className="px-2 text-left font-medium">vCPU</th><th scope="col" className="px-2 text-left font-medium">Share of the window</th></tr></thead>
        <tbody>
          {[...shares.entries()].sort().map(([k, ns]) => {
            const [d, v] = k.split('.').map(Number);
            return (
              <tr key={k}>
                <th scope="row" className="px-2 text-left font-normal"><span className="mr-1 inline-block h-2 w-3" style={{ background: seriesColor(domids.indexOf(d)) }} />{names(d)} vCPU {v}</th>
                <td className="px-2 tabular-nums">{((100 * ns) / span).toFixed(1)} %</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </figure>
  );
}

/**
 * Adds, for every pCPU whose lane is empty in [from, now], the vCPU the engine says runs there now
 * (a vCPU that runs without interruption produces no new trace records).
 */
export function fillRunning(intervals: RunInterval[], running: readonly VcpuInfo[], from: number, now: number): RunInterval[] {
  const out = [...intervals];
  for (const v of running) {
    if (v.state !== 'running' || v.pcpu < 0) continue;
    if (out.some((i) => i.pcpu === v.pcpu && i.end > from)) continue;
    out.push({ pcpu: v.pcpu, domid: v.domid, vcpu: v.vcpu, start: from, end: now });
  }
  return out;
}

/** The live timeline. */
export function LiveTimeline({ nrPcpus }: { nrPcpus: number }) {
  const store = useStore();
  const [seconds, setSeconds] = useState<number>(5);
  const [, setTick] = useState(0);
  useEffect(() => {
    store.wantTrace();
    const t = setInterval(() => setTick((n) => n + 1), REDRAW_MS);
    return () => clearInterval(t);
  }, [store]);
  const vcpus = usePoll(() => store.client.call('vcpu.list', {}), []);
  const records = store.traceRecords();
  const now = store.traceNow() ?? Date.now() * 1e6;
  const from = now - seconds * 1e9;
  const intervals = useMemo(() => {
    const live = vcpus.value;
    const still = live ? (pcpu: number, domid: number, vcpu: number) => live.some((v) => v.domid === domid && v.vcpu === vcpu && v.pcpu === pcpu && v.state !== 'blocked' && v.state !== 'offline') : undefined;
    return fillRunning(intervalsFromTrace(records, now, still), live ?? [], from, now);
  }, [records, now, from, vcpus.value]);
  const snap = store.getSnapshot();
  const names = (domid: number) => snap.domains.find((d) => d.domid === domid)?.name ?? `dom${domid}`;
  return (
    <section aria-labelledby="timeline-title" className="space-y-2">
      <div className="flex flex-wrap items-center gap-3">
        <h3 id="timeline-title" className="text-sm font-semibold text-slate-800">Schedule timeline</h3>
        <fieldset className="flex items-center gap-2 text-xs text-slate-600">
          <legend className="sr-only">Timeline window</legend>
          Last
          {WINDOWS.map((w) => (
            <label key={w} className="flex items-center gap-1"><input type="radio" name="tl-window" checked={seconds === w} onChange={() => setSeconds(w)} />{w} s</label>
          ))}
        </fieldset>
      </div>
      {intervals.length === 0 ? <p role="status" className="text-sm text-slate-500">Nothing has run in the last {seconds} s.</p> : <TimelineChart intervals={intervals} nrPcpus={nrPcpus} from={from} to={now} names={names} label={`Which vCPU ran on which pCPU, last ${seconds} s`} />}
    </section>
  );
}

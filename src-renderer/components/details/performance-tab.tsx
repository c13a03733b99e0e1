/**
 * Performance of a VM: CPU per vCPU over time, VM exits by reason (rate now and total since
 * creation), instructions per second and memory, over a chosen time range of the engine's 1 Hz
 * samples.
 */
import { useState } from 'react';
import type { DomainDetail, StatsSample } from '../../../src-engine/api/types';
import { rate } from '../../lib/format';
import { useEngine } from '../../state/use-engine';
import { LineChart, seriesColor } from '../ui/sparkline';

/** Time ranges offered, in samples (seconds). */
export const RANGES = [30, 60, 120] as const;

/** Bars of exit counts or rates by reason, largest first. */
export function ExitBars({ values, label, unit }: { values: Record<string, number>; label: string; unit: 'rate' | 'count' }) {
  const entries = Object.entries(values).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
  const top = Math.max(1, ...entries.map(([, v]) => v));
  return (
    <figure className="space-y-1">
      <figcaption className="text-xs font-medium text-slate-600">{label}</figcaption>
      {entries.length === 0 ? (
        <p className="text-xs text-slate-500">No exits{unit === 'rate' ? ' in the last second' : ''}.</p>
      ) : (
        <ul className="space-y-0.5" aria-label={label}>
          {entries.map(([k, v]) => (
            <li key={k} className="flex items-center gap-2 text-xs">
              <span className="w-28 truncate font-mono" title={k}>{k}</span>
              <span className="h-3 rounded-sm bg-sky-700" style={{ width: `${Math.max(2, (200 * v) / top)}px` }} aria-hidden />
              <span className="tabular-nums text-slate-600">{unit === 'rate' ? rate(v) : v.toLocaleString('en')}</span>
            </li>
          ))}
        </ul>
      )}
    </figure>
  );
}

/** Chooses a time range. */
export function RangePicker({ value, onChange }: { value: number; onChange: (v: number) => void }) {
  return (
    <fieldset className="flex items-center gap-2 text-xs text-slate-600">
      <legend className="sr-only">Time range</legend>
      Range:
      {RANGES.map((r) => (
        <label key={r} className="flex items-center gap-1">
          <input type="radio" name="perf-range" checked={value === r} onChange={() => onChange(r)} />
          {r < 60 ? `${r} s` : `${r / 60} min`}
        </label>
      ))}
      <span className="text-slate-400">(the engine samples once a second)</span>
    </fieldset>
  );
}

function seriesOf(stats: readonly StatsSample[], domid: number) {
  const ds = stats.map((s) => s.domains.find((d) => d.domid === domid)).filter((d) => d !== undefined);
  const nV = Math.max(0, ...ds.map((d) => d.vcpuPercent.length));
  return {
    vcpus: Array.from({ length: nV }, (_, v) => ds.map((d) => d.vcpuPercent[v] ?? 0)),
    total: ds.map((d) => d.cpuPercent),
    mips: ds.map((d) => d.mips),
    memory: ds.map((d) => d.memoryMiB),
    lastRates: ds[ds.length - 1]?.exitRates ?? {},
  };
}

/** The page. */
export function PerformanceTab({ domid, detail }: { domid: number | undefined; detail: DomainDetail | undefined }) {
  const snap = useEngine();
  const [range, setRange] = useState<number>(60);
  if (domid === undefined) return <p className="p-4 text-sm text-slate-500">Not running: there is nothing to measure.</p>;
  const s = seriesOf(snap.stats.slice(-range), domid);
  return (
    <div className="space-y-4 p-4">
      <RangePicker value={range} onChange={setRange} />
      {s.total.length === 0 && <p role="status" className="text-sm text-slate-500">Waiting for the engine's first statistics sample…</p>}
      <div className="grid gap-4 lg:grid-cols-2">
        <LineChart label="CPU per vCPU (% of one pCPU)" unit="%" max={100} series={s.vcpus.map((v, i) => ({ name: `vCPU ${i}`, values: v, color: seriesColor(i) }))} />
        <LineChart label="Instructions (millions per second)" unit="MIPS" max={1} series={[{ name: 'MIPS', values: s.mips, color: seriesColor(2) }]} />
        <ExitBars label="VM exits by reason (per second)" values={s.lastRates} unit="rate" />
        <ExitBars label="VM exits by reason (since start)" values={detail?.exits ?? {}} unit="count" />
      </div>
    </div>
  );
}

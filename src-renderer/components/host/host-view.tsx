/**
 * The host: engine facts and graphs (pCPU load, exits across domains), CPU pools with their
 * schedulers, the live schedule timeline, the configuration and ISO library, and the engine log
 * with running tasks.
 */
import { useEffect, useState } from 'react';
import { duration, mib, percent, rate } from '../../lib/format';
import { useEngine, useStore } from '../../state/use-engine';
import { RangePicker, ExitBars } from '../details/performance-tab';
import { LineChart, Sparkline, seriesColor } from '../ui/sparkline';
import { Tabs, type TabSpec } from '../ui/tabs';
import { LibraryPanel } from './library-panel';
import { LogPanel } from './log-panel';
import { PoolsPanel } from './pools-panel';
import { LiveTimeline } from './timeline';

/** Pages of the host view. */
export type HostTab = 'overview' | 'pools' | 'timeline' | 'library' | 'log';
const TABS: readonly TabSpec<HostTab>[] = [
  { key: 'overview', label: 'Overview' },
  { key: 'pools', label: 'CPU pools' },
  { key: 'timeline', label: 'Schedule' },
  { key: 'library', label: 'Library' },
  { key: 'log', label: 'Log and tasks' },
];

/** How often the host facts (free memory, uptime) are re-read while shown, ms. */
const HOST_REFRESH_MS = 5000;

function HostOverview() {
  const snap = useEngine();
  const store = useStore();
  useEffect(() => {
    void store.refreshHost().catch(() => undefined);
    const t = setInterval(() => void store.refreshHost().catch(() => undefined), HOST_REFRESH_MS);
    return () => clearInterval(t);
  }, [store]);
  const [range, setRange] = useState(60);
  const h = snap.host;
  const stats = snap.stats.slice(-range);
  const n = h?.nrPcpus ?? 0;
  const loads = Array.from({ length: n }, (_, p) => stats.map((s) => 100 * (s.pcpuLoad[p] ?? 0)));
  const last = snap.stats[snap.stats.length - 1];
  const exits: Record<string, number> = {};
  for (const d of last?.domains ?? []) for (const [k, v] of Object.entries(d.exitRates)) exits[k] = (exits[k] ?? 0) + v;
  const poolOf = (p: number) => snap.pools.find((x) => x.cpus.includes(p))?.name ?? 'free';
  return (
    <div className="space-y-4 p-4">
      {h && (
        <dl className="grid grid-cols-[max-content_1fr_max-content_1fr] gap-x-6 gap-y-1 text-sm">
          <dt className="text-slate-500">Host</dt><dd>{h.hostname}</dd>
          <dt className="text-slate-500">Engine</dt><dd>Domus {h.engineVersion}, up {duration(h.uptimeSeconds)}</dd>
          <dt className="text-slate-500">pCPUs</dt><dd>{h.nrPcpus} worker threads on {h.hostCpus} host CPUs{h.oversubscribed ? ' (oversubscribed)' : ''}</dd>
          <dt className="text-slate-500">Memory</dt><dd>{mib(h.freeMemoryMiB)} free of {mib(h.totalMemoryMiB)}</dd>
          <dt className="text-slate-500">Default scheduler</dt><dd>{h.defaultScheduler}</dd>
          <dt className="text-slate-500">Domains</dt><dd>{snap.domains.length}</dd>
        </dl>
      )}
      <section aria-labelledby="pcpus-title" className="space-y-2">
        <h3 id="pcpus-title" className="text-sm font-semibold text-slate-800">pCPUs</h3>
        <ul className="grid grid-cols-[repeat(auto-fill,minmax(13rem,1fr))] gap-2">
          {loads.map((l, p) => (
            <li key={p} className="rounded border border-slate-200 p-2 text-xs">
              <div className="flex justify-between"><span className="font-medium">pCPU {p}</span><span className="text-slate-500">{poolOf(p)}</span></div>
              <div className="my-1 h-2 rounded bg-slate-200" role="meter" aria-label={`Load of pCPU ${p}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(l[l.length - 1] ?? 0)}>
                <div className="h-full rounded bg-sky-700" style={{ width: `${l[l.length - 1] ?? 0}%` }} />
              </div>
              <div className="flex items-center justify-between"><Sparkline values={l} max={100} label={`pCPU ${p} load history`} width={120} /><span className="tabular-nums">{percent(l[l.length - 1] ?? 0)}</span></div>
            </li>
          ))}
        </ul>
      </section>
      <RangePicker value={range} onChange={setRange} />
      <div className="grid gap-4 lg:grid-cols-2">
        <LineChart label="Host CPU: load per pCPU (%)" unit="%" max={100} series={loads.map((v, i) => ({ name: `pCPU ${i}`, values: v, color: seriesColor(i) }))} />
        <ExitBars label="VM exits by reason, all domains (per second)" values={exits} unit="rate" />
      </div>
      {last && <p className="text-xs text-slate-500">All domains: {rate(last.domains.reduce((a, d) => a + d.mips * 1e6, 0))} instructions.</p>}
    </div>
  );
}

/** The view. */
export function HostView({ tab, onTab, onEditVm }: { tab: HostTab; onTab: (t: HostTab) => void; onEditVm: (name: string) => void }) {
  const snap = useEngine();
  return (
    <section aria-label="Host" className="flex h-full min-h-0 flex-col">
      <Tabs label="Host pages" tabs={TABS} value={tab} onChange={onTab} className="h-full">
        {tab === 'overview' && <HostOverview />}
        {tab === 'pools' && <PoolsPanel />}
        {tab === 'timeline' && <div className="p-4"><LiveTimeline nrPcpus={snap.host?.nrPcpus ?? 1} /></div>}
        {tab === 'library' && <LibraryPanel onEditVm={onEditVm} />}
        {tab === 'log' && <LogPanel />}
      </Tabs>
    </section>
  );
}

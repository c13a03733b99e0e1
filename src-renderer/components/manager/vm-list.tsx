/**
 * The VM list: one row per virtual machine with its state, ID, vCPUs and memory, and sparklines
 * of guest CPU, host CPU share and memory. Columns sort on click (aria-sort says how) and can be
 * hidden (kept in localStorage). A graph that cannot be drawn says why instead of staying blank.
 */
import { useMemo, useState, type KeyboardEvent } from 'react';
import type { StatsSample } from '../../../src-engine/api/types';
import { percent, mib } from '../../lib/format';
import { isLive, stateLabel, type VmRow } from '../../lib/vm-rows';
import { Sparkline } from '../ui/sparkline';

/** Sortable columns. */
type SortKey = 'name' | 'state' | 'id' | 'vcpus' | 'memory' | 'cpu';
/** Graph columns that can be turned off. */
export type GraphColumn = 'cpu' | 'hostCpu' | 'memory';
/** Where the graph choice is kept. */
const COLUMNS_KEY = 'domus.vmlist.graphs';
const ALL_GRAPHS: GraphColumn[] = ['cpu', 'hostCpu', 'memory'];
const GRAPH_TITLE: Record<GraphColumn, string> = { cpu: 'Guest CPU', hostCpu: 'Host CPU', memory: 'Memory' };

function loadGraphs(): GraphColumn[] {
  try {
    const v = JSON.parse(localStorage.getItem(COLUMNS_KEY) ?? 'null') as unknown;
    if (Array.isArray(v)) return ALL_GRAPHS.filter((g) => v.includes(g));
  } catch {
    // A broken value falls back to all graphs.
  }
  return ALL_GRAPHS;
}

/** Per-domain series out of the stats history. */
export function domainSeries(stats: readonly StatsSample[], domid: number, pick: (d: StatsSample['domains'][number]) => number): number[] {
  const out: number[] = [];
  for (const s of stats) {
    const d = s.domains.find((x) => x.domid === domid);
    if (d) out.push(pick(d));
  }
  return out;
}

function sortValue(r: VmRow, k: SortKey, stats: readonly StatsSample[]): string | number {
  switch (k) {
    case 'name':
      return r.name;
    case 'state':
      return stateLabel(r);
    case 'id':
      return r.domain?.domid ?? -1;
    case 'vcpus':
      return r.domain?.maxVcpus ?? r.library?.config?.maxvcpus ?? 0;
    case 'memory':
      return r.domain?.memoryMiB ?? r.library?.config?.memoryMiB ?? 0;
    case 'cpu': {
      const last = stats[stats.length - 1];
      return (r.domain && last?.domains.find((d) => d.domid === r.domain?.domid)?.cpuPercent) ?? -1;
    }
  }
}

/** The list. */
export function VmList({ rows, stats, nrPcpus, selected, onSelect, onOpen, onMenu }: { rows: readonly VmRow[]; stats: readonly StatsSample[]; nrPcpus: number; selected: string | undefined; onSelect: (name: string) => void; onOpen: (name: string) => void; onMenu?: (name: string, x: number, y: number) => void }) {
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: 'name', dir: 1 });
  const [graphs, setGraphs] = useState<GraphColumn[]>(loadGraphs);
  const [filter, setFilter] = useState('');
  const sorted = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const list = rows.filter((r) => f === '' || r.name.toLowerCase().includes(f));
    return [...list].sort((a, b) => {
      const x = sortValue(a, sort.key, stats);
      const y = sortValue(b, sort.key, stats);
      return (x < y ? -1 : x > y ? 1 : a.name.localeCompare(b.name)) * sort.dir;
    });
  }, [rows, sort, stats, filter]);

  const toggleGraph = (g: GraphColumn) => {
    const next = graphs.includes(g) ? graphs.filter((x) => x !== g) : ALL_GRAPHS.filter((x) => x === g || graphs.includes(x));
    setGraphs(next);
    localStorage.setItem(COLUMNS_KEY, JSON.stringify(next));
  };
  const header = (k: SortKey, label: string) => (
    <th scope="col" aria-sort={sort.key === k ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'} className="px-2 py-1 text-left font-medium">
      <button type="button" className="hover:underline" onClick={() => setSort((s) => ({ key: k, dir: s.key === k ? (-s.dir as 1 | -1) : 1 }))}>
        {label}
        {sort.key === k ? (sort.dir === 1 ? ' ▲' : ' ▼') : ''}
      </button>
    </th>
  );
  const onRowKey = (e: KeyboardEvent, i: number) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = sorted[Math.max(0, Math.min(sorted.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)))];
      if (next) {
        onSelect(next.name);
        (document.querySelector(`[data-vm-row="${CSS.escape(next.name)}"]`) as HTMLElement | null)?.focus();
      }
    } else if (e.key === 'Enter') onOpen(sorted[i].name);
    else if (e.key === 'ContextMenu' || (e.key === 'F10' && e.shiftKey)) {
      e.preventDefault();
      const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
      onSelect(sorted[i].name);
      onMenu?.(sorted[i].name, r.left + 24, r.bottom);
    }
  };

  return (
    <div className="flex min-h-0 flex-col">
      <div className="flex flex-wrap items-center gap-3 border-b border-slate-200 bg-slate-50 px-2 py-1 text-xs text-slate-600">
        <label className="flex items-center gap-1">
          Filter
          <input aria-label="Filter virtual machines" value={filter} onChange={(e) => setFilter(e.target.value)} className="w-40 rounded border border-slate-300 px-1 py-0.5" />
        </label>
        <fieldset className="flex items-center gap-2">
          <legend className="sr-only">Graphs shown</legend>
          Graphs:
          {ALL_GRAPHS.map((g) => (
            <label key={g} className="flex items-center gap-1">
              <input type="checkbox" checked={graphs.includes(g)} onChange={() => toggleGraph(g)} />
              {GRAPH_TITLE[g]}
            </label>
          ))}
        </fieldset>
      </div>
      <div className="min-h-0 overflow-auto">
        <table className="w-full border-collapse text-sm" aria-label="Virtual machines">
          <thead className="sticky top-0 bg-slate-100 text-slate-600">
            <tr>
              {header('name', 'Name')}
              {header('state', 'State')}
              {header('id', 'ID')}
              {header('vcpus', 'vCPUs')}
              {header('memory', 'Memory')}
              {graphs.includes('cpu') && header('cpu', 'Guest CPU')}
              {graphs.includes('hostCpu') && <th scope="col" className="px-2 py-1 text-left font-medium">Host CPU</th>}
              {graphs.includes('memory') && <th scope="col" className="px-2 py-1 text-left font-medium">Memory use</th>}
            </tr>
          </thead>
          <tbody>
            {sorted.length === 0 && (
              <tr>
                <td colSpan={8} className="px-3 py-6 text-center text-slate-500">
                  {rows.length === 0 ? 'No virtual machines yet. Create one with New VM.' : 'No virtual machine matches the filter.'}
                </td>
              </tr>
            )}
            {sorted.map((r, i) => {
              const d = r.domain;
              const cpu = d ? domainSeries(stats, d.domid, (x) => x.cpuPercent) : [];
              const mem = d ? domainSeries(stats, d.domid, (x) => x.memoryMiB) : [];
              const why = !d || !isLive(r) ? 'not running' : cpu.length === 0 ? 'waiting for statistics' : undefined;
              const last = cpu[cpu.length - 1];
              const sel = r.name === selected;
              return (
                <tr
                  key={r.name}
                  data-vm-row={r.name}
                  aria-selected={sel}
                  tabIndex={sel || (selected === undefined && i === 0) ? 0 : -1}
                  onClick={() => onSelect(r.name)}
                  onDoubleClick={() => onOpen(r.name)}
                  onContextMenu={(e) => {
                    e.preventDefault();
                    onSelect(r.name);
                    onMenu?.(r.name, e.clientX, e.clientY);
                  }}
                  onKeyDown={(e) => onRowKey(e, i)}
                  className={`cursor-default border-b border-slate-100 ${sel ? 'bg-sky-100' : 'hover:bg-slate-50'}`}
                >
                  <th scope="row" className="px-2 py-1 text-left font-medium text-slate-800">
                    {r.name}
                  </th>
                  <td className="px-2 py-1" data-testid={`state-${r.name}`}>
                    {stateLabel(r)}
                  </td>
                  <td className="px-2 py-1 tabular-nums">{d ? d.domid : '—'}</td>
                  <td className="px-2 py-1 tabular-nums">{d ? `${d.onlineVcpus}/${d.maxVcpus}` : (r.library?.config?.vcpus ?? '—')}</td>
                  <td className="px-2 py-1 tabular-nums">{mib(d?.memoryMiB ?? r.library?.config?.memoryMiB ?? 0)}</td>
                  {graphs.includes('cpu') && (
                    <td className="px-2 py-1">{why ? <span className="text-xs text-slate-400">{why}</span> : <span className="flex items-center gap-1"><Sparkline values={cpu} max={100} label={`Guest CPU of ${r.name}`} /><span className="w-14 text-right text-xs tabular-nums">{percent(last ?? 0)}</span></span>}</td>
                  )}
                  {graphs.includes('hostCpu') && (
                    <td className="px-2 py-1">{why ? <span className="text-xs text-slate-400">{why}</span> : <Sparkline values={cpu.map((v) => v / Math.max(1, nrPcpus))} max={100} label={`Host CPU share of ${r.name}`} color="#c2410c" />}</td>
                  )}
                  {graphs.includes('memory') && (
                    <td className="px-2 py-1">{why ? <span className="text-xs text-slate-400">{why}</span> : <Sparkline values={mem} max={d?.maxmemMiB ?? 1} label={`Memory of ${r.name}`} color="#15803d" />}</td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}

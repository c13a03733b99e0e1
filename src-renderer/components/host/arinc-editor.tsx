/**
 * The ARINC 653 schedule editor: a major frame and its minor frames (domain, vCPU, run time) in
 * order, drawn on a timeline with the idle remainder, checked the way Xen's arinc653 scheduler
 * checks a schedule (at least one entry, every run time positive, their sum within the major frame).
 */
import { useState } from 'react';
import type { Arinc653Entry, Arinc653Schedule, PoolInfo } from '../../../src-engine/api/types';
import { micros } from '../../lib/format';
import { useAction, useEngine, useStore } from '../../state/use-engine';
import { Button } from '../ui/button';
import { NumberField } from '../ui/field';
import { seriesColor } from '../ui/sparkline';

/** ARINC653_MAX_DOMAINS_PER_SCHEDULE in Xen's public sysctl.h. */
export const ARINC653_MAX_ENTRIES = 64;
/** Major frame of a new schedule, µs (100 ms: a round length that divides easily into minor frames). */
export const DEFAULT_MAJOR_FRAME_US = 100_000;

/** Problems of a schedule, empty when Xen would accept it. */
export function scheduleProblems(s: Arinc653Schedule): string[] {
  const p: string[] = [];
  if (!(s.majorFrameUs > 0)) p.push('The major frame must be longer than 0 µs.');
  if (s.entries.length === 0) p.push('Add at least one minor frame.');
  if (s.entries.length > ARINC653_MAX_ENTRIES) p.push(`At most ${ARINC653_MAX_ENTRIES} minor frames.`);
  s.entries.forEach((e, i) => {
    if (!(e.runtimeUs > 0)) p.push(`Minor frame ${i + 1}: the run time must be longer than 0 µs.`);
  });
  const sum = s.entries.reduce((a, e) => a + (e.runtimeUs > 0 ? e.runtimeUs : 0), 0);
  if (sum > s.majorFrameUs) p.push(`The minor frames add up to ${micros(sum)}, more than the major frame of ${micros(s.majorFrameUs)}.`);
  return p;
}

/** The frame drawn to scale. */
export function FrameTimeline({ schedule, names }: { schedule: Arinc653Schedule; names: (d: Arinc653Entry['domain']) => string }) {
  const W = 800;
  const total = Math.max(1, schedule.majorFrameUs, schedule.entries.reduce((a, e) => a + Math.max(0, e.runtimeUs), 0));
  const doms = [...new Set(schedule.entries.map((e) => String(e.domain)))];
  let at = 0;
  return (
    <svg role="img" aria-label={`Major frame of ${micros(schedule.majorFrameUs)} with ${schedule.entries.length} minor frames`} viewBox={`0 0 ${W} 44`} className="w-full rounded border border-slate-200">
      <rect x={0} y={4} width={(W * schedule.majorFrameUs) / total} height={26} fill="#f1f5f9" />
      {schedule.entries.map((e, i) => {
        const x = (W * at) / total;
        const w = (W * Math.max(0, e.runtimeUs)) / total;
        at += Math.max(0, e.runtimeUs);
        return (
          <g key={i}>
            <rect x={x} y={4} width={w} height={26} fill={seriesColor(doms.indexOf(String(e.domain)))} stroke="#fff">
              <title>{`${i + 1}: ${names(e.domain)} vCPU ${e.vcpu}, ${micros(e.runtimeUs)}`}</title>
            </rect>
            {w > 50 && <text x={x + 4} y={21} fontSize={11} fill="#fff">{names(e.domain)}.{e.vcpu}</text>}
          </g>
        );
      })}
      {at < schedule.majorFrameUs && <text x={(W * at) / total + 4} y={21} fontSize={11} fill="#64748b">idle {micros(schedule.majorFrameUs - at)}</text>}
      <text x={0} y={42} fontSize={10} fill="#64748b">0</text>
      <text x={(W * schedule.majorFrameUs) / total - 60} y={42} fontSize={10} fill="#64748b">{micros(schedule.majorFrameUs)}</text>
    </svg>
  );
}

/** The editor for an arinc653 pool. */
export function Arinc653Editor({ pool }: { pool: PoolInfo }) {
  const store = useStore();
  const snap = useEngine();
  const run = useAction();
  const [draft, setDraft] = useState<Arinc653Schedule | undefined>();
  if (pool.scheduler !== 'arinc653') return null;
  const cur: Arinc653Schedule = draft ?? pool.arinc653 ?? { majorFrameUs: DEFAULT_MAJOR_FRAME_US, entries: [] };
  const doms = pool.domains.map((d) => ({ domid: d, name: snap.domains.find((x) => x.domid === d)?.name ?? `dom${d}`, vcpus: snap.domains.find((x) => x.domid === d)?.maxVcpus ?? 1 }));
  const names = (d: Arinc653Entry['domain']) => (typeof d === 'number' ? (doms.find((x) => x.domid === d)?.name ?? `dom${d}`) : d);
  const set = (p: Partial<Arinc653Schedule>) => setDraft({ ...cur, ...p });
  const setEntry = (i: number, p: Partial<Arinc653Entry>) => set({ entries: cur.entries.map((e, j) => (j === i ? { ...e, ...p } : e)) });
  const move = (i: number, by: number) => {
    const e = [...cur.entries];
    const j = i + by;
    if (j < 0 || j >= e.length) return;
    [e[i], e[j]] = [e[j], e[i]];
    set({ entries: e });
  };
  const problems = scheduleProblems(cur);
  return (
    <fieldset className="space-y-3 rounded border border-slate-200 p-3">
      <legend className="px-1 text-xs font-medium text-slate-600">ARINC 653 schedule</legend>
      <div className="flex flex-wrap items-end gap-3">
        <NumberField label="Major frame (µs)" value={cur.majorFrameUs} min={1} onValue={(majorFrameUs) => set({ majorFrameUs })} className="w-40" />
        <Button disabled={doms.length === 0 || cur.entries.length >= ARINC653_MAX_ENTRIES} onClick={() => set({ entries: [...cur.entries, { domain: doms[0]?.domid ?? 0, vcpu: 0, runtimeUs: Math.max(1, Math.floor(cur.majorFrameUs / Math.max(1, cur.entries.length + 1) / 2)) }] })}>
          Add minor frame
        </Button>
        {doms.length === 0 && <span className="text-xs text-slate-500">Move a domain into this pool to schedule it.</span>}
      </div>
      <FrameTimeline schedule={cur} names={names} />
      {cur.entries.length > 0 && (
        <table className="text-sm" aria-label="Minor frames">
          <thead className="text-xs text-slate-500"><tr>{['#', 'Domain', 'vCPU', 'Run time (µs)', ''].map((h) => <th key={h} scope="col" className="px-2 text-left font-medium">{h}</th>)}</tr></thead>
          <tbody>
            {cur.entries.map((e, i) => (
              <tr key={i} className="border-t border-slate-100">
                <th scope="row" className="px-2 text-left font-normal">{i + 1}</th>
                <td className="px-2">
                  <select aria-label={`Domain of minor frame ${i + 1}`} value={String(e.domain)} onChange={(ev) => setEntry(i, { domain: Number(ev.target.value), vcpu: 0 })} className="rounded border border-slate-300 px-1 py-0.5">
                    {doms.map((d) => <option key={d.domid} value={d.domid}>{d.name}</option>)}
                    {!doms.some((d) => String(d.domid) === String(e.domain)) && <option value={String(e.domain)}>{names(e.domain)} (not in pool)</option>}
                  </select>
                </td>
                <td className="px-2">
                  <input type="number" aria-label={`vCPU of minor frame ${i + 1}`} min={0} max={(doms.find((d) => d.domid === e.domain)?.vcpus ?? 1) - 1} value={e.vcpu} onChange={(ev) => setEntry(i, { vcpu: Number(ev.target.value) })} className="w-16 rounded border border-slate-300 px-1 py-0.5" />
                </td>
                <td className="px-2">
                  <input type="number" aria-label={`Run time of minor frame ${i + 1} (µs)`} min={1} value={e.runtimeUs} onChange={(ev) => setEntry(i, { runtimeUs: Number(ev.target.value) })} className="w-28 rounded border border-slate-300 px-1 py-0.5" />
                </td>
                <td className="flex gap-1 px-2">
                  <Button kind="ghost" aria-label={`Move minor frame ${i + 1} earlier`} onClick={() => move(i, -1)}>↑</Button>
                  <Button kind="ghost" aria-label={`Move minor frame ${i + 1} later`} onClick={() => move(i, 1)}>↓</Button>
                  <Button kind="ghost" aria-label={`Remove minor frame ${i + 1}`} onClick={() => set({ entries: cur.entries.filter((_, j) => j !== i) })}>Remove</Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {problems.length > 0 && draft && <ul className="list-disc pl-5 text-xs text-rose-700">{problems.map((p) => <li key={p}>{p}</li>)}</ul>}
      <div className="flex gap-2">
        <Button kind="primary" disabled={!draft || problems.length > 0} onClick={() => void run(`Setting the schedule of ${pool.name}`, () => store.client.call('pool.setArinc653', { pool: pool.id, schedule: cur }), `${pool.name}: ARINC 653 schedule applied.`).then(async () => { setDraft(undefined); await store.refreshPools(); })}>
          Apply schedule
        </Button>
        <Button disabled={!draft} onClick={() => setDraft(undefined)}>Revert</Button>
      </div>
    </fieldset>
  );
}

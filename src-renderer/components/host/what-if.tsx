/**
 * "What if" preview: before switching a pool's scheduler or changing its parameters, run the
 * engine's scheduler simulator (the real scheduler code on a virtual clock, sim.whatIf) with the
 * pool's domains as synthetic workloads, and show each vCPU's share, waiting, wake latency and a
 * timeline. Nothing running is touched.
 */
import { useState } from 'react';
import type { PoolInfo, SchedulerName } from '../../../src-engine/api/types';
import { isWhatIfResult, type WhatIfRequest, type WhatIfResult, type WhatIfWorkload } from '../../api/sim-types';
import { ApiCallError } from '../../api/client';
import { useEngine, useStore, messageOf } from '../../state/use-engine';
import { Button } from '../ui/button';
import { TimelineChart } from './timeline';

/** Simulated time, ns (2 s: long enough for credit's 30 ms accounting to settle). */
export const WHATIF_DURATION_NS = 2e9;
/** Timeline returned, ns. */
export const WHATIF_TIMELINE_NS = 200e6;
/** RTDS defaults Xen gives a new vCPU, µs (spec/schedulers.md §3: 10000/4000). */
export const RTDS_DEFAULT = { periodUs: 10000, budgetUs: 4000, extratime: true };

/** Workload choices. */
const WORKLOADS: Record<string, { label: string; spec: WhatIfWorkload }> = {
  hog: { label: 'CPU-bound', spec: { kind: 'hog' } },
  io: { label: 'I/O-bound (1 ms run, 4 ms wait)', spec: { kind: 'io', meanRunNs: 1e6, meanBlockNs: 4e6, seed: 1 } },
  periodic: { label: 'Periodic (2 ms every 10 ms)', spec: { kind: 'timer', periodNs: 10e6, runNs: 2e6 } },
  idle: { label: 'Idle', spec: { kind: 'idle' } },
};

/** Builds the question for a pool under a (possibly different) scheduler. */
export function buildWhatIf(pool: PoolInfo, sched: SchedulerName, doms: { name: string; vcpus: number; workload: string; weight: number }[]): WhatIfRequest {
  const req: WhatIfRequest = {
    sched,
    nrCpus: Math.max(1, pool.cpus.length),
    domains: doms.map((d) => ({
      name: d.name,
      ...(sched === 'credit' || sched === 'credit2' ? { weight: d.weight } : {}),
      vcpus: Array.from({ length: d.vcpus }, () => ({ workload: (WORKLOADS[d.workload] ?? WORKLOADS.hog).spec, ...(sched === 'rtds' ? { rtds: RTDS_DEFAULT } : {}) })),
    })),
    durationNs: WHATIF_DURATION_NS,
    timelineNs: WHATIF_TIMELINE_NS,
  };
  if (sched === 'arinc653') {
    const slots = doms.flatMap((d) => Array.from({ length: d.vcpus }, (_, v) => ({ domain: d.name, vcpu: v })));
    const each = 10e6;
    req.arinc653 = { majorFrameNs: Math.max(1, slots.length) * each, entries: slots.map((s) => ({ ...s, runtimeNs: each })) };
  }
  return req;
}

/** The panel. */
export function WhatIfPanel({ pool, sched }: { pool: PoolInfo; sched: SchedulerName }) {
  const store = useStore();
  const snap = useEngine();
  const [loads, setLoads] = useState<Record<number, { workload: string; weight: number }>>({});
  const [result, setResult] = useState<WhatIfResult>();
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const doms = pool.domains.map((d) => {
    const s = snap.domains.find((x) => x.domid === d);
    return { domid: d, name: s?.name ?? `dom${d}`, vcpus: s?.maxVcpus ?? 1, workload: loads[d]?.workload ?? 'hog', weight: loads[d]?.weight ?? 256 };
  });
  const simulate = async () => {
    setBusy(true);
    setNote('Simulating…');
    try {
      const r = await store.client.call('sim.whatIf', { scenario: buildWhatIf(pool, sched, doms) });
      if (!isWhatIfResult(r)) throw new Error('the simulator answered in an unexpected form');
      setResult(r);
      setNote(r.violations.length ? `Invariant violations: ${r.violations.join('; ')}` : '');
    } catch (e) {
      setResult(undefined);
      setNote(e instanceof ApiCallError && e.code === 'api.not-implemented' ? 'This engine does not offer the simulator preview yet (sim.whatIf). Apply the change and watch the live timeline instead.' : `Simulation failed: ${messageOf(e)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <fieldset className="space-y-2 rounded border border-dashed border-slate-300 p-3">
      <legend className="px-1 text-xs font-medium text-slate-600">What if: preview {sched} on {pool.name} in the simulator</legend>
      {doms.length === 0 ? (
        <p className="text-sm text-slate-500">No domains in this pool to simulate.</p>
      ) : (
        <table className="text-sm" aria-label="Simulated workloads">
          <tbody>
            {doms.map((d) => (
              <tr key={d.domid}>
                <th scope="row" className="px-2 text-left font-medium">{d.name}</th>
                <td className="px-2">
                  <select aria-label={`Workload of ${d.name}`} value={d.workload} onChange={(e) => setLoads({ ...loads, [d.domid]: { workload: e.target.value, weight: d.weight } })} className="rounded border border-slate-300 px-1 py-0.5">
                    {Object.entries(WORKLOADS).map(([k, w]) => <option key={k} value={k}>{w.label}</option>)}
                  </select>
                </td>
                {(sched === 'credit' || sched === 'credit2') && (
                  <td className="px-2"><input type="number" aria-label={`Simulated weight of ${d.name}`} min={1} max={65535} value={d.weight} onChange={(e) => setLoads({ ...loads, [d.domid]: { workload: d.workload, weight: Number(e.target.value) } })} className="w-24 rounded border border-slate-300 px-1 py-0.5" /></td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="flex items-center gap-2">
        <Button disabled={busy || doms.length === 0} onClick={() => void simulate()}>Preview</Button>
        <span role="status" className="text-xs text-slate-600">{note}</span>
      </div>
      {result && (
        <div className="space-y-2">
          <table className="text-xs" aria-label="Simulated shares">
            <thead className="text-slate-500"><tr>{['vCPU', 'Share', 'Waiting', 'Wake latency p50 / p99', 'Ran on'].map((h) => <th key={h} scope="col" className="px-2 text-left font-medium">{h}</th>)}</tr></thead>
            <tbody>
              {result.vcpus.map((v) => (
                <tr key={`${v.domid}.${v.vcpu}`}>
                  <th scope="row" className="px-2 text-left font-normal">{v.domain} vCPU {v.vcpu}</th>
                  <td className="px-2 tabular-nums">{(100 * v.share).toFixed(1)} %</td>
                  <td className="px-2 tabular-nums">{(v.waitNs / 1e6).toFixed(1)} ms</td>
                  <td className="px-2 tabular-nums">{v.wakeLatency.count ? `${(v.wakeLatency.p50 / 1e3).toFixed(0)} / ${(v.wakeLatency.p99 / 1e3).toFixed(0)} µs` : '—'}</td>
                  <td className="px-2 font-mono">{v.ranOn}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <TimelineChart intervals={result.timeline} nrPcpus={Math.max(1, pool.cpus.length)} from={result.window.from} to={Math.min(result.window.to, result.window.from + WHATIF_TIMELINE_NS)} names={(d) => result.domains.find((x) => x.domid === d)?.name ?? `dom${d}`} label="Simulated schedule" ends={['after the warm-up', `+${WHATIF_TIMELINE_NS / 1e6} ms`]} />
        </div>
      )}
    </fieldset>
  );
}

/**
 * Scheduler parameter panels of a cpupool: Credit (tslice, ratelimit; weight and cap per domain
 * with presets), Credit2 (ratelimit; weight and cap), RTDS (period, budget, extratime per vCPU).
 * Limits are Xen's (spec/schedulers.md): weight 1-65535, cap 0 = none, RTDS budget ≤ period.
 */
import { useState } from 'react';
import type { DomainSchedInfo, PoolInfo, RtdsVcpuParams } from '../../../src-engine/api/types';
import { useAction, useEngine, useStore } from '../../state/use-engine';
import { usePoll } from '../../state/use-poll';
import { Button } from '../ui/button';
import { NumberField } from '../ui/field';

/** Xen's default weight. */
export const DEFAULT_WEIGHT = 256;
/** Friendly presets (XO #633): fractions of the default weight. */
export const WEIGHT_PRESETS: readonly { label: string; weight: number }[] = [
  { label: 'Quarter', weight: 64 },
  { label: 'Half', weight: 128 },
  { label: 'Normal', weight: 256 },
  { label: 'Double', weight: 512 },
];
/** credit's tslice bounds, ms (XEN_SYSCTL_CSCHED_TSLICE_MIN/MAX). */
export const TSLICE_MIN_MS = 1;
export const TSLICE_MAX_MS = 1000;
/** XEN_SYSCTL_SCHED_RATELIMIT_MIN: smallest non-zero rate limit, µs (0 turns it off). */
export const RATELIMIT_MIN_US = 100;
/** XEN_SYSCTL_SCHED_RATELIMIT_MAX: largest rate limit, µs. */
export const RATELIMIT_MAX_US = 500000;
/** libxl sched_rtds_validate_params: period and budget are at least 1 µs. */
export const RTDS_MIN_US = 1;

/** Pool-wide parameters of credit and credit2. */
export function PoolParamsPanel({ pool }: { pool: PoolInfo }) {
  const store = useStore();
  const run = useAction();
  const [tslice, setTslice] = useState(NaN);
  const [ratelimit, setRatelimit] = useState(NaN);
  if (pool.scheduler !== 'credit' && pool.scheduler !== 'credit2') return null;
  const cur = pool.params;
  const ts = Number.isNaN(tslice) ? (cur.tsliceMs ?? 30) : tslice;
  const rl = Number.isNaN(ratelimit) ? (cur.ratelimitUs ?? 1000) : ratelimit;
  const bad = (pool.scheduler === 'credit' && !(ts >= TSLICE_MIN_MS && ts <= TSLICE_MAX_MS)) || !(rl === 0 || (rl >= RATELIMIT_MIN_US && rl <= RATELIMIT_MAX_US)) || (pool.scheduler === 'credit' && rl > ts * 1000);
  return (
    <fieldset className="flex flex-wrap items-end gap-3 rounded border border-slate-200 p-3">
      <legend className="px-1 text-xs font-medium text-slate-600">{pool.scheduler === 'credit' ? 'Credit' : 'Credit2'} pool parameters</legend>
      {pool.scheduler === 'credit' && <NumberField label="Time slice (ms)" value={ts} min={TSLICE_MIN_MS} max={TSLICE_MAX_MS} onValue={setTslice} />}
      <NumberField label="Rate limit (µs)" value={rl} min={0} max={RATELIMIT_MAX_US} onValue={setRatelimit} hint={`0 (off) or ${RATELIMIT_MIN_US}-${RATELIMIT_MAX_US}`} />
      <Button
        kind="primary"
        disabled={bad || (Number.isNaN(tslice) && Number.isNaN(ratelimit))}
        onClick={() =>
          void run(`Setting the parameters of ${pool.name}`, () => store.client.call('pool.setParams', { pool: pool.id, params: pool.scheduler === 'credit' ? { tsliceMs: ts, ratelimitUs: rl } : { ratelimitUs: rl } }), `${pool.name}: parameters applied.`).then(async () => {
            setTslice(NaN);
            setRatelimit(NaN);
            await store.refreshPools();
          })
        }
      >
        Apply pool parameters
      </Button>
      {pool.scheduler === 'credit' && rl > ts * 1000 && <p className="w-full text-xs text-rose-700">The rate limit cannot exceed the time slice.</p>}
    </fieldset>
  );
}

/** Weight and cap of one domain (credit, credit2). */
function WeightCapRow({ domid, name, info, onDone }: { domid: number; name: string; info: DomainSchedInfo; onDone: () => void }) {
  const store = useStore();
  const run = useAction();
  const [w, setW] = useState(NaN);
  const [c, setC] = useState(NaN);
  const weight = Number.isNaN(w) ? (info.weight ?? DEFAULT_WEIGHT) : w;
  const cap = Number.isNaN(c) ? (info.cap ?? 0) : c;
  const ok = weight >= 1 && weight <= 65535 && cap >= 0 && cap <= 65535;
  return (
    <tr className="border-t border-slate-100 align-bottom">
      <th scope="row" className="px-2 py-1 text-left text-sm font-medium">{name}</th>
      <td className="px-2 py-1"><NumberField label="Weight" ariaLabel={`Weight of ${name}`} value={weight} min={1} max={65535} onValue={setW} className="w-28" /></td>
      <td className="px-2 py-1">
        <div className="flex gap-1">
          {WEIGHT_PRESETS.map((p) => (
            <button key={p.label} type="button" aria-pressed={weight === p.weight} onClick={() => setW(p.weight)} className={`rounded border px-1.5 py-0.5 text-xs ${weight === p.weight ? 'border-sky-700 bg-sky-100' : 'border-slate-300'}`}>
              {p.label}
            </button>
          ))}
        </div>
      </td>
      <td className="px-2 py-1"><NumberField label="Cap (%)" ariaLabel={`Cap of ${name} (%)`} value={cap} min={0} max={65535} onValue={setC} className="w-28" hint="0 = no cap" /></td>
      <td className="px-2 py-1">
        <Button disabled={!ok || (Number.isNaN(w) && Number.isNaN(c))} onClick={() => void run(`Setting weight and cap of ${name}`, () => store.client.call('sched.set', { domain: domid, weight, cap }), `${name}: weight ${weight}, cap ${cap || 'none'}.`).then(() => { setW(NaN); setC(NaN); onDone(); })}>
          Apply
        </Button>
      </td>
    </tr>
  );
}

/** RTDS parameters of every vCPU of one domain. */
function RtdsRows({ domid, name, info, onDone }: { domid: number; name: string; info: DomainSchedInfo; onDone: () => void }) {
  const store = useStore();
  const run = useAction();
  const [edit, setEdit] = useState<Record<number, RtdsVcpuParams>>({});
  const rows = info.rtds ?? [];
  const val = (v: number) => edit[v] ?? rows[v];
  const problem = (p: RtdsVcpuParams) => (p.periodUs < RTDS_MIN_US || p.budgetUs < RTDS_MIN_US ? `at least ${RTDS_MIN_US} µs` : p.budgetUs > p.periodUs ? 'budget above period' : undefined);
  const changed = Object.keys(edit).length > 0;
  const anyBad = Object.values(edit).some((p) => problem(p) !== undefined || Number.isNaN(p.periodUs) || Number.isNaN(p.budgetUs));
  return (
    <>
      {rows.map((_, v) => {
        const p = val(v);
        const pr = problem(p);
        return (
          <tr key={v} className="border-t border-slate-100 align-bottom">
            <th scope="row" className="px-2 py-1 text-left text-sm font-medium">{name} vCPU {v}</th>
            <td className="px-2 py-1"><NumberField label="Period (µs)" ariaLabel={`Period of ${name} vCPU ${v} (µs)`} value={p.periodUs} min={RTDS_MIN_US} onValue={(n) => setEdit({ ...edit, [v]: { ...p, periodUs: n } })} className="w-36" /></td>
            <td className="px-2 py-1"><NumberField label="Budget (µs)" ariaLabel={`Budget of ${name} vCPU ${v} (µs)`} value={p.budgetUs} min={RTDS_MIN_US} onValue={(n) => setEdit({ ...edit, [v]: { ...p, budgetUs: n } })} className="w-36" /></td>
            <td className="px-2 py-1"><label className="flex items-center gap-1 text-sm"><input type="checkbox" checked={p.extratime} onChange={(e) => setEdit({ ...edit, [v]: { ...p, extratime: e.target.checked } })} />Extra time</label></td>
            <td className="px-2 py-1 text-xs">
              {pr ? <span className="text-rose-700">{pr}</span> : <span className="text-slate-500">{((100 * p.budgetUs) / p.periodUs).toFixed(1)} % reserved</span>}
            </td>
          </tr>
        );
      })}
      <tr>
        <td colSpan={5} className="px-2 py-1">
          <Button
            disabled={!changed || anyBad}
            onClick={() =>
              void run(`Setting the RTDS parameters of ${name}`, () => store.client.call('sched.set', { domain: domid, rtds: Object.entries(edit).map(([v, params]) => ({ vcpu: Number(v), params })) }), `${name}: RTDS parameters applied.`).then(() => {
                setEdit({});
                onDone();
              })
            }
          >
            Apply {name}
          </Button>
        </td>
      </tr>
    </>
  );
}

/** Per-domain parameters of the pool's domains. */
export function DomainParamsPanel({ pool }: { pool: PoolInfo }) {
  const store = useStore();
  const snap = useEngine();
  const infos = usePoll(
    pool.domains.length > 0 && (pool.scheduler === 'credit' || pool.scheduler === 'credit2' || pool.scheduler === 'rtds')
      ? async () => Promise.all(pool.domains.map(async (d) => ({ domid: d, info: await store.client.call('sched.get', { domain: d }) })))
      : undefined,
    [pool.id, pool.scheduler, pool.domains.join(',')],
    0,
  );
  if (pool.scheduler !== 'credit' && pool.scheduler !== 'credit2' && pool.scheduler !== 'rtds') return null;
  const name = (d: number) => snap.domains.find((x) => x.domid === d)?.name ?? `dom${d}`;
  const rtds = pool.scheduler === 'rtds';
  return (
    <fieldset className="rounded border border-slate-200 p-3">
      <legend className="px-1 text-xs font-medium text-slate-600">{rtds ? 'RTDS reservations per vCPU' : 'Weight and cap per domain'}</legend>
      {pool.domains.length === 0 ? (
        <p className="text-sm text-slate-500">No domains in this pool. Move one here (VM ▸ Overview, or “Move a domain here” below).</p>
      ) : !infos.value ? (
        <p className="text-sm text-slate-500">{infos.error ?? 'Loading…'}</p>
      ) : (
        <table className="text-sm" aria-label={rtds ? 'RTDS parameters' : 'Weights and caps'}>
          <tbody>
            {infos.value.map(({ domid, info }) =>
              info.scheduler !== pool.scheduler ? null : rtds ? <RtdsRows key={`${domid}-${info.scheduler}`} domid={domid} name={name(domid)} info={info} onDone={infos.refresh} /> : <WeightCapRow key={`${domid}-${info.scheduler}`} domid={domid} name={name(domid)} info={info} onDone={infos.refresh} />,
            )}
          </tbody>
        </table>
      )}
    </fieldset>
  );
}

/**
 * CPU pools: the list (scheduler, pCPUs, domains), a new-pool dialog that takes pCPUs from the
 * pools holding them, and for the selected pool the scheduler picker (Credit, Credit2, RTDS,
 * ARINC 653, null) with a confirmation naming the domains that move, the scheduler's parameter
 * panels, pCPU membership, moving domains in, and the "what if" preview.
 */
import { useEffect, useState } from 'react';
import type { PoolInfo, SchedulerName } from '../../../src-engine/api/types';
import { formatCpuList } from '../../lib/cpulist';
import { useAction, useEngine, useStore } from '../../state/use-engine';
import { Button } from '../ui/button';
import { ConfirmDialog, Dialog } from '../ui/dialog';
import { SelectField, TextField } from '../ui/field';
import { Arinc653Editor } from './arinc-editor';
import { DomainParamsPanel, PoolParamsPanel } from './sched-params';
import { WhatIfPanel } from './what-if';

/** Scheduler names and what they are. */
export const SCHEDULERS: readonly { name: SchedulerName; label: string; about: string }[] = [
  { name: 'credit', label: 'Credit', about: 'proportional share by weight, optional cap; 30 ms slices' },
  { name: 'credit2', label: 'Credit2', about: 'proportional share with lower latency and better scaling (Xen’s default)' },
  { name: 'rtds', label: 'RTDS', about: 'real-time EDF: each vCPU gets a budget every period' },
  { name: 'arinc653', label: 'ARINC 653', about: 'fixed time partitioning: a major frame of minor frames' },
  { name: 'null', label: 'Null', about: 'one vCPU per pCPU, no time sharing' },
];

/** Label of a scheduler. */
export function schedLabel(s: SchedulerName): string {
  return SCHEDULERS.find((x) => x.name === s)?.label ?? s;
}

/** The new-pool dialog. */
function NewPoolDialog({ pools, nrPcpus, onClose, onCreated }: { pools: readonly PoolInfo[]; nrPcpus: number; onClose: () => void; onCreated: (name: string) => void }) {
  const store = useStore();
  const run = useAction();
  const [name, setName] = useState('');
  const [sched, setSched] = useState<SchedulerName>('credit');
  const [cpus, setCpus] = useState<number[]>([]);
  const owner = (c: number) => pools.find((p) => p.cpus.includes(c));
  const nameBad = !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name) || pools.some((p) => p.name === name);
  const create = async () => {
    const ok = await run(`Creating pool ${name}`, async () => {
      for (const c of cpus) {
        const o = owner(c);
        if (o) await store.client.call('pool.cpuRemove', { pool: o.id, cpus: String(c) });
      }
      return store.client.call('pool.create', { name, scheduler: sched, cpus: cpus.length ? formatCpuList(cpus) : undefined });
    }, `Pool ${name} created.`);
    await store.refreshPools();
    if (ok) {
      onCreated(name);
      onClose();
    }
  };
  return (
    <Dialog title="New CPU pool" onClose={onClose}>
      <form className="space-y-3" onSubmit={(e) => { e.preventDefault(); if (!nameBad) void create(); }}>
        <TextField label="Pool name" value={name} onChange={(e) => setName(e.target.value)} error={name !== '' && nameBad ? 'Letters, digits, ".", "_" and "-", not used by another pool.' : undefined} />
        <SelectField label="Scheduler of the new pool" value={sched} onChange={(e) => setSched(e.target.value as SchedulerName)}>
          {SCHEDULERS.map((s) => <option key={s.name} value={s.name}>{s.label}</option>)}
        </SelectField>
        <fieldset className="space-y-1">
          <legend className="text-xs font-medium text-slate-600">pCPUs (taken from the pool that has them)</legend>
          {Array.from({ length: nrPcpus }, (_, c) => {
            const o = owner(c);
            const locked = o?.id === 0 && c === 0;
            return (
              <label key={c} className="mr-3 inline-flex items-center gap-1 text-sm">
                <input type="checkbox" disabled={locked} checked={cpus.includes(c)} onChange={() => setCpus(cpus.includes(c) ? cpus.filter((x) => x !== c) : [...cpus, c].sort((a, b) => a - b))} />
                pCPU {c} <span className="text-xs text-slate-500">({o ? o.name : 'free'}{locked ? ', keeps pCPU 0' : ''})</span>
              </label>
            );
          })}
        </fieldset>
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button kind="primary" type="submit" disabled={nameBad}>Create pool</Button>
        </div>
      </form>
    </Dialog>
  );
}

/** The editor of one pool. */
function PoolEditor({ pool, pools, nrPcpus }: { pool: PoolInfo; pools: readonly PoolInfo[]; nrPcpus: number }) {
  const store = useStore();
  const snap = useEngine();
  const run = useAction();
  const [pick, setPick] = useState<SchedulerName>(pool.scheduler);
  const [confirm, setConfirm] = useState(false);
  const [moveDom, setMoveDom] = useState('');
  const domName = (d: number) => snap.domains.find((x) => x.domid === d)?.name ?? `dom${d}`;
  const switchSched = async () => {
    setConfirm(false);
    await run(`Switching ${pool.name} to ${schedLabel(pick)}`, () => store.client.call('pool.setScheduler', { pool: pool.id, scheduler: pick }), `${pool.name} now runs ${schedLabel(pick)}.`);
    await store.refreshPools();
  };
  const cpuToggle = async (c: number) => {
    const inPool = pool.cpus.includes(c);
    const other = pools.find((p) => p.id !== pool.id && p.cpus.includes(c));
    await run(`${inPool ? 'Removing' : 'Adding'} pCPU ${c}`, async () => {
      if (inPool) return store.client.call('pool.cpuRemove', { pool: pool.id, cpus: String(c) });
      if (other) await store.client.call('pool.cpuRemove', { pool: other.id, cpus: String(c) });
      return store.client.call('pool.cpuAdd', { pool: pool.id, cpus: String(c) });
    });
    await store.refreshPools();
  };
  const outsiders = snap.domains.filter((d) => !pool.domains.includes(d.domid) && d.state !== 'shutdown' && d.state !== 'crashed');
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end gap-3">
        <SelectField label="Scheduler" value={pick} onChange={(e) => setPick(e.target.value as SchedulerName)} className="w-56">
          {SCHEDULERS.map((s) => <option key={s.name} value={s.name}>{s.label}</option>)}
        </SelectField>
        <Button kind="primary" disabled={pick === pool.scheduler} onClick={() => setConfirm(true)} title={pool.id === 0 ? 'Pool-0 keeps the scheduler the engine started with' : undefined}>
          Switch scheduler
        </Button>
        <p className="text-xs text-slate-500">{SCHEDULERS.find((s) => s.name === pick)?.about}</p>
      </div>
      {pick !== pool.scheduler && <p className="text-xs text-amber-700">The pool still runs {schedLabel(pool.scheduler)}; its parameters are below. Preview {schedLabel(pick)} in the simulator, or switch.</p>}
      <PoolParamsPanel pool={pool} />
      <DomainParamsPanel pool={pool} />
      <Arinc653Editor pool={pool} />
      <fieldset className="rounded border border-slate-200 p-3">
        <legend className="px-1 text-xs font-medium text-slate-600">pCPUs of {pool.name}</legend>
        <div className="flex flex-wrap gap-3">
          {Array.from({ length: nrPcpus }, (_, c) => {
            const other = pools.find((p) => p.id !== pool.id && p.cpus.includes(c));
            return (
              <label key={c} className="inline-flex items-center gap-1 text-sm">
                <input type="checkbox" aria-label={`pCPU ${c} in ${pool.name}`} checked={pool.cpus.includes(c)} disabled={(pool.id === 0 && c === 0) || (pool.cpus.includes(c) && pool.cpus.length === 1 && pool.domains.length > 0)} onChange={() => void cpuToggle(c)} />
                pCPU {c}{other ? <span className="text-xs text-slate-500"> (in {other.name})</span> : null}
              </label>
            );
          })}
        </div>
      </fieldset>
      <div className="flex flex-wrap items-end gap-2">
        <SelectField label="Move a domain here" value={moveDom} onChange={(e) => setMoveDom(e.target.value)} className="w-56">
          <option value="">Choose a domain…</option>
          {outsiders.map((d) => <option key={d.domid} value={d.domid}>{d.name} (in {d.pool})</option>)}
        </SelectField>
        <Button disabled={moveDom === '' || pool.cpus.length === 0} onClick={() => void run('Moving the domain', () => store.client.call('pool.migrate', { domain: Number(moveDom), pool: pool.id }), 'Moved.').then(async () => { setMoveDom(''); await store.refreshPools(); })}>
          Move
        </Button>
        {pool.id !== 0 && (
          <Button kind="danger" disabled={pool.domains.length > 0} title={pool.domains.length > 0 ? 'Move its domains out first' : undefined} onClick={() => void run(`Destroying ${pool.name}`, async () => { if (pool.cpus.length) await store.client.call('pool.cpuRemove', { pool: pool.id, cpus: formatCpuList(pool.cpus) }); return store.client.call('pool.destroy', { pool: pool.id }); }).then(() => store.refreshPools())}>
            Destroy pool
          </Button>
        )}
      </div>
      <WhatIfPanel pool={pool} sched={pick} />
      {confirm && (
        <ConfirmDialog
          title={`Switch ${pool.name} to ${schedLabel(pick)}?`}
          message={
            pool.domains.length === 0 ? (
              <>The pool has no domains; its scheduler is replaced at once.</>
            ) : (
              <>
                Xen cannot change a running pool’s scheduler, so its domains ({pool.domains.map(domName).join(', ')}) move to Pool-0, the pool is rebuilt with {schedLabel(pick)} on pCPUs {formatCpuList(pool.cpus)}, and they move back. Their affinities reset to all pCPUs{pick === 'arinc653' ? '; under ARINC 653 they run only once you give the pool a schedule' : ''}.
              </>
            )
          }
          confirmLabel="Switch"
          onCancel={() => setConfirm(false)}
          onConfirm={() => void switchSched()}
        />
      )}
    </div>
  );
}

/** The pools page. */
export function PoolsPanel() {
  const snap = useEngine();
  const store = useStore();
  // The store follows the engine's `pool` events (sent after every cpupool change, whoever made
  // it: the CLI, other windows); one fetch on opening covers a store that missed some.
  useEffect(() => {
    void store.refreshPools().catch(() => undefined);
  }, [store]);
  const [selected, setSelected] = useState<string>('Pool-0');
  const [creating, setCreating] = useState(false);
  const nrPcpus = snap.host?.nrPcpus ?? 1;
  const pool = snap.pools.find((p) => p.name === selected) ?? snap.pools[0];
  const name = (d: number) => snap.domains.find((x) => x.domid === d)?.name ?? `dom${d}`;
  return (
    <div className="space-y-3 p-4">
      <div className="flex items-center gap-2">
        <h3 className="text-sm font-semibold text-slate-800">CPU pools</h3>
        <Button onClick={() => setCreating(true)}>New pool</Button>
      </div>
      <table className="text-sm" aria-label="CPU pools">
        <thead className="text-xs text-slate-500"><tr>{['Pool', 'Scheduler', 'pCPUs', 'Domains'].map((h) => <th key={h} scope="col" className="px-2 text-left font-medium">{h}</th>)}</tr></thead>
        <tbody>
          {snap.pools.map((p) => (
            <tr key={p.id} aria-selected={p.name === pool?.name} onClick={() => setSelected(p.name)} className={`cursor-default border-t border-slate-100 ${p.name === pool?.name ? 'bg-sky-100' : 'hover:bg-slate-50'}`}>
              <th scope="row" className="px-2 text-left font-medium">
                <button type="button" className="hover:underline" onClick={() => setSelected(p.name)}>{p.name}</button>
              </th>
              <td className="px-2" data-testid={`pool-sched-${p.name}`}>{schedLabel(p.scheduler)}</td>
              <td className="px-2 font-mono text-xs">{formatCpuList(p.cpus)}</td>
              <td className="px-2">{p.domains.map(name).join(', ') || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {pool && (
        <section aria-label={`Pool ${pool.name}`} className="rounded border border-slate-200 bg-slate-50 p-3">
          <h4 className="mb-2 text-sm font-semibold text-slate-800">{pool.name}: {schedLabel(pool.scheduler)}</h4>
          <PoolEditor key={`${pool.id}-${pool.scheduler}`} pool={pool} pools={snap.pools} nrPcpus={nrPcpus} />
        </section>
      )}
      {creating && <NewPoolDialog pools={snap.pools} nrPcpus={nrPcpus} onClose={() => setCreating(false)} onCreated={setSelected} />}
    </div>
  );
}

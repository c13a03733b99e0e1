/**
 * The CPUs page of a VM: vCPUs online and maximum, the pinning grid (hard and soft affinity,
 * live and saved), and the live vCPU table (state, pCPU now, CPU time, stored and effective
 * affinity), refreshed every second like `xl vcpu-list`.
 */
import { useState } from 'react';
import type { CpuAffinityConfig, DomainConfig } from '../../../src-engine/api/domain-config';
import type { VcpuInfo } from '../../../src-engine/api/types';
import { formatCpuList } from '../../lib/cpulist';
import { duration } from '../../lib/format';
import { setXlKey, xlString } from '../../lib/xlcfg';
import type { VmRow } from '../../lib/vm-rows';
import { isLive } from '../../lib/vm-rows';
import { useAction, useEngine, useStore } from '../../state/use-engine';
import { usePoll } from '../../state/use-poll';
import { Button } from '../ui/button';
import { NumberField } from '../ui/field';
import { PinGrid, type AffinityKind } from './pin-grid';

/** Saved affinity of each vCPU from a config value. */
export function savedLists(a: CpuAffinityConfig | undefined, n: number): string[] {
  return Array.from({ length: n }, (_, i) => (a === undefined ? 'all' : typeof a === 'string' ? a : (a[i] ?? 'all')));
}

/** The xl.cfg value for per-vCPU lists (one string when they agree; undefined when all are "all"). */
export function affinityValue(lists: readonly string[]): string | undefined {
  if (lists.every((l) => l === 'all')) return undefined;
  if (lists.every((l) => l === lists[0])) return xlString(lists[0]);
  return `[ ${lists.map(xlString).join(', ')} ]`;
}

const STATE_WORD: Record<VcpuInfo['state'], string> = { running: 'running', runnable: 'runnable', blocked: 'blocked', paused: 'paused', offline: 'offline' };

/** The page. */
export function CpusTab({ row, config }: { row: VmRow; config: DomainConfig | undefined }) {
  const store = useStore();
  const snap = useEngine();
  const run = useAction();
  const nrPcpus = snap.host?.nrPcpus ?? 1;
  const dom = isLive(row) ? row.domain : undefined;
  const vcpus = usePoll(dom ? () => store.client.call('vcpu.list', { domain: dom.domid }) : undefined, [dom?.domid]);
  const [online, setOnline] = useState<number>(NaN);
  const maxV = config?.maxvcpus ?? dom?.maxVcpus ?? 1;
  const pool = snap.pools.find((p) => p.name === (dom?.pool ?? config?.pool ?? 'Pool-0'));
  const poolCpus = pool?.cpus ?? Array.from({ length: nrPcpus }, (_, i) => i);

  const applyLive = async (kind: AffinityKind, lists: Map<number, string>) => {
    if (!dom) return;
    for (const [v, list] of lists) {
      await run(`Pinning vCPU ${v} of ${row.name}`, () => store.client.call('vcpu.pin', { domain: dom.domid, vcpu: v, ...(kind === 'hard' ? { hard: list } : { soft: list }) }));
    }
    vcpus.refresh();
  };
  const saveConfig = async (kind: AffinityKind, lists: string[]) => {
    if (!row.library) return;
    await run(
      `Saving the ${kind} affinity of ${row.name}`,
      async () => {
        const cur = await store.client.call('library.get', { name: row.name });
        const text = setXlKey(cur.text, kind === 'hard' ? 'cpus' : 'cpus_soft', affinityValue(lists));
        await store.client.call('library.save', { name: row.name, text });
        await store.refreshLibrary();
      },
      `Saved: ${row.name} starts with this ${kind} affinity next time.`,
    );
  };

  return (
    <div className="space-y-5 p-4">
      <section aria-labelledby="vcpu-count" className="flex flex-wrap items-end gap-4">
        <h3 id="vcpu-count" className="w-full text-sm font-semibold text-slate-800">vCPUs</h3>
        <dl className="grid grid-cols-2 gap-x-4 text-sm">
          <dt className="text-slate-500">Online</dt>
          <dd>{dom ? `${dom.onlineVcpus} of ${dom.maxVcpus}` : `${config?.vcpus ?? '—'} at start`}</dd>
          <dt className="text-slate-500">Maximum</dt>
          <dd>{maxV}</dd>
          <dt className="text-slate-500">Host pCPUs</dt>
          <dd>{nrPcpus}{snap.host?.oversubscribed ? ' (more than the host has)' : ''}</dd>
        </dl>
        {dom && (
          <div className="flex items-end gap-2">
            <NumberField label="Online vCPUs" value={Number.isNaN(online) ? dom.onlineVcpus : online} min={1} max={maxV} onValue={setOnline} />
            <Button disabled={Number.isNaN(online) || online === dom.onlineVcpus} onClick={() => void run('Changing the vCPU count', () => store.client.call('domain.setVcpus', { domain: dom.domid, count: online })).then(() => setOnline(NaN))}>
              Apply
            </Button>
          </div>
        )}
        {maxV > nrPcpus && <p className="text-xs text-amber-700">More vCPUs than pCPUs: they will share pCPUs and run slower.</p>}
      </section>
      <PinGrid
        nrPcpus={nrPcpus}
        live={dom ? vcpus.value : undefined}
        maxVcpus={maxV}
        saved={{ hard: savedLists(config?.cpus, maxV), soft: savedLists(config?.cpusSoft, maxV) }}
        poolCpus={poolCpus}
        onApplyLive={dom ? applyLive : undefined}
        onSave={row.library ? saveConfig : undefined}
      />
      <section aria-labelledby="vcpu-live" className="space-y-1">
        <h3 id="vcpu-live" className="text-sm font-semibold text-slate-800">Live vCPUs</h3>
        {!dom ? (
          <p className="text-sm text-slate-500">Not running.</p>
        ) : (
          <table className="text-sm" aria-label="Live vCPUs">
            <thead className="text-xs text-slate-500">
              <tr>
                {['vCPU', 'State', 'pCPU', 'CPU time', 'Hard affinity', 'Soft affinity', 'Effective'].map((h) => (
                  <th key={h} scope="col" className="px-2 text-left font-medium">{h}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {(vcpus.value ?? []).map((v) => (
                <tr key={v.vcpu} className="border-t border-slate-100" aria-label={`vCPU ${v.vcpu}`}>
                  <th scope="row" className="px-2 text-left font-medium">{v.vcpu}</th>
                  <td className="px-2">{STATE_WORD[v.state]}</td>
                  <td className="px-2 tabular-nums" data-testid={`vcpu-${v.vcpu}-pcpu`}>{v.pcpu < 0 ? '—' : v.pcpu}</td>
                  <td className="px-2 tabular-nums">{duration(v.cpuSeconds)}</td>
                  <td className="px-2 font-mono text-xs">{formatCpuList(v.hard, nrPcpus)}</td>
                  <td className="px-2 font-mono text-xs">{formatCpuList(v.soft, nrPcpus)}</td>
                  <td className="px-2 font-mono text-xs" data-testid={`vcpu-${v.vcpu}-effective`}>{formatCpuList(v.effective, nrPcpus)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {vcpus.error && <p className="text-xs text-rose-700">{vcpus.error}</p>}
      </section>
    </div>
  );
}

/**
 * The Memory page: current allocation, maximum, and the balloon target (xl mem-set / mem-max)
 * live, plus the saved memory= / maxmem= for the next start.
 */
import { useState } from 'react';
import type { DomainConfig } from '../../../src-engine/api/domain-config';
import { mib } from '../../lib/format';
import { isLive, type VmRow } from '../../lib/vm-rows';
import { useAction, useEngine, useStore } from '../../state/use-engine';
import { Button } from '../ui/button';
import { NumberField } from '../ui/field';
import { useConfigEdit } from './config-edit';

/** The page. */
export function MemoryTab({ row, config }: { row: VmRow; config: DomainConfig | undefined }) {
  const store = useStore();
  const snap = useEngine();
  const run = useAction();
  const save = useConfigEdit(row);
  const d = isLive(row) ? row.domain : undefined;
  const [target, setTarget] = useState(NaN);
  const [max, setMax] = useState(NaN);
  const [savedMem, setSavedMem] = useState(NaN);
  const [savedMax, setSavedMax] = useState(NaN);
  const cur = d?.memoryMiB ?? config?.memoryMiB ?? 0;
  const top = d?.maxmemMiB ?? config?.maxmemMiB ?? cur;
  const balloon = d?.targetMiB ?? cur;
  const val = (v: number, dflt: number) => (Number.isNaN(v) ? dflt : v);

  return (
    <div className="space-y-5 p-4 text-sm">
      <section aria-labelledby="mem-now" className="space-y-2">
        <h3 id="mem-now" className="font-semibold text-slate-800">Allocation</h3>
        <div className="h-4 w-full max-w-md overflow-hidden rounded bg-slate-200" role="meter" aria-label="Memory in use of maximum" aria-valuemin={0} aria-valuemax={top} aria-valuenow={cur}>
          <div className="h-full bg-emerald-600" style={{ width: `${top > 0 ? (100 * cur) / top : 0}%` }} />
        </div>
        <p>
          {mib(cur)} now, {mib(top)} maximum{top > cur ? `; ${mib(top - cur)} ballooned out` : ''}{d && balloon !== cur ? `; balloon target ${mib(balloon)}` : ''}. Host: {snap.host ? `${mib(snap.host.freeMemoryMiB)} free of ${mib(snap.host.totalMemoryMiB)}` : '—'}.
        </p>
      </section>
      {d && (
        <section aria-labelledby="mem-live" className="flex flex-wrap items-end gap-3">
          <h3 id="mem-live" className="w-full font-semibold text-slate-800">Live (balloon)</h3>
          <NumberField label="Balloon target (MiB)" value={val(target, balloon)} min={1} max={top} onValue={setTarget} />
          <Button disabled={Number.isNaN(target) || target === balloon} onClick={() => void run('Setting the balloon target', () => store.client.call('domain.memSet', { domain: d.domid, mib: target })).then(() => setTarget(NaN))}>
            Set target
          </Button>
          <NumberField label="Maximum (MiB)" value={val(max, top)} min={1} onValue={setMax} />
          <Button disabled={Number.isNaN(max) || max === top} onClick={() => void run('Setting the maximum memory', () => store.client.call('domain.memMax', { domain: d.domid, mib: max })).then(() => setMax(NaN))}>
            Set maximum
          </Button>
          <p className="w-full text-xs text-slate-500">The guest gives memory back only if it runs a balloon driver.</p>
        </section>
      )}
      {row.library && config && (
        <section aria-labelledby="mem-saved" className="flex flex-wrap items-end gap-3">
          <h3 id="mem-saved" className="w-full font-semibold text-slate-800">At next start</h3>
          <NumberField label="Memory (MiB)" value={val(savedMem, config.memoryMiB)} min={2} onValue={setSavedMem} />
          <NumberField label="Maximum memory (MiB)" value={val(savedMax, config.maxmemMiB)} min={2} onValue={setSavedMax} />
          <Button
            disabled={Number.isNaN(savedMem) && Number.isNaN(savedMax)}
            onClick={() => {
              const m = val(savedMem, config.memoryMiB);
              const x = Math.max(m, val(savedMax, config.maxmemMiB));
              void save({ memory: String(m), maxmem: x === m ? undefined : String(x) }, 'the memory settings').then((ok) => {
                if (ok) {
                  setSavedMem(NaN);
                  setSavedMax(NaN);
                }
              });
            }}
          >
            Save to config
          </Button>
        </section>
      )}
    </div>
  );
}

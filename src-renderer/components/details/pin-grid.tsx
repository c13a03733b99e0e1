/**
 * The per-vCPU pinning editor: a vCPU × pCPU grid of checkboxes ("vCPU 0 on pCPU 2") and a CPU-list
 * field per vCPU that follow each other, for hard or soft affinity. "Apply live" pins the running
 * domain (xl vcpu-pin); "Save to config" writes cpus= / cpus_soft= into its library file (next
 * start). pCPUs outside the domain's pool are marked: hard affinity there has no effect.
 */
import { useEffect, useMemo, useState } from 'react';
import type { VcpuInfo } from '../../../src-engine/api/types';
import { formatCpuList, parseCpuList } from '../../lib/cpulist';
import { Button } from '../ui/button';

/** Which affinity the grid edits. */
export type AffinityKind = 'hard' | 'soft';

/** Props of the grid. */
export interface PinGridProps {
  nrPcpus: number;
  /** Live vCPUs (undefined when the domain is not running). */
  live: readonly VcpuInfo[] | undefined;
  /** vCPUs the config defines. */
  maxVcpus: number;
  /** Saved affinity per vCPU from the config ("all" when unset), by kind. */
  saved: Record<AffinityKind, readonly string[]>;
  /** pCPUs of the domain's pool. */
  poolCpus: readonly number[];
  /** Pins live; lists are Xen CPU lists per changed vCPU. */
  onApplyLive?: (kind: AffinityKind, lists: Map<number, string>) => Promise<void>;
  /** Writes the config; one list per vCPU. */
  onSave?: (kind: AffinityKind, lists: string[]) => Promise<void>;
}

function setsEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The grid. */
export function PinGrid({ nrPcpus, live, maxVcpus, saved, poolCpus, onApplyLive, onSave }: PinGridProps) {
  const [kind, setKind] = useState<AffinityKind>('hard');
  const [draft, setDraft] = useState<number[][] | undefined>();
  const [texts, setTexts] = useState<(string | undefined)[] | undefined>();
  const [busy, setBusy] = useState(false);

  /** The starting point: live affinity when running, else the saved one. */
  const base = useMemo(() => {
    const out: number[][] = [];
    for (let v = 0; v < maxVcpus; v++) {
      const l = live?.find((x) => x.vcpu === v);
      if (l) out.push([...(kind === 'hard' ? l.hard : l.soft)].filter((c) => c < nrPcpus).sort((a, b) => a - b));
      else {
        try {
          out.push(parseCpuList(saved[kind][v] ?? 'all', nrPcpus));
        } catch {
          out.push(Array.from({ length: nrPcpus }, (_, i) => i));
        }
      }
    }
    return out;
  }, [live, maxVcpus, kind, saved, nrPcpus]);

  useEffect(() => {
    setDraft(undefined);
    setTexts(undefined);
  }, [kind]);

  const sets = draft ?? base;
  const shownText = (v: number) => texts?.[v] ?? formatCpuList(sets[v] ?? [], nrPcpus);
  const textError = (v: number): string | undefined => {
    const t = texts?.[v];
    if (t === undefined) return undefined;
    try {
      const s = parseCpuList(t, nrPcpus);
      return s.length === 0 ? 'A vCPU needs at least one pCPU.' : undefined;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  };
  const dirty = draft !== undefined && draft.some((s, v) => !setsEqual(s, base[v] ?? []));
  const anyError = sets.some((s) => s.length === 0) || Array.from({ length: maxVcpus }, (_, v) => textError(v)).some((e) => e !== undefined);

  const toggle = (v: number, c: number) => {
    const next = sets.map((s) => [...s]);
    next[v] = next[v].includes(c) ? next[v].filter((x) => x !== c) : [...next[v], c].sort((a, b) => a - b);
    setDraft(next);
    const t = texts ? [...texts] : [];
    t[v] = undefined;
    setTexts(t);
  };
  const typeList = (v: number, text: string) => {
    const t = texts ? [...texts] : [];
    t[v] = text;
    setTexts(t);
    try {
      const parsed = parseCpuList(text, nrPcpus);
      const next = sets.map((s) => [...s]);
      next[v] = parsed;
      setDraft(next);
    } catch {
      // Shown as the field's error; the grid keeps the last valid set.
    }
  };
  const changedLists = () => {
    const m = new Map<number, string>();
    sets.forEach((s, v) => {
      if (!setsEqual(s, base[v] ?? [])) m.set(v, formatCpuList(s));
    });
    return m;
  };
  const act = async (f: () => Promise<void>) => {
    setBusy(true);
    try {
      await f();
      setDraft(undefined);
      setTexts(undefined);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="pin-title" className="space-y-2">
      <div className="flex flex-wrap items-center gap-3">
        <h3 id="pin-title" className="text-sm font-semibold text-slate-800">
          vCPU pinning
        </h3>
        <fieldset className="flex items-center gap-2 text-sm">
          <legend className="sr-only">Affinity to edit</legend>
          {(['hard', 'soft'] as const).map((k) => (
            <label key={k} className="flex items-center gap-1">
              <input type="radio" name="affinity-kind" checked={kind === k} onChange={() => setKind(k)} />
              {k === 'hard' ? 'Hard affinity (pinning)' : 'Soft affinity (preference)'}
            </label>
          ))}
        </fieldset>
        <span className="text-xs text-slate-500">{live ? 'Showing the live affinity.' : 'Not running: showing the saved configuration.'}</span>
      </div>
      <div className="overflow-auto">
        <table className="border-collapse text-sm" aria-label={`${kind === 'hard' ? 'Hard' : 'Soft'} affinity grid`}>
          <thead>
            <tr>
              <th scope="col" className="px-2 text-left text-xs font-medium text-slate-500">vCPU</th>
              {Array.from({ length: nrPcpus }, (_, c) => (
                <th key={c} scope="col" className={`px-1 text-center text-xs font-medium ${poolCpus.includes(c) ? 'text-slate-600' : 'text-slate-300'}`} title={poolCpus.includes(c) ? `pCPU ${c}` : `pCPU ${c} is not in this domain's pool`}>
                  pCPU {c}
                </th>
              ))}
              <th scope="col" className="px-2 text-left text-xs font-medium text-slate-500">CPU list</th>
              <th scope="col" className="px-2 text-left text-xs font-medium text-slate-500">Saved</th>
            </tr>
          </thead>
          <tbody>
            {sets.map((s, v) => {
              const err = textError(v);
              return (
                <tr key={v} className="border-t border-slate-100">
                  <th scope="row" className="px-2 text-left text-xs font-medium text-slate-700">vCPU {v}</th>
                  {Array.from({ length: nrPcpus }, (_, c) => (
                    <td key={c} className={`px-1 text-center ${poolCpus.includes(c) ? '' : 'bg-slate-50'}`}>
                      <input type="checkbox" aria-label={`vCPU ${v} on pCPU ${c}`} checked={s.includes(c)} onChange={() => toggle(v, c)} />
                    </td>
                  ))}
                  <td className="px-2">
                    <input aria-label={`CPU list of vCPU ${v}`} aria-invalid={err ? true : undefined} title={err} value={shownText(v)} onChange={(e) => typeList(v, e.target.value)} className={`w-28 rounded border px-1 py-0.5 font-mono text-xs ${err ? 'border-rose-500' : 'border-slate-300'}`} />
                    {err && <div className="max-w-48 text-xs text-rose-700">{err}</div>}
                  </td>
                  <td className="px-2 font-mono text-xs text-slate-500">{saved[kind][v] ?? 'all'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <div className="flex flex-wrap items-center gap-2">
        {onApplyLive && (
          <Button kind="primary" disabled={!dirty || anyError || busy || !live} title={live ? 'Pin the running vCPUs now (xl vcpu-pin)' : 'The domain is not running.'} onClick={() => void act(() => onApplyLive(kind, changedLists()))}>
            Apply live
          </Button>
        )}
        {onSave && (
          <Button disabled={anyError || busy} title={`Write ${kind === 'hard' ? 'cpus' : 'cpus_soft'}= into the configuration (used at the next start)`} onClick={() => void act(() => onSave(kind, sets.map((x) => formatCpuList(x, nrPcpus))))}>
            Save to config
          </Button>
        )}
        <Button disabled={!dirty || busy} onClick={() => { setDraft(undefined); setTexts(undefined); }}>
          Revert
        </Button>
        {dirty && <span className="text-xs text-amber-700">Unapplied changes.</span>}
      </div>
    </section>
  );
}

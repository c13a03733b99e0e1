/**
 * The library: the domain configurations the engine keeps (the same files `domus` uses) and the
 * ISO images built with the wizard (remembered by this GUI), with their state and problems.
 */
import { loadRecentIsos, forgetIso } from '../../lib/recent-isos';
import { useState } from 'react';
import { useEngine } from '../../state/use-engine';
import { Button } from '../ui/button';

/** The panel. */
export function LibraryPanel({ onEditVm }: { onEditVm: (name: string) => void }) {
  const snap = useEngine();
  const [isos, setIsos] = useState(loadRecentIsos);
  return (
    <div className="space-y-5 p-4 text-sm">
      <section aria-labelledby="lib-cfg" className="space-y-1">
        <h3 id="lib-cfg" className="font-semibold text-slate-800">Domain configurations</h3>
        <table className="w-full" aria-label="Domain configurations">
          <thead className="text-xs text-slate-500"><tr>{['Name', 'File', 'Status', ''].map((h) => <th key={h} scope="col" className="px-2 text-left font-medium">{h}</th>)}</tr></thead>
          <tbody>
            {snap.library.length === 0 && <tr><td colSpan={4} className="px-2 py-2 text-slate-500">The library is empty.</td></tr>}
            {snap.library.map((l) => (
              <tr key={l.name} className="border-t border-slate-100 align-top">
                <th scope="row" className="px-2 text-left font-medium">{l.name}</th>
                <td className="px-2 font-mono text-xs break-all">{l.file}</td>
                <td className="px-2">{l.errors.length ? <span className="text-rose-700">{l.errors.length} error(s)</span> : l.domid !== undefined ? `running as domain ${l.domid}` : 'ready'}{l.warnings.length ? <span className="text-amber-700">, {l.warnings.length} warning(s)</span> : null}</td>
                <td className="px-2"><Button kind="ghost" onClick={() => onEditVm(l.name)}>Open</Button></td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="lib-iso" className="space-y-1">
        <h3 id="lib-iso" className="font-semibold text-slate-800">ISO images</h3>
        {isos.length === 0 ? <p className="text-slate-500">No ISO built yet. Build one with Tools ▸ Build GRUB ISO.</p> : (
          <ul className="space-y-1" aria-label="ISO images">
            {isos.map((i) => (
              <li key={i.path} className="flex items-center gap-2">
                <code className="text-xs">{i.path}</code>
                <span className="text-xs text-slate-500">{(i.bytes / 2 ** 20).toFixed(1)} MiB, {new Date(i.builtAt).toLocaleString()}</span>
                <Button kind="ghost" aria-label={`Forget ${i.path}`} onClick={() => setIsos(forgetIso(i.path))}>Forget</Button>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

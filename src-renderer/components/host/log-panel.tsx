/** The engine log (domus dmesg) with a level filter, and the long tasks (ISO builds) with progress. */
import { useState } from 'react';
import type { LogEntry } from '../../../src-engine/api/types';
import { useEngine } from '../../state/use-engine';

const LEVELS: LogEntry['level'][] = ['debug', 'info', 'warn', 'error'];
const LEVEL_CLASS: Record<LogEntry['level'], string> = { debug: 'text-slate-400', info: 'text-slate-700', warn: 'text-amber-700', error: 'text-rose-700' };

/** The panel. */
export function LogPanel() {
  const snap = useEngine();
  const [min, setMin] = useState<LogEntry['level']>('info');
  const shown = snap.log.filter((e) => LEVELS.indexOf(e.level) >= LEVELS.indexOf(min));
  return (
    <div className="space-y-4 p-4 text-sm">
      <section aria-labelledby="tasks-title" className="space-y-1">
        <h3 id="tasks-title" className="font-semibold text-slate-800">Tasks</h3>
        {snap.tasks.length === 0 ? <p className="text-slate-500">No tasks.</p> : (
          <ul className="space-y-1">
            {snap.tasks.map((t) => (
              <li key={t.taskId} className="flex items-center gap-2">
                <span className="w-40 truncate font-mono text-xs">{t.taskId}</span>
                <progress max={1} value={t.progress} aria-label={`Progress of ${t.taskId}`} className="w-40" />
                <span className={t.error ? 'text-rose-700' : 'text-slate-600'}>{t.error ?? t.message}{t.done && !t.error ? ' (done)' : ''}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="log-title" className="space-y-1">
        <div className="flex items-center gap-3">
          <h3 id="log-title" className="font-semibold text-slate-800">Engine log</h3>
          <label className="text-xs text-slate-600">Show from <select value={min} onChange={(e) => setMin(e.target.value as LogEntry['level'])} className="rounded border border-slate-300 px-1">{LEVELS.map((l) => <option key={l}>{l}</option>)}</select></label>
        </div>
        <ol aria-label="Engine log" className="max-h-[60vh] overflow-auto rounded border border-slate-200 bg-slate-50 p-2 font-mono text-xs">
          {shown.map((e, i) => (
            <li key={i} className={LEVEL_CLASS[e.level]}>
              {new Date(e.time).toLocaleTimeString()} {e.level.padEnd(5)} [{e.source}] {e.message}
            </li>
          ))}
        </ol>
      </section>
    </div>
  );
}

/** WAI-ARIA tabs: a tablist whose tabs move with the arrow keys and a tabpanel for the chosen one. */
import { useId, useRef, type KeyboardEvent, type ReactNode } from 'react';

/** One tab. */
export interface TabSpec<K extends string> {
  key: K;
  label: string;
}

/** Tabs with their panel. */
export function Tabs<K extends string>({ label, tabs, value, onChange, children, className = '' }: { label: string; tabs: readonly TabSpec<K>[]; value: K; onChange: (k: K) => void; children: ReactNode; className?: string }) {
  const id = useId();
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const onKey = (e: KeyboardEvent, i: number) => {
    const n = tabs.length;
    const next = e.key === 'ArrowRight' ? (i + 1) % n : e.key === 'ArrowLeft' ? (i + n - 1) % n : e.key === 'Home' ? 0 : e.key === 'End' ? n - 1 : -1;
    if (next < 0) return;
    e.preventDefault();
    onChange(tabs[next].key);
    refs.current[next]?.focus();
  };
  return (
    <div className={`flex min-h-0 flex-col ${className}`}>
      <div role="tablist" aria-label={label} className="flex flex-wrap gap-0.5 border-b border-slate-300 px-2">
        {tabs.map((t, i) => (
          <button
            key={t.key}
            ref={(el) => {
              refs.current[i] = el;
            }}
            type="button"
            role="tab"
            id={`${id}-${t.key}`}
            aria-selected={t.key === value}
            aria-controls={`${id}-panel`}
            tabIndex={t.key === value ? 0 : -1}
            onClick={() => onChange(t.key)}
            onKeyDown={(e) => onKey(e, i)}
            className={`-mb-px rounded-t border px-3 py-1 text-sm ${t.key === value ? 'border-slate-300 border-b-white bg-white font-medium text-slate-900' : 'border-transparent text-slate-600 hover:bg-slate-200'}`}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${id}-panel`} aria-labelledby={`${id}-${value}`} className="min-h-0 flex-1 overflow-auto bg-white">
        {children}
      </div>
    </div>
  );
}

/**
 * Modal dialogs: role="dialog" with aria-modal and a heading as its name, Escape closes, focus
 * starts inside and Tab cycles within (so the xterm behind cannot swallow keys).
 */
import { useEffect, useId, useRef, type KeyboardEvent, type ReactNode } from 'react';

/** A modal dialog. */
export function Dialog({ title, onClose, children, wide = false }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const id = useId();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const prev = document.activeElement as HTMLElement | null;
    const first = el.querySelector<HTMLElement>('input, select, textarea, button:not([data-close])');
    (first ?? el).focus();
    return () => prev?.focus?.();
  }, []);
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
      return;
    }
    if (e.key !== 'Tab' || !ref.current) return;
    const items = Array.from(ref.current.querySelectorAll<HTMLElement>('a[href], button:not(:disabled), input:not(:disabled), select:not(:disabled), textarea:not(:disabled), [tabindex]:not([tabindex="-1"])'));
    if (items.length === 0) return;
    const i = items.indexOf(document.activeElement as HTMLElement);
    if (e.shiftKey && i <= 0) {
      e.preventDefault();
      items[items.length - 1].focus();
    } else if (!e.shiftKey && i === items.length - 1) {
      e.preventDefault();
      items[0].focus();
    }
  };
  return (
    <div className="fixed inset-0 z-40 flex items-center justify-center bg-slate-900/40 p-4" onKeyDown={onKey}>
      <div ref={ref} role="dialog" aria-modal="true" aria-labelledby={id} tabIndex={-1} className={`flex max-h-full w-full flex-col rounded-lg bg-white shadow-xl ${wide ? 'max-w-4xl' : 'max-w-lg'}`}>
        <div className="flex items-center justify-between border-b border-slate-200 px-4 py-2">
          <h2 id={id} className="text-base font-semibold text-slate-800">
            {title}
          </h2>
          <button type="button" data-close aria-label="Close dialog" onClick={onClose} className="rounded px-2 text-lg text-slate-500 hover:bg-slate-100">
            ×
          </button>
        </div>
        <div className="min-h-0 overflow-auto p-4">{children}</div>
      </div>
    </div>
  );
}

/** A yes/no confirmation. */
export function ConfirmDialog({ title, message, confirmLabel, danger = false, confirmDisabled = false, onConfirm, onCancel, children }: { title: string; message: ReactNode; confirmLabel: string; danger?: boolean; confirmDisabled?: boolean; onConfirm: () => void; onCancel: () => void; children?: ReactNode }) {
  return (
    <Dialog title={title} onClose={onCancel}>
      <div className="space-y-3 text-sm text-slate-700">
        <div>{message}</div>
        {children}
        <div className="flex justify-end gap-2 pt-2">
          <button type="button" onClick={onCancel} className="rounded border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100">
            Cancel
          </button>
          <button type="button" disabled={confirmDisabled} onClick={onConfirm} className={`rounded border px-3 disabled:opacity-45 py-1 text-sm text-white ${danger ? 'border-rose-800 bg-rose-700 hover:bg-rose-600' : 'border-sky-800 bg-sky-700 hover:bg-sky-600'}`}>
            {confirmLabel}
          </button>
        </div>
      </div>
    </Dialog>
  );
}

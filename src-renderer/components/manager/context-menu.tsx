/**
 * The VM list's context menu (right click, the Menu key or Shift+F10 on a row): the lifecycle
 * actions for that row, disabled with the reason when they do not apply. Arrow keys move, Escape
 * closes, and focus returns to the row.
 */
import { useEffect, useRef, type KeyboardEvent } from 'react';
import { actionState, type VmAction, type VmRow } from '../../lib/vm-rows';

const ITEMS: readonly [VmAction | 'console', string][] = [
  ['run', 'Run'],
  ['pause', 'Pause'],
  ['resume', 'Resume'],
  ['shutdown', 'Shut down'],
  ['reboot', 'Reboot'],
  ['forceOff', 'Force off…'],
  ['save', 'Save'],
  ['console', 'Open console'],
  ['delete', 'Delete…'],
];

/** The menu at (x, y). */
export function VmContextMenu({ row, x, y, onAction, onClose }: { row: VmRow; x: number; y: number; onAction: (a: VmAction | 'console') => void; onClose: () => void }) {
  const ref = useRef<HTMLUListElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>('[role=menuitem]:not([disabled])')?.focus();
    const away = (e: MouseEvent) => {
      if (!ref.current?.contains(e.target as Node)) onClose();
    };
    window.addEventListener('mousedown', away);
    return () => window.removeEventListener('mousedown', away);
  }, [onClose]);
  const onKey = (e: KeyboardEvent) => {
    const items = Array.from(ref.current?.querySelectorAll<HTMLElement>('[role=menuitem]:not([disabled])') ?? []);
    const i = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'Escape' || e.key === 'Tab') {
      e.preventDefault();
      onClose();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      items[(i + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length]?.focus();
    }
  };
  return (
    <ul ref={ref} role="menu" aria-label={`Actions for ${row.name}`} onKeyDown={onKey} style={{ left: x, top: y }} className="fixed z-50 min-w-44 rounded border border-slate-300 bg-white py-1 text-sm shadow-lg">
      {ITEMS.map(([a, label]) => {
        const s = a === 'console' ? { enabled: row.domain !== undefined, why: 'The VM is not running.' } : actionState(row, a);
        return (
          <li key={a} role="none">
            <button type="button" role="menuitem" disabled={!s.enabled} title={s.why} onClick={() => { onClose(); onAction(a); }} className="w-full px-3 py-1 text-left hover:bg-sky-100 focus:bg-sky-100 focus:outline-none disabled:opacity-40">
              {label}
            </button>
          </li>
        );
      })}
    </ul>
  );
}

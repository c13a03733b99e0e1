/**
 * Keyboard shortcuts: one table drives the handler, the shortcut sheet and the buttons'
 * aria-keyshortcuts. Shortcuts are ignored while the console has the keyboard (the guest gets
 * every key there; Ctrl+] gives the keyboard back) and, for plain keys, while typing in a field.
 */
import type { MenuCommand } from '../../src-main/ipc-contract';
import { Dialog } from './ui/dialog';

/** One shortcut. */
export interface Shortcut {
  keys: string;
  command: MenuCommand;
  what: string;
}

/** The shortcuts (Alt chords: browsers keep Ctrl+N and Ctrl+T for themselves). */
export const SHORTCUTS: readonly Shortcut[] = [
  { keys: 'Alt+N', command: 'new-vm', what: 'New virtual machine' },
  { keys: 'Alt+I', command: 'build-iso', what: 'Build a GRUB ISO' },
  { keys: 'Alt+1', command: 'view-manager', what: 'Show the virtual machines' },
  { keys: 'Alt+2', command: 'view-host', what: 'Show the host' },
  { keys: 'Alt+R', command: 'vm-run', what: 'Run the selected VM' },
  { keys: 'Alt+P', command: 'vm-pause', what: 'Pause or resume the selected VM' },
  { keys: 'Alt+C', command: 'vm-console', what: 'Open the console of the selected VM' },
  { keys: 'Alt+D', command: 'vm-details', what: 'Open the details of the selected VM' },
  { keys: 'Alt+K', command: 'vm-force-off', what: 'Force off the selected VM (asks first)' },
  { keys: 'F1', command: 'shortcuts', what: 'Show this list' },
];

/** Other keys worth knowing. */
export const OTHER_KEYS: readonly [string, string][] = [
  ['Ctrl+]', 'Leave the console (give the keyboard back to the page)'],
  ['Ctrl+Shift+C / Ctrl+Shift+V', 'Copy from / paste into the console'],
  ['↑ / ↓, Enter', 'Move in the VM list, open the selected VM'],
  ['← / →', 'Move between tabs'],
  ['Escape', 'Close a dialog'],
];

/** The chord of a keyboard event in the table's notation, e.g. "Alt+N". */
export function chordOf(e: Pick<KeyboardEvent, 'altKey' | 'ctrlKey' | 'metaKey' | 'shiftKey' | 'key' | 'code'>): string {
  const parts: string[] = [];
  if (e.ctrlKey) parts.push('Ctrl');
  if (e.altKey) parts.push('Alt');
  if (e.shiftKey) parts.push('Shift');
  if (e.metaKey) parts.push('Meta');
  // With Alt, e.key can be a composed character (macOS); the physical key code is reliable.
  const k = /^Key[A-Z]$/.test(e.code) ? e.code.slice(3) : /^Digit\d$/.test(e.code) ? e.code.slice(5) : e.key.length === 1 ? e.key.toUpperCase() : e.key;
  parts.push(k);
  return parts.join('+');
}

/** The command for a key event, or undefined. */
export function commandForEvent(e: KeyboardEvent): MenuCommand | undefined {
  const t = e.target as HTMLElement | null;
  if (t?.closest?.('.xterm')) return undefined;
  const chord = chordOf(e);
  return SHORTCUTS.find((s) => s.keys === chord)?.command;
}

/** The shortcut sheet. */
export function ShortcutSheet({ onClose }: { onClose: () => void }) {
  return (
    <Dialog title="Keyboard shortcuts" onClose={onClose}>
      <table className="w-full text-sm" aria-label="Keyboard shortcuts">
        <tbody>
          {[...SHORTCUTS.map((s) => [s.keys, s.what] as const), ...OTHER_KEYS].map(([k, w]) => (
            <tr key={k} className="border-t border-slate-100">
              <th scope="row" className="py-1 pr-4 text-left font-mono text-xs font-normal"><kbd>{k}</kbd></th>
              <td className="py-1">{w}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Dialog>
  );
}

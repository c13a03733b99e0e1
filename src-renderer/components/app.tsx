/**
 * The manager window: a menu bar, the engine banner, the VM list with the lifecycle toolbar and
 * the selected VM's details, or the host view; wizards and dialogs on top; notices at the bottom;
 * an aria-live region announcing VM state changes.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { MenuCommand } from '../../src-main/ipc-contract';
import { hostBridge, openConsoleWindow } from '../api/host';
import { actionState, stateLabel, vmRows } from '../lib/vm-rows';
import type { VmDraft } from '../lib/xlcfg';
import { useAction, useEngine, useStore } from '../state/use-engine';
import { DetailsPane, type DetailsTab } from './details/details-pane';
import { EngineBanner } from './engine-banner';
import { HostView, type HostTab } from './host/host-view';
import { VmContextMenu } from './manager/context-menu';
import { LifecycleToolbar, useLifecycle } from './manager/lifecycle';
import { VmList } from './manager/vm-list';
import { PreferencesDialog } from './preferences';
import { commandForEvent, ShortcutSheet } from './shortcuts';
import { Dialog } from './ui/dialog';
import { IsoWizard } from './wizard/iso-wizard';
import { NewVmWizard } from './wizard/new-vm-wizard';

type Modal = { kind: 'newVm'; initial?: Partial<VmDraft> } | { kind: 'iso' } | { kind: 'shortcuts' } | { kind: 'prefs' } | { kind: 'about' } | undefined;

/** Announces VM state changes to screen readers (and tests). */
function useAnnouncements(): string {
  const snap = useEngine();
  const prev = useRef(new Map<number, string>());
  const [text, setText] = useState('');
  useEffect(() => {
    const now = new Map(snap.domains.map((d) => [d.domid, d.state]));
    for (const d of snap.domains) {
      const was = prev.current.get(d.domid);
      if (was !== d.state) setText(`${d.name} is ${stateLabel({ name: d.name, domain: d, library: undefined }).toLowerCase()}.`);
    }
    prev.current = now;
  }, [snap.domains]);
  return text;
}

/** The app. */
export function App() {
  const snap = useEngine();
  const store = useStore();
  const [view, setView] = useState<'manager' | 'host'>('manager');
  const [selected, setSelected] = useState<string>();
  const [tab, setTab] = useState<DetailsTab>('overview');
  const [hostTab, setHostTab] = useState<HostTab>('overview');
  const [modal, setModal] = useState<Modal>();
  const [menuAt, setMenuAt] = useState<{ name: string; x: number; y: number }>();
  const { request, dialogs } = useLifecycle();
  const rows = useMemo(() => vmRows(snap.library, snap.domains), [snap.library, snap.domains]);
  const row = rows.find((r) => r.name === selected);
  const announcement = useAnnouncements();
  const run = useAction();
  /** File > Debian test VM: adds (or finds) the Linux test image's config and selects it. */
  const addDebianTestVm = useCallback(async () => {
    const e = await run('Adding the Debian test VM', () => store.client.call('library.addDebianTestVm', {}), 'The Debian test VM is in the library: select it and press Run.');
    if (e === undefined) return;
    await store.refreshLibrary();
    setSelected(e.name);
    setView('manager');
  }, [run, store]);

  const command = useCallback(
    (c: MenuCommand) => {
      switch (c) {
        case 'new-vm': return setModal({ kind: 'newVm' });
        case 'build-iso': return setModal({ kind: 'iso' });
        case 'view-manager': return setView('manager');
        case 'view-host': return setView('host');
        case 'vm-run': return request('run', row);
        case 'vm-pause': return request(row?.domain?.state === 'paused' ? 'resume' : 'pause', row);
        case 'vm-shutdown': return request('shutdown', row);
        case 'vm-reboot': return request('reboot', row);
        case 'vm-force-off': return request('forceOff', row);
        case 'vm-delete': return request('delete', row);
        case 'vm-console': setView('manager'); return setTab('console');
        case 'vm-details': setView('manager'); return setTab('overview');
        case 'shortcuts': return setModal({ kind: 'shortcuts' });
        case 'about': return setModal({ kind: 'about' });
      }
    },
    [request, row],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const c = commandForEvent(e);
      if (!c || modal) return;
      e.preventDefault();
      command(c);
    };
    window.addEventListener('keydown', onKey);
    const off = hostBridge()?.onMenuCommand(command);
    return () => {
      window.removeEventListener('keydown', onKey);
      off?.();
    };
  }, [command, modal]);

  const menu = (label: string, items: [string, () => void, boolean?][]) => (
    <details className="relative">
      <summary className="cursor-default list-none rounded px-2 py-0.5 text-sm hover:bg-slate-700">{label}</summary>
      <ul role="menu" aria-label={label} className="absolute left-0 z-30 mt-1 min-w-52 rounded border border-slate-300 bg-white py-1 text-sm text-slate-800 shadow-lg">
        {items.map(([text, act, disabled]) => (
          <li key={text} role="none">
            <button type="button" role="menuitem" disabled={disabled} className="w-full px-3 py-1 text-left hover:bg-sky-100 disabled:opacity-40" onClick={(e) => { (e.currentTarget.closest('details') as HTMLDetailsElement).open = false; act(); }}>
              {text}
            </button>
          </li>
        ))}
      </ul>
    </details>
  );
  const can = (a: Parameters<typeof actionState>[1]) => !actionState(row, a).enabled;

  return (
    <div className="flex h-screen flex-col bg-slate-100 text-slate-900">
      <header className="flex items-center gap-2 bg-slate-800 px-2 py-1 text-slate-100">
        <span className="mr-2 font-semibold tracking-wide">Domus</span>
        <nav aria-label="Menus" className="flex gap-1">
          {menu('File', [['New VM… (Alt+N)', () => command('new-vm')], ['Debian test VM', () => void addDebianTestVm()], ['Preferences…', () => setModal({ kind: 'prefs' })]])}
          {menu('VM', [['Run (Alt+R)', () => command('vm-run'), can('run')], ['Pause / Resume (Alt+P)', () => command('vm-pause'), can('pause') && can('resume')], ['Shut down', () => command('vm-shutdown'), can('shutdown')], ['Reboot', () => command('vm-reboot'), can('reboot')], ['Force off (Alt+K)', () => command('vm-force-off'), can('forceOff')], ['Delete…', () => command('vm-delete'), can('delete')], ['Open console window', () => row && void openConsoleWindow(row.name), !row?.domain]])}
          {menu('Tools', [['Build GRUB ISO… (Alt+I)', () => command('build-iso')]])}
          {menu('Help', [['Keyboard shortcuts (F1)', () => command('shortcuts')], ['About Domus', () => command('about')]])}
        </nav>
        <div role="tablist" aria-label="Views" className="ml-4 flex gap-1">
          {(['manager', 'host'] as const).map((v) => (
            <button key={v} type="button" role="tab" aria-selected={view === v} onClick={() => setView(v)} className={`rounded px-3 py-0.5 text-sm ${view === v ? 'bg-slate-100 text-slate-900' : 'hover:bg-slate-700'}`}>
              {v === 'manager' ? 'Virtual machines' : 'Host'}
            </button>
          ))}
        </div>
        <span className="flex-1" />
        <span className="text-xs text-slate-400">{snap.host ? `${snap.host.hostname} · ${snap.host.nrPcpus} pCPUs · ${snap.domains.length} domains` : ''}</span>
      </header>
      <EngineBanner />
      <main className="flex min-h-0 flex-1 flex-col">
        {view === 'manager' ? (
          <>
            <LifecycleToolbar row={row} onRequest={request} onNewVm={() => command('new-vm')} onConsole={() => setTab('console')} />
            <div className="flex min-h-0 flex-1 flex-col">
              <div className="max-h-[38%] min-h-28 overflow-hidden border-b border-slate-300 bg-white">
                <VmList rows={rows} stats={snap.stats} nrPcpus={snap.host?.nrPcpus ?? 1} selected={selected} onSelect={setSelected} onOpen={(n) => { setSelected(n); setTab('overview'); }} onMenu={(name, x, y) => setMenuAt({ name, x, y })} />
              </div>
              <div className="min-h-0 flex-1">
                {row ? <DetailsPane row={row} tab={tab} onTab={setTab} /> : <p className="p-6 text-sm text-slate-500">Select a virtual machine to see its details, or create one with New VM.</p>}
              </div>
            </div>
          </>
        ) : (
          <HostView tab={hostTab} onTab={setHostTab} onEditVm={(n) => { setSelected(n); setView('manager'); setTab('config'); }} />
        )}
      </main>
      <div aria-live="polite" role="status" className="sr-only" data-testid="announcer">{announcement}</div>
      <ul aria-label="Notices" className="pointer-events-none fixed right-3 bottom-3 z-50 flex w-96 flex-col gap-2">
        {snap.notices.map((n) => (
          <li key={n.id} role={n.level === 'error' ? 'alert' : 'status'} className={`pointer-events-auto flex items-start gap-2 rounded border p-2 text-sm shadow ${n.level === 'error' ? 'border-rose-300 bg-rose-50 text-rose-900' : 'border-emerald-300 bg-emerald-50 text-emerald-900'}`}>
            <span className="flex-1 whitespace-pre-wrap">{n.text}</span>
            <button type="button" aria-label="Dismiss notice" onClick={() => store.dismiss(n.id)} className="px-1">×</button>
          </li>
        ))}
      </ul>
      {dialogs}
      {menuAt && rows.find((r) => r.name === menuAt.name) && (
        <VmContextMenu
          row={rows.find((r) => r.name === menuAt.name) as (typeof rows)[number]}
          x={menuAt.x}
          y={menuAt.y}
          onClose={() => {
            setMenuAt(undefined);
            (document.querySelector(`[data-vm-row="${CSS.escape(menuAt.name)}"]`) as HTMLElement | null)?.focus();
          }}
          onAction={(a) => {
            const r = rows.find((x) => x.name === menuAt.name);
            if (a === 'console') {
              setView('manager');
              setTab('console');
            } else request(a, r);
          }}
        />
      )}
      {modal?.kind === 'newVm' && <NewVmWizard initial={modal.initial} onClose={() => setModal(undefined)} onCreated={(n) => { setSelected(n); setView('manager'); }} />}
      {modal?.kind === 'iso' && <IsoWizard onClose={() => setModal(undefined)} onCreateVm={(r) => setModal({ kind: 'newVm', initial: { source: 'grub-iso', iso: r.output, name: r.output.split('/').pop()?.replace(/\.iso$/i, '').replace(/[^A-Za-z0-9._-]/g, '-') ?? '' } })} />}
      {modal?.kind === 'shortcuts' && <ShortcutSheet onClose={() => setModal(undefined)} />}
      {modal?.kind === 'prefs' && <PreferencesDialog onClose={() => setModal(undefined)} />}
      {modal?.kind === 'about' && (
        <Dialog title="About Domus" onClose={() => setModal(undefined)}>
          <p className="text-sm">Domus {snap.host?.engineVersion ?? ''}: a Xen-style hypervisor written in TypeScript, with this virt-manager-like workstation.</p>
        </Dialog>
      )}
    </div>
  );
}

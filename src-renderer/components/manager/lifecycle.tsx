/**
 * The lifecycle toolbar: Run, Pause/Resume, Shut down, Reboot, Force off, Save, Restore, Delete,
 * with confirmations (Force off's can be turned off in Preferences; Delete's cannot) and the
 * engine's own explanation when it refuses. A disabled button's description says why.
 */
import { useState, type ReactNode } from 'react';
import { hasFileDialogs, chooseHostFile } from '../../api/host';
import { loadPrefs } from '../../lib/prefs';
import { actionState, isLive, type VmAction, type VmRow } from '../../lib/vm-rows';
import { useAction, useStore } from '../../state/use-engine';
import { Button } from '../ui/button';
import { ConfirmDialog, Dialog } from '../ui/dialog';
import { CheckField, TextField } from '../ui/field';

type Pending = { kind: 'forceOff' | 'delete' | 'restore' | 'pause'; row: VmRow } | undefined;

/** Runs one action on a row (after any confirmation). */
export function useLifecycle(): { request: (a: VmAction | 'restore', r: VmRow | undefined) => void; dialogs: ReactNode } {
  const store = useStore();
  const run = useAction();
  const [pending, setPending] = useState<Pending>();
  const [understood, setUnderstood] = useState(false);
  const [restoreFile, setRestoreFile] = useState('');
  const c = store.client;

  const perform = async (a: VmAction, r: VmRow) => {
    const dom = r.domain?.domid;
    switch (a) {
      case 'run':
        await run(`Starting ${r.name}`, () => c.call('domain.create', { library: r.name }));
        return;
      case 'pause':
        if (dom !== undefined) await run(`Pausing ${r.name}`, () => c.call('domain.pause', { domain: dom }));
        return;
      case 'resume':
        if (dom !== undefined) await run(`Resuming ${r.name}`, () => c.call('domain.unpause', { domain: dom }));
        return;
      case 'shutdown':
        if (dom !== undefined) await run(`Shutting down ${r.name}`, () => c.call('domain.shutdown', { domain: dom }));
        return;
      case 'reboot':
        if (dom !== undefined) await run(`Rebooting ${r.name}`, () => c.call('domain.reboot', { domain: dom }));
        return;
      case 'forceOff':
        if (dom !== undefined) await run(`Forcing off ${r.name}`, () => c.call('domain.destroy', { domain: dom }));
        return;
      case 'save':
        if (dom !== undefined) {
          const res = await run(`Saving ${r.name}`, () => c.call('domain.save', { domain: dom }));
          if (res) store.notify('info', `${r.name} was saved to ${res.file}.`);
        }
        return;
      case 'delete':
        await run(`Deleting ${r.name}`, () => c.call('library.delete', { name: r.name }));
        await store.refreshLibrary().catch(() => undefined);
        return;
    }
  };

  const request = (a: VmAction | 'restore', r: VmRow | undefined) => {
    if (a === 'restore') {
      setRestoreFile('');
      setPending({ kind: 'restore', row: r ?? { name: '', domain: undefined, library: undefined } });
      return;
    }
    if (!r || !actionState(r, a).enabled) return;
    const prefs = loadPrefs();
    if (a === 'forceOff' && prefs.confirmForceOff) return setPending({ kind: 'forceOff', row: r });
    if (a === 'pause' && prefs.confirmPause) return setPending({ kind: 'pause', row: r });
    if (a === 'delete') {
      setUnderstood(false);
      return setPending({ kind: 'delete', row: r });
    }
    void perform(a, r);
  };

  const close = () => setPending(undefined);
  let dialogs: ReactNode = null;
  if (pending?.kind === 'forceOff') {
    const r = pending.row;
    dialogs = (
      <ConfirmDialog
        title={`Force off ${r.name}?`}
        message={<>Domain {r.domain?.domid} stops at once, like pulling the power cord. Anything the guest has not written out is lost.</>}
        confirmLabel="Force off"
        danger
        onCancel={close}
        onConfirm={() => {
          close();
          void perform('forceOff', r);
        }}
      />
    );
  } else if (pending?.kind === 'pause') {
    const r = pending.row;
    dialogs = <ConfirmDialog title={`Pause ${r.name}?`} message="Its vCPUs stop until you resume it." confirmLabel="Pause" onCancel={close} onConfirm={() => { close(); void perform('pause', r); }} />;
  } else if (pending?.kind === 'delete') {
    const r = pending.row;
    dialogs = (
      <ConfirmDialog
        title={`Delete ${r.name}?`}
        message={<>The configuration file <code className="break-all text-xs">{r.library?.file}</code> is removed from the library. Disk images and ISO files it names are kept.</>}
        confirmLabel="Delete"
        confirmDisabled={!understood || isLive(r)}
        danger
        onCancel={close}
        onConfirm={() => {
          close();
          void perform('delete', r);
        }}
      >
        <CheckField label="I understand this cannot be undone" checked={understood} onChange={setUnderstood} />
      </ConfirmDialog>
    );
  } else if (pending?.kind === 'restore') {
    dialogs = (
      <Dialog title="Restore a saved VM" onClose={close}>
        <form
          className="space-y-3"
          onSubmit={(e) => {
            e.preventDefault();
            const file = restoreFile.trim();
            if (file === '') return;
            close();
            void run('Restoring', () => c.call('domain.restore', { file }), `Restored from ${file}.`);
          }}
        >
          <TextField label="Save image file" value={restoreFile} onChange={(e) => setRestoreFile(e.target.value)} hint="A file written by Save (the engine's saves folder)." />
          {hasFileDialogs() && (
            <Button onClick={async () => setRestoreFile((await chooseHostFile({ title: 'Choose a save image', mode: 'open', filters: [{ name: 'Save images', extensions: ['save', '*'] }] })) ?? restoreFile)}>Browse…</Button>
          )}
          <div className="flex justify-end gap-2">
            <Button onClick={close}>Cancel</Button>
            <Button kind="primary" type="submit" disabled={restoreFile.trim() === ''}>
              Restore
            </Button>
          </div>
        </form>
      </Dialog>
    );
  }
  return { request, dialogs };
}

/** The toolbar for the selected row. */
export function LifecycleToolbar({ row, onRequest, onNewVm, onConsole }: { row: VmRow | undefined; onRequest: (a: VmAction | 'restore', r: VmRow | undefined) => void; onNewVm: () => void; onConsole: () => void }) {
  const btn = (a: VmAction, label: string, kind: 'normal' | 'danger' = 'normal', shortcut?: string) => {
    const s = actionState(row, a);
    return (
      <Button kind={kind} disabled={!s.enabled} title={`${s.why}${shortcut ? ` (${shortcut})` : ''}`} aria-keyshortcuts={shortcut} onClick={() => onRequest(a, row)}>
        {label}
      </Button>
    );
  };
  const paused = row?.domain?.state === 'paused';
  return (
    <div role="toolbar" aria-label="Virtual machine actions" className="flex flex-wrap items-center gap-1.5 border-b border-slate-200 bg-white px-2 py-1.5">
      <Button kind="primary" onClick={onNewVm} title="Create a virtual machine (Alt+N)" aria-keyshortcuts="Alt+N">
        New VM
      </Button>
      <span className="mx-1 h-5 w-px bg-slate-300" aria-hidden />
      {btn('run', 'Run', 'normal', 'Alt+R')}
      {paused ? btn('resume', 'Resume', 'normal', 'Alt+P') : btn('pause', 'Pause', 'normal', 'Alt+P')}
      {btn('shutdown', 'Shut down')}
      {btn('reboot', 'Reboot')}
      {btn('forceOff', 'Force off', 'danger')}
      <span className="mx-1 h-5 w-px bg-slate-300" aria-hidden />
      {btn('save', 'Save')}
      <Button onClick={() => onRequest('restore', row)} title="Restore a VM from a save image">
        Restore
      </Button>
      {btn('delete', 'Delete', 'danger')}
      <span className="mx-1 h-5 w-px bg-slate-300" aria-hidden />
      <Button disabled={!row?.domain} title={row?.domain ? 'Open the serial console (Alt+C)' : 'The VM is not running.'} aria-keyshortcuts="Alt+C" onClick={onConsole}>
        Console
      </Button>
    </div>
  );
}

/** Preferences: which actions ask first, console font size and scrollback. */
import { useState } from 'react';
import { loadPrefs, savePrefs } from '../lib/prefs';
import { Button } from './ui/button';
import { Dialog } from './ui/dialog';
import { CheckField, NumberField } from './ui/field';

/** The dialog. */
export function PreferencesDialog({ onClose }: { onClose: () => void }) {
  const [p, setP] = useState(loadPrefs);
  return (
    <Dialog title="Preferences" onClose={onClose}>
      <form className="space-y-3" onSubmit={(e) => { e.preventDefault(); savePrefs(p); onClose(); }}>
        <fieldset className="space-y-1">
          <legend className="text-xs font-medium text-slate-600">Confirmations</legend>
          <CheckField label="Ask before Force off" checked={p.confirmForceOff} onChange={(confirmForceOff) => setP({ ...p, confirmForceOff })} />
          <CheckField label="Ask before Pause" checked={p.confirmPause} onChange={(confirmPause) => setP({ ...p, confirmPause })} />
          <p className="text-xs text-slate-500">Delete always asks.</p>
        </fieldset>
        <fieldset className="grid grid-cols-2 gap-3">
          <legend className="text-xs font-medium text-slate-600">Console</legend>
          <NumberField label="Font size (px)" value={p.consoleFontSize} min={8} max={32} onValue={(consoleFontSize) => setP({ ...p, consoleFontSize })} />
          <NumberField label="Scrollback (lines)" value={p.consoleScrollback} min={100} max={1000000} onValue={(consoleScrollback) => setP({ ...p, consoleScrollback })} hint="Applies to consoles opened afterwards." />
        </fieldset>
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button kind="primary" type="submit">Save</Button>
        </div>
      </form>
    </Dialog>
  );
}

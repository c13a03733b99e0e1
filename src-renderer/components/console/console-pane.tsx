/**
 * A VM's console: its primary console in xterm (scrollback, search, copy and paste, fit with
 * cols × rows shown, save log as text or HTML, key chords, "type text", fullscreen, detach) and,
 * for HVM guests, the Screen tab with the VGA text screen. The primary console follows the guest
 * type as `xl console` does: the PV console (com 0) of a PVH guest, COM1 of an HVM guest.
 * Ctrl+] gives the keyboard back to the page.
 */
import { useRef, useState } from 'react';
import { openConsoleWindow, saveTextFile } from '../../api/host';
import { KEY_CHORDS, TYPE_INTERVAL_MS, typingChunks } from '../../lib/key-chords';
import { loadPrefs, savePrefs } from '../../lib/prefs';
import { consoleLabel, primaryCom } from '../../state/engine-store';
import { useAction, useStore } from '../../state/use-engine';
import { Button } from '../ui/button';
import { Dialog } from '../ui/dialog';
import { CheckField, TextArea } from '../ui/field';
import { terminalText, useTerminal } from './use-terminal';
import { VgaScreen } from './vga-screen';

/** Font size bounds, px. */
const FONT_MIN = 8;
const FONT_MAX = 32;

/** The console of one VM. `domid` undefined: not running. */
export function ConsolePane({ name, domid, running, type, detached = false }: { name: string; domid: number | undefined; running: boolean; type: 'hvm' | 'pvh'; detached?: boolean }) {
  const store = useStore();
  const run = useAction();
  const [prefs, setPrefs] = useState(loadPrefs);
  const [convertEol, setConvertEol] = useState(true);
  const [query, setQuery] = useState('');
  const [found, setFound] = useState<string>('');
  const [typing, setTyping] = useState(false);
  const [typeText, setTypeText] = useState('');
  const [view, setView] = useState<'text' | 'screen'>('text');
  const com = primaryCom(type);
  const shown = type === 'hvm' ? view : 'text';
  const toolbarRef = useRef<HTMLDivElement>(null);
  const boxRef = useRef<HTMLDivElement>(null);

  const send = (data: string) => {
    if (domid === undefined || !running) return;
    void store.client.call('console.write', { domain: domid, com, data }).catch((e: unknown) => store.notify('error', `Typing into ${name} failed: ${e instanceof Error ? e.message : String(e)}`));
  };
  const { hostRef, handle, size } = useTerminal(store, domid, com, {
    fontSize: prefs.consoleFontSize,
    scrollback: prefs.consoleScrollback,
    convertEol,
    onInput: send,
    onRelease: () => toolbarRef.current?.querySelector<HTMLElement>('button, input, select')?.focus(),
  });

  const setFont = (n: number) => {
    const p = { ...prefs, consoleFontSize: Math.max(FONT_MIN, Math.min(FONT_MAX, n)) };
    setPrefs(p);
    savePrefs(p);
  };
  const doSearch = (dir: 'next' | 'prev') => {
    if (!handle || query === '') return;
    const ok = dir === 'next' ? handle.search.findNext(query) : handle.search.findPrevious(query);
    setFound(ok ? `found "${query}"` : `"${query}" not found`);
  };
  const typeOut = async (text: string) => {
    for (const piece of typingChunks(text)) {
      send(piece);
      await new Promise((r) => setTimeout(r, TYPE_INTERVAL_MS));
    }
  };
  const stamp = () => new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);

  const offline = domid === undefined ? `${name} is not running. Run it to see its console.` : !running ? `${name} is not running any more; its last output is shown.` : undefined;

  return (
    <div ref={boxRef} className={`flex h-full min-h-0 flex-col bg-slate-900 ${detached ? '' : 'rounded'}`}>
      <div ref={toolbarRef} role="toolbar" aria-label={`Console of ${name}`} className="flex flex-wrap items-center gap-1 bg-slate-100 px-2 py-1 text-xs">
        <div role="tablist" aria-label="Console device" className="mr-2 flex gap-0.5">
          {(type === 'hvm' ? (['text', 'screen'] as const) : (['text'] as const)).map((k) => (
            <button key={k} type="button" role="tab" aria-selected={shown === k} title={k === 'text' ? (type === 'pvh' ? 'The Xen PV console ring (com 0): a PVH guest has no UART' : 'The first UART, I/O 3F8h') : 'The VGA text screen (BIOS-booted guests)'} onClick={() => setView(k)} className={`rounded px-2 py-0.5 ${shown === k ? 'bg-slate-800 text-white' : 'hover:bg-slate-200'}`}>
              {k === 'text' ? consoleLabel(type) : 'Screen'}
            </button>
          ))}
        </div>
        <input aria-label="Search the console" placeholder="Search" value={query} onChange={(e) => setQuery(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && doSearch(e.shiftKey ? 'prev' : 'next')} className="w-32 rounded border border-slate-300 px-1 py-0.5" />
        <Button onClick={() => doSearch('prev')} aria-label="Find previous">◀</Button>
        <Button onClick={() => doSearch('next')} aria-label="Find next">▶</Button>
        <span aria-live="polite" className="min-w-16 text-slate-500">{found}</span>
        <Button title="Copy the selection (Ctrl+Shift+C)" onClick={() => { const s = handle?.term.getSelection(); if (s) void navigator.clipboard?.writeText(s); }}>Copy</Button>
        <Button title="Paste the clipboard into the guest (Ctrl+Shift+V)" disabled={!running} onClick={() => void navigator.clipboard?.readText().then((t) => t && handle?.term.paste(t)).catch(() => store.notify('error', 'The browser did not allow reading the clipboard; use Type text instead.'))}>Paste</Button>
        <Button title="Type a text into the guest, a few characters at a time" disabled={!running} onClick={() => setTyping(true)}>Type text…</Button>
        <select aria-label="Send key" disabled={!running} value="" className="w-28 rounded border border-slate-300 px-1 py-0.5" onChange={(e) => { const c = KEY_CHORDS[Number(e.target.value)]; if (c?.bytes) send(c.bytes); handle?.term.focus(); }}>
          <option value="">Send key…</option>
          {KEY_CHORDS.map((c, i) => (
            <option key={c.label} value={i} disabled={!c.bytes} title={c.unavailable}>
              {c.label}{c.bytes ? '' : ' (not available)'}
            </option>
          ))}
        </select>
        <Button title="Save the console text to a file" disabled={!handle} onClick={() => handle && void saveTextFile(`${name}-console-${stamp()}.log`, terminalText(handle.term))}>Save log</Button>
        <Button title="Save the console with colours as HTML" disabled={!handle} onClick={() => handle && void saveTextFile(`${name}-console-${stamp()}.html`, handle.serialize.serializeAsHTML({ includeGlobalBackground: true }))}>Save HTML</Button>
        <Button title="Clear the scrollback (the guest is not affected)" disabled={!handle} onClick={() => handle?.term.clear()}>Clear</Button>
        <Button aria-label="Smaller font" onClick={() => setFont(prefs.consoleFontSize - 1)}>A−</Button>
        <Button aria-label="Larger font" onClick={() => setFont(prefs.consoleFontSize + 1)}>A+</Button>
        <CheckField label="LF→CRLF" checked={convertEol} onChange={setConvertEol} />
        {shown === 'text' && <span className="tabular-nums text-slate-500" aria-label="Terminal size">{size.cols}×{size.rows}</span>}
        <span className="flex-1" />
        {!detached && <Button title="Open this console in its own window" onClick={() => void run('Opening the console window', () => openConsoleWindow(name))}>Detach</Button>}
        <Button title="Fullscreen (Escape leaves)" onClick={() => void boxRef.current?.requestFullscreen?.().catch(() => undefined)}>Fullscreen</Button>
      </div>
      {offline && (
        <div role="status" className="bg-amber-100 px-2 py-1 text-xs text-amber-900">
          {offline}
        </div>
      )}
      <div className="relative min-h-0 flex-1">
        <div ref={hostRef} data-testid={`console-${name}`} data-com={com} className={`absolute inset-0 p-1 ${shown === 'text' ? '' : 'invisible'}`} aria-label={`${consoleLabel(type)} of ${name}; press Ctrl+] to leave it`} />
        {shown === 'screen' && <VgaScreen name={name} domid={domid} running={running} fontSize={prefs.consoleFontSize} />}
      </div>
      <p className="bg-slate-100 px-2 py-0.5 text-[11px] text-slate-500">Ctrl+] leaves the console · Ctrl+Shift+C / Ctrl+Shift+V copy and paste</p>
      {typing && (
        <Dialog title={`Type text into ${name}`} onClose={() => setTyping(false)}>
          <form className="space-y-3" onSubmit={(e) => { e.preventDefault(); setTyping(false); void typeOut(typeText); }}>
            <TextArea label="Text to type (Enter becomes a carriage return)" rows={6} value={typeText} onChange={(e) => setTypeText(e.target.value)} />
            <div className="flex justify-end gap-2">
              <Button onClick={() => setTyping(false)}>Cancel</Button>
              <Button kind="primary" type="submit" disabled={typeText === ''}>Type</Button>
            </div>
          </form>
        </Dialog>
      )}
    </div>
  );
}

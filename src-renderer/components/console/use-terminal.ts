/**
 * An xterm.js terminal bound to one console of a domain (COM1 or the PV console): output from the store's ConsoleBuffers,
 * keystrokes to console.write, fit to its box (cols × rows reported), search, serialize and web
 * links. Ctrl+] releases the keyboard (focus moves to the console toolbar), Ctrl+Shift+C and
 * Ctrl+Shift+V copy and paste.
 */
import { useEffect, useRef, useState, type RefObject } from 'react';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { SerializeAddon } from '@xterm/addon-serialize';
import { WebLinksAddon } from '@xterm/addon-web-links';
import type { EngineStore } from '../../state/engine-store';

/** What the console UI needs from its terminal. */
export interface TerminalHandle {
  term: Terminal;
  search: SearchAddon;
  serialize: SerializeAddon;
  fit: FitAddon;
}

/** Options of the terminal. */
export interface TerminalOptions {
  fontSize: number;
  scrollback: number;
  /** Print LF as CR LF (guests that write bare \n, as a tty with onlcr would). */
  convertEol: boolean;
  /** Called when the user releases the keyboard with Ctrl+]. */
  onRelease: () => void;
  /** Sends typed bytes to the guest. */
  onInput: (data: string) => void;
}

/** Plain text of everything in the terminal's buffer (scrollback included). */
export function terminalText(term: Terminal): string {
  const b = term.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? '');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return `${lines.join('\n')}\n`;
}

/** Creates the terminal in `host` for console `com` of (store, domid); recreated when either changes. */
export function useTerminal(store: EngineStore, domid: number | undefined, com: number, opts: TerminalOptions): { hostRef: RefObject<HTMLDivElement | null>; handle: TerminalHandle | undefined; size: { cols: number; rows: number } } {
  const hostRef = useRef<HTMLDivElement | null>(null);
  const [handle, setHandle] = useState<TerminalHandle>();
  const [size, setSize] = useState({ cols: 80, rows: 24 });
  const optsRef = useRef(opts);
  optsRef.current = opts;

  useEffect(() => {
    const host = hostRef.current;
    if (!host || domid === undefined) return;
    const o = optsRef.current;
    const term = new Terminal({
      fontSize: o.fontSize,
      scrollback: o.scrollback,
      convertEol: o.convertEol,
      cursorBlink: true,
      allowProposedApi: true,
      screenReaderMode: false,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
      theme: { background: '#0f172a', foreground: '#e2e8f0', cursor: '#38bdf8', selectionBackground: '#334155' },
    });
    const fit = new FitAddon();
    const search = new SearchAddon();
    const serialize = new SerializeAddon();
    term.loadAddon(fit);
    term.loadAddon(search);
    term.loadAddon(serialize);
    term.loadAddon(new WebLinksAddon((_e, uri) => window.open(uri, '_blank', 'noopener')));
    term.attachCustomKeyEventHandler((e) => {
      if (e.type !== 'keydown') return true;
      if (e.ctrlKey && !e.shiftKey && !e.altKey && (e.key === ']' || e.code === 'BracketRight')) {
        term.blur();
        optsRef.current.onRelease();
        return false;
      }
      if (e.ctrlKey && e.shiftKey && (e.key === 'C' || e.key === 'c')) {
        const sel = term.getSelection();
        if (sel) void navigator.clipboard?.writeText(sel);
        return false;
      }
      if (e.ctrlKey && e.shiftKey && (e.key === 'V' || e.key === 'v')) {
        void navigator.clipboard?.readText().then((t) => t && term.paste(t));
        return false;
      }
      return true;
    });
    term.open(host);
    const dataSub = term.onData((d) => optsRef.current.onInput(d));
    const resizeSub = term.onResize(({ cols, rows }) => setSize({ cols, rows }));
    const detach = store.consoles.attach(domid, com, (bytes) => term.write(bytes));
    const refit = () => {
      try {
        if (host.clientWidth > 0 && host.clientHeight > 0) fit.fit();
      } catch {
        // Not laid out yet.
      }
    };
    refit();
    const ro = typeof ResizeObserver !== 'undefined' ? new ResizeObserver(refit) : undefined;
    ro?.observe(host);
    setSize({ cols: term.cols, rows: term.rows });
    setHandle({ term, search, serialize, fit });
    return () => {
      ro?.disconnect();
      detach();
      dataSub.dispose();
      resizeSub.dispose();
      term.dispose();
      setHandle(undefined);
    };
  }, [store, domid, com]);

  useEffect(() => {
    if (!handle) return;
    handle.term.options.fontSize = opts.fontSize;
    handle.term.options.convertEol = opts.convertEol;
    try {
      handle.fit.fit();
    } catch {
      // Not laid out yet.
    }
  }, [handle, opts.fontSize, opts.convertEol]);

  return { hostRef, handle, size };
}

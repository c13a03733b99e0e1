/**
 * The app's windows: the manager window (size and position remembered) and one detached console
 * window per VM. Every window: context isolation, sandbox, no Node in the page, the preload as the
 * only bridge; navigation away from app:// is blocked and new windows are refused (http(s) links
 * open in the user's browser instead).
 */
import path from 'node:path';
import { BrowserWindow, screen, shell, type WebContents } from 'electron';
import { APP_ORIGIN, isAppUrl } from './app-protocol';
import { fitBounds, MIN_SIZE, WindowStateFile } from './window-state';

/** Delay before a moved/resized window's state is written, ms. */
const SAVE_DELAY_MS = 500;

/** Secure defaults shared by every window. */
function webPreferences(preload: string): Electron.WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    spellcheck: false,
  };
}

/** Locks down what a page may do (navigate, open windows). */
export function hardenContents(wc: WebContents): void {
  wc.on('will-navigate', (e, url) => {
    if (!isAppUrl(url)) e.preventDefault();
  });
  wc.setWindowOpenHandler(({ url }) => {
    try {
      const u = new URL(url);
      if (u.protocol === 'https:' || u.protocol === 'http:') void shell.openExternal(u.toString());
    } catch {
      // Not a URL: nothing to open.
    }
    return { action: 'deny' };
  });
  wc.on('will-attach-webview', (e) => e.preventDefault());
}

/** Creates the manager window. */
export function createManagerWindow(preload: string, stateDir: string): BrowserWindow {
  const store = WindowStateFile.in(stateDir);
  const saved = store.load();
  const bounds = fitBounds(saved.bounds, screen.getAllDisplays().map((d) => d.workArea));
  const win = new BrowserWindow({
    ...bounds,
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    title: 'Domus',
    show: false,
    backgroundColor: '#f1f5f9',
    webPreferences: webPreferences(preload),
  });
  if (saved.maximized) win.maximize();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const remember = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (win.isDestroyed()) return;
      store.save({ bounds: win.isMaximized() ? (store.load().bounds ?? win.getNormalBounds()) : win.getNormalBounds(), maximized: win.isMaximized() });
    }, SAVE_DELAY_MS);
  };
  win.on('resize', remember);
  win.on('move', remember);
  win.on('maximize', remember);
  win.on('unmaximize', remember);
  win.on('close', () => store.save({ bounds: win.getNormalBounds(), maximized: win.isMaximized() }));
  win.once('ready-to-show', () => win.show());
  void win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}

const consoleWindows = new Map<string, BrowserWindow>();

/** Opens (or focuses) the console window of a domain. */
export function openConsoleWindow(preload: string, domain: string): BrowserWindow {
  const open = consoleWindows.get(domain);
  if (open && !open.isDestroyed()) {
    open.focus();
    return open;
  }
  const win = new BrowserWindow({ width: 900, height: 600, title: `${domain} — console — Domus`, backgroundColor: '#0f172a', webPreferences: webPreferences(preload) });
  consoleWindows.set(domain, win);
  win.on('closed', () => consoleWindows.delete(domain));
  void win.loadURL(`${APP_ORIGIN}/index.html#/console/${encodeURIComponent(domain)}`);
  return win;
}

/** The preload bundle beside main. */
export function preloadPath(mainDir: string): string {
  return path.join(mainDir, 'preload.cjs');
}

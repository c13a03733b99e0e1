/**
 * What the surroundings offer: in the Electron app the preload's window.domusHost (dialogs,
 * console windows, engine restart); in a browser, fallbacks (downloads, window.open, typed paths).
 */
import type { ChooseFileRequest, DomusHostBridge } from '../../src-main/ipc-contract';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in a browser. */
    domusHost?: DomusHostBridge;
  }
}

/** The Electron bridge, if this page runs inside the app. */
export function hostBridge(): DomusHostBridge | undefined {
  return typeof window !== 'undefined' ? window.domusHost : undefined;
}

/** Saves text as a file: a save dialog in the app, a download in a browser. */
export async function saveTextFile(defaultName: string, text: string): Promise<boolean> {
  const b = hostBridge();
  if (b) return b.saveText({ defaultName, text });
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = defaultName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  return true;
}

/** Opens a domain's console in its own window. */
export async function openConsoleWindow(domain: string): Promise<void> {
  const b = hostBridge();
  if (b) return b.openConsoleWindow(domain);
  const u = new URL(window.location.href);
  u.hash = `#/console/${encodeURIComponent(domain)}`;
  window.open(u.toString(), `domus-console-${domain}`, 'popup,width=860,height=560');
}

/** Asks for a host file path with a dialog; undefined when there is no dialog (browser) or it was cancelled. */
export async function chooseHostFile(r: ChooseFileRequest): Promise<string | undefined> {
  const b = hostBridge();
  return b ? b.chooseFile(r) : undefined;
}

/** True when a host file dialog exists (the app); in a browser paths are typed. */
export function hasFileDialogs(): boolean {
  return hostBridge() !== undefined;
}

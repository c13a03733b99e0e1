/**
 * The contract between the renderer, the preload and the main process: the IPC channel names,
 * the API object the preload exposes (window.domusHost) and the validators the main process runs
 * on every payload before acting on it. Pure data and functions: imported by main, preload and (as
 * types) the renderer.
 *
 * Engine traffic does not pass here: the renderer talks to the engine's utility process over a
 * MessagePort (ENGINE_PORT_MESSAGE), and the engine validates each request itself.
 */

/** Invoke channels (renderer -> main, answered). */
export const IPC = {
  /** Ask for a new MessagePort to the engine; it arrives as a window message ENGINE_PORT_MESSAGE. */
  enginePort: 'domus:engine-port',
  restartEngine: 'domus:restart-engine',
  engineStatus: 'domus:engine-status',
  openConsoleWindow: 'domus:open-console-window',
  chooseFile: 'domus:choose-file',
  saveText: 'domus:save-text',
  appInfo: 'domus:app-info',
} as const;

/** Push channels (main -> renderer). */
export const PUSH = {
  /** Carries the engine port (event.ports[0]). */
  enginePort: 'domus:engine-port',
  engineState: 'domus:engine-state',
  menuCommand: 'domus:menu-command',
} as const;

/** The `type` of the window message the preload posts with the engine port attached. */
export const ENGINE_PORT_MESSAGE = 'domus:engine-port';

/** The engine utility process as the GUI sees it. */
export interface EngineProcessState {
  state: 'starting' | 'running' | 'exited';
  /** Why it exited, or what it is doing. */
  message: string;
  /** Exit code when it exited. */
  code?: number;
  /** How many times it was started. */
  generation: number;
}

/** Commands menus and shortcuts send to the renderer. */
export const MENU_COMMANDS = [
  'new-vm', 'build-iso', 'view-manager', 'view-host', 'vm-run', 'vm-pause', 'vm-shutdown', 'vm-reboot',
  'vm-force-off', 'vm-delete', 'vm-console', 'vm-details', 'shortcuts', 'about',
] as const;
/** One menu command. */
export type MenuCommand = (typeof MENU_COMMANDS)[number];

/** A file filter of the open/save dialog. */
export interface FileFilter {
  name: string;
  extensions: string[];
}

/** Parameters of IPC.chooseFile. */
export interface ChooseFileRequest {
  title: string;
  mode: 'open' | 'save';
  filters: FileFilter[];
  defaultPath?: string;
}

/** Parameters of IPC.saveText. */
export interface SaveTextRequest {
  defaultName: string;
  text: string;
}

/** What the app reports about itself. */
export interface AppInfo {
  version: string;
  platform: string;
  electron: string;
  userData: string;
}

/** The object the preload exposes as window.domusHost (only in the Electron app). */
export interface DomusHostBridge {
  readonly kind: 'electron';
  /** Asks for a port to the engine; it arrives as a window message of type ENGINE_PORT_MESSAGE. */
  requestEnginePort(): Promise<void>;
  restartEngine(): Promise<void>;
  engineStatus(): Promise<EngineProcessState>;
  onEngineState(cb: (s: EngineProcessState) => void): () => void;
  onMenuCommand(cb: (c: MenuCommand) => void): () => void;
  openConsoleWindow(domain: string): Promise<void>;
  chooseFile(r: ChooseFileRequest): Promise<string | undefined>;
  saveText(r: SaveTextRequest): Promise<boolean>;
  appInfo(): Promise<AppInfo>;
}

/** Longest text the renderer may ask main to save (a console log), bytes. */
export const MAX_SAVE_TEXT = 64 * 1024 * 1024;
/** Longest string field otherwise (titles, names, paths). */
const MAX_FIELD = 4096;
/** Most filters in one dialog. */
const MAX_FILTERS = 16;

function isStr(v: unknown, max = MAX_FIELD): v is string {
  return typeof v === 'string' && v.length <= max;
}

/** A domain name or ID as the console window takes it (xl names: no slashes or control characters). */
export function checkDomainName(v: unknown): string {
  // eslint-disable-next-line no-control-regex
  if (!isStr(v, 128) || v.length === 0 || /[/\\\u0000-\u001f]/.test(v)) throw new TypeError('openConsoleWindow needs a domain name (1-128 characters, no slashes).');
  return v;
}

/** Validates IPC.chooseFile's payload. */
export function checkChooseFile(v: unknown): ChooseFileRequest {
  const o = v as Partial<ChooseFileRequest> | null;
  if (o === null || typeof o !== 'object') throw new TypeError('chooseFile needs an object.');
  if (!isStr(o.title)) throw new TypeError('chooseFile: title must be a string.');
  if (o.mode !== 'open' && o.mode !== 'save') throw new TypeError('chooseFile: mode must be "open" or "save".');
  if (!Array.isArray(o.filters) || o.filters.length > MAX_FILTERS) throw new TypeError(`chooseFile: filters must be an array of at most ${MAX_FILTERS}.`);
  for (const f of o.filters) {
    if (f === null || typeof f !== 'object' || !isStr(f.name) || !Array.isArray(f.extensions) || !f.extensions.every((e) => isStr(e, 32) && /^[\w*]+$/.test(e))) {
      throw new TypeError('chooseFile: each filter needs a name and extensions (letters, digits, _ or *).');
    }
  }
  if (o.defaultPath !== undefined && !isStr(o.defaultPath)) throw new TypeError('chooseFile: defaultPath must be a string.');
  return { title: o.title, mode: o.mode, filters: o.filters.map((f) => ({ name: f.name, extensions: [...f.extensions] })), defaultPath: o.defaultPath };
}

/** Validates IPC.saveText's payload. */
export function checkSaveText(v: unknown): SaveTextRequest {
  const o = v as Partial<SaveTextRequest> | null;
  if (o === null || typeof o !== 'object') throw new TypeError('saveText needs an object.');
  if (!isStr(o.defaultName, 255) || /[/\\]/.test(o.defaultName)) throw new TypeError('saveText: defaultName must be a file name without folders.');
  if (!isStr(o.text, MAX_SAVE_TEXT)) throw new TypeError('saveText: text must be a string of at most 64 MiB.');
  return { defaultName: o.defaultName, text: o.text };
}

/** Validates a menu command pushed to the renderer (the preload checks before forwarding). */
export function isMenuCommand(v: unknown): v is MenuCommand {
  return typeof v === 'string' && (MENU_COMMANDS as readonly string[]).includes(v);
}

/** Validates an engine state pushed to the renderer. */
export function isEngineProcessState(v: unknown): v is EngineProcessState {
  const o = v as Partial<EngineProcessState> | null;
  return (
    o !== null && typeof o === 'object' && (o.state === 'starting' || o.state === 'running' || o.state === 'exited') &&
    typeof o.message === 'string' && typeof o.generation === 'number' && (o.code === undefined || typeof o.code === 'number')
  );
}

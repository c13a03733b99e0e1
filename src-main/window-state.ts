/**
 * The manager window's size, position and maximized state, kept in the app's userData folder and
 * brought back inside the displays that exist now (a window saved on a monitor that is gone must
 * not open off screen). Pure functions plus a small file store; no Electron import.
 */
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';

/** A rectangle in screen coordinates. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What is kept. */
export interface WindowState {
  bounds: Rect | undefined;
  maximized: boolean;
}

/** Size of a first window, px. */
export const DEFAULT_SIZE = { width: 1280, height: 860 };
/** Smallest window the layout works in, px. */
export const MIN_SIZE = { width: 900, height: 600 };
/** Part of a window that must be on some display to keep its position, px. */
const VISIBLE_MARGIN = 64;

/** Parses a stored state; anything malformed gives the default. */
export function parseWindowState(text: string | undefined): WindowState {
  try {
    const v = JSON.parse(text ?? '') as Partial<WindowState>;
    const b = v.bounds;
    const ok = b && [b.x, b.y, b.width, b.height].every((n) => typeof n === 'number' && Number.isFinite(n));
    return { bounds: ok ? { x: b.x, y: b.y, width: Math.max(MIN_SIZE.width, b.width), height: Math.max(MIN_SIZE.height, b.height) } : undefined, maximized: v.maximized === true };
  } catch {
    return { bounds: undefined, maximized: false };
  }
}

/** The bounds to open with: the saved ones if enough of them is on a display (work areas given), else centred default size. */
export function fitBounds(saved: Rect | undefined, workAreas: readonly Rect[]): Rect | { width: number; height: number } {
  if (!saved) return { ...DEFAULT_SIZE };
  const visible = workAreas.some((a) => {
    const w = Math.min(saved.x + saved.width, a.x + a.width) - Math.max(saved.x, a.x);
    const h = Math.min(saved.y + saved.height, a.y + a.height) - Math.max(saved.y, a.y);
    return w >= VISIBLE_MARGIN && h >= VISIBLE_MARGIN;
  });
  return visible ? saved : { width: saved.width, height: saved.height };
}

/** Reads and writes the state file. */
export class WindowStateFile {
  constructor(private readonly file: string) {}

  /** The file in a folder. */
  static in(dir: string): WindowStateFile {
    return new WindowStateFile(path.join(dir, 'window-state.json'));
  }

  load(): WindowState {
    try {
      return parseWindowState(readFileSync(this.file, 'utf8'));
    } catch {
      return { bounds: undefined, maximized: false };
    }
  }

  /** Writes atomically (a crash never leaves half a file). */
  save(s: WindowState): void {
    const tmp = `${this.file}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(s));
      renameSync(tmp, this.file);
    } catch {
      // Not being able to remember the window is not worth an error dialog.
    }
  }
}

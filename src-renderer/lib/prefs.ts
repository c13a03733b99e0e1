/** User preferences kept in localStorage (per browser profile, or per app profile in Electron). */

/** The preferences. */
export interface Prefs {
  /** Ask before Force off. */
  confirmForceOff: boolean;
  /** Ask before Pause. */
  confirmPause: boolean;
  /** Console font size, px. */
  consoleFontSize: number;
  /** Console scrollback, lines. */
  consoleScrollback: number;
}

const KEY = 'domus.prefs';
/** Defaults (xterm's default scrollback is 1000; virt-manager keeps 1000 too; we keep more). */
export const DEFAULT_PREFS: Prefs = { confirmForceOff: true, confirmPause: false, consoleFontSize: 14, consoleScrollback: 10000 };

/** Reads the preferences. */
export function loadPrefs(): Prefs {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Prefs>;
    return {
      confirmForceOff: typeof v.confirmForceOff === 'boolean' ? v.confirmForceOff : DEFAULT_PREFS.confirmForceOff,
      confirmPause: typeof v.confirmPause === 'boolean' ? v.confirmPause : DEFAULT_PREFS.confirmPause,
      consoleFontSize: typeof v.consoleFontSize === 'number' && v.consoleFontSize >= 8 && v.consoleFontSize <= 32 ? v.consoleFontSize : DEFAULT_PREFS.consoleFontSize,
      consoleScrollback: typeof v.consoleScrollback === 'number' && v.consoleScrollback >= 100 && v.consoleScrollback <= 1e6 ? v.consoleScrollback : DEFAULT_PREFS.consoleScrollback,
    };
  } catch {
    return DEFAULT_PREFS;
  }
}

/** Writes the preferences. */
export function savePrefs(p: Prefs): void {
  localStorage.setItem(KEY, JSON.stringify(p));
}

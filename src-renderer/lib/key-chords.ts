/**
 * Key chords the console's "Send key" menu offers, as the bytes a serial terminal (VT220/xterm
 * conventions) sends for them. Chords that need a keyboard or a line break the engine cannot
 * deliver over a serial line yet are listed with the reason, so the menu shows them disabled.
 */

/** One chord. */
export interface KeyChord {
  label: string;
  /** Bytes to send; undefined when the chord cannot be sent yet. */
  bytes: string | undefined;
  /** Why it cannot be sent. */
  unavailable?: string;
}

const ESC = '\x1b';
/** xterm's CSI numbers of F5-F12 (F1-F4 are SS3 P, Q, R, S). */
const FKEY_NUMBERS = [15, 17, 18, 19, 20, 21, 23, 24];
/** xterm's modifier parameter for Alt (1 + 2). */
const MOD_ALT = 3;

/** The bytes of function key n (1-12), with Alt when `alt`. */
export function functionKey(n: number, alt = false): string {
  if (n <= 4) return alt ? `${ESC}[1;${MOD_ALT}${'PQRS'[n - 1]}` : `${ESC}O${'PQRS'[n - 1]}`;
  const code = FKEY_NUMBERS[n - 5];
  return alt ? `${ESC}[${code};${MOD_ALT}~` : `${ESC}[${code}~`;
}

/** The chords, in menu order. */
export const KEY_CHORDS: readonly KeyChord[] = [
  { label: 'Ctrl+C (interrupt)', bytes: '\x03' },
  { label: 'Ctrl+D (end of input)', bytes: '\x04' },
  { label: 'Ctrl+Z (suspend)', bytes: '\x1a' },
  { label: 'Ctrl+\\ (quit)', bytes: '\x1c' },
  { label: 'Ctrl+] (telnet escape)', bytes: '\x1d' },
  { label: 'Escape', bytes: ESC },
  { label: 'Tab', bytes: '\t' },
  ...Array.from({ length: 12 }, (_, i) => ({ label: `F${i + 1}`, bytes: functionKey(i + 1) })),
  ...Array.from({ length: 12 }, (_, i) => ({ label: `Alt+F${i + 1}`, bytes: functionKey(i + 1, true) })),
  { label: 'Ctrl+Alt+Del', bytes: undefined, unavailable: 'needs the emulated PS/2 keyboard input, which the engine API does not carry yet' },
  { label: 'Break (SysRq prefix)', bytes: undefined, unavailable: 'a serial line break needs an engine API (console.break) that does not exist yet' },
];

/** Largest piece "type text" sends at once, bytes (a 16550 FIFO is 16 bytes deep). */
export const TYPE_CHUNK = 16;
/** Pause between pieces, ms (keeps a polling guest from dropping bytes). */
export const TYPE_INTERVAL_MS = 30;

/** Splits text into pieces for typing, converting newlines to carriage returns (what Enter sends). */
export function typingChunks(text: string): string[] {
  const t = text.replace(/\r\n|\n/g, '\r');
  const out: string[] = [];
  for (let i = 0; i < t.length; i += TYPE_CHUNK) out.push(t.slice(i, i + TYPE_CHUNK));
  return out;
}

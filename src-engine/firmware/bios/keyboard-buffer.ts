/**
 * The BIOS keyboard: the 16-entry ring buffer in the BDA (0x41E-0x43D, head 0x41A, tail 0x41C)
 * holding (scan code << 8 | ASCII) words, filled from two sources:
 * - the serial console: bytes received by the first COM port (ANSI/VT escape sequences for the
 *   arrows, Home/End, PgUp/PgDn, Ins/Del and F1-F12 become their PC key codes), read when
 *   INT 16h is called, like SeaBIOS's serial console ("sercon");
 * - the PS/2 keyboard: set 1 scan codes the INT 09h handler reads from port 0x60 (US layout).
 *
 * References: RBIL INT 16h (key codes), IBM PC/AT Technical Reference (BDA keyboard buffer,
 * shift flags at 0x417), ECMA-48 / xterm control sequences (CSI and SS3 key sequences).
 */
import type { GuestPhysMemory } from '../../machine/guest-memory';
import { BDA, BDA_BASE, KBD_BUFFER_END } from './layout';

/** Shift-flag bits at 0x417. */
const KF0_RSHIFT = 0x01;
const KF0_LSHIFT = 0x02;
const KF0_CTRL = 0x04;
const KF0_ALT = 0x08;
const KF0_CAPSLOCK = 0x40;
/** Scan codes of the modifier keys (set 1). */
const SC_LSHIFT = 0x2a;
const SC_RSHIFT = 0x36;
const SC_CTRL = 0x1d;
const SC_ALT = 0x38;
const SC_CAPSLOCK = 0x3a;
/** Set 1: break codes have bit 7 set; 0xE0 prefixes extended keys. */
const SC_BREAK = 0x80;
const SC_EXTENDED = 0xe0;
/**
 * Keyboard answers that are not keys (overrun, echo, ACK, failures, resend). 0xAA is not among
 * them: in set 1 it is the release of Left Shift.
 */
const SC_NOT_KEYS: ReadonlySet<number> = new Set([0x00, 0xee, 0xfa, 0xfc, 0xfd, 0xfe, 0xff]);

const ESC = 0x1b;
const DEL = 0x7f;
const BACKSPACE_KEY = 0x0e08;
const ESC_KEY = 0x011b;

/**
 * US layout, set 1 make codes 0x01-0x39: [unshifted, shifted] characters ('' for none). Index =
 * scan code.
 */
const US_KEYS: readonly (readonly [string, string])[] = (() => {
  const rows: [number, string, string][] = [
    [0x01, '\x1b', '\x1b'],
    [0x02, '1234567890-=', '!@#$%^&*()_+'],
    [0x0e, '\b\t', '\b\t'],
    [0x10, 'qwertyuiop[]\r', 'QWERTYUIOP{}\r'],
    [0x1e, "asdfghjkl;'`", 'ASDFGHJKL:"~'],
    [0x2b, '\\zxcvbnm,./', '|ZXCVBNM<>?'],
    [0x37, '*', '*'],
    [0x39, ' ', ' '],
  ];
  const table: [string, string][] = Array.from({ length: 0x3a }, () => ['', ''] as [string, string]);
  for (const [start, normal, shifted] of rows) {
    for (let i = 0; i < normal.length; i++) table[start + i] = [normal[i], shifted[i]];
  }
  return table;
})();

/** Scan code and whether Shift is needed, per ASCII character (reverse of US_KEYS). */
const ASCII_SCAN = (() => {
  const m = new Map<number, number>();
  for (let sc = US_KEYS.length - 1; sc > 0; sc--) {
    const [n, s] = US_KEYS[sc];
    if (s) m.set(s.charCodeAt(0), sc);
    if (n) m.set(n.charCodeAt(0), sc);
  }
  return m;
})();

/** PC key codes (scan << 8, ASCII 0) of the keys terminals send as escape sequences. */
export const KEY = {
  up: 0x4800, down: 0x5000, left: 0x4b00, right: 0x4d00, home: 0x4700, end: 0x4f00,
  pageUp: 0x4900, pageDown: 0x5100, insert: 0x5200, delete: 0x5300,
  f1: 0x3b00, f2: 0x3c00, f3: 0x3d00, f4: 0x3e00, f5: 0x3f00, f6: 0x4000, f7: 0x4100, f8: 0x4200, f9: 0x4300,
  f10: 0x4400, f11: 0x8500, f12: 0x8600,
} as const;

/** Final bytes of CSI / SS3 sequences without parameters. */
const FINAL_KEYS: Readonly<Record<string, number>> = {
  A: KEY.up, B: KEY.down, C: KEY.right, D: KEY.left, H: KEY.home, F: KEY.end,
  P: KEY.f1, Q: KEY.f2, R: KEY.f3, S: KEY.f4,
};
/** CSI n ~ parameters. */
const TILDE_KEYS: Readonly<Record<number, number>> = {
  1: KEY.home, 2: KEY.insert, 3: KEY.delete, 4: KEY.end, 5: KEY.pageUp, 6: KEY.pageDown, 7: KEY.home, 8: KEY.end,
  11: KEY.f1, 12: KEY.f2, 13: KEY.f3, 14: KEY.f4, 15: KEY.f5, 17: KEY.f6, 18: KEY.f7, 19: KEY.f8, 20: KEY.f9,
  21: KEY.f10, 23: KEY.f11, 24: KEY.f12,
};
/** Control-letter codes 0x01-0x1A map to the letter's scan code. */
const CTRL_LETTER_LAST = 0x1a;

/** The PC key code of one ASCII byte typed on a terminal. */
export function asciiKey(byte: number): number {
  if (byte === DEL || byte === 0x08) return BACKSPACE_KEY;
  if (byte === ESC) return ESC_KEY;
  if (byte === 0x0d || byte === 0x0a) return 0x1c0d;
  if (byte === 0x09) return 0x0f09;
  if (byte >= 1 && byte <= CTRL_LETTER_LAST) {
    const sc = ASCII_SCAN.get(0x60 + byte) ?? 0;
    return (sc << 8) | byte;
  }
  return ((ASCII_SCAN.get(byte) ?? 0) << 8) | (byte & 0xff);
}

/**
 * Decodes terminal input bytes into PC key codes. Bytes of an escape sequence split across calls
 * are kept; a lone ESC at the end of the input is the Escape key.
 */
export class TerminalKeyDecoder {
  private pending: number[] = [];

  /**
   * Feeds bytes and returns the keys they complete. `more` says further input is already waiting:
   * then an ESC at the end is kept as the possible start of a sequence.
   */
  feed(bytes: readonly number[], more = false): number[] {
    const buf = [...this.pending, ...bytes];
    this.pending = [];
    const keys: number[] = [];
    let i = 0;
    while (i < buf.length) {
      const b = buf[i];
      if (b !== ESC) {
        keys.push(asciiKey(b));
        i++;
        continue;
      }
      if (i + 1 >= buf.length) {
        if (more) {
          this.pending = [ESC];
          break;
        }
        keys.push(ESC_KEY);
        i++;
        continue;
      }
      const intro = buf[i + 1];
      if (intro !== 0x5b && intro !== 0x4f) {
        keys.push(ESC_KEY);
        i++;
        continue;
      }
      // CSI ("ESC [") or SS3 ("ESC O"): parameters (digits, ';') then a final byte 0x40-0x7E.
      let j = i + 2;
      while (j < buf.length && ((buf[j] >= 0x30 && buf[j] <= 0x39) || buf[j] === 0x3b)) j++;
      if (j >= buf.length) {
        this.pending = buf.slice(i);
        break;
      }
      const final = String.fromCharCode(buf[j]);
      const params = String.fromCharCode(...buf.slice(i + 2, j)).split(';');
      const key = final === '~' ? TILDE_KEYS[Number(params[0])] : FINAL_KEYS[final];
      if (key !== undefined) keys.push(key);
      i = j + 1;
    }
    return keys;
  }
}

/** The BDA keyboard ring buffer plus the two input paths that fill it. */
export class KeyboardBuffer {
  private readonly decoder = new TerminalKeyDecoder();
  private extendedPrefix = false;
  /** Console keys decoded but not yet in the (full) ring buffer, oldest first. */
  private backlog: number[] = [];

  constructor(private readonly mem: () => GuestPhysMemory) {}

  /** Empties the buffer and sets its bounds (POST). */
  reset(): void {
    const m = this.mem();
    m.writeU16(BDA_BASE + BDA.kbdBufStart, BDA.kbdBuffer);
    m.writeU16(BDA_BASE + BDA.kbdBufEnd, KBD_BUFFER_END);
    m.writeU16(BDA_BASE + BDA.kbdHead, BDA.kbdBuffer);
    m.writeU16(BDA_BASE + BDA.kbdTail, BDA.kbdBuffer);
    m.writeU8(BDA_BASE + BDA.kbdFlags0, 0);
    m.writeU8(BDA_BASE + BDA.kbdFlags1, 0);
    this.decoder.feed([]);
    this.extendedPrefix = false;
    this.backlog = [];
  }

  /** True while console keys wait for room in the buffer (the console should not be read then). */
  get backlogged(): boolean {
    this.refill();
    return this.backlog.length > 0;
  }

  /** Moves backlogged console keys into the buffer while it has room. */
  private refill(): void {
    while (this.backlog.length > 0 && this.push(this.backlog[0])) this.backlog.shift();
  }

  private bounds(): { start: number; end: number; head: number; tail: number } {
    const m = this.mem();
    return {
      start: m.readU16(BDA_BASE + BDA.kbdBufStart),
      end: m.readU16(BDA_BASE + BDA.kbdBufEnd),
      head: m.readU16(BDA_BASE + BDA.kbdHead),
      tail: m.readU16(BDA_BASE + BDA.kbdTail),
    };
  }

  /** Appends a key; false if the buffer is full (the key is lost, as on a PC). */
  push(key: number): boolean {
    const { start, end, head, tail } = this.bounds();
    let next = tail + 2;
    if (next >= end) next = start;
    if (next === head) return false;
    const m = this.mem();
    m.writeU16(BDA_BASE + tail, key & 0xffff);
    m.writeU16(BDA_BASE + BDA.kbdTail, next);
    return true;
  }

  /** The next key without removing it. */
  peek(): number | undefined {
    this.refill();
    const { head, tail } = this.bounds();
    return head === tail ? undefined : this.mem().readU16(BDA_BASE + head);
  }

  /** Removes and returns the next key. */
  take(): number | undefined {
    this.refill();
    const { start, end, head, tail } = this.bounds();
    if (head === tail) return undefined;
    const key = this.mem().readU16(BDA_BASE + head);
    let next = head + 2;
    if (next >= end) next = start;
    this.mem().writeU16(BDA_BASE + BDA.kbdHead, next);
    return key;
  }

  /** Keys typed on the serial console: into the buffer, or the backlog when it is full. */
  feedTerminal(bytes: readonly number[], more = false): void {
    this.backlog.push(...this.decoder.feed(bytes, more));
    this.refill();
  }

  /** Shift flags byte (0x417). */
  shiftFlags(): number {
    return this.mem().readU8(BDA_BASE + BDA.kbdFlags0);
  }

  /** One set 1 scan code from the 8042 (INT 09h): updates shift state, buffers make codes of keys. */
  feedScancode(code: number): void {
    if (code === SC_EXTENDED) {
      this.extendedPrefix = true;
      return;
    }
    const extended = this.extendedPrefix;
    this.extendedPrefix = false;
    if (SC_NOT_KEYS.has(code)) return;
    const m = this.mem();
    let flags = m.readU8(BDA_BASE + BDA.kbdFlags0);
    const make = code & ~SC_BREAK;
    const released = (code & SC_BREAK) !== 0;
    const modifier = make === SC_LSHIFT ? KF0_LSHIFT : make === SC_RSHIFT ? KF0_RSHIFT : make === SC_CTRL ? KF0_CTRL : make === SC_ALT ? KF0_ALT : 0;
    if (modifier !== 0) {
      flags = released ? flags & ~modifier : flags | modifier;
      m.writeU8(BDA_BASE + BDA.kbdFlags0, flags);
      return;
    }
    if (released) return;
    if (make === SC_CAPSLOCK) {
      m.writeU8(BDA_BASE + BDA.kbdFlags0, flags ^ KF0_CAPSLOCK);
      return;
    }
    this.push(scancodeKey(make, flags, extended));
  }
}

/** The key code of a set 1 make code under the given shift flags (US layout). */
export function scancodeKey(make: number, flags: number, extended = false): number {
  const shift = (flags & (KF0_LSHIFT | KF0_RSHIFT)) !== 0;
  const ctrl = (flags & KF0_CTRL) !== 0;
  const caps = (flags & KF0_CAPSLOCK) !== 0;
  const entry = !extended && make < US_KEYS.length ? US_KEYS[make] : undefined;
  if (entry === undefined || entry[0] === '') return make << 8;
  let ch = (shift ? entry[1] : entry[0]).charCodeAt(0);
  const letter = entry[0] >= 'a' && entry[0] <= 'z';
  if (letter && caps) ch ^= 0x20;
  if (ctrl && letter) ch = entry[0].charCodeAt(0) - 0x60;
  return (make << 8) | ch;
}

/**
 * The grub.cfg the ISO wizard and `domus mkiso` write: a console setup, a timeout and one menu
 * entry that boots a multiboot (v1 or v2) kernel with its modules (the spec's reference case and the
 * seeds' xen-single-kernel.sh workflow). Words are quoted for GRUB's script lexer so that what the
 * user types reaches the kernel literally ($, quotes and spaces included).
 */
import { IsoError } from '../base/errors';
import type { MultibootVersion } from './multiboot-check';

/** The console GRUB talks on. */
export type IsoConsole =
  | {
      kind: 'serial';
      /** 1-4 for COM1-COM4 (GRUB `serial --unit=0..3`). */
      port: number;
      /** Baud rate. */
      speed: number;
    }
  | { kind: 'vga' };

/** Baud rates GRUB's ns8250 driver accepts with `serial --speed`. */
export const SERIAL_SPEEDS = [2400, 4800, 9600, 19200, 38400, 57600, 115200] as const;
/** Standard ISA I/O ports of COM1-COM4 (what `--unit=N` selects). */
export const COM_PORTS = [0x3f8, 0x2f8, 0x3e8, 0x2e8] as const;
/** Longest timeout accepted, in seconds (one day; GRUB itself takes any non-negative integer). */
const MAX_TIMEOUT_SECONDS = 86400;

/** A file and its arguments on the GRUB command line. */
export interface GrubBootFile {
  /** Absolute path on the ISO, e.g. "/boot/ldhermit.elf". */
  path: string;
  /** Arguments after the path, as one string (split at blanks; quotes group). */
  args: string;
}

/** Everything generateGrubCfg needs. */
export interface GrubMenuSpec {
  title: string;
  /** Seconds before the entry boots (0: at once). */
  timeoutSeconds: number;
  console: IsoConsole;
  /** 1: `multiboot`/`module`; 2: `multiboot2`/`module2`. */
  protocol: MultibootVersion;
  kernel: GrubBootFile;
  modules: readonly GrubBootFile[];
}

/** Characters GRUB's lexer takes literally in an unquoted word. */
const PLAIN_WORD = /^[A-Za-z0-9_\-./:=,+@%^~]+$/;

/** Quotes one word for grub.cfg: as is when plain, else in single quotes ('\'' for a quote). */
export function grubQuote(word: string): string {
  if (PLAIN_WORD.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Splits a command line into words at blanks; "double" or 'single' quotes group words with blanks
 * (the quotes themselves are removed). A backslash inside double quotes escapes the next character.
 */
export function splitCommandLine(text: string): string[] {
  if (/[\r\n]/.test(text)) {
    throw new IsoError('iso.bad-args', 'A command line may not contain a line break.', text);
  }
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (quote === '"' && c === '\\' && i + 1 < text.length) cur += text[++i];
      else cur += c;
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      inWord = true;
      if (c === '"' || c === "'") quote = c;
      else cur += c;
    }
  }
  if (quote) throw new IsoError('iso.bad-args', `Unclosed ${quote} quote in the command line "${text}".`, text);
  if (inWord) words.push(cur);
  return words;
}

function checkConsole(c: IsoConsole): void {
  if (c.kind === 'vga') return;
  if (!Number.isInteger(c.port) || c.port < 1 || c.port > COM_PORTS.length) {
    throw new IsoError('iso.bad-console', `Serial port COM${c.port} does not exist; choose COM1 to COM4.`, `com${c.port}`);
  }
  if (!(SERIAL_SPEEDS as readonly number[]).includes(c.speed)) {
    throw new IsoError('iso.bad-console', `Serial speed ${c.speed} is not one GRUB supports (${SERIAL_SPEEDS.join(', ')}).`, String(c.speed));
  }
}

function bootLine(cmd: string, f: GrubBootFile): string {
  return [cmd, grubQuote(f.path), ...splitCommandLine(f.args).map(grubQuote)].join(' ');
}

/** Writes the grub.cfg text for one multiboot menu entry. */
export function generateGrubCfg(spec: GrubMenuSpec): string {
  checkConsole(spec.console);
  if (!Number.isInteger(spec.timeoutSeconds) || spec.timeoutSeconds < 0 || spec.timeoutSeconds > MAX_TIMEOUT_SECONDS) {
    throw new IsoError('iso.bad-timeout', `The menu timeout must be a whole number of seconds from 0 to ${MAX_TIMEOUT_SECONDS}; got ${spec.timeoutSeconds}.`);
  }
  if (/[\r\n]/.test(spec.title)) throw new IsoError('iso.bad-title', 'The menu title may not contain a line break.', spec.title);
  const lines = ['# grub.cfg written by Domus (GRUB ISO builder)'];
  if (spec.console.kind === 'serial') {
    lines.push(`serial --unit=${spec.console.port - 1} --speed=${spec.console.speed}`, 'terminal_input serial', 'terminal_output serial');
  } else {
    lines.push('terminal_input console', 'terminal_output console');
  }
  lines.push('set default=0', `set timeout=${spec.timeoutSeconds}`, '');
  const [kcmd, mcmd] = spec.protocol === 1 ? ['multiboot', 'module'] : ['multiboot2', 'module2'];
  lines.push(`menuentry ${grubQuote(spec.title || 'Domus')} {`);
  lines.push(`    ${bootLine(kcmd, spec.kernel)}`);
  for (const m of spec.modules) lines.push(`    ${bootLine(mcmd, m)}`);
  lines.push('    boot', '}', '');
  return lines.join('\n');
}

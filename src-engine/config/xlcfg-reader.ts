/**
 * Typed access to the settings of a parsed xl.cfg, with libxlu's conversions
 * (tools/libs/util/libxlu_cfg.c): strings and numbers are both text, numbers are read with
 * strtol(text, &end, 0) (so 0x10 and 010 are 16 and 8, and "512" in quotes is a number too),
 * `+=` on a number is refused, booleans are numbers (0 false, anything else true).
 * Where xl only warns and ignores a malformed value, we refuse it: errors name file:line:col.
 */
import { cStrtol } from './c-format';
import type { XlAtom, XlSetting, XlValue } from './xlcfg-ast';
import type { Located, ProblemList } from './xlcfg-problems';

/** Reads settings by key, remembering which keys were used. */
export class SettingReader {
  /** Keys read so far (the rest are "other" keys). */
  readonly used = new Set<string>();

  constructor(
    readonly settings: ReadonlyMap<string, XlSetting>,
    readonly problems: ProblemList,
  ) {}

  /** Where a setting's value is (the last statement that set it). */
  where(s: XlSetting, v: XlValue = s.value): Located {
    const last = s.statements[s.statements.length - 1];
    return { file: last.file, pos: v.pos };
  }

  /** The raw setting, marking it used. */
  get(key: string): XlSetting | undefined {
    this.used.add(key);
    return this.settings.get(key);
  }

  /** Records an error about a setting, at its value. */
  error(s: XlSetting, code: string, message: string, v?: XlValue): void {
    this.problems.error(code, message, this.where(s, v), s.key);
  }

  /** Records a warning about a setting, at its value. */
  warn(s: XlSetting, code: string, message: string, v?: XlValue): void {
    this.problems.warn(code, message, this.where(s, v), s.key);
  }

  /** The value as a single atom; an error if it is a list. */
  atom(key: string): { s: XlSetting; a: XlAtom } | undefined {
    const s = this.get(key);
    if (!s) return undefined;
    if (s.value.kind !== 'atom') {
      this.error(s, 'xlcfg.not-single', `${key} must be a single value, not a list`);
      return undefined;
    }
    return { s, a: s.value };
  }

  /** A string value (numbers are text too, as in xl). */
  string(key: string): string | undefined {
    return this.atom(key)?.a.text;
  }

  /** An integer read the way xl does; undefined when absent or invalid (error recorded). */
  long(key: string): number | undefined {
    const r = this.atom(key);
    if (!r) return undefined;
    if (r.s.op === '+=') {
      this.error(r.s, 'xlcfg.add-number', `can't use += with numbers for ${key}`);
      return undefined;
    }
    const n = parseXlNumber(r.a.text);
    if (typeof n === 'string') {
      this.error(r.s, 'xlcfg.not-number', `${key} = ${JSON.stringify(r.a.text)} ${n}`);
      return undefined;
    }
    return n;
  }

  /** A boolean: a number, 0 = false, anything else true. */
  bool(key: string): boolean | undefined {
    const n = this.long(key);
    return n === undefined ? undefined : n !== 0;
  }

  /**
   * A list whose items must all be strings (disk=, vif=, serial=...). `allowAtom` accepts a single
   * string as a one-element list. Returns the items with their atoms for positions.
   */
  stringList(key: string, allowAtom: boolean): { s: XlSetting; items: XlAtom[] } | undefined {
    const s = this.get(key);
    if (!s) return undefined;
    if (s.value.kind === 'atom') {
      if (allowAtom) return { s, items: [s.value] };
      this.error(s, 'xlcfg.not-list', `${key} must be a list, e.g. ${key} = [ '...' ]`);
      return undefined;
    }
    const items: XlAtom[] = [];
    for (const item of s.value.items) {
      if (item.kind !== 'atom') {
        this.error(s, 'xlcfg.nested-list', `${key} items must be strings, not lists`, item);
        return undefined;
      }
      items.push(item);
    }
    return { s, items };
  }
}

/** Largest integer we accept from a config (keeps every later KiB/ns product exact). */
const MAX_CONFIG_INTEGER = 2 ** 40;

/**
 * Converts xl number text with strtol(text, &end, 0). Returns the number, or a phrase saying why
 * it is not one.
 */
export function parseXlNumber(text: string): number | string {
  const r = cStrtol(text, 0);
  if (r.end === 0 || r.end !== text.length) return 'is not a valid number (decimal, 0x hex or 0 octal, no units)';
  if (r.overflow || r.value > BigInt(MAX_CONFIG_INTEGER) || r.value < -BigInt(MAX_CONFIG_INTEGER)) {
    return 'is out of range';
  }
  return Number(r.value);
}

/**
 * Writing xl.cfg text: fresh files from a list of settings, and edits of a parsed document that
 * touch only the keys whose value changed. Everything else (order, comments, blank lines, quoting,
 * unknown keys) is kept byte for byte, so parse -> write with no change returns the same text.
 */
import { ConfigError } from '../base/errors';
import type { XlCfgDocument, XlStatement, XlValue, XlValueInput } from './xlcfg-ast';
import { documentSettings } from './xlcfg-parser';
import { quoteXlString } from './xlcfg-strings';

/** A line longer than this is written as a multi-line list, one item per line. */
const MAX_LINE = 80;
/** Indentation of list items in a multi-line list. */
const LIST_INDENT = '    ';

function formatAtom(v: string | number | boolean, quote: '"' | "'"): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) {
      throw new ConfigError('xlcfg.unwritable', `${v} cannot be written to xl.cfg: numbers there are whole numbers`);
    }
    // xl's NUMBER token has no sign; a quoted string is read by strtol all the same.
    return v < 0 ? quoteXlString(String(v), quote) : String(v);
  }
  return quoteXlString(v, quote);
}

function formatInline(v: XlValueInput, quote: '"' | "'"): string {
  if (Array.isArray(v)) {
    const list = v as readonly XlValueInput[];
    return list.length === 0 ? '[]' : `[ ${list.map((x) => formatInline(x, "'")).join(', ')} ]`;
  }
  return formatAtom(v as string | number | boolean, quote);
}

/**
 * Formats a value as xl.cfg text: top-level strings in double quotes, list items in single quotes,
 * numbers bare, booleans as 1/0. `key` is used to decide whether a list fits on one line.
 */
export function formatXlValue(v: XlValueInput, key = ''): string {
  const inline = formatInline(v, '"');
  if (!Array.isArray(v) || v.length < 2 || key.length + 3 + inline.length <= MAX_LINE) return inline;
  const items = (v as readonly XlValueInput[]).map((x) => `${LIST_INDENT}${formatInline(x, "'")},\n`);
  return `[\n${items.join('')}]`;
}

/** Formats one `key = value` line (without the newline). */
export function formatXlSetting(key: string, v: XlValueInput): string {
  if (!/^[a-z][._0-9a-z]*$/.test(key)) {
    throw new ConfigError('xlcfg.bad-key', `"${key}" cannot be an xl.cfg key: keys are lowercase letters, digits, '.' and '_', starting with a letter`, key);
  }
  return `${key} = ${formatXlValue(v, key)}`;
}

/** Converts a parsed value to the input form (bare decimal numbers become numbers). */
export function xlValueToInput(v: XlValue): XlValueInput {
  if (v.kind === 'list') return v.items.map(xlValueToInput);
  if (v.form === 'number' && /^(0|[1-9][0-9]*)$/.test(v.text) && Number.isSafeInteger(Number(v.text))) return Number(v.text);
  return v.text;
}

function atomText(v: string | number | boolean): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  return String(v);
}

/**
 * True when a parsed value means the same to xl as an input value. xl keeps numbers and strings
 * alike as text, so `"512"` and `512` compare equal.
 */
export function sameXlValue(a: XlValue, b: XlValueInput): boolean {
  if (a.kind === 'list') {
    if (!Array.isArray(b)) return false;
    const list = b as readonly XlValueInput[];
    return list.length === a.items.length && a.items.every((item, i) => sameXlValue(item, list[i]));
  }
  if (Array.isArray(b)) return false;
  return a.text === atomText(b as string | number | boolean);
}

/** Writes a fresh xl.cfg file: an optional comment header, then one line per setting. */
export function writeXlCfg(settings: Iterable<readonly [string, XlValueInput]>, header?: string): string {
  let out = '';
  if (header) out += header.split('\n').map((l) => (l ? `# ${l}` : '#')).join('\n') + '\n\n';
  for (const [key, value] of settings) out += `${formatXlSetting(key, value)}\n`;
  return out;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

function lineStartOf(source: string, offset: number): number {
  return source.lastIndexOf('\n', offset - 1) + 1;
}

/** The edit that deletes one statement, taking its whole line when nothing else is on it. */
function removal(source: string, st: XlStatement): Edit {
  const lineStart = lineStartOf(source, st.start);
  const before = source.slice(lineStart, st.start);
  if (st.termKind === ';') {
    let end = st.termEnd;
    while (source[end] === ' ' || source[end] === '\t') end++;
    if (/^[ \t]*$/.test(before) && source[end] === '\n') end++;
    return { start: /^[ \t]*$/.test(before) ? lineStart : st.start, end, text: '' };
  }
  if (/^[ \t]*$/.test(before)) return { start: lineStart, end: st.termEnd, text: '' };
  let start = st.start;
  while (start > lineStart && (source[start - 1] === ' ' || source[start - 1] === '\t')) start--;
  return { start, end: st.termKind === 'eof' ? st.end : st.termStart, text: '' };
}

/**
 * Returns the document's text with settings changed: `undefined` removes a key, any other value
 * sets it. A key whose current value already equals the new one is left untouched; a changed key
 * is rewritten where it first appears (later `=`/`+=` lines for it are removed); a new key is
 * appended at the end.
 */
export function updateXlCfgText(doc: XlCfgDocument, changes: Iterable<readonly [string, XlValueInput | undefined]>): string {
  const source = doc.source;
  const settings = documentSettings(doc);
  const edits: Edit[] = [];
  const appended: string[] = [];
  for (const [key, value] of changes) {
    const own = doc.statements.filter((st) => st.key === key && st.file === doc.file);
    const current = settings.get(key);
    if (value === undefined) {
      for (const st of own) edits.push(removal(source, st));
      continue;
    }
    if (current && sameXlValue(current.value, value)) continue;
    if (own.length === 0) {
      appended.push(`${formatXlSetting(key, value)}\n`);
      continue;
    }
    edits.push({ start: own[0].start, end: own[0].end, text: formatXlSetting(key, value) });
    for (const st of own.slice(1)) edits.push(removal(source, st));
  }
  edits.sort((a, b) => b.start - a.start);
  let out = source;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  if (appended.length > 0) {
    if (out.length > 0 && !out.endsWith('\n')) out += '\n';
    out += appended.join('');
  }
  return out;
}

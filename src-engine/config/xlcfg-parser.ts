/**
 * The xl.cfg grammar (tools/libs/util/libxlu_cfg_y.y), as a recursive-descent parser that
 * accepts exactly what xl's bison parser accepts:
 *
 *   file       := stmts [assignment]            the last assignment needs no terminator
 *   stmt       := assignment endstmt | endstmt  endstmt := NEWLINE | ';'
 *   assignment := IDENT ('=' | '+=') value
 *   value      := STRING | NUMBER | '[' nl* [ value nl* (',' nl* value nl*)* [',' nl*] ] ']'
 *
 * Newlines (and comments) may appear anywhere inside brackets; lists nest; a trailing comma is
 * allowed; an empty list is allowed; `[ , ]` and `[1,,2]` are not. `+=` appends to the value the
 * key already has (string to string, list to list; mixing them is an error); a later `=` replaces.
 * Like xl, the parser recovers at the next newline and goes on, so every error is reported at once.
 */
import { XlLexer, type XlToken } from './xlcfg-lexer';
import type { XlCfgDocument, XlSetting, XlStatement, XlValue } from './xlcfg-ast';
import { ProblemList, type XlCfgProblem } from './xlcfg-problems';

class XlParser {
  private tok: XlToken;
  private readonly lexer: XlLexer;
  /** Lines that already have an error: report at most one per line, like xl. */
  private readonly reported = new Set<number>();
  readonly statements: XlStatement[] = [];
  /** Bracket nesting at the current token. */
  private depth = 0;
  /** End offset of the last value parsed. */
  private lastEnd = 0;

  constructor(
    text: string,
    private readonly file: string,
    private readonly problems: ProblemList,
  ) {
    this.lexer = new XlLexer(text, file, problems);
    this.tok = this.lexer.next();
  }

  private advance(): XlToken {
    const t = this.tok;
    if (t.kind === '[') this.depth++;
    else if (t.kind === ']') this.depth--;
    this.tok = this.lexer.next();
    return t;
  }

  private syntaxError(message: string, key: string | undefined, at: XlToken = this.tok): void {
    const line = at.pos.line;
    if (this.reported.has(line) || this.lexer.errorLines.has(line)) return;
    this.reported.add(line);
    this.problems.error('xlcfg.syntax', message, { file: this.file, pos: at.pos }, key);
  }

  /**
   * Bison's `error NEWLINE` rule: drop tokens up to and including the next newline. Newlines
   * inside an unfinished list are skipped too, so one bad list gives one error, not one per line.
   */
  private recover(): void {
    while (this.tok.kind !== 'eof' && !(this.tok.kind === 'newline' && this.depth <= 0)) this.advance();
    if (this.tok.kind === 'newline') this.advance();
    this.depth = 0;
  }

  parseFile(): void {
    for (;;) {
      const t = this.tok;
      if (t.kind === 'eof') return;
      if (t.kind === 'newline' || t.kind === ';') {
        this.advance();
        continue;
      }
      if (t.kind !== 'ident') {
        this.syntaxError(`expected a key at the start of a statement, found ${describe(t)}`, undefined);
        this.recover();
        continue;
      }
      if (!this.parseAssignment()) this.recover();
      this.lexer.currentKey = undefined;
    }
  }

  private parseAssignment(): boolean {
    const keyTok = this.tok;
    const key = keyTok.value;
    // Lexical errors in this statement's value name its key.
    this.lexer.currentKey = key;
    this.advance();
    const opTok = this.tok;
    if (opTok.kind !== '=' && opTok.kind !== '+=') {
      this.syntaxError(`expected '=' or '+=' after the key, found ${describe(opTok)}`, key);
      return false;
    }
    this.advance();
    this.depth = 0;
    const value = this.parseValue(key, true);
    if (!value) return false;
    const end = this.lastEnd;
    const term = this.tok;
    if (term.kind !== 'newline' && term.kind !== ';' && term.kind !== 'eof') {
      const unit = value.kind === 'atom' && value.form === 'number' && term.kind === 'ident' && term.start === end;
      const msg = unit
        ? `\`${value.text}${term.value}': numbers take no units or suffixes (memory= is in MiB); write ${value.text}`
        : `expected the end of the line or ';' after the value, found ${describe(term)}`;
      this.syntaxError(msg, key);
      return false;
    }
    this.statements.push({
      key,
      op: opTok.kind,
      value,
      file: this.file,
      keyPos: keyTok.pos,
      start: keyTok.start,
      end,
      termStart: term.start,
      termEnd: term.end,
      termKind: term.kind,
    });
    // Whatever is lexed past the terminator belongs to the next statement.
    this.lexer.currentKey = undefined;
    if (term.kind !== 'eof') this.advance();
    return true;
  }

  private skipNewlines(): void {
    while (this.tok.kind === 'newline') this.advance();
  }

  private parseValue(key: string, topLevel: boolean): XlValue | undefined {
    const t = this.tok;
    if (t.kind === 'string' || t.kind === 'number') {
      this.advance();
      this.lastEnd = t.end;
      return { kind: 'atom', text: t.value, form: t.kind, pos: t.pos };
    }
    if (t.kind === '[') return this.parseList(key);
    this.syntaxError(expectedValue(t, topLevel), key);
    return undefined;
  }

  private parseList(key: string): XlValue | undefined {
    const open = this.advance();
    const items: XlValue[] = [];
    this.skipNewlines();
    for (;;) {
      const t = this.tok;
      if (t.kind === ']') break;
      if (items.length > 0) {
        if (t.kind !== ',') {
          const msg = t.kind === 'eof' ? 'the list is not closed: missing \']\' before the end of the file' : `expected ',' or ']' in the list, found ${describe(t)}`;
          this.syntaxError(msg, key);
          return undefined;
        }
        this.advance();
        this.skipNewlines();
        if (this.tok.kind === ']') break; // trailing comma
      }
      const item = this.parseValue(key, false);
      if (!item) return undefined;
      items.push(item);
      this.skipNewlines();
    }
    if (this.tok.kind !== ']') return undefined;
    const close = this.advance();
    this.lastEnd = close.end;
    return { kind: 'list', items, pos: open.pos };
  }
}

function describe(t: XlToken): string {
  switch (t.kind) {
    case 'eof':
      return 'the end of the file';
    case 'newline':
      return t.value.startsWith('#') ? 'a comment' : 'the end of the line';
    case 'ident':
      return `the word \`${t.value}'`;
    case 'string':
      return 'a string';
    case 'number':
      return `the number ${t.value}`;
    default:
      return `'${t.kind}'`;
  }
}

function expectedValue(t: XlToken, topLevel: boolean): string {
  const what = 'expected a value: a "quoted string", a number or a [list]';
  if (t.kind === 'ident') {
    if (['true', 'false', 'yes', 'no', 'on', 'off'].includes(t.value)) {
      return `${what}; xl.cfg has no ${t.value}: write booleans as 1 or 0`;
    }
    return `${what}; the bare word \`${t.value}' must be quoted, e.g. "${t.value}"`;
  }
  if (t.kind === 'eof' && !topLevel) return 'the list is not closed: missing \']\' before the end of the file';
  if (t.kind === ',' && !topLevel) return `${what}; found ',' (empty list items are not allowed)`;
  if (t.kind === 'newline' && topLevel) return `${what} on the same line as the key`;
  return `${what}, found ${describe(t)}`;
}

/** Joins a `+=` value onto the previous one (libxlu xlu__cfg_concat_vals), or says why not. */
function concat(prev: XlValue, add: XlValue): XlValue | undefined {
  if (prev.kind === 'atom' && add.kind === 'atom') return { ...add, text: prev.text + add.text };
  if (prev.kind === 'list' && add.kind === 'list') return { ...add, items: [...prev.items, ...add.items] };
  return undefined;
}

/**
 * Applies statements in order and returns each key's final value as xl sees it (the last `=`,
 * with any later `+=` appended). Records an error for `+=` between a list and a string.
 */
export function resolveSettings(statements: readonly XlStatement[], problems: ProblemList): Map<string, XlSetting> {
  const settings = new Map<string, XlSetting>();
  for (const st of statements) {
    const prev = settings.get(st.key);
    if (st.op === '+=' && prev) {
      const joined = concat(prev.value, st.value);
      if (!joined) {
        problems.error('xlcfg.concat-type', 'can\'t add [list] to "string" or vice versa with +=', { file: st.file, pos: st.keyPos }, st.key);
        continue;
      }
      settings.set(st.key, { key: st.key, value: joined, op: '+=', statements: [...prev.statements, st] });
    } else {
      settings.set(st.key, { key: st.key, value: st.value, op: st.op, statements: [st] });
    }
  }
  return settings;
}

/** Parses xl.cfg text into its statements, recording problems instead of throwing. */
export function parseXlCfgInto(text: string, file: string, problems: ProblemList): XlCfgDocument {
  const parser = new XlParser(text, file, problems);
  parser.parseFile();
  resolveSettings(parser.statements, problems);
  return { file, source: text, statements: parser.statements };
}

/**
 * Parses xl.cfg text (grammar only: any key is accepted). Throws XlCfgError listing every
 * error as `FILE:LINE:COL: message (key KEY)`; also returns warnings (dropped escapes).
 */
export function parseXlCfg(text: string, file: string): { document: XlCfgDocument; warnings: XlCfgProblem[] } {
  const problems = new ProblemList(file);
  const document = parseXlCfgInto(text, file, problems);
  problems.throwIfErrors();
  return { document, warnings: problems.warnings };
}

/** The final value of every key of a parsed document, in order of first appearance. */
export function documentSettings(doc: XlCfgDocument): Map<string, XlSetting> {
  return resolveSettings(doc.statements, new ProblemList(doc.file));
}

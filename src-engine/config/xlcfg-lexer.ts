/**
 * The xl.cfg lexer, rule for rule as flex builds it from tools/libs/util/libxlu_cfg_l.l:
 *
 *   IDENT   [a-z][._0-9a-z]*            keys are lowercase only
 *   NUMBER  [0-9][0-9a-fx]*             kept as text; converted with strtol(.., 0) when read
 *   STRING  '...' or "..."              backslash escapes, never across a newline
 *   ,  [  ]  +=  =  ;                   punctuation
 *   NEWLINE \n  or  #comment\n          a comment always ends with its newline
 *   [ \t]                               skipped
 *   anything else                       lexical error; the rest of the word is skipped
 *
 * There is no other line continuation: only lists may span lines. A carriage return is not
 * whitespace to xl, so CRLF files are refused, as is a comment on the last line without a newline.
 */
import { dequoteXlString } from './xlcfg-strings';
import type { ProblemList, SourcePos } from './xlcfg-problems';

/** Token kinds of the xl.cfg grammar. */
export type XlTokenKind = 'ident' | 'number' | 'string' | ',' | '[' | ']' | '+=' | '=' | ';' | 'newline' | 'eof';

/** One token with its source span. */
export interface XlToken {
  kind: XlTokenKind;
  /** Decoded text for strings; the source text otherwise. */
  value: string;
  start: number;
  end: number;
  pos: SourcePos;
}

const IDENT_RE = /[a-z][._0-9a-z]*/y;
const NUMBER_RE = /[0-9][0-9a-fx]*/y;
const STRING_RES: Record<string, RegExp> = {
  "'": /'(?:[^'\\\n]|\\.)*'/y,
  '"': /"(?:[^"\\\n]|\\.)*"/y,
};
/** Characters flex marks as "likely Python" (the rule [+-.():], a range that also holds ','). */
const PYTHONISH = new Set(['+', '-', '.', '(', ')', ':']);

function matchAt(re: RegExp, text: string, at: number): string | undefined {
  re.lastIndex = at;
  const m = re.exec(text);
  return m ? m[0] : undefined;
}

/** Says why a character cannot start a token, in words a config author can act on. */
function lexicalHint(text: string, at: number, word: string): { code: string; message: string } {
  const ch = text[at];
  if (ch === '\r') {
    return { code: 'xlcfg.crlf', message: 'carriage return: xl.cfg files must use LF line endings, not CRLF (convert the file, e.g. with dos2unix)' };
  }
  if (ch === '#') {
    return { code: 'xlcfg.comment-eof', message: 'the comment on the last line has no newline at its end: xl refuses that, add a newline' };
  }
  if (ch === '"' || ch === "'") {
    return { code: 'xlcfg.unterminated-string', message: `unterminated string ${word}: close it with ${ch} on the same line (strings cannot span lines)` };
  }
  if (/[A-Za-z]/.test(ch) && /[0-9a-fx]/.test(text[at - 1] ?? '')) {
    return { code: 'xlcfg.number-suffix', message: `\`${word}' right after a number: numbers take no units (memory= is in MiB) and hex digits are lowercase` };
  }
  if (/[A-Z_]/.test(ch)) {
    return { code: 'xlcfg.bad-key', message: `\`${word}': keys are lowercase letters, digits, '.' and '_', starting with a letter; other words must be quoted` };
  }
  if (ch === '-' && /[0-9]/.test(text[at + 1] ?? '')) {
    return { code: 'xlcfg.negative-number', message: `\`${word}': bare numbers cannot be negative; quote it, e.g. "${word}"` };
  }
  if (PYTHONISH.has(ch)) {
    return {
      code: 'xlcfg.python',
      message: `unexpected \`${word}': this looks like Python, which xl no longer accepts; values are "strings", numbers (no fractions, units or signs) and [lists]`,
    };
  }
  return { code: 'xlcfg.lexical', message: `unexpected character ${JSON.stringify(ch)} in \`${word}'` };
}

/** Splits an xl.cfg text into tokens; lexical errors are recorded and their text skipped. */
export class XlLexer {
  private at = 0;
  private line = 1;
  private lineStart = 0;
  private sawCr = false;
  /** Lines on which a lexical error was reported (the parser then stays quiet there, like xl). */
  readonly errorLines = new Set<number>();
  /** The key of the statement being read (set by the parser), named in lexical errors. */
  currentKey: string | undefined;

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly problems: ProblemList,
  ) {}

  private pos(offset: number): SourcePos {
    return { line: this.line, col: offset - this.lineStart + 1, offset };
  }

  private token(kind: XlTokenKind, start: number, end: number, value?: string): XlToken {
    const t: XlToken = { kind, value: value ?? this.text.slice(start, end), start, end, pos: this.pos(start) };
    this.at = end;
    return t;
  }

  /** Returns the next token (after skipping blanks and reporting lexical errors). */
  next(): XlToken {
    const text = this.text;
    for (;;) {
      const at = this.at;
      if (at >= text.length) return this.token('eof', at, at);
      const ch = text[at];
      if (ch === ' ' || ch === '\t') {
        this.at++;
        continue;
      }
      if (ch === '\n') return this.newline(at, at + 1);
      if (ch === '#') {
        const nl = text.indexOf('\n', at);
        if (nl >= 0) return this.newline(at, nl + 1);
        this.lexicalError(at, text.length); // xl refuses it too; do not lex the comment's words
        continue;
      }
      const ident = matchAt(IDENT_RE, text, at);
      if (ident) return this.token('ident', at, at + ident.length);
      const num = matchAt(NUMBER_RE, text, at);
      if (num) return this.token('number', at, at + num.length);
      if (ch === '+' && text[at + 1] === '=') return this.token('+=', at, at + 2);
      if (ch === ',' || ch === '[' || ch === ']' || ch === '=' || ch === ';') return this.token(ch, at, at + 1);
      if (ch === '"' || ch === "'") {
        const raw = matchAt(STRING_RES[ch], text, at);
        if (raw) {
          const pos = this.pos(at);
          const decoded = dequoteXlString(raw, { file: this.file, pos }, this.problems);
          if (decoded === undefined) this.errorLines.add(this.line);
          return this.token('string', at, at + raw.length, decoded ?? '');
        }
      }
      this.lexicalError(at);
    }
  }

  private newline(start: number, end: number): XlToken {
    const t = this.token('newline', start, end);
    this.line++;
    this.lineStart = end;
    return t;
  }

  /** flex: the bad character plus the rest of its word form one error; lexing resumes after it. */
  private lexicalError(at: number, upTo?: number): void {
    let end = upTo ?? at + 1;
    while (end < this.text.length && !' \t\n'.includes(this.text[end])) end++;
    const word = this.text.slice(at, end);
    const hint = lexicalHint(this.text, at, word);
    // A CRLF file would give one error per line; the first one says all there is to say.
    if (hint.code !== 'xlcfg.crlf' || !this.sawCr) {
      // CRLF is about the whole file, not the statement it was noticed in.
      this.problems.error(hint.code, hint.message, { file: this.file, pos: this.pos(at) }, hint.code === 'xlcfg.crlf' ? undefined : this.currentKey);
    }
    if (hint.code === 'xlcfg.crlf') this.sawCr = true;
    this.errorLines.add(this.line);
    this.at = end;
  }
}

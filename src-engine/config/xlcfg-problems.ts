/**
 * Problems found in an xl.cfg file: errors (the config is refused) and warnings (it is accepted,
 * with something ignored or adjusted). Every problem carries the file name, a 1-based line and
 * column when it has a place in the text, and the key it concerns, and prints as
 * `FILE:LINE:COL: message (key KEY)`.
 */
import { ConfigError } from '../base/errors';

/** A place in an xl.cfg text: 1-based line and column, and the 0-based character offset. */
export interface SourcePos {
  line: number;
  col: number;
  offset: number;
}

/** A place in a named text (statements from `xl create` overrides live in "command line"). */
export interface Located {
  file: string;
  pos: SourcePos;
}

/** One finding about an xl.cfg file. */
export interface XlCfgProblem {
  severity: 'error' | 'warning';
  /** The file name as the caller gave it ("command line" for `xl create` overrides). */
  file: string;
  /** Where in the text; absent for problems about something missing from the whole file. */
  pos: SourcePos | undefined;
  /** The setting concerned, if any. */
  key: string | undefined;
  /** What is wrong and what to do, without the position prefix. */
  message: string;
  /** Stable tag for tests and APIs, e.g. "xlcfg.lexical", "domain.type-pv". */
  code: string;
}

/** Formats one problem the way compilers do: `FILE:LINE:COL: [warning: ]message (key KEY)`. */
export function formatProblem(p: XlCfgProblem): string {
  const where = p.pos ? `${p.file}:${p.pos.line}:${p.pos.col}` : p.file;
  const sev = p.severity === 'warning' ? 'warning: ' : '';
  const key = p.key !== undefined ? ` (key ${p.key})` : '';
  return `${where}: ${sev}${p.message}${key}`;
}

/**
 * Thrown when an xl.cfg text or a domain configuration is refused. The message lists every error
 * (one per line); `problems` has them as data, errors first, then any warnings found so far.
 */
export class XlCfgError extends ConfigError {
  /** Every problem found; the ones with severity "error" caused the refusal. */
  readonly problems: readonly XlCfgProblem[];

  constructor(problems: readonly XlCfgProblem[]) {
    const errors = problems.filter((p) => p.severity === 'error');
    const first = errors[0] ?? problems[0];
    super(first ? first.code : 'xlcfg.invalid', errors.map(formatProblem).join('\n'), first?.key ?? first?.file);
    this.problems = problems;
  }
}

/** Collects problems while a file is read, so that every error is reported at once. */
export class ProblemList {
  readonly items: XlCfgProblem[] = [];

  constructor(readonly file: string) {}

  /** Records an error at a place (or about the whole file when `at` is undefined). */
  error(code: string, message: string, at: Located | undefined, key?: string): void {
    this.items.push({ severity: 'error', file: at?.file ?? this.file, pos: at?.pos, key, message, code });
  }

  /** Records a warning at a place (or about the whole file when `at` is undefined). */
  warn(code: string, message: string, at: Located | undefined, key?: string): void {
    this.items.push({ severity: 'warning', file: at?.file ?? this.file, pos: at?.pos, key, message, code });
  }

  /** True when at least one error was recorded. */
  get hasErrors(): boolean {
    return this.items.some((p) => p.severity === 'error');
  }

  /** The warnings recorded so far. */
  get warnings(): XlCfgProblem[] {
    return this.items.filter((p) => p.severity === 'warning');
  }

  /** Throws an XlCfgError (errors first, in file order) if any error was recorded. */
  throwIfErrors(): void {
    if (!this.hasErrors) return;
    const errors = sortByPlace(this.items.filter((p) => p.severity === 'error'));
    throw new XlCfgError([...errors, ...this.warnings]);
  }
}

/** Orders problems by file (first seen first), then position; whole-file problems first. */
function sortByPlace(problems: XlCfgProblem[]): XlCfgProblem[] {
  const files = [...new Set(problems.map((p) => p.file))];
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => files.indexOf(a.p.file) - files.indexOf(b.p.file) || (a.p.pos?.offset ?? -1) - (b.p.pos?.offset ?? -1) || a.i - b.i)
    .map((x) => x.p);
}

/**
 * Problems the engine reports about an xl.cfg text (library.check, library.save), as the config
 * editor lists them. The engine formats each one as `FILE:LINE:COLUMN: [warning: ]MESSAGE`
 * (`FILE: MESSAGE` when it has no position); the editor already names the file, so it shows
 * `LINE:COLUMN MESSAGE` and can put the cursor there.
 */

/** One problem, split up. */
export interface CfgProblem {
  /** 1-based line and column, when the engine gave a position. */
  line: number | undefined;
  col: number | undefined;
  message: string;
  /** The engine's text, unchanged. */
  raw: string;
}

/** The position part of a problem: ":LINE:COLUMN: " after the file name. */
const POSITION_RE = /:(\d+):(\d+): /;
/** The severity tag the engine puts before a warning's message. */
const WARNING_TAG = 'warning: ';

/** Splits a problem into position and message. */
export function parseProblem(raw: string): CfgProblem {
  const m = POSITION_RE.exec(raw);
  let message = m ? raw.slice((m.index ?? 0) + m[0].length) : raw;
  if (message.startsWith(WARNING_TAG)) message = message.slice(WARNING_TAG.length);
  return { line: m ? Number(m[1]) : undefined, col: m ? Number(m[2]) : undefined, message, raw };
}

/** Offset in `text` of a 1-based line and column (clamped to the text). */
export function offsetOf(text: string, line: number, col = 1): number {
  const lines = text.split('\n');
  let pos = 0;
  for (let i = 0; i < Math.min(line - 1, lines.length); i++) pos += lines[i].length + 1;
  const here = lines[Math.min(line, lines.length) - 1] ?? '';
  return Math.min(pos + Math.max(0, Math.min(col - 1, here.length)), text.length);
}

/** The problems of a failed library.save: its message lists them one a line after a heading. */
export function problemsOfRefusal(message: string): string[] {
  const lines = message.split('\n').slice(1).filter((l) => l.trim() !== '');
  return lines.length > 0 ? lines : [message];
}

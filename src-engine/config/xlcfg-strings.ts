/**
 * Quoted strings of xl.cfg: decoding as libxlu does it (xlu__cfgl_dequote in
 * tools/libs/util/libxlu_cfg.c) and encoding for the writer.
 *
 * Escapes xl understands: \" \' \\ and \a \b \f \n \r \t \v. Its numeric escapes are broken and we
 * reproduce that rather than guess: `\x..` is always refused (the length check can never pass),
 * and an "octal" escape `\D..` (D = 0-7) is read as a decimal number of up to three more
 * characters that must supply at least two, and then dropped from the string altogether.
 * A file using them would behave differently under xl, so we warn or refuse exactly as xl does.
 */
import { ConfigError } from '../base/errors';
import { cStrtol } from './c-format';
import type { Located, ProblemList } from './xlcfg-problems';

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  "'": "'",
  '\\': '\\',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** Characters libxlu's "octal" escape reads after the first digit (NUMERIC_CHAR maxlen). */
const OCTAL_ESCAPE_MAX_CHARS = 3;
/** It refuses the escape unless strtoul consumed more than this many of them (minlen). */
const OCTAL_ESCAPE_MIN_CHARS = 1;

/**
 * Decodes a quoted STRING token (quotes included). Returns undefined after recording an error
 * when xl would refuse the string.
 */
export function dequoteXlString(raw: string, at: Located, problems: ProblemList): string | undefined {
  let out = '';
  const end = raw.length - 1;
  let p = 1;
  while (p < end) {
    const c = raw[p++];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const nc = raw[p++];
    const simple = SIMPLE_ESCAPES[nc];
    if (simple !== undefined) {
      out += simple;
    } else if (nc === 'x') {
      problems.error(
        'xlcfg.hex-escape',
        `\\x escapes are refused by xl (libxlu cannot parse them) in string ${raw}: write the character itself`,
        at,
      );
      return undefined;
    } else if (nc >= '0' && nc <= '7') {
      // The buffer holds the next characters of the token, closing quote included, as in C.
      const numbuf = raw.slice(p, p + OCTAL_ESCAPE_MAX_CHARS);
      const used = cStrtol(numbuf, 10).end;
      if (used <= OCTAL_ESCAPE_MIN_CHARS) {
        problems.error(
          'xlcfg.octal-escape',
          `invalid numeric escape \\${nc}${numbuf.replace(/['"]$/, '')} in string ${raw}: xl refuses it; write the character itself`,
          at,
        );
        return undefined;
      }
      problems.warn(
        'xlcfg.octal-escape-dropped',
        `the escape \\${nc}${raw.slice(p, p + used)} in string ${raw} is dropped by xl (a libxlu quirk): the string will not contain that character`,
        at,
      );
      p += used;
    } else {
      problems.error(
        'xlcfg.bad-escape',
        `invalid escape \\${nc} in string ${raw}: xl accepts \\" \\' \\\\ \\a \\b \\f \\n \\r \\t \\v only`,
        at,
      );
      return undefined;
    }
  }
  return out;
}

const WRITE_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Encodes text as an xl.cfg string literal with the given quote character. Refuses text that
 * xl.cfg cannot carry (a NUL character).
 */
export function quoteXlString(text: string, quote: '"' | "'" = '"'): string {
  if (text.includes('\0')) {
    throw new ConfigError('xlcfg.unwritable', `A NUL character cannot be written into an xl.cfg string: ${JSON.stringify(text)}`);
  }
  let out = quote;
  for (const ch of text) {
    if (ch === quote) out += `\\${quote}`;
    else out += WRITE_ESCAPES[ch] ?? ch;
  }
  return out + quote;
}

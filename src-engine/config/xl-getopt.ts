/**
 * GNU getopt_long as xl uses it (tools/xl/xl_utils.c def_getopt, opterr = 0): options and
 * operands may be mixed (operands are collected in order), `--` ends the options, a lone `-` is an
 * operand, short options cluster (`-fi`), an option's argument is the rest of its word or the next
 * word, long options take `--name=value` or `--name value` and may be abbreviated to any unique
 * prefix. The first bad option stops parsing with xl's words "option `X' not supported.";
 * -h / --help asks for help; too few operands gives "'xl VERB' requires at least N argument(s)."
 */

/** A long option: its name, whether it takes an argument, and the short letter it stands for. */
export interface XlLongOption {
  name: string;
  hasArg: boolean;
  short: string;
}

/** The outcome of parsing a verb's arguments, before the verb gives them meaning. */
export type XlGetoptResult =
  | { kind: 'ok'; options: Array<{ opt: string; arg: string | undefined }>; operands: string[] }
  | { kind: 'help' }
  | { kind: 'error'; message: string; exitCode: number; showHelp: boolean };

/** What a verb parser returns: an action to perform, a request for help, or xl's error text. */
export type XlArgsResult<A> =
  | { kind: 'ok'; action: A }
  | { kind: 'help' }
  | { kind: 'error'; message: string; exitCode: number; showHelp: boolean };

/** xl's exit code for a refused option or missing operand (def_getopt exits 2). */
export const EXIT_USAGE = 2;
/** EXIT_FAILURE, what xl's verbs return after printing an error. */
export const EXIT_FAILURE = 1;

const HELP: XlLongOption = { name: 'help', hasArg: false, short: 'h' };

function notSupported(what: string): XlGetoptResult {
  return { kind: 'error', message: `option \`${what}' not supported.`, exitCode: EXIT_USAGE, showHelp: false };
}

/**
 * Parses `args` (the words after the verb) with the short option string (e.g. "d:w:c:s", without
 * xl's implicit "h") and long options, then checks that at least `required` operands remain.
 */
export function xlGetopt(args: readonly string[], shortSpec: string, longs: readonly XlLongOption[], verb: string, required: number, prog = 'xl'): XlGetoptResult {
  const takesArg = new Map<string, boolean>([['h', false]]);
  for (let i = 0; i < shortSpec.length; i++) {
    if (shortSpec[i] === ':') continue;
    takesArg.set(shortSpec[i], shortSpec[i + 1] === ':');
  }
  const allLongs = [...longs, HELP];
  const options: Array<{ opt: string; arg: string | undefined }> = [];
  const operands: string[] = [];
  let i = 0;
  while (i < args.length) {
    const word = args[i++];
    if (word === '--') {
      operands.push(...args.slice(i));
      break;
    }
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = word.slice(2, eq < 0 ? undefined : eq);
      const exact = allLongs.find((l) => l.name === name);
      const prefixed = allLongs.filter((l) => l.name.startsWith(name));
      const opt = exact ?? (prefixed.length === 1 ? prefixed[0] : undefined);
      if (!opt) return notSupported(word.slice(0, eq < 0 ? undefined : eq)); // xl prints optopt = NUL here
      let arg: string | undefined;
      if (opt.hasArg) {
        if (eq >= 0) arg = word.slice(eq + 1);
        else if (i < args.length) arg = args[i++];
        else return notSupported(opt.short);
      } else if (eq >= 0) {
        return notSupported(opt.short);
      }
      if (opt.short === 'h') return { kind: 'help' };
      options.push({ opt: opt.short, arg });
      continue;
    }
    if (word.startsWith('-') && word.length > 1) {
      for (let k = 1; k < word.length; k++) {
        const ch = word[k];
        const hasArg = takesArg.get(ch);
        if (hasArg === undefined) return notSupported(ch);
        if (ch === 'h') return { kind: 'help' };
        if (!hasArg) {
          options.push({ opt: ch, arg: undefined });
          continue;
        }
        let arg = word.slice(k + 1);
        if (arg === '') {
          if (i >= args.length) return notSupported(ch);
          arg = args[i++];
        }
        options.push({ opt: ch, arg });
        break;
      }
      continue;
    }
    operands.push(word);
  }
  if (operands.length < required) {
    return {
      kind: 'error',
      message: `'${prog} ${verb}' requires at least ${required} argument${required > 1 ? 's' : ''}.\n`,
      exitCode: EXIT_USAGE,
      showHelp: true,
    };
  }
  return { kind: 'ok', options, operands };
}

/** An xl error result (EXIT_FAILURE unless said otherwise). */
export function xlError<A>(message: string, exitCode = EXIT_FAILURE): XlArgsResult<A> {
  return { kind: 'error', message, exitCode, showHelp: false };
}

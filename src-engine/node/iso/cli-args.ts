/**
 * A small command-line parser for `domus mkrescue` and `domus mkiso`, in the style of GNU argp
 * (what grub-mkrescue uses) plus mkisofs's single-dash long options: `--name=value`,
 * `--name value`, `-o value`, `-ovalue`, `-volid value`, and `--` ending the options.
 */
import { errorMessage, IsoError } from '../../base/errors';
import type { CliIo } from '../cli-io';

/** One accepted option. */
export interface OptionSpec {
  /** Spellings, e.g. ["-o", "--output"]. */
  names: readonly string[];
  /** Whether it takes a value. */
  value: boolean;
}

/** Parsed arguments: each option by its first spelling, with every value given. */
export interface ParsedArgs {
  options: Map<string, string[]>;
  positional: string[];
}

/** A command line that cannot be understood; the command prints it with a usage hint. */
export class CliUsageError extends Error {}

/** Parses `args` against `specs`. Unknown options are refused. */
export function parseCliArgs(args: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const byName = new Map<string, OptionSpec>();
  for (const s of specs) for (const n of s.names) byName.set(n, s);
  const options = new Map<string, string[]>();
  const positional: string[] = [];
  const put = (spec: OptionSpec, v: string) => {
    const key = spec.names[0];
    options.set(key, [...(options.get(key) ?? []), v]);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    let spec = byName.get(a);
    let inline: string | undefined;
    if (!spec && a.startsWith('--') && a.includes('=')) {
      spec = byName.get(a.slice(0, a.indexOf('=')));
      inline = a.slice(a.indexOf('=') + 1);
    }
    if (!spec && !a.startsWith('--') && a.length > 2) {
      const short = byName.get(a.slice(0, 2));
      if (short?.value) {
        spec = short;
        inline = a.slice(2);
      }
    }
    if (!spec) throw new CliUsageError(`unknown option ${a}`);
    if (!spec.value) {
      if (inline !== undefined) throw new CliUsageError(`option ${spec.names[0]} takes no value`);
      put(spec, '');
      continue;
    }
    if (inline === undefined) {
      if (i + 1 >= args.length) throw new CliUsageError(`option ${a} needs a value`);
      inline = args[++i];
    }
    put(spec, inline);
  }
  return { options, positional };
}

/** The last value of an option, or undefined. */
export function lastValue(p: ParsedArgs, name: string): string | undefined {
  return p.options.get(name)?.at(-1);
}

/** Whether a flag was given. */
export function hasFlag(p: ParsedArgs, name: string): boolean {
  return p.options.has(name);
}

/** A whole number in [min, max], or a usage error naming the option. */
export function intValue(text: string, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new CliUsageError(`${option} needs a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}; got "${text}"`);
  }
  return Number(text);
}

/** grub-install-style module lists: names separated by blanks or commas, over all occurrences. */
export function moduleList(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  return values.flatMap((v) => v.split(/[\s,]+/)).filter((s) => s !== '');
}

/**
 * xorriso's --modification-date=YYYYMMDDhhmmsscc (UTC) as ms since the epoch. Also accepts a
 * 14-digit form without hundredths.
 */
export function parseModificationDate(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/.exec(text);
  if (!m) throw new CliUsageError(`--modification-date needs YYYYMMDDhhmmsscc (UTC); got "${text}"`);
  const [y, mo, d, h, mi, s, cc] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x)));
  const t = Date.UTC(y, mo - 1, d, h, mi, s, cc * 10);
  const back = new Date(t);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw new CliUsageError(`--modification-date ${text} is not a valid date`);
  }
  return t;
}

/** Writes "domus NAME: message" to stderr and returns the exit code for it. */
export function reportCliError(io: CliIo, name: string, err: unknown): number {
  if (err instanceof CliUsageError) {
    io.err(`domus ${name}: ${err.message}\nTry 'domus ${name} --help'.\n`);
    return 2;
  }
  io.err(`domus ${name}: ${errorMessage(err)}\n`);
  return err instanceof IsoError ? 1 : 70;
}


/**
 * Option parsing of `xl sched-credit`, `xl sched-credit2` and `xl sched-rtds`
 * (tools/xl/xl_sched.c), returning what to do or xl's error text (spec/schedulers.md 3.3, 8.3,
 * 8.4). Numbers are read with strtol(optarg, NULL, 10) as xl does, so junk reads as 0 and is
 * refused later by the range checks of sched-limits.ts, like libxl would.
 *
 * Deviation on purpose: xl's getopt string gives sched-rtds `-c` no argument (a bug that makes
 * `-c POOL` do nothing); here `-c POOL` works like `--cpupool=POOL` (spec 3.3).
 */
import { cAtoiLike } from './c-format';
import { xlError, xlGetopt, type XlArgsResult } from './xl-getopt';

/** What `xl sched-credit` was asked to do. */
export type SchedCreditAction =
  | { kind: 'list'; pool: string | undefined }
  | { kind: 'show-domain'; domain: string }
  | { kind: 'set-domain'; domain: string; weight: number | undefined; cap: number | undefined }
  | { kind: 'show-params'; pool: string | undefined }
  | { kind: 'set-params'; pool: string | undefined; tsliceMs: number | undefined; ratelimitUs: number | undefined; migrationDelayUs: number | undefined };

/** What `xl sched-credit2` was asked to do (no time slice or migration delay). */
export type SchedCredit2Action =
  | { kind: 'list'; pool: string | undefined }
  | { kind: 'show-domain'; domain: string }
  | { kind: 'set-domain'; domain: string; weight: number | undefined; cap: number | undefined }
  | { kind: 'show-params'; pool: string | undefined }
  | { kind: 'set-params'; pool: string | undefined; ratelimitUs: number };

/** Per-vCPU RTDS parameters to set. */
export interface RtdsVcpuParams {
  vcpu: number;
  periodUs: number;
  budgetUs: number;
  extratime: boolean;
}

/** What `xl sched-rtds` was asked to do. */
export type SchedRtdsAction =
  | { kind: 'list'; pool: string | undefined }
  | { kind: 'list-vcpus'; pool: string | undefined }
  | { kind: 'show-domain'; domain: string }
  | { kind: 'show-vcpus'; domain: string; vcpus: number[] | 'all' }
  | { kind: 'set-vcpus'; domain: string; params: RtdsVcpuParams[] }
  | { kind: 'set-all-vcpus'; domain: string; periodUs: number; budgetUs: number; extratime: boolean };

/** Last value of an option, and whether it was given. */
function last(options: Array<{ opt: string; arg: string | undefined }>, opt: string): string | undefined {
  let v: string | undefined;
  for (const o of options) if (o.opt === opt) v = o.arg ?? '';
  return v;
}

const num = (s: string | undefined) => (s === undefined ? undefined : cAtoiLike(s));

/** Parses the words after `sched-credit`. */
export function parseSchedCreditArgs(args: readonly string[], prog = 'xl'): XlArgsResult<SchedCreditAction> {
  const g = xlGetopt(args, 'd:w:c:p:t:r:m:s', [
    { name: 'domain', hasArg: true, short: 'd' },
    { name: 'weight', hasArg: true, short: 'w' },
    { name: 'cap', hasArg: true, short: 'c' },
    { name: 'schedparam', hasArg: false, short: 's' },
    { name: 'tslice_ms', hasArg: true, short: 't' },
    { name: 'ratelimit_us', hasArg: true, short: 'r' },
    { name: 'migration_delay_us', hasArg: true, short: 'm' },
    { name: 'cpupool', hasArg: true, short: 'p' },
  ], 'sched-credit', 0, prog);
  if (g.kind !== 'ok') return g;
  const o = g.options;
  const dom = last(o, 'd');
  const pool = last(o, 'p');
  const s = o.some((x) => x.opt === 's');
  const weight = num(last(o, 'w'));
  const cap = num(last(o, 'c'));
  const tslice = num(last(o, 't'));
  const ratelimit = num(last(o, 'r'));
  const migr = num(last(o, 'm'));
  if ((pool !== undefined || s) && (dom !== undefined || weight !== undefined || cap !== undefined)) {
    return xlError('Specifying a cpupool or schedparam is not allowed with domain options.');
  }
  if (dom === undefined && (weight !== undefined || cap !== undefined)) return xlError('Must specify a domain.');
  if (!s && (tslice !== undefined || ratelimit !== undefined || migr !== undefined)) {
    return xlError('Must specify schedparam to set schedule parameter values.');
  }
  let action: SchedCreditAction;
  if (s) {
    action =
      tslice === undefined && ratelimit === undefined && migr === undefined
        ? { kind: 'show-params', pool }
        : { kind: 'set-params', pool, tsliceMs: tslice, ratelimitUs: ratelimit, migrationDelayUs: migr };
  } else if (dom === undefined) {
    action = { kind: 'list', pool };
  } else {
    action = weight === undefined && cap === undefined ? { kind: 'show-domain', domain: dom } : { kind: 'set-domain', domain: dom, weight, cap };
  }
  return { kind: 'ok', action };
}

/** Parses the words after `sched-credit2`. */
export function parseSchedCredit2Args(args: readonly string[], prog = 'xl'): XlArgsResult<SchedCredit2Action> {
  const g = xlGetopt(args, 'd:w:c:p:r:s', [
    { name: 'domain', hasArg: true, short: 'd' },
    { name: 'weight', hasArg: true, short: 'w' },
    { name: 'cap', hasArg: true, short: 'c' },
    { name: 'schedparam', hasArg: false, short: 's' },
    { name: 'ratelimit_us', hasArg: true, short: 'r' },
    { name: 'cpupool', hasArg: true, short: 'p' },
  ], 'sched-credit2', 0, prog);
  if (g.kind !== 'ok') return g;
  const o = g.options;
  const dom = last(o, 'd');
  const pool = last(o, 'p');
  const s = o.some((x) => x.opt === 's');
  const weight = num(last(o, 'w'));
  const cap = num(last(o, 'c'));
  const ratelimit = num(last(o, 'r'));
  if (pool !== undefined && (dom !== undefined || weight !== undefined || cap !== undefined)) {
    return xlError('Specifying a cpupool is not allowed with other options.');
  }
  if (dom === undefined && (weight !== undefined || cap !== undefined)) return xlError('Must specify a domain.');
  let action: SchedCredit2Action;
  if (s) action = ratelimit === undefined ? { kind: 'show-params', pool } : { kind: 'set-params', pool, ratelimitUs: ratelimit };
  else if (dom === undefined) action = { kind: 'list', pool }; // xl ignores -r without -s
  else action = weight === undefined && cap === undefined ? { kind: 'show-domain', domain: dom } : { kind: 'set-domain', domain: dom, weight, cap };
  return { kind: 'ok', action };
}

/** Parses the words after `sched-rtds`. */
export function parseSchedRtdsArgs(args: readonly string[], prog = 'xl'): XlArgsResult<SchedRtdsAction> {
  const g = xlGetopt(args, 'd:p:b:e:v:c:', [
    { name: 'domain', hasArg: true, short: 'd' },
    { name: 'period', hasArg: true, short: 'p' },
    { name: 'budget', hasArg: true, short: 'b' },
    { name: 'extratime', hasArg: true, short: 'e' },
    { name: 'vcpuid', hasArg: true, short: 'v' },
    { name: 'cpupool', hasArg: true, short: 'c' },
  ], 'sched-rtds', 0, prog);
  if (g.kind !== 'ok') return g;
  let dom: string | undefined;
  let pool: string | undefined;
  const vcpus: number[] = [];
  const periods: number[] = [];
  const budgets: number[] = [];
  const extratimes: boolean[] = [];
  let all = false;
  for (const { opt, arg = '' } of g.options) {
    if (opt === 'd') dom = arg;
    else if (opt === 'p') periods.push(cAtoiLike(arg));
    else if (opt === 'b') budgets.push(cAtoiLike(arg));
    else if (opt === 'e') {
      if (arg !== '0' && arg !== '1') return xlError('Invalid extratime.');
      extratimes.push(arg === '1');
    } else if (opt === 'v') {
      if (arg === 'all') all = true;
      else vcpus.push(cAtoiLike(arg));
    } else if (opt === 'c') pool = arg;
  }
  const optP = periods.length > 0;
  const optB = budgets.length > 0;
  const optE = extratimes.length > 0;
  const optV = vcpus.length > 0;
  if (pool !== undefined && (dom !== undefined || optP || optB || optE || optV || all)) {
    return xlError('Specifying a cpupool is not allowed with other options.');
  }
  if (dom === undefined && (optP || optB || optE || optV)) return xlError('Missing parameters.');
  if (dom !== undefined && !optV && !all && (optP || optB || optE)) return xlError('Must specify VCPU.');
  if (optV && all) return xlError('Incorrect VCPU IDs.');
  const n = vcpus.length;
  if ((n > budgets.length && optB) || (n > periods.length && optP) || (n > extratimes.length && optE) || periods.length !== budgets.length || periods.length !== extratimes.length) {
    return xlError('Incorrect number of period, budget and extratime');
  }
  let action: SchedRtdsAction;
  if (dom === undefined) action = all ? { kind: 'list-vcpus', pool } : { kind: 'list', pool };
  else if (!optV && !all) action = { kind: 'show-domain', domain: dom };
  else if (!optP && !optB && !optE) action = { kind: 'show-vcpus', domain: dom, vcpus: optV ? vcpus : 'all' };
  else if (optV) {
    action = { kind: 'set-vcpus', domain: dom, params: vcpus.map((vcpu, i) => ({ vcpu, periodUs: periods[i], budgetUs: budgets[i], extratime: extratimes[i] })) };
  } else {
    action = { kind: 'set-all-vcpus', domain: dom, periodUs: periods[0], budgetUs: budgets[0], extratime: extratimes[0] };
  }
  return { kind: 'ok', action };
}

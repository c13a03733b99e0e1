/**
 * Argument parsing of `xl vcpu-pin [-f|--force] [-i|--ignore-global-affinity-masks] DOMAIN VCPU
 * HARD [SOFT]` (tools/xl/xl_vcpu.c main_vcpupin) and its dry-run output `cpumap: HARD[ SOFT]`
 * (`xl -N vcpu-pin`), plus the split of `xl create` arguments into the config file and
 * key=value overrides (xl_vmcontrol.c main_create).
 */
import { formatCpuSet, parseCpuList, type CpuSet, type CpuTopology } from '../base/cpulist';
import { cStrtol } from './c-format';
import { checkCpuList } from './domain-config-devices';
import { EXIT_USAGE, xlError, xlGetopt, type XlArgsResult } from './xl-getopt';

/** A parsed vcpu-pin request. */
export interface VcpuPinAction {
  domain: string;
  /** A vCPU number, or every vCPU. */
  vcpu: number | 'all';
  /** New hard affinity; undefined = leave unchanged ("-"). */
  hard: CpuSet | undefined;
  /** New soft affinity; undefined = leave unchanged ("-" or not given). */
  soft: CpuSet | undefined;
  force: boolean;
  /** -i: do not AND the global affinity masks of xl.conf into the hard affinity. */
  ignoreGlobalMasks: boolean;
}

/**
 * xl's parse_cpurange: items separated by commas (empty ones skipped, as strtok does), pCPUs
 * beyond the host dropped (libxl_bitmap_set ignores them). Returns the set or xl's error text.
 */
export function parseXlCpuRange(text: string, topology: CpuTopology): CpuSet | string {
  const problem = checkCpuList(text, topology);
  if (problem) return problem;
  const items = text.split(',').filter((s) => s !== '');
  if (items.length === 0) return [];
  return parseCpuList(items.join(','), topology).filter((c) => c < topology.nrCpus);
}

/** Parses the words after `vcpu-pin`. */
export function parseVcpuPinArgs(args: readonly string[], topology: CpuTopology, prog = 'xl'): XlArgsResult<VcpuPinAction> {
  const g = xlGetopt(args, 'fi', [
    { name: 'force', hasArg: false, short: 'f' },
    { name: 'ignore-global-affinity-masks', hasArg: false, short: 'i' },
  ], 'vcpu-pin', 3, prog);
  if (g.kind !== 'ok') return g;
  const force = g.options.some((o) => o.opt === 'f');
  const ignoreGlobalMasks = g.options.some((o) => o.opt === 'i');
  const [domain, vcpuText, hardText, softText] = g.operands;
  const v = cStrtol(vcpuText, 10);
  let vcpu: number | 'all';
  if (v.end === 0 || v.value < 0n) {
    if (vcpuText !== 'all') return xlError(`Error: Invalid argument ${vcpuText} as VCPU.`);
    if (force) return xlError("Error: --force and 'all' as VCPU not allowed.");
    vcpu = 'all';
  } else {
    vcpu = Number(v.value);
  }
  let hard: CpuSet | undefined;
  if (hardText !== '-') {
    const h = parseXlCpuRange(hardText, topology);
    if (typeof h === 'string') return xlError(h);
    hard = h;
  }
  let soft: CpuSet | undefined;
  if (softText !== undefined && softText !== '-') {
    const s = parseXlCpuRange(softText, topology);
    if (typeof s === 'string') return xlError(s);
    soft = s;
  }
  return { kind: 'ok', action: { domain, vcpu, hard, soft, force, ignoreGlobalMasks } };
}

/** What `xl -N vcpu-pin` prints: "cpumap: " HARD (or "-") [" " SOFT] "\n" over nrCpus pCPUs. */
export function formatVcpuPinDryRun(a: Pick<VcpuPinAction, 'hard' | 'soft'>, nrCpus: number): string {
  const hard = a.hard ? formatCpuSet(a.hard, nrCpus) : '-';
  const soft = a.soft ? ` ${formatCpuSet(a.soft, nrCpus)}` : '';
  return `cpumap: ${hard}${soft}\n`;
}

/** `xl create [options] [FILE] [key=value ...]` operands: the file and the overrides. */
export interface CreateOperands {
  configFile: string | undefined;
  overrides: string[];
}

/**
 * Splits the operands of `xl create` as xl does: a word containing "=" is an override, the first
 * other word is the config file, a second one is a usage error.
 */
export function splitCreateOperands(operands: readonly string[]): XlArgsResult<CreateOperands> {
  let configFile: string | undefined;
  const overrides: string[] = [];
  for (const w of operands) {
    if (w.includes('=')) overrides.push(w);
    else if (configFile === undefined) configFile = w;
    else return { kind: 'error', message: `unexpected argument \`${w}': give one config file and key=value settings`, exitCode: EXIT_USAGE, showHelp: true };
  }
  return { kind: 'ok', action: { configFile, overrides } };
}

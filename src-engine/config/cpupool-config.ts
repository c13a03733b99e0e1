/**
 * Cpupool configuration files, xlcpupool.cfg(5), read as `xl cpupool-create [FILE] [key=value...]`
 * reads them (tools/xl/xl_cpupool.c main_cpupoolcreate; spec/schedulers.md section 6): the xl.cfg
 * grammar with the keys name=, sched=, cpus= and nodes=.
 *
 *   name=   mandatory, but defaults to the file's base name (libxl_basename: no extension removed)
 *   sched=  credit | credit2 | rtds | arinc653 | null, any case; default: the system's scheduler
 *   nodes=  a list of node numbers (each read with atoi); takes precedence over cpus=
 *   cpus=   a list of pCPU numbers (each read with atoi, so "2-3" is 2) or a CPU-list string
 *
 * With neither cpus= nor nodes= the pool is created empty (xlcpupool.cfg(5) says "first free cpu":
 * DOC != CODE, the code wins). Which pCPUs are free is known only to the hypervisor, so the final
 * check is resolveCpupoolCpus(), with xl's messages.
 */
import type { CpuSet, CpuTopology } from '../base/cpulist';
import { cAtoiLike } from './c-format';
import { checkCpuList } from './domain-config-devices';
import type { OtherSettingValue } from '../api/domain-config';
import { COMMAND_LINE_FILE } from './domain-config-parse';
import type { XlCfgDocument, XlStatement } from './xlcfg-ast';
import { parseXlCfgInto, resolveSettings } from './xlcfg-parser';
import { ProblemList, type XlCfgProblem } from './xlcfg-problems';
import { SettingReader } from './xlcfg-reader';
import { xlValueToInput } from './xlcfg-writer';
import { parseXlCpuRange } from './xl-args-vcpu';

/** Scheduler names of libxl_types.idl that a pool can use. */
export type SchedulerName = 'credit' | 'credit2' | 'rtds' | 'arinc653' | 'null';

/** Every scheduler a pool can use, in libxl's order. */
export const SCHEDULER_NAMES: readonly SchedulerName[] = ['credit', 'credit2', 'arinc653', 'rtds', 'null'];

/** A parsed cpupool configuration. */
export interface CpupoolConfig {
  name: string;
  /** undefined = the system default scheduler (Pool-0's). */
  sched: SchedulerName | undefined;
  /** cpus= as written: a CPU-list string, or pCPU numbers from a list. */
  cpus: string | number[] | undefined;
  /** nodes= node numbers; when present cpus= is not used. */
  nodes: number[] | undefined;
  /** Other keys, kept (and warned about). */
  otherSettings: Record<string, OtherSettingValue>;
}

const KEYS = ['name', 'sched', 'cpus', 'nodes'];

/** Reads a list item the way atoi does, warning when text after the number is ignored. */
function atoiItem(r: SettingReader, key: string, text: string, s: Parameters<SettingReader['warn']>[0], at: Parameters<SettingReader['warn']>[3]): number {
  if (!/^\s*[+-]?\d+$/.test(text)) r.warn(s, 'cpupool.atoi', `${key} item "${text}" is read by xl as ${cAtoiLike(text)} (only its leading number counts)`, at);
  return cAtoiLike(text);
}

/**
 * Parses a cpupool configuration. `file` names it in messages and gives the default name;
 * with only overrides (no file) pass file "command line" and name= is then mandatory.
 */
export function parseCpupoolConfig(
  text: string,
  options: { file?: string; overrides?: readonly string[]; topology?: CpuTopology } = {},
): { config: CpupoolConfig; warnings: XlCfgProblem[]; document: XlCfgDocument } {
  const file = options.file ?? COMMAND_LINE_FILE;
  const problems = new ProblemList(file);
  const document = parseXlCfgInto(text, file, problems);
  let statements: XlStatement[] = document.statements;
  if (options.overrides?.length) statements = [...statements, ...parseXlCfgInto(`${options.overrides.join('\n')}\n`, COMMAND_LINE_FILE, problems).statements];
  problems.throwIfErrors();
  const r = new SettingReader(resolveSettings(statements, problems), problems);

  let name = r.string('name');
  if (name === undefined && !r.settings.has('name')) {
    if (file !== COMMAND_LINE_FILE) name = file.slice(file.lastIndexOf('/') + 1);
    else problems.error('cpupool.no-name', 'Missing cpupool name!', undefined, 'name');
  }

  let sched: SchedulerName | undefined;
  const sa = r.atom('sched');
  if (sa) {
    const v = sa.a.text.toLowerCase();
    sched = SCHEDULER_NAMES.find((n) => n === v);
    if (!sched) {
      const why = v === 'sedf' ? 'the SEDF scheduler no longer exists' : `use ${SCHEDULER_NAMES.join(', ')}`;
      r.error(sa.s, 'cpupool.sched', `Unknown scheduler "${sa.a.text}": ${why}`);
    }
  }

  let nodes: number[] | undefined;
  const nl = r.stringList('nodes', false);
  if (nl) nodes = nl.items.map((a) => atoiItem(r, 'nodes', a.text, nl.s, a));

  let cpus: string | number[] | undefined;
  const cl = r.stringList('cpus', true);
  if (cl && cl.s.value.kind === 'atom') {
    cpus = cl.items[0].text;
    const problem = checkCpuList(cpus, options.topology);
    if (problem) r.error(cl.s, 'cpus.invalid', `${JSON.stringify(cpus)}: ${problem}`);
  } else if (cl) {
    cpus = cl.items.map((a) => atoiItem(r, 'cpus', a.text, cl.s, a));
  }
  if (nodes && cl) r.warn(cl.s, 'cpupool.cpus-ignored', 'cpus= is ignored because nodes= is given');

  const otherSettings: Record<string, OtherSettingValue> = {};
  for (const [key, s] of r.settings) {
    if (KEYS.includes(key)) continue;
    otherSettings[key] = xlValueToInput(s.value);
    r.warn(s, 'xlcfg.unknown-key', `unknown cpupool key ${key}: kept in the file, ignored`);
  }
  problems.throwIfErrors();
  return { config: { name: name ?? '', sched, cpus, nodes, otherSettings }, warnings: problems.warnings, document };
}

/**
 * The pCPUs a new pool gets, checked against the host's free pCPUs as xl does:
 * "cpu N illegal or not free", "no free cpu found" (nodes= with nothing free). Returns the set or
 * xl's error text.
 */
export function resolveCpupoolCpus(c: CpupoolConfig, topology: CpuTopology, free: CpuSet): CpuSet | string {
  const isFree = (cpu: number) => free.includes(cpu);
  if (c.nodes) {
    const nodeCpus = topology.nodes ?? [Array.from({ length: topology.nrCpus }, (_, i) => i)];
    const cpus = [...new Set(c.nodes.flatMap((n) => [...(nodeCpus[n] ?? [])]))].filter(isFree).sort((a, b) => a - b);
    return cpus.length === 0 ? 'no free cpu found' : cpus;
  }
  if (c.cpus === undefined) return [];
  const wanted = typeof c.cpus === 'string' ? parseXlCpuRange(c.cpus, topology) : c.cpus;
  if (typeof wanted === 'string') return wanted;
  for (const cpu of wanted) if (cpu < 0 || !isFree(cpu)) return `cpu ${cpu} illegal or not free`;
  return [...new Set(wanted)].sort((a, b) => a - b);
}

/** What `xl cpupool-create` prints before creating the pool. */
export function formatCpupoolCreate(configSource: string, name: string, sched: SchedulerName, nCpus: number): string {
  return `Using config file "${configSource}"\ncpupool name:   ${name}\nscheduler:      ${sched}\nnumber of cpus: ${nCpus}\n`;
}

/**
 * xl.cfg text -> DomainConfig, with xl's defaults and rules (tools/xl/xl_parse.c
 * parse_config_data, libxl defaults, spec/schedulers.md section 7.1). Every error in the file is
 * collected before anything is returned: either a complete, valid config comes back, or an
 * XlCfgError listing each problem as FILE:LINE:COL: message (key KEY). Unknown keys and keys Domus
 * does not support yet are kept (DomainConfig.otherSettings) and reported as warnings.
 */
import type { CpuTopology } from '../base/cpulist';
import type { CpuAffinityConfig, DomainConfig, DomainGuestType, OtherSettingValue, ShutdownAction, TscMode } from '../api/domain-config';
import { checkRtdsParams, checkWeightCap } from './sched-limits';
import { readAffinity, readBoot, readDisks, readSerial, readVifs } from './domain-config-devices';
import type { XlCfgDocument, XlStatement } from './xlcfg-ast';
import { xlKeyInfo } from './xlcfg-keys';
import { parseXlCfgInto, resolveSettings } from './xlcfg-parser';
import { ProblemList, type XlCfgProblem } from './xlcfg-problems';
import { SettingReader } from './xlcfg-reader';
import { xlValueToInput } from './xlcfg-writer';

/** libxl's memory default when neither memory= nor maxmem= is given (libxl_create.c), MiB. */
export const DEFAULT_MEMORY_MIB = 32;
/** Default credit/credit2 weight (spec/schedulers.md 1.1). */
export const DEFAULT_CPU_WEIGHT = 256;
/** Xen's limit on vCPUs of an HVM/PVH guest (HVM_MAX_VCPUS, public/hvm/hvm_info_table.h). */
export const HVM_MAX_VCPUS = 128;
/** RTDS default budget, us; xl.cfg cannot change it (no budget= key), spec 3.1/3.3. */
export const RTDS_DEFAULT_BUDGET_US = 4000;
/** Largest memory= we accept, MiB: 16 TiB, the most RAM an x86 Xen host supports by default. */
export const MAX_MEMORY_MIB = 16 * 1024 * 1024;
/** Characters below this code (C0 controls) may not appear in a domain name. */
const FIRST_PRINTABLE = 0x20;
/** Name of the pseudo-file that holds `xl create` key=value overrides (xl calls it that too). */
export const COMMAND_LINE_FILE = 'command line';

/** Keys the typed model reads; every other key goes to otherSettings. */
export const TYPED_KEYS: readonly string[] = [
  'name', 'uuid', 'type', 'builder', 'pool', 'cpu_weight', 'cap', 'period', 'extratime', 'memory', 'maxmem',
  'vcpus', 'maxvcpus', 'cpus', 'cpus_soft', 'on_poweroff', 'on_reboot', 'on_watchdog', 'on_crash', 'tsc_mode',
  'kernel', 'ramdisk', 'cmdline', 'root', 'extra', 'boot', 'serial', 'nographic', 'disk', 'vif',
];

/** Options for parseDomainConfig. */
export interface ParseDomainConfigOptions {
  /** Name used in messages (default "xl.cfg"). */
  file?: string;
  /** `xl create FILE key=value ...` overrides, applied after the file as xl does. */
  overrides?: readonly string[];
  /** Host topology: when given, cpus=/cpus_soft= lists are also resolved against it. */
  topology?: CpuTopology;
}

/** A parsed domain configuration with its warnings and the document it came from. */
export interface DomainConfigParseResult {
  config: DomainConfig;
  warnings: XlCfgProblem[];
  /** The file's document (without the overrides), for writing changes back. */
  document: XlCfgDocument;
}

const ACTIONS_IMPLEMENTED: readonly ShutdownAction[] = ['destroy', 'restart', 'rename-restart', 'preserve'];
const ACTIONS_NOT_YET = ['coredump-destroy', 'coredump-restart', 'soft-reset'];
const TSC_MODES: readonly TscMode[] = ['default', 'always_emulate', 'native', 'native_paravirt'];
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** xl compares with strncmp(buf, name, strlen(buf)): any prefix of the name selects it. */
function isPrefixOf(text: string, name: string): boolean {
  return name.startsWith(text);
}

function readType(r: SettingReader): DomainGuestType | undefined {
  let type: 'hvm' | 'pv' | 'pvh' | undefined;
  const t = r.atom('type');
  if (t) {
    const v = t.a.text;
    type = isPrefixOf(v, 'hvm') ? 'hvm' : isPrefixOf(v, 'pv') ? 'pv' : isPrefixOf(v, 'pvh') ? 'pvh' : undefined;
    if (!type) r.error(t.s, 'domain.type-invalid', `Invalid domain type "${v}": use "hvm" or "pvh"`);
    else if (v !== type) r.warn(t.s, 'domain.type-abbrev', `type = "${v}" is read by xl as "${type}"; write it in full`);
  }
  const b = r.atom('builder');
  if (b) {
    const v = b.a.text;
    const bt = isPrefixOf(v, 'hvm') ? 'hvm' : isPrefixOf(v, 'generic') ? 'pv' : undefined;
    if (!bt) r.error(b.s, 'domain.builder-invalid', `Invalid domain type "${v}" in builder=: use type = "hvm" or "pvh"`);
    else if (type && type !== bt) r.error(b.s, 'domain.builder-contradicts', 'Contradicting "builder" and "type" options specified.');
    else {
      r.warn(b.s, 'domain.builder-deprecated', `builder= is deprecated since Xen 4.10: write type = "${bt}"`);
      type = bt;
    }
  }
  if (type === 'pv') {
    const s = t?.s ?? b?.s;
    if (!s) return undefined;
    r.error(s, 'domain.type-pv', 'classic PV guests (type = "pv") are not supported yet: use type = "pvh" with a PVH kernel, or type = "hvm"');
    return undefined;
  }
  if (!r.settings.has('type') && !r.settings.has('builder')) {
    r.problems.error(
      'domain.type-pv',
      'no type= given, and xl\'s default on x86 is "pv", which is not supported yet: add type = "hvm" or type = "pvh"',
      undefined,
      'type',
    );
    return undefined;
  }
  return type;
}

function readAction(r: SettingReader, key: string, def: ShutdownAction): ShutdownAction {
  const a = r.atom(key);
  if (!a) return def;
  const v = a.a.text;
  const ok = ACTIONS_IMPLEMENTED.find((x) => x === v);
  if (ok) return ok;
  if (ACTIONS_NOT_YET.includes(v)) {
    r.error(a.s, 'domain.action-not-yet', `${key} = "${v}" is not supported yet: use ${ACTIONS_IMPLEMENTED.join(', ')}`);
  } else {
    r.error(a.s, 'domain.action-unknown', `Unknown ${key} action "${v}" specified: use ${ACTIONS_IMPLEMENTED.join(', ')}`);
  }
  return def;
}

function readTscMode(r: SettingReader): TscMode {
  const a = r.atom('tsc_mode');
  if (!a) return 'default';
  const v = a.a.text;
  const named = TSC_MODES.find((m) => m === v.toLowerCase()); // libxl compares with strcasecmp
  let mode: TscMode | undefined = named;
  if (!named) {
    const n = r.long('tsc_mode');
    if (n === undefined) return 'default'; // error already recorded
    mode = TSC_MODES[n];
    if (mode === undefined) {
      r.error(a.s, 'domain.tsc-mode', `invalid value ${n} for tsc_mode: use "default", "always_emulate", "native" or "native_paravirt"`);
      return 'default';
    }
    r.warn(a.s, 'domain.tsc-mode-int', `specifying tsc_mode as an integer is deprecated: write tsc_mode = "${mode}"`);
  }
  if (mode === 'always_emulate' || mode === 'native_paravirt') {
    r.warn(a.s, 'domain.tsc-mode-partial', `tsc_mode "${mode}" is not implemented yet: the guest sees the native TSC`);
  }
  return mode ?? 'default';
}

function readOther(r: SettingReader): Record<string, OtherSettingValue> {
  const other: Record<string, OtherSettingValue> = {};
  for (const [key, s] of r.settings) {
    if (TYPED_KEYS.includes(key)) continue;
    other[key] = xlValueToInput(s.value);
    const info = xlKeyInfo(key);
    if (!info) r.warn(s, 'xlcfg.unknown-key', `unknown key ${key}: kept in the file, ignored`);
    else r.warn(s, 'xlcfg.not-yet', `${key} (${info.summary}) is not supported by Domus yet: kept in the file, ignored`);
  }
  return other;
}

/** Reads every typed key; problems are recorded in the reader's list. */
function readConfig(r: SettingReader, topology: CpuTopology | undefined): DomainConfig {
  const type = readType(r) ?? 'hvm';
  const name = r.string('name');
  if (name === undefined && !r.settings.has('name')) {
    r.problems.error('domain.no-name', 'Domain name must be specified: add name = "..."', undefined, 'name');
  } else if (name !== undefined && (name === '' || name.includes('/') || [...name].some((ch) => ch.charCodeAt(0) < FIRST_PRINTABLE))) {
    r.error(r.settings.get('name')!, 'domain.bad-name', `domain name ${JSON.stringify(name)} must be non-empty, without '/' or control characters`);
  }
  const uuidA = r.atom('uuid');
  if (uuidA && !UUID_RE.test(uuidA.a.text)) r.error(uuidA.s, 'domain.uuid', `Failed to parse UUID: ${uuidA.a.text} (expected 8-4-4-4-12 hex digits)`);

  let memory = r.long('memory');
  let maxmem = r.long('maxmem');
  if (memory === undefined && maxmem === undefined) memory = maxmem = DEFAULT_MEMORY_MIB;
  memory ??= maxmem!;
  maxmem ??= memory;
  if (memory < 1 || memory > MAX_MEMORY_MIB) r.error(r.settings.get('memory') ?? r.settings.get('maxmem')!, 'domain.memory', `memory = ${memory} MiB is out of range: use 1..${MAX_MEMORY_MIB}`);
  else if (maxmem < memory) r.error(r.settings.get('maxmem')!, 'domain.maxmem', `maxmem (${maxmem} MiB) must be at least memory (${memory} MiB)`);

  let vcpus = r.long('vcpus') ?? 1;
  if (vcpus < 1) {
    r.warn(r.settings.get('vcpus')!, 'domain.vcpus-min', `vcpus = ${vcpus} is taken as 1, as xl does`);
    vcpus = 1;
  }
  let maxvcpus = r.long('maxvcpus') ?? 0;
  if (maxvcpus === 0) maxvcpus = vcpus;
  const maxS = r.settings.get('maxvcpus') ?? r.settings.get('vcpus');
  if (maxvcpus < vcpus) r.error(maxS!, 'domain.maxvcpus', `maxvcpus (${maxvcpus}) is less than vcpus (${vcpus})`);
  else if (maxvcpus > HVM_MAX_VCPUS) r.error(maxS!, 'domain.vcpus-max', `${maxvcpus} vCPUs: a guest may have at most ${HVM_MAX_VCPUS} (HVM_MAX_VCPUS)`);

  const cpus: CpuAffinityConfig | undefined = readAffinity(r, 'cpus', maxvcpus, topology);
  const cpusSoft = readAffinity(r, 'cpus_soft', maxvcpus, topology);

  const cpuWeight = r.long('cpu_weight') ?? DEFAULT_CPU_WEIGHT;
  const weightProblem = checkWeightCap({ weight: cpuWeight }, maxvcpus);
  if (weightProblem) r.error(r.settings.get('cpu_weight')!, 'sched.weight', weightProblem);
  const cap = r.long('cap') ?? 0;
  const capProblem = checkWeightCap({ cap }, maxvcpus);
  if (capProblem) r.error(r.settings.get('cap')!, 'sched.cap', capProblem);
  const period = r.long('period');
  const periodProblem = period === undefined ? undefined : checkRtdsParams(period, 1);
  if (periodProblem) r.error(r.settings.get('period')!, 'sched.period', periodProblem);
  else if (period !== undefined && period < RTDS_DEFAULT_BUDGET_US) {
    r.warn(r.settings.get('period')!, 'sched.period-budget', `period ${period} us is below the RTDS default budget of ${RTDS_DEFAULT_BUDGET_US} us (xl.cfg has no budget=): creation fails in an RTDS pool`);
  }
  const extratime = r.bool('extratime');

  const kernel = r.string('kernel');
  const ramdisk = r.string('ramdisk');
  const cmdline = r.string('cmdline');
  const root = r.string('root');
  const extra = r.string('extra');
  if (cmdline !== undefined && (root !== undefined || extra !== undefined)) {
    r.warn(r.settings.get('cmdline')!, 'domain.cmdline-root-extra', 'ignoring root= and extra= in favour of cmdline=');
  }
  if (kernel === undefined) {
    if (ramdisk !== undefined) r.warn(r.settings.get('ramdisk')!, 'domain.ramdisk-no-kernel', 'ramdisk= without kernel= is ignored');
    for (const k of ['cmdline', 'root', 'extra']) {
      const s = r.settings.get(k);
      if (s) r.warn(s, 'domain.cmdline-no-kernel', `${k}= without kernel= is ignored`);
    }
  }
  if (type === 'pvh' && kernel === undefined) {
    r.problems.error('domain.pvh-no-kernel', 'Neither kernel nor bootloader specified: a PVH guest boots a kernel directly, add kernel = "..."', undefined, 'kernel');
  }

  const boot = readBoot(r);
  const serial = readSerial(r);
  const nographic = r.bool('nographic') ?? false;
  if (type === 'pvh') {
    for (const k of ['boot', 'serial', 'nographic']) {
      const s = r.settings.get(k);
      if (s) r.warn(s, 'domain.hvm-only', `${k}= applies to HVM guests only; xl ignores it for PVH`);
    }
  }
  const disks = readDisks(r);
  const vifs = readVifs(r);
  if (type === 'hvm' && kernel === undefined && disks.length === 0 && !boot.includes('n')) {
    r.problems.warn('domain.nothing-to-boot', 'no kernel= and no disk=: the HVM guest has nothing to boot', undefined);
  }

  return {
    name: name ?? '',
    uuid: uuidA?.a.text.toLowerCase(),
    type,
    memoryMiB: memory,
    maxmemMiB: maxmem,
    vcpus,
    maxvcpus,
    cpus,
    cpusSoft,
    cpuWeight,
    cap,
    pool: r.string('pool'),
    rtdsPeriodUs: period,
    rtdsExtratime: extratime,
    kernel,
    ramdisk,
    cmdline,
    root,
    extra,
    boot,
    disks,
    vifs,
    serial,
    nographic,
    onPoweroff: readAction(r, 'on_poweroff', 'destroy'),
    onReboot: readAction(r, 'on_reboot', 'restart'),
    onWatchdog: readAction(r, 'on_watchdog', 'destroy'),
    onCrash: readAction(r, 'on_crash', 'destroy'),
    tscMode: readTscMode(r),
    otherSettings: readOther(r),
  };
}

/**
 * Parses xl.cfg text into a DomainConfig. Throws XlCfgError (every error, with positions) when
 * the grammar or any key is invalid; nothing partial is ever returned.
 */
export function parseDomainConfig(text: string, options: ParseDomainConfigOptions = {}): DomainConfigParseResult {
  const file = options.file ?? 'xl.cfg';
  const problems = new ProblemList(file);
  const document = parseXlCfgInto(text, file, problems);
  let statements: XlStatement[] = document.statements;
  if (options.overrides && options.overrides.length > 0) {
    // xl appends "\n" + each argument + "\n" to the file; we parse them apart to name them.
    const extra = parseXlCfgInto(`${options.overrides.join('\n')}\n`, COMMAND_LINE_FILE, problems);
    statements = [...statements, ...extra.statements];
  }
  problems.throwIfErrors();
  const reader = new SettingReader(resolveSettings(statements, problems), problems);
  const config = readConfig(reader, options.topology);
  problems.throwIfErrors();
  return { config, warnings: problems.warnings, document };
}

/** The kernel command line the guest gets: cmdline=, else "root=ROOT EXTRA" (xl parse_cmdline). */
export function effectiveCmdline(c: Pick<DomainConfig, 'cmdline' | 'root' | 'extra'>): string | undefined {
  if (c.cmdline !== undefined) return c.cmdline;
  if (c.root !== undefined && c.extra !== undefined) return `root=${c.root} ${c.extra}`;
  if (c.root !== undefined) return `root=${c.root}`;
  return c.extra;
}

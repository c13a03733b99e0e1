/**
 * DomainConfig -> xl.cfg text. A fresh file gets the keys in a fixed order, defaults left out
 * (except name, type, memory and vcpus, which a reader expects to see). Writing over the document
 * a config was read from changes only the keys whose meaning changed: a key that still says the
 * same (even if spelled `memory = 0x200` or `disk = ['file:/x.iso,hdc:cdrom,r']`) is left as
 * written, and unknown keys, comments and order are kept.
 */
import { formatDiskSpec } from './disk-spec';
import type { DomainConfig, SerialConfig } from '../api/domain-config';
import { DEFAULT_CPU_WEIGHT, DEFAULT_MEMORY_MIB, parseDomainConfig, TYPED_KEYS, type DomainConfigParseResult, type ParseDomainConfigOptions } from './domain-config-parse';
import type { XlCfgDocument, XlValueInput } from './xlcfg-ast';
import { documentSettings } from './xlcfg-parser';
import { formatVifSpec } from './vif-spec';
import { updateXlCfgText, writeXlCfg } from './xlcfg-writer';

/** How one typed key is written: the fields it stands for, and its value (undefined = leave out). */
interface KeyWriter {
  key: string;
  meaning: (c: DomainConfig) => unknown;
  value: (c: DomainConfig) => XlValueInput | undefined;
}

function serialText(s: SerialConfig): string {
  return s.kind === 'file' ? `file:${s.path}` : s.kind;
}

const unlessEqual = <T>(v: T, def: T): T | undefined => (v === def ? undefined : v);

/** The typed keys in the order a fresh file lists them. */
const WRITERS: KeyWriter[] = [
  { key: 'name', meaning: (c) => c.name, value: (c) => c.name },
  { key: 'type', meaning: (c) => c.type, value: (c) => c.type },
  { key: 'uuid', meaning: (c) => c.uuid, value: (c) => c.uuid },
  { key: 'memory', meaning: (c) => c.memoryMiB, value: (c) => c.memoryMiB },
  { key: 'maxmem', meaning: (c) => c.maxmemMiB, value: (c) => unlessEqual(c.maxmemMiB, c.memoryMiB) },
  { key: 'vcpus', meaning: (c) => c.vcpus, value: (c) => c.vcpus },
  { key: 'maxvcpus', meaning: (c) => c.maxvcpus, value: (c) => unlessEqual(c.maxvcpus, c.vcpus) },
  { key: 'cpus', meaning: (c) => c.cpus, value: (c) => c.cpus },
  { key: 'cpus_soft', meaning: (c) => c.cpusSoft, value: (c) => c.cpusSoft },
  { key: 'cpu_weight', meaning: (c) => c.cpuWeight, value: (c) => unlessEqual(c.cpuWeight, DEFAULT_CPU_WEIGHT) },
  { key: 'cap', meaning: (c) => c.cap, value: (c) => unlessEqual(c.cap, 0) },
  { key: 'pool', meaning: (c) => c.pool, value: (c) => c.pool },
  { key: 'period', meaning: (c) => c.rtdsPeriodUs, value: (c) => c.rtdsPeriodUs },
  { key: 'extratime', meaning: (c) => c.rtdsExtratime, value: (c) => c.rtdsExtratime },
  { key: 'kernel', meaning: (c) => c.kernel, value: (c) => c.kernel },
  { key: 'ramdisk', meaning: (c) => c.ramdisk, value: (c) => c.ramdisk },
  { key: 'cmdline', meaning: (c) => [c.cmdline, c.root, c.extra], value: (c) => c.cmdline },
  { key: 'root', meaning: (c) => [c.cmdline, c.root, c.extra], value: (c) => c.root },
  { key: 'extra', meaning: (c) => [c.cmdline, c.root, c.extra], value: (c) => c.extra },
  { key: 'boot', meaning: (c) => c.boot, value: (c) => unlessEqual(c.boot, 'cd') },
  { key: 'disk', meaning: (c) => c.disks.map((d) => ({ ...d, spec: undefined })), value: (c) => (c.disks.length ? c.disks.map(formatDiskSpec) : undefined) },
  { key: 'vif', meaning: (c) => c.vifs.map((v) => [v.params, v.flags]), value: (c) => (c.vifs.length ? c.vifs.map(formatVifSpec) : undefined) },
  { key: 'serial', meaning: (c) => c.serial, value: (c) => (c.serial.length ? c.serial.map(serialText) : undefined) },
  { key: 'nographic', meaning: (c) => c.nographic, value: (c) => (c.nographic ? true : undefined) },
  { key: 'on_poweroff', meaning: (c) => c.onPoweroff, value: (c) => unlessEqual(c.onPoweroff, 'destroy') },
  { key: 'on_reboot', meaning: (c) => c.onReboot, value: (c) => unlessEqual(c.onReboot, 'restart') },
  { key: 'on_watchdog', meaning: (c) => c.onWatchdog, value: (c) => unlessEqual(c.onWatchdog, 'destroy') },
  { key: 'on_crash', meaning: (c) => c.onCrash, value: (c) => unlessEqual(c.onCrash, 'destroy') },
  { key: 'tsc_mode', meaning: (c) => c.tscMode, value: (c) => unlessEqual(c.tscMode, 'default') },
];

/** The key/value pairs of a fresh file for this config, typed keys first, then the others. */
export function domainConfigEntries(c: DomainConfig): Array<[string, XlValueInput]> {
  const out: Array<[string, XlValueInput]> = [];
  for (const w of WRITERS) {
    const v = w.value(c);
    if (v !== undefined) out.push([w.key, v]);
  }
  for (const [k, v] of otherEntries(c)) out.push([k, v]);
  return out;
}

/** otherSettings without keys the typed fields own (those win). */
function otherEntries(c: DomainConfig): Array<[string, XlValueInput]> {
  return Object.entries(c.otherSettings).filter(([k]) => !TYPED_KEYS.includes(k));
}

function sameMeaning(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Writes a config as xl.cfg text. With `base` (the document the config was read from), only the
 * keys whose meaning changed are rewritten and everything else stays as it was.
 */
export function writeDomainConfig(c: DomainConfig, base?: XlCfgDocument): string {
  if (!base) return writeXlCfg(domainConfigEntries(c));
  let old: DomainConfig | undefined;
  try {
    old = parseDomainConfig(base.source, { file: base.file }).config;
  } catch {
    old = undefined; // the base is not a valid domain: compare raw values only
  }
  const changes: Array<[string, XlValueInput | undefined]> = [];
  for (const w of WRITERS) {
    if (old && sameMeaning(w.meaning(old), w.meaning(c))) continue;
    changes.push([w.key, w.value(c)]);
    if (w.key === 'type') changes.push(['builder', undefined]);
  }
  const baseKeys = [...documentSettings(base).keys()];
  for (const k of baseKeys) {
    if (!TYPED_KEYS.includes(k) && !(k in c.otherSettings)) changes.push([k, undefined]);
  }
  for (const [k, v] of otherEntries(c)) changes.push([k, v]);
  return updateXlCfgText(base, changes);
}

/**
 * Checks a config built or edited in code (the GUI, the API) by writing it and reading it back
 * with every xl.cfg rule; throws XlCfgError naming the keys when it is not valid.
 */
export function validateDomainConfig(c: DomainConfig, options: Omit<ParseDomainConfigOptions, 'file' | 'overrides'> = {}): DomainConfigParseResult {
  return parseDomainConfig(writeDomainConfig(c), { ...options, file: `domain ${c.name || '(unnamed)'}` });
}

/** A new HVM or PVH config with xl's defaults, for the GUI's "new domain" form. */
export function defaultDomainConfig(name: string, type: DomainConfig['type']): DomainConfig {
  return {
    name,
    uuid: undefined,
    type,
    memoryMiB: DEFAULT_MEMORY_MIB,
    maxmemMiB: DEFAULT_MEMORY_MIB,
    vcpus: 1,
    maxvcpus: 1,
    cpus: undefined,
    cpusSoft: undefined,
    cpuWeight: DEFAULT_CPU_WEIGHT,
    cap: 0,
    pool: undefined,
    rtdsPeriodUs: undefined,
    rtdsExtratime: undefined,
    kernel: undefined,
    ramdisk: undefined,
    cmdline: undefined,
    root: undefined,
    extra: undefined,
    boot: 'cd',
    disks: [],
    vifs: [],
    serial: [],
    nographic: false,
    onPoweroff: 'destroy',
    onReboot: 'restart',
    onWatchdog: 'destroy',
    onCrash: 'destroy',
    tscMode: 'default',
    otherSettings: {},
  };
}

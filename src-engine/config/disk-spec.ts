/**
 * xl-disk-configuration(5): the DISKSPEC strings of `disk = [ ... ]`, parsed the way libxlu's
 * flex scanner does (tools/libs/util/libxlu_disk_l.l, libxlu_disk.c): at each position every rule
 * is tried, the longest match wins (trailing context `/...` counts towards the length, so the
 * deprecated prefixes and leading whitespace always win), ties go to the earlier rule.
 *
 * Positional parameters fill target, format, vdev, access in that order ("vdev:cdrom" in the
 * vdev slot is the deprecated devtype suffix); key=value parameters and flags may come anywhere;
 * `target=` swallows the rest of the string. After a deprecated prefix (raw:, file:, phy:, ...) the
 * format slot is skipped: 'file:/tmp/hermit.iso,hdc:cdrom,r' is target, vdev:devtype, access.
 */
import type { DiskConfig, DiskFormat } from '../api/domain-config';

/** A refused DISKSPEC: what is wrong, near which text. */
export interface DiskSpecProblem {
  message: string;
  near: string | undefined;
}

interface DiskState {
  target: string | undefined;
  format: DiskFormat | undefined;
  vdev: string | undefined;
  readOnly: boolean;
  accessSet: boolean;
  cdrom: boolean;
  hadPrefix: boolean;
  backend: string | undefined;
  backendType: DiskConfig['backendType'];
  specification: DiskConfig['specification'];
  script: string | undefined;
  flags: string[];
  problem: DiskSpecProblem | undefined;
}

const FORMATS: Record<string, DiskFormat> = { '': 'raw', raw: 'raw', qcow: 'qcow', qcow2: 'qcow2', vhd: 'vhd', empty: 'empty', qed: 'qed' };
const BACKEND_TYPES = ['phy', 'tap', 'qdisk', 'standalone'] as const;
const SPECIFICATIONS = ['xen', 'virtio'] as const;

function fail(s: DiskState, message: string, near?: string): void {
  if (!s.problem) s.problem = { message, near };
}

function stripComma(t: string): string {
  return t.endsWith(',') ? t.slice(0, -1) : t;
}

function valueOf(t: string): string {
  return stripComma(t).slice(t.indexOf('=') + 1);
}

function setFormat(s: DiskState, text: string): void {
  const f = FORMATS[text];
  if (f === undefined) return fail(s, 'unknown value for format', text);
  if (s.format !== undefined && s.format !== f) return fail(s, 'format respecified', text);
  s.format = f;
}

function setAccess(s: DiskState, text: string): void {
  if (text === 'r' || text === 'ro') s.readOnly = true;
  else if (text === 'rw' || text === 'w' || text === '') s.readOnly = false;
  else fail(s, 'unknown value for access', text);
}

/** libxlu savestring: a string may be given once, unless the earlier value was empty. */
function save(s: DiskState, field: 'target' | 'vdev' | 'backend' | 'script', value: string, what: string): void {
  const old = s[field];
  if (old) return fail(s, `${what} respecified`, value);
  s[field] = value;
}

/** "vdev:devtype" in the vdev slot; returns false when there is no colon. */
function vdevAndDevtype(s: DiskState, text: string): boolean {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return false;
  save(s, 'vdev', text.slice(0, colon), 'vdev');
  const devtype = text.slice(colon + 1);
  if (devtype === 'cdrom') s.cdrom = true;
  else if (devtype === 'disk') s.cdrom = false;
  else fail(s, 'unknown deprecated type', devtype);
  return true;
}

function positional(s: DiskState, token: string): void {
  const t = stripComma(token);
  if (s.problem) return;
  if (s.target === undefined) save(s, 'target', t, 'target');
  else if (!s.hadPrefix && s.format === undefined) {
    if (s.target === '' && vdevAndDevtype(s, t)) s.format = 'empty';
    else setFormat(s, t);
  } else if (s.vdev === undefined) {
    if (!vdevAndDevtype(s, t)) save(s, 'vdev', t, 'vdev');
  } else if (!s.accessSet) {
    s.accessSet = true;
    setAccess(s, t);
  } else fail(s, 'too many positional parameters', t);
}

/** One flex rule: main pattern, optional trailing context, and its action. */
interface Rule {
  re: RegExp;
  /** True when the pattern's second capture group is trailing context (not part of yytext). */
  context?: boolean;
  act: (s: DiskState, text: string) => void | 'stop';
}

const flag = (name: string) => (s: DiskState) => void s.flags.push(name);

/** The scanner rules of libxlu_disk_l.l, in order. */
const RULES: Rule[] = [
  { re: /([ \t\n]+)((?:[^ \t\n][^\n]*)?)/y, context: true, act: () => {} },
  { re: /format=[^,]*,?/y, act: (s, t) => setFormat(s, valueOf(t)) },
  { re: /cdrom,?/y, act: (s) => void (s.cdrom = true) },
  { re: /devtype=cdrom,?/y, act: (s) => void (s.cdrom = true) },
  { re: /devtype=disk,?/y, act: (s) => void (s.cdrom = false) },
  { re: /devtype=[^,]*,?/y, act: (s, t) => fail(s, 'unknown value for type', t) },
  { re: /access=[^,]*,?/y, act: (s, t) => setAccess(s, valueOf(t)) },
  { re: /backend=[^,]*,?/y, act: (s, t) => save(s, 'backend', valueOf(t), 'backend') },
  {
    re: /backendtype=[^,]*,?/y,
    act: (s, t) => {
      const v = valueOf(t);
      const known = BACKEND_TYPES.find((b) => b === v);
      if (!known) return fail(s, 'unknown value for backendtype', v);
      if (s.backendType && s.backendType !== known) return fail(s, 'backend respecified', v);
      s.backendType = known;
    },
  },
  {
    re: /specification=[^,]*,?/y,
    act: (s, t) => {
      const v = valueOf(t);
      const known = SPECIFICATIONS.find((b) => b === v);
      if (!known) return fail(s, 'unknown value for specification', v);
      if (s.specification && s.specification !== known) return fail(s, 'specification respecified', v);
      s.specification = known;
    },
  },
  { re: /vdev=[^,]*,?/y, act: (s, t) => save(s, 'vdev', valueOf(t), 'vdev') },
  { re: /script=[^,]*,?/y, act: (s, t) => save(s, 'script', valueOf(t), 'script') },
  { re: /direct-io-safe,?/y, act: flag('direct-io-safe') },
  { re: /discard,?/y, act: flag('discard') },
  { re: /no-discard,?/y, act: flag('no-discard') },
  { re: /colo,?/y, act: flag('colo') },
  { re: /no-colo,?/y, act: flag('no-colo') },
  { re: /(?:colo-host|colo-port|colo-export|active-disk|hidden-disk)=[^,]*,?/y, act: (s, t) => void s.flags.push(stripComma(t)) },
  { re: /trusted,?/y, act: flag('trusted') },
  { re: /untrusted,?/y, act: flag('untrusted') },
  { re: /grant_usage=1,?/y, act: flag('grant_usage=1') },
  { re: /grant_usage=0,?/y, act: flag('grant_usage=0') },
  { re: /target=[^\n]*/y, act: (s, t) => save(s, 'target', valueOf(t), 'target') },
  { re: /[a-z][-a-z0-9]*=[^,],?/y, act: (s, t) => fail(s, 'unknown parameter', t) },
  {
    re: /((?:raw|qcow2?|vhd):)([^\n]*)/y,
    context: true,
    act: (s, t) => {
      s.hadPrefix = true;
      setFormat(s, t.slice(0, -1));
    },
  },
  {
    re: /((?:iscsi|e?nbd|drbd):)([^\n]*)/y,
    context: true,
    act: (s, t) => {
      s.hadPrefix = true;
      save(s, 'script', `block-${t.slice(0, -1)}`, 'script');
    },
  },
  { re: /((?:tapdisk|tap2?|aio|ioemu|file|phy):)([^\n]*)/y, context: true, act: (s) => void (s.hadPrefix = true) },
  {
    re: /([a-z][a-z0-9]*:)((?:[^a-z0-9][^\n]*)?)/y,
    context: true,
    act: (s, t) => {
      fail(s, 'unknown deprecated disk prefix', t);
      return 'stop';
    },
  },
  { re: /[^=,]*,|[^=,]+,?/y, act: (s, t) => positional(s, t) },
];

/** Runs the scanner over one DISKSPEC, filling the state. */
function scan(spec: string, s: DiskState): void {
  let at = 0;
  while (at < spec.length) {
    let best: { rule: Rule; total: number; text: string } | undefined;
    for (const rule of RULES) {
      rule.re.lastIndex = at;
      const m = rule.re.exec(spec);
      if (!m || m[0].length === 0) continue;
      const total = m[0].length;
      if (!best || total > best.total) best = { rule, total, text: rule.context ? m[1] : m[0] };
    }
    if (!best) {
      fail(s, 'bad disk syntax', spec.slice(at));
      return;
    }
    if (best.rule.act(s, best.text) === 'stop') return;
    if (s.problem?.message === 'too many positional parameters') return;
    at += best.text.length;
  }
}

/**
 * Parses a DISKSPEC, or several strings that together describe one disk (as `xl block-attach`
 * takes them, the scanner state carrying over from one to the next). Returns the disk or the
 * problem xl would report ("config parsing error in disk specification: MESSAGE near `TEXT'").
 */
export function parseDiskSpec(spec: string | readonly string[]): { disk: DiskConfig } | { problem: DiskSpecProblem } {
  const specs = typeof spec === 'string' ? [spec] : spec;
  const s: DiskState = {
    target: undefined,
    format: undefined,
    vdev: undefined,
    readOnly: false,
    accessSet: false,
    cdrom: false,
    hadPrefix: false,
    backend: undefined,
    backendType: undefined,
    specification: undefined,
    script: undefined,
    flags: [],
    problem: undefined,
  };
  for (const one of specs) {
    scan(one, s);
    if (s.problem) return { problem: s.problem };
  }
  let format: DiskFormat = s.format ?? 'raw';
  let readOnly = s.readOnly;
  if (s.cdrom) {
    readOnly = true; // libxlu: a CD-ROM is removable and always read-only
    if (!s.target) format = 'empty';
  }
  if (!s.vdev) return { problem: { message: 'no vdev specified', near: undefined } };
  if (s.target === undefined && !s.cdrom) {
    return { problem: { message: 'no target specified (and device not removable)', near: undefined } };
  }
  const disk: DiskConfig = {
    target: s.target === '' ? undefined : s.target,
    format,
    vdev: s.vdev,
    readOnly,
    cdrom: s.cdrom,
    spec: specs.join(', '),
  };
  if (s.backend !== undefined) disk.backend = s.backend;
  if (s.backendType !== undefined) disk.backendType = s.backendType;
  if (s.specification !== undefined) disk.specification = s.specification;
  if (s.script !== undefined) disk.script = s.script;
  if (s.flags.length > 0) disk.flags = s.flags;
  return { disk };
}

/**
 * Writes a disk back as a DISKSPEC: its original text when that still parses to the same disk,
 * otherwise the canonical key=value form (`format=raw, vdev=hdc, access=ro, devtype=cdrom,
 * target=/x.iso`), target last since it swallows the rest of the string.
 */
export function formatDiskSpec(disk: DiskConfig): string {
  if (disk.spec !== undefined) {
    const again = parseDiskSpec(disk.spec);
    if ('disk' in again && sameDisk(again.disk, disk)) return disk.spec;
  }
  const parts = [`format=${disk.format === 'empty' ? 'raw' : disk.format}`, `vdev=${disk.vdev}`, `access=${disk.readOnly ? 'ro' : 'rw'}`];
  if (disk.cdrom) parts.push('devtype=cdrom');
  if (disk.backend !== undefined) parts.push(`backend=${disk.backend}`);
  if (disk.backendType !== undefined) parts.push(`backendtype=${disk.backendType}`);
  if (disk.specification !== undefined) parts.push(`specification=${disk.specification}`);
  if (disk.script !== undefined) parts.push(`script=${disk.script}`);
  for (const f of disk.flags ?? []) parts.push(f);
  if (disk.target !== undefined) parts.push(`target=${disk.target}`);
  return parts.join(', ');
}

/** True when two disks mean the same (the source text is not compared). */
export function sameDisk(a: DiskConfig, b: DiskConfig): boolean {
  return (
    a.target === b.target &&
    a.format === b.format &&
    a.vdev === b.vdev &&
    a.readOnly === b.readOnly &&
    a.cdrom === b.cdrom &&
    a.backend === b.backend &&
    a.backendType === b.backendType &&
    a.specification === b.specification &&
    a.script === b.script &&
    (a.flags ?? []).join(',') === (b.flags ?? []).join(',')
  );
}

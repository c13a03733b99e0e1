/**
 * Typed readers for the structured xl.cfg keys: disk=, vif=, serial=, boot=, cpus= / cpus_soft=.
 * Each records its errors and warnings at the exact list item they concern.
 */
import { parseCpuList, type CpuTopology } from '../base/cpulist';
import { errorMessage } from '../base/errors';
import { parseDiskSpec } from './disk-spec';
import type { CpuAffinityConfig, DiskConfig, SerialConfig, VifConfig } from '../api/domain-config';
import type { SettingReader } from './xlcfg-reader';
import { parseVifSpec } from './vif-spec';

/** Virtual device names of xen-vbd-interface(7): xvdX[N], hdX[N] (a-t), sdX[N], dNpN, or a number. */
const VDEV_RE = /^(?:xvd[a-z]+[0-9]*|hd[a-t][0-9]*|sd[a-z]+[0-9]*|d[0-9]+(?:p[0-9]+)?|[0-9]+)$/;
/** Serial ports an emulated PC has (COM1..COM4, QEMU's MAX_ISA_SERIAL_PORTS). */
export const MAX_SERIAL_PORTS = 4;

/** Reads disk=: every DISKSPEC parsed per xl-disk-configuration(5), vdevs valid and distinct. */
export function readDisks(r: SettingReader): DiskConfig[] {
  const list = r.stringList('disk', false);
  if (!list) return [];
  const disks: DiskConfig[] = [];
  const seen = new Map<string, string>();
  for (const item of list.items) {
    const res = parseDiskSpec(item.text);
    if ('problem' in res) {
      const near = res.problem.near !== undefined ? ` near \`${res.problem.near}'` : '';
      r.error(list.s, 'disk.spec', `disk specification \`${item.text}': ${res.problem.message}${near}`, item);
      continue;
    }
    const d = res.disk;
    if (!VDEV_RE.test(d.vdev)) {
      r.error(list.s, 'disk.vdev', `disk \`${item.text}': unknown vdev "${d.vdev}": use hda..hdd, xvda.., sda.. (xen-vbd-interface(7))`, item);
      continue;
    }
    const other = seen.get(d.vdev);
    if (other !== undefined) {
      r.error(list.s, 'disk.vdev-twice', `disk \`${item.text}': vdev ${d.vdev} is already used by \`${other}'`, item);
      continue;
    }
    seen.set(d.vdev, item.text);
    disks.push(d);
  }
  return disks;
}

/** Reads vif=: kept as parsed key=value maps; bad mac=/type= refused, unknown words warned. */
export function readVifs(r: SettingReader): VifConfig[] {
  const list = r.stringList('vif', false);
  if (!list) return [];
  const vifs: VifConfig[] = [];
  for (const item of list.items) {
    const res = parseVifSpec(item.text);
    for (const e of res.errors) r.error(list.s, 'vif.invalid', e, item);
    for (const w of res.warnings) r.warn(list.s, 'vif.unknown', w, item);
    vifs.push(res.vif);
  }
  return vifs;
}

/** Reads serial= (a string or a list of strings). */
export function readSerial(r: SettingReader): SerialConfig[] {
  const list = r.stringList('serial', true);
  if (!list) return [];
  const ports: SerialConfig[] = [];
  for (const item of list.items) {
    const t = item.text;
    if (t === 'pty' || t === 'stdio' || t === 'none') ports.push({ kind: t });
    else if (t.startsWith('file:') && t.length > 'file:'.length) ports.push({ kind: 'file', path: t.slice('file:'.length) });
    else {
      r.error(list.s, 'serial.unsupported', `serial \`${t}' is not supported yet: use file:PATH, pty, stdio or none`, item);
    }
  }
  if (ports.length > MAX_SERIAL_PORTS) {
    r.error(list.s, 'serial.too-many', `${ports.length} serial ports given; an emulated PC has at most ${MAX_SERIAL_PORTS} (COM1-COM4)`);
  }
  return ports;
}

/** Boot devices QEMU knows (a, b floppy; c disk; d CD-ROM; n-p network) and what Domus has. */
const BOOT_SUPPORTED = new Set(['c', 'd', 'n']);

/** Reads boot= (HVM boot order), default "cd" (xl.cfg(5)). */
export function readBoot(r: SettingReader): string {
  const a = r.atom('boot');
  if (!a) return 'cd';
  const order = a.a.text;
  if (order === '') {
    r.error(a.s, 'boot.empty', 'boot order is empty: use c (disk), d (CD-ROM) and n (network), e.g. "dc"');
    return 'cd';
  }
  const seen = new Set<string>();
  for (const ch of order) {
    if (ch === 'a' || ch === 'b') {
      r.error(a.s, 'boot.floppy', `boot device ${ch} (floppy) is not supported: there is no floppy drive; use c, d or n`);
    } else if (!BOOT_SUPPORTED.has(ch)) {
      r.error(a.s, 'boot.invalid', `invalid boot device ${JSON.stringify(ch)} in "${order}": use c (disk), d (CD-ROM), n (network)`);
    } else if (seen.has(ch)) {
      r.error(a.s, 'boot.twice', `boot device ${ch} is given twice in "${order}"`);
    }
    seen.add(ch);
  }
  return order;
}

/**
 * Checks one CPU list the way xl's parse_cpurange reads it (comma-separated, empty items
 * skipped); with a topology it is also resolved against the host. Returns an error text or undefined.
 */
export function checkCpuList(list: string, topology: CpuTopology | undefined): string | undefined {
  const items = list.split(',').filter((s) => s !== '');
  for (const raw of items) {
    let item = raw.startsWith('^') ? raw.slice(1) : raw;
    const negated = item !== raw;
    if (item.startsWith('nodes:')) item = item.slice('nodes:'.length);
    else if (item.startsWith('node:')) item = item.slice('node:'.length);
    if (item === 'all') {
      if (negated) return 'Can\'t combine "^" and "all".';
      continue;
    }
    const m = /^\s*\+?([0-9]+)(?:-\s*\+?([0-9]+))?$/.exec(item);
    if (!m || (m[2] !== undefined && Number(m[2]) < Number(m[1]))) return `Invalid pcpu range: ${item}.`;
  }
  if (topology && items.length > 0) {
    try {
      parseCpuList(items.join(','), topology);
    } catch (e) {
      return errorMessage(e);
    }
  }
  return undefined;
}

/**
 * Reads cpus= or cpus_soft=: one CPU-list string for all vCPUs, or a list of them, one per vCPU
 * (extra elements beyond maxvcpus are ignored, as xl does, with a warning).
 */
export function readAffinity(
  r: SettingReader,
  key: 'cpus' | 'cpus_soft',
  maxvcpus: number,
  topology: CpuTopology | undefined,
): CpuAffinityConfig | undefined {
  const list = r.stringList(key, true);
  if (!list) return undefined;
  for (const item of list.items) {
    const problem = checkCpuList(item.text, topology);
    if (problem) r.error(list.s, 'cpus.invalid', `${JSON.stringify(item.text)}: ${problem}`, item);
  }
  if (list.s.value.kind === 'atom') return list.items[0].text;
  if (list.items.length > maxvcpus) {
    r.warn(list.s, 'cpus.extra', `${list.items.length} CPU lists for ${maxvcpus} vCPU(s): the ones past vCPU ${maxvcpus - 1} are ignored`);
  }
  return list.items.map((a) => a.text);
}

/**
 * Writing xl.cfg text in the GUI: the New VM wizard's draft becomes a config file (the engine's
 * library parses and validates it when it is saved), and single keys of an existing file are
 * replaced in place (pinning "save to config") so the rest of the user's file stays as written.
 */

/** Default credit/credit2 weight (xl.cfg cpu_weight). */
export const DEFAULT_WEIGHT = 256;

/** One disk of the draft. */
export interface DraftDisk {
  target: string;
  vdev: string;
  format: 'raw' | 'qcow2';
  readOnly: boolean;
  cdrom: boolean;
}

/** Where the guest's first serial port goes. */
export type DraftSerial = 'pty' | 'file' | 'none';

/** What the New VM wizard collects. */
export interface VmDraft {
  name: string;
  type: 'hvm' | 'pvh';
  /** How the guest boots. */
  source: 'iso' | 'grub-iso' | 'kernel';
  /** ISO image (source iso or grub-iso). */
  iso: string;
  kernel: string;
  ramdisk: string;
  cmdline: string;
  vcpus: number;
  maxvcpus: number;
  memoryMiB: number;
  maxmemMiB: number;
  disks: DraftDisk[];
  serial: DraftSerial;
  serialFile: string;
  pool: string;
  weight: number;
  cap: number;
  /** Hard affinity for every vCPU ("" = all). */
  cpus: string;
  /** RTDS period for every vCPU, µs (0 = scheduler default). */
  rtdsPeriodUs: number;
  onCrash: 'destroy' | 'preserve' | 'restart';
}

/** A fresh draft. */
export function emptyDraft(): VmDraft {
  return {
    name: '', type: 'hvm', source: 'kernel', iso: '', kernel: '', ramdisk: '', cmdline: '',
    vcpus: 1, maxvcpus: 1, memoryMiB: 32, maxmemMiB: 32, disks: [], serial: 'pty', serialFile: '',
    pool: 'Pool-0', weight: DEFAULT_WEIGHT, cap: 0, cpus: '', rtdsPeriodUs: 0, onCrash: 'preserve',
  };
}

/** An xl.cfg string literal; throws when the text cannot be quoted (both quote kinds, or a newline). */
export function xlString(s: string): string {
  if (/[\r\n]/.test(s)) throw new Error(`"${s.replace(/[\r\n]+/g, ' ')}" contains a line break; xl.cfg strings cannot.`);
  if (!s.includes('"')) return `"${s}"`;
  if (!s.includes("'")) return `'${s}'`;
  throw new Error(`${s} contains both kinds of quote; xl.cfg cannot hold it.`);
}

/** A DISKSPEC in xl's key=value form (target last, as xl-disk-configuration(5) requires). */
export function diskSpec(d: DraftDisk): string {
  const parts = [`format=${d.format}`, `vdev=${d.vdev}`, `access=${d.readOnly || d.cdrom ? 'ro' : 'rw'}`];
  if (d.cdrom) parts.push('devtype=cdrom');
  parts.push(`target=${d.target}`);
  return parts.join(', ');
}

/** The disks the draft boots from, the source ISO first as a CD-ROM on hdc. */
export function draftDisks(d: VmDraft): DraftDisk[] {
  const out: DraftDisk[] = [];
  if ((d.source === 'iso' || d.source === 'grub-iso') && d.iso.trim() !== '') {
    out.push({ target: d.iso.trim(), vdev: 'hdc', format: 'raw', readOnly: true, cdrom: true });
  }
  return [...out, ...d.disks.filter((x) => x.target.trim() !== '')];
}

/** Problems that stop the wizard at a step (empty when the draft can be written). */
export function draftProblems(d: VmDraft, step: 'source' | 'cpu' | 'storage' | 'console' | 'all'): string[] {
  const p: string[] = [];
  const all = step === 'all';
  if (all || step === 'source') {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(d.name)) p.push('Name: use letters, digits, ".", "_" and "-" (at most 64, starting with a letter or digit).');
    if (d.source === 'kernel' && d.kernel.trim() === '') p.push('Kernel: give the path of the kernel to boot directly.');
    if (d.source !== 'kernel' && d.iso.trim() === '') p.push('ISO image: give the path of the ISO to boot from.');
    if (d.source !== 'kernel' && d.type === 'pvh') p.push('A PVH guest has no emulated CD-ROM; boot it with a direct kernel.');
  }
  if (all || step === 'cpu') {
    if (!(d.vcpus >= 1 && d.vcpus <= 128)) p.push('vCPUs: from 1 to 128.');
    if (d.maxvcpus < d.vcpus) p.push('Maximum vCPUs cannot be below the vCPUs started.');
    if (!(d.memoryMiB >= 2)) p.push('Memory: at least 2 MiB.');
    if (d.maxmemMiB < d.memoryMiB) p.push('Maximum memory cannot be below the memory at start.');
  }
  if (all || step === 'storage') {
    const seen = new Set<string>();
    for (const x of draftDisks(d)) {
      if (!/^(hd[a-z]|xvd[a-z]+|sd[a-z]+)$/.test(x.vdev)) p.push(`Disk ${x.target}: device "${x.vdev}" should be hda-hdd, xvdX or sdX.`);
      if (seen.has(x.vdev)) p.push(`Device ${x.vdev} is used twice.`);
      seen.add(x.vdev);
    }
  }
  if (all || step === 'console') {
    if (d.serial === 'file' && d.serialFile.trim() === '') p.push('Serial log file: give a path, or choose another console.');
    if (!(d.weight >= 1 && d.weight <= 65535)) p.push('Weight: from 1 to 65535.');
    if (!(d.cap >= 0 && d.cap <= 65535)) p.push('Cap: 0 (none) to 65535 %.');
  }
  return p;
}

/** The xl.cfg text of a draft. */
export function draftToXlCfg(d: VmDraft): string {
  const lines = ['# Created by the Domus New VM wizard', `name = ${xlString(d.name)}`, `type = ${xlString(d.type)}`, `memory = ${d.memoryMiB}`];
  if (d.maxmemMiB !== d.memoryMiB) lines.push(`maxmem = ${d.maxmemMiB}`);
  lines.push(`vcpus = ${d.vcpus}`);
  if (d.maxvcpus !== d.vcpus) lines.push(`maxvcpus = ${d.maxvcpus}`);
  if (d.cpus.trim() !== '' && d.cpus.trim() !== 'all') lines.push(`cpus = ${xlString(d.cpus.trim())}`);
  if (d.pool.trim() !== '' && d.pool !== 'Pool-0') lines.push(`pool = ${xlString(d.pool)}`);
  if (d.weight !== DEFAULT_WEIGHT) lines.push(`cpu_weight = ${d.weight}`);
  if (d.cap !== 0) lines.push(`cap = ${d.cap}`);
  if (d.rtdsPeriodUs > 0) lines.push(`period = ${d.rtdsPeriodUs}`);
  if (d.source === 'kernel') {
    lines.push(`kernel = ${xlString(d.kernel.trim())}`);
    if (d.ramdisk.trim() !== '') lines.push(`ramdisk = ${xlString(d.ramdisk.trim())}`);
    if (d.cmdline !== '') lines.push(`cmdline = ${xlString(d.cmdline)}`);
  } else {
    lines.push('boot = "d"');
  }
  const disks = draftDisks(d);
  if (disks.length > 0) lines.push(`disk = [ ${disks.map((x) => xlString(diskSpec(x))).join(', ')} ]`);
  if (d.serial === 'pty') lines.push("serial = [ 'pty' ]");
  else if (d.serial === 'file') lines.push(`serial = [ ${xlString(`file:${d.serialFile.trim()}`)} ]`);
  else lines.push("serial = [ 'none' ]");
  lines.push('nographic = 1');
  lines.push(`on_crash = ${xlString(d.onCrash)}`);
  return `${lines.join('\n')}\n`;
}

/** Line range [start, end) of a top-level `key = value` assignment (a list may span lines). */
function findKey(lines: readonly string[], key: string): [number, number] | undefined {
  const re = new RegExp(`^\\s*${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*=`);
  for (let i = 0; i < lines.length; i++) {
    if (!re.test(lines[i])) continue;
    let depth = 0;
    let j = i;
    for (; j < lines.length; j++) {
      const code = lines[j].replace(/(["'])(?:(?!\1).)*\1/g, '').replace(/#.*/, '');
      for (const ch of code) depth += ch === '[' ? 1 : ch === ']' ? -1 : 0;
      if (depth <= 0) break;
    }
    return [i, Math.min(j, lines.length - 1) + 1];
  }
  return undefined;
}

/** Sets (or with value undefined removes) a key in xl.cfg text, keeping every other line. */
export function setXlKey(text: string, key: string, value: string | undefined): string {
  const lines = text.replace(/\n$/, '').split('\n');
  const at = findKey(lines, key);
  const repl = value === undefined ? [] : [`${key} = ${value}`];
  if (at) lines.splice(at[0], at[1] - at[0], ...repl);
  else lines.push(...repl);
  return `${lines.join('\n')}\n`;
}

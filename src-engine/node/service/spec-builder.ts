/**
 * Turns a typed DomainConfig into what the hypervisor builds (DomainSpec): reads the kernel and
 * modules, resolves CPU lists against the host, maps scheduling keys. Relative paths in a config
 * file are taken relative to the file's directory (so library entries can carry their guests
 * beside them); configs without a file resolve against the working directory.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, DomusError, errorMessage } from '../../base/errors';
import { allCpus, parseCpuList, type CpuTopology } from '../../base/cpulist';
import type { DomainConfig } from '../../api/domain-config';
import { effectiveCmdline } from '../../config/domain-config-parse';
import type { DomainSpec, ModuleSpec } from '../../runtime/hv-domain';
import type { DriveSpec } from '../../runtime/hv-bios';
import type { CmosBootDevice } from '../../machine/cmos-layout';
import { isLinuxBzImage } from '../../boot/linux';

/** xl.cfg boot= letters (xl.cfg(5): a floppy, c hard disk, d CD-ROM, n network). */
const BOOT_LETTERS: Record<string, CmosBootDevice> = { a: 'floppy', c: 'disk', d: 'cdrom', n: 'network' };

/**
 * Parses a boot order as xl.cfg's boot= writes it ("dc": CD-ROM, then disk). `what` names the
 * setting in errors (boot=, --boot).
 */
export function parseBootOrder(order: string, what: string): CmosBootDevice[] {
  const out: CmosBootDevice[] = [];
  for (const ch of order.toLowerCase()) {
    const dev = BOOT_LETTERS[ch];
    if (dev === undefined) {
      throw new ConfigError('domain.boot', `${what} "${order}": "${ch}" is not a boot device; use c (disk), d (CD-ROM), a (floppy) or n (network).`, order);
    }
    if (!out.includes(dev)) out.push(dev);
  }
  if (out.length === 0) throw new ConfigError('domain.boot', `${what} is empty; use letters such as "dc" (CD-ROM, then disk).`, order);
  return out;
}

/** The drives of an HVM domain's disk= list, in BIOS order, with paths resolved. */
function biosDrives(c: DomainConfig, resolve: (p: string) => string): DriveSpec[] {
  const out: DriveSpec[] = [];
  for (const d of c.disks) {
    if (d.target === undefined || d.format === 'empty') continue; // a CD-ROM drive with no medium
    if (d.format !== 'raw') {
      throw new ConfigError(
        'domain.disk-format',
        `Domain "${c.name}": disk ${d.vdev} (${d.target}) is ${d.format}; Domus reads raw images only. Convert it with "qemu-img convert -O raw ${d.target} ${d.target}.img".`,
        d.target,
      );
    }
    out.push({ medium: d.cdrom ? 'cdrom' : 'disk', path: resolve(d.target), readOnly: d.readOnly });
  }
  return out;
}

function readGuestFile(file: string, what: string, key: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : errorMessage(e);
    throw new ConfigError('domain.file', `Cannot read the ${what} ${file} (${key}=): ${why}.`, file);
  }
}

function affinity(list: string | string[] | undefined, nr: number, topo: CpuTopology): number[][] | undefined {
  if (list === undefined) return undefined;
  const out: number[][] = [];
  for (let v = 0; v < nr; v++) {
    const item = Array.isArray(list) ? list[v] : list;
    out.push(item === undefined ? [...allCpus(topo.nrCpus)] : [...parseCpuList(item, topo)]);
  }
  return out;
}

/** Builds the hypervisor's spec for a config. `baseDir` resolves relative paths. */
export function buildDomainSpec(c: DomainConfig, baseDir: string, topo: CpuTopology): DomainSpec {
  const resolve = (p: string) => path.resolve(baseDir, p);
  const common = {
    name: c.name,
    uuid: c.uuid,
    memoryMiB: c.memoryMiB,
    vcpus: c.vcpus,
    maxVcpus: c.maxvcpus,
    pool: c.pool,
    weight: c.cpuWeight,
    cap: c.cap,
    hard: affinity(c.cpus, c.maxvcpus, topo),
    soft: affinity(c.cpusSoft, c.maxvcpus, topo),
    uarts: [1 as const],
  };
  if (c.type === 'pvh' && c.kernel === undefined) {
    throw new DomusError('domain.no-kernel', `Domain "${c.name}": a PVH guest boots its kernel directly; give kernel= (an ELF with a PVH entry note).`, c.name);
  }
  if (c.kernel === undefined) {
    const drives = biosDrives(c, resolve);
    if (drives.length === 0) {
      throw new DomusError(
        'domain.no-boot',
        `Domain "${c.name}" has nothing to boot: add a disk= entry (for example 'disk = [ "file.iso,,hdc,cdrom" ]') or a kernel= for a direct boot.`,
        c.name,
      );
    }
    return { ...common, bios: { drives, bootOrder: parseBootOrder(c.boot, 'boot=') } };
  }
  const kernelData = readGuestFile(resolve(c.kernel), 'kernel', 'kernel');
  const ramdisk = c.ramdisk === undefined ? undefined : { data: readGuestFile(resolve(c.ramdisk), 'ramdisk', 'ramdisk'), path: c.ramdisk };
  const cmdline = effectiveCmdline(c) ?? '';
  // An HVM direct boot of a Linux bzImage takes ramdisk= as its initrd; a multiboot kernel (and
  // a PVH kernel) gets it as its first module.
  if (c.type !== 'pvh' && isLinuxBzImage(kernelData)) {
    return { ...common, kernel: { data: kernelData, path: c.kernel, cmdline, modules: [], initrd: ramdisk } };
  }
  const modules: ModuleSpec[] = ramdisk === undefined ? [] : [{ ...ramdisk, args: '' }];
  const kernel = { data: kernelData, path: c.kernel, cmdline, modules };
  if (c.type === 'pvh') return { ...common, kernel, pvh: pvhSpec(c, resolve) };
  return { ...common, kernel };
}

/** MAC of vif number `i` of a domain that gave none: Xen's OUI 00:16:3e, the rest from the name. */
function derivedMac(name: string, i: number): string {
  let h = 2166136261;
  for (const ch of `${name}/${i}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  const b = [(h >>> 16) & 0x7f, (h >>> 8) & 0xff, h & 0xff];
  return ['00', '16', '3e', ...b.map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

/** PV disks and vifs of a PVH domain. */
function pvhSpec(c: DomainConfig, resolve: (p: string) => string): NonNullable<DomainSpec['pvh']> {
  const disks = c.disks
    .filter((d) => d.target !== undefined && d.format !== 'empty')
    .map((d) => {
      if (d.format !== 'raw') {
        throw new ConfigError('domain.disk-format', `Domain "${c.name}": disk ${d.vdev} (${d.target}) is ${d.format}; Domus reads raw images only.`, d.target);
      }
      return { vdev: d.vdev, drive: { medium: d.cdrom ? ('cdrom' as const) : ('disk' as const), path: resolve(d.target as string), readOnly: d.readOnly } };
    });
  const vifs = c.vifs.map((v, i) => ({ mac: v.params.mac ?? derivedMac(c.name, i) }));
  return { disks, vifs, maxPages: (c.maxmemMiB * 2 ** 20) / 4096 };
}

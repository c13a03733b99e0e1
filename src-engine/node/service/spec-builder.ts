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
  if (c.type === 'pvh') {
    throw new DomusError('domain.pvh-not-yet', `Domain "${c.name}": type = "pvh" guests are not supported yet (PVH support is being built); use type = "hvm".`, c.name);
  }
  if (c.kernel === undefined) {
    throw new DomusError(
      'domain.no-boot',
      `Domain "${c.name}": booting from disks through a BIOS is not supported yet; give a multiboot kernel with kernel= (direct boot, like QEMU -kernel).`,
      c.name,
    );
  }
  const resolve = (p: string) => path.resolve(baseDir, p);
  const modules: ModuleSpec[] = [];
  if (c.ramdisk !== undefined) {
    const p = resolve(c.ramdisk);
    modules.push({ data: readGuestFile(p, 'ramdisk', 'ramdisk'), path: c.ramdisk, args: '' });
  }
  const kernelPath = resolve(c.kernel);
  const serialFile = c.serial.find((s) => s.kind === 'file');
  void serialFile;
  return {
    name: c.name,
    uuid: c.uuid,
    memoryMiB: c.memoryMiB,
    vcpus: c.vcpus,
    maxVcpus: c.maxvcpus,
    kernel: { data: readGuestFile(kernelPath, 'kernel', 'kernel'), path: c.kernel, cmdline: effectiveCmdline(c) ?? '', modules },
    pool: c.pool,
    weight: c.cpuWeight,
    cap: c.cap,
    hard: affinity(c.cpus, c.maxvcpus, topo),
    soft: affinity(c.cpusSoft, c.maxvcpus, topo),
    uarts: [1],
  };
}

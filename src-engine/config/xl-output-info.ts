/**
 * `xl info [-n] [-x] [NAME]` exactly as tools/xl/xl_info.c prints it: "key" padded to 23
 * characters, ": ", value, in xl's order (host, physical info, [NUMA], Xen version, [Xenstore],
 * xend_config_format). With NAME, only the values of the lines whose key starts with NAME are
 * printed (xl's maybe_printf), unless -n is given.
 */
import { padLeft, padRight } from './c-format';

/** virt_caps words in the order xl prints them. */
export const XL_VIRT_CAPS = ['pv', 'hvm', 'hvm_directio', 'pv_directio', 'hap', 'shadow', 'iommu_hap_pt_share', 'vmtrace', 'vpmu', 'gnttab-v1', 'gnttab-v2'] as const;

/** One of the words `xl info` may list under virt_caps. */
export type XlVirtCap = (typeof XL_VIRT_CAPS)[number];

/** Host facts for `xl info`, filled with the engine's values. */
export interface XlInfo {
  host: string;
  release: string;
  version: string;
  machine: string;
  nrCpus: number;
  maxCpuId: number;
  nrNodes: number;
  coresPerSocket: number;
  threadsPerCore: number;
  /** CPU frequency in kHz (printed as MHz with three decimals). */
  cpuKhz: number;
  /** Eight 32-bit words of hardware capabilities. */
  hwCaps: readonly number[];
  virtCaps: readonly XlVirtCap[];
  totalMemoryMiB: number;
  freeMemoryMiB: number;
  sharingFreedMemoryMiB: number;
  sharingUsedMemoryMiB: number;
  outstandingClaimsMiB: number;
  freeCpus: number;
  xenMajor: number;
  xenMinor: number;
  /** e.g. ".0" or "-domus"; printed after major.minor in xen_version. */
  xenExtra: string;
  xenCaps: string;
  xenScheduler: string;
  xenPagesize: number;
  virtStart: bigint;
  xenChangeset: string;
  xenCommandline: string;
  ccCompiler: string;
  ccCompileBy: string;
  ccCompileDomain: string;
  ccCompileDate: string;
  buildId: string;
  xenstoreFeatures?: number;
  /** For -n: per-pCPU topology and per-node memory. */
  cpuTopology?: ReadonlyArray<{ core: number; socket: number; node: number }>;
  numaNodes?: ReadonlyArray<{ memsizeMiB: number; memfreeMiB: number; distances: readonly number[] }>;
}

/** The width of xl info's key column ("xen_major              : "). */
const KEY_WIDTH = 23;
/** hw_caps words and their printf width (%08x). */
const HW_CAP_WORDS = 8;
const HEX32_DIGITS = 8;
const KHZ_PER_MHZ = 1000;

const hex = (n: number | bigint, digits = 0) => padLeft(n.toString(16), digits).replace(/ /g, '0');

/** Lines of the form "key<pad>: value\n", the ones `xl info NAME` can select. */
function keyed(key: string, value: string): string {
  return `${padRight(key, KEY_WIDTH)}: ${value}\n`;
}

function numaLines(i: XlInfo): string[] {
  const out: string[] = [];
  out.push(`${padRight('cpu_topology', KEY_WIDTH)}:\n`, 'cpu:    core    socket     node\n');
  (i.cpuTopology ?? []).forEach((t, cpu) => out.push(`${padLeft(String(cpu), 3)}:    ${padLeft(String(t.core), 4)}     ${padLeft(String(t.socket), 4)}     ${padLeft(String(t.node), 4)}\n`));
  out.push(`${padRight('device topology', KEY_WIDTH)}:\n`, 'device           node\n', 'No device topology data available\n');
  out.push(`${padRight('numa_info', KEY_WIDTH)}:\n`, 'node:    memsize    memfree    distances\n');
  (i.numaNodes ?? []).forEach((n, node) =>
    out.push(`${padLeft(String(node), 4)}:    ${padLeft(String(n.memsizeMiB), 6)}     ${padLeft(String(n.memfreeMiB), 6)}      ${n.distances.join(',')}\n`),
  );
  return out;
}

/** The full `xl info` text. `only` selects values by key prefix, as `xl info NAME` does. */
export function formatXlInfo(i: XlInfo, options: { numa?: boolean; xenstore?: boolean; only?: string } = {}): string {
  const hwCaps = Array.from({ length: HW_CAP_WORDS }, (_, k) => hex(i.hwCaps[k] ?? 0, HEX32_DIGITS)).join(':');
  const caps = XL_VIRT_CAPS.filter((c) => i.virtCaps.includes(c)).map((c) => ` ${c}`).join('');
  const lines: string[] = [
    keyed('host', i.host),
    keyed('release', i.release),
    keyed('version', i.version),
    keyed('machine', i.machine),
    keyed('nr_cpus', String(i.nrCpus)),
    keyed('max_cpu_id', String(i.maxCpuId)),
    keyed('nr_nodes', String(i.nrNodes)),
    keyed('cores_per_socket', String(i.coresPerSocket)),
    keyed('threads_per_core', String(i.threadsPerCore)),
    keyed('cpu_mhz', `${Math.floor(i.cpuKhz / KHZ_PER_MHZ)}.${padLeft(String(i.cpuKhz % KHZ_PER_MHZ), 3).replace(/ /g, '0')}`),
    keyed('hw_caps', hwCaps),
    `${padRight('virt_caps', KEY_WIDTH)}:${caps}\n`, // "virt_caps              :%s%s..." (no space of its own)
    keyed('total_memory', String(i.totalMemoryMiB)),
    keyed('free_memory', String(i.freeMemoryMiB)),
    keyed('sharing_freed_memory', String(i.sharingFreedMemoryMiB)),
    keyed('sharing_used_memory', String(i.sharingUsedMemoryMiB)),
    keyed('outstanding_claims', String(i.outstandingClaimsMiB)),
    keyed('free_cpus', String(i.freeCpus)),
  ];
  if (options.numa) lines.push(...numaLines(i));
  lines.push(
    keyed('xen_major', String(i.xenMajor)),
    keyed('xen_minor', String(i.xenMinor)),
    keyed('xen_extra', i.xenExtra),
    keyed('xen_version', `${i.xenMajor}.${i.xenMinor}${i.xenExtra}`),
    keyed('xen_caps', i.xenCaps),
    keyed('xen_scheduler', i.xenScheduler),
    keyed('xen_pagesize', String(i.xenPagesize)),
    keyed('platform_params', `virt_start=0x${hex(i.virtStart)}`),
    keyed('xen_changeset', i.xenChangeset),
    keyed('xen_commandline', i.xenCommandline),
    keyed('cc_compiler', i.ccCompiler),
    keyed('cc_compile_by', i.ccCompileBy),
    keyed('cc_compile_domain', i.ccCompileDomain),
    keyed('cc_compile_date', i.ccCompileDate),
    keyed('build_id', i.buildId),
  );
  if (options.xenstore) lines.push(keyed('xenstore_features', `0x${hex(i.xenstoreFeatures ?? 0, HEX32_DIGITS)}`));
  lines.push(keyed('xend_config_format', '4'));
  if (options.only === undefined || options.numa) return lines.join('');
  // maybe_printf: a line whose text starts with NAME and whose first ':' is followed by a space.
  const only = options.only;
  return lines
    .filter((l) => l.startsWith(only))
    .map((l) => {
      const colon = l.indexOf(':');
      return colon >= 0 && l[colon + 1] === ' ' ? l.slice(colon + 2) : undefined;
    })
    .filter((v): v is string => v !== undefined)
    .join('');
}

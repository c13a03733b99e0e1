/**
 * Xen's CPU-list syntax (xl.cfg `cpus=`, `xl vcpu-pin`, `xl cpupool-cpu-add`) and xl's bitmap
 * printer. Facts: spec/schedulers.md sections 7.2 and 7.4 (tools/xl/xl_parse.c parse_cpurange,
 * tools/xl/xl_utils.c print_bitmap).
 *
 * Items are comma-separated and applied left to right to an initially empty set:
 * `N`, `A-B` add; `^N`, `^A-B` remove; `all` adds every pCPU; `node:N`, `nodes:A-B`, `nodes:all`
 * add whole NUMA nodes and `^node:N` removes one. `^all` is refused.
 */
import { ConfigError } from './errors';

/** A set of pCPU numbers, kept sorted and without duplicates. */
export type CpuSet = readonly number[];

/** The host topology the parser needs: how many pCPUs, and which pCPUs each NUMA node has. */
export interface CpuTopology {
  nrCpus: number;
  /** pCPU numbers per node; defaults to a single node holding every pCPU. */
  nodes?: readonly (readonly number[])[];
}

function nodesOf(topo: CpuTopology): readonly (readonly number[])[] {
  return topo.nodes ?? [Array.from({ length: topo.nrCpus }, (_, i) => i)];
}

function parseRange(text: string, item: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) throw new ConfigError('cpulist.invalid', `Invalid pcpu range: ${item}.`, item);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (b < a) throw new ConfigError('cpulist.invalid', `Invalid pcpu range: ${item}.`, item);
  return [a, b];
}

/**
 * Parses a CPU list. pCPU numbers beyond the topology are kept (xl stores the mask as given);
 * callers that need them inside the host or a pool intersect afterwards.
 */
export function parseCpuList(list: string, topo: CpuTopology): CpuSet {
  const set = new Set<number>();
  const items = list.split(',').map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === '')) {
    throw new ConfigError('cpulist.invalid', `Invalid pcpu range: ${list}.`, list);
  }
  for (const raw of items) {
    const neg = raw.startsWith('^');
    const item = neg ? raw.slice(1) : raw;
    let cpus: number[];
    if (item === 'all') {
      if (neg) throw new ConfigError('cpulist.invalid', 'Can\'t combine "^" and "all".', raw);
      cpus = Array.from({ length: topo.nrCpus }, (_, i) => i);
    } else if (/^nodes?:/.test(item)) {
      const spec = item.slice(item.indexOf(':') + 1);
      const nodes = nodesOf(topo);
      let nodeIds: number[];
      if (spec === 'all') {
        if (neg) throw new ConfigError('cpulist.invalid', 'Can\'t combine "^" and "all".', raw);
        nodeIds = nodes.map((_, i) => i);
      } else {
        const [a, b] = parseRange(spec, raw);
        if (b >= nodes.length) throw new ConfigError('cpulist.invalid', `Invalid pcpu range: ${raw}.`, raw);
        nodeIds = [];
        for (let n = a; n <= b; n++) nodeIds.push(n);
      }
      cpus = nodeIds.flatMap((n) => [...nodes[n]]);
    } else {
      const [a, b] = parseRange(item, raw);
      cpus = [];
      for (let c = a; c <= b; c++) cpus.push(c);
    }
    for (const c of cpus) {
      if (neg) set.delete(c);
      else set.add(c);
    }
  }
  return [...set].sort((x, y) => x - y);
}

/**
 * Prints a set the way xl does over pCPUs 0..nrCpus-1: `none`, `all`, or runs such as `0-1,3,5-7`.
 */
export function formatCpuSet(set: CpuSet, nrCpus: number): string {
  const inRange = set.filter((c) => c >= 0 && c < nrCpus);
  if (inRange.length === 0) return 'none';
  if (inRange.length === nrCpus) return 'all';
  const parts: string[] = [];
  let i = 0;
  while (i < inRange.length) {
    let j = i;
    while (j + 1 < inRange.length && inRange[j + 1] === inRange[j] + 1) j++;
    parts.push(i === j ? `${inRange[i]}` : `${inRange[i]}-${inRange[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** All pCPUs 0..nrCpus-1. */
export function allCpus(nrCpus: number): CpuSet {
  return Array.from({ length: nrCpus }, (_, i) => i);
}

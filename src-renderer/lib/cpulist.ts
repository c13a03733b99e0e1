/**
 * Xen CPU lists in the GUI ("0-1,3", "all", "^2"): parsing what the user types into a set of pCPUs
 * and printing a set back the way xl does. The engine parses again and has the last word; this
 * copy lets the pinning grid and the text field follow each other while the user edits.
 */

/** Parses a CPU list over `nrCpus` pCPUs; throws an Error naming the bad item. */
export function parseCpuList(text: string, nrCpus: number): number[] {
  const set = new Set<number>();
  const items = text.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new Error(`"${text}" is not a CPU list: an item is empty.`);
  for (const raw of items) {
    const neg = raw.startsWith('^');
    const item = neg ? raw.slice(1) : raw;
    let cpus: number[];
    if (item === 'all') {
      if (neg) throw new Error('"^all" is not allowed.');
      cpus = Array.from({ length: nrCpus }, (_, i) => i);
    } else {
      const m = /^(\d+)(?:-(\d+))?$/.exec(item);
      if (!m) throw new Error(`"${raw}" is not a pCPU number or range (write e.g. 0-1,3).`);
      const a = Number(m[1]);
      const b = m[2] === undefined ? a : Number(m[2]);
      if (b < a) throw new Error(`"${raw}" is a backwards range.`);
      if (b >= nrCpus) throw new Error(`pCPU ${b} does not exist (this host has pCPUs 0-${nrCpus - 1}).`);
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

/** Prints a set as xl does: ranges joined by commas, "all" when it holds every pCPU, "none" when empty. */
export function formatCpuList(cpus: readonly number[], nrCpus?: number): string {
  const s = [...new Set(cpus)].sort((a, b) => a - b);
  if (s.length === 0) return 'none';
  if (nrCpus !== undefined && s.length === nrCpus && s[0] === 0 && s[s.length - 1] === nrCpus - 1) return 'all';
  const parts: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    parts.push(i === j ? String(s[i]) : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

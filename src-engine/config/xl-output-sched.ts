/**
 * Byte-exact renderings of `xl sched-credit`, `xl sched-credit2`, `xl sched-rtds` and
 * `xl cpupool-list` (tools/xl/xl_sched.c, xl_cpupool.c; spec/schedulers.md 8.3 to 8.6).
 * Each listing is the concatenation xl prints: per pool of that scheduler, the pool line, the
 * header, then the pool's domains.
 */
import { cInt, padLeft, padRight } from './c-format';

/** Credit pool parameters, or "unavailable" when they could not be read. */
export type CreditPoolParams =
  | { pool: string; tsliceMs: number; ratelimitUs: number; migrationDelayUs: number }
  | { pool: string; unavailable: true };

/** Credit2 pool parameters, or "unavailable". */
export type Credit2PoolParams = { pool: string; ratelimitUs: number } | { pool: string; unavailable: true };

/** A domain's credit/credit2 parameters. */
export interface SchedDomainRow {
  name: string;
  domid: number;
  weight: number;
  cap: number;
}

/** "Cpupool %s: tslice=%dms ratelimit=%dus migration-delay=%dus" or "[sched params unavailable]". */
export function formatCreditPoolLine(p: CreditPoolParams): string {
  if ('unavailable' in p) return `Cpupool ${p.pool}: [sched params unavailable]\n`;
  return `Cpupool ${p.pool}: tslice=${p.tsliceMs}ms ratelimit=${p.ratelimitUs}us migration-delay=${p.migrationDelayUs}us\n`;
}

/** "Cpupool %s: ratelimit=%dus" or "[sched params unavailable]". */
export function formatCredit2PoolLine(p: Credit2PoolParams): string {
  if ('unavailable' in p) return `Cpupool ${p.pool}: [sched params unavailable]\n`;
  return `Cpupool ${p.pool}: ratelimit=${p.ratelimitUs}us\n`;
}

/** Credit and credit2 domain header: "%-33s %4s %6s %4s". */
export function formatSchedDomainHeader(): string {
  return `${padRight('Name', 33)} ${padLeft('ID', 4)} ${padLeft('Weight', 6)} ${padLeft('Cap', 4)}\n`;
}

/** Credit and credit2 domain row: "%-33s %4d %6d %4d". */
export function formatSchedDomainRow(r: SchedDomainRow): string {
  return `${padRight(r.name, 33)} ${cInt(r.domid, 4)} ${cInt(r.weight, 6)} ${cInt(r.cap, 4)}\n`;
}

/** `xl sched-credit [-p POOL]`: for each credit pool, pool line, header, its domains. */
export function formatSchedCreditListing(pools: ReadonlyArray<{ params: CreditPoolParams; domains: readonly SchedDomainRow[] }>): string {
  return pools.map((p) => formatCreditPoolLine(p.params) + formatSchedDomainHeader() + p.domains.map(formatSchedDomainRow).join('')).join('');
}

/** `xl sched-credit2 [-p POOL]`: as credit, with credit2's pool line. */
export function formatSchedCredit2Listing(pools: ReadonlyArray<{ params: Credit2PoolParams; domains: readonly SchedDomainRow[] }>): string {
  return pools.map((p) => formatCredit2PoolLine(p.params) + formatSchedDomainHeader() + p.domains.map(formatSchedDomainRow).join('')).join('');
}

/** `xl sched-credit -d D` / `xl sched-credit2 -d D`: header and the domain's row (no pool line). */
export function formatSchedDomain(r: SchedDomainRow): string {
  return formatSchedDomainHeader() + formatSchedDomainRow(r);
}

/** RTDS parameters of a domain (its defaults) or of one vCPU. */
export interface RtdsDomainRow {
  name: string;
  domid: number;
  periodUs: number;
  budgetUs: number;
  extratime: boolean;
}

/** RTDS parameters of one vCPU. */
export interface RtdsVcpuRow extends RtdsDomainRow {
  vcpu: number;
}

/** "Cpupool %s: sched=RTDS". */
export function formatRtdsPoolLine(pool: string): string {
  return `Cpupool ${pool}: sched=RTDS\n`;
}

/** RTDS domain header "%-33s %4s %9s %9s %10s" and row "%-33s %4d %9d %9d %10s". */
export function formatRtdsDomainHeader(): string {
  return `${padRight('Name', 33)} ${padLeft('ID', 4)} ${padLeft('Period', 9)} ${padLeft('Budget', 9)} ${padLeft('Extratime', 10)}\n`;
}

/** One RTDS domain row. */
export function formatRtdsDomainRow(r: RtdsDomainRow): string {
  return `${padRight(r.name, 33)} ${cInt(r.domid, 4)} ${cInt(r.periodUs, 9)} ${cInt(r.budgetUs, 9)} ${padLeft(r.extratime ? 'yes' : 'no', 10)}\n`;
}

/** RTDS vCPU header "%-33s %4s %4s %9s %9s %10s". */
export function formatRtdsVcpuHeader(): string {
  return `${padRight('Name', 33)} ${padLeft('ID', 4)} ${padLeft('VCPU', 4)} ${padLeft('Period', 9)} ${padLeft('Budget', 9)} ${padLeft('Extratime', 10)}\n`;
}

/** One RTDS vCPU row "%-33s %4d %4d %9u %9u %10s". */
export function formatRtdsVcpuRow(r: RtdsVcpuRow): string {
  return `${padRight(r.name, 33)} ${cInt(r.domid, 4)} ${cInt(r.vcpu, 4)} ${cInt(r.periodUs, 9)} ${cInt(r.budgetUs, 9)} ${padLeft(r.extratime ? 'yes' : 'no', 10)}\n`;
}

/** `xl sched-rtds [--cpupool=P]`: per RTDS pool, pool line, domain header, domain rows. */
export function formatSchedRtdsListing(pools: ReadonlyArray<{ pool: string; domains: readonly RtdsDomainRow[] }>): string {
  return pools.map((p) => formatRtdsPoolLine(p.pool) + formatRtdsDomainHeader() + p.domains.map(formatRtdsDomainRow).join('')).join('');
}

/** `xl sched-rtds -v all`: per RTDS pool, pool line, vCPU header, every vCPU of its domains. */
export function formatSchedRtdsVcpuListing(pools: ReadonlyArray<{ pool: string; vcpus: readonly RtdsVcpuRow[] }>): string {
  return pools.map((p) => formatRtdsPoolLine(p.pool) + formatRtdsVcpuHeader() + p.vcpus.map(formatRtdsVcpuRow).join('')).join('');
}

/** `xl sched-rtds -d D`: domain header and row. */
export function formatSchedRtdsDomain(r: RtdsDomainRow): string {
  return formatRtdsDomainHeader() + formatRtdsDomainRow(r);
}

/** `xl sched-rtds -d D -v N [-v M] | -v all`: vCPU header and rows. */
export function formatSchedRtdsVcpus(rows: readonly RtdsVcpuRow[]): string {
  return formatRtdsVcpuHeader() + rows.map(formatRtdsVcpuRow).join('');
}

/** One cpupool as `xl cpupool-list` shows it. */
export interface CpupoolRow {
  name: string;
  /** The pool's pCPUs, ascending. */
  cpus: readonly number[];
  /** Scheduler name: credit, credit2, rtds, arinc653, null. */
  sched: string;
  nDomains: number;
}

/**
 * `xl cpupool-list [-c]`: "%-19s" name, then "CPUs   Sched     Active   Domain count" /
 * "%3d %9s       y       %4d", or with -c "CPU list" / the pCPU numbers joined by ",".
 */
export function formatCpupoolList(rows: readonly CpupoolRow[], options: { cpus?: boolean } = {}): string {
  let out = padRight('Name', 19) + (options.cpus ? 'CPU list\n' : 'CPUs   Sched     Active   Domain count\n');
  for (const r of rows) {
    out += padRight(r.name, 19);
    out += options.cpus ? r.cpus.join(',') : `${cInt(r.cpus.length, 3)} ${padLeft(r.sched, 9)}       y       ${cInt(r.nDomains, 4)}`;
    out += '\n';
  }
  return out;
}

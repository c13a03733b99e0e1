/**
 * Byte-exact renderings of `xl list`, `xl vcpu-list` and `xl info` (tools/xl/xl_info.c,
 * xl_vcpu.c; spec/schedulers.md sections 8.1 and 8.2). Pure functions over plain rows; every
 * line ends with "\n" as xl prints it. The printf format each line follows is quoted beside it.
 */
import { formatCpuSet, type CpuSet } from '../base/cpulist';
import { cFixedWidth, cFloat, cInt, padLeft, padRight } from './c-format';

/** Why a domain shut down (libxl_shutdown_reason), as the 5th state letter of `xl list`. */
export type ShutdownReason = 'poweroff' | 'reboot' | 'suspend' | 'crash' | 'watchdog' | 'soft_reset';

/** xl's shutdown_reason_letters "-rscwS", indexed by reason. */
const SHUTDOWN_LETTER: Record<ShutdownReason, string> = {
  poweroff: '-',
  reboot: 'r',
  suspend: 's',
  crash: 'c',
  watchdog: 'w',
  soft_reset: 'S',
};

const NS_PER_S = 1e9;
const KIB_PER_MIB = 1024;

/** One domain as `xl list` shows it. */
export interface XlListRow {
  name: string;
  domid: number;
  /** Current plus outstanding memory, KiB; xl prints it divided by 1024, rounded down. */
  memoryKiB: number;
  vcpusOnline: number;
  running: boolean;
  blocked: boolean;
  paused: boolean;
  /** Set when the domain has shut down, with the reason. */
  shutdown: ShutdownReason | undefined;
  dying: boolean;
  /** Total CPU time, ns (printed via a C float, like xl). */
  cpuTimeNs: number;
  /** Cpupool name, for `xl list -c`. */
  pool?: string;
}

/** `xl list` header: "Name", padding, "ID   Mem VCPUs", TAB, "State", TAB, "Time(s)" [, Cpupool]. */
export function formatXlListHeader(cpupool = false): string {
  return `Name                                        ID   Mem VCPUs\tState\tTime(s)${cpupool ? '         Cpupool' : ''}\n`;
}

/** One `xl list` row: "%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f" [+ "%16s" pool]. */
export function formatXlListRow(r: XlListRow, cpupool = false): string {
  const state =
    (r.running ? 'r' : '-') +
    (r.blocked ? 'b' : '-') +
    (r.paused ? 'p' : '-') +
    (r.shutdown ? 's' : '-') +
    (r.shutdown ? SHUTDOWN_LETTER[r.shutdown] : '-') +
    (r.dying ? 'd' : '-');
  const mem = Math.floor(r.memoryKiB / KIB_PER_MIB);
  let line = `${padRight(r.name, 40)} ${cInt(r.domid, 5)} ${cInt(mem, 5)} ${cInt(r.vcpusOnline, 5)}     ${state}  ${cFixedWidth(cFloat(r.cpuTimeNs) / NS_PER_S, 8, 1)}`;
  if (cpupool) line += padLeft(r.pool ?? '', 16);
  return `${line}\n`;
}

/** The whole `xl list [-c]` output. */
export function formatXlList(rows: readonly XlListRow[], options: { cpupool?: boolean } = {}): string {
  return formatXlListHeader(options.cpupool) + rows.map((r) => formatXlListRow(r, options.cpupool)).join('');
}

/** One vCPU as `xl vcpu-list` shows it. */
export interface XlVcpuRow {
  name: string;
  domid: number;
  vcpu: number;
  online: boolean;
  /** pCPU it runs or last ran on (ignored when offline). */
  cpu: number;
  running: boolean;
  blocked: boolean;
  timeNs: number;
  hard: CpuSet;
  soft: CpuSet;
}

/** `xl vcpu-list` header: "%-32s %5s %5s %5s %5s %9s %s\n". */
export function formatXlVcpuListHeader(): string {
  return `${padRight('Name', 32)} ${padLeft('ID', 5)} ${padLeft('VCPU', 5)} ${padLeft('CPU', 5)} ${padLeft('State', 5)} ${padLeft('Time(s)', 9)} Affinity (Hard / Soft)\n`;
}

/**
 * One `xl vcpu-list` row: "%-32s %5u %5u" then, with no space between, "%5u %3c%c- " (online) or
 * "%5c %3c%cp " with '-' (offline), then "%9.1f  " and "HARD / SOFT" over pCPUs 0..nrCpus-1.
 */
export function formatXlVcpuRow(r: XlVcpuRow, nrCpus: number): string {
  const head = `${padRight(r.name, 32)} ${cInt(r.domid, 5)} ${cInt(r.vcpu, 5)}`;
  const cpuState = r.online
    ? `${cInt(r.cpu, 5)} ${padLeft(r.running ? 'r' : '-', 3)}${r.blocked ? 'b' : '-'}- `
    : `${padLeft('-', 5)} ${padLeft('-', 3)}-p `;
  const time = `${cFixedWidth(cFloat(r.timeNs) / NS_PER_S, 9, 1)}  `;
  return `${head}${cpuState}${time}${formatCpuSet(r.hard, nrCpus)} / ${formatCpuSet(r.soft, nrCpus)}\n`;
}

/** The whole `xl vcpu-list` output; nrCpus = max_cpu_id + 1 of the host. */
export function formatXlVcpuList(rows: readonly XlVcpuRow[], nrCpus: number): string {
  return formatXlVcpuListHeader() + rows.map((r) => formatXlVcpuRow(r, nrCpus)).join('');
}

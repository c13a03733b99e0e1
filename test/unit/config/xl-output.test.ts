import { describe, expect, it } from 'vitest';
import { formatXlList, formatXlVcpuList, type XlListRow, type XlVcpuRow } from '../../../src-engine/config/xl-output-domains';
import { formatXlInfo, type XlInfo } from '../../../src-engine/config/xl-output-info';
import {
  formatCpupoolList,
  formatSchedCredit2Listing,
  formatSchedCreditListing,
  formatSchedDomain,
  formatSchedRtdsDomain,
  formatSchedRtdsListing,
  formatSchedRtdsVcpuListing,
  formatSchedRtdsVcpus,
} from '../../../src-engine/config/xl-output-sched';
import { sprintf } from './c-sprintf';

// CPU times chosen exactly representable as C floats, so (float)ns/1e9 is ns/1e9.
const S = 2 ** 27; // ns, ~0.134 s
const dom0: XlListRow = { name: 'Domain-0', domid: 0, memoryKiB: 4096 * 1024 + 1023, vcpusOnline: 2, running: true, blocked: false, paused: false, shutdown: undefined, dying: false, cpuTimeNs: 919 * S, pool: 'Pool-0' };
const vm1: XlListRow = { name: 'vm1', domid: 3, memoryKiB: 1024 * 1024, vcpusOnline: 4, running: false, blocked: true, paused: false, shutdown: undefined, dying: false, cpuTimeNs: 37 * S, pool: 'rt-pool' };
const crashed: XlListRow = { name: 'a-very-long-domain-name-that-overflows-forty-columns', domid: 12, memoryKiB: 512, vcpusOnline: 1, running: false, blocked: false, paused: true, shutdown: 'crash', dying: true, cpuTimeNs: 0, pool: 'p' };

const LIST_ROW = '%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f';

describe('xl list', () => {
  it('matches the printf formats of xl_info.c, with and without -c', () => {
    const header = `Name${' '.repeat(40)}ID   Mem VCPUs\tState\tTime(s)`;
    const row = (r: XlListRow, flags: string) => sprintf(LIST_ROW, r.name, r.domid, Math.floor(r.memoryKiB / 1024), r.vcpusOnline, ...flags, r.cpuTimeNs / 1e9);
    const rows = [row(dom0, 'r-----'), row(vm1, '-b----'), row(crashed, '--pscd')];
    expect(formatXlList([dom0, vm1, crashed])).toBe(`${header}\n${rows.join('\n')}\n`);
    const withPools = rows.map((r, i) => r + sprintf('%16s', [dom0, vm1, crashed][i].pool!));
    expect(formatXlList([dom0, vm1, crashed], { cpupool: true })).toBe(`${header}         Cpupool\n${withPools.join('\n')}\n`);
  });

  it('prints each shutdown reason letter of "-rscwS"', () => {
    const reasons = ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset'] as const;
    const letters = reasons.map((shutdown) => formatXlList([{ ...vm1, blocked: false, shutdown }]).split('\n')[1].slice(63, 69));
    expect(letters).toEqual(['---s--', '---sr-', '---ss-', '---sc-', '---sw-', '---sS-']);
  });

  it('reproduces the example of spec 8.1', () => {
    const out = formatXlList([{ ...dom0, cpuTimeNs: 123.4e9 }], { cpupool: true }).split('\n')[1];
    expect(out).toBe('Domain-0                                     0  4096     2     r-----     123.4          Pool-0');
  });
});

describe('xl vcpu-list', () => {
  const rows: XlVcpuRow[] = [
    { name: 'Domain-0', domid: 0, vcpu: 0, online: true, cpu: 1, running: true, blocked: false, timeNs: 92 * S, hard: [0, 1, 2, 3], soft: [0, 1, 2, 3] },
    { name: 'vm1', domid: 3, vcpu: 1, online: true, cpu: 0, running: false, blocked: true, timeNs: 4 * S, hard: [0, 1, 3], soft: [2] },
    { name: 'vm1', domid: 3, vcpu: 2, online: false, cpu: 0, running: false, blocked: false, timeNs: 0, hard: [0, 1, 2, 3], soft: [] },
  ];

  it('matches the printf formats of xl_vcpu.c, missing space included', () => {
    const header = sprintf('%-32s %5s %5s %5s %5s %9s %s\n', 'Name', 'ID', 'VCPU', 'CPU', 'State', 'Time(s)', 'Affinity (Hard / Soft)');
    const expected =
      header +
      sprintf('%-32s %5u %5u', 'Domain-0', 0, 0) + sprintf('%5u %3c%c- ', 1, 'r', '-') + sprintf('%9.1f  ', (92 * S) / 1e9) + 'all / all\n' +
      sprintf('%-32s %5u %5u', 'vm1', 3, 1) + sprintf('%5u %3c%c- ', 0, '-', 'b') + sprintf('%9.1f  ', (4 * S) / 1e9) + '0-1,3 / 2\n' +
      sprintf('%-32s %5u %5u', 'vm1', 3, 2) + sprintf('%5c %3c%cp ', '-', '-', '-') + sprintf('%9.1f  ', 0) + 'all / none\n';
    expect(formatXlVcpuList(rows, 4)).toBe(expected);
  });

  it('reproduces the example of spec 8.2', () => {
    const lines = formatXlVcpuList([{ ...rows[0], timeNs: 12.3e9 }, { ...rows[1], timeNs: 0.5e9 }, { ...rows[2], soft: [0, 1, 2, 3] }], 4).split('\n');
    expect(lines.slice(0, 4)).toEqual([
      'Name                                ID  VCPU   CPU State   Time(s) Affinity (Hard / Soft)',
      'Domain-0                             0     0    1   r--      12.3  all / all',
      'vm1                                  3     1    0   -b-       0.5  0-1,3 / 2',
      'vm1                                  3     2    -   --p       0.0  all / all',
    ]);
  });
});

describe('xl sched-credit, sched-credit2, sched-rtds', () => {
  const doms = [
    { name: 'Domain-0', domid: 0, weight: 256, cap: 0 },
    { name: 'vm1', domid: 3, weight: 512, cap: 50 },
  ];
  const hdr = sprintf('%-33s %4s %6s %4s\n', 'Name', 'ID', 'Weight', 'Cap');
  const row = (d: (typeof doms)[0]) => sprintf('%-33s %4d %6d %4d\n', d.name, d.domid, d.weight, d.cap);

  it('lists credit pools: pool line, header, domains', () => {
    const out = formatSchedCreditListing([
      { params: { pool: 'Pool-0', tsliceMs: 30, ratelimitUs: 1000, migrationDelayUs: 0 }, domains: doms },
      { params: { pool: 'broken', unavailable: true }, domains: [] },
    ]);
    expect(out).toBe(
      sprintf('Cpupool %s: tslice=%dms ratelimit=%dus migration-delay=%dus\n', 'Pool-0', 30, 1000, 0) + hdr + row(doms[0]) + row(doms[1]) +
        'Cpupool broken: [sched params unavailable]\n' + hdr,
    );
    expect(out.split('\n').slice(0, 4)).toEqual([
      'Cpupool Pool-0: tslice=30ms ratelimit=1000us migration-delay=0us',
      'Name                                ID Weight  Cap',
      'Domain-0                             0    256    0',
      'vm1                                  3    512   50',
    ]);
    expect(formatSchedDomain(doms[1])).toBe(hdr + row(doms[1]));
  });

  it('lists credit2 pools with the ratelimit-only pool line', () => {
    expect(formatSchedCredit2Listing([{ params: { pool: 'Pool-0', ratelimitUs: 1000 }, domains: doms.slice(0, 1) }])).toBe(
      sprintf('Cpupool %s: ratelimit=%dus\n', 'Pool-0', 1000) + hdr + row(doms[0]),
    );
  });

  it('lists RTDS domains and vCPUs with the code\'s column widths', () => {
    const d = { name: 'vm1', domid: 3, periodUs: 10000, budgetUs: 4000, extratime: true };
    const v = { ...d, vcpu: 0, periodUs: 300, budgetUs: 150, extratime: false };
    const dHdr = sprintf('%-33s %4s %9s %9s %10s\n', 'Name', 'ID', 'Period', 'Budget', 'Extratime');
    const dRow = sprintf('%-33s %4d %9d %9d %10s\n', 'vm1', 3, 10000, 4000, 'yes');
    const vHdr = sprintf('%-33s %4s %4s %9s %9s %10s\n', 'Name', 'ID', 'VCPU', 'Period', 'Budget', 'Extratime');
    const vRow = sprintf('%-33s %4d %4d %9u %9u %10s\n', 'vm1', 3, 0, 300, 150, 'no');
    expect(formatSchedRtdsListing([{ pool: 'rt', domains: [d] }])).toBe(`Cpupool rt: sched=RTDS\n${dHdr}${dRow}`);
    expect(formatSchedRtdsVcpuListing([{ pool: 'rt', vcpus: [v] }])).toBe(`Cpupool rt: sched=RTDS\n${vHdr}${vRow}`);
    expect(formatSchedRtdsDomain(d)).toBe(dHdr + dRow);
    expect(formatSchedRtdsVcpus([v])).toBe(vHdr + vRow);
    expect((dHdr + dRow + vHdr + vRow).split('\n').slice(0, 4)).toEqual([
      'Name                                ID    Period    Budget  Extratime',
      'vm1                                  3     10000      4000        yes',
      'Name                                ID VCPU    Period    Budget  Extratime',
      'vm1                                  3    0       300       150         no',
    ]);
  });
});

describe('xl cpupool-list', () => {
  const pools = [
    { name: 'Pool-0', cpus: [0, 1], sched: 'credit2', nDomains: 1 },
    { name: 'rt', cpus: [2], sched: 'rtds', nDomains: 2 },
    { name: 'a-pool-name-longer-than-19', cpus: [], sched: 'arinc653', nDomains: 0 },
  ];

  it('matches "%-19s" + "%3d %9s       y       %4d", and -c with comma lists', () => {
    const rows = pools.map((p) => sprintf('%-19s', p.name) + sprintf('%3d %9s       y       %4d', p.cpus.length, p.sched, p.nDomains));
    expect(formatCpupoolList(pools)).toBe(`${sprintf('%-19s', 'Name')}CPUs   Sched     Active   Domain count\n${rows.join('\n')}\n`);
    expect(formatCpupoolList(pools, { cpus: true })).toBe(`${sprintf('%-19s', 'Name')}CPU list\nPool-0             0,1\nrt                 2\na-pool-name-longer-than-19\n`);
    expect(formatCpupoolList(pools).split('\n').slice(0, 3)).toEqual([
      'Name               CPUs   Sched     Active   Domain count',
      'Pool-0               2   credit2       y          1',
      'rt                   1      rtds       y          2',
    ]);
  });
});

describe('xl info', () => {
  const info: XlInfo = {
    host: 'desk', release: '6.1.0-domus', version: '#1 SMP', machine: 'x86_64',
    nrCpus: 4, maxCpuId: 3, nrNodes: 1, coresPerSocket: 4, threadsPerCore: 1, cpuKhz: 2400005,
    hwCaps: [0xbfebfbff, 0x77fafbff, 0x2c100800, 0x00000121, 0x0000000f, 0x009c6fbf, 0, 0x00000100],
    virtCaps: ['hap', 'hvm', 'gnttab-v1'],
    totalMemoryMiB: 8192, freeMemoryMiB: 6000, sharingFreedMemoryMiB: 0, sharingUsedMemoryMiB: 0, outstandingClaimsMiB: 0, freeCpus: 0,
    xenMajor: 4, xenMinor: 21, xenExtra: '-domus', xenCaps: 'xen-3.0-x86_32p hvm-3.0-x86_32 hvm-3.0-x86_32p', xenScheduler: 'credit2', xenPagesize: 4096,
    virtStart: 0xffff800000000000n, xenChangeset: 'unavailable', xenCommandline: 'sched=credit2', ccCompiler: 'tsc 5.9', ccCompileBy: 'domus',
    ccCompileDomain: 'localdomain', ccCompileDate: 'Thu Aug 20 2026', buildId: 'none', xenstoreFeatures: 3,
    cpuTopology: [{ core: 0, socket: 0, node: 0 }, { core: 1, socket: 0, node: 0 }],
    numaNodes: [{ memsizeMiB: 8192, memfreeMiB: 6000, distances: [10] }],
  };
  const kv = (k: string, v: string | number) => sprintf('%-23s: %s\n', k, String(v));
  const head =
    kv('host', 'desk') + kv('release', '6.1.0-domus') + kv('version', '#1 SMP') + kv('machine', 'x86_64') +
    kv('nr_cpus', 4) + kv('max_cpu_id', 3) + kv('nr_nodes', 1) + kv('cores_per_socket', 4) + kv('threads_per_core', 1) +
    kv('cpu_mhz', sprintf('%d.%03d', 2400, 5)) +
    kv('hw_caps', sprintf('%08x:%08x:%08x:%08x:%08x:%08x:%08x:%08x', 0xbfebfbff, 0x77fafbff, 0x2c100800, 0x121, 0xf, 0x9c6fbf, 0, 0x100)) +
    sprintf('%-23s:%s%s%s\n', 'virt_caps', ' hvm', ' hap', ' gnttab-v1') +
    kv('total_memory', 8192) + kv('free_memory', 6000) + kv('sharing_freed_memory', 0) + kv('sharing_used_memory', 0) + kv('outstanding_claims', 0) + kv('free_cpus', 0);
  const tail =
    kv('xen_major', 4) + kv('xen_minor', 21) + kv('xen_extra', '-domus') + kv('xen_version', '4.21-domus') +
    kv('xen_caps', info.xenCaps) + kv('xen_scheduler', 'credit2') + kv('xen_pagesize', 4096) + kv('platform_params', 'virt_start=0xffff800000000000') +
    kv('xen_changeset', 'unavailable') + kv('xen_commandline', 'sched=credit2') + kv('cc_compiler', 'tsc 5.9') + kv('cc_compile_by', 'domus') +
    kv('cc_compile_domain', 'localdomain') + kv('cc_compile_date', 'Thu Aug 20 2026') + kv('build_id', 'none');

  it('prints xl_info.c\'s keys in its order and layout', () => {
    expect(formatXlInfo(info)).toBe(head + tail + kv('xend_config_format', 4));
    expect(formatXlInfo(info, { xenstore: true })).toBe(head + tail + kv('xenstore_features', '0x00000003') + kv('xend_config_format', 4));
  });

  it('adds the topology and NUMA tables with -n', () => {
    const numa =
      'cpu_topology           :\ncpu:    core    socket     node\n' +
      sprintf('%3d:    %4d     %4d     %4d\n', 0, 0, 0, 0) + sprintf('%3d:    %4d     %4d     %4d\n', 1, 1, 0, 0) +
      'device topology        :\ndevice           node\nNo device topology data available\n' +
      'numa_info              :\nnode:    memsize    memfree    distances\n' + sprintf('%4d:    %6d     %6d      %d\n', 0, 8192, 6000, 10);
    expect(formatXlInfo(info, { numa: true })).toBe(head + numa + tail + kv('xend_config_format', 4));
  });

  it('selects values by key prefix like `xl info NAME`', () => {
    expect(formatXlInfo(info, { only: 'free_memory' })).toBe('6000\n');
    expect(formatXlInfo(info, { only: 'xen_' })).toBe('4\n21\n-domus\n4.21-domus\nxen-3.0-x86_32p hvm-3.0-x86_32 hvm-3.0-x86_32p\ncredit2\n4096\nunavailable\nsched=credit2\n');
    expect(formatXlInfo(info, { only: 'virt_caps' })).toBe('hvm hap gnttab-v1\n');
    expect(formatXlInfo({ ...info, virtCaps: [] }, { only: 'virt_caps' })).toBe('');
    expect(formatXlInfo(info, { only: 'nonsense' })).toBe('');
  });
});

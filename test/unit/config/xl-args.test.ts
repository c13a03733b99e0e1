import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatVcpuPinDryRun, parseVcpuPinArgs, splitCreateOperands } from '../../../src-engine/config/xl-args-vcpu';
import { parseSchedCredit2Args, parseSchedCreditArgs, parseSchedRtdsArgs } from '../../../src-engine/config/xl-args-sched';
import type { XlArgsResult } from '../../../src-engine/config/xl-getopt';
import { checkCreditParams, checkRatelimit, checkRtdsParams, checkWeightCap } from '../../../src-engine/config/sched-limits';

const TOPO = { nrCpus: 16, nodes: [[0, 1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14, 15]] };

/** Runs `xl -N vcpu-pin 0 all ARG` as check-xl-vcpupin-parse does: exit status and stdout. */
function dryRun(hard: string): [number, string] {
  const r = parseVcpuPinArgs(['0', 'all', hard], TOPO);
  if (r.kind === 'ok') return [0, formatVcpuPinDryRun(r.action, TOPO.nrCpus)];
  if (r.kind === 'help') return [0, ''];
  return [r.exitCode, ''];
}

function err<A>(r: XlArgsResult<A>): string {
  if (r.kind !== 'error') throw new Error(`not an error: ${JSON.stringify(r)}`);
  return r.message;
}

function ok<A>(r: XlArgsResult<A>): A {
  if (r.kind !== 'ok') throw new Error(`not ok: ${JSON.stringify(r)}`);
  return r.action;
}

const vectors = readFileSync(new URL('../../fixtures/xlcfg/vcpupin-vectors.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#'))
  .map((l) => {
    const m = /^(\S+)\s+(\d+)\s*(.*)$/.exec(l);
    if (!m) throw new Error(`bad vector line: ${l}`);
    return { input: m[1] === "''" ? '' : m[1], exit: Number(m[2]), out: m[3] ? `${m[3]}\n` : '' };
  });

describe('xl vcpu-pin', () => {
  it('has test vectors', () => expect(vectors.length).toBeGreaterThan(40));
  for (const v of vectors) {
    it(`dry-runs ${JSON.stringify(v.input)} -> ${v.exit} ${JSON.stringify(v.out)}`, () => {
      expect(dryRun(v.input)).toEqual([v.exit, v.out]);
    });
  }

  it('prints xl\'s error texts', () => {
    expect(err(parseVcpuPinArgs(['0', 'all', 'foo'], TOPO))).toBe('Invalid pcpu range: foo.');
    expect(err(parseVcpuPinArgs(['0', 'all', '^all'], TOPO))).toBe('Can\'t combine "^" and "all".');
    expect(err(parseVcpuPinArgs(['0', 'x', '1'], TOPO))).toBe('Error: Invalid argument x as VCPU.');
    expect(err(parseVcpuPinArgs(['-f', '0', 'all', '1'], TOPO))).toBe("Error: --force and 'all' as VCPU not allowed.");
    expect(err(parseVcpuPinArgs(['0', 'all', '-1'], TOPO))).toBe("option `1' not supported.");
    expect(err(parseVcpuPinArgs(['0', '1'], TOPO))).toBe("'xl vcpu-pin' requires at least 3 arguments.\n");
    expect(parseVcpuPinArgs(['0', '1'], TOPO)).toMatchObject({ exitCode: 2, showHelp: true });
    expect(parseVcpuPinArgs(['--help'], TOPO)).toEqual({ kind: 'help' });
  });

  it('reads options anywhere, "-" as "unchanged", and soft affinity', () => {
    expect(ok(parseVcpuPinArgs(['vm1', '3', '3,4'], TOPO))).toEqual({ domain: 'vm1', vcpu: 3, hard: [3, 4], soft: undefined, force: false, ignoreGlobalMasks: false });
    expect(ok(parseVcpuPinArgs(['vm1', '3', '-', '6-9', '--force'], TOPO))).toMatchObject({ vcpu: 3, hard: undefined, soft: [6, 7, 8, 9], force: true });
    expect(ok(parseVcpuPinArgs(['-fi', 'vm1', '3', '3,4', '-'], TOPO))).toMatchObject({ hard: [3, 4], soft: undefined, force: true, ignoreGlobalMasks: true });
    expect(ok(parseVcpuPinArgs(['--ignore', 'vm1', '2abc', 'all'], TOPO))).toMatchObject({ vcpu: 2, ignoreGlobalMasks: true }); // strtol prefix, long option prefix
    expect(formatVcpuPinDryRun({ hard: undefined, soft: [1] }, 4)).toBe('cpumap: - 1\n');
    expect(formatVcpuPinDryRun({ hard: [0, 1, 2, 3], soft: [] }, 4)).toBe('cpumap: all none\n');
  });
});

describe('xl sched-credit / sched-credit2 options', () => {
  it('maps each form to an action', () => {
    expect(ok(parseSchedCreditArgs([]))).toEqual({ kind: 'list', pool: undefined });
    expect(ok(parseSchedCreditArgs(['-p', 'Pool-0']))).toEqual({ kind: 'list', pool: 'Pool-0' });
    expect(ok(parseSchedCreditArgs(['-d', 'vm1']))).toEqual({ kind: 'show-domain', domain: 'vm1' });
    expect(ok(parseSchedCreditArgs(['-d', 'vm1', '-w', '512']))).toEqual({ kind: 'set-domain', domain: 'vm1', weight: 512, cap: undefined });
    expect(ok(parseSchedCreditArgs(['--domain=vm1', '--cap', '50']))).toEqual({ kind: 'set-domain', domain: 'vm1', weight: undefined, cap: 50 });
    expect(ok(parseSchedCreditArgs(['-s']))).toEqual({ kind: 'show-params', pool: undefined });
    expect(ok(parseSchedCreditArgs(['-s', '-p', 'rt', '-t', '10', '-m', '100']))).toEqual({
      kind: 'set-params', pool: 'rt', tsliceMs: 10, ratelimitUs: undefined, migrationDelayUs: 100,
    });
    expect(ok(parseSchedCreditArgs(['-dvm1', '-wjunk']))).toEqual({ kind: 'set-domain', domain: 'vm1', weight: 0, cap: undefined });
    expect(ok(parseSchedCredit2Args(['-s', '-r', '500']))).toEqual({ kind: 'set-params', pool: undefined, ratelimitUs: 500 });
    expect(ok(parseSchedCredit2Args(['-r', '500']))).toEqual({ kind: 'list', pool: undefined });
    expect(ok(parseSchedCredit2Args(['-d', '3', '-c', '150']))).toEqual({ kind: 'set-domain', domain: '3', weight: undefined, cap: 150 });
  });

  it('refuses option combinations with xl\'s words', () => {
    expect(err(parseSchedCreditArgs(['-p', 'P', '-d', 'vm1']))).toBe('Specifying a cpupool or schedparam is not allowed with domain options.');
    expect(err(parseSchedCreditArgs(['-s', '-w', '5']))).toBe('Specifying a cpupool or schedparam is not allowed with domain options.');
    expect(err(parseSchedCreditArgs(['-w', '5']))).toBe('Must specify a domain.');
    expect(err(parseSchedCreditArgs(['-t', '10']))).toBe('Must specify schedparam to set schedule parameter values.');
    expect(err(parseSchedCreditArgs(['-x']))).toBe("option `x' not supported.");
    expect(err(parseSchedCreditArgs(['-d']))).toBe("option `d' not supported.");
    expect(err(parseSchedCredit2Args(['-p', 'P', '-w', '5']))).toBe('Specifying a cpupool is not allowed with other options.');
    expect(err(parseSchedCredit2Args(['-c', '5']))).toBe('Must specify a domain.');
    expect(err(parseSchedCredit2Args(['-t', '5']))).toBe("option `t' not supported.");
  });
});

describe('xl sched-rtds options', () => {
  it('maps each form to an action', () => {
    expect(ok(parseSchedRtdsArgs([]))).toEqual({ kind: 'list', pool: undefined });
    expect(ok(parseSchedRtdsArgs(['--cpupool=rt']))).toEqual({ kind: 'list', pool: 'rt' });
    expect(ok(parseSchedRtdsArgs(['-c', 'rt']))).toEqual({ kind: 'list', pool: 'rt' });
    expect(ok(parseSchedRtdsArgs(['-v', 'all']))).toEqual({ kind: 'list-vcpus', pool: undefined });
    expect(ok(parseSchedRtdsArgs(['-d', 'vm1']))).toEqual({ kind: 'show-domain', domain: 'vm1' });
    expect(ok(parseSchedRtdsArgs(['-d', 'vm1', '-v', '0', '-v', '3']))).toEqual({ kind: 'show-vcpus', domain: 'vm1', vcpus: [0, 3] });
    expect(ok(parseSchedRtdsArgs(['-d', 'vm1', '-v', 'all']))).toEqual({ kind: 'show-vcpus', domain: 'vm1', vcpus: 'all' });
    expect(ok(parseSchedRtdsArgs(['-d', 'vm1', '-v', '0', '-p', '10000', '-b', '2500', '-e', '0', '-v', '1', '-p', '300', '-b', '150', '-e', '1']))).toEqual({
      kind: 'set-vcpus',
      domain: 'vm1',
      params: [
        { vcpu: 0, periodUs: 10000, budgetUs: 2500, extratime: false },
        { vcpu: 1, periodUs: 300, budgetUs: 150, extratime: true },
      ],
    });
    expect(ok(parseSchedRtdsArgs(['-d', 'vm1', '-v', 'all', '-p', '100000', '-b', '50000', '-e', '0']))).toEqual({
      kind: 'set-all-vcpus', domain: 'vm1', periodUs: 100000, budgetUs: 50000, extratime: false,
    });
  });

  it('refuses what xl refuses, -e included (the man page examples without -e fail in xl too)', () => {
    expect(err(parseSchedRtdsArgs(['-d', 'vm1', '-v', 'all', '-p', '10000', '-b', '2500']))).toBe('Incorrect number of period, budget and extratime');
    expect(err(parseSchedRtdsArgs(['-p', '10', '-b', '5', '-e', '1']))).toBe('Missing parameters.');
    expect(err(parseSchedRtdsArgs(['-d', 'vm1', '-p', '10', '-b', '5', '-e', '1']))).toBe('Must specify VCPU.');
    expect(err(parseSchedRtdsArgs(['-d', 'vm1', '-v', '1', '-v', 'all']))).toBe('Incorrect VCPU IDs.');
    expect(err(parseSchedRtdsArgs(['-d', 'vm1', '-v', '1', '-v', '2', '-p', '10', '-b', '5', '-e', '1']))).toBe('Incorrect number of period, budget and extratime');
    expect(err(parseSchedRtdsArgs(['-d', 'vm1', '-v', '1', '-p', '10', '-b', '5', '-e', 'yes']))).toBe('Invalid extratime.');
    expect(err(parseSchedRtdsArgs(['-c', 'rt', '-d', 'vm1']))).toBe('Specifying a cpupool is not allowed with other options.');
  });
});

describe('libxl range checks', () => {
  it('uses libxl\'s limits and messages', () => {
    expect(checkCreditParams({ tsliceMs: 30, ratelimitUs: 1000, migrationDelayUs: 0 })).toBeUndefined();
    expect(checkCreditParams({ tsliceMs: 0, ratelimitUs: 1000, migrationDelayUs: 0 })).toBe('Time slice out of range, valid range is from 1 to 1000');
    expect(checkCreditParams({ tsliceMs: 1, ratelimitUs: 1001, migrationDelayUs: 0 })).toBe('Ratelimit cannot be greater than timeslice');
    expect(checkCreditParams({ tsliceMs: 30, ratelimitUs: 0, migrationDelayUs: 100001 })).toBe('vcpu migration delay should be >= 0 and <= 100000us');
    expect(checkRatelimit(99)).toBe('Ratelimit out of range, valid range is from 100 to 500000');
    expect(checkRatelimit(0)).toBeUndefined();
    expect(checkWeightCap({ weight: 0 }, 1)).toBe('Cpu weight out of range, valid values are within range from 1 to 65535');
    expect(checkWeightCap({ cap: 401 }, 4)).toBe('Cpu cap out of range, valid range is from 0 to 400 for specified number of vcpus');
    expect(checkRtdsParams(100, 101)).toBe('VCPU budget must be smaller than or equal to period, but 101 > 100');
    expect(checkRtdsParams(0, 1)).toBe('Invalid VCPU period of 0 (it should be >= 1)');
    expect(checkRtdsParams(10, 0)).toBe('Invalid VCPU budget of 0 (it should be >= 1)');
  });
});

describe('xl create operands', () => {
  it('splits the config file from key=value overrides', () => {
    expect(ok(splitCreateOperands(['hermit.cfg', 'memory=1024', 'name="h2"']))).toEqual({ configFile: 'hermit.cfg', overrides: ['memory=1024', 'name="h2"'] });
    expect(ok(splitCreateOperands(['vcpus=2']))).toEqual({ configFile: undefined, overrides: ['vcpus=2'] });
    expect(splitCreateOperands(['a.cfg', 'b.cfg'])).toMatchObject({ kind: 'error', exitCode: 2 });
  });
});

import { describe, expect, it } from 'vitest';
import { formatCpupoolCreate, parseCpupoolConfig, resolveCpupoolCpus } from '../../../src-engine/config/cpupool-config';
import { XlCfgError, formatProblem } from '../../../src-engine/config/xlcfg-problems';

const TOPO = { nrCpus: 8, nodes: [[0, 1, 2, 3], [4, 5, 6, 7]] };

function errors(text: string, file?: string, overrides?: string[]): string[] {
  try {
    parseCpupoolConfig(text, { file, overrides, topology: TOPO });
  } catch (e) {
    expect(e).toBeInstanceOf(XlCfgError);
    return (e as XlCfgError).problems.filter((p) => p.severity === 'error').map(formatProblem);
  }
  throw new Error('accepted');
}

describe('cpupool configuration (xlcpupool.cfg)', () => {
  it('reads name, sched (any case), cpus as a string or a list', () => {
    const a = parseCpupoolConfig('name = "rt"\nsched = "RTDS"\ncpus = "2-3,^3"\n', { file: 'rt.cfg' }).config;
    expect(a).toEqual({ name: 'rt', sched: 'rtds', cpus: '2-3,^3', nodes: undefined, otherSettings: {} });
    const b = parseCpupoolConfig('name = "p"\ncpus = [ "2", "3" ]\n', { file: 'p.cfg' }).config;
    expect(b.cpus).toEqual([2, 3]);
    expect(b.sched).toBeUndefined();
  });

  it('defaults the name to the file\'s base name, and needs one from the command line', () => {
    expect(parseCpupoolConfig('sched = "null"\n', { file: '/etc/xen/pool-a.cfg' }).config.name).toBe('pool-a.cfg');
    expect(parseCpupoolConfig('', { overrides: ['name="x"', 'sched="credit"'] }).config).toMatchObject({ name: 'x', sched: 'credit' });
    expect(errors('', undefined, ['sched="credit"'])).toEqual(['command line: Missing cpupool name! (key name)']);
  });

  it('refuses unknown schedulers and bad CPU lists, with positions', () => {
    expect(errors('name = "p"\nsched = "sedf"\n', 'p.cfg')).toEqual(['p.cfg:2:9: Unknown scheduler "sedf": the SEDF scheduler no longer exists (key sched)']);
    expect(errors('name = "p"\nsched = "bfs"\n', 'p.cfg')[0]).toContain('use credit, credit2, arinc653, rtds, null');
    expect(errors('name = "p"\ncpus = "4-2"\n', 'p.cfg')).toEqual(['p.cfg:2:8: "4-2": Invalid pcpu range: 4-2. (key cpus)']);
    expect(errors('name = "p"\nnodes = "1"\n', 'p.cfg')[0]).toContain('nodes must be a list');
  });

  it('warns where xl reads list items with atoi, and about unknown keys', () => {
    const r = parseCpupoolConfig('name = "p"\ncpus = [ "2-3" ]\ncolor = "red"\n', { file: 'p.cfg' });
    expect(r.config.cpus).toEqual([2]);
    expect(r.warnings.map(formatProblem)).toEqual([
      'p.cfg:2:10: warning: cpus item "2-3" is read by xl as 2 (only its leading number counts) (key cpus)',
      'p.cfg:3:9: warning: unknown cpupool key color: kept in the file, ignored (key color)',
    ]);
  });

  it('resolves pCPUs against the free ones with xl\'s messages', () => {
    const cfg = (text: string) => parseCpupoolConfig(text, { file: 'p.cfg' }).config;
    expect(resolveCpupoolCpus(cfg('name="p"\ncpus="2-3"\n'), TOPO, [2, 3, 4])).toEqual([2, 3]);
    expect(resolveCpupoolCpus(cfg('name="p"\ncpus="1-3"\n'), TOPO, [2, 3, 4])).toBe('cpu 1 illegal or not free');
    expect(resolveCpupoolCpus(cfg('name="p"\ncpus=["5","4"]\n'), TOPO, [4, 5])).toEqual([4, 5]);
    expect(resolveCpupoolCpus(cfg('name="p"\nnodes=["1"]\ncpus="0"\n'), TOPO, [3, 5, 6])).toEqual([5, 6]);
    expect(resolveCpupoolCpus(cfg('name="p"\nnodes=["0"]\n'), TOPO, [5])).toBe('no free cpu found');
    expect(resolveCpupoolCpus(cfg('name="p"\n'), TOPO, [5])).toEqual([]);
  });

  it('prints what xl cpupool-create prints', () => {
    expect(formatCpupoolCreate('rt.cfg', 'rt', 'rtds', 2)).toBe('Using config file "rt.cfg"\ncpupool name:   rt\nscheduler:      rtds\nnumber of cpus: 2\n');
  });
});

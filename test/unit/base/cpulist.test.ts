import { describe, expect, it } from 'vitest';
import { formatCpuSet, parseCpuList } from '../../../src-engine/base/cpulist';

// Topology of tools/xl/check-xl-vcpupin-parse.data-example: 16 pCPUs in 2 nodes of 8.
const topo = { nrCpus: 16, nodes: [[0, 1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14, 15]] };
const fmt = (s: string) => formatCpuSet(parseCpuList(s, topo), 16);

describe('Xen CPU-list syntax', () => {
  it('applies items left to right', () => {
    expect(fmt('0-3,^2')).toBe('0-1,3');
    expect(fmt('^2,0-3')).toBe('0-3');
    expect(fmt('all,^nodes:0,all')).toBe('all');
    expect(fmt('^0')).toBe('none');
  });
  it('expands nodes', () => {
    expect(fmt('nodes:1')).toBe('8-15');
    expect(fmt('node:0,^3')).toBe('0-2,4-7');
    expect(fmt('nodes:0-1,^node:1')).toBe('0-7');
    expect(fmt('nodes:all')).toBe('all');
  });
  it('refuses what xl refuses, with xl\'s words', () => {
    expect(() => parseCpuList('^all', topo)).toThrow('Can\'t combine "^" and "all".');
    expect(() => parseCpuList('3-1', topo)).toThrow('Invalid pcpu range: 3-1.');
    expect(() => parseCpuList('abc', topo)).toThrow('Invalid pcpu range: abc.');
    expect(() => parseCpuList('-1', topo)).toThrow('Invalid pcpu range: -1.');
    expect(() => parseCpuList('1,,2', topo)).toThrow('Invalid pcpu range');
    expect(() => parseCpuList('nodes:2', topo)).toThrow('Invalid pcpu range: nodes:2.');
  });
  it('prints like xl print_bitmap', () => {
    expect(formatCpuSet([0, 1, 3, 5, 6, 7], 8)).toBe('0-1,3,5-7');
    expect(formatCpuSet([], 8)).toBe('none');
    expect(formatCpuSet([0, 1, 2, 3], 4)).toBe('all');
    expect(formatCpuSet([5], 8)).toBe('5');
  });
});

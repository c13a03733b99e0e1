import { describe, expect, it } from 'vitest';
import type { TraceRecord } from '../../../src-engine/api/types';
import { decodeMessage, encodeMessage } from '../../../src-engine/api/wire';
import { decodeWire, encodeWire } from '../../../src-renderer/api/codec';
import { formatCpuList, parseCpuList } from '../../../src-renderer/lib/cpulist';
import { functionKey, KEY_CHORDS, typingChunks, TYPE_CHUNK } from '../../../src-renderer/lib/key-chords';
import { actionState, stateLabel, vmRows } from '../../../src-renderer/lib/vm-rows';
import { draftProblems, draftToXlCfg, emptyDraft, setXlKey, xlString } from '../../../src-renderer/lib/xlcfg';
import type { DomainSummary, LibraryEntry } from '../../../src-engine/api/types';

describe('renderer wire codec', () => {
  it("is the engine's codec: each side decodes what the other encodes", () => {
    const m = { event: 'console', data: { domid: 1, com: 1, data: new Uint8Array([0, 1, 2, 253, 254, 255, 10]) } };
    expect(decodeMessage(encodeWire(m))).toEqual(m);
    expect(decodeWire(encodeMessage(m))).toEqual(m);
    const big = new Uint8Array(30_000).map((_, i) => i * 7);
    expect(decodeWire(encodeMessage({ d: big }))).toEqual({ d: big });
  });
});

describe('CPU lists', () => {
  it('parses Xen syntax and prints it back like xl', () => {
    expect(parseCpuList('0-1,3', 4)).toEqual([0, 1, 3]);
    expect(parseCpuList('all,^2', 4)).toEqual([0, 1, 3]);
    expect(formatCpuList([3, 0, 1], 4)).toBe('0-1,3');
    expect(formatCpuList([0, 1, 2, 3], 4)).toBe('all');
    expect(formatCpuList([])).toBe('none');
  });
  it('names what is wrong', () => {
    expect(() => parseCpuList('0-9', 4)).toThrow('pCPU 9 does not exist (this host has pCPUs 0-3)');
    expect(() => parseCpuList('1,,2', 4)).toThrow('an item is empty');
    expect(() => parseCpuList('3-1', 4)).toThrow('backwards');
    expect(() => parseCpuList('x', 4)).toThrow('"x" is not a pCPU number or range');
  });
});

describe('xl.cfg writing', () => {
  it('writes a direct-kernel draft', () => {
    const d = { ...emptyDraft(), name: 'hermit', kernel: '/k/ldhermit.elf', cmdline: '-uart=io:0x3f8', vcpus: 2, maxvcpus: 2, memoryMiB: 64, maxmemMiB: 128, cpus: '0-1', weight: 512, pool: 'rt' };
    expect(draftToXlCfg(d)).toBe(
      '# Created by the Domus New VM wizard\nname = "hermit"\ntype = "hvm"\nmemory = 64\nmaxmem = 128\nvcpus = 2\ncpus = "0-1"\npool = "rt"\ncpu_weight = 512\n' +
        'kernel = "/k/ldhermit.elf"\ncmdline = "-uart=io:0x3f8"\nserial = [ \'pty\' ]\nnographic = 1\non_crash = "preserve"\n',
    );
  });
  it('writes an ISO draft with the ISO as CD-ROM hdc and boots from it', () => {
    const t = draftToXlCfg({ ...emptyDraft(), name: 'cd', source: 'iso', iso: '/tmp/hermit.iso' });
    expect(t).toContain('boot = "d"');
    expect(t).toContain(`disk = [ "format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/tmp/hermit.iso" ]`);
  });
  it('finds the problems of each step', () => {
    expect(draftProblems(emptyDraft(), 'source')).toEqual(['Name: use letters, digits, ".", "_" and "-" (at most 64, starting with a letter or digit).', 'Kernel: give the path of the kernel to boot directly.']);
    expect(draftProblems({ ...emptyDraft(), vcpus: 4, maxvcpus: 2 }, 'cpu')).toEqual(['Maximum vCPUs cannot be below the vCPUs started.']);
    expect(draftProblems({ ...emptyDraft(), name: 'p', type: 'pvh', source: 'iso', iso: '/x.iso' }, 'source')).toEqual(['A PVH guest has no emulated CD-ROM; boot it with a direct kernel.']);
  });
  it('quotes strings xl can hold and refuses the others', () => {
    expect(xlString('a b')).toBe('"a b"');
    expect(xlString('say "hi"')).toBe(`'say "hi"'`);
    expect(() => xlString(`it's "x"`)).toThrow('both kinds of quote');
    expect(() => xlString('a\nb')).toThrow('line break');
  });
  it('replaces one key and keeps the rest of the file, lists spanning lines included', () => {
    const text = '# mine\nname = "a"\ncpus = [ "0",\n  "1" ]  # pinned\nmemory = 32\n';
    expect(setXlKey(text, 'cpus', '"2"')).toBe('# mine\nname = "a"\ncpus = "2"\nmemory = 32\n');
    expect(setXlKey(text, 'cpus', undefined)).toBe('# mine\nname = "a"\nmemory = 32\n');
    expect(setXlKey('name = "a"', 'cpus_soft', '"1"')).toBe('name = "a"\ncpus_soft = "1"\n');
    expect(setXlKey('cpus_soft = "1"\ncpus = "0"\n', 'cpus', '"3"')).toBe('cpus_soft = "1"\ncpus = "3"\n');
  });
});

describe('key chords', () => {
  it('sends xterm sequences for function keys and Alt+Fn', () => {
    expect(functionKey(1)).toBe('\x1bOP');
    expect(functionKey(5)).toBe('\x1b[15~');
    expect(functionKey(12)).toBe('\x1b[24~');
    expect(functionKey(2, true)).toBe('\x1b[1;3Q');
    expect(functionKey(10, true)).toBe('\x1b[21;3~');
    expect(KEY_CHORDS.find((k) => k.label.startsWith('Ctrl+C'))?.bytes).toBe('\x03');
    expect(KEY_CHORDS.filter((k) => !k.bytes).every((k) => (k.unavailable ?? '').length > 10)).toBe(true);
  });
  it('types text in FIFO-sized pieces with Enter as CR', () => {
    const chunks = typingChunks('line one\nline two is longer than sixteen\r\n');
    expect(chunks.join('')).toBe('line one\rline two is longer than sixteen\r');
    expect(chunks.every((c) => c.length <= TYPE_CHUNK)).toBe(true);
  });
});

describe('VM rows', () => {
  const lib = (name: string, errors: string[] = []): LibraryEntry => ({ name, file: `/l/${name}.cfg`, config: undefined, errors, warnings: [], domid: undefined });
  const dom = (domid: number, name: string, state: DomainSummary['state'], libraryName?: string): DomainSummary => ({ domid, name, uuid: '', type: 'hvm', state, shutdownReason: state === 'shutdown' ? 'poweroff' : undefined, shutdownDetail: undefined, memoryMiB: 32, targetMiB: 32, maxmemMiB: 32, onlineVcpus: 1, maxVcpus: 1, cpuSeconds: 0, pool: 'Pool-0', libraryName });

  it('joins library and domains by name', () => {
    const rows = vmRows([lib('a'), lib('b', ['x:1:1: bad'])], [dom(1, 'a', 'running', 'a'), dom(2, 'cli', 'blocked')]);
    expect(rows.map((r) => [r.name, stateLabel(r)])).toEqual([['a', 'Running'], ['b', 'Invalid config'], ['cli', 'Idle']]);
  });
  it('never lets a running VM be deleted, and says why a button is off', () => {
    const [running] = vmRows([lib('a')], [dom(1, 'a', 'running', 'a')]);
    expect(actionState(running, 'delete')).toEqual({ enabled: false, why: 'a is running as domain 1; force it off before deleting it.' });
    expect(actionState(running, 'run').enabled).toBe(false);
    expect(actionState(running, 'forceOff').enabled).toBe(true);
    const [off] = vmRows([lib('a')], []);
    expect(actionState(off, 'delete').enabled).toBe(true);
    expect(actionState(off, 'pause')).toEqual({ enabled: false, why: 'a is not running.' });
    const [bad] = vmRows([lib('b', ['e'])], []);
    expect(actionState(bad, 'run').why).toContain('has errors');
    expect(actionState(undefined, 'run').why).toBe('Select a virtual machine first.');
  });
});

describe('schedule timeline intervals', () => {
  it('turns "from t, pCPU runs (domid, vcpu)" records into intervals, idle when domid < 0', async () => {
    const { intervalsFromTrace, fillRunning } = await import('../../../src-renderer/components/host/timeline');
    const r = (t: number, pcpu: number, domid: number, vcpu = 0): TraceRecord => ({ t, pcpu, domid, vcpu, event: 'in', reason: 'slice' });
    expect(intervalsFromTrace([r(0, 0, 1), r(10, 0, 2), r(25, 0, -1), r(5, 1, 3)], 40)).toEqual([
      { pcpu: 0, domid: 1, vcpu: 0, start: 0, end: 10 },
      { pcpu: 0, domid: 2, vcpu: 0, start: 10, end: 25 },
      { pcpu: 1, domid: 3, vcpu: 0, start: 5, end: 40 },
    ]);
    // With the core's events: only in/out switch; wake and block are not running.
    const e = (t: number, pcpu: number, domid: number, event: TraceRecord['event']): TraceRecord => ({ ...r(t, pcpu, domid), event });
    expect(intervalsFromTrace([e(0, 0, 1, 'in'), e(3, 0, 2, 'wake'), e(4, 0, 1, 'out'), e(4, 0, 2, 'in'), e(9, 0, 2, 'block'), e(9, 0, 2, 'out')], 20)).toEqual([
      { pcpu: 0, domid: 1, vcpu: 0, start: 0, end: 4 },
      { pcpu: 0, domid: 2, vcpu: 0, start: 4, end: 9 },
    ]);
    // A last stretch ends when the engine no longer runs that vCPU there (destroyed, blocked).
    expect(intervalsFromTrace([r(0, 0, 1), r(10, 1, 2)], 40, (pcpu) => pcpu === 1)).toEqual([{ pcpu: 1, domid: 2, vcpu: 0, start: 10, end: 40 }]);
    // A vCPU running without a switch in the window still shows, from vcpu.list.
    const vc = { domid: 7, name: 'x', vcpu: 1, pcpu: 1, state: 'running' as const, cpuSeconds: 1, hard: [1], soft: [1], effective: [1] };
    expect(fillRunning([], [vc], 100, 200)).toEqual([{ pcpu: 1, domid: 7, vcpu: 1, start: 100, end: 200 }]);
  });
});

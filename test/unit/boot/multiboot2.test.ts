import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BootError } from '../../../src-engine/base/errors';
import { loadMultibootKernel, type MultibootLoadConfig } from '../../../src-engine/boot/multiboot';
import { FlatGuestMemory } from '../../support/flat-guest-memory';
import { buildElf, concat, mb1Header, mb2Header, mb2Tag, patch } from './elf-builder';
import { readMbi2, tag2, type Mbi2 } from './mbi-reader';

const MiB = 1024 * 1024;
const FIX = join(__dirname, 'fixtures');
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIX, name)));
const APP = fixture('module-app.txt');
const APP2 = concat([new Uint8Array(5000).fill(0x42), new Uint8Array([0x58])]);
const MODULES = [{ data: APP, path: '/boot/app', args: 'first module args' }, { data: APP2, path: '/boot/app2' }];

function load(config: Partial<MultibootLoadConfig> & { kernel: Uint8Array }) {
  const mem = (config.memory as FlatGuestMemory | undefined) ?? new FlatGuestMemory(64 * MiB);
  const r = loadMultibootKernel({ kernelPath: '/boot/k2.elf', memory: mem, ...config });
  // Decode the tags only for a multiboot2 boot (the protocol-choice tests also boot v1).
  const mbi = r.init.eax === 0x36d76289 ? readMbi2(mem, r.init.ebx!) : { totalSize: 0, reserved: 0, tags: [] };
  return { ...r, mem, mbi };
}

function expectBootError(fn: () => unknown, code: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a BootError').toBeInstanceOf(BootError);
  expect((caught as BootError).message).toMatch(pattern);
  expect((caught as BootError).code).toBe(code);
  expect((caught as BootError).message.startsWith('/boot/k2.elf: ')).toBe(true);
}

const tagOf = (mbi: Mbi2, type: number) => mbi.tags.filter((t) => t.type === type);

/** A multiboot2 ELF kernel at `paddr`: header with `tags`, then code; entry right after the header. */
function mb2Elf(tags: Uint8Array[], opts: { paddr?: number; sections?: Parameters<typeof buildElf>[0]['sections']; arch?: number } = {}) {
  const header = mb2Header(tags, opts.arch);
  const paddr = opts.paddr ?? 0x100000;
  return buildElf({ entry: paddr + header.length, segments: [{ paddr, data: concat([header, new Uint8Array([0xf4, 0xeb, 0xfd])]), memsz: 0x3000 }], sections: opts.sections });
}

describe('multiboot2: the mbdump probe (ELF32) with a command line and two modules', () => {
  const { init, summary, mem, mbi } = load({ kernel: fixture('mbdump-v2.elf'), cmdline: '-uart=io:0x3f8 second=arg', modules: MODULES });

  it('enters with the multiboot2 magic and the info pointer', () => {
    expect(init).toMatchObject({ eax: 0x36d76289, eip: 0x100060, esp: 0x7ff00, eflags: 0x46, cr0: 0x11 }); // e_entry = _start
    expect(init.cs?.selector).toBe(0x10);
    expect(init.gdtr).toEqual({ base: 0x10b0, limit: 0x1f });
    expect(summary.protocol).toBe('multiboot2');
  });

  it('lays the tags out in GRUB\'s order, 8-aligned, with a correct total size', () => {
    expect(mbi.tags.map((t) => t.type)).toEqual([21, 1, 2, 3, 3, 6, 9, 4, 0]);
    expect(mbi.reserved).toBe(0);
    for (const t of mbi.tags) expect(t.addr % 8).toBe(0);
    const end = mbi.tags[mbi.tags.length - 1];
    expect(end.size).toBe(8);
    expect(end.addr + 8 - init.ebx!).toBe(mbi.totalSize);
    expect(summary.infoSize).toBe(mbi.totalSize);
  });

  it('fills every tag', () => {
    expect(tag2.u32(tagOf(mbi, 21)[0], 0)).toBe(0x100000);
    expect(tag2.string(tagOf(mbi, 1)[0])).toBe('-uart=io:0x3f8 second=arg');
    expect(tagOf(mbi, 1)[0].size).toBe(8 + 26);
    expect(tag2.string(tagOf(mbi, 2)[0])).toBe('Domus');
    const [m0, m1] = tagOf(mbi, 3).map(tag2.module);
    // Kernel 0x100000-0x101500, copied sections 0x101500-0x101ec5, so modules start at 0x102000 like under GRUB.
    expect(m0).toEqual({ start: 0x102000, end: 0x102021, string: 'first module args' });
    expect(m1).toEqual({ start: 0x103000, end: 0x103000 + 5001, string: '' });
    expect(mem.read(m1.start, 5001)).toEqual(APP2);
    const mmap = tag2.mmap(tagOf(mbi, 6)[0]);
    expect(mmap).toMatchObject({ entrySize: 24, version: 0 });
    expect(mmap.entries.map((e) => [e.base, e.length, e.type, e.zero])).toEqual([[0, 0x9fc00, 1, 0], [0x9fc00, 0x400, 2, 0], [0xf0000, 0x10000, 2, 0], [0x100000, 63 * MiB, 1, 0]]);
    const elf = tag2.elfSections(tagOf(mbi, 9)[0]);
    expect(elf).toMatchObject({ num: 7, entsize: 40, shndx: 6 });
    const symtabAddr = new DataView(elf.table.buffer, elf.table.byteOffset).getUint32(4 * 40 + 12, true);
    expect(symtabAddr).toBe(0x101500);
    expect([tag2.u32(tagOf(mbi, 4)[0], 0), tag2.u32(tagOf(mbi, 4)[0], 1)]).toEqual([639, 63 * 1024]);
  });

  it('puts the info block at the lowest free 8-aligned RAM above 1 MiB: right after the first module', () => {
    // The hole after the sections (0x101ec5-0x102000) is too small, the one after module 0 is not.
    expect(mbi.totalSize).toBeGreaterThan(0x102000 - 0x101ec8);
    expect(init.ebx).toBe(0x102028);
  });
});

describe('multiboot2: address tag (a.out kludge), ELF64, entry and relocation', () => {
  it('loads the a.out-kludge probe from its address and entry tags', () => {
    const kernel = fixture('mbdump-v2-aout.bin');
    const { init, summary, mem, mbi } = load({ kernel, modules: MODULES });
    expect(summary.kernelFormat).toBe('aout-kludge');
    expect(mem.read(0x100000, kernel.length)).toEqual(kernel);
    expect(tag2.u32(tagOf(mbi, 21)[0], 0)).toBe(0x100000);
    expect(tag2.elfSections(tagOf(mbi, 9)[0])).toMatchObject({ num: 0, entsize: 0, shndx: 0 });
    // The entry tag (the probe's _start) and the info block right after the bss end 0x101530, as under GRUB.
    const entryTag = new DataView(kernel.buffer, kernel.byteOffset).getUint32(0x50 + 8, true);
    expect(init.eip).toBe(entryTag);
    expect(init.ebx).toBe(0x101530);
  });

  it('loads an ELF64 kernel and passes 64-byte section headers', () => {
    const { init, summary, mbi } = load({ kernel: fixture('mbdump-v2-elf64.elf') });
    expect(summary.kernelFormat).toBe('elf64');
    expect(init.eip).toBe(0x100060);
    expect(tag2.elfSections(tagOf(mbi, 9)[0])).toMatchObject({ num: 7, entsize: 64 });
  });

  it('lets an entry address tag override the ELF entry', () => {
    const { init } = load({ kernel: mb2Elf([mb2Tag(3, 0, [0x100800])]).bytes });
    expect(init.eip).toBe(0x100800);
  });

  it('computes load_addr from header_addr when the address tag says 0xFFFFFFFF', () => {
    const header = mb2Header([mb2Tag(2, 0, [0x200010, 0xffffffff, 0, 0x203000]), mb2Tag(3, 0, [0x200040])]);
    const kernel = concat([new Uint8Array(16), header, new Uint8Array(64)]);
    const { init, mem } = load({ kernel });
    expect(mem.read(0x200000, kernel.length)).toEqual(kernel); // header at file offset 16 = 0x200010
    expect(init.eip).toBe(0x200040);
  });

  it('moves a relocatable kernel as one block, low or high, and shifts the entry', () => {
    const reloc = (pref: number) => mb2Tag(10, 0, [0x200000, 0x800000, 0x200000, pref]);
    const low = load({ kernel: mb2Elf([reloc(1)]).bytes });
    expect(tag2.u32(tagOf(low.mbi, 21)[0], 0)).toBe(0x200000);
    expect(low.init.eip).toBe(0x200000 + (mb2Header([reloc(1)]).length));
    expect(low.mem.readU32(0x200000)).toBe(0xe85250d6);
    const high = load({ kernel: mb2Elf([reloc(2)]).bytes });
    expect(high.summary.kernelStart).toBe(0x600000); // highest 2 MiB-aligned start whose 0x3000-byte image ends <= 8 MiB
    expect(high.summary.regions.find((r) => r.kind === 'kernel')).toMatchObject({ start: 0x600000, end: 0x603000 });
  });

  it('reports a boot device tag only when given, and records a framebuffer request', () => {
    const { mbi, summary } = load({ kernel: mb2Elf([mb2Tag(5, 0, [800, 600, 32])]).bytes, bootDevice: { drive: 0xe0 } });
    const dev = tagOf(mbi, 5)[0];
    expect([tag2.u32(dev, 0), tag2.u32(dev, 1), tag2.u32(dev, 2)]).toEqual([0xe0, 0xffffffff, 0xffffffff]);
    expect(mbi.tags.map((t) => t.type)).toEqual([21, 1, 2, 6, 9, 4, 5, 0]);
    expect(summary.videoRequest).toEqual({ kind: 'linear', width: 800, height: 600, depth: 32 });
    expect(tagOf(mbi, 8)).toEqual([]);
  });

  it('falls back to low memory for the info block when nothing above 1 MiB is free', () => {
    // No section headers (so no .shstrtab copy) and a module that fills RAM from the kernel's end (0x103000) to 2 MiB.
    const kernel = patch(mb2Elf([]).bytes, [[32, 4, 0], [48, 2, 0], [50, 2, 0]]);
    const filler = new Uint8Array(2 * MiB - 0x103000);
    const { init } = load({ kernel, memory: new FlatGuestMemory(2 * MiB), modules: [{ data: filler, path: 'fill' }] });
    expect(init.ebx).toBe(0x10000);
  });
});

describe('multiboot2: refusals as GRUB refuses', () => {
  const k = (tags: Uint8Array[], extra: Partial<MultibootLoadConfig> = {}) => () => load({ kernel: mb2Elf(tags).bytes, ...extra });

  it('no header, wrong architecture', () => {
    expectBootError(() => load({ kernel: buildElf({ entry: 0x100000, segments: [{ paddr: 0x100000, data: new Uint8Array(64) }] }).bytes, protocol: 'multiboot2' }), 'boot.no-multiboot-header', /no multiboot2 header: GRUB looks in the first 32768 bytes/);
    expectBootError(() => load({ kernel: mb2Elf([], { arch: 4 }).bytes, protocol: 'multiboot2' }), 'boot.no-multiboot-header', /architecture 0 \(i386\)/);
    expectBootError(() => load({ kernel: concat([new Uint8Array(32768), mb2Header([])]), protocol: 'multiboot2' }), 'boot.no-multiboot-header', /no multiboot2 header/);
  });

  it('unknown required tags and information requests', () => {
    expectBootError(k([mb2Tag(0x7777, 0, [])]), 'boot.multiboot-unsupported', /required tag of type 30583 .*\("unsupported tag: 0x7777"\)/);
    expectBootError(k([mb2Tag(8, 0, [0x100000])]), 'boot.multiboot-unsupported', /"unsupported tag: 0x8"/); // EFI32 entry: refused by GRUB 2.06
    expectBootError(k([mb2Tag(1, 0, [1, 13])]), 'boot.multiboot-unsupported', /requires information tag type 13, .*"unsupported information tag: 0xd"/);
    expect(load({ kernel: mb2Elf([mb2Tag(1, 1, [13, 99]), mb2Tag(0x7777, 1, [1, 2])]).bytes }).init.eax).toBe(0x36d76289);
  });

  it('inconsistent tags', () => {
    expectBootError(k([mb2Tag(2, 0, [0x100000, 0x100000, 0, 0])]), 'boot.multiboot-bad-header', /address tag but no entry address tag/);
    expectBootError(k([mb2Tag(4, 0, [1])]), 'boot.multiboot-unsupported', /requires a console but accepts neither EGA text nor a framebuffer/);
    expect(load({ kernel: mb2Elf([mb2Tag(4, 0, [1]), mb2Tag(5, 0, [0, 0, 0])]).bytes }).summary.videoRequest?.kind).toBe('linear');
    expectBootError(k([mb2Tag(2, 0, [0x100000, 0x100000])]), 'boot.multiboot-bad-header', /tag type 2 at file offset 0x[0-9a-f]+ has size 16; it must be at least 24/);
    expectBootError(k([mb2Tag(10, 0, [0x200000, 0x201000, 0x1000, 0])]), 'boot.multiboot-bad-header', /relocatable tag allows \[0x200000, 0x201000\], which cannot hold the 12288-byte image/);
  });

  it('a header whose tags never end', () => {
    const optional = mb2Tag(0x7777, 1, []);
    const h = mb2Header([optional, optional, optional]);
    const noEnd = h.subarray(0, h.length - 8); // drop the end tag: the file ends after three optional tags
    expectBootError(() => load({ kernel: noEnd }), 'boot.multiboot-bad-header', /run past the first 32768 bytes \(or the end of the file\) without an end tag/);
  });

  it('ELF files with relocation sections (v1 loads them, v2 does not)', () => {
    const sections = [{ name: '.rel.text', type: 9, data: new Uint8Array(8) }];
    expectBootError(() => load({ kernel: mb2Elf([], { sections }).bytes }), 'boot.elf-unsupported', /section 1 holds relocations/);
    const v1 = buildElf({ entry: 0x10000c, segments: [{ paddr: 0x100000, data: concat([mb1Header(3), new Uint8Array([0xf4])]) }], sections });
    expect(loadMultibootKernel({ kernel: v1.bytes, kernelPath: 'v1', memory: new FlatGuestMemory(16 * MiB) }).summary.protocol).toBe('multiboot1');
  });

  it('a non-ELF file without an address tag', () => {
    expectBootError(() => load({ kernel: concat([mb2Header([]), new Uint8Array(64)]) }), 'boot.not-elf', /no address tag/);
  });
});

describe('protocol choice', () => {
  const both = buildElf({ entry: 0x100028, segments: [{ paddr: 0x100000, data: concat([mb1Header(3), new Uint8Array(4), mb2Header([]), new Uint8Array([0xf4])]) }] });

  it('prefers multiboot2 when a file has both headers, and obeys an explicit choice', () => {
    expect(load({ kernel: both.bytes }).init.eax).toBe(0x36d76289);
    expect(load({ kernel: both.bytes, protocol: 'multiboot1' }).init.eax).toBe(0x2badb002);
  });

  it('uses multiboot v1 when the multiboot2 header is for another architecture', () => {
    const mips = buildElf({ entry: 0x100028, segments: [{ paddr: 0x100000, data: concat([mb1Header(3), new Uint8Array(4), mb2Header([], 4), new Uint8Array([0xf4])]) }] });
    expect(load({ kernel: mips.bytes }).init.eax).toBe(0x2badb002);
  });
});

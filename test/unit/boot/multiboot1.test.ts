import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BootError } from '../../../src-engine/base/errors';
import { loadMultibootKernel, type MultibootLoadConfig } from '../../../src-engine/boot/multiboot';
import { AR_CODE32_FLAT, AR_DATA32_FLAT } from '../../../src-engine/cpu/init-state';
import { FlatGuestMemory } from '../../support/flat-guest-memory';
import { buildElf, concat, mb1Header, patch, u32s } from './elf-builder';
import { readMbi1 } from './mbi-reader';

const MiB = 1024 * 1024;
const FIX = join(__dirname, 'fixtures');
const MBINFO = new Uint8Array(readFileSync('/work/shared/guests/mbinfo/kernel.elf'));
const BENCH = new Uint8Array(readFileSync('/work/shared/guests/bench/bench.elf'));
const APP = new Uint8Array(readFileSync(join(FIX, 'module-app.txt')));
const AOUT = new Uint8Array(readFileSync(join(FIX, 'mbdump-v1-aout.bin')));

/** Fresh memory pre-filled with 0xCC so that zeroing (bss) is visible. */
function memory(size = 16 * MiB): FlatGuestMemory {
  const m = new FlatGuestMemory(size);
  m.bytes.fill(0xcc);
  return m;
}

function load(config: Partial<MultibootLoadConfig> & { kernel: Uint8Array }) {
  const mem = config.memory ?? memory();
  const r = loadMultibootKernel({ kernelPath: '/boot/kernel.elf', memory: mem, ...config });
  return { ...r, mem: mem as FlatGuestMemory };
}

/** Expects a BootError naming the kernel path, with the code and a message matching `pattern`. */
function expectBootError(fn: () => unknown, code: string, pattern: RegExp, path = '/boot/kernel.elf'): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a BootError').toBeInstanceOf(BootError);
  const e = caught as BootError;
  expect(e.message).toMatch(pattern);
  expect(e.code).toBe(code);
  expect(e.message.startsWith(`${path}: `)).toBe(true);
  expect(e.subject).toBe(path);
}

/** A minimal v1 ELF kernel: header + a few bytes of code at `paddr`. */
function tinyElf(flags = 0x3, paddr = 0x100000, extra: number[] = [], opts: { memsz?: number } = {}) {
  const data = concat([mb1Header(flags, extra), new Uint8Array([0xf4, 0xeb, 0xfd])]);
  return buildElf({ entry: paddr + 12 + extra.length * 4, segments: [{ paddr, data, memsz: opts.memsz }] });
}

describe('multiboot v1: the mbinfo guest with a command line and a module', () => {
  const { init, summary, mem } = load({ kernel: MBINFO, cmdline: '-uart=io:0x3f8', modules: [{ data: APP, path: '/boot/app' }], memory: memory(64 * MiB) });
  const mbi = readMbi1(mem, init.ebx!);

  it('enters like GRUB: magic, MBI pointer, flat segments, GDT, CR0, EFLAGS, ESP', () => {
    expect(init).toMatchObject({ eax: 0x2badb002, ebx: 0x10000, ecx: 0, edx: 0, esi: 0, edi: 0, ebp: 0, esp: 0x7ff00, eflags: 0x46, cr0: 0x11, eip: 0x100010 });
    expect(init.cs).toEqual({ selector: 0x10, base: 0, limit: 0xffffffff, access: AR_CODE32_FLAT });
    for (const s of [init.ds, init.es, init.fs, init.gs, init.ss]) expect(s).toEqual({ selector: 0x18, base: 0, limit: 0xffffffff, access: AR_DATA32_FLAT });
    expect(init.gdtr).toEqual({ base: 0x10b0, limit: 0x1f });
    expect(init.idtr).toEqual({ base: 0, limit: 0 });
    // The GDT in memory: two null entries, then flat code and flat data descriptors.
    expect(Array.from(mem.read(0x10b0, 32))).toEqual([
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0xff, 0xff, 0, 0, 0, 0x9b, 0xcf, 0, 0xff, 0xff, 0, 0, 0, 0x93, 0xcf, 0,
    ]);
  });

  it('loads the segment at p_paddr and zeroes its bss', () => {
    const file = MBINFO.subarray(0x1000, 0x1000 + 0x33b);
    expect(mem.read(0x100000, 0x33b)).toEqual(file);
    expect(mem.read(0x10033b, 0x4340 - 0x33b).every((b) => b === 0)).toBe(true);
  });

  it('fills the info flags, memory sizes, command line and loader name', () => {
    // 0 mem, 2 cmdline, 3 mods, 5 ELF sections, 6 mmap, 9 loader name; no boot device for direct boot.
    expect(mbi.flags).toBe(0x1 | 0x4 | 0x8 | 0x20 | 0x40 | 0x200);
    expect(mbi.memLower).toBe(639);
    expect(mbi.memUpper).toBe((64 * MiB - MiB) / 1024);
    expect(mbi.cmdline).toBe('-uart=io:0x3f8');
    expect(mbi.loaderName).toBe('Domus');
    // GRUB's order and padding: the 120-byte struct, then the command line, then the name.
    expect(mbi.cmdlineAddr).toBe(0x10000 + 120);
    expect(mbi.loaderNameAddr).toBe(0x10000 + 120 + 16); // "-uart=io:0x3f8\0" is 15 bytes, padded to 16
  });

  it('puts the module page-aligned above the kernel and its copied sections, with its string', () => {
    // Kernel ends at 0x104340; .symtab/.strtab/.shstrtab copies end at 0x104774; next page 0x105000 (as under GRUB).
    expect(mbi.mods).toHaveLength(1);
    expect(mbi.mods[0]).toMatchObject({ start: 0x105000, end: 0x105000 + APP.length, string: '', reserved: 0 });
    expect(mem.read(0x105000, APP.length)).toEqual(APP);
    expect(summary.modules).toEqual([{ path: '/boot/app', args: '', start: 0x105000, end: 0x105000 + APP.length }]);
  });

  it('copies the E820 map as 24-byte entries', () => {
    expect(mbi.mmapLength).toBe(4 * 24);
    expect(mbi.mmap).toEqual([
      { size: 20, base: 0, length: 0x9fc00, type: 1 },
      { size: 20, base: 0x9fc00, length: 0x400, type: 2 },
      { size: 20, base: 0xf0000, length: 0x10000, type: 2 },
      { size: 20, base: 0x100000, length: 63 * MiB, type: 1 },
    ]);
  });

  it('passes the ELF section headers with the unloaded sections copied like GRUB', () => {
    expect(mbi.elf).toMatchObject({ num: 8, size: 40, shndx: 7 });
    const table = mem.read(mbi.elf.addr, 8 * 40);
    const v = new DataView(table.buffer);
    const fileTable = MBINFO.subarray(6000, 6000 + 8 * 40); // e_shoff = 6000
    const expectedCopies: Record<number, number> = { 5: 0x104340, 6: 0x1045c0, 7: 0x10473d };
    for (let i = 0; i < 8; i++) {
      const addr = v.getUint32(i * 40 + 12, true);
      const offset = v.getUint32(i * 40 + 16, true);
      const size = v.getUint32(i * 40 + 20, true);
      if (i in expectedCopies) {
        expect(addr).toBe(expectedCopies[i]);
        expect(mem.read(addr, size)).toEqual(MBINFO.subarray(offset, offset + size));
      } else {
        expect(table.subarray(i * 40, i * 40 + 40)).toEqual(fileTable.subarray(i * 40, i * 40 + 40));
      }
    }
  });

  it('summarises every block it wrote', () => {
    expect(summary).toMatchObject({ protocol: 'multiboot1', kernelFormat: 'elf32', headerOffset: 0x1000, entry: 0x100010, kernelStart: 0x100000, kernelEnd: 0x104340, infoAddress: 0x10000, gdtAddress: 0x10b0, cmdline: '-uart=io:0x3f8', memLowerKiB: 639 });
    expect(summary.regions.map((r) => [r.kind, r.start])).toEqual([
      ['gdt', 0x10b0], ['boot-info', 0x10000], ['kernel', 0x100000], ['elf-section', 0x104340], ['elf-section', 0x1045c0], ['elf-section', 0x10473d], ['module', 0x105000],
    ]);
    expect(summary.infoSize).toBe(mbi.elf.addr + 8 * 40 - 0x10000);
  });
});

describe('multiboot v1: the bench guest', () => {
  const mod = new TextEncoder().encode('x'.repeat(10000));
  const { init, mem } = load({ kernel: BENCH, kernelPath: '/boot/bench.elf', cmdline: 'mode=fast  two', modules: [{ data: mod, path: '/boot/data', args: 'a "b c"' }, { data: new Uint8Array(0), path: '/boot/empty' }], memory: memory(32 * MiB) });
  const mbi = readMbi1(mem, init.ebx!);

  it('loads all three PT_LOAD segments and enters at the ELF entry', () => {
    expect(init.eip).toBe(0x10000c);
    expect(mem.read(0x100000, 0x869)).toEqual(BENCH.subarray(0x1000, 0x1869));
    expect(mem.read(0x101000, 0x66)).toEqual(BENCH.subarray(0x2000, 0x2066));
    expect(mem.read(0x102000, 0x10000).every((b) => b === 0)).toBe(true);
  });

  it('passes the command line verbatim and the modules with their argument strings', () => {
    expect(mbi.flags).toBe(0x26d);
    expect(mbi.cmdline).toBe('mode=fast  two');
    expect(mbi.memUpper).toBe(31 * 1024);
    // The copied sections fit in the first hole, between .text (ends 0x100869) and .rodata (0x101000), as under
    // GRUB (see the v1-gaps reference), so the first module starts right after .bss at 0x112000.
    const table = mem.read(mbi.elf.addr, 7 * 40);
    const addr = (i: number) => new DataView(table.buffer).getUint32(i * 40 + 12, true);
    expect([addr(4), addr(5), addr(6)]).toEqual([0x10086c, 0x10098c, 0x100a14]);
    expect(mbi.mods[0]).toMatchObject({ start: 0x112000, end: 0x112000 + 10000, string: 'a "b c"' });
    expect(mem.read(0x112000, 10000)).toEqual(mod);
    // An empty module gets start = end = 0, like GRUB.
    expect(mbi.mods[1]).toMatchObject({ start: 0, end: 0, string: '' });
    expect(mbi.mods[1].stringAddr).toBe(mbi.mods[0].stringAddr + 8); // 'a "b c"\0' padded to 8
  });
});

describe('multiboot v1: header flags and the a.out kludge', () => {
  it('loads an a.out-kludge kernel from its header addresses', () => {
    const { init, summary, mem } = load({ kernel: AOUT, kernelPath: '/boot/k.bin', modules: [{ data: APP, path: 'app' }] });
    // mbdump-v1-aout.bin: header at offset 0 = 0x100000, load_end 0x1004d8 (the whole file), bss_end 0x101530, entry 0x100020.
    const header = new DataView(AOUT.buffer, AOUT.byteOffset);
    const [headerAddr, loadAddr, loadEnd, bssEnd, entry] = [12, 16, 20, 24, 28].map((o) => header.getUint32(o, true));
    expect([headerAddr, loadAddr]).toEqual([0x100000, 0x100000]);
    expect(loadEnd - loadAddr).toBe(AOUT.length);
    expect(init.eip).toBe(entry);
    expect(mem.read(0x100000, AOUT.length)).toEqual(AOUT);
    expect(mem.read(loadEnd, bssEnd - loadEnd).every((b) => b === 0)).toBe(true);
    expect(summary.kernelFormat).toBe('aout-kludge');
    const mbi = readMbi1(mem, init.ebx!);
    expect(mbi.flags & 0x20).toBe(0); // no ELF sections
    expect(mbi.mods[0].start).toBe(0x102000);
  });

  it('uses the a.out kludge even for an ELF file when flag 16 is set, as GRUB does', () => {
    // An ELF whose header says: load 0x200000.. from file offset (header offset - 0), entry 0x200010.
    const b = tinyElf(0x10003, 0x100000, [0, 0, 0, 0, 0]);
    const headerOff = b.segmentOffsets[0];
    const k = patch(b.bytes, [[headerOff + 12, 4, 0x200000 + headerOff], [headerOff + 16, 4, 0x200000], [headerOff + 20, 4, 0], [headerOff + 24, 4, 0], [headerOff + 28, 4, 0x200010]]);
    const { init, mem } = load({ kernel: k });
    expect(init.eip).toBe(0x200010);
    expect(mem.read(0x200000, k.length)).toEqual(k); // load_end_addr 0: the whole file from offset 0
  });

  it('records a requested video mode and reports no framebuffer', () => {
    const b = tinyElf(0x7, 0x100000, [0, 0, 0, 0, 0, 0, 1024, 768, 32]);
    const { init, summary, mem } = load({ kernel: b.bytes });
    expect(summary.videoRequest).toEqual({ kind: 'linear', width: 1024, height: 768, depth: 32 });
    expect(readMbi1(mem, init.ebx!).flags & (0x800 | 0x1000)).toBe(0);
  });

  it('reports a boot device only when one is given', () => {
    const { init, mem } = load({ kernel: tinyElf().bytes, bootDevice: { drive: 0x80, partition: 1 } });
    const mbi = readMbi1(mem, init.ebx!);
    expect(mbi.flags & 2).toBe(2);
    expect(mbi.bootDevice >>> 0).toBe(0x8001ffff);
  });
});

describe('multiboot v1: refusals, each naming the file and the problem', () => {
  const kernel = (k: Uint8Array, extra: Partial<MultibootLoadConfig> = {}) => () => load({ kernel: k, protocol: 'multiboot1', ...extra });

  it('files too short or without a header', () => {
    expectBootError(kernel(new Uint8Array(20)), 'boot.too-short', /only 20 bytes/);
    expectBootError(kernel(buildElf({ entry: 0x100000, segments: [{ paddr: 0x100000, data: new Uint8Array(64) }] }).bytes), 'boot.no-multiboot-header', /no multiboot header: GRUB looks in the first 8192 bytes/);
    // A valid header beyond the search window is not found, nor a misaligned one, nor one with a bad checksum.
    expectBootError(kernel(concat([new Uint8Array(8192), mb1Header(0)])), 'boot.no-multiboot-header', /no multiboot header/);
    expectBootError(kernel(concat([new Uint8Array(2), mb1Header(0), new Uint8Array(40)])), 'boot.no-multiboot-header', /no multiboot header/);
    expectBootError(kernel(concat([u32s([0x1badb002, 0, 0]), new Uint8Array(40)])), 'boot.no-multiboot-header', /no multiboot header/);
    expectBootError(() => load({ kernel: new Uint8Array(100) }), 'boot.no-multiboot-header', /not a multiboot kernel: neither a multiboot header .* nor a multiboot2 header/);
  });

  it('unsupported required flags and video modes', () => {
    expectBootError(kernel(tinyElf(0x8).bytes), 'boot.multiboot-unsupported', /requires feature bits 0x8 \(flags 0x8\) that GRUB does not support/);
    expectBootError(kernel(tinyElf(0x8003).bytes), 'boot.multiboot-unsupported', /feature bits 0x8000/);
    expectBootError(kernel(tinyElf(0x4, 0x100000, [0, 0, 0, 0, 0, 2, 0, 0, 0]).bytes), 'boot.multiboot-unsupported', /graphics mode type 2/);
    // Optional bits 17-31 are ignored.
    expect(load({ kernel: tinyElf(0x80000003).bytes }).init.eip).toBe(0x10000c);
  });

  it('a non-ELF file without the a.out kludge flag', () => {
    expectBootError(kernel(concat([mb1Header(0x3), new Uint8Array(64)])), 'boot.not-elf', /not an ELF file, and its multiboot header does not set the a.out kludge flag/);
  });

  it('broken a.out kludge headers', () => {
    const aout = (fields: number[], tail = 64) => concat([mb1Header(0x10003, fields), new Uint8Array(tail)]);
    expectBootError(kernel(concat([new Uint8Array(24), mb1Header(0x10003), new Uint8Array(4)])), 'boot.multiboot-bad-header', /ends before its address fields/);
    // Fields past GRUB's 8192-byte window count as missing even if the file goes on.
    expectBootError(kernel(concat([new Uint8Array(8176), mb1Header(0x10003), new Uint8Array(64)])), 'boot.multiboot-bad-header', /ends before its address fields/);
    // (GRUB checks the video fields after loading the image, so this one has valid a.out fields.)
    const video = mb1Header(0x10004, [0x100000 + 8160, 0x100000, 0, 0, 0x100000]);
    expectBootError(kernel(concat([new Uint8Array(8160), video, new Uint8Array(64)])), 'boot.multiboot-bad-header', /video flag \(2\) .* ends before its mode fields/);
    expectBootError(kernel(aout([0x100000, 0x100100, 0, 0, 0x100000])), 'boot.multiboot-bad-header', /before the start of the file/);
    expectBootError(kernel(aout([0x100000, 0x100000, 0xf0000, 0, 0x100000])), 'boot.multiboot-bad-header', /load_end_addr 0xf0000 is below load_addr 0x100000/);
    expectBootError(kernel(aout([0x100000, 0x100000, 0x100000 + 4096, 0, 0x100000])), 'boot.elf-truncated', /the image is 4096 bytes from file offset 0x0 .* but the file has only 96 bytes/);
    expectBootError(kernel(aout([0x100000, 0x100000, 0x100040, 0x100020, 0x100000])), 'boot.multiboot-bad-header', /bss_end_addr 0x100020 is below the end of the loaded image 0x100040/);
    expectBootError(kernel(aout([0x100000, 0x100000, 0x100000, 0, 0x100000])), 'boot.multiboot-bad-header', /the image is empty/);
  });

  it('ELF files GRUB refuses', () => {
    const ok = tinyElf();
    expectBootError(kernel(patch(ok.bytes, [[18, 2, 40]])), 'boot.elf-unsupported', /machine 40, not i386/);
    expectBootError(kernel(patch(ok.bytes, [[16, 2, 1]])), 'boot.elf-unsupported', /ELF type 1 is neither an executable/);
    expectBootError(kernel(patch(ok.bytes, [[24, 4, 0x300000]])), 'boot.elf-bad', /the entry point 0x300000 is not inside any segment/);
    expectBootError(kernel(patch(ok.bytes, [[ok.phoff, 4, 6]])), 'boot.elf-bad', /no loadable segment/);
    // Program headers beyond the first 8192 bytes (where GRUB reads them): move the table to the end of a padded file.
    const big = concat([ok.bytes, new Uint8Array(9000 - ok.bytes.length), ok.bytes.subarray(ok.phoff, ok.phoff + 32)]);
    expectBootError(kernel(patch(big, [[28, 4, 9000]])), 'boot.elf-unsupported', /program headers end past the first 8192 bytes/);
  });

  it('segments outside RAM, in the low-memory hole, or overlapping each other', () => {
    expectBootError(kernel(tinyElf(3, 0x9f000, [], { memsz: 0x2000 }).bytes), 'boot.outside-ram', /kernel segment 0 \[0x9f000, 0xa1000\) overlaps the low-memory hole/);
    expectBootError(kernel(tinyElf(3, 0xc0000).bytes), 'boot.outside-ram', /low-memory hole/);
    expectBootError(kernel(tinyElf(3, 0x100000, [], { memsz: 80 * MiB }).bytes), 'boot.outside-ram', /beyond the end of RAM at 0x1000000 \(16 MiB\); give the guest more memory/);
    const hdr = concat([mb1Header(3), new Uint8Array([0xf4])]);
    const two = buildElf({ entry: 0x10000c, segments: [{ paddr: 0x100000, data: hdr, memsz: 0x2000 }, { paddr: 0x101000, data: new Uint8Array(16) }] });
    expectBootError(kernel(two.bytes), 'boot.elf-bad', /segments 0 \[0x100000, 0x102000\) and 1 \[0x101000, 0x101010\) overlap/);
  });

  it('not enough memory for modules or the boot information', () => {
    expectBootError(kernel(tinyElf().bytes, { modules: [{ data: new Uint8Array(20 * MiB), path: '/boot/huge' }] }), 'boot.no-memory', /not enough RAM for module 0 \(\/boot\/huge\): it needs 20971520 bytes but the largest free block above 1 MiB has \d+ \(guest RAM 16 MiB\)/);
    expectBootError(kernel(tinyElf().bytes, { memory: memory(2 * MiB), modules: [{ data: new Uint8Array(512 * 1024), path: 'a' }, { data: new Uint8Array(600 * 1024), path: 'b' }] }), 'boot.no-memory', /module 1 \(b\)/);
    expectBootError(kernel(tinyElf().bytes, { cmdline: 'x'.repeat(600 * 1024) }), 'boot.no-memory', /the multiboot information \(\d+ bytes\) does not fit in low memory \[0x10000, 0x9FC00\)/);
  });

  it('moves the GDT when the kernel itself covers 0x10B0', () => {
    const { init, mem } = load({ kernel: tinyElf(3, 0x1000, [], { memsz: 0x1000 }).bytes });
    expect(init.gdtr?.base).not.toBe(0x10b0);
    expect(init.gdtr!.base % 16).toBe(0);
    expect(init.gdtr!.base >= 0x2000 || init.gdtr!.base + 32 <= 0x1000).toBe(true);
    expect(mem.readU8(init.gdtr!.base + 0x15)).toBe(0x9b);
  });
});

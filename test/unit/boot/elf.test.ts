import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BootError } from '../../../src-engine/base/errors';
import {
  EM_386, EM_X86_64, PT_LOAD, PT_NOTE, SHT_NOBITS, SHT_NOTE, elfNotes, findSection, notesFromSections,
  notesFromSegments, parseElf, sectionBytes, sectionName, segmentBytes, toAddress32,
} from '../../../src-engine/boot/elf';
import { buildElf, concat, note, patch } from './elf-builder';

const FIX = join(__dirname, 'fixtures');
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIX, name)));
const MBINFO = new Uint8Array(readFileSync('/work/shared/guests/mbinfo/kernel.elf'));

/** Expects `fn` to throw a BootError whose message names `path` and matches `pattern`. */
function expectBootError(fn: () => unknown, code: string, pattern: RegExp, path = 'k.elf'): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(BootError);
  const e = caught as BootError;
  expect(e.code).toBe(code);
  expect(e.message.startsWith(`${path}: `)).toBe(true);
  expect(e.message).toMatch(pattern);
}

describe('ELF parser on real files', () => {
  it('reads the mbinfo kernel (ELF32, ld output): header, segments, section names', () => {
    const elf = parseElf(MBINFO, 'kernel.elf');
    expect(elf.elfClass).toBe(32);
    expect(elf.machine).toBe(EM_386);
    expect(elf.entry).toBe(0x100010n);
    const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD);
    expect(loads.length).toBeGreaterThan(0);
    expect(loads[0].paddr).toBe(0x100000n);
    // The multiboot header is the first thing in the first segment.
    expect(Array.from(segmentBytes(elf, loads[0]).subarray(0, 4))).toEqual([0x02, 0xb0, 0xad, 0x1b]);
    const names = elf.sectionHeaders.map((s) => sectionName(elf, s));
    expect(names).toEqual(expect.arrayContaining(['', '.multiboot', '.text', '.data', '.bss', '.symtab', '.strtab', '.shstrtab']));
    const bss = findSection(elf, '.bss');
    expect(bss?.type).toBe(SHT_NOBITS);
    expect(sectionBytes(elf, bss!).length).toBe(0);
    expect(findSection(elf, '.nope')).toBeUndefined();
  });

  it('reads an ELF64 file with 64-bit fields', () => {
    const elf = parseElf(fixture('mbdump-v2-elf64.elf'), 'x');
    expect(elf.elfClass).toBe(64);
    expect(elf.machine).toBe(EM_X86_64);
    expect(elf.entry).toBe(0x100060n);
    expect(elf.programHeaders[0]).toMatchObject({ type: PT_LOAD, paddr: 0x100000n, filesz: 0x4bc, memsz: 0x1500 });
    expect(sectionName(elf, elf.sectionHeaders[1])).toBe('.text');
  });

  it('finds notes through PT_NOTE first (ELF64, allocated .note.Xen)', () => {
    const elf = parseElf(fixture('notes64.elf'), 'notes64.elf');
    expect(elf.programHeaders.some((p) => p.type === PT_NOTE)).toBe(true);
    const notes = elfNotes(elf);
    expect(notes.map((n) => [n.name, n.type, n.source])).toEqual([['Xen', 18, 'PT_NOTE'], ['Domus', 0x77, 'PT_NOTE']]);
    expect(new DataView(notes[0].desc.buffer, notes[0].desc.byteOffset).getUint32(0, true)).toBe(Number(elf.entry));
    expect(Array.from(notes[1].desc)).toEqual([0x61, 0x62, 0x63]);
    expect(notesFromSections(elf).map((n) => n.name)).toEqual(['Xen', 'Domus']);
  });

  it('falls back to SHT_NOTE sections when there is no PT_NOTE (the Mini-OS case)', () => {
    const elf = parseElf(fixture('notes32-section.elf'), 'n');
    expect(elf.programHeaders.some((p) => p.type === PT_NOTE)).toBe(false);
    expect(notesFromSegments(elf)).toEqual([]);
    const notes = elfNotes(elf);
    expect(notes.map((n) => [n.name, n.type, n.source])).toEqual([['Xen', 18, 'SHT_NOTE'], ['Domus', 0x77, 'SHT_NOTE']]);
    expect(new DataView(notes[0].desc.buffer, notes[0].desc.byteOffset).getUint32(0, true)).toBe(0x100000);
  });
});

describe('ELF parser on synthetic files', () => {
  const code = new Uint8Array(64).fill(0x90);

  it('resolves extended numbering (e_shnum = 0, e_shstrndx = SHN_XINDEX, e_phnum = PN_XNUM)', () => {
    const b = buildElf({ entry: 0x100000, segments: [{ paddr: 0x100000, data: code }], sections: [{ name: '.text', type: 1, flags: 6, addr: 0x100000, segment: 0 }] });
    const shnum = 3;
    const shstrndx = 2;
    const x = patch(b.bytes, [
      [48, 2, 0], [50, 2, 0xffff], [44, 2, 0xffff], // e_shnum, e_shstrndx, e_phnum
      [b.shoff + 20, 4, shnum], [b.shoff + 24, 4, shstrndx], [b.shoff + 28, 4, 1], // section 0: size, link, info
    ]);
    const elf = parseElf(x, 'k.elf');
    expect(elf.sectionHeaders.length).toBe(shnum);
    expect(elf.shstrndx).toBe(shstrndx);
    expect(elf.programHeaders.length).toBe(1);
    expect(sectionName(elf, elf.sectionHeaders[1])).toBe('.text');
  });

  it('keeps ELF64 addresses above 2^53 exact and refuses them for 32-bit use', () => {
    const b = buildElf({ elfClass: 64, entry: 0xffffffff81000123n, segments: [{ paddr: 0x1000000, vaddr: 0xffffffff81000000n, data: code }] });
    const elf = parseElf(b.bytes, 'k.elf');
    expect(elf.entry).toBe(0xffffffff81000123n);
    expect(elf.programHeaders[0].vaddr).toBe(0xffffffff81000000n);
    expect(toAddress32(elf, elf.programHeaders[0].paddr, 'x')).toBe(0x1000000);
    expectBootError(() => toAddress32(elf, elf.entry, 'the entry point'), 'boot.elf-unsupported', /the entry point 0xffffffff81000123 is above 4 GiB/);
  });

  it('pads note names and descriptors to 8 bytes in 8-aligned note areas', () => {
    // namesz 4 ("GNU\0"), descsz 4: with 8-byte padding the descriptor starts at 16, the next note at 24.
    const n1 = concat([new Uint8Array(new Uint32Array([4, 4, 5]).buffer), new TextEncoder().encode('GNU\0'), new Uint8Array([1, 2, 3, 4, 0, 0, 0, 0])]);
    expect(n1.length).toBe(24);
    const n2 = concat([new Uint8Array(new Uint32Array([4, 0, 6]).buffer), new TextEncoder().encode('GNU\0')]);
    const area = concat([n1, n2]);
    const b = buildElf({ entry: 0x100000, segments: [{ paddr: 0x100000, data: code }, { type: PT_NOTE, paddr: 0, data: area, align: 8 }] });
    const notes = elfNotes(parseElf(b.bytes, 'k.elf'));
    expect(notes.map((n) => [n.name, n.type, Array.from(n.desc)])).toEqual([['GNU', 5, [1, 2, 3, 4]], ['GNU', 6, []]]);
  });

  it('reads SHT_NOTE sections of a synthetic file', () => {
    const b = buildElf({ entry: 0x100000, segments: [{ paddr: 0x100000, data: code }], sections: [{ name: '.note', type: SHT_NOTE, data: note('Xen', 18, new Uint8Array([0, 0, 0x10, 0])), addralign: 4 }] });
    const notes = elfNotes(parseElf(b.bytes, 'k.elf'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ name: 'Xen', type: 18, source: 'SHT_NOTE' });
  });
});

describe('ELF parser refuses bad and hostile files with a BootError', () => {
  const code = new Uint8Array(64).fill(0x90);
  const good = buildElf({ entry: 0x100000, segments: [{ paddr: 0x100000, data: code }], sections: [{ name: '.text', type: 1, flags: 6, addr: 0x100000, segment: 0 }] });
  const good64 = buildElf({ elfClass: 64, entry: 0x100000, segments: [{ paddr: 0x100000, data: code }] });

  it('not an ELF file', () => {
    expectBootError(() => parseElf(new TextEncoder().encode('#!/bin/sh\necho hi\n'), 'k.elf'), 'boot.not-elf', /not an ELF file/);
    expectBootError(() => parseElf(new Uint8Array(0), 'k.elf'), 'boot.not-elf', /not an ELF file/);
  });

  it('unsupported identification: class, byte order, version', () => {
    expectBootError(() => parseElf(patch(good.bytes, [[4, 1, 3]]), 'k.elf'), 'boot.elf-unsupported', /unknown ELF class 3/);
    expectBootError(() => parseElf(patch(good.bytes, [[5, 1, 2]]), 'k.elf'), 'boot.elf-unsupported', /not little-endian/);
    expectBootError(() => parseElf(patch(good.bytes, [[6, 1, 0]]), 'k.elf'), 'boot.elf-unsupported', /identification version 0/);
    expectBootError(() => parseElf(patch(good.bytes, [[20, 4, 2]]), 'k.elf'), 'boot.elf-unsupported', /ELF version 2/);
  });

  it('truncated file header', () => {
    expectBootError(() => parseElf(good.bytes.subarray(0, 10), 'k.elf'), 'boot.elf-truncated', /identification is truncated/);
    expectBootError(() => parseElf(good.bytes.subarray(0, 40), 'k.elf'), 'boot.elf-truncated', /the ELF32 file header .* extends past the end of the file \(40 bytes\)/);
    expectBootError(() => parseElf(good64.bytes.subarray(0, 60), 'k.elf'), 'boot.elf-truncated', /the ELF64 file header/);
  });

  it('program headers past the end of the file, or too many of them', () => {
    expectBootError(() => parseElf(patch(good.bytes, [[28, 4, good.bytes.length - 8]]), 'k.elf'), 'boot.elf-truncated', /program header table \(1 entries of 32 bytes\)/);
    expectBootError(() => parseElf(patch(good.bytes, [[44, 2, 0xfffe]]), 'k.elf'), 'boot.elf-truncated', /program header table \(65534 entries/);
    expectBootError(() => parseElf(patch(good.bytes, [[42, 2, 16]]), 'k.elf'), 'boot.elf-bad', /e_phentsize is 16/);
  });

  it('a PT_LOAD whose bytes are past the end of the file, or whose filesz exceeds memsz', () => {
    const ph = good.phoff;
    expectBootError(() => parseElf(patch(good.bytes, [[ph + 4, 4, 0xfffffff0]]), 'k.elf'), 'boot.elf-truncated', /program header 0 \(PT_LOAD\)/);
    expectBootError(() => parseElf(patch(good.bytes, [[ph + 16, 4, 0x1000000]]), 'k.elf'), 'boot.elf-truncated', /program header 0 \(PT_LOAD\)/);
    expectBootError(() => parseElf(patch(good.bytes, [[ph + 20, 4, 8]]), 'k.elf'), 'boot.elf-bad', /p_filesz 0x40 larger than p_memsz 0x8/);
  });

  it('ELF64 sizes beyond 2^53', () => {
    expectBootError(() => parseElf(patch(good64.bytes, [[32, 8, 0xffffffffffff0000n]]), 'k.elf'), 'boot.elf-bad', /e_phoff is 0xffffffffffff0000/);
    expectBootError(() => parseElf(patch(good64.bytes, [[good64.phoff + 40, 8, 1n << 60n]]), 'k.elf'), 'boot.elf-bad', /program header 0 p_memsz/);
  });

  it('section headers past the end, huge extended counts, bad indexes', () => {
    expectBootError(() => parseElf(patch(good.bytes, [[32, 4, good.bytes.length - 4]]), 'k.elf'), 'boot.elf-truncated', /section header table/);
    expectBootError(() => parseElf(patch(good.bytes, [[48, 2, 0], [good.shoff + 20, 4, 0xffffffff]]), 'k.elf'), 'boot.elf-truncated', /section header table \(4294967295 entries/);
    expectBootError(() => parseElf(patch(good.bytes, [[50, 2, 77]]), 'k.elf'), 'boot.elf-bad', /e_shstrndx = 77/);
    expectBootError(() => parseElf(patch(good.bytes, [[46, 2, 20]]), 'k.elf'), 'boot.elf-bad', /e_shentsize is 20/);
    expectBootError(() => parseElf(patch(good.bytes, [[32, 4, 0], [48, 2, 0], [50, 2, 0xffff]]), 'k.elf'), 'boot.elf-bad', /extended numbering but there is no section header table/);
    // A section whose bytes are past the end of the file.
    expectBootError(() => parseElf(patch(good.bytes, [[good.shoff + 40 + 20, 4, 0x7fffffff]]), 'k.elf'), 'boot.elf-truncated', /section header 1 /);
  });

  it('a section name outside the name table, and an unterminated one', () => {
    const far = parseElf(patch(good.bytes, [[good.shoff + 40, 4, 0x10000]]), 'k.elf');
    expectBootError(() => sectionName(far, far.sectionHeaders[1]), 'boot.elf-bad', /name offset 0x10000 outside the section-name table/);
    const strtab = good.shoff + 2 * 40;
    const view = new DataView(good.bytes.buffer);
    const size = view.getUint32(strtab + 20, true);
    const cut = parseElf(patch(good.bytes, [[strtab + 20, 4, size - 1]]), 'k.elf'); // drop the last NUL
    expectBootError(() => sectionName(cut, cut.sectionHeaders[2]), 'boot.elf-bad', /not NUL-terminated/);
  });

  it('a note running past its area', () => {
    const bad = concat([new Uint8Array(new Uint32Array([4, 100, 18]).buffer), new TextEncoder().encode('Xen\0'), new Uint8Array(4)]);
    const b = buildElf({ entry: 0x100000, segments: [{ paddr: 0x100000, data: code }, { type: PT_NOTE, paddr: 0, data: bad }] });
    expectBootError(() => elfNotes(parseElf(b.bytes, 'k.elf')), 'boot.elf-bad', /descsz 100\) runs past the end of its area/);
  });

  it('never throws anything but a BootError on truncations and random corruption', () => {
    const files = [MBINFO, fixture('mbdump-v2-elf64.elf'), fixture('notes64.elf'), fixture('notes32-section.elf')];
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed;
    };
    const exercise = (bytes: Uint8Array) => {
      try {
        const elf = parseElf(bytes, 'k.elf');
        for (const sh of elf.sectionHeaders) sectionName(elf, sh);
        elfNotes(elf);
        notesFromSections(elf);
      } catch (err) {
        if (!(err instanceof BootError)) throw err;
      }
    };
    for (const f of files) {
      for (let len = 0; len < Math.min(f.length, 400); len++) exercise(f.subarray(0, len));
      for (let round = 0; round < 400; round++) {
        const m = f.slice();
        const headerEnd = 0x200; // concentrate on the headers, where the offsets live
        for (let k = 0; k < 1 + (rand() % 4); k++) m[rand() % headerEnd] = rand() & 0xff;
        exercise(m);
      }
    }
  });
});

/**
 * Builds small ELF32/ELF64 little-endian files for the boot tests: program headers with their data,
 * extra sections (with a generated .shstrtab), and helpers to patch fields afterwards so tests can
 * make hostile files from valid ones. Layout: file header, program headers, segment data (each
 * 16-aligned, in order), section data, .shstrtab, section headers.
 */

export interface SegmentSpec {
  type?: number; // default PT_LOAD (1)
  paddr: number | bigint;
  vaddr?: number | bigint; // default paddr
  data: Uint8Array;
  memsz?: number; // default data.length
  flags?: number;
  align?: number;
}

export interface SectionSpec {
  name: string;
  type: number;
  flags?: number;
  addr?: number | bigint;
  data?: Uint8Array; // ignored for SHT_NOBITS
  size?: number; // SHT_NOBITS size
  addralign?: number;
  entsize?: number;
  /** Place the section over segment N's data instead of its own bytes. */
  segment?: number;
}

export interface ElfSpec {
  elfClass?: 32 | 64;
  machine?: number; // default EM_386 / EM_X86_64
  type?: number; // default ET_EXEC
  entry: number | bigint;
  segments: SegmentSpec[];
  sections?: SectionSpec[];
}

/** Where things went in a built file (for patching). */
export interface BuiltElf {
  bytes: Uint8Array;
  phoff: number;
  shoff: number;
  segmentOffsets: number[];
}

const align = (n: number, a: number) => Math.ceil(n / a) * a;

export function buildElf(spec: ElfSpec): BuiltElf {
  const is64 = (spec.elfClass ?? 32) === 64;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const shentsize = is64 ? 64 : 40;
  const sections = spec.sections ?? [];
  const phoff = ehsize;
  let cursor = phoff + spec.segments.length * phentsize;
  const segmentOffsets = spec.segments.map((s) => {
    cursor = align(cursor, 16);
    const at = cursor;
    cursor += s.data.length;
    return at;
  });
  const sectionOffsets = sections.map((s) => {
    if (s.segment !== undefined) return segmentOffsets[s.segment];
    if (s.type === 8) return cursor;
    cursor = align(cursor, Math.max(4, s.addralign ?? 1));
    const at = cursor;
    cursor += s.data?.length ?? 0;
    return at;
  });
  // .shstrtab: "\0" + names + ".shstrtab"
  const names = ['', ...sections.map((s) => s.name), '.shstrtab'];
  const nameOffsets: number[] = [];
  let strtab = '';
  for (const n of names) {
    nameOffsets.push(strtab.length);
    strtab += n + '\0';
  }
  const strtabOff = cursor;
  cursor += strtab.length;
  const shoff = align(cursor, 8);
  const shnum = sections.length + 2;
  const total = shoff + shnum * shentsize;
  const bytes = new Uint8Array(total);
  const v = new DataView(bytes.buffer);
  const w = (off: number, val: number | bigint) => (is64 ? v.setBigUint64(off, BigInt(val), true) : v.setUint32(off, Number(val), true));
  bytes.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1], 0);
  v.setUint16(16, spec.type ?? 2, true);
  v.setUint16(18, spec.machine ?? (is64 ? 62 : 3), true);
  v.setUint32(20, 1, true);
  const ws = is64 ? 8 : 4;
  w(24, spec.entry);
  w(24 + ws, phoff);
  w(24 + 2 * ws, shoff);
  const t = 24 + 3 * ws;
  v.setUint16(t + 4, ehsize, true);
  v.setUint16(t + 6, phentsize, true);
  v.setUint16(t + 8, spec.segments.length, true);
  v.setUint16(t + 10, shentsize, true);
  v.setUint16(t + 12, shnum, true);
  v.setUint16(t + 14, shnum - 1, true);
  spec.segments.forEach((s, i) => {
    const p = phoff + i * phentsize;
    bytes.set(s.data, segmentOffsets[i]);
    const vaddr = s.vaddr ?? s.paddr;
    const memsz = s.memsz ?? s.data.length;
    v.setUint32(p, s.type ?? 1, true);
    if (is64) {
      v.setUint32(p + 4, s.flags ?? 7, true);
      w(p + 8, segmentOffsets[i]);
      w(p + 16, vaddr);
      w(p + 24, s.paddr);
      w(p + 32, s.data.length);
      w(p + 40, memsz);
      w(p + 48, s.align ?? 16);
    } else {
      w(p + 4, segmentOffsets[i]);
      w(p + 8, vaddr);
      w(p + 12, s.paddr);
      w(p + 16, s.data.length);
      w(p + 20, memsz);
      v.setUint32(p + 24, s.flags ?? 7, true);
      w(p + 28, s.align ?? 16);
    }
  });
  const shdr = (i: number, name: number, type: number, flags: number, addr: number | bigint, off: number, size: number, addralign: number, entsize: number) => {
    const p = shoff + i * shentsize;
    v.setUint32(p, name, true);
    v.setUint32(p + 4, type, true);
    if (is64) {
      w(p + 8, flags);
      w(p + 16, addr);
      w(p + 24, off);
      w(p + 32, size);
      w(p + 48, addralign);
      w(p + 56, entsize);
    } else {
      w(p + 8, flags);
      w(p + 12, addr);
      w(p + 16, off);
      w(p + 20, size);
      w(p + 32, addralign);
      w(p + 36, entsize);
    }
  };
  sections.forEach((s, i) => {
    const size = s.type === 8 ? (s.size ?? 0) : s.segment !== undefined ? spec.segments[s.segment].data.length : (s.data?.length ?? 0);
    if (s.type !== 8 && s.segment === undefined && s.data) bytes.set(s.data, sectionOffsets[i]);
    shdr(i + 1, nameOffsets[i + 1], s.type, s.flags ?? 0, s.addr ?? 0, sectionOffsets[i], size, s.addralign ?? 1, s.entsize ?? 0);
  });
  for (let i = 0; i < strtab.length; i++) bytes[strtabOff + i] = strtab.charCodeAt(i);
  shdr(shnum - 1, nameOffsets[names.length - 1], 3, 0, 0, strtabOff, strtab.length, 1, 0);
  return { bytes, phoff, shoff, segmentOffsets };
}

/** Little-endian field patchers on a copy of `bytes`. */
export function patch(bytes: Uint8Array, edits: Array<[offset: number, size: 1 | 2 | 4 | 8, value: number | bigint]>): Uint8Array {
  const out = bytes.slice();
  const v = new DataView(out.buffer);
  for (const [off, size, value] of edits) {
    if (size === 1) v.setUint8(off, Number(value));
    else if (size === 2) v.setUint16(off, Number(value), true);
    else if (size === 4) v.setUint32(off, Number(value) >>> 0, true);
    else v.setBigUint64(off, BigInt(value), true);
  }
  return out;
}

/** An ELF note: namesz, descsz, type, name (4-padded), desc (4-padded). */
export function note(name: string, type: number, desc: Uint8Array): Uint8Array {
  const nameBytes = new TextEncoder().encode(name + '\0');
  const size = 12 + align(nameBytes.length, 4) + align(desc.length, 4);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, nameBytes.length, true);
  v.setUint32(4, desc.length, true);
  v.setUint32(8, type, true);
  out.set(nameBytes, 12);
  out.set(desc, 12 + align(nameBytes.length, 4));
  return out;
}

/** A multiboot v1 header: magic, flags, checksum, then optional extra words. */
export function mb1Header(flags: number, extra: number[] = []): Uint8Array {
  const words = [0x1badb002, flags, (0x100000000 - ((0x1badb002 + flags) >>> 0)) >>> 0, ...extra];
  return u32s(words);
}

/** A multiboot2 header with the given tags (each a Uint8Array, padded to 8 here) and an end tag. */
export function mb2Header(tags: Uint8Array[], arch = 0): Uint8Array {
  const body = [...tags.map((t) => padTo(t, 8)), u32s([0, 8])];
  const length = 16 + body.reduce((n, t) => n + t.length, 0);
  const head = u32s([0xe85250d6, arch, length, (0x100000000 - ((0xe85250d6 + arch + length) >>> 0)) >>> 0]);
  return concat([head, ...body]);
}

/** A multiboot2 header tag: u16 type, u16 flags, u32 size, then the u32 payload words. */
export function mb2Tag(type: number, flags: number, payload: number[]): Uint8Array {
  const out = u32s([0, 8 + payload.length * 4, ...payload]);
  const v = new DataView(out.buffer);
  v.setUint16(0, type, true);
  v.setUint16(2, flags, true);
  return out;
}

export function u32s(words: number[]): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const v = new DataView(out.buffer);
  words.forEach((x, i) => v.setUint32(i * 4, x >>> 0, true));
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function padTo(b: Uint8Array, a: number): Uint8Array {
  const out = new Uint8Array(align(b.length, a));
  out.set(b);
  return out;
}

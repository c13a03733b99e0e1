/**
 * Decodes multiboot v1 and v2 boot information from anything with read(addr, len): our
 * FlatGuestMemory, or the sparse memory rebuilt from a GRUB probe dump. Field offsets come from the
 * specifications (multiboot.h / multiboot2.h), independently of the loader code under test.
 */

export interface ByteSource {
  read(addr: number, len: number): Uint8Array;
}

const u32 = (b: Uint8Array, off: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, true);
const u64 = (b: Uint8Array, off: number) => Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off, true));

export function readCString(src: ByteSource, addr: number): string {
  let s = '';
  for (let a = addr; ; a++) {
    const c = src.read(a, 1)[0];
    if (c === 0) return s;
    s += String.fromCharCode(c);
  }
}

export interface Mbi1 {
  flags: number;
  memLower: number;
  memUpper: number;
  bootDevice: number;
  cmdlineAddr: number;
  cmdline?: string;
  modsAddr: number;
  mods: Array<{ start: number; end: number; stringAddr: number; string: string; reserved: number }>;
  mmapAddr: number;
  mmapLength: number;
  mmap: Array<{ size: number; base: number; length: number; type: number }>;
  elf: { num: number; size: number; addr: number; shndx: number };
  loaderNameAddr: number;
  loaderName?: string;
}

export function readMbi1(src: ByteSource, addr: number): Mbi1 {
  const b = src.read(addr, 116);
  const flags = u32(b, 0);
  const mods: Mbi1['mods'] = [];
  if (flags & (1 << 3)) {
    for (let i = 0; i < u32(b, 20); i++) {
      const e = src.read(u32(b, 24) + i * 16, 16);
      mods.push({ start: u32(e, 0), end: u32(e, 4), stringAddr: u32(e, 8), string: readCString(src, u32(e, 8)), reserved: u32(e, 12) });
    }
  }
  const mmap: Mbi1['mmap'] = [];
  if (flags & (1 << 6)) {
    const m = src.read(u32(b, 48), u32(b, 44));
    for (let off = 0; off < m.length; off += u32(m, off) + 4) {
      mmap.push({ size: u32(m, off), base: u64(m, off + 4), length: u64(m, off + 12), type: u32(m, off + 20) });
    }
  }
  return {
    flags, memLower: u32(b, 4), memUpper: u32(b, 8), bootDevice: u32(b, 12),
    cmdlineAddr: u32(b, 16), cmdline: flags & (1 << 2) ? readCString(src, u32(b, 16)) : undefined,
    modsAddr: u32(b, 24), mods, mmapAddr: u32(b, 48), mmapLength: u32(b, 44), mmap,
    elf: { num: u32(b, 28), size: u32(b, 32), addr: u32(b, 36), shndx: u32(b, 40) },
    loaderNameAddr: u32(b, 64), loaderName: flags & (1 << 9) ? readCString(src, u32(b, 64)) : undefined,
  };
}

export interface Mbi2Tag {
  type: number;
  size: number;
  addr: number;
  /** The tag's bytes after type and size. */
  payload: Uint8Array;
}

export interface Mbi2 {
  totalSize: number;
  reserved: number;
  tags: Mbi2Tag[];
}

export function readMbi2(src: ByteSource, addr: number): Mbi2 {
  const head = src.read(addr, 8);
  const totalSize = u32(head, 0);
  const tags: Mbi2Tag[] = [];
  for (let at = addr + 8; at < addr + totalSize; ) {
    const t = src.read(at, 8);
    const type = u32(t, 0);
    const size = u32(t, 4);
    tags.push({ type, size, addr: at, payload: src.read(at + 8, size - 8) });
    if (type === 0) break;
    at += Math.ceil(size / 8) * 8;
  }
  return { totalSize, reserved: u32(head, 4), tags };
}

/** Payload decoders for the v2 tags the loader produces. */
export const tag2 = {
  string: (t: Mbi2Tag) => String.fromCharCode(...t.payload.subarray(0, t.payload.indexOf(0))),
  u32: (t: Mbi2Tag, i: number) => u32(t.payload, i * 4),
  module: (t: Mbi2Tag) => ({ start: u32(t.payload, 0), end: u32(t.payload, 4), string: String.fromCharCode(...t.payload.subarray(8, t.payload.indexOf(0, 8))) }),
  mmap: (t: Mbi2Tag) => {
    const entrySize = u32(t.payload, 0);
    const entries = [];
    for (let off = 8; off + entrySize <= t.payload.length; off += entrySize) {
      entries.push({ base: u64(t.payload, off), length: u64(t.payload, off + 8), type: u32(t.payload, off + 16), zero: u32(t.payload, off + 20) });
    }
    return { entrySize, version: u32(t.payload, 4), entries };
  },
  elfSections: (t: Mbi2Tag) => ({ num: u32(t.payload, 0), entsize: u32(t.payload, 4), shndx: u32(t.payload, 8), table: t.payload.subarray(12) }),
};

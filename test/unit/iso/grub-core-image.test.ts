import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getU16LE, getU32LE } from '../../../src-engine/iso/bytes';
import {
  buildCorePayload,
  buildEltoritoImage,
  CDBOOT_BYTES,
  DECOMPRESSOR_COMPRESSED_SIZE,
  DECOMPRESSOR_UNCOMPRESSED_SIZE,
  DISKBOOT_BLOCKLIST_LEN,
  DISKBOOT_BYTES,
  layoutKernel,
  MODULE_INFO_BYTES,
  MODULE_MAGIC,
  OBJ_TYPE_CONFIG,
  OBJ_TYPE_ELF,
  OBJ_TYPE_PREFIX,
  rescueLoadCfg,
} from '../../../src-engine/iso/grub-core-image';
import { parseModDeps, resolveModules } from '../../../src-engine/iso/grub-moddep';
import { lzmaRawCompress, lzmaRawDecompress } from '../../../src-engine/iso/lzma-raw';
import { BUNDLED_GRUB_DIR, bundledGrubFiles, hasTool } from './fixtures';

const files = bundledGrubFiles();
const hasMkimage = hasTool('grub-mkimage', 'the grub-mkimage differential tests');
const hasXz = hasTool('xz', 'the xz raw LZMA1 cross-check');

/** Walks the module objects of a payload: [type, data] pairs. */
function objects(payload: Uint8Array, kernelSize: number): { type: number; data: Uint8Array }[] {
  expect(getU32LE(payload, kernelSize)).toBe(MODULE_MAGIC);
  const total = getU32LE(payload, kernelSize + 8);
  expect(kernelSize + total).toBe(payload.length);
  const out = [];
  let off = kernelSize + MODULE_INFO_BYTES;
  while (off < payload.length) {
    const size = getU32LE(payload, off + 4);
    out.push({ type: getU32LE(payload, off), data: payload.subarray(off + 8, off + size) });
    off += size;
  }
  expect(off).toBe(payload.length);
  return out;
}

describe('GRUB module dependencies (moddep.lst)', () => {
  it('orders dependencies before dependants, each once, last-listed dependency first', () => {
    const deps = parseModDeps('a: b c\nb: d\nc: d\nd:\ne: a\n');
    expect(resolveModules(deps, ['a'])).toEqual(['d', 'c', 'b', 'a']);
    expect(resolveModules(deps, ['b', 'e'])).toEqual(['d', 'b', 'c', 'a', 'e']);
    expect(resolveModules(deps, ['x.mod'])).toEqual(['x']);
  });
  it('refuses a cycle and a malformed line', () => {
    expect(() => resolveModules(parseModDeps('a: b\nb: a\n'), ['a'])).toThrow(/cycle: a -> b -> a/);
    expect(() => parseModDeps('a b c\n')).toThrow(/line 1 has no ":"/);
  });
  it('resolves the reference set from the bundled moddep.lst', () => {
    const deps = parseModDeps(new TextDecoder().decode(files.get('moddep.lst')));
    expect(resolveModules(deps, ['biosdisk', 'iso9660'])).toEqual(['biosdisk', 'fshelp', 'iso9660']);
  });
});

describe('GRUB kernel.img layout', () => {
  it('places the allocated sections from the link address and stops at the end of .data', () => {
    const kernelImg = files.get('kernel.img')!;
    const k = layoutKernel(kernelImg);
    // Debian 2.06-13: .text at file offset 0x80, sections contiguous up to the end of .data (0x74a8).
    expect(k.kernelSize).toBe(0x74a8);
    expect(k.bssSize).toBeGreaterThan(0);
    expect(Buffer.from(k.image).equals(Buffer.from(kernelImg.subarray(0x80, 0x80 + 0x74a8)))).toBe(true);
  });
  it('refuses something that is not a GRUB kernel', () => {
    expect(() => layoutKernel(files.get('biosdisk.mod')!)).toThrow(/kernel.img is not a GRUB i386-pc kernel: not an i386 executable/);
    expect(() => layoutKernel(new Uint8Array(100))).toThrow(/not an ELF file/);
  });
});

describe('core payload', () => {
  const loadCfg = rescueLoadCfg(files);
  it('writes the embedded config grub-mkrescue writes (insmod per partmap.lst line)', () => {
    expect(loadCfg.split('\n').filter(Boolean)).toHaveLength(11);
    expect(loadCfg.startsWith('insmod part_acorn\n')).toBe(true);
    expect(loadCfg.length).toBe(188);
  });
  it('holds the modules, the config and the prefix after the module info header', () => {
    const p = buildCorePayload(files, { modules: ['biosdisk', 'iso9660'], prefix: '/boot/grub', config: loadCfg });
    const objs = objects(p.payload, p.kernelSize);
    expect(objs.map((o) => o.type)).toEqual([OBJ_TYPE_ELF, OBJ_TYPE_ELF, OBJ_TYPE_ELF, OBJ_TYPE_CONFIG, OBJ_TYPE_PREFIX]);
    const fshelp = files.get('fshelp.mod')!;
    expect(Buffer.from(objs[1].data.subarray(0, fshelp.length)).equals(Buffer.from(fshelp))).toBe(true);
    expect(objs[1].data.length % 4).toBe(0);
    expect(objs[3].data.length).toBe(192); // 188 + NUL, padded to 4
    expect(new TextDecoder().decode(objs[4].data)).toBe('/boot/grub\0\0');
    expect(p.payload.length).toBe(0x74a8 + 0x4020); // spec §3.2 reference
  });
  it('names a missing module file', () => {
    const partial = new Map(files);
    partial.delete('fshelp.mod');
    expect(() => buildCorePayload(partial, { modules: ['iso9660'], prefix: '/boot/grub' })).toThrow(/has no fshelp\.mod/);
  });
});

describe('eltorito.img', () => {
  const loadCfg = rescueLoadCfg(files);
  const core = buildEltoritoImage(files, { modules: ['biosdisk', 'iso9660'], prefix: '/boot/grub', config: loadCfg });
  const decompressor = files.get('lzma_decompress.img')!;
  const streamAt = CDBOOT_BYTES + DISKBOOT_BYTES + decompressor.length;

  it('is cdboot ‖ diskboot ‖ lzma_decompress ‖ stream with the size fields set', () => {
    const e = core.eltorito;
    expect(e.length).toBe(streamAt + core.compressedSize);
    expect(Buffer.from(e.subarray(0, CDBOOT_BYTES)).equals(Buffer.from(files.get('cdboot.img')!))).toBe(true);
    const coreSize = decompressor.length + core.compressedSize;
    expect(getU16LE(e, CDBOOT_BYTES + DISKBOOT_BLOCKLIST_LEN)).toBe(Math.ceil(coreSize / 512));
    expect(getU32LE(e, CDBOOT_BYTES + DISKBOOT_BYTES + DECOMPRESSOR_COMPRESSED_SIZE)).toBe(core.compressedSize);
    expect(getU32LE(e, CDBOOT_BYTES + DISKBOOT_BYTES + DECOMPRESSOR_UNCOMPRESSED_SIZE)).toBe(core.payload.length);
  });
  it('holds an LZMA stream that decodes to the payload', () => {
    const out = lzmaRawDecompress(core.eltorito.subarray(streamAt), core.payload.length);
    expect(Buffer.from(out).equals(Buffer.from(core.payload))).toBe(true);
  });
  it.skipIf(!hasXz)('holds a raw LZMA1 lc=3 lp=0 pb=2 stream that xz decodes to the payload', () => {
    const out = execFileSync('xz', ['--format=raw', '--lzma1=lc=3,lp=0,pb=2,dict=64KiB', '-dc'], { input: core.eltorito.subarray(streamAt) });
    expect(Buffer.compare(out, Buffer.from(core.payload))).toBe(0);
  });
  it('round-trips arbitrary data through the raw LZMA1 codec', () => {
    const data = new Uint8Array(70_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251 ^ (i >> 9);
    expect(Buffer.from(lzmaRawDecompress(lzmaRawCompress(data), data.length)).equals(Buffer.from(data))).toBe(true);
  });

  describe.skipIf(!hasMkimage)('against grub-mkimage -O i386-pc-eltorito', () => {
    const cases: [string, string[]][] = [
      ['grub-mkrescue set', ['biosdisk', 'iso9660']],
      ['many modules', ['biosdisk', 'iso9660', 'normal', 'multiboot', 'serial', 'part_msdos']],
    ];
    for (const [label, mods] of cases) {
      it(`matches except the documented fields and the LZMA bytes (${label})`, () => {
        const dir = mkdtempSync(path.join(tmpdir(), 'domus-mkimage-'));
        try {
          writeFileSync(path.join(dir, 'load.cfg'), loadCfg);
          const out = path.join(dir, 'eltorito.img');
          execFileSync('grub-mkimage', ['-d', BUNDLED_GRUB_DIR, '-O', 'i386-pc-eltorito', '-p', '/boot/grub', '-c', path.join(dir, 'load.cfg'), '-o', out, ...mods]);
          const ref = new Uint8Array(readFileSync(out));
          const ours = buildEltoritoImage(files, { modules: mods, prefix: '/boot/grub', config: loadCfg });
          const refPayloadSize = getU32LE(ref, CDBOOT_BYTES + DISKBOOT_BYTES + DECOMPRESSOR_UNCOMPRESSED_SIZE);
          const refStream = ref.subarray(streamAt, streamAt + getU32LE(ref, CDBOOT_BYTES + DISKBOOT_BYTES + DECOMPRESSOR_COMPRESSED_SIZE));
          const refPayload = lzmaRawDecompress(refStream, refPayloadSize);
          expect(Buffer.from(ours.payload).equals(Buffer.from(refPayload))).toBe(true);
          // Headers: equal except diskboot's sector count (0x1FC) and the decompressor's compressed size (0x08).
          const head = streamAt;
          const differing: number[] = [];
          for (let i = 0; i < head; i++) if (ref[i] !== ours.eltorito[i]) differing.push(i);
          const allowed = new Set([
            CDBOOT_BYTES + DISKBOOT_BLOCKLIST_LEN,
            CDBOOT_BYTES + DISKBOOT_BLOCKLIST_LEN + 1,
            ...[0, 1, 2, 3].map((i) => CDBOOT_BYTES + DISKBOOT_BYTES + DECOMPRESSOR_COMPRESSED_SIZE + i),
          ]);
          expect(differing.filter((i) => !allowed.has(i))).toEqual([]);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  });
});

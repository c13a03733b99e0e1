import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getU16LE, getU32BE, getU32LE, getU64LE } from '../../../src-engine/iso/bytes';
import { bootInfoChecksum, validationEntrySum } from '../../../src-engine/iso/el-torito';
import { chsBytes } from '../../../src-engine/iso/hybrid-mbr';
import { PVD_OFFSETS } from '../../../src-engine/iso/iso9660-descriptors';
import { packRecords } from '../../../src-engine/iso/iso9660-records';
import { PAD_TAIL_SECTORS, writeIsoImage } from '../../../src-engine/iso/iso-image';
import { addIsoFile, compareIsoNames, createIsoDir, ensureIsoDir, type IsoDir } from '../../../src-engine/iso/iso-tree';
import { bundledGrubFiles, hasTool } from './fixtures';
import { both32, readDirectory, readFile, readTree } from './iso-reader';

const S = 2048;
const TIME = Date.UTC(2024, 0, 2, 3, 4, 5, 60);
const hasXorriso = hasTool('xorriso', 'the xorriso listings of written images');

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 17 + (i >> 8)) & 0xff;
  return b;
}

function sampleTree(): IsoDir {
  const root = createIsoDir();
  addIsoFile(root, '/boot/grub/grub.cfg', new TextEncoder().encode('set timeout=0\n'));
  addIsoFile(root, '/boot/grub/i386-pc/eltorito.img', bytes(5000, 1));
  addIsoFile(root, '/boot/kernel.elf', bytes(9000, 2));
  addIsoFile(root, '/boot/hermit_application', bytes(3000, 3));
  addIsoFile(root, '/README', bytes(10, 4));
  addIsoFile(root, '/empty', new Uint8Array(0));
  ensureIsoDir(root, '/boot/grub/roms');
  return root;
}

const bootOpts = { imagePath: '/boot/grub/i386-pc/eltorito.img', grub2BootInfo: true, hybridMbr: bundledGrubFiles().get('boot_hybrid.img')! };

describe('ISO 9660 tree', () => {
  it('orders names as ECMA-119 9.3 (name, then extension, space-padded)', () => {
    const names = ['b.mod', 'a', 'a.b', 'ab', 'a-b'];
    expect([...names].sort(compareIsoNames)).toEqual(['a', 'a.b', 'a-b', 'ab', 'b.mod']);
  });
  it('refuses names GRUB could not find and case-only clashes', () => {
    const root = createIsoDir();
    addIsoFile(root, '/boot/Kernel', new Uint8Array(1));
    expect(() => addIsoFile(root, '/boot/kernel', new Uint8Array(1))).toThrow(/differ only in upper\/lower case/);
    expect(() => addIsoFile(root, '/boot/a;1', new Uint8Array(1))).toThrow(/contains ";"/);
    expect(() => addIsoFile(root, '/boot/trailing.', new Uint8Array(1))).toThrow(/trailing "\."/);
    expect(() => addIsoFile(root, '/boot/Kernel/x', new Uint8Array(1))).toThrow(/a file has that name/);
    addIsoFile(root, '/boot/Kernel', new Uint8Array(2)); // same name: replaced, like a later graft
  });
});

describe('ISO image layout', () => {
  const { image, layout } = writeIsoImage(sampleTree(), { timeMs: TIME, boot: bootOpts, firstPaths: ['/boot'] });

  it('writes the Primary Volume Descriptor fields', () => {
    const p = 16 * S;
    expect(image[p]).toBe(1);
    expect(new TextDecoder().decode(image.subarray(p + 1, p + 6))).toBe('CD001');
    expect(image[p + 6]).toBe(1);
    expect(new TextDecoder().decode(image.subarray(p + 40, p + 72))).toBe('ISOIMAGE'.padEnd(32));
    expect(both32(image, p + PVD_OFFSETS.volumeSpaceSize)).toBe(layout.totalSectors);
    expect(getU16LE(image, p + PVD_OFFSETS.logicalBlockSize)).toBe(2048);
    expect(both32(image, p + PVD_OFFSETS.pathTableSize)).toBe(layout.pathTableSize);
    expect(getU32LE(image, p + PVD_OFFSETS.typeLPathTable)).toBe(layout.lPathTableLba);
    expect(getU32BE(image, p + PVD_OFFSETS.typeMPathTable)).toBe(layout.mPathTableLba);
    expect(image[p + 156]).toBe(34); // root record length
    expect(both32(image, p + 156 + 2)).toBe(layout.extents.get('/')!.lba);
    expect(new TextDecoder().decode(image.subarray(p + 813, p + 829))).toBe('2024010203040506');
    expect(new TextDecoder().decode(image.subarray(p + 830, p + 846))).toBe('2024010203040506');
    expect(new TextDecoder().decode(image.subarray(p + 847, p + 863))).toBe('0000000000000000');
    expect(image[p + 881]).toBe(1);
    expect(image[17 * S]).toBe(0); // boot record
    expect(new TextDecoder().decode(image.subarray(17 * S + 7, 17 * S + 30))).toBe('EL TORITO SPECIFICATION');
    expect(getU32LE(image, 17 * S + 0x47)).toBe(layout.catalogLba);
    expect(image[18 * S]).toBe(255); // terminator
  });

  it('writes both path tables with the same records in their own byte order, breadth-first', () => {
    const read = (lba: number, be: boolean) => {
      const recs = [];
      let off = lba * S;
      const end = off + layout.pathTableSize;
      while (off < end) {
        const n = image[off];
        recs.push({
          name: n === 1 && image[off + 8] === 0 ? '' : new TextDecoder().decode(image.subarray(off + 8, off + 8 + n)),
          lba: be ? getU32BE(image, off + 2) : getU32LE(image, off + 2),
          parent: be ? (image[off + 6] << 8) | image[off + 7] : getU16LE(image, off + 6),
        });
        off += 8 + n + (n % 2);
      }
      return recs;
    };
    const l = read(layout.lPathTableLba, false);
    const m = read(layout.mPathTableLba, true);
    expect(m).toEqual(l);
    expect(l.map((r) => r.name)).toEqual(['', 'boot', 'grub', 'i386-pc', 'roms']);
    expect(l.map((r) => r.parent)).toEqual([1, 1, 2, 3, 3]);
    expect(l[3].lba).toBe(layout.extents.get('/boot/grub/i386-pc')!.lba);
  });

  it('lists every file through the directory records, data intact', () => {
    const tree = readTree(image);
    expect(tree.map((e) => e.path).sort()).toEqual(
      ['/README', '/boot', '/boot/grub', '/boot/grub/grub.cfg', '/boot/grub/i386-pc', '/boot/grub/i386-pc/eltorito.img', '/boot/grub/roms', '/boot/hermit_application', '/boot/kernel.elf', '/empty'].sort(),
    );
    expect(Buffer.from(readFile(image, '/boot/kernel.elf')!).equals(Buffer.from(bytes(9000, 2)))).toBe(true);
    expect(readFile(image, '/empty')!.length).toBe(0);
    const root = readDirectory(image, layout.extents.get('/')!.lba, S);
    expect(root[0].id).toBe('\0');
    expect(root[1].id).toBe('\u0001');
    expect(root[1].lba).toBe(root[0].lba); // the root's parent is itself
    expect(tree.find((e) => e.path === '/README')!.id).toBe('README;1');
  });

  it('places /boot files first (sort weight) and every file in one extent', () => {
    const bootLbas = ['/boot/kernel.elf', '/boot/hermit_application', '/boot/grub/grub.cfg'].map((p) => layout.extents.get(p)!.lba);
    expect(Math.max(...bootLbas)).toBeLessThan(layout.extents.get('/README')!.lba);
  });

  it('writes a boot catalog with a zero-sum validation entry and a no-emulation entry', () => {
    const c = layout.catalogLba! * S;
    expect(image[c]).toBe(1);
    expect(image[c + 30]).toBe(0x55);
    expect(image[c + 31]).toBe(0xaa);
    expect(validationEntrySum(image, c)).toBe(0);
    expect(getU16LE(image, c + 28)).toBe(0x55aa); // xorriso's value for an all-zero id
    expect(image[c + 32]).toBe(0x88);
    expect(image[c + 33]).toBe(0);
    expect(getU16LE(image, c + 38)).toBe(4);
    expect(getU32LE(image, c + 40)).toBe(layout.bootImageLba);
  });

  it('patches the boot image: boot info table (checksum covers the GRUB patch) and --grub2-boot-info', () => {
    const b = readFile(image, '/boot/grub/i386-pc/eltorito.img')!;
    expect(getU32LE(b, 8)).toBe(16);
    expect(getU32LE(b, 12)).toBe(layout.bootImageLba);
    expect(getU32LE(b, 16)).toBe(5000);
    expect(getU64LE(b, 0x9f4 - 0x800 + 0x800)).toBe(layout.bootImageLba! * 4 + 5);
    expect(getU32LE(b, 20)).toBe(bootInfoChecksum(b));
    expect(b.subarray(24, 64).every((x) => x === 0)).toBe(true);
    // Untouched elsewhere.
    const src = bytes(5000, 1);
    for (const i of [0, 7, 64, 2547, 2556, 4999]) expect(b[i]).toBe(src[i]);
  });

  it('writes the hybrid MBR: boot_hybrid code, diskboot pointer, one active 0xCD partition', () => {
    const hybrid = bundledGrubFiles().get('boot_hybrid.img')!;
    expect(Buffer.from(image.subarray(0, 432)).equals(Buffer.from(hybrid.subarray(0, 432)))).toBe(true);
    expect(getU64LE(image, 0x1b0)).toBe(layout.bootImageLba! * 4 + 4);
    const e = 0x1be;
    expect(image[e]).toBe(0x80);
    expect(image[e + 4]).toBe(0xcd);
    expect(getU32LE(image, e + 8)).toBe(1);
    expect(getU32LE(image, e + 12)).toBe(layout.totalSectors * 4 - 1);
    expect([...image.subarray(e + 1, e + 4)]).toEqual([0, 2, 0]);
    expect([...image.subarray(e + 5, e + 8)]).toEqual(chsBytes(layout.totalSectors * 4 - 1));
    expect(image.subarray(e + 16, 0x1fe).every((x) => x === 0)).toBe(true);
    expect([image[510], image[511]]).toEqual([0x55, 0xaa]);
    expect(image.subarray(512, 16 * S).every((x) => x === 0)).toBe(true);
  });

  it('computes CHS like xorriso (64 heads, 32 sectors) and saturates past cylinder 1023', () => {
    // xorriso wrote 04 18 09 for the last sector of a 4646-sector image (18583 in 512-byte units).
    expect(chsBytes(18583)).toEqual([0x04, 0x18, 0x09]);
    expect(chsBytes(1)).toEqual([0, 2, 0]);
    expect(chsBytes(2048 * 1024 + 5)).toEqual([63, 32 | 0xc0, 0xff]);
  });

  it('pads to a multiple of 16 sectors plus 150 sectors', () => {
    expect(layout.totalSectors).toBe(Math.ceil(layout.dataEndSectors / 16) * 16 + PAD_TAIL_SECTORS);
    expect(image.length).toBe(layout.totalSectors * S);
    expect(image.subarray(layout.dataEndSectors * S).every((x) => x === 0)).toBe(true);
  });

  it('is deterministic: same inputs and time give the same bytes, another time does not', () => {
    const again = writeIsoImage(sampleTree(), { timeMs: TIME, boot: bootOpts, firstPaths: ['/boot'] }).image;
    expect(Buffer.from(again).equals(Buffer.from(image))).toBe(true);
    const later = writeIsoImage(sampleTree(), { timeMs: TIME + 1000, boot: bootOpts, firstPaths: ['/boot'] }).image;
    expect(Buffer.from(later).equals(Buffer.from(image))).toBe(false);
  });

  it('refuses a missing boot image and a bad volume id', () => {
    expect(() => writeIsoImage(createIsoDir(), { timeMs: TIME, boot: bootOpts })).toThrow(/boot image .* is not in the tree/);
    expect(() => writeIsoImage(createIsoDir(), { timeMs: TIME, volumeId: 'x'.repeat(33) })).toThrow(/at most 32/);
  });
});

describe('directory records and sectors', () => {
  it('never lets a record cross a sector boundary', () => {
    const packed = packRecords([...Array<number>(8).fill(250), 40, 40, 100]);
    expect(packed.offsets.slice(7)).toEqual([1750, 2000, 2048, 2088]);
    expect(packed.size).toBe(4096);
    const root = createIsoDir();
    for (let i = 0; i < 120; i++) addIsoFile(root, `/many/file-with-a-rather-long-name-${String(i).padStart(3, '0')}.bin`, bytes(i, i));
    const { image, layout } = writeIsoImage(root, { timeMs: TIME });
    const dir = layout.extents.get('/many')!;
    expect(dir.size).toBeGreaterThan(2 * S);
    const entries = readDirectory(image, dir.lba, dir.size);
    expect(entries.crossings).toBe(0);
    expect(entries).toHaveLength(122);
    expect(readTree(image).filter((e) => !e.isDir)).toHaveLength(120);
  });
});

describe.skipIf(!hasXorriso)('xorriso reads the image', () => {
  it('lists the tree and reports the El Torito entry and the MBR', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'domus-iso-'));
    try {
      const file = path.join(dir, 'x.iso');
      writeFileSync(file, writeIsoImage(sampleTree(), { timeMs: TIME, boot: bootOpts }).image);
      const run = (...args: string[]) => execFileSync('xorriso', ['-indev', file, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const found = run('-find', '/', '-exec', 'lsdl');
      for (const p of ['/boot/kernel.elf', '/boot/grub/grub.cfg', '/boot/grub/i386-pc/eltorito.img', '/README']) expect(found).toContain(`'${p}'`);
      const report = run('-report_el_torito', 'plain', '-report_system_area', 'plain');
      expect(report).toMatch(/El Torito boot img :\s+1\s+BIOS\s+y\s+none\s+0x0000\s+0x00\s+4\s+\d+/);
      expect(report).toMatch(/El Torito img opts :\s+1\s+boot-info-table grub2-boot-info/);
      expect(report).toMatch(/MBR partition\s+:\s+1\s+0x80\s+0xcd\s+1\s+\d+/);
      expect(report).toContain('grub2-mbr');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

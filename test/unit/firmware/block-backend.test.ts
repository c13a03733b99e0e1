import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openFileBlockBackend } from '../../../src-engine/node/disk/file-block-backend';
import { createMemoryBlockBackend } from '../../../src-engine/firmware/bios/memory-disk';
import { BlockIoError } from '../../../src-engine/machine/block-backend';

const dir = mkdtempSync(path.join(tmpdir(), 'domus-block-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: number, fill = 0): string {
  const p = path.join(dir, name);
  writeFileSync(p, new Uint8Array(bytes).fill(fill));
  return p;
}

describe('file-backed block devices', () => {
  it('a disk image: 512-byte sectors, whole sectors only, reads and writes at an LBA', () => {
    const p = file('a.img', 10 * 512 + 100);
    const d = openFileBlockBackend({ path: p, medium: 'disk' });
    expect(d).toMatchObject({ sectorSize: 512, sectorCount: 10, readOnly: false, medium: 'disk', name: p });
    d.write(3, new Uint8Array(1024).fill(0xab));
    expect(d.read(2, 3).subarray(510, 514)).toEqual(Uint8Array.of(0, 0, 0xab, 0xab));
    d.flush();
    expect(readFileSync(p)[3 * 512]).toBe(0xab);
    expect(readFileSync(p)[5 * 512]).toBe(0);
    d.close();
    expect(() => d.read(0, 1)).toThrow(/has been closed/);
  });

  it('an ISO: 2048-byte read-only sectors; writes are refused', () => {
    const p = file('a.iso', 20 * 2048, 7);
    const cd = openFileBlockBackend({ path: p, medium: 'cdrom' });
    expect(cd).toMatchObject({ sectorSize: 2048, sectorCount: 20, readOnly: true });
    expect(cd.read(19, 1)[2047]).toBe(7);
    expect(() => cd.write(0, new Uint8Array(2048))).toThrow(/read-only/);
    cd.close();
  });

  it('refuses ranges outside the device and partial-sector writes, naming the device', () => {
    const d = openFileBlockBackend({ path: file('b.img', 4 * 512), medium: 'disk' });
    expect(() => d.read(3, 2)).toThrow(BlockIoError);
    expect(() => d.read(-1, 1)).toThrow(/outside the device \(it has 4 sectors of 512 bytes\)/);
    expect(() => d.write(0, new Uint8Array(100))).toThrow(/not a whole number of sectors/);
    d.close();
  });

  it('explains missing, empty and non-file images', () => {
    expect(() => openFileBlockBackend({ path: path.join(dir, 'nope.iso'), medium: 'cdrom' })).toThrow(/The CD-ROM image .*nope\.iso does not exist/);
    expect(() => openFileBlockBackend({ path: file('tiny.img', 100), medium: 'disk' })).toThrow(/smaller than one 512-byte sector/);
    const sub = path.join(dir, 'sub');
    mkdirSync(sub);
    expect(() => openFileBlockBackend({ path: sub, medium: 'disk', readOnly: true })).toThrow(/not a regular file|cannot be opened/);
  });

  it('a disk opened read-only refuses writes and leaves the file alone', () => {
    const p = file('ro.img', 2 * 512, 1);
    const d = openFileBlockBackend({ path: p, medium: 'disk', readOnly: true });
    expect(() => d.write(0, new Uint8Array(512))).toThrow(/read-only/);
    d.close();
    expect(readFileSync(p).every((b) => b === 1)).toBe(true);
  });
});

describe('memory block devices', () => {
  it('write in place, count flushes with writes, refuse after close', () => {
    const bytes = new Uint8Array(4 * 512);
    const d = createMemoryBlockBackend(bytes, { medium: 'disk' });
    d.flush();
    expect(d.flushes).toBe(0);
    d.write(1, new Uint8Array(512).fill(9));
    expect(bytes[512]).toBe(9);
    d.close();
    expect(d.flushes).toBe(1);
    expect(() => d.write(0, new Uint8Array(512))).toThrow(/closed/);
    expect(createMemoryBlockBackend(new Uint8Array(3 * 2048), { medium: 'cdrom' }).readOnly).toBe(true);
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createHvmMachine, type HvmMachine } from '../../support/hvm-machine';
import { biosCall } from './rig';
import { makeDisk } from './media';
import { diskGeometry } from '../../../src-engine/firmware/bios/drives';
import { openFileBlockBackend } from '../../../src-engine/node/disk/file-block-backend';
import type { MemoryBlockBackend } from '../../../src-engine/firmware/bios/memory-disk';

const DAP = 0x0800;
const BUF_SEG = 0x2000;
const HD = 0x80;
/** 4 MiB: QEMU's guessed geometry 8 cylinders x 16 heads x 63 sectors (as the probe measured). */
const SECTORS = 8192;
let m: HvmMachine;
let disk: MemoryBlockBackend;

beforeEach(() => {
  disk = makeDisk(SECTORS, true);
  m = createHvmMachine({ memoryMiB: 16, disks: [disk], bootOrder: ['disk'] });
});

function dap(lba: number, count: number): void {
  const p = new Uint8Array(16);
  const dv = new DataView(p.buffer);
  p[0] = 0x10;
  dv.setUint16(2, count, true);
  dv.setUint16(6, BUF_SEG, true);
  dv.setUint32(8, lba, true);
  m.memory.write(DAP, p);
}

function ext(ah: number, lba: number, count: number) {
  dap(lba, count);
  const r = biosCall(m, 0x13, { eax: ah << 8, edx: HD, esi: DAP });
  return { ...r, dapCount: m.memory.readU16(DAP + 2) };
}

const stamp = (n: number) => m.memory.readU32(BUF_SEG * 16 + n * 512);
/** CX of a CHS call: cylinder (10 bits) and sector. */
const chsCx = (cyl: number, sector: number) => ((cyl & 0xff) << 8) | ((cyl >> 2) & 0xc0) | sector;

describe('disk geometry', () => {
  it('guesses 16 heads x 63 sectors like QEMU and applies LBA-assisted translation past 1024 cylinders', () => {
    expect(diskGeometry(8192)).toEqual({ cylinders: 8, heads: 16, sectorsPerTrack: 63 });
    expect(diskGeometry(100)).toEqual({ cylinders: 1, heads: 16, sectorsPerTrack: 63 });
    expect(diskGeometry(1024 * 1008)).toEqual({ cylinders: 1024, heads: 16, sectorsPerTrack: 63 });
    expect(diskGeometry(2 * 1024 * 1008)).toEqual({ cylinders: 1024, heads: 32, sectorsPerTrack: 63 });
    expect(diskGeometry(16 * 2 ** 30 / 512)).toEqual({ cylinders: 1024, heads: 255, sectorsPerTrack: 63 });
  });
});

describe('INT 13h on a raw disk image', () => {
  it('booted sector 0 at 0000:7C00 with DL=80h', () => {
    expect(m.bootResult).toMatchObject({ booted: true, device: 'Hard Disk' });
    expect(m.memory.readU16(0x7c00 + 510)).toBe(0xaa55);
    expect(m.memory.readU8(0x475)).toBe(1);
  });

  it('AH=08h, AH=15h and AH=48h report the geometry and size as SeaBIOS does (measured values)', () => {
    expect(biosCall(m, 0x13, { eax: 0x0800, edx: HD })).toMatchObject({ cf: false, ax: 0, cx: 0x063f, dx: 0x0f01 });
    expect(biosCall(m, 0x13, { eax: 0x1500, edx: HD })).toMatchObject({ cf: false, ah: 3, cx: 0, dx: 0x1b90 });
    m.memory.fill(0x1000, 0x42, 0);
    m.memory.writeU16(0x1000, 0x1e);
    expect(biosCall(m, 0x13, { eax: 0x4800, edx: HD, esi: 0x1000 }).cf).toBe(false);
    const t = new DataView(m.memory.read(0x1000, 0x1e).buffer);
    expect([t.getUint16(0, true), t.getUint16(2, true), t.getUint32(4, true), t.getUint32(8, true), t.getUint32(12, true)]).toEqual([0x1e, 2, 8, 16, 63]);
    expect(t.getUint32(16, true)).toBe(SECTORS);
    expect(t.getUint16(24, true)).toBe(512);
    expect(t.getUint32(26, true)).toBe(0xffffffff);
  });

  it('AH=02h reads by CHS: C/H/S 0/0/1 is LBA 0; 1/2/3 is LBA (1*16+2)*63+2', () => {
    const r = biosCall(m, 0x13, { eax: 0x0202, ecx: chsCx(1, 3), edx: 0x0200 | HD, es: BUF_SEG, ebx: 0 });
    expect(r).toMatchObject({ cf: false, ah: 0, al: 2 });
    expect([stamp(0), stamp(1)]).toEqual([(16 + 2) * 63 + 2, (16 + 2) * 63 + 3]);
    biosCall(m, 0x13, { eax: 0x0201, ecx: chsCx(0, 1), edx: HD, es: BUF_SEG, ebx: 0x200 });
    expect(m.memory.readU16(BUF_SEG * 16 + 0x200 + 510)).toBe(0xaa55);
  });

  it('AH=02h refuses count 0, count > 128, sector 0 and addresses outside the geometry (AH=01h, AL kept)', () => {
    for (const [ax, cx, dh] of [[0x0200, chsCx(0, 1), 0], [0x0281, chsCx(0, 1), 0], [0x0201, chsCx(0, 0), 0], [0x0201, chsCx(0, 64), 0], [0x0201, chsCx(8, 1), 0], [0x0201, chsCx(0, 1), 16]]) {
      const r = biosCall(m, 0x13, { eax: ax, ecx: cx, edx: (dh << 8) | HD, es: BUF_SEG });
      expect(r, `AX=${ax.toString(16)} CX=${cx.toString(16)} DH=${dh}`).toMatchObject({ cf: true, ah: 0x01, al: ax & 0xff });
    }
  });

  it('AH=03h writes by CHS and AH=42h reads the same sectors back by LBA', () => {
    m.memory.fill(BUF_SEG * 16, 1024, 0x5a);
    expect(biosCall(m, 0x13, { eax: 0x0302, ecx: chsCx(0, 5), edx: 0x0100 | HD, es: BUF_SEG })).toMatchObject({ cf: false, al: 2 });
    const lba = 63 + 4;
    expect(disk.bytes[lba * 512]).toBe(0x5a);
    expect(disk.bytes[(lba + 2) * 512]).not.toBe(0x5a);
    m.memory.fill(BUF_SEG * 16, 1024, 0);
    expect(ext(0x42, lba, 2)).toMatchObject({ cf: false, dapCount: 2 });
    expect(m.memory.readU8(BUF_SEG * 16 + 1023)).toBe(0x5a);
  });

  it('AH=42h at the end: LBA past the end AH=01h with the packet untouched; across the end AH=0Ch after the sectors up to it', () => {
    expect(ext(0x42, SECTORS - 1, 1)).toMatchObject({ cf: false, dapCount: 1 });
    expect(stamp(0)).toBe(SECTORS - 1);
    expect(ext(0x42, SECTORS, 3)).toMatchObject({ cf: true, ah: 0x01, dapCount: 3 });
    m.memory.fill(BUF_SEG * 16, 2048, 0xee);
    const r = ext(0x42, SECTORS - 1, 2);
    expect(r).toMatchObject({ cf: true, ah: 0x0c, dapCount: 1 });
    expect(stamp(0)).toBe(SECTORS - 1);
    expect(m.memory.readU8(BUF_SEG * 16 + 512)).toBe(0xee);
    expect(ext(0x42, 0, 129)).toMatchObject({ cf: true, ah: 0x09, dapCount: 0 });
    expect(biosCall(m, 0x13, { eax: 0x0100, edx: HD })).toMatchObject({ cf: true, ah: 0x09 });
  });

  it('AH=43h writes by LBA; AH=44h verifies; AH=47h seeks', () => {
    m.memory.fill(BUF_SEG * 16, 512, 0xa5);
    expect(ext(0x43, 100, 1)).toMatchObject({ cf: false, dapCount: 1 });
    expect(disk.bytes.subarray(100 * 512, 101 * 512).every((b) => b === 0xa5)).toBe(true);
    expect(ext(0x44, 100, 4).cf).toBe(false);
    expect(ext(0x47, SECTORS - 1, 0).cf).toBe(false);
    expect(ext(0x47, SECTORS, 0)).toMatchObject({ cf: true, ah: 0x01 });
  });

  it('AH=15h on floppy 00h and on disk 81h: no such drive; AH=16h on a hard disk: AH=01h', () => {
    expect(biosCall(m, 0x13, { eax: 0x1500, edx: 0x00 })).toMatchObject({ cf: true, ah: 0x01 });
    expect(biosCall(m, 0x13, { eax: 0x1500, edx: 0x81 })).toMatchObject({ cf: true, ah: 0x01 });
    expect(biosCall(m, 0x13, { eax: 0x1600, edx: HD })).toMatchObject({ cf: true, ah: 0x01 });
    expect(biosCall(m, 0x13, { eax: 0x4900, edx: HD })).toMatchObject({ cf: false, ah: 0 });
    expect(biosCall(m, 0x13, { eax: 0x4600, edx: HD })).toMatchObject({ cf: true, ah: 0xb2 });
    expect(biosCall(m, 0x13, { eax: 0x1000, edx: HD })).toMatchObject({ cf: false, ah: 0 });
  });
});

describe('INT 13h when the host fails', () => {
  it('a host read error fails the call with AH=0Ch and tells the console, the BIOS keeps working', () => {
    const broken = makeDisk(64, false);
    broken.read = () => {
      throw new Error('EIO: input/output error');
    };
    m = createHvmMachine({ memoryMiB: 16, disks: [broken], bootOrder: [] });
    expect(ext(0x42, 1, 1)).toMatchObject({ cf: true, ah: 0x0c, dapCount: 0 });
    expect(m.messages.some((l) => l.includes('EIO: input/output error') && l.includes('test.img'))).toBe(true);
    expect(biosCall(m, 0x13, { eax: 0x0800, edx: HD }).cf).toBe(false);
  });
});

describe('INT 13h writes on read-only and file-backed disks', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'domus-bios-disk-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a read-only disk refuses writes with AH=03h and keeps its bytes', () => {
    const img = path.join(dir, 'ro.img');
    writeFileSync(img, new Uint8Array(64 * 512));
    const ro = openFileBlockBackend({ path: img, medium: 'disk', readOnly: true });
    m = createHvmMachine({ memoryMiB: 16, disks: [ro], bootOrder: [] });
    m.memory.fill(BUF_SEG * 16, 512, 0x77);
    expect(ext(0x43, 3, 1)).toMatchObject({ cf: true, ah: 0x03, dapCount: 0 });
    expect(biosCall(m, 0x13, { eax: 0x0301, ecx: 1, edx: HD, es: BUF_SEG })).toMatchObject({ cf: true, ah: 0x03 });
    ro.close();
    expect(readFileSync(img).every((b) => b === 0)).toBe(true);
  });

  it('writes to an image file reach the file and survive close()', () => {
    const img = path.join(dir, 'rw.img');
    writeFileSync(img, new Uint8Array(64 * 512));
    const rw = openFileBlockBackend({ path: img, medium: 'disk' });
    m = createHvmMachine({ memoryMiB: 16, disks: [rw], bootOrder: [] });
    m.memory.write(BUF_SEG * 16, new TextEncoder().encode('PERSISTED BY INT 13h'));
    expect(ext(0x43, 7, 1).cf).toBe(false);
    rw.close();
    expect(new TextDecoder().decode(readFileSync(img).subarray(7 * 512, 7 * 512 + 20))).toBe('PERSISTED BY INT 13h');
  });
});

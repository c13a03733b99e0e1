import { beforeEach, describe, expect, it } from 'vitest';
import { createHvmMachine, type HvmMachine } from '../../support/hvm-machine';
import { biosCall } from './rig';
import { IMAGE_LBA, makeCd } from './media';

/** Disk address packet at 0000:0800, buffer at 2000:0000. */
const DAP = 0x0800;
const BUF_SEG = 0x2000;
const CD = 0xe0;
const SECTORS = 64;
let m: HvmMachine;

beforeEach(() => {
  m = createHvmMachine({ memoryMiB: 16, cdroms: [makeCd({ sectors: SECTORS })] });
});

function dap(lba: number, count: number, seg = BUF_SEG, off = 0): void {
  const p = new Uint8Array(16);
  const dv = new DataView(p.buffer);
  dv.setUint8(0, 0x10);
  dv.setUint16(2, count, true);
  dv.setUint16(4, off, true);
  dv.setUint16(6, seg, true);
  dv.setUint32(8, lba, true);
  m.memory.write(DAP, p);
}

function read(lba: number, count: number, drive = CD) {
  dap(lba, count);
  m.memory.fill(BUF_SEG * 16, 0x11000, 0xee);
  const r = biosCall(m, 0x13, { eax: 0x4200, edx: drive, esi: DAP });
  return { ...r, dapCount: m.memory.readU16(DAP + 2) };
}

/** The LBA stamped at the start of the n-th 2048-byte sector of the buffer. */
const stamp = (n: number) => m.memory.readU32(BUF_SEG * 16 + n * 2048);

describe('INT 13h on the CD-ROM (2048-byte sectors)', () => {
  it('the boot put DL=E0h and the boot image at 0000:7C00', () => {
    expect(m.bootResult).toMatchObject({ booted: true, device: 'DVD/CD' });
    expect(m.memory.readU8(0x7c00)).toBe(0xfa);
  });

  it('AH=42h reads whole 2048-byte blocks: CF=0, AH=0, the packet count unchanged', () => {
    const r = read(30, 3);
    expect(r).toMatchObject({ cf: false, ah: 0, dapCount: 3 });
    expect([stamp(0), stamp(1), stamp(2)]).toEqual([30, 31, 32]);
    expect(m.memory.readU8(BUF_SEG * 16 + 3 * 2048)).toBe(0xee);
  });

  it('reads the last sector; at or across the end it fails whole with AH=0Ch and count 0 (as SeaBIOS)', () => {
    expect(read(SECTORS - 1, 1)).toMatchObject({ cf: false, ah: 0, dapCount: 1 });
    expect(stamp(0)).toBe(SECTORS - 1);
    for (const [lba, n] of [[SECTORS, 1], [SECTORS - 1, 2], [0x7fffffff, 1]]) {
      const r = read(lba, n);
      expect(r, `lba ${lba} count ${n}`).toMatchObject({ cf: true, ah: 0x0c, dapCount: 0 });
      expect(m.memory.readU8(BUF_SEG * 16)).toBe(0xee);
    }
  });

  it('32 sectors (64 KiB) pass; 33 fail with AH=09h before anything moves; 0 sectors succeed', () => {
    expect(read(0, 32)).toMatchObject({ cf: false, dapCount: 32 });
    expect(stamp(31)).toBe(31);
    expect(read(0, 33)).toMatchObject({ cf: true, ah: 0x09, dapCount: 0 });
    expect(m.memory.readU8(BUF_SEG * 16)).toBe(0xee);
    expect(read(5, 0)).toMatchObject({ cf: false, ah: 0, dapCount: 0 });
  });

  it('a packet with FFFF:FFFF and size 18h uses its 64-bit flat buffer address', () => {
    dap(40, 1, 0xffff, 0xffff);
    m.memory.writeU8(DAP, 0x18);
    m.memory.writeU32(DAP + 16, 0x30000);
    m.memory.writeU32(DAP + 20, 0);
    const r = biosCall(m, 0x13, { eax: 0x4200, edx: CD, esi: DAP });
    expect(r.cf).toBe(false);
    expect(m.memory.readU32(0x30000)).toBe(40);
  });

  it('AH=43h (write) fails with AH=03h; AH=01h then reports 03h with CF=1', () => {
    dap(1, 1);
    expect(biosCall(m, 0x13, { eax: 0x4300, edx: CD, esi: DAP })).toMatchObject({ cf: true, ah: 0x03 });
    expect(biosCall(m, 0x13, { eax: 0x0100, edx: CD })).toMatchObject({ cf: true, ah: 0x03 });
    expect(biosCall(m, 0x13, { eax: 0x0000, edx: CD })).toMatchObject({ cf: false, ah: 0 });
    expect(biosCall(m, 0x13, { eax: 0x0100, edx: CD })).toMatchObject({ cf: false, ah: 0 });
  });

  it('AH=41h reports EDD 3.0 with BX=AA55h, CX=0007h', () => {
    expect(biosCall(m, 0x13, { eax: 0x4100, ebx: 0x55aa, edx: CD })).toMatchObject({ cf: false, ah: 0x30, bx: 0xaa55, cx: 0x0007 });
  });

  it('AH=48h fills the drive parameters of a CD: flags 74h, all-ones geometry, 2048-byte sectors', () => {
    for (const size of [0x1a, 0x1e, 0x42]) {
      m.memory.fill(0x1000, 0x42, 0);
      m.memory.writeU16(0x1000, size);
      const r = biosCall(m, 0x13, { eax: 0x4800, edx: CD, esi: 0x1000 });
      expect(r.cf).toBe(false);
      expect(m.memory.readU16(0x1000)).toBe(size >= 0x1e ? 0x1e : 0x1a);
      expect(m.memory.readU16(0x1002)).toBe(0x0074);
      expect(m.memory.readU32(0x1010)).toBe(0xffffffff);
      expect(m.memory.readU32(0x1014)).toBe(0xffffffff);
      expect(m.memory.readU16(0x1018)).toBe(2048);
    }
    m.memory.writeU16(0x1000, 0x10);
    expect(biosCall(m, 0x13, { eax: 0x4800, edx: CD, esi: 0x1000 })).toMatchObject({ cf: true, ah: 0x01 });
  });

  it('AX=4B01h fills the El Torito specification packet for the boot CD', () => {
    m.memory.fill(0x0900, 0x20, 0xff);
    m.memory.writeU8(0x0900, 0x13);
    const r = biosCall(m, 0x13, { eax: 0x4b01, edx: CD, esi: 0x0900 });
    expect(r).toMatchObject({ cf: false, ah: 0 });
    const p = m.memory.read(0x0900, 0x13);
    const dv = new DataView(p.buffer);
    expect([p[0], p[1], p[2], p[3]]).toEqual([0x13, 0, CD, 0]);
    expect(dv.getUint32(4, true)).toBe(IMAGE_LBA);
    expect(dv.getUint16(12, true)).toBe(0x07c0);
    expect(dv.getUint16(14, true)).toBe(4);
    expect([p[16], p[17], p[18]]).toEqual([0, 0, 0]);
    expect(m.memory.readU8(0x0913)).toBe(0xff);
    expect(biosCall(m, 0x13, { eax: 0x4b00, edx: CD, esi: 0x0900 }).cf).toBe(false);
  });

  it('AX=4B01h on a drive that was not booted as a CD fails with AH=01h', () => {
    expect(biosCall(m, 0x13, { eax: 0x4b01, edx: 0x80, esi: 0x0900 })).toMatchObject({ cf: true, ah: 0x01 });
    expect(biosCall(m, 0x13, { eax: 0x4b02, edx: CD, esi: 0x0900 })).toMatchObject({ cf: true, ah: 0x01 });
  });

  it('CHS calls and AH=08h are refused on a CD (AH=01h); AH=15h says AH=01h with CF=0; AH=16h "changed"', () => {
    expect(biosCall(m, 0x13, { eax: 0x0201, ecx: 0x0001, edx: CD, es: BUF_SEG })).toMatchObject({ cf: true, ah: 0x01, al: 0x01 });
    expect(biosCall(m, 0x13, { eax: 0x0800, edx: CD })).toMatchObject({ cf: true, ah: 0x01 });
    expect(biosCall(m, 0x13, { eax: 0x1500, edx: CD })).toMatchObject({ cf: false, ah: 0x01 });
    expect(biosCall(m, 0x13, { eax: 0x1600, edx: CD })).toMatchObject({ cf: true, ah: 0x06 });
    expect(biosCall(m, 0x13, { eax: 0x4900, edx: CD })).toMatchObject({ cf: true, ah: 0x06 });
    expect(biosCall(m, 0x13, { eax: 0x4600, edx: CD })).toMatchObject({ cf: true, ah: 0x01 });
  });

  it('drives that do not exist answer AH=01h, CF=1 (floppies, 80h, E1h) and so do unknown functions', () => {
    for (const dl of [0x00, 0x01, 0x80, 0xe1]) {
      expect(biosCall(m, 0x13, { eax: 0x0000, edx: dl }), `DL=${dl}`).toMatchObject({ cf: true, ah: 0x01 });
      expect(biosCall(m, 0x13, { eax: 0x1500, edx: dl })).toMatchObject({ cf: true, ah: 0x01 });
    }
    expect(biosCall(m, 0x13, { eax: 0x5500, edx: CD })).toMatchObject({ cf: true, ah: 0x01 });
    expect(biosCall(m, 0x40, { eax: 0x0000, edx: 0x00 })).toMatchObject({ cf: true, ah: 0x01 });
  });

  it('AH=47h seeks inside the medium; AH=44h verifies without transferring', () => {
    dap(10, 1);
    expect(biosCall(m, 0x13, { eax: 0x4700, edx: CD, esi: DAP }).cf).toBe(false);
    dap(SECTORS + 5, 1);
    expect(biosCall(m, 0x13, { eax: 0x4700, edx: CD, esi: DAP })).toMatchObject({ cf: true, ah: 0x01 });
    dap(10, 2);
    m.memory.fill(BUF_SEG * 16, 16, 0xee);
    expect(biosCall(m, 0x13, { eax: 0x4400, edx: CD, esi: DAP }).cf).toBe(false);
    expect(m.memory.readU8(BUF_SEG * 16)).toBe(0xee);
  });
});

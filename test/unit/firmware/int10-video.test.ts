import { beforeEach, describe, expect, it } from 'vitest';
import { createHvmMachine, type HvmMachine } from '../../support/hvm-machine';
import { biosCall } from './rig';
import { VGA_TEXT_BASE } from '../../../src-engine/machine/vga-text';

let m: HvmMachine;
beforeEach(() => {
  m = createHvmMachine({ memoryMiB: 16 });
  biosCall(m, 0x10, { eax: 0x0003 }); // clear the screen: mode 3
});

const cell = (row: number, col: number, page = 0) => m.memory.readU16(VGA_TEXT_BASE + page * 0x1000 + (row * 80 + col) * 2);
const text = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

describe('INT 10h text output', () => {
  it('AH=00h mode 3 clears the screen, homes the cursor and reports AL=30h', () => {
    m.memory.writeU16(VGA_TEXT_BASE, 0x1f41);
    const r = biosCall(m, 0x10, { eax: 0x0003 });
    expect(r.al).toBe(0x30);
    expect(cell(0, 0)).toBe(0x0720);
    expect(m.vga.cursor()).toMatchObject({ row: 0, col: 0, visible: true });
    expect(m.memory.readU8(0x449)).toBe(3);
    expect(m.memory.readU16(0x44a)).toBe(80);
  });

  it('AH=00h with bit 7 keeps video memory; a graphics mode leaves the mode alone', () => {
    m.memory.writeU16(VGA_TEXT_BASE, 0x1f41);
    biosCall(m, 0x10, { eax: 0x0083 });
    expect(cell(0, 0)).toBe(0x1f41);
    const r = biosCall(m, 0x10, { eax: 0x0013 });
    expect(r.al).toBe(0x13);
    expect(m.memory.readU8(0x449)).toBe(3);
  });

  it('AH=02h/03h set and get the cursor per page; the CRTC follows the active page', () => {
    biosCall(m, 0x10, { eax: 0x0200, ebx: 0x0000, edx: 0x0a05 });
    biosCall(m, 0x10, { eax: 0x0200, ebx: 0x0100, edx: 0x0102 });
    const r0 = biosCall(m, 0x10, { eax: 0x0300, ebx: 0x0000 });
    expect(r0.dx).toBe(0x0a05);
    expect(r0.ax).toBe(0);
    expect(biosCall(m, 0x10, { eax: 0x0300, ebx: 0x0100 }).dx).toBe(0x0102);
    expect(m.vga.cursor()).toMatchObject({ row: 10, col: 5 });
    expect(m.memory.readU16(0x450)).toBe(0x0a05);
  });

  it('AH=01h sets the cursor shape (bit 5 of CH hides it); AH=03h returns it in CX', () => {
    biosCall(m, 0x10, { eax: 0x0100, ecx: 0x2000 });
    expect(m.vga.cursor().visible).toBe(false);
    expect(biosCall(m, 0x10, { eax: 0x0300 }).cx).toBe(0x2000);
    biosCall(m, 0x10, { eax: 0x0100, ecx: 0x0607 });
    expect(m.vga.cursor()).toMatchObject({ visible: true, startLine: 6, endLine: 7 });
  });

  it('AH=09h writes CX cells with the attribute and does not move the cursor; AH=0Ah keeps attributes', () => {
    biosCall(m, 0x10, { eax: 0x0200, edx: 0x0304 });
    biosCall(m, 0x10, { eax: 0x0941, ebx: 0x001e, ecx: 3 });
    expect([cell(3, 4), cell(3, 5), cell(3, 6), cell(3, 7)]).toEqual([0x1e41, 0x1e41, 0x1e41, 0x0720]);
    expect(biosCall(m, 0x10, { eax: 0x0300 }).dx).toBe(0x0304);
    biosCall(m, 0x10, { eax: 0x0a42, ecx: 2 });
    expect([cell(3, 4), cell(3, 5), cell(3, 6)]).toEqual([0x1e42, 0x1e42, 0x1e41]);
    const r = biosCall(m, 0x10, { eax: 0x0800 });
    expect(r.ax).toBe(0x1e42);
  });

  it('AH=0Eh teletype: characters advance, CR/LF/BS move, BEL is silent, the last line scrolls', () => {
    for (const ch of text('Hi\r\nab\x08c\x07')) biosCall(m, 0x10, { eax: 0x0e00 | ch, ebx: 0x0007 });
    expect(m.vga.lines().slice(0, 2)).toEqual(['Hi', 'ac']);
    expect(m.vga.cursor()).toMatchObject({ row: 1, col: 2 });
    biosCall(m, 0x10, { eax: 0x0200, edx: 0x184f }); // row 24, column 79
    biosCall(m, 0x10, { eax: 0x0e5a });
    expect(m.vga.cursor()).toMatchObject({ row: 24, col: 0 });
    expect(m.vga.lines()[23]).toMatch(/Z$/);
    expect(m.vga.lines()[0]).toBe('ac');
  });

  it('AH=06h/07h scroll a window up and down, AL=0 clears it with the attribute in BH', () => {
    for (let r = 0; r < 4; r++) {
      biosCall(m, 0x10, { eax: 0x0200, edx: r << 8 });
      biosCall(m, 0x10, { eax: 0x0930 + r, ebx: 0x0007, ecx: 5 });
    }
    biosCall(m, 0x10, { eax: 0x0601, ebx: 0x1700, ecx: 0x0001, edx: 0x0303 });
    expect(m.vga.lines().slice(0, 4)).toEqual(['01110', '12221', '23332', '3   3']);
    expect(cell(3, 1)).toBe(0x1720);
    biosCall(m, 0x10, { eax: 0x0702, ebx: 0x0700, ecx: 0x0000, edx: 0x0304 });
    expect(m.vga.lines().slice(0, 4)).toEqual(['', '', '01110', '12221']);
    biosCall(m, 0x10, { eax: 0x0600, ebx: 0x0700, ecx: 0x0000, edx: 0x184f });
    expect(m.vga.lines().every((l) => l === '')).toBe(true);
  });

  it('AH=05h selects the displayed page (CRTC start address) and AH=0Fh reports mode, columns, page', () => {
    biosCall(m, 0x10, { eax: 0x0200, ebx: 0x0200, edx: 0x0000 });
    biosCall(m, 0x10, { eax: 0x0950, ebx: 0x0207, ecx: 1 });
    biosCall(m, 0x10, { eax: 0x0502 });
    expect(m.vga.startOffset()).toBe(0x1000);
    expect(m.vga.lines()[0]).toBe('P');
    expect(biosCall(m, 0x10, { eax: 0x0f00 })).toMatchObject({ al: 3, ah: 80, bx: 0x0200 });
  });

  it('AH=13h writes a string with or without attributes and moves the cursor only when asked', () => {
    m.memory.write(0x2000, Uint8Array.from(text('OK!')));
    biosCall(m, 0x10, { eax: 0x1300, ebx: 0x004f, ecx: 3, edx: 0x0501, es: 0x0200, ebp: 0 });
    expect(m.vga.lines()[5]).toBe(' OK!');
    expect(cell(5, 1)).toBe(0x4f4f);
    expect(biosCall(m, 0x10, { eax: 0x0300 }).dx).toBe(0);
    m.memory.write(0x2010, Uint8Array.of(0x58, 0x1a, 0x59, 0x2b));
    biosCall(m, 0x10, { eax: 0x1303, ecx: 2, edx: 0x0600, es: 0x0201, ebp: 0 });
    expect([cell(6, 0), cell(6, 1)]).toEqual([0x1a58, 0x2b59]);
    expect(biosCall(m, 0x10, { eax: 0x0300 }).dx).toBe(0x0602);
  });

  it('AH=1Ah reports a VGA colour display, AH=12h BL=10h the EGA information, AX=1130h the font height', () => {
    expect(biosCall(m, 0x10, { eax: 0x1a00 })).toMatchObject({ al: 0x1a, bx: 0x0008 });
    expect(biosCall(m, 0x10, { eax: 0x1200, ebx: 0x0010 })).toMatchObject({ bx: 0x0003, cx: 0x0009 });
    expect(biosCall(m, 0x10, { eax: 0x1130, ebx: 0x0600 })).toMatchObject({ cx: 16, dx: 24 });
  });
});

describe('INT 10h VBE', () => {
  it('4F00h fills a VBE 1.x block, or a 512-byte VBE 2 block when asked with "VBE2"', () => {
    m.memory.fill(0x3000, 512, 0xcc);
    const r = biosCall(m, 0x10, { eax: 0x4f00, es: 0x0300, edi: 0 });
    expect(r.ax).toBe(0x004f);
    const b = m.memory.read(0x3000, 512);
    expect(String.fromCharCode(...b.subarray(0, 4))).toBe('VESA');
    expect(b[4] | (b[5] << 8)).toBe(0x0300);
    expect(b[256]).toBe(0xcc); // VBE 1.x: only 256 bytes written
    const modes = (b[14] | (b[15] << 8)) + ((b[16] | (b[17] << 8)) << 4);
    expect(m.memory.readU16(modes)).toBe(0xffff);
    const oem = (b[6] | (b[7] << 8)) + ((b[8] | (b[9] << 8)) << 4);
    expect(String.fromCharCode(...m.memory.read(oem, 5))).toBe('Domus');
    m.memory.write(0x3000, Uint8Array.from(text('VBE2')));
    biosCall(m, 0x10, { eax: 0x4f00, es: 0x0300, edi: 0 });
    const b2 = m.memory.read(0x3000, 512);
    expect(b2[256]).toBe(0);
    const vendor = (b2[22] | (b2[23] << 8)) + ((b2[24] | (b2[25] << 8)) << 4);
    expect(String.fromCharCode(...m.memory.read(vendor, 5))).toBe('Domus');
  });

  it('4F03h reports mode 3; 4F02h sets mode 3 but refuses graphics modes; 4F01h and 4F0Ah fail', () => {
    expect(biosCall(m, 0x10, { eax: 0x4f03 })).toMatchObject({ ax: 0x004f, bx: 3 });
    expect(biosCall(m, 0x10, { eax: 0x4f02, ebx: 0x0003 }).ax).toBe(0x004f);
    expect(biosCall(m, 0x10, { eax: 0x4f02, ebx: 0x4118 }).ax).toBe(0x014f);
    expect(biosCall(m, 0x10, { eax: 0x4f01, ecx: 0x0118 }).ax).toBe(0x014f);
    expect(biosCall(m, 0x10, { eax: 0x4f0a }).ax).toBe(0x0100);
    expect(biosCall(m, 0x10, { eax: 0x4f15 }).ax).toBe(0x0100);
  });

  it('an unknown INT 10h function changes nothing', () => {
    const r = biosCall(m, 0x10, { eax: 0x7712, ebx: 0x1234, ecx: 0x5678, edx: 0x9abc });
    expect(r).toMatchObject({ ax: 0x7712, bx: 0x1234, cx: 0x5678, dx: 0x9abc });
  });
});

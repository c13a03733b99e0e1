import { describe, expect, it } from 'vitest';
import { FlatGuestMemory } from '../../support/flat-guest-memory';
import { CP437, VGA_TEXT_BASE, VgaText, registerVgaText } from '../../../src-engine/machine/vga-text';
import { IoBus } from '../../../src-engine/machine/io-bus';

function setup() {
  const mem = new FlatGuestMemory(1 << 20);
  const vga = new VgaText({ memory: mem });
  const bus = new IoBus();
  registerVgaText(bus, vga);
  const crtc = (index: number, value: number) => {
    bus.write(0x3d4, 1, index);
    bus.write(0x3d5, 1, value);
  };
  const put = (row: number, col: number, text: string, attr = 0x07) => {
    for (let i = 0; i < text.length; i++) mem.writeU16(VGA_TEXT_BASE + (row * 80 + col + i) * 2, (attr << 8) | text.charCodeAt(i));
  };
  return { mem, vga, bus, crtc, put };
}

describe('VGA text screen', () => {
  it('shows the cells at 0xB8000 as 80x25 lines, decoding code page 437', () => {
    const { vga, put, mem } = setup();
    put(0, 0, 'Hello');
    put(24, 75, 'end');
    mem.writeU16(VGA_TEXT_BASE + 2 * 80, 0x07c9); // ╔
    mem.writeU16(VGA_TEXT_BASE + 2 * 81, 0x07cd); // ═
    const lines = vga.lines();
    expect(lines).toHaveLength(25);
    expect(lines[0]).toBe('Hello');
    expect(lines[1]).toBe('╔═');
    expect(lines[24]).toBe(`${' '.repeat(75)}end`);
    expect(vga.snapshot().cells[0]).toBe(0x0748);
    expect(CP437).toHaveLength(256);
    expect([CP437[0x41], CP437[0xb3], CP437[0xdb], CP437[0x01]]).toEqual(['A', '│', '█', '☺']);
  });

  it('takes the cursor from CRTC registers 0Eh/0Fh and its visibility and shape from 0Ah/0Bh', () => {
    const { vga, crtc, bus } = setup();
    expect(vga.cursor()).toEqual({ row: 0, col: 0, visible: true, startLine: 14, endLine: 15 });
    crtc(0x0e, (2 * 80 + 7) >> 8);
    crtc(0x0f, (2 * 80 + 7) & 0xff);
    expect(vga.cursor()).toMatchObject({ row: 2, col: 7, visible: true });
    crtc(0x0a, 0x20 | 6);
    expect(vga.cursor()).toMatchObject({ visible: false, startLine: 6 });
    crtc(0x0a, 13);
    crtc(0x0b, 12);
    expect(vga.cursor().visible).toBe(false); // start below end: no cursor
    bus.write(0x3d4, 1, 0x0f);
    expect(bus.read(0x3d5, 1)).toBe((2 * 80 + 7) & 0xff);
    expect(bus.read(0x3d4, 1)).toBe(0x0f);
  });

  it('shows the page the start address (0Ch/0Dh) selects; the cursor is relative to it', () => {
    const { vga, crtc, mem } = setup();
    mem.writeU16(VGA_TEXT_BASE + 0x1000, 0x0750);
    crtc(0x0c, 0x08);
    crtc(0x0d, 0x00);
    crtc(0x0e, 0x08);
    crtc(0x0f, 81);
    expect(vga.startOffset()).toBe(0x800);
    expect(vga.lines()[0]).toBe('P');
    expect(vga.cursor()).toMatchObject({ row: 1, col: 1 });
  });

  it('snapshotIfChanged reports only changes of cells or cursor', () => {
    const { vga, put, crtc } = setup();
    expect(vga.snapshotIfChanged()).toBeDefined();
    expect(vga.snapshotIfChanged()).toBeUndefined();
    put(3, 3, 'x');
    expect(vga.snapshotIfChanged()?.cells[3 * 80 + 3]).toBe(0x0778);
    expect(vga.snapshotIfChanged()).toBeUndefined();
    crtc(0x0f, 5);
    expect(vga.snapshotIfChanged()?.cursor.col).toBe(5);
  });

  it('keeps the VGA register file: attribute flip-flop reset by 3DAh, DAC triplets, misc output; state round-trips', () => {
    const { vga, bus, mem } = setup();
    bus.read(0x3da, 1);
    bus.write(0x3c0, 1, 0x10);
    bus.write(0x3c0, 1, 0x0c);
    expect(bus.read(0x3c1, 1)).toBe(0x0c);
    const status = [bus.read(0x3da, 1), bus.read(0x3da, 1)];
    expect(status.some((v) => (v & 0x08) !== 0)).toBe(true);
    bus.write(0x3c8, 1, 5);
    for (const v of [10, 20, 30]) bus.write(0x3c9, 1, v);
    bus.write(0x3c7, 1, 5);
    expect([bus.read(0x3c9, 1), bus.read(0x3c9, 1), bus.read(0x3c9, 1)]).toEqual([10, 20, 30]);
    expect(bus.read(0x3cc, 1)).toBe(0x67);
    bus.write(0x3d4, 1, 0x0f);
    bus.write(0x3d5, 1, 42);
    const saved = vga.saveState();
    const other = new VgaText({ memory: mem });
    other.loadState(JSON.parse(JSON.stringify(saved)));
    expect(other.cursor().col).toBe(42);
    expect(() => other.loadState({ ...saved, version: 2 as 1 })).toThrow(/version 2/);
  });
});

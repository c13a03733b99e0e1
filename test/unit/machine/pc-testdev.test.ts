import { describe, expect, it } from 'vitest';
import { PcTestdev } from '../../../src-engine/machine/pc-testdev';
import { IoBus } from '../../../src-engine/machine/io-bus';
import { MmioBus } from '../../../src-engine/machine/mmio-bus';
import { RecordingIrq } from './fake-clock';

function setup() {
  const lines = Array.from({ length: 24 }, () => new RecordingIrq());
  const flushed: number[] = [];
  const dev = new PcTestdev({ irqLine: (n) => lines[n], onFlushPage: (a) => flushed.push(a) });
  const bus = new IoBus();
  bus.register(0xe0, 12, dev, { width: 'any' });
  bus.register(0x2000, 24, dev, { width: 'any' });
  const mmio = new MmioBus();
  mmio.register(0xff000000, 0x10000, dev.iomem);
  return { dev, bus, mmio, lines, flushed };
}

describe('pc-testdev (QEMU hw/misc/pc-testdev.c)', () => {
  it('keeps a 32-bit scratch register at 0xE0 with byte lanes for narrow accesses', () => {
    const { bus } = setup();
    bus.write(0xe0, 4, 0x11223344);
    expect(bus.read(0xe0, 4) >>> 0).toBe(0x11223344);
    expect(bus.read(0xe1, 1)).toBe(0x33);
    expect(bus.read(0xe2, 2)).toBe(0x1122);
    bus.write(0xe3, 1, 0xaa);
    expect(bus.read(0xe0, 4) >>> 0).toBe(0xaa223344);
  });

  it('shows the same register byte by byte at 0xE8', () => {
    const { bus } = setup();
    bus.write(0xe8, 4, 0xdeadbeef);
    expect(bus.read(0xe0, 4) >>> 0).toBe(0xdeadbeef);
    expect(bus.read(0xea, 2)).toBe(0xdead);
  });

  it('reports 32-bit writes to the flush port', () => {
    const { bus, flushed } = setup();
    bus.write(0xe4, 4, 0x00123000);
    bus.write(0xe4, 1, 0x55);
    expect(flushed).toEqual([0x00123000]);
  });

  it('raises and lowers IRQ n with a byte write of nonzero / zero to 0x2000 + n', () => {
    const { bus, lines } = setup();
    bus.write(0x2004, 1, 1);
    expect(lines[4].level).toBe(true);
    bus.write(0x2004, 1, 0);
    expect(lines[4].level).toBe(false);
    bus.write(0x2017, 1, 0x80);
    expect(lines[23].level).toBe(true);
    expect(lines[4].rises).toBe(1);
  });

  it('provides 64 KiB of MMIO scratch memory at 0xFF000000', () => {
    const { mmio } = setup();
    mmio.write(0xff000010, 4, 0xcafef00d);
    expect(mmio.read(0xff000012, 2)).toBe(0xcafe);
    mmio.write(0xff00fffe, 2, 0x1234);
    expect(mmio.read(0xff00ffff, 1)).toBe(0x12);
  });

  it('restores the register, the memory and the line levels', () => {
    const a = setup();
    a.bus.write(0xe0, 4, 7);
    a.bus.write(0x2003, 1, 1);
    a.mmio.write(0xff000000, 1, 9);
    const b = setup();
    b.dev.loadState(a.dev.saveState());
    expect(b.bus.read(0xe0, 4) >>> 0).toBe(7);
    expect(b.mmio.read(0xff000000, 1)).toBe(9);
    expect(b.lines[3].level).toBe(true);
  });
});

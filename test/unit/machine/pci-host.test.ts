import { describe, expect, it } from 'vitest';
import { PciHost } from '../../../src-engine/machine/pci-host';
import { IoBus } from '../../../src-engine/machine/io-bus';

function setup() {
  let resets = 0;
  const host = new PciHost({ onReset: () => resets++ });
  const bus = new IoBus();
  bus.register(0xcf8, 8, host, { width: 'any' });
  return { host, bus, resets: () => resets };
}

describe('PCI configuration mechanism #1 with no devices', () => {
  it('reads back CONFIG_ADDRESS with the reserved bits clear (the probe Linux does)', () => {
    const { bus } = setup();
    bus.write(0xcf8, 4, 0x80000000);
    expect(bus.read(0xcf8, 4) >>> 0).toBe(0x80000000);
    bus.write(0xcf8, 4, 0xffffffff);
    expect(bus.read(0xcf8, 4) >>> 0).toBe(0x80fffffc);
  });

  it('answers every configuration read with all ones: vendor 0xFFFF, no device', () => {
    const { bus } = setup();
    for (const dev of [0, 1, 31]) {
      bus.write(0xcf8, 4, 0x80000000 | (dev << 11));
      expect(bus.read(0xcfc, 4) >>> 0).toBe(0xffffffff);
      expect(bus.read(0xcfc, 2)).toBe(0xffff);
      expect(bus.read(0xcfe, 1)).toBe(0xff);
    }
    bus.write(0xcfc, 4, 0x12345678);
    expect(bus.read(0xcfc, 4) >>> 0).toBe(0xffffffff);
  });

  it('leaves byte accesses at 0xCF8 unclaimed but resets the system through 0xCF9 bit 2', () => {
    const { bus, resets } = setup();
    bus.write(0xcf8, 4, 0x80000000);
    bus.write(0xcfb, 1, 0x01);
    expect(bus.read(0xcf8, 4) >>> 0).toBe(0x80000000);
    expect(bus.read(0xcf8, 1)).toBe(0xff);
    bus.write(0xcf9, 1, 0x02);
    expect(bus.read(0xcf9, 1)).toBe(0x02);
    expect(resets()).toBe(0);
    bus.write(0xcf9, 1, 0x06);
    expect(resets()).toBe(1);
  });
});

describe('PCI host save state', () => {
  it('restores CONFIG_ADDRESS and the reset control register', () => {
    const a = setup();
    a.bus.write(0xcf8, 4, 0x80001234);
    a.bus.write(0xcf9, 1, 0x02);
    const b = setup();
    b.host.loadState(structuredClone(a.host.saveState()));
    expect(b.bus.read(0xcf8, 4) >>> 0).toBe(0x80001234);
    expect(b.bus.read(0xcf9, 1)).toBe(0x02);
  });
});

import { describe, expect, it } from 'vitest';
import type { IoSize, MmioDevice } from '../../../src-engine/machine/device';
import { MmioBus, MmioConflictError } from '../../../src-engine/machine/mmio-bus';

function recorder(name: string) {
  const log: string[] = [];
  const dev: MmioDevice = {
    name,
    mmioRead: (offset: number, size: IoSize) => {
      log.push(`r${size}@${offset.toString(16)}`);
      return 0x12345678;
    },
    mmioWrite: (offset: number, size: IoSize, value: number) => {
      log.push(`w${size}@${offset.toString(16)}=${value.toString(16)}`);
    },
  };
  return { dev, log };
}

describe('MMIO bus', () => {
  it('passes the offset inside the range to the device, masked to the access size', () => {
    const bus = new MmioBus();
    const a = recorder('ioapic');
    bus.register(0xfec00000, 0x1000, a.dev);
    expect(bus.read(0xfec00010, 4)).toBe(0x12345678);
    expect(bus.read(0xfec00010, 2)).toBe(0x5678);
    bus.write(0xfec00000, 1, 0x1ff);
    expect(a.log).toEqual(['r4@10', 'r2@10', 'w1@0=ff']);
  });

  it('reads all ones and drops writes where no device sits, and counts them', () => {
    const bus = new MmioBus();
    expect(bus.read(0xfed00000, 4)).toBe(0xffffffff);
    expect(bus.read(0xfed00000, 1)).toBe(0xff);
    bus.write(0xfed00000, 4, 1);
    expect(bus.unclaimed()).toEqual({ reads: 2, writes: 1 });
  });

  it('refuses overlapping ranges with both device names in the message', () => {
    const bus = new MmioBus();
    bus.register(0xfed00000, 0x400, recorder('hpet').dev);
    expect(() => bus.register(0xfed003ff, 0x10, recorder('other').dev)).toThrow(MmioConflictError);
    expect(() => bus.register(0xfed003ff, 0x10, recorder('other').dev)).toThrow(/"other".*"hpet"/);
    bus.register(0xfed00400, 0x10, recorder('neighbour').dev);
    expect(bus.ranges().map((r) => r.device)).toEqual(['hpet', 'neighbour']);
  });

  it('refuses ranges beyond 4 GiB or empty ones', () => {
    const bus = new MmioBus();
    expect(() => bus.register(0xfffff000, 0x2000, recorder('x').dev)).toThrow(MmioConflictError);
    expect(() => bus.register(0x1000, 0, recorder('x').dev)).toThrow(MmioConflictError);
  });

  it('finds the right device among several, in any registration order', () => {
    const bus = new MmioBus();
    const devs = ['c', 'a', 'b'].map((n) => recorder(n));
    bus.register(0x3000, 0x1000, devs[0].dev);
    bus.register(0x1000, 0x1000, devs[1].dev);
    bus.register(0x2000, 0x1000, devs[2].dev);
    bus.read(0x2fff, 1);
    bus.read(0x1000, 1);
    bus.read(0x3800, 1);
    expect(devs.map((d) => d.log.length)).toEqual([1, 1, 1]);
    expect(bus.claims(0x4000)).toBe(false);
    expect(bus.describe().split('\n')[0]).toBe('0x00001000-0x00001fff  a');
  });
});

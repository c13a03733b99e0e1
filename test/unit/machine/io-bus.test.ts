import { describe, expect, it } from 'vitest';
import type { IoSize, PortDevice } from '../../../src-engine/machine/device';
import { IoBus, PortConflictError } from '../../../src-engine/machine/io-bus';

/** A device with 8-bit registers that remembers writes and answers reads with port-derived bytes. */
function byteDevice(name: string) {
  const writes: [number, number, number][] = [];
  const device: PortDevice & { writes: typeof writes } = {
    name,
    writes,
    ioRead: (port: number, size: IoSize) => {
      expect(size).toBe(1);
      return 0x100 | (port & 0xff); // bit 8 set on purpose: the bus must mask to the access size
    },
    ioWrite: (port: number, size: IoSize, value: number) => {
      writes.push([port, size, value]);
    },
  };
  return device;
}

describe('port bus', () => {
  it('dispatches each port to the device that claims it', () => {
    const bus = new IoBus();
    const a = byteDevice('a');
    const b = byteDevice('b');
    bus.register(0x3f8, 8, a);
    bus.register(0x2f8, 8, b);
    expect(bus.read(0x3fa, 1)).toBe(0xfa);
    bus.write(0x2f9, 1, 0x1234);
    expect(b.writes).toEqual([[0x2f9, 1, 0x34]]);
    expect(a.writes).toEqual([]);
    expect(bus.deviceAt(0x3ff)).toBe('a');
    expect(bus.deviceAt(0x400)).toBeUndefined();
  });

  it('refuses an overlapping range, naming both devices and the shared ports', () => {
    const bus = new IoBus();
    bus.register(0x3f8, 8, byteDevice('uart-com1'));
    let error: unknown;
    try {
      bus.register(0x3fc, 8, byteDevice('debugcon'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PortConflictError);
    const err = error as PortConflictError;
    expect(err.code).toBe('machine.port-overlap');
    expect(err.message).toContain('"debugcon"');
    expect(err.message).toContain('"uart-com1"');
    expect(err.message).toContain('0x03fc-0x03ff');
    // The refused device got no ports.
    expect(bus.deviceAt(0x400)).toBeUndefined();
  });

  it('refuses ranges outside the 64 KiB I/O space', () => {
    const bus = new IoBus();
    expect(() => bus.register(0xfffe, 4, byteDevice('x'))).toThrow(PortConflictError);
    expect(() => bus.register(0x10, 0, byteDevice('x'))).toThrow(/at least one port/);
  });

  it('reads unclaimed ports as all ones of the access size, drops writes and counts both', () => {
    const bus = new IoBus();
    expect(bus.read(0x1234, 1)).toBe(0xff);
    expect(bus.read(0x1234, 2)).toBe(0xffff);
    expect(bus.read(0x1234, 4)).toBe(0xffffffff);
    bus.write(0x2000, 4, 0xdeadbeef);
    const stats = bus.unclaimed();
    expect(stats.reads).toBe(3);
    expect(stats.writes).toBe(1);
    expect(stats.byPort).toEqual([
      [0x1234, 3],
      [0x2000, 1],
    ]);
  });

  it('splits wide accesses to byte-wide devices into consecutive byte accesses', () => {
    const bus = new IoBus();
    const dev = byteDevice('uart');
    bus.register(0x3f8, 8, dev);
    expect(bus.read(0x3f8, 2)).toBe(0xf9f8);
    expect(bus.read(0x3f8, 4)).toBe(0xfbfaf9f8);
    bus.write(0x3fa, 2, 0xc7c3);
    expect(dev.writes).toEqual([
      [0x3fa, 1, 0xc3],
      [0x3fb, 1, 0xc7],
    ]);
    // A 16-bit read of the last port takes its high byte from the (unclaimed) next port.
    expect(bus.read(0x3ff, 2)).toBe(0xffff);
    expect(bus.read(0x3f7, 2)).toBe(0xf8ff);
  });

  it('hands wide accesses whole to devices registered with width "any"', () => {
    const bus = new IoBus();
    const seen: [number, number, number][] = [];
    bus.register(0xf4, 4, { name: 'exit', ioRead: (_p, size) => (size === 4 ? 0x12345678 : 0), ioWrite: (p, s, v) => seen.push([p, s, v]) }, { width: 'any' });
    bus.write(0xf4, 4, 0x80000001);
    expect(seen).toEqual([[0xf4, 4, 0x80000001]]);
    expect(bus.read(0xf4, 4)).toBe(0x12345678);
  });

  it('lists its ranges with access counts, in port order', () => {
    const bus = new IoBus();
    bus.register(0x70, 2, byteDevice('cmos-rtc'));
    bus.register(0x20, 2, byteDevice('pic-master'));
    bus.read(0x71, 1);
    bus.write(0x70, 1, 0x0a);
    bus.write(0x71, 1, 0x26);
    expect(bus.ranges()).toEqual([
      { first: 0x20, last: 0x21, device: 'pic-master', width: 'byte', reads: 0, writes: 0 },
      { first: 0x70, last: 0x71, device: 'cmos-rtc', width: 'byte', reads: 1, writes: 2 },
    ]);
    expect(bus.describe()).toBe('0x0020-0x0021  pic-master\n0x0070-0x0071  cmos-rtc');
  });
});

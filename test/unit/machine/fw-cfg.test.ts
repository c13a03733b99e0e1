import { describe, expect, it } from 'vitest';
import { FwCfg } from '../../../src-engine/machine/fw-cfg';
import { IoBus } from '../../../src-engine/machine/io-bus';

function setup() {
  const fw = new FwCfg({ ramSize: 256 * 2 ** 20, cpus: 3, maxCpus: 4 });
  const bus = new IoBus();
  bus.register(0x510, 2, fw, { width: 'any' });
  const select = (key: number) => bus.write(0x510, 2, key);
  const bytes = (n: number) => Array.from({ length: n }, () => bus.read(0x511, 1));
  /** Reads an n-byte little-endian integer the way kvm-unit-tests' fwcfg_get_u64 does. */
  const le = (key: number, n: number) => {
    select(key);
    return bytes(n).reduce((acc, b, i) => acc + b * 2 ** (8 * i), 0);
  };
  return { fw, bus, select, bytes, le };
}

describe('fw_cfg traditional interface (QEMU docs/specs/fw_cfg.rst)', () => {
  it('answers the signature "QEMU" and an ID without DMA', () => {
    const { select, bytes, le } = setup();
    select(0x0000);
    expect(String.fromCharCode(...bytes(4))).toBe('QEMU');
    expect(le(0x0001, 4)).toBe(1);
  });

  it('reports the RAM size as u64 and the CPU counts as u16, little-endian', () => {
    const { le } = setup();
    expect(le(0x0003, 8)).toBe(256 * 2 ** 20);
    expect(le(0x0005, 2)).toBe(3);
    expect(le(0x000f, 2)).toBe(4);
    expect(le(0x8002, 4)).toBe(1); // IRQ0 override
  });

  it('reads 0 past the end of an item and from keys that do not exist, and restarts at each select', () => {
    const { select, bytes } = setup();
    select(0x0005);
    expect(bytes(4)).toEqual([3, 0, 0, 0]);
    select(0x0123);
    expect(bytes(2)).toEqual([0, 0]);
    select(0x0005);
    expect(bytes(1)).toEqual([3]);
  });

  it('treats a byte write as nothing (write support was removed) and reads data at the selector port too', () => {
    const { bus, select } = setup();
    select(0x0000);
    bus.write(0x511, 1, 0x55);
    bus.write(0x510, 1, 0x05);
    expect(bus.read(0x510, 1)).toBe(0x51); // 'Q'
    expect(bus.read(0x511, 1)).toBe(0x45); // 'E'
  });

  it('lists files in a big-endian directory sorted by name, from key 0x20', () => {
    const { fw, select, bytes } = setup();
    fw.addFile('etc/zeta', new Uint8Array([9, 9]));
    fw.addFile('etc/alpha', new Uint8Array([1, 2, 3]));
    select(0x0019);
    const dir = bytes(4 + 64 * 2);
    const view = new DataView(Uint8Array.from(dir).buffer);
    expect(view.getUint32(0, false)).toBe(2);
    expect(view.getUint32(4, false)).toBe(3);
    expect(view.getUint16(8, false)).toBe(0x20);
    expect(String.fromCharCode(...dir.slice(12, 21))).toBe('etc/alpha');
    expect(dir[21]).toBe(0);
    expect(view.getUint16(4 + 64 + 4, false)).toBe(0x21);
    select(0x0020);
    expect(bytes(3)).toEqual([1, 2, 3]);
  });

  it('restores the selected item and the read position', () => {
    const a = setup();
    a.select(0x0000);
    a.bytes(2);
    const b = setup();
    b.fw.loadState(a.fw.saveState());
    expect(b.bytes(2)).toEqual([0x4d, 0x55]); // 'M' 'U'
  });
});

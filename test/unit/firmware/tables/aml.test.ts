import { describe, expect, it } from 'vitest';
import { device, integer, name, nameString, packageOf, pkg, scope, string } from '../../../../src-engine/firmware/tables/aml';

describe('AML encoding (ACPI 6.5 ch. 20)', () => {
  it('encodes PkgLength in one byte below 64 and in 2-4 bytes above, counting its own bytes', () => {
    expect(pkg([1, 2, 3])).toEqual([4, 1, 2, 3]);
    const body62 = new Array<number>(62).fill(0);
    expect(pkg(body62)[0]).toBe(63);
    const body63 = new Array<number>(63).fill(0);
    // 63 + 2 = 65 = 0x041: lead byte 0b01 << 6 | low nibble 1, next byte 0x04
    expect(pkg(body63).slice(0, 2)).toEqual([0x41, 0x04]);
    const big = new Array<number>(5000).fill(0);
    const enc = pkg(big);
    const total = 5000 + 3;
    expect(enc.slice(0, 3)).toEqual([0x80 | (total & 0xf), (total >> 4) & 0xff, (total >> 12) & 0xff]);
  });

  it('uses the shortest integer form', () => {
    expect(integer(0)).toEqual([0x00]);
    expect(integer(1)).toEqual([0x01]);
    expect(integer(0x12)).toEqual([0x0a, 0x12]);
    expect(integer(0x1234)).toEqual([0x0b, 0x34, 0x12]);
    expect(integer(0x12345678)).toEqual([0x0c, 0x78, 0x56, 0x34, 0x12]);
    expect(integer(0x100000000)).toEqual([0x0e, 0, 0, 0, 0, 1, 0, 0, 0]);
  });

  it('encodes name paths with the root prefix, dual-name prefix and padding', () => {
    expect(nameString('\\_S5')).toEqual([0x5c, 0x5f, 0x53, 0x35, 0x5f]);
    expect(nameString('\\_SB.C0')).toEqual([0x5c, 0x2e, ...'_SB_C0__'.split('').map((c) => c.charCodeAt(0))]);
    expect(() => nameString('1ABC')).toThrow(RangeError);
  });

  it('builds Name, Package, String, Scope and Device terms', () => {
    expect(name('_S5', packageOf([integer(0), integer(5)]))).toEqual([0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x05, 0x02, 0x00, 0x0a, 0x05]);
    expect(string('AB')).toEqual([0x0d, 0x41, 0x42, 0x00]);
    expect(scope('\\_SB', [])).toEqual([0x10, 0x06, 0x5c, 0x5f, 0x53, 0x42, 0x5f]);
    expect(device('C000', [])).toEqual([0x5b, 0x82, 0x05, 0x43, 0x30, 0x30, 0x30]);
  });
});

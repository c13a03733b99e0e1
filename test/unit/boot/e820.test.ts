import { describe, expect, it } from 'vitest';
import { BootError } from '../../../src-engine/base/errors';
import { E820_ACPI, E820_RAM, E820_RESERVED, buildE820Map, lowerMemoryKiB, upperMemoryKiB } from '../../../src-engine/boot/e820';

const MiB = 1024 * 1024;

describe('direct-boot E820 map', () => {
  it('has the four standard entries for a plain PC', () => {
    expect(buildE820Map({ ramSize: 128 * MiB })).toEqual([
      { base: 0, length: 0x9fc00, type: E820_RAM },
      { base: 0x9fc00, length: 0x400, type: E820_RESERVED },
      { base: 0xf0000, length: 0x10000, type: E820_RESERVED },
      { base: 0x100000, length: 127 * MiB, type: E820_RAM },
    ]);
  });

  it('reproduces SeaBIOS\'s 128 MiB map when given its two extra ranges (spec section 4.4)', () => {
    const map = buildE820Map({ ramSize: 128 * MiB, extraReserved: [{ base: 128 * MiB - 0x20000, length: 0x20000 }, { base: 0xfffc0000, length: 0x40000 }] });
    expect(map.map((e) => [e.base, e.length, e.type])).toEqual([
      [0, 0x9fc00, 1], [0x9fc00, 0x400, 2], [0xf0000, 0x10000, 2], [0x100000, 0x7ee0000, 1], [0x7fe0000, 0x20000, 2], [0xfffc0000, 0x40000, 2],
    ]);
    expect(lowerMemoryKiB(map)).toBe(639);
    expect(upperMemoryKiB(map)).toBe(0x1fb80);
  });

  it('splits RAM around a reserved range in the middle and keeps its type', () => {
    const map = buildE820Map({ ramSize: 64 * MiB, extraReserved: [{ base: 16 * MiB, length: MiB, type: E820_ACPI }] });
    expect(map.slice(3).map((e) => [e.base, e.length, e.type])).toEqual([[MiB, 15 * MiB, 1], [16 * MiB, MiB, 3], [17 * MiB, 47 * MiB, 1]]);
    // mem_upper stops at the first hole above 1 MiB, as GRUB computes it.
    expect(upperMemoryKiB(map)).toBe(15 * 1024);
  });

  it('computes mem_lower/mem_upper like GRUB', () => {
    expect(lowerMemoryKiB([{ base: 0, length: 0x200000, type: 1 }])).toBe(1024); // capped at 1 MiB
    expect(lowerMemoryKiB([{ base: 0x1000, length: 0x9f000, type: 1 }])).toBe(0); // must start at 0
    expect(upperMemoryKiB([{ base: 0, length: 0x9fc00, type: 1 }])).toBe(0);
    expect(upperMemoryKiB([{ base: 0, length: 0x800000, type: 1 }])).toBe(7 * 1024);
  });

  it('refuses unusable inputs', () => {
    expect(() => buildE820Map({ ramSize: 512 * 1024 })).toThrow(/needs at least 1 MiB of RAM/);
    expect(() => buildE820Map({ ramSize: 64 * MiB, extraReserved: [{ base: 0x9f000, length: 0x2000 }] })).toThrow(/reserved memory ranges at 0x9f000 and 0x9fc00 overlap/);
    expect(() => buildE820Map({ ramSize: 64 * MiB, extraReserved: [{ base: 32 * MiB, length: 0 }] })).toThrow(BootError);
    expect(() => buildE820Map({ ramSize: 64 * MiB, extraReserved: [{ base: 32 * MiB, length: 4096, type: E820_RAM }] })).toThrow(/cannot have type 1/);
  });
});

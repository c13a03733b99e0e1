/**
 * hv-rom.ts: where a raw system ROM goes in a domain's memory, and the sizes it refuses.
 */
import { describe, expect, it } from 'vitest';
import { MachineMemory } from '../../../src-engine/hv/memory/machine-memory';
import { DomainMemory } from '../../../src-engine/hv/memory/domain-memory';
import { checkRomImage, mapRom, romPlacement } from '../../../src-engine/runtime/hv-rom';
import { BootError } from '../../../src-engine/base/errors';

function domain() {
  return new DomainMemory(new MachineMemory(16 * 2 ** 20), 'rom-test', { ramBytes: 4 * 2 ** 20 });
}

function pattern(size: number): Uint8Array {
  const rom = new Uint8Array(size);
  for (let i = 0; i < size; i++) rom[i] = (i * 7 + (i >>> 8)) & 0xff;
  return rom;
}

describe('mapRom', () => {
  for (const [size, low, high] of [[0x10000, 0xf0000, 0xffff0000], [0x20000, 0xe0000, 0xfffe0000]] as const) {
    it(`shows a ${size / 1024} KiB ROM at 0x${low.toString(16)} and 0x${high.toString(16)}, the same frames, not counted twice`, () => {
      const mem = domain();
      const pages = mem.currentPages;
      const rom = pattern(size);
      expect(mapRom(mem, { data: rom, path: 'x.rom' })).toEqual({ lowBase: low, highBase: high, size });
      expect(mem.read(low, size)).toEqual(rom);
      expect(mem.read(high, size)).toEqual(rom);
      expect(mem.readU8(0xfffffff0)).toBe(rom[size - 16]);
      // One set of frames behind both windows: a write through one shows in the other.
      mem.writeU8(high + 5, 0x5a);
      expect(mem.readU8(low + 5)).toBe(0x5a);
      expect(mem.currentPages).toBe(pages);
      expect(mem.isAlias(high >>> 12)).toBe(true);
      expect(mem.isRam(high - 4096, 4096)).toBe(false);
      mem.release();
    });
  }

  it('refuses other sizes with the file name and the sizes allowed', () => {
    for (const size of [0, 0x8000, 0x10001, 0x40000]) {
      expect(() => checkRomImage({ data: new Uint8Array(size), path: 'odd.rom' })).toThrow(BootError);
      expect(() => mapRom(domain(), { data: new Uint8Array(size), path: 'odd.rom' })).toThrow(`odd.rom is ${size} bytes`);
    }
    expect(romPlacement(0x20000).lowBase).toBe(0xe0000);
  });
});

import { describe, expect, it } from 'vitest';
import { buildBiosRom, TRAP_POST } from '../../../src-engine/firmware/bios/rom';
import { BIOS_TRAP_PORT, ROM } from '../../../src-engine/firmware/bios/layout';

const rom = buildBiosRom();
const at = (off: number, n: number) => [...rom.image.subarray(off, off + n)];
/** Target of a short jump (EB/72/75 rel8) at `off`. */
const shortTarget = (off: number) => off + 2 + ((rom.image[off + 1] << 24) >> 24);
/** Target of a near jump (E9 rel16) at `off`. */
const nearTarget = (off: number) => (off + 3 + (rom.image[off + 1] | (rom.image[off + 2] << 8))) & 0xffff;

describe('BIOS ROM image', () => {
  it('is 64 KiB, deterministic, with the reset vector JMP F000:E05B, date and model byte', () => {
    expect(rom.image.length).toBe(0x10000);
    expect(buildBiosRom().image).toEqual(rom.image);
    expect(at(ROM.reset, 5)).toEqual([0xea, 0x5b, 0xe0, 0x00, 0xf0]);
    expect(String.fromCharCode(...at(ROM.date, 8))).toMatch(/^\d\d\/\d\d\/\d\d$/);
    expect(rom.image[ROM.model]).toBe(0xfc);
  });

  it('every trap site is an OUT 0xE0, AL; retrying stubs loop as documented (jc again / jnz spin / sti hlt / pause / jmp entry)', () => {
    expect(rom.trapSites.size).toBeGreaterThanOrEqual(14);
    for (const [off, site] of rom.trapSites) {
      expect(at(off, 2), `site ${off.toString(16)}`).toEqual([0xe6, BIOS_TRAP_PORT]);
      if (!site.retry) continue;
      expect(rom.image[off + 2]).toBe(0x72);
      const again = shortTarget(off + 2);
      expect(rom.image[off + 4]).toBe(0xcf);
      expect(rom.image[again]).toBe(0x75);
      const spin = shortTarget(again);
      expect(at(again + 2, 2)).toEqual([0xfb, 0xf4]);
      expect(at(spin, 2)).toEqual([0xf3, 0x90]);
      expect(rom.image[spin + 2]).toBe(0xeb);
      expect(shortTarget(spin + 2)).toBe(off);
    }
    expect(rom.trapSites.get(ROM.post + 1)).toEqual({ vector: TRAP_POST, retry: false });
    expect(at(ROM.post, 4)).toEqual([0xfa, 0xe6, BIOS_TRAP_PORT, 0xcf]);
  });

  it('the IVT points every service vector at its stub, IRQs at handlers, the rest at an IRET', () => {
    const off = (v: number) => rom.ivt[v] & 0xffff;
    for (const v of [0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x40, 0x08, 0x09]) {
      expect(rom.ivt[v] >>> 16, `vector ${v.toString(16)}`).toBe(0xf000);
      expect(rom.trapSites.get(off(v))?.vector).toBe(v);
    }
    expect(rom.image[off(0x00)]).toBe(0xcf);
    expect(off(0x00)).toBe(ROM.iret);
    expect(at(off(0x0a), 7)).toEqual([0x50, 0xb0, 0x20, 0xe6, 0x20, 0x58, 0xcf]);
    expect(at(off(0x70), 9)).toEqual([0x50, 0xb0, 0x20, 0xe6, 0xa0, 0xe6, 0x20, 0x58, 0xcf]);
    expect(rom.ivt[0x60]).toBe(0);
    expect(rom.ivt[0x1e]).toBe((0xf000 << 16 | ROM.disketteParams) >>> 0);
    expect(at(rom.haltLoop, 4)).toEqual([0xfa, 0xf4, 0xeb, 0xfd]);
  });

  it('the IBM fixed entry points jump to the same stubs as the vectors', () => {
    const pairs: [number, number][] = [[ROM.int10, 0x10], [ROM.int13, 0x13], [ROM.int15, 0x15], [ROM.int16, 0x16], [ROM.int1a, 0x1a], [ROM.int19, 0x19], [ROM.int08, 0x08], [ROM.int09, 0x09], [ROM.int12, 0x12], [ROM.int11, 0x11]];
    for (const [fixed, v] of pairs) {
      expect(rom.image[fixed], fixed.toString(16)).toBe(0xe9);
      expect(nearTarget(fixed)).toBe(rom.ivt[v] & 0xffff);
    }
  });

  it('holds the INT 15h C0h configuration table at E6F5h and the 1.44 MB diskette table at EFC7h', () => {
    expect(at(ROM.configTable, 6)).toEqual([8, 0, 0xfc, 0, 1, 0x64]);
    expect(at(ROM.disketteParams, 11)).toEqual([0xaf, 0x02, 0x25, 0x02, 0x12, 0x1b, 0xff, 0x6c, 0xf6, 0x0f, 0x08]);
  });
});

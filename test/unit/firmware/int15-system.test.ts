import { beforeEach, describe, expect, it } from 'vitest';
import { createHvmMachine, type HvmMachine } from '../../support/hvm-machine';
import { biosCall } from './rig';
import { S_A20_MASK } from '../../../src-engine/cpu/state';

const SMAP = 0x534d4150;
let m: HvmMachine;
beforeEach(() => {
  m = createHvmMachine({ memoryMiB: 128 });
});

function e820Walk(): { entries: [number, number, number][]; calls: number; last: ReturnType<typeof biosCall> } {
  const entries: [number, number, number][] = [];
  let ebx = 0;
  let calls = 0;
  let last: ReturnType<typeof biosCall>;
  do {
    last = biosCall(m, 0x15, { eax: 0xe820, ebx, ecx: 24, edx: SMAP, es: 0x0100, edi: 0x10 });
    calls++;
    if (last.cf) break;
    expect(last.eax).toBe(SMAP);
    expect(last.ecx).toBe(20);
    const e = m.memory.read(0x1010, 20);
    const dv = new DataView(e.buffer);
    entries.push([dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32, dv.getUint32(8, true) + dv.getUint32(12, true) * 2 ** 32, dv.getUint32(16, true)]);
    ebx = last.ebx;
  } while (ebx !== 0 && calls < 20);
  return { entries, calls, last };
}

describe('INT 15h memory size services', () => {
  it('E820h walks the SeaBIOS-shaped map (spec 4.4; the same 6 entries QEMU reports for 128 MiB)', () => {
    const { entries, calls } = e820Walk();
    expect(calls).toBe(6);
    expect(entries).toEqual([
      [0, 0x9fc00, 1],
      [0x9fc00, 0x400, 2],
      [0xf0000, 0x10000, 2],
      [0x100000, 0x7ee0000, 1],
      [0x7fe0000, 0x20000, 2],
      [0xfffc0000, 0x40000, 2],
    ]);
  });

  it('E820h refuses a wrong signature or a continuation past the end with CF=1, AH=86h', () => {
    expect(biosCall(m, 0x15, { eax: 0xe820, edx: 0x12345678, ecx: 20, es: 0x100 })).toMatchObject({ cf: true, ah: 0x86 });
    expect(biosCall(m, 0x15, { eax: 0xe820, edx: SMAP, ebx: 6, ecx: 20, es: 0x100 })).toMatchObject({ cf: true, ah: 0x86 });
  });

  it('E801h, 88h, INT 12h report the sizes SeaBIOS reports for 128 MiB (measured)', () => {
    expect(biosCall(m, 0x15, { eax: 0xe801 })).toMatchObject({ cf: false, ax: 0x3c00, bx: 0x06fe, cx: 0x3c00, dx: 0x06fe });
    expect(biosCall(m, 0x15, { eax: 0x8800 })).toMatchObject({ cf: false, ax: 0xfc00 });
    expect(biosCall(m, 0x12).ax).toBe(639);
    const small = createHvmMachine({ memoryMiB: 8 });
    expect(biosCall(small, 0x15, { eax: 0xe801 })).toMatchObject({ ax: (8 * 1024 - 128) - 1024, bx: 0 });
    expect(biosCall(small, 0x15, { eax: 0x8800 }).ax).toBe(8 * 1024 - 128 - 1024);
  });
});

describe('INT 15h A20, configuration, block move, waits', () => {
  it('2402h/2403h report A20 on and both switches; 2400h closes A20 (addresses wrap), 2401h opens it', () => {
    expect(biosCall(m, 0x15, { eax: 0x2402 })).toMatchObject({ cf: false, ah: 0, al: 1 });
    expect(biosCall(m, 0x15, { eax: 0x2403 })).toMatchObject({ cf: false, ah: 0, bx: 3 });
    expect(biosCall(m, 0x15, { eax: 0x2400 })).toMatchObject({ cf: false, ah: 0 });
    expect(m.cpu.s[S_A20_MASK]).toBe(~(1 << 20));
    expect(biosCall(m, 0x15, { eax: 0x2402 }).al).toBe(0);
    expect(biosCall(m, 0x15, { eax: 0x2401 }).cf).toBe(false);
    expect(m.cpu.s[S_A20_MASK]).toBe(-1);
    expect(biosCall(m, 0x15, { eax: 0x2404 })).toMatchObject({ cf: true, ah: 0x86 });
  });

  it('C0h returns ES:BX = F000:E6F5 with model FCh; C1h the EBDA segment', () => {
    const r = biosCall(m, 0x15, { eax: 0xc000 });
    expect(r).toMatchObject({ cf: false, ah: 0, es: 0xf000, bx: 0xe6f5 });
    expect(m.memory.readU16(0xfe6f5)).toBe(8);
    expect(m.memory.readU8(0xfe6f7)).toBe(0xfc);
    expect(biosCall(m, 0x15, { eax: 0xc100 })).toMatchObject({ cf: false, es: 0x9fc0 });
  });

  it('87h copies CX words between the descriptors of the GDT at ES:SI, above 1 MiB', () => {
    m.memory.write(0x200000, new TextEncoder().encode('block move source!'));
    const gdt = new Uint8Array(48);
    const desc = (off: number, base: number) => {
      gdt[off] = 0xff;
      gdt[off + 1] = 0xff;
      gdt[off + 2] = base & 0xff;
      gdt[off + 3] = (base >> 8) & 0xff;
      gdt[off + 4] = (base >> 16) & 0xff;
      gdt[off + 5] = 0x93;
      gdt[off + 7] = (base >>> 24) & 0xff;
    };
    desc(0x10, 0x200000);
    desc(0x18, 0x300010);
    m.memory.write(0x5000, gdt);
    expect(biosCall(m, 0x15, { eax: 0x8700, ecx: 9, es: 0x500, esi: 0 })).toMatchObject({ cf: false, ah: 0 });
    expect(new TextDecoder().decode(m.memory.read(0x300010, 18))).toBe('block move source!');
    desc(0x18, 0x40000000);
    m.memory.write(0x5000, gdt);
    expect(biosCall(m, 0x15, { eax: 0x8700, ecx: 9, es: 0x500, esi: 0 })).toMatchObject({ cf: true, ah: 0x86 });
  });

  it('86h waits CX:DX microseconds in the ROM stub (the BIOS returns between polls)', () => {
    const t0 = performance.now();
    const r = biosCall(m, 0x15, { eax: 0x8600, ecx: 0, edx: 30_000 });
    const ms = performance.now() - t0;
    expect(r).toMatchObject({ cf: false, ah: 0, stop: 'halted' });
    expect(ms).toBeGreaterThanOrEqual(29);
    expect(m.bios.pending.size).toBe(0);
  });

  it('APM (53h), PS/2 mouse (C2h), 89h and unknown functions answer CF=1, AH=86h; 4Fh sets CF; 90h/91h succeed', () => {
    for (const ax of [0x5300, 0x5304, 0xc200, 0x8900, 0xec00, 0x1234]) {
      expect(biosCall(m, 0x15, { eax: ax, ebx: 0 }), ax.toString(16)).toMatchObject({ cf: true, ah: 0x86 });
    }
    expect(biosCall(m, 0x15, { eax: 0x4f1c })).toMatchObject({ cf: true, al: 0x1c });
    expect(biosCall(m, 0x15, { eax: 0x9000, flags: 0x0003 })).toMatchObject({ cf: false, ah: 0 });
    expect(biosCall(m, 0x15, { eax: 0x9100, flags: 0x0003 })).toMatchObject({ cf: false, ah: 0 });
  });

  it('INT 11h reports the equipment word: x87, 80x25 colour, one serial port, no floppy', () => {
    expect(biosCall(m, 0x11).ax).toBe(0x0002 | 0x0020 | (1 << 9));
  });
});

import { describe, expect, it } from 'vitest';
import { createHvmMachine } from '../../support/hvm-machine';
import { makeCd, makeDisk } from './media';
import { getFlags } from '../../../src-engine/cpu/lazy-flags';
import {
  CR0_PE, EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP, S_CR0, S_EIP, S_IDTR_BASE, S_IDTR_LIMIT, S_SEG_SEL, SEG_CS, SEG_DS, SEG_ES, SEG_SS,
} from '../../../src-engine/cpu/state';
import { readElTorito } from '../../../src-engine/firmware/bios/el-torito';
import { BIOS_TRAP_PORT } from '../../../src-engine/firmware/bios/layout';
import { createMemoryBlockBackend } from '../../../src-engine/firmware/bios/memory-disk';

/** Boot image: inc byte [0x0500]; cli; hlt (counts how often it was entered). */
const COUNTER = 0x0500;
const COUNTING_BOOT = Uint8Array.of(0xfe, 0x06, 0x00, 0x05, 0xfa, 0xf4);

describe('POST and the hand-off to a CD boot image', () => {
  it('enters the image at 0000:7C00 with the register state SeaBIOS leaves (spec 4.4)', () => {
    const m = createHvmMachine({ memoryMiB: 32, cdroms: [makeCd({ bootImage: COUNTING_BOOT })] });
    const s = m.cpu.s;
    expect(m.bootResult).toEqual({ booted: true, device: 'DVD/CD', failures: [] });
    expect([s[S_SEG_SEL + SEG_CS], s[S_EIP]]).toEqual([0, 0x7c00]);
    expect([s[S_SEG_SEL + SEG_DS], s[S_SEG_SEL + SEG_ES], s[S_SEG_SEL + SEG_SS], s[ESP]]).toEqual([0, 0, 0, 0x6f3c]);
    expect([s[EAX], s[EBX], s[ECX], s[EDX], s[ESI], s[EDI], s[EBP]]).toEqual([0xaa55, 0, 0, 0xe0, 0, 0, 0]);
    expect(getFlags(m.cpu)).toBe(0x0202);
    expect(s[S_CR0] & CR0_PE).toBe(0);
    expect([s[S_IDTR_BASE], s[S_IDTR_LIMIT]]).toEqual([0, 0x3ff]);
    expect(m.memory.read(0x7c00, COUNTING_BOOT.length)).toEqual(COUNTING_BOOT);
    expect(m.run({ maxMs: 2000 })).toBe('halted');
    expect(m.memory.readU8(COUNTER)).toBe(1);
    expect(m.vga.lines().slice(0, 3)).toEqual(['Domus BIOS', '', 'Booting from DVD/CD...']);
    expect(m.messages).toEqual([]);
  });

  it('sets up the IVT, BDA and EBDA: COM1, EBDA segment, 639 KiB, mode 3, service vectors in the ROM', () => {
    const m = createHvmMachine({ memoryMiB: 32, cdroms: [makeCd()] });
    const mem = m.memory;
    expect(mem.readU16(0x400)).toBe(0x3f8);
    expect(mem.readU16(0x408)).toBe(0);
    expect(mem.readU16(0x40e)).toBe(0x9fc0);
    expect(mem.readU16(0x413)).toBe(639);
    expect(mem.readU8(0x449)).toBe(3);
    expect(mem.readU16(0x44a)).toBe(80);
    expect(mem.readU8(0x9fc00)).toBe(1);
    for (const v of [0x10, 0x13, 0x15, 0x16, 0x1a, 0x12, 0x11]) {
      const off = mem.readU16(v * 4);
      expect(mem.readU16(v * 4 + 2), `INT ${v.toString(16)}h segment`).toBe(0xf000);
      expect([mem.readU8(0xf0000 + off), mem.readU8(0xf0000 + off + 1)]).toEqual([0xe6, BIOS_TRAP_PORT]);
    }
    expect(mem.read(0xffff0, 5)).toEqual(Uint8Array.of(0xea, 0x5b, 0xe0, 0x00, 0xf0));
  });

  it('honours the catalog load segment and sector count (canonical CS:IP, whole 2048-byte sectors)', () => {
    const image = new Uint8Array(2500).fill(0x90);
    image.set(COUNTING_BOOT, 0);
    const cd = makeCd({ loadSegment: 0x0800, sectorCount: 8, bootImage: image.subarray(0, 2048) });
    // The second loaded sector (LBA 20) is marked with its LBA by makeCd.
    const m = createHvmMachine({ memoryMiB: 32, cdroms: [cd] });
    expect([m.cpu.s[S_SEG_SEL + SEG_CS], m.cpu.s[S_EIP]]).toEqual([0, 0x8000]);
    expect(m.memory.readU32(0x8000 + 2048)).toBe(20);
    expect(m.memory.readU32(0x8000 + 4096)).toBe(0);
  });

  it('follows the boot order, falling back from a disk without a boot signature to the CD', () => {
    const m = createHvmMachine({ memoryMiB: 32, disks: [makeDisk(64, false)], cdroms: [makeCd()], bootOrder: ['disk', 'cdrom'] });
    expect(m.bootResult?.device).toBe('DVD/CD');
    const screen = m.vga.lines().join('');
    expect(screen).toContain('Booting from Hard Disk...Boot failed: test.img: not a bootable disk (no boot signature 55h AAh in sector0)');
    expect(screen).toMatch(/sector0\)Booting from DVD\/CD\.\.\.$/);
    const d = createHvmMachine({ memoryMiB: 32, disks: [makeDisk(64, true, COUNTING_BOOT)], cdroms: [makeCd()], bootOrder: ['disk', 'cdrom'] });
    expect(d.bootResult?.device).toBe('Hard Disk');
    expect(d.cpu.s[EDX]).toBe(0x80);
    expect(d.run({ maxMs: 2000 })).toBe('halted');
    expect(d.memory.readU8(COUNTER)).toBe(1);
  });
});

describe('devices of the boot order with no drive', () => {
  it('are skipped without a line, as SeaBIOS offers only the devices it found (xl\'s default boot="cd")', () => {
    const m = createHvmMachine({ memoryMiB: 16, cdroms: [makeCd({ bootImage: COUNTING_BOOT })], bootOrder: ['disk', 'cdrom'] });
    expect(m.bootResult).toEqual({ booted: true, device: 'DVD/CD', failures: [] });
    expect(m.vga.lines().slice(0, 4)).toEqual(['Domus BIOS', '', 'Booting from DVD/CD...', '']);
    expect(m.messages).toEqual([]);
  });

  it('are named, in boot order, when nothing boots', () => {
    const m = createHvmMachine({ memoryMiB: 16, cdroms: [makeCd({ badBootRecord: true })], bootOrder: ['disk', 'cdrom'] });
    expect(m.bootFailures).toHaveLength(2);
    expect(m.bootFailures?.[0]).toBe('no hard disk is attached');
    expect(m.bootFailures?.[1]).toMatch(/no El Torito boot record/);
    expect(m.vga.lines().join('\n')).not.toContain('Hard Disk');
  });
});

describe('"No bootable device"', () => {
  const cases: [string, Parameters<typeof createHvmMachine>[0], RegExp][] = [
    ['no drives at all', {}, /no CD-ROM drive is attached/],
    ['a missing image', { missing: [{ medium: 'cdrom', problem: '/nowhere/x.iso does not exist' }] }, /\/nowhere\/x\.iso does not exist/],
    ['a corrupt ISO (no El Torito record)', { cdroms: [makeCd({ badBootRecord: true })] }, /no El Torito boot record/],
    ['a corrupt boot catalog', { cdroms: [makeCd({ badChecksum: true })] }, /corrupt/],
    ['a disk without a boot record', { disks: [makeDisk(64, false)], bootOrder: ['disk'] }, /not a bootable disk/],
    ['network boot', { bootOrder: ['network'] }, /not available/],
    ['an empty boot order', { bootOrder: [] }, /names no device/],
  ];
  for (const [what, config, reason] of cases) {
    it(`${what}: the screen and the console say so, the host is told, and the VCPU stops`, () => {
      const m = createHvmMachine({ memoryMiB: 16, ...config });
      expect(m.bootResult?.booted).toBe(false);
      expect(m.messages.at(-1)).toBe('No bootable device.');
      expect(m.messages.join('\n')).toMatch(reason);
      expect(m.bootFailures?.join('\n')).toMatch(reason);
      expect(m.vga.lines()).toContain('No bootable device.');
      const t0 = performance.now();
      expect(m.run({ maxMs: 2000 })).toBe('halted');
      expect(performance.now() - t0).toBeLessThan(1000);
    });
  }
});

describe('INT 19h, INT 18h and reset', () => {
  it('INT 19h loads and enters the boot image again', () => {
    // Boot image: inc byte [0x500]; cmp byte [0x500], 2; jae done; int 19h; done: cli; hlt
    const image = Uint8Array.of(0xfe, 0x06, 0x00, 0x05, 0x80, 0x3e, 0x00, 0x05, 0x02, 0x73, 0x02, 0xcd, 0x19, 0xfa, 0xf4);
    const m = createHvmMachine({ memoryMiB: 16, cdroms: [makeCd({ bootImage: image })] });
    expect(m.run({ maxMs: 2000 })).toBe('halted');
    expect(m.memory.readU8(COUNTER)).toBe(2);
    expect(m.cpu.s[EDX] & 0xff).toBe(0xe0);
    expect(m.cpu.s[ESP]).toBe(0x6f3c);
  });

  it('INT 18h from a boot program that gives up boots the next device of the boot order', () => {
    // CD image: inc byte [0x500]; int 18h. Disk: inc byte [0x500]; cli; hlt.
    const m = createHvmMachine({
      memoryMiB: 16,
      cdroms: [makeCd({ bootImage: Uint8Array.of(0xfe, 0x06, 0x00, 0x05, 0xcd, 0x18) })],
      disks: [makeDisk(64, true, COUNTING_BOOT)],
      bootOrder: ['cdrom', 'disk'],
    });
    expect(m.run({ maxMs: 2000 })).toBe('halted');
    expect(m.memory.readU8(COUNTER)).toBe(2);
    expect(m.cpu.s[EDX] & 0xff).toBe(0x80);
    const again = createHvmMachine({ memoryMiB: 16, cdroms: [makeCd({ bootImage: Uint8Array.of(0xcd, 0x18) })], bootOrder: ['cdrom'] });
    expect(again.run({ maxMs: 2000 })).toBe('halted');
    expect(again.messages.at(-1)).toBe('No bootable device.');
  });

  it('a CPU reset enters the BIOS at F000:FFF0 (through the top-of-4-GiB alias), which POSTs and boots again', () => {
    const m = createHvmMachine({ memoryMiB: 16, cdroms: [makeCd({ bootImage: COUNTING_BOOT })] });
    expect(m.run({ maxMs: 2000 })).toBe('halted');
    m.memory.writeU16(0x400, 0x1234);
    m.cpu.reset();
    expect(m.run({ maxMs: 2000 })).toBe('halted');
    expect(m.memory.readU8(COUNTER)).toBe(2);
    expect(m.memory.readU16(0x400)).toBe(0x3f8);
    const s = m.cpu.s;
    expect([s[EAX] & 0xffff, s[EDX] & 0xff, s[ESP], s[S_IDTR_LIMIT]]).toEqual([0xaa55, 0xe0, 0x6f3c, 0x3ff]);
  });
});

describe('El Torito parsing', () => {
  it('reads the default entry of a good catalog', () => {
    const r = readElTorito(makeCd({ sectorCount: 4 }));
    expect(r).toEqual({ ok: true, boot: { catalogLba: 18, imageLba: 19, loadSegment: 0x07c0, sectorCount: 4, mediaType: 0, systemType: 0 } });
  });

  it('explains every kind of damage', () => {
    const reason = (o: Parameters<typeof makeCd>[0]) => {
      const r = readElTorito(makeCd(o));
      return r.ok ? 'ok' : r.reason;
    };
    expect(readElTorito(createMemoryBlockBackend(new Uint8Array(10 * 2048), { medium: 'cdrom' }))).toMatchObject({ ok: false, reason: expect.stringMatching(/too small/) });
    expect(reason({ badBootRecord: true })).toMatch(/no El Torito boot record/);
    expect(reason({ catalogLba: 500 })).toMatch(/boot catalog is at sector 500, beyond the end/);
    expect(reason({ badKey: true })).toMatch(/no valid validation entry/);
    expect(reason({ badChecksum: true })).toMatch(/checksum/);
    expect(reason({ platform: 0xef })).toMatch(/platform efh/i);
    expect(reason({ indicator: 0 })).toMatch(/not bootable/);
    expect(reason({ mediaType: 2 })).toMatch(/1\.44 MB floppy emulation/);
    expect(reason({ imageLba: 999 })).toMatch(/boot image is at sector 999/);
  });
});

/**
 * The Linux/x86 32-bit boot protocol loader (src-engine/boot/linux*.ts) on synthetic bzImages
 * built here field by field: every setup-header rule, the zero page, the placement of the kernel,
 * its runtime area, the initrd and the command line, the entry state, and every error.
 */
import { describe, expect, it } from 'vitest';
import { BootError } from '../../../src-engine/base/errors';
import { E820_ACPI, E820_RAM, buildE820Map } from '../../../src-engine/boot/e820';
import { isLinuxBzImage, loadLinuxKernel, parseLinuxSetupHeader, type LinuxLoadConfig } from '../../../src-engine/boot/linux';
import { AR_CODE32_FLAT, AR_DATA32_FLAT } from '../../../src-engine/cpu/init-state';
import { FlatGuestMemory } from '../../support/flat-guest-memory';

const MiB = 1024 * 1024;
const PATH = '/boot/vmlinuz';

/** Setup-header fields a synthetic bzImage can vary (defaults: a Linux 6.1-like 686 kernel). */
interface BzOptions {
  version?: number;
  setupSects?: number;
  loadflags?: number;
  protSize?: number;
  syssize?: number;
  kernelAlignment?: number;
  relocatable?: number;
  xloadflags?: number;
  cmdlineSize?: number;
  initrdAddrMax?: number;
  prefAddress?: number;
  initSize?: number;
  code32Start?: number;
  kernelVersion?: string;
  jumpOffset?: number;
  bootFlag?: number;
  magic?: string;
}

/** Builds a bzImage: boot sector + setup sectors (header at 0x1F1) + protected-mode bytes. */
function bzImage(o: BzOptions = {}): Uint8Array {
  const sects = o.setupSects ?? 4;
  const real = ((sects === 0 ? 4 : sects) + 1) * 512;
  const prot = o.protSize ?? 0x3000;
  const b = new Uint8Array(real + prot);
  const v = new DataView(b.buffer);
  b[0x1f1] = sects;
  v.setUint32(0x1f4, o.syssize ?? prot / 16, true);
  v.setUint16(0x1fa, 0xffff, true);
  v.setUint16(0x1fe, o.bootFlag ?? 0xaa55, true);
  b[0x200] = 0xeb;
  b[0x201] = o.jumpOffset ?? 0x6a;
  b.set(new TextEncoder().encode(o.magic ?? 'HdrS'), 0x202);
  v.setUint16(0x206, o.version ?? 0x020f, true);
  b[0x211] = o.loadflags ?? 0x01;
  v.setUint32(0x214, o.code32Start ?? 0x100000, true);
  v.setUint32(0x22c, o.initrdAddrMax ?? 0x7fffffff, true);
  v.setUint32(0x230, o.kernelAlignment ?? 0x1000000, true);
  b[0x234] = o.relocatable ?? 1;
  b[0x235] = 13;
  v.setUint16(0x236, o.xloadflags ?? 0, true);
  v.setUint32(0x238, o.cmdlineSize ?? 2047, true);
  v.setBigUint64(0x258, BigInt(o.prefAddress ?? 0x1000000), true);
  v.setUint32(0x260, o.initSize ?? 0x100000, true);
  if (o.kernelVersion !== undefined) {
    v.setUint16(0x20e, 0x200, true); // the string at 0x400, in the setup sectors
    b.set(new TextEncoder().encode(`${o.kernelVersion}\0`), 0x400);
  }
  for (let i = 0; i < prot; i++) b[real + i] = (i * 7 + 0x5a) & 0xff;
  return b;
}

function load(config: Partial<LinuxLoadConfig> & { kernel?: Uint8Array; ram?: number }) {
  const memory = (config.memory as FlatGuestMemory | undefined) ?? new FlatGuestMemory(config.ram ?? 64 * MiB);
  const r = loadLinuxKernel({ kernel: bzImage(), kernelPath: PATH, cmdline: 'console=ttyS0', memory, ...config });
  const view = new DataView(memory.bytes.buffer);
  const zp = r.init.esi!;
  return { ...r, mem: memory, zp, u8: (o: number) => memory.bytes[zp + o], u16: (o: number) => view.getUint16(zp + o, true), u32: (o: number) => view.getUint32(zp + o, true), u64: (o: number) => Number(view.getBigUint64(zp + o, true)) };
}

function cstr(mem: FlatGuestMemory, at: number): string {
  let s = '';
  for (let i = at; mem.bytes[i] !== 0; i++) s += String.fromCharCode(mem.bytes[i]);
  return s;
}

/** Expects a BootError with the code, a message matching `pattern` and naming `path`. */
function expectBootError(fn: () => unknown, code: string, pattern: RegExp, path = PATH): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a BootError').toBeInstanceOf(BootError);
  const e = caught as BootError;
  expect(e.code).toBe(code);
  expect(e.message).toMatch(pattern);
  expect(e.message.startsWith(`${path}: `)).toBe(true);
  expect(e.subject).toBe(path);
}

describe('isLinuxBzImage: boot.rst\'s is_bzImage', () => {
  it('accepts a bzImage of any protocol from 2.00', () => {
    expect(isLinuxBzImage(bzImage())).toBe(true);
    expect(isLinuxBzImage(bzImage({ version: 0x0200 }))).toBe(true);
  });
  it('refuses a short file, a missing boot flag or "HdrS", a pre-2.00 protocol and a zImage', () => {
    expect(isLinuxBzImage(new Uint8Array(0x211))).toBe(false);
    expect(isLinuxBzImage(bzImage({ bootFlag: 0x1234 }))).toBe(false);
    expect(isLinuxBzImage(bzImage({ magic: 'HdrT' }))).toBe(false);
    expect(isLinuxBzImage(bzImage({ version: 0x01ff }))).toBe(false);
    expect(isLinuxBzImage(bzImage({ loadflags: 0x80 }))).toBe(false);
  });
  it('says no to an ELF file', () => {
    const elf = new Uint8Array(4096);
    elf.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
    expect(isLinuxBzImage(elf)).toBe(false);
  });
});

describe('parseLinuxSetupHeader: fields by protocol version', () => {
  it('reads a 2.15 header (relocatable 686-like kernel)', () => {
    const h = parseLinuxSetupHeader(bzImage({ setupSects: 30, kernelVersion: '6.1.0-test (x@y) #1 SMP' }), PATH);
    expect(h).toMatchObject({
      version: 0x020f, versionText: '2.15', setupSects: 30, protectedModeOffset: 31 * 512, protectedModeSize: 0x3000, declaredSize: 0x3000,
      headerEnd: 0x26c, loadflags: 1, code32Start: 0x100000, initrdAddrMax: 0x7fffffff, cmdlineSize: 2047, relocatable: true,
      kernelAlignment: 0x1000000, minAlignment: 13, xloadflags: 0, prefAddress: 0x1000000, initSize: 0x100000, kernelVersion: '6.1.0-test (x@y) #1 SMP',
    });
  });
  it('reads setup_sects 0 as 4', () => {
    const h = parseLinuxSetupHeader(bzImage({ setupSects: 0 }), PATH);
    expect(h.setupSects).toBe(4);
    expect(h.protectedModeOffset).toBe(5 * 512);
  });
  it('uses boot.rst\'s defaults for fields older protocols lack', () => {
    // 2.03: 16-bit syssize, no kernel_alignment/relocatable (2.05), cmdline_size 255 (2.06), no pref_address/init_size (2.10), no xloadflags (2.12).
    const h = parseLinuxSetupHeader(bzImage({ version: 0x0203, syssize: 0xabcd0000 + 0x300, xloadflags: 3, cmdlineSize: 4096 }), PATH);
    expect(h).toMatchObject({ declaredSize: 0x3000, relocatable: false, kernelAlignment: 0, cmdlineSize: 255, prefAddress: 0x100000, initSize: undefined, xloadflags: 0, minAlignment: 0 });
    expect(parseLinuxSetupHeader(bzImage({ version: 0x0205 }), PATH)).toMatchObject({ relocatable: true, cmdlineSize: 255, initSize: undefined });
    expect(parseLinuxSetupHeader(bzImage({ version: 0x0206 }), PATH).cmdlineSize).toBe(2047);
    expect(parseLinuxSetupHeader(bzImage({ version: 0x020b, xloadflags: 3 }), PATH).xloadflags).toBe(0);
    expect(parseLinuxSetupHeader(bzImage({ version: 0x020c, xloadflags: 3 }), PATH).xloadflags).toBe(3);
  });
  it('is not relocatable when the flag is clear or kernel_alignment is not a power of two', () => {
    expect(parseLinuxSetupHeader(bzImage({ relocatable: 0 }), PATH).relocatable).toBe(false);
    expect(parseLinuxSetupHeader(bzImage({ kernelAlignment: 0x3000 }), PATH)).toMatchObject({ relocatable: false, kernelAlignment: 0 });
    expect(parseLinuxSetupHeader(bzImage({ kernelAlignment: 0 }), PATH).relocatable).toBe(false);
  });
  it('ignores a kernel_version pointer outside the setup code', () => {
    const b = bzImage({ kernelVersion: 'x' });
    new DataView(b.buffer).setUint16(0x20e, 0x4000, true);
    expect(parseLinuxSetupHeader(b, PATH).kernelVersion).toBeUndefined();
  });
});

describe('parseLinuxSetupHeader: what is refused', () => {
  const parse = (o: BzOptions) => () => parseLinuxSetupHeader(bzImage(o), PATH);
  it('a file too short for a setup header', () => {
    expectBootError(() => parseLinuxSetupHeader(new Uint8Array(0x200), PATH), 'boot.linux-not-bzimage', /not a Linux bzImage: the file has only 512 bytes/);
  });
  it('no boot flag, no "HdrS", protocol < 2.00, a zImage', () => {
    expectBootError(parse({ bootFlag: 0 }), 'boot.linux-not-bzimage', /no boot flag 0xAA55 at offset 0x1FE \(found 0x0\)/);
    expectBootError(parse({ magic: 'ELF!' }), 'boot.linux-not-bzimage', /no "HdrS" signature at offset 0x202/);
    expectBootError(parse({ version: 0x0100 }), 'boot.linux-not-bzimage', /boot protocol 1\.00 predates bzImage/);
    expectBootError(parse({ loadflags: 0 }), 'boot.linux-not-bzimage', /LOADED_HIGH is clear: a zImage/);
  });
  it('protocols 2.00-2.02: too old for the 32-bit boot protocol', () => {
    expectBootError(parse({ version: 0x0202 }), 'boot.linux-too-old', /boot protocol 2\.02 is too old for the 32-bit boot protocol Domus uses \(2\.03 or later/);
    expect(() => parseLinuxSetupHeader(bzImage({ version: 0x0203 }), PATH)).not.toThrow();
  });
  it('more than 64 setup sectors, a header running past 0x290', () => {
    expectBootError(parse({ setupSects: 65 }), 'boot.linux-bad-header', /setup_sects is 65; the real-mode code is at most 64 sectors/);
    expect(() => parseLinuxSetupHeader(bzImage({ setupSects: 64 }), PATH)).not.toThrow();
    expectBootError(parse({ jumpOffset: 0x8f }), 'boot.linux-bad-header', /would end at 0x291 .* past boot_params.edd_mbr_sig_buffer at 0x290/);
    expect(() => parseLinuxSetupHeader(bzImage({ jumpOffset: 0x8e }), PATH)).not.toThrow();
  });
  it('a file shorter than setup_sects and syssize say, or with no protected-mode code', () => {
    expectBootError(parse({ syssize: 0x301 }), 'boot.linux-truncated', /the file has 14848 bytes but the header says 2560 bytes of real-mode code .* and 12304 bytes of protected-mode code/);
    expectBootError(parse({ protSize: 0, syssize: 0 }), 'boot.linux-truncated', /truncated/);
  });
});

describe('loadLinuxKernel: a 686-like kernel with an initrd in 64 MiB', () => {
  const kernel = bzImage({ kernelVersion: '6.1.0-synthetic' });
  const initrd = new Uint8Array(0x2345).map((_, i) => (i * 13) & 0xff);
  const r = load({ kernel, initrd, initrdPath: '/boot/initrd.gz', cmdline: 'console=ttyS0 root=/dev/ram0' });

  it('enters at code32_start in flat 32-bit protected mode with ESI = the zero page (boot.rst)', () => {
    expect(r.init).toMatchObject({ eip: 0x100000, esi: 0x10000, ebx: 0, edi: 0, ebp: 0, eax: 0, ecx: 0, edx: 0, esp: 0x10000, eflags: 0x2, cr0: 0x11 });
    expect(r.init.cs).toEqual({ selector: 0x10, base: 0, limit: 0xffffffff, access: AR_CODE32_FLAT });
    for (const s of [r.init.ds, r.init.es, r.init.fs, r.init.gs, r.init.ss]) expect(s).toEqual({ selector: 0x18, base: 0, limit: 0xffffffff, access: AR_DATA32_FLAT });
    expect(r.init.gdtr).toEqual({ base: 0x10b0, limit: 0x1f });
    expect(r.init.idtr).toEqual({ base: 0, limit: 0 });
  });
  it('writes a GDT whose __BOOT_CS and __BOOT_DS are flat 4 GiB code and data', () => {
    const v = new DataView(r.mem.bytes.buffer);
    expect(v.getBigUint64(0x10b0 + 0x10, true)).toBe(0x00cf9b000000ffffn);
    expect(v.getBigUint64(0x10b0 + 0x18, true)).toBe(0x00cf93000000ffffn);
  });
  it('loads the protected-mode code at 1 MiB and nothing of the real-mode code', () => {
    expect(r.mem.bytes.subarray(0x100000, 0x103000)).toEqual(kernel.subarray(5 * 512));
    expect(r.mem.bytes[0x103000]).toBe(0);
    expect(r.mem.bytes.subarray(0x90000, 0xa0000).every((b) => b === 0)).toBe(true);
  });
  it('copies the setup header into the zero page and sets the loader fields', () => {
    for (let o = 0x1f1; o < 0x26c; o++) {
      if ([0x210, 0x211, 0x218, 0x219, 0x21a, 0x21b, 0x21c, 0x21d, 0x21e, 0x21f, 0x224, 0x225, 0x228, 0x229, 0x22a, 0x22b].includes(o)) continue;
      expect(r.u8(o), `zero page byte 0x${o.toString(16)}`).toBe(kernel[o]);
    }
    expect(r.u8(0x26c)).toBe(0); // nothing past the header's end
    expect(r.u8(0x210)).toBe(0xff); // type_of_loader: undefined
    expect(r.u8(0x211)).toBe(0x81); // LOADED_HIGH | CAN_USE_HEAP
    expect(r.u16(0x224)).toBe(0xde00); // heap_end_ptr
    expect(r.u32(0x214)).toBe(0x100000); // code32_start
    expect(r.u8(0x1ef)).toBe(0); // sentinel
  });
  it('points cmd_line_ptr at the command line, on its own page in low memory', () => {
    expect(r.u32(0x228)).toBe(0x11000);
    expect(cstr(r.mem, r.u32(0x228))).toBe('console=ttyS0 root=/dev/ram0');
    expect(r.summary.cmdlineAddress).toBe(0x11000);
  });
  it('puts the initrd page-aligned at the top of RAM, exact size in ramdisk_size', () => {
    expect(r.u32(0x218)).toBe(64 * MiB - 0x3000);
    expect(r.u32(0x21c)).toBe(0x2345);
    expect(r.mem.bytes.subarray(64 * MiB - 0x3000, 64 * MiB - 0x3000 + 0x2345)).toEqual(initrd);
    expect(r.summary.initrd).toEqual({ path: '/boot/initrd.gz', start: 64 * MiB - 0x3000, end: 64 * MiB - 0x3000 + 0x2345 });
  });
  it('reports the E820 map in e820_entries/e820_table and the memory sizes', () => {
    const map = buildE820Map({ ramSize: 64 * MiB });
    expect(r.u8(0x1e8)).toBe(map.length);
    map.forEach((e, i) => {
      const at = 0x2d0 + i * 20;
      expect([r.u64(at), r.u64(at + 8), r.u32(at + 16)]).toEqual([e.base, e.length, e.type]);
    });
    expect(r.u64(0x2d0 + map.length * 20)).toBe(0);
    expect(r.u32(0x1e0)).toBe(63 * 1024); // alt_mem_k: KiB above 1 MiB
    expect(r.u16(0x002)).toBe(0xfc00); // ext_mem_k, capped like INT 15h AH=88h
  });
  it('leaves screen_info saying "no VGA" (mode, columns, lines 0) and no RSDP', () => {
    for (let o = 0; o < 0x40; o++) if (o !== 2 && o !== 3) expect(r.u8(o), `screen_info byte ${o}`).toBe(0);
    expect(r.u64(0x70)).toBe(0);
  });
  it('summarises where everything went, without overlaps', () => {
    expect(r.summary).toMatchObject({
      protocol: 'linux', protocolVersion: '2.15', kernelVersion: '6.1.0-synthetic', relocatable: true, kernelStart: 0x100000, kernelEnd: 0x103000,
      runtimeStart: 0x1000000, runtimeEnd: 0x1100000, entry: 0x100000, zeroPage: 0x10000, gdtAddress: 0x10b0,
    });
    const regs = r.summary.regions;
    for (let i = 1; i < regs.length; i++) expect(regs[i].start).toBeGreaterThanOrEqual(regs[i - 1].end);
    expect(regs.map((x) => x.what)).toEqual(['GDT', 'zero page (boot_params)', 'kernel command line', 'protected-mode code', 'kernel runtime area (init_size)', 'initrd /boot/initrd.gz']);
  });
});

describe('loadLinuxKernel: the rules', () => {
  it('no initrd: ramdisk_image and ramdisk_size stay 0', () => {
    const r = load({});
    expect([r.u32(0x218), r.u32(0x21c)]).toEqual([0, 0]);
    expect(r.summary.initrd).toBeUndefined();
  });
  it('keeps the initrd at or below initrd_addr_max', () => {
    const r = load({ kernel: bzImage({ initrdAddrMax: 0x27fffff }), initrd: new Uint8Array(5000).fill(1) });
    expect(r.u32(0x218)).toBe(0x2800000 - 0x2000);
  });
  it('keeps the initrd out of reserved ranges at the top of RAM (ACPI tables)', () => {
    const r = load({ initrd: new Uint8Array(100).fill(1), extraReserved: [{ base: 64 * MiB - 0x20000, length: 0x20000, type: E820_ACPI }] });
    expect(r.u32(0x218)).toBe(64 * MiB - 0x20000 - 0x1000);
    expect(r.summary.memoryMap.some((e) => e.type === E820_ACPI)).toBe(true);
  });
  it('uses a memory map given by the caller, and refuses more than 128 entries', () => {
    const map = [{ base: 0, length: 0x9fc00, type: E820_RAM }, { base: 0x100000, length: 31 * MiB, type: E820_RAM }];
    const r = load({ memoryMap: map });
    expect(r.u8(0x1e8)).toBe(2);
    const many = Array.from({ length: 129 }, (_, i) => ({ base: 0x100000 * (i + 100), length: 0x1000, type: 2 }));
    expectBootError(() => load({ memoryMap: [...map, ...many], ram: 256 * MiB }), 'boot.bad-memory-map', /has 131 entries; the zero page holds at most 128/);
  });
  it('passes the RSDP address and sets QUIET_FLAG for "quiet"', () => {
    const r = load({ acpiRsdp: 0xf5a40, cmdline: 'console=ttyS0 quiet' });
    expect(r.u64(0x70)).toBe(0xf5a40);
    expect(r.u8(0x211)).toBe(0xa1);
    expect(load({ cmdline: 'quietly' }).u8(0x211)).toBe(0x81);
  });
  it('places the runtime area at max(align_up(1 MiB, kernel_alignment), pref_address), or pref_address if not relocatable', () => {
    expect(load({ kernel: bzImage({ kernelAlignment: 0x400000, prefAddress: 0x100000 }) }).summary.runtimeStart).toBe(0x400000);
    expect(load({ kernel: bzImage({ kernelAlignment: 0x200000, prefAddress: 0x1000000 }) }).summary.runtimeStart).toBe(0x1000000);
    expect(load({ kernel: bzImage({ relocatable: 0, prefAddress: 0x2000000 }) }).summary).toMatchObject({ runtimeStart: 0x2000000, runtimeEnd: 0x2100000 });
  });
  it('before 2.10 reserves three times the code (GRUB\'s estimate) from 1 MiB, or the aligned address if relocatable', () => {
    const s = load({ kernel: bzImage({ version: 0x0209, relocatable: 0 }) }).summary;
    expect(s).toMatchObject({ runtimeStart: 0x100000, runtimeEnd: 0x109000 });
    expect(s.regions.find((x) => x.what === 'kernel runtime area (init_size)')).toMatchObject({ start: 0x103000, end: 0x109000 });
    expect(load({ kernel: bzImage({ version: 0x0209 }) }).summary).toMatchObject({ runtimeStart: 0x1000000, runtimeEnd: 0x1009000 });
  });
  it('puts the initrd above the runtime area, never in the gap below it', () => {
    // 20 MiB: the runtime area ends at 17 MiB; 3 MiB fit above it, 4 MiB do not (though the 1-16 MiB gap is free).
    expect(load({ ram: 20 * MiB, initrd: new Uint8Array(3 * MiB) }).u32(0x218)).toBe(0x1100000);
    expectBootError(() => load({ ram: 20 * MiB, initrd: new Uint8Array(4 * MiB), initrdPath: '/boot/big.img' }), 'boot.linux-initrd-too-big',
      /the initrd \(4194304 bytes\) does not fit: it must lie above the kernel's runtime area \(0x1100000\) and end at or below 0x80000000 .* the largest free block has 3145728 bytes/, '/boot/big.img');
  });
  it('refuses an initrd above initrd_addr_max', () => {
    expectBootError(() => load({ kernel: bzImage({ initrdAddrMax: 0x10fffff }), initrd: new Uint8Array(10), initrdPath: 'i.gz' }), 'boot.linux-initrd-too-big', /end at or below 0x1100000 .* initrd_addr_max 0x10fffff/, 'i.gz');
  });
  it('refuses an empty initrd', () => {
    expectBootError(() => load({ initrd: new Uint8Array(0), initrdPath: 'empty.gz' }), 'boot.linux-initrd-empty', /the initrd is empty/, 'empty.gz');
  });
  it('takes a command line of exactly cmdline_size characters and refuses a longer one', () => {
    const r = load({ kernel: bzImage({ cmdlineSize: 20 }), cmdline: 'x'.repeat(20) });
    expect(cstr(r.mem, r.u32(0x228))).toBe('x'.repeat(20));
    expectBootError(() => load({ kernel: bzImage({ cmdlineSize: 20 }), cmdline: 'x'.repeat(21) }), 'boot.linux-cmdline-too-long', /the command line has 21 characters; this kernel takes at most 20 \(setup header cmdline_size\)/);
    expectBootError(() => load({ kernel: bzImage({ version: 0x0205 }), cmdline: 'y'.repeat(256) }), 'boot.linux-cmdline-too-long', /at most 255/);
  });
  it('refuses a kernel whose runtime area does not fit in RAM, saying how much memory it needs', () => {
    expectBootError(() => load({ ram: 16 * MiB }), 'boot.linux-no-room', /needs RAM from 0x1000000 to 0x1100000 .* beyond the end of RAM at 0x1000000 .* more than 17 MiB of memory/);
  });
  it('refuses a protected-mode part that does not fit below the end of RAM', () => {
    expectBootError(() => load({ ram: 2 * MiB, kernel: bzImage({ protSize: 2 * MiB, relocatable: 0, prefAddress: 0x100000 }) }), 'boot.outside-ram', /protected-mode code \[0x100000, 0x300000\) is beyond the end of RAM/);
  });
  it('refuses an x86-64 kernel unless allowed', () => {
    expectBootError(() => load({ kernel: bzImage({ xloadflags: 0x1 }) }), 'boot.linux-64bit', /an x86-64 \(64-bit\) kernel; the Domus CPU runs 32-bit code only/);
    expect(load({ kernel: bzImage({ xloadflags: 0x1 }), allow64Bit: true }).init.eip).toBe(0x100000);
  });
  it('refuses a code32_start outside the loaded code', () => {
    expectBootError(() => load({ kernel: bzImage({ code32Start: 0x200000 }) }), 'boot.linux-bad-header', /code32_start 0x200000 is outside the protected-mode code loaded at \[0x100000, 0x103000\)/);
    expect(load({ kernel: bzImage({ code32Start: 0x100200 }) }).init.eip).toBe(0x100200);
  });
});

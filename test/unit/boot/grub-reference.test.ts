/**
 * Our direct loader against real GRUB 2.06. The fixtures were captured by fixtures/grub-reference.sh
 * (grub-mkrescue ISO, QEMU 7.2 + SeaBIOS, 128 MiB): the mbinfo guest's printout and the mbdump
 * probe's raw dumps of registers, boot information, modules and copied ELF sections. We load the same
 * files with the same command lines and modules into 128 MiB whose memory map carries SeaBIOS's two
 * extra reserved ranges, and require identical results except for these documented differences:
 * - no boot device (v1 flag 1 / v2 tag 5): nothing was booted from a BIOS drive;
 * - no VBE/framebuffer (v1 flags 11, 12 / v2 tag 8), no APM (v2 tag 10), no ACPI (v2 tag 14): no BIOS;
 * - v1: GRUB leaves a 20-byte APM block (unflagged) after the loader name, and its name is longer, so
 *   our module list, memory map and section table sit lower by 20 + the padded name-length difference;
 *   the module entries' reserved word is 0 (GRUB leaves garbage);
 * - the loader name is "Domus";
 * - GDTR limit 0x1F (GRUB: 0x20), and our code descriptor has the accessed bit set (GRUB's only the data one);
 * - v2: GRUB's info block is a generous estimate carved from its heap in 16-byte cells, so where we
 *   place it right after a module GRUB's address is ours rounded up to 16.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMultiboot, loadMultibootKernel, type MultibootLoadConfig } from '../../../src-engine/boot/multiboot';
import { FlatGuestMemory } from '../../support/flat-guest-memory';
import { concat, mb1Header, mb2Header } from './elf-builder';
import { readMbi1, readMbi2, type ByteSource, type Mbi1 } from './mbi-reader';
import { cleanSerial, parseProbeOutput, type ProbeOutput } from './probe-output';

const MiB = 1024 * 1024;
const RAM = 128 * MiB;
const FIX = join(__dirname, 'fixtures');
const MBINFO_PATH = '/work/shared/guests/mbinfo/kernel.elf';
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIX, name)));
const APP = fixture('module-app.txt');
const APP2 = concat([new Uint8Array(5000).fill(0x42), new Uint8Array([0x58])]);
/** SeaBIOS's 128 MiB map has two ranges ours lacks: its tables below the RAM top and the flash window. */
const SEABIOS_RESERVED = [{ base: RAM - 0x20000, length: 0x20000 }, { base: 0xfffc0000, length: 0x40000 }];
const BUILDS = ['v1', 'v1-aout', 'v1-elf64', 'v1-gaps', 'v2', 'v2-aout', 'v2-elf64'];
/** v1 info flags GRUB sets that we do not: boot device, VBE, framebuffer. */
const GRUB_ONLY_V1_FLAGS = 0x2 | 0x800 | 0x1000;
/** v2 tags GRUB adds on a BIOS that we do not: bootdev, framebuffer, APM, old ACPI. */
const GRUB_ONLY_V2_TAGS = new Set([5, 8, 10, 14]);
/** The bytes GRUB's v1 APM block shifts everything after the loader name by. */
const GRUB_APM_BLOCK = 20;

function loadLikeGrub(config: Partial<MultibootLoadConfig> & { kernel: Uint8Array; kernelPath: string }) {
  const memory = new FlatGuestMemory(RAM);
  const result = loadMultibootKernel({ memory, extraReserved: SEABIOS_RESERVED, ...config });
  return { ...result, memory };
}

/** What the mbinfo guest (guests/mbinfo/kernel.asm) prints for a given EAX and multiboot_info. */
function renderMbinfo(mem: ByteSource, eax: number, mbi: Mbi1): string[] {
  const h = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
  const lines = ['KERNEL-UP: multiboot test kernel', `eax=${h(eax)} flags=${h(mbi.flags)}`];
  if (mbi.flags & 4) lines.push(`cmdline=${mbi.cmdline}`);
  if (mbi.flags & 1) lines.push(`mem_lower=${h(mbi.memLower)} mem_upper=${h(mbi.memUpper)}`);
  if (mbi.flags & 2) lines.push(`boot_device=${h(mbi.bootDevice)}`);
  let mods = `mods_count=${h(mbi.mods.length)}`;
  if (mbi.flags & 8 && mbi.mods.length > 0) {
    const m = mbi.mods[0];
    lines.push(`${mods} mod0.start=${h(m.start)} mod0.end=${h(m.end)} mod0.string=${m.string}`);
    mods = '';
    for (let a = m.start; a < m.start + 24; a++) {
      const c = mem.read(a, 1)[0];
      if (c < 32) break;
      mods += String.fromCharCode(c);
    }
  }
  lines.push(mods);
  if (mbi.flags & 0x40) {
    lines.push(`mmap_length=${h(mbi.mmapLength)}`);
    for (const e of mbi.mmap) {
      lines.push(`${h(Math.floor(e.base / 2 ** 32))}${h(e.base)} ${h(Math.floor(e.length / 2 ** 32))}${h(e.length)} ${h(e.type)}`);
    }
  }
  if (mbi.flags & 0x200) lines.push(`boot_loader_name=${mbi.loaderName}`);
  lines.push('KERNEL-DONE');
  return lines;
}

describe('the mbinfo guest: our multiboot info against GRUB 2.06\'s, as the guest prints it', () => {
  const grub = cleanSerial(readFileSync(join(FIX, 'grub-mbinfo.serial.txt'), 'latin1')).split('\n');
  const grubLines = grub.slice(grub.findIndex((l) => l.startsWith('KERNEL-UP')), grub.indexOf('KERNEL-DONE') + 1);
  const { init, memory } = loadLikeGrub({ kernel: new Uint8Array(readFileSync(MBINFO_PATH)), kernelPath: '/boot/kernel.elf', cmdline: '-uart=io:0x3f8', modules: [{ data: APP, path: '/boot/app' }] });
  const ours = renderMbinfo(memory, init.eax!, readMbi1(memory, init.ebx!));

  it('prints the same lines except the documented differences', () => {
    expect(grubLines.length).toBeGreaterThan(10);
    const expected = grubLines
      .filter((l) => !l.startsWith('boot_device='))
      .map((l) => l.replace(/^(eax=\w+ flags=)(\w+)$/, (_, p, f) => p + (parseInt(f, 16) & ~GRUB_ONLY_V1_FLAGS).toString(16).padStart(8, '0')))
      .map((l) => (l.startsWith('boot_loader_name=') ? 'boot_loader_name=Domus' : l));
    expect(ours).toEqual(expected);
  });

  it('matches the facts the spec names: command line, page-aligned module, six mmap entries', () => {
    expect(ours).toContain('cmdline=-uart=io:0x3f8');
    expect(ours).toContain('mods_count=00000001 mod0.start=00105000 mod0.end=00105021 mod0.string=');
    expect(ours).toContain('mmap_length=00000090');
    expect(ours).toContain('mem_lower=0000027f mem_upper=0001fb80');
  });
});

/** Loads a probe build the way grub-reference.sh booted it. */
function loadProbe(build: string) {
  const file = build.endsWith('aout') ? `mbdump-${build}.bin` : `mbdump-${build}.elf`;
  const kernel = fixture(file);
  const r = loadLikeGrub({
    kernel, kernelPath: `/boot/${file}`, cmdline: '-uart=io:0x3f8 second=arg',
    protocol: build.startsWith('v2') ? 'multiboot2' : 'multiboot1',
    modules: [{ data: APP, path: '/boot/app', args: 'first module args' }, { data: APP2, path: '/boot/app2' }],
  });
  return { ...r, kernel };
}

describe.each(BUILDS)('the mbdump probe (%s): registers and boot information against GRUB 2.06', (build) => {
  const grub: ProbeOutput = parseProbeOutput(readFileSync(join(FIX, `grub-mbdump-${build}.serial.txt`), 'latin1'));
  const { init, memory, kernel } = loadProbe(build);

  it('leaves the same registers, segments and descriptor tables', () => {
    expect(grub.done).toBe(true);
    for (const r of ['eax', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp', 'eflags', 'cr0'] as const) expect(init[r], r).toBe(grub.regs[r]);
    for (const s of ['cs', 'ds', 'es', 'fs', 'gs', 'ss'] as const) expect(init[s]?.selector, s).toBe(grub.regs[s]);
    expect(init.idtr).toEqual(grub.idtr);
    expect(init.gdtr?.base).toBe(grub.gdtr.base);
    expect([init.gdtr?.limit, grub.gdtr.limit]).toEqual([0x1f, 0x20]);
    const ACCESSED = 0x01;
    const unaccessed = (gdt: Uint8Array) => gdt.map((b, i) => (i % 8 === 5 ? b & ~ACCESSED : b));
    expect(unaccessed(memory.read(init.gdtr!.base, 32))).toEqual(unaccessed(grub.memory.read(grub.gdtr.base, 32)));
  });

  it('enters at the kernel entry point GRUB jumped to', () => {
    const v = new DataView(kernel.buffer, kernel.byteOffset);
    if (build.endsWith('aout')) {
      // The entry is the v1 header's entry_addr, or the v2 entry address tag.
      expect(init.eip).toBe(build.startsWith('v1') ? v.getUint32(28, true) : v.getUint32(0x58, true));
    } else {
      expect(init.eip).toBe(Number(build.endsWith('elf64') ? v.getBigUint64(24, true) : v.getUint32(24, true)));
    }
  });

  it('places modules and copied ELF sections at GRUB\'s addresses with the same bytes', () => {
    const heads = grub.dumps.filter((d) => d.name === 'head');
    expect(heads.length).toBeGreaterThanOrEqual(2);
    for (const d of heads) expect(memory.read(d.addr, d.len), `bytes at 0x${d.addr.toString(16)}`).toEqual(grub.memory.read(d.addr, d.len));
  });

  if (build.startsWith('v1')) {
    it('builds the same multiboot_info (v1)', () => {
      const ours = readMbi1(memory, init.ebx!);
      const theirs = readMbi1(grub.memory, grub.regs.ebx);
      expect(init.ebx).toBe(grub.regs.ebx);
      expect(ours.flags).toBe(theirs.flags & ~GRUB_ONLY_V1_FLAGS);
      expect([ours.memLower, ours.memUpper]).toEqual([theirs.memLower, theirs.memUpper]);
      expect([ours.cmdline, ours.cmdlineAddr]).toEqual([theirs.cmdline, theirs.cmdlineAddr]);
      expect(ours.loaderNameAddr).toBe(theirs.loaderNameAddr);
      expect(ours.loaderName).toBe('Domus');
      expect(ours.mods.map((m) => [m.start, m.end, m.string])).toEqual(theirs.mods.map((m) => [m.start, m.end, m.string]));
      expect(ours.mods.map((m) => m.reserved)).toEqual([0, 0]);
      expect(ours.mmap).toEqual(theirs.mmap);
      const padded = (name: string | undefined) => Math.ceil(((name ?? '').length + 1) / 4) * 4;
      const shift = GRUB_APM_BLOCK + padded(theirs.loaderName) - padded(ours.loaderName);
      for (const [a, b] of [[ours.modsAddr, theirs.modsAddr], [ours.mmapAddr, theirs.mmapAddr]]) expect(a).toBe(b - shift);
      expect(ours.elf.num).toBe(theirs.elf.num);
      if (theirs.elf.num > 0) {
        expect([ours.elf.size, ours.elf.shndx, ours.elf.addr]).toEqual([theirs.elf.size, theirs.elf.shndx, theirs.elf.addr - shift]);
        const bytes = theirs.elf.num * theirs.elf.size;
        expect(memory.read(ours.elf.addr, bytes)).toEqual(grub.memory.read(theirs.elf.addr, bytes));
      }
    });
  } else {
    it('builds the same tags (v2)', () => {
      const ours = readMbi2(memory, init.ebx!);
      const theirs = readMbi2(grub.memory, grub.regs.ebx);
      expect(ours.tags.map((t) => t.type)).toEqual(theirs.tags.map((t) => t.type).filter((t) => !GRUB_ONLY_V2_TAGS.has(t)));
      const common = theirs.tags.filter((t) => !GRUB_ONLY_V2_TAGS.has(t.type));
      common.forEach((t, i) => {
        if (t.type === 2) expect(String.fromCharCode(...ours.tags[i].payload)).toBe('Domus\0');
        else expect(ours.tags[i].payload, `tag ${t.type}`).toEqual(t.payload);
      });
      expect(ours.reserved).toBe(theirs.reserved);
      // Same address, or GRUB's is ours rounded up to its 16-byte heap cells.
      const ebx = init.ebx!;
      expect([ebx, Math.ceil(ebx / 16) * 16]).toContain(grub.regs.ebx);
    });
  }
});

const TOOLS = ['grub-mkrescue', 'xorriso', 'qemu-system-i386', 'grub-file'];
const missing = TOOLS.filter((t) => {
  try {
    execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' });
    return false;
  } catch {
    return true;
  }
});
if (missing.length > 0) console.warn(`skipping the live GRUB reference checks: ${missing.join(', ')} not installed`);

describe('live checks against the installed GRUB', () => {
  it.skipIf(missing.length > 0)('GRUB still prints what the committed fixtures say (mbinfo and the v2 probe)', () => {
    const out = mkdtempSync(join(tmpdir(), 'domus-grub-ref-'));
    try {
      execFileSync(join(FIX, 'grub-reference.sh'), [out], { env: { ...process.env, BUILDS: 'v2' }, stdio: 'ignore', timeout: 120_000 });
      expect(readFileSync(join(out, 'grub-mbinfo.serial.txt'))).toEqual(readFileSync(join(FIX, 'grub-mbinfo.serial.txt')));
      for (const build of ['v2']) {
        const live = parseProbeOutput(readFileSync(join(out, `grub-mbdump-${build}.serial.txt`), 'latin1'));
        const saved = parseProbeOutput(readFileSync(join(FIX, `grub-mbdump-${build}.serial.txt`), 'latin1'));
        expect(live.regs).toEqual(saved.regs);
        expect(live.dumps).toEqual(saved.dumps);
        for (const d of live.dumps) {
          expect(live.memory.read(d.addr, d.len), `${build} ${d.name}`).toEqual(saved.memory.read(d.addr, d.len));
        }
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);

  it.skipIf(missing.length > 0)('isMultiboot answers like grub-file --is-x86-multiboot / --is-x86-multiboot2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'domus-grub-file-'));
    try {
      const cases: Record<string, Uint8Array> = {
        'mbinfo.elf': new Uint8Array(readFileSync(MBINFO_PATH)),
        'v2.elf': fixture('mbdump-v2.elf'),
        'v1-aout.bin': fixture('mbdump-v1-aout.bin'),
        'notes64.elf': fixture('notes64.elf'),
        'short.bin': mb1Header(0),
        'v1-last.bin': concat([new Uint8Array(8180), mb1Header(0)]),
        'v1-too-far.bin': concat([new Uint8Array(8184), mb1Header(0)]),
        'v1-misaligned.bin': concat([new Uint8Array(2), mb1Header(0), new Uint8Array(40)]),
        'v2-other-arch.bin': concat([mb2Header([], 4), new Uint8Array(40)]),
        'v2-at-4.bin': concat([new Uint8Array(4), mb2Header([]), new Uint8Array(40)]),
        'v2-last.bin': concat([new Uint8Array(32752), mb2Header([]).subarray(0, 16)]),
        'both.bin': concat([mb1Header(3), new Uint8Array(4), mb2Header([]), new Uint8Array(16)]),
      };
      for (const [name, bytes] of Object.entries(cases)) {
        const file = join(dir, name);
        writeFileSync(file, bytes);
        const ask = (flag: string) => {
          try {
            execFileSync('grub-file', [flag, file], { stdio: 'ignore' });
            return true;
          } catch {
            return false;
          }
        };
        expect(isMultiboot(bytes), name).toEqual({ multiboot1: ask('--is-x86-multiboot'), multiboot2: ask('--is-x86-multiboot2') });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The Linux loader on Debian's real 32-bit kernels, when the test image recipe
 * (scripts/linux-image/build.mjs) has downloaded them into its cache. Skips with the reason when
 * the cache is empty: run `node scripts/linux-image/build.mjs` once (npm run test:slow does).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildE820Map, E820_ACPI } from '../../../src-engine/boot/e820';
import { isLinuxBzImage, loadLinuxKernel, parseLinuxSetupHeader } from '../../../src-engine/boot/linux';
import { isMultiboot } from '../../../src-engine/boot/multiboot';
import { FlatGuestMemory } from '../../support/flat-guest-memory';

const MiB = 1024 * 1024;
const CACHE = process.env.DOMUS_CACHE_DIR ? path.join(process.env.DOMUS_CACHE_DIR, 'linux-image') : path.join(homedir(), '.cache', 'domus', 'linux-image');
const MANIFEST = path.join(CACHE, 'manifest.json');

interface Manifest {
  kernels: Record<string, { package: string; version: string; vmlinuz: string }>;
}

function readManifest(): Manifest | undefined {
  if (!existsSync(MANIFEST)) return undefined;
  const m = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Manifest;
  return Object.values(m.kernels).every((k) => existsSync(k.vmlinuz)) && existsSync(path.join(CACHE, 'initrd.gz')) ? m : undefined;
}

const manifest = readManifest();
if (!manifest) console.warn(`The Debian kernels are not in ${CACHE}: skipping the real-kernel loader tests (run node scripts/linux-image/build.mjs to fetch them).`);
const flavours = manifest ? Object.entries(manifest.kernels) : [];

describe.skipIf(!manifest)('loadLinuxKernel on Debian bookworm\'s i386 kernels', () => {
  const initrd = manifest ? new Uint8Array(readFileSync(path.join(CACHE, 'initrd.gz'))) : new Uint8Array(0);

  it.each(flavours)('%s: a relocatable protocol 2.15 bzImage, not multiboot, not 64-bit', (flavour, k) => {
    const bytes = new Uint8Array(readFileSync(k.vmlinuz));
    expect(isLinuxBzImage(bytes)).toBe(true);
    expect(isMultiboot(bytes)).toEqual({ multiboot1: false, multiboot2: false });
    const h = parseLinuxSetupHeader(bytes, k.vmlinuz);
    expect(h.versionText).toBe('2.15');
    expect(h.relocatable).toBe(true);
    expect(h.xloadflags & 1).toBe(0);
    expect(h.kernelVersion).toMatch(new RegExp(`^6\\.1\\.0-\\d+-${flavour} \\(debian-kernel@lists\\.debian\\.org\\)`));
    expect(h.cmdlineSize).toBe(2047);
    // Debian's i386 configs: CONFIG_PHYSICAL_START = CONFIG_PHYSICAL_ALIGN = 16 MiB.
    expect(h.prefAddress).toBe(0x1000000);
    expect(h.kernelAlignment).toBe(0x1000000);
    expect(h.declaredSize).toBeLessThanOrEqual(h.protectedModeSize);
    expect(h.initSize).toBeGreaterThan(h.protectedModeSize);
  });

  it.each(flavours)('%s: loads in 256 MiB with the test initramfs, beside ACPI tables at the top of RAM', (_flavour, k) => {
    const bytes = new Uint8Array(readFileSync(k.vmlinuz));
    const memory = new FlatGuestMemory(256 * MiB);
    const acpi = { base: 256 * MiB - 0x20000, length: 0x20000, type: E820_ACPI };
    const cmdline = 'console=ttyS0 panic=-1';
    const r = loadLinuxKernel({ kernel: bytes, kernelPath: k.vmlinuz, initrd, initrdPath: 'initrd.gz', cmdline, memory, extraReserved: [acpi] });
    const h = r.header;
    expect(r.init).toMatchObject({ eip: 0x100000, esi: 0x10000, ebx: 0, edi: 0, ebp: 0, eflags: 2, cr0: 0x11 });
    expect(r.summary).toMatchObject({ kernelStart: 0x100000, kernelEnd: 0x100000 + bytes.length - h.protectedModeOffset, runtimeStart: 0x1000000, runtimeEnd: 0x1000000 + h.initSize! });
    // The initrd ends right below the ACPI tables, page-aligned.
    const start = r.summary.initrd!.start;
    expect(start % 0x1000).toBe(0);
    expect(start + Math.ceil(initrd.length / 0x1000) * 0x1000).toBe(acpi.base);
    expect(memory.bytes.subarray(start, start + 2)).toEqual(new Uint8Array([0x1f, 0x8b])); // gzip magic
    // The protected-mode code as loaded starts with the file's bytes after the setup code.
    expect(memory.bytes.subarray(0x100000, 0x100040)).toEqual(bytes.subarray(h.protectedModeOffset, h.protectedModeOffset + 0x40));
    const zp = new DataView(memory.bytes.buffer, r.summary.zeroPage, 4096);
    expect(zp.getUint32(0x202, true)).toBe(0x53726448); // "HdrS" copied
    expect(zp.getUint32(0x218, true)).toBe(start);
    expect(zp.getUint32(0x21c, true)).toBe(initrd.length);
    expect(zp.getUint8(0x1e8)).toBe(buildE820Map({ ramSize: 256 * MiB, extraReserved: [acpi] }).length);
  });
});

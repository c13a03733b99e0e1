import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { putU32LE } from '../../../src-engine/iso/bytes';
import { detectMultiboot, findMultibootHeader } from '../../../src-engine/iso/multiboot-check';
import { hasTool } from './fixtures';

const hasGrubFile = hasTool('grub-file', 'the grub-file --is-x86-multiboot differential test');

/** A file of `size` bytes with a multiboot v1 (3 words) or v2 (4 words) header at `off`. */
function withHeader(size: number, version: 1 | 2, off: number, breakChecksum = false): Uint8Array {
  const b = new Uint8Array(size);
  if (version === 1) {
    const magic = 0x1badb002;
    const flags = 3;
    putU32LE(b, off, magic);
    putU32LE(b, off + 4, flags);
    putU32LE(b, off + 8, (-(magic + flags) >>> 0) + (breakChecksum ? 1 : 0));
  } else {
    const magic = 0xe85250d6;
    const len = 24;
    putU32LE(b, off, magic);
    putU32LE(b, off + 4, 0);
    putU32LE(b, off + 8, len);
    putU32LE(b, off + 12, (-(magic + len) >>> 0) + (breakChecksum ? 1 : 0));
  }
  return b;
}

const cases: { label: string; bytes: Uint8Array }[] = [
  { label: 'v1 at 0', bytes: withHeader(100, 1, 0) },
  { label: 'v1 at 8180 (last place it fits)', bytes: withHeader(9000, 1, 8180) },
  { label: 'v1 at 8184 (crosses 8192)', bytes: withHeader(9000, 1, 8184) },
  { label: 'v1 misaligned', bytes: withHeader(200, 1, 6) },
  { label: 'v1 bad checksum', bytes: withHeader(200, 1, 8, true) },
  { label: 'v1 in a 31-byte file', bytes: withHeader(31, 1, 0) },
  { label: 'v1 in a 32-byte file', bytes: withHeader(32, 1, 20) },
  { label: 'v2 at 16', bytes: withHeader(200, 2, 16) },
  { label: 'v2 at 12 (4- but not 8-aligned)', bytes: withHeader(200, 2, 12) },
  { label: 'v2 at 32752 (last place it fits)', bytes: withHeader(33000, 2, 32752) },
  { label: 'v2 bad checksum', bytes: withHeader(200, 2, 0, true) },
  { label: 'nothing', bytes: new Uint8Array(5000) },
];

describe('multiboot header check (grub-file semantics)', () => {
  it('finds headers where GRUB does and nowhere else', () => {
    const v1 = (b: Uint8Array) => findMultibootHeader(b, 1)?.offset;
    const v2 = (b: Uint8Array) => findMultibootHeader(b, 2)?.offset;
    expect(cases.map((c) => [c.label, v1(c.bytes) ?? null, v2(c.bytes) ?? null])).toEqual([
      ['v1 at 0', 0, null],
      ['v1 at 8180 (last place it fits)', 8180, null],
      ['v1 at 8184 (crosses 8192)', null, null],
      ['v1 misaligned', null, null],
      ['v1 bad checksum', null, null],
      ['v1 in a 31-byte file', null, null],
      ['v1 in a 32-byte file', 20, null],
      ['v2 at 16', null, 16],
      ['v2 at 12 (4- but not 8-aligned)', null, null],
      ['v2 at 32752 (last place it fits)', null, 32752],
      ['v2 bad checksum', null, null],
      ['nothing', null, null],
    ]);
  });
  it('prefers v1 for a kernel with both headers, and accepts the mbinfo test kernel', () => {
    const both = withHeader(200, 1, 0);
    both.set(withHeader(200, 2, 64).subarray(64, 80), 64);
    expect(detectMultiboot(both)).toBe(1);
    expect(detectMultiboot(withHeader(200, 2, 64))).toBe(2);
    expect(detectMultiboot(new Uint8Array(readFileSync(path.join(__dirname, 'fixtures/mbinfo-kernel.elf'))))).toBe(1);
  });

  it.skipIf(!hasGrubFile)('agrees with grub-file --is-x86-multiboot and --is-x86-multiboot2', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'domus-mb-'));
    try {
      for (const c of cases) {
        const f = path.join(dir, 'k');
        writeFileSync(f, c.bytes);
        for (const v of [1, 2] as const) {
          let grub = true;
          try {
            execFileSync('grub-file', [v === 1 ? '--is-x86-multiboot' : '--is-x86-multiboot2', f], { stdio: 'ignore' });
          } catch {
            grub = false;
          }
          expect([c.label, v, findMultibootHeader(c.bytes, v) !== undefined]).toEqual([c.label, v, grub]);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

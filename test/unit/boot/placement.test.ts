import { describe, expect, it } from 'vitest';
import { BootError } from '../../../src-engine/base/errors';
import { buildE820Map } from '../../../src-engine/boot/e820';
import { BootPlacement, alignDown, alignUp } from '../../../src-engine/boot/placement';
import { FlatGuestMemory } from '../../support/flat-guest-memory';

const MiB = 1024 * 1024;
const planner = (ram = 16 * MiB, extra = [] as { base: number; length: number }[]) =>
  new BootPlacement(buildE820Map({ ramSize: ram, extraReserved: extra }), new FlatGuestMemory(ram), 'k.elf');
const low = { kind: 'module' as const, what: 'm', align: 4096, min: MiB, max: 0x1_0000_0000, preference: 'low' as const };

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BootError);
    return (err as BootError).message;
  }
  throw new Error('expected a BootError');
}

describe('boot placement', () => {
  it('says why a fixed block is refused', () => {
    const p = planner();
    expect(message(() => p.claim('kernel', 'kernel segment 0', 0x9f000, 0x2000))).toMatch(/^k\.elf: kernel segment 0 \[0x9f000, 0xa1000\) overlaps the low-memory hole \[0x9fc00, 0x100000\)/);
    expect(message(() => p.claim('kernel', 'kernel segment 0', 0xf8000, 0x100))).toMatch(/low-memory hole/);
    expect(message(() => p.claim('kernel', 'kernel segment 1', 15 * MiB, 2 * MiB))).toMatch(/is beyond the end of RAM at 0x1000000 \(16 MiB\); give the guest more memory/);
    expect(message(() => p.claim('kernel', 'k', 0xffff0000, 0x20000))).toMatch(/above 4 GiB/);
    const q = planner(16 * MiB, [{ base: 8 * MiB, length: MiB }]);
    expect(message(() => q.claim('kernel', 'k', 8 * MiB + 4096, 16))).toMatch(/overlaps reserved memory \[0x800000, 0x900000\) \(E820 type 2\)/);
    p.claim('kernel', 'kernel segment 0', MiB, 0x3000);
    expect(message(() => p.claim('kernel', 'kernel segment 1', MiB + 0x2000, 0x3000))).toMatch(/kernel segment 1 \[0x102000, 0x105000\) overlaps kernel segment 0 \[0x100000, 0x103000\)/);
  });

  it('allocates first-fit from the bottom with alignment, skipping placed blocks', () => {
    const p = planner();
    p.claim('kernel', 'k', MiB, 0x1510);
    expect(p.allocate({ ...low, kind: 'elf-section', length: 0x640, align: 4 })?.start).toBe(0x101510);
    expect(p.allocate({ ...low, length: 0x21 })?.start).toBe(0x102000);
    expect(p.allocate({ ...low, length: 5001 })?.start).toBe(0x103000);
    expect(p.allocate({ ...low, align: 8, length: 0x100 })?.start).toBe(0x101b50); // the gap below the first module
    expect(p.allocate({ ...low, align: 8, length: 0x400 })?.start).toBe(0x102028); // too big for that gap: after the 0x21-byte module
    expect(p.regions.map((r) => r.start)).toEqual([0x100000, 0x101510, 0x101b50, 0x102000, 0x102028, 0x103000]);
  });

  it('allocates from the top with preference high, and within [min, max]', () => {
    const p = planner();
    expect(p.allocate({ ...low, length: 0x1000, preference: 'high' })?.start).toBe(16 * MiB - 0x1000);
    expect(p.allocate({ ...low, length: 0x1000, preference: 'high' })?.start).toBe(16 * MiB - 0x2000);
    expect(p.allocate({ ...low, length: 0x1000, min: 4 * MiB, max: 5 * MiB, preference: 'high' })?.start).toBe(5 * MiB - 0x1000);
    expect(p.allocate({ ...low, length: 0x1000, min: 0x10000, max: 0xa0000, align: 4 })?.start).toBe(0x10000);
    expect(p.allocate({ ...low, length: 0xa0000, min: 0x10000, max: 0xa0000 })).toBeUndefined(); // the EBDA is not RAM
    expect(p.allocate({ ...low, length: 16 * MiB })).toBeUndefined();
  });

  it('reports the largest free block for messages', () => {
    const p = planner();
    p.claim('kernel', 'k', 2 * MiB, MiB);
    expect(p.largestFree(MiB, 0x1_0000_0000)).toBe(13 * MiB);
    expect(p.largestFree(MiB, 3 * MiB)).toBe(MiB);
  });

  it('refuses blocks the memory map calls RAM but the guest memory lacks', () => {
    const p = new BootPlacement(buildE820Map({ ramSize: 64 * MiB }), new FlatGuestMemory(32 * MiB), 'k.elf');
    expect(message(() => p.claim('kernel', 'k', 40 * MiB, 4096))).toMatch(/the memory map and the RAM size disagree/);
  });

  it('rounds to any alignment', () => {
    expect(alignUp(0x101efc, 4096)).toBe(0x102000);
    expect(alignUp(13, 1)).toBe(13);
    expect(alignUp(13, 12)).toBe(24);
    expect(alignDown(0x1fff, 4096)).toBe(0x1000);
  });
});

import { describe, expect, it } from 'vitest';
import { MachineMemory } from '../../../src-engine/hv/memory/machine-memory';
import { DomainMemory } from '../../../src-engine/hv/memory/domain-memory';

const MiB = 2 ** 20;

describe('DomainMemory', () => {
  it('gives each domain its own zeroed frames and takes them back on release', () => {
    const pool = new MachineMemory(4 * MiB);
    const a = new DomainMemory(pool, 'a', { ramBytes: MiB });
    a.write(0x1000, Uint8Array.of(1, 2, 3));
    a.release();
    const b = new DomainMemory(pool, 'b', { ramBytes: 4 * MiB }); // every frame, so a's too
    expect(b.read(0, b.ramSize).some((x) => x !== 0)).toBe(false);
    expect(pool.freeFrames).toBe(pool.totalFrames - b.currentPages);
  });

  it('refuses accesses outside RAM with the domain named', () => {
    const pool = new MachineMemory(MiB);
    const m = new DomainMemory(pool, 'dom-x', { ramBytes: 64 * 1024 });
    expect(() => m.read(64 * 1024 - 2, 4)).toThrow(/dom-x/);
    expect(m.isRam(0xfee00000, 4)).toBe(false);
  });

  it('aliases show the same bytes, are not counted, and are not freed twice', () => {
    const pool = new MachineMemory(MiB);
    const m = new DomainMemory(pool, 'rom', { ramBytes: 256 * 1024 });
    const free = pool.freeFrames;
    m.alias(0xffff0, 0x30, 16);
    expect(m.currentPages).toBe(64);
    m.write(0x30 * 4096 + 5, Uint8Array.of(0xab));
    expect(m.readU8(0xffff0005)).toBe(0xab);
    m.writeU8(0xffff1000, 0xcd);
    expect(m.readU8(0x31000)).toBe(0xcd);
    expect(m.isAlias(0xffff0)).toBe(true);
    expect(m.isAlias(0x30)).toBe(false);
    m.release();
    expect(pool.freeFrames).toBe(free + 64);
  });

  it('drops the aliases of a frame that is depopulated', () => {
    const pool = new MachineMemory(MiB);
    const m = new DomainMemory(pool, 'd', { ramBytes: 64 * 1024 });
    m.alias(0x100, 3, 1);
    m.depopulate(3);
    expect(m.isRam(0x100000, 1)).toBe(false);
    expect(m.isAlias(0x100)).toBe(false);
    m.release();
    expect(pool.freeFrames).toBe(pool.totalFrames);
  });

  it('refuses to alias over RAM or from a hole', () => {
    const pool = new MachineMemory(MiB);
    const m = new DomainMemory(pool, 'd', { ramBytes: 64 * 1024 });
    expect(() => m.alias(1, 2, 1)).toThrow(/Cannot show/);
    expect(() => m.alias(0x200, 0x100, 1)).toThrow(/Cannot show/);
  });
});

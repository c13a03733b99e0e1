// The PVH loader (src-engine/boot/pvh.ts): the PHYS32_ENTRY note from PT_NOTE or, without one,
// from SHT_NOTE sections, in ELF32 and ELF64 files; segments at their physical addresses; the
// module and hvm_start_info block after the image; the start state; and the refusals.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BootError } from '../../../src-engine/base/errors';
import { isPvhKernel, loadPvhKernel, pvhEntry, pvhMemoryMap } from '../../../src-engine/boot/pvh';
import { parseElf } from '../../../src-engine/boot/elf';
import { MachineMemory } from '../../../src-engine/hv/memory/machine-memory';
import { DomainMemory } from '../../../src-engine/hv/memory/domain-memory';

const BUILD = fileURLToPath(new URL('../../guests-pvh/build/', import.meta.url));
const MULTIBOOT = fileURLToPath(new URL('../../guests/build/alu.elf', import.meta.url));
const RAM = 8 * 2 ** 20;

function memory(): DomainMemory {
  return new DomainMemory(new MachineMemory(16 * 2 ** 20), 'test', { ramBytes: RAM });
}

describe('PVH loader', () => {
  it('finds the entry in PT_NOTE, in SHT_NOTE sections without PT_NOTE, and in an ELF64 container', () => {
    for (const f of ['basic.elf', 'basic-secnote.elf', 'basic64.elf']) {
      const bytes = readFileSync(`${BUILD}${f}`);
      const elf = parseElf(bytes, f);
      expect(pvhEntry(elf), f).toBe(0x100000);
      expect(isPvhKernel(bytes)).toBe(true);
    }
    expect(parseElf(readFileSync(`${BUILD}basic-secnote.elf`), 'x').programHeaders.some((p) => p.type === 4)).toBe(false);
    expect(isPvhKernel(readFileSync(MULTIBOOT))).toBe(false);
  });

  it('loads the image, the module and hvm_start_info, and sets the PVH start state', () => {
    const mem = memory();
    const kernel = readFileSync(`${BUILD}basic.elf`);
    const r = loadPvhKernel({
      kernel, kernelPath: 'basic.elf', cmdline: 'console=hvc0 x=1', memory: mem,
      modules: [{ data: new TextEncoder().encode('initrd bytes'), path: 'initrd', cmdline: 'mod-args' }],
    });
    const s = r.summary;
    expect(s.entry).toBe(0x100000);
    expect(mem.read(0x100000, 16)).toEqual(new Uint8Array(kernel.subarray(0x1000, 0x1010)));
    const mod = s.modules[0];
    expect(mod.paddr % 4096).toBe(0);
    expect(mod.paddr).toBeGreaterThanOrEqual(s.kernelEnd);
    expect(new TextDecoder().decode(mem.read(mod.paddr, 12))).toBe('initrd bytes');
    expect(s.startInfo % 4096).toBe(0);
    expect(s.startInfo).toBeGreaterThan(mod.paddr);
    // struct hvm_start_info
    const si = s.startInfo;
    expect(mem.readU32(si)).toBe(0x336ec578);
    expect(mem.readU32(si + 4)).toBe(1);
    expect(mem.readU32(si + 12)).toBe(1);
    const cstr = (addr: number) => {
      const b: number[] = [];
      for (let a = addr; mem.readU8(a) !== 0; a++) b.push(mem.readU8(a));
      return String.fromCharCode(...b);
    };
    expect(cstr(mem.readU32(si + 24))).toBe('console=hvc0 x=1');
    const modlist = mem.readU32(si + 16);
    expect(mem.readU32(modlist)).toBe(mod.paddr);
    expect(mem.readU32(modlist + 8)).toBe(12);
    expect(cstr(mem.readU32(modlist + 16))).toBe('mod-args');
    const memmap = mem.readU32(si + 40);
    expect(mem.readU32(si + 48)).toBe(2);
    expect([mem.readU32(memmap), mem.readU32(memmap + 8), mem.readU32(memmap + 16)]).toEqual([0, RAM, 1]);
    expect([mem.readU32(memmap + 24), mem.readU32(memmap + 32), mem.readU32(memmap + 40)]).toEqual([0xfeff8000, 0x8000, 2]);
    // Start state (docs/misc/pvh.pandoc).
    const init = r.init;
    expect(init).toMatchObject({ eip: 0x100000, ebx: si, eflags: 2, cr0: 0x11, cr4: 0 });
    expect(init.cs).toMatchObject({ base: 0, limit: -1, access: 0xc09b });
    expect(init.ss).toMatchObject({ base: 0, limit: -1, access: 0xc093 });
    expect(init.tr).toMatchObject({ base: 0, limit: 0x67, access: 0x8b });
  });

  it('reports a missing note, a non-ELF file and an image outside RAM as BootErrors naming the file', () => {
    const mem = memory();
    expect(() => loadPvhKernel({ kernel: readFileSync(MULTIBOOT), kernelPath: 'alu.elf', memory: mem })).toThrow(/alu\.elf: no XEN_ELFNOTE_PHYS32_ENTRY/);
    expect(() => loadPvhKernel({ kernel: new Uint8Array(64), kernelPath: 'zero.bin', memory: mem })).toThrow(BootError);
    const small = new DomainMemory(new MachineMemory(4 * 2 ** 20), 'small', { ramBytes: 1024 * 1024 });
    expect(() => loadPvhKernel({ kernel: readFileSync(`${BUILD}basic.elf`), kernelPath: 'basic.elf', memory: small, memoryMap: pvhMemoryMap(small.ramSize) })).toThrow(
      /basic\.elf: kernel segment 0 .* is beyond the end of RAM/,
    );
  });
});

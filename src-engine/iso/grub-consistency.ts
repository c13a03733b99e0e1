/**
 * Whether a GRUB i386-pc directory hangs together on its own: used to accept a user-chosen GRUB
 * directory that is not the bundled build (docs/iso-builder.md "Other GRUB directories"). The
 * checks are the ones that can be made from the files themselves: the images the assembler reads
 * have the right shape, kernel.img is a GRUB i386-pc kernel, moddep.lst names only modules that are
 * present, and every module is an i386 relocatable ELF whose .modname matches its file name and
 * which moddep.lst lists.
 */
import { getU16LE } from './bytes';
import { EM_386, ET_REL, parseElf32 } from './elf32';
import { CDBOOT_BYTES, DECOMPRESSOR_LOAD_ADDR, DISKBOOT_BYTES, KERNEL_LINK_ADDR, layoutKernel } from './grub-core-image';
import type { GrubFiles } from './grub-files';
import { parseModDeps, resolveModules } from './grub-moddep';
import { MBR_CODE_BYTES } from './hybrid-mbr';
import { RESCUE_CORE_MODULES } from './grub-rescue';

/** Modules a bootable rescue ISO needs besides the embedded ones (normal loads grub.cfg). */
export const REQUIRED_MODULES = [...RESCUE_CORE_MODULES, 'normal'] as const;
/** Largest lzma_decompress.img that fits between 0x8200 and the kernel at 0x9000. */
const DECOMPRESSOR_MAX_BYTES = KERNEL_LINK_ADDR - DECOMPRESSOR_LOAD_ADDR;
/** diskboot.img's load segment word (0x0820) at offset 0x1FE. */
const DISKBOOT_SEGMENT_OFFSET = 0x1fe;
const DISKBOOT_SEGMENT = 0x0820;
/** moddep.lst has a "kernel:" line for kernel.img, which is not a module file. */
const MODDEP_KERNEL = 'kernel';

/** Problems found, each naming its file; empty when the directory is usable. */
export function grubConsistencyProblems(files: GrubFiles): string[] {
  const problems: string[] = [];
  const need = (name: string): Uint8Array | undefined => {
    const f = files.get(name);
    if (f === undefined) problems.push(`${name} is missing`);
    return f;
  };
  const kernel = need('kernel.img');
  if (kernel) {
    try {
      layoutKernel(kernel);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  const cdboot = need('cdboot.img');
  if (cdboot && cdboot.length !== CDBOOT_BYTES) problems.push(`cdboot.img is ${cdboot.length} bytes, not ${CDBOOT_BYTES}`);
  const diskboot = need('diskboot.img');
  if (diskboot && (diskboot.length !== DISKBOOT_BYTES || getU16LE(diskboot, DISKBOOT_SEGMENT_OFFSET) !== DISKBOOT_SEGMENT)) {
    problems.push('diskboot.img is not a 512-byte GRUB diskboot image with load segment 0x0820');
  }
  const lzma = need('lzma_decompress.img');
  if (lzma && lzma.length > DECOMPRESSOR_MAX_BYTES) problems.push(`lzma_decompress.img is ${lzma.length} bytes, more than ${DECOMPRESSOR_MAX_BYTES}`);
  const hybrid = need('boot_hybrid.img');
  if (hybrid && hybrid.length < MBR_CODE_BYTES) problems.push(`boot_hybrid.img is only ${hybrid.length} bytes`);
  const moddep = need('moddep.lst');
  if (!moddep) return problems;
  let deps: Map<string, string[]>;
  try {
    deps = parseModDeps(new TextDecoder().decode(moddep));
  } catch (err) {
    problems.push((err as Error).message);
    return problems;
  }
  const named = new Set<string>();
  for (const [m, list] of deps) {
    if (m !== MODDEP_KERNEL) named.add(m);
    for (const d of list) named.add(d);
  }
  for (const m of [...named].sort()) {
    if (!files.has(`${m}.mod`)) problems.push(`moddep.lst names module ${m}, but ${m}.mod is missing`);
  }
  for (const [name, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!name.endsWith('.mod')) continue;
    const mod = name.slice(0, -4);
    const elf = parseElf32(bytes);
    if (typeof elf === 'string' || elf.type !== ET_REL || elf.machine !== EM_386) {
      problems.push(`${name} is not an i386 GRUB module (${typeof elf === 'string' ? elf : 'wrong ELF type or machine'})`);
      continue;
    }
    const modname = elf.sections.find((s) => s.name === '.modname');
    if (modname) {
      const text = String.fromCharCode(...bytes.subarray(modname.offset, modname.offset + modname.size)).replace(/\0+$/, '');
      if (text !== mod) problems.push(`${name} calls itself "${text}" in its .modname section`);
    }
    if (!deps.has(mod)) problems.push(`${name} is not listed in moddep.lst (modules from another GRUB build?)`);
  }
  if (problems.length === 0) {
    for (const m of REQUIRED_MODULES) if (!files.has(`${m}.mod`)) problems.push(`${m}.mod is missing`);
    try {
      resolveModules(deps, REQUIRED_MODULES);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return problems;
}

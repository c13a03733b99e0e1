/**
 * Assembles GRUB's i386-pc El Torito core image (eltorito.img) the way
 * `grub-mkimage -O i386-pc-eltorito` does (spec/grub-iso-and-bios.md §3):
 *
 *   eltorito.img = cdboot.img ‖ diskboot.img (blocklist length set)
 *                ‖ lzma_decompress.img (sizes set) ‖ raw LZMA1 of (kernel ‖ module info ‖ objects)
 *
 * The objects are the embedded modules (dependencies resolved from moddep.lst), the embedded
 * config (load.cfg) and the prefix. The compressed bytes differ from grub-mkimage's (another
 * encoder); what they decompress to is the same.
 */
import { IsoError } from '../base/errors';
import { alignUp, DISK_SECTOR_SIZE, getU16LE, putU16LE, putU32LE, utf8Bytes } from './bytes';
import { EM_386, ET_EXEC, parseElf32, SHF_ALLOC, SHT_NOBITS, SHT_PROGBITS } from './elf32';
import { type GrubFiles, grubFile, grubText } from './grub-files';
import { parseModDeps, resolveModules } from './grub-moddep';
import { lzmaRawCompress } from './lzma-raw';

/** GRUB_KERNEL_I386_PC_LINK_ADDR: kernel.img is linked (and copied back) to 0x9000. */
export const KERNEL_LINK_ADDR = 0x9000;
/** Where the decompressor runs (0x8200); it must end below the kernel's link address. */
export const DECOMPRESSOR_LOAD_ADDR = 0x8200;
/** GRUB_MODULE_MAGIC: "mimg" little-endian, first word of the module info header. */
export const MODULE_MAGIC = 0x676d696d;
/** sizeof(struct grub_module_info32): magic, offset, size. */
export const MODULE_INFO_BYTES = 12;
/** sizeof(struct grub_module_header): type, size. */
export const MODULE_HEADER_BYTES = 8;
/** struct grub_module_header type: an ELF module. */
export const OBJ_TYPE_ELF = 0;
/** struct grub_module_header type: the embedded config (grub-mkimage -c). */
export const OBJ_TYPE_CONFIG = 2;
/** struct grub_module_header type: the prefix (grub-mkimage -p). */
export const OBJ_TYPE_PREFIX = 3;
/** ALIGN_ADDR for a 32-bit target: objects are padded to 4 bytes. */
const OBJECT_ALIGN = 4;
/** GRUB_DECOMPRESSOR_I386_PC_COMPRESSED_SIZE: offset of the compressed size in lzma_decompress.img. */
export const DECOMPRESSOR_COMPRESSED_SIZE = 0x08;
/** GRUB_DECOMPRESSOR_I386_PC_UNCOMPRESSED_SIZE: offset of the uncompressed size. */
export const DECOMPRESSOR_UNCOMPRESSED_SIZE = 0x0c;
/** cdboot.img is one 2048-byte CD sector. */
export const CDBOOT_BYTES = 2048;
/** diskboot.img is one 512-byte disk sector. */
export const DISKBOOT_BYTES = 512;
/** Offset in diskboot.img of the first blocklist's u16 length (in 512-byte sectors). */
export const DISKBOOT_BLOCKLIST_LEN = 0x1fc;
/** Offset in diskboot.img of the first blocklist's u16 load segment. */
const DISKBOOT_BLOCKLIST_SEGMENT = 0x1fe;
/** GRUB_BOOT_I386_PC_KERNEL_SEG + 512/16: the segment diskboot loads the core to (0x8200). */
const DISKBOOT_SEGMENT = 0x0820;
/** grub-mkimage's limits for i386-pc: link address + core size must stay below 0x78000. */
const CORE_END_LIMIT = 0x78000;
/** The blocklist length is 16 bits of 512-byte sectors. */
const CORE_MAX_SECTORS = 0xffff;
/** kernel + bss + link address must stay below 0x68000. */
const KERNEL_END_LIMIT = 0x68000;

/** What goes into the core image besides the kernel. */
export interface CoreImageOptions {
  /** Modules to embed (dependencies are added), e.g. ["biosdisk", "iso9660"]. */
  modules: readonly string[];
  /** The prefix GRUB loads normal.mod and grub.cfg from, e.g. "/boot/grub". */
  prefix: string;
  /** Embedded config text (grub-mkimage -c), or none. */
  config?: string;
  /**
   * Compresses the payload into a raw LZMA1 stream (lc=3 lp=0 pb=2); default lzmaRawCompress.
   * The node layer passes a caching wrapper: the payload, hence the stream, is the same for every
   * build with the same GRUB files and options.
   */
  compress?: (payload: Uint8Array) => Uint8Array;
}

/** The assembled image and what it contains. */
export interface CoreImage {
  /** cdboot ‖ diskboot ‖ decompressor ‖ LZMA stream: the file /boot/grub/i386-pc/eltorito.img. */
  eltorito: Uint8Array;
  /** The uncompressed payload (kernel ‖ module info ‖ objects). */
  payload: Uint8Array;
  /** Bytes of the kernel part of the payload. */
  kernelSize: number;
  /** Embedded modules in order. */
  modules: string[];
  /** Length of the LZMA stream. */
  compressedSize: number;
}

/** Lays kernel.img's allocated sections out from the link address, as grub-mkimage does for i386-pc. */
export function layoutKernel(kernelImg: Uint8Array): { image: Uint8Array; kernelSize: number; bssSize: number } {
  const elf = parseElf32(kernelImg);
  const bad = (why: string): never => {
    throw new IsoError('iso.bad-grub-file', `kernel.img is not a GRUB i386-pc kernel: ${why}.`, 'kernel.img');
  };
  if (typeof elf === 'string') return bad(elf);
  if (elf.type !== ET_EXEC || elf.machine !== EM_386) bad('not an i386 executable');
  if (elf.entry !== KERNEL_LINK_ADDR) bad(`entry point 0x${elf.entry.toString(16)} instead of 0x9000`);
  let kernelSize = 0;
  let memEnd = 0;
  const progbits = elf.sections.filter((s) => (s.flags & SHF_ALLOC) !== 0 && s.type === SHT_PROGBITS && s.size > 0);
  for (const s of elf.sections) {
    if ((s.flags & SHF_ALLOC) === 0 || s.size === 0) continue;
    if (s.addr < KERNEL_LINK_ADDR) bad(`section ${s.name} lies below the link address`);
    const end = s.addr - KERNEL_LINK_ADDR + s.size;
    if (s.type === SHT_PROGBITS) kernelSize = Math.max(kernelSize, end);
    if (s.type === SHT_PROGBITS || s.type === SHT_NOBITS) memEnd = Math.max(memEnd, end);
  }
  if (progbits.length === 0) bad('no loadable sections');
  const image = new Uint8Array(kernelSize);
  for (const s of progbits) image.set(kernelImg.subarray(s.offset, s.offset + s.size), s.addr - KERNEL_LINK_ADDR);
  return { image, kernelSize, bssSize: memEnd - kernelSize };
}

/** One embedded object: header + data padded to 4 bytes. */
function objectBytes(type: number, data: Uint8Array): Uint8Array {
  const padded = alignUp(data.length, OBJECT_ALIGN);
  const out = new Uint8Array(MODULE_HEADER_BYTES + padded);
  putU32LE(out, 0, type);
  putU32LE(out, 4, out.length);
  out.set(data, MODULE_HEADER_BYTES);
  return out;
}

/** A NUL-terminated string object (config, prefix). */
function cString(text: string): Uint8Array {
  const b = utf8Bytes(text);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

/** Builds the uncompressed payload: kernel, module info header, modules, config, prefix. */
export function buildCorePayload(files: GrubFiles, opts: CoreImageOptions): { payload: Uint8Array; kernelSize: number; bssSize: number; modules: string[] } {
  const kernel = layoutKernel(grubFile(files, 'kernel.img'));
  const deps = parseModDeps(new TextDecoder().decode(grubFile(files, 'moddep.lst')));
  const modules = resolveModules(deps, opts.modules);
  const objects = modules.map((m) => objectBytes(OBJ_TYPE_ELF, grubFile(files, `${m}.mod`)));
  if (opts.config !== undefined) objects.push(objectBytes(OBJ_TYPE_CONFIG, cString(opts.config)));
  objects.push(objectBytes(OBJ_TYPE_PREFIX, cString(opts.prefix)));
  const totalModuleSize = MODULE_INFO_BYTES + objects.reduce((n, o) => n + o.length, 0);
  const payload = new Uint8Array(kernel.kernelSize + totalModuleSize);
  payload.set(kernel.image, 0);
  let off = kernel.kernelSize;
  putU32LE(payload, off, MODULE_MAGIC);
  putU32LE(payload, off + 4, MODULE_INFO_BYTES);
  putU32LE(payload, off + 8, totalModuleSize);
  off += MODULE_INFO_BYTES;
  for (const o of objects) {
    payload.set(o, off);
    off += o.length;
  }
  return { payload, kernelSize: kernel.kernelSize, bssSize: kernel.bssSize, modules };
}

/** Assembles eltorito.img from GRUB's i386-pc files. */
export function buildEltoritoImage(files: GrubFiles, opts: CoreImageOptions): CoreImage {
  const { payload, kernelSize, bssSize, modules } = buildCorePayload(files, opts);
  const stream = (opts.compress ?? lzmaRawCompress)(payload);
  const decompressor = grubFile(files, 'lzma_decompress.img').slice();
  if (decompressor.length > KERNEL_LINK_ADDR - DECOMPRESSOR_LOAD_ADDR) {
    throw new IsoError('iso.bad-grub-file', `lzma_decompress.img is ${decompressor.length} bytes; the decompressor must fit below 0x9000.`, 'lzma_decompress.img');
  }
  putU32LE(decompressor, DECOMPRESSOR_COMPRESSED_SIZE, stream.length);
  putU32LE(decompressor, DECOMPRESSOR_UNCOMPRESSED_SIZE, payload.length);
  const coreSize = decompressor.length + stream.length;
  if (KERNEL_LINK_ADDR + coreSize > CORE_END_LIMIT || coreSize > CORE_MAX_SECTORS * DISK_SECTOR_SIZE || kernelSize + bssSize + KERNEL_LINK_ADDR > KERNEL_END_LIMIT) {
    throw new IsoError(
      'iso.core-too-big',
      `The GRUB core image is too big (0x${(KERNEL_LINK_ADDR + coreSize).toString(16)} > 0x${CORE_END_LIMIT.toString(16)}); embed fewer modules.`,
    );
  }
  const cdboot = grubFile(files, 'cdboot.img');
  if (cdboot.length !== CDBOOT_BYTES) {
    throw new IsoError('iso.bad-grub-file', `cdboot.img is ${cdboot.length} bytes instead of ${CDBOOT_BYTES}.`, 'cdboot.img');
  }
  const diskboot = grubFile(files, 'diskboot.img').slice();
  if (diskboot.length !== DISKBOOT_BYTES || getU16LE(diskboot, DISKBOOT_BLOCKLIST_SEGMENT) !== DISKBOOT_SEGMENT) {
    throw new IsoError('iso.bad-grub-file', `diskboot.img must be ${DISKBOOT_BYTES} bytes with load segment 0x0820; this one is not.`, 'diskboot.img');
  }
  putU16LE(diskboot, DISKBOOT_BLOCKLIST_LEN, Math.ceil(coreSize / DISK_SECTOR_SIZE));
  const eltorito = new Uint8Array(CDBOOT_BYTES + DISKBOOT_BYTES + coreSize);
  eltorito.set(cdboot, 0);
  eltorito.set(diskboot, CDBOOT_BYTES);
  eltorito.set(decompressor, CDBOOT_BYTES + DISKBOOT_BYTES);
  eltorito.set(stream, CDBOOT_BYTES + DISKBOOT_BYTES + decompressor.length);
  return { eltorito, payload, kernelSize, modules, compressedSize: stream.length };
}

/** The embedded config grub-mkrescue writes for i386-pc: `insmod NAME` per line of partmap.lst. */
export function rescueLoadCfg(files: GrubFiles): string {
  const list = grubText(files, 'partmap.lst') ?? '';
  return list
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => `insmod ${l}\n`)
    .join('');
}

/**
 * The Linux/x86 bzImage setup header (Linux Documentation/arch/x86/boot.rst, "The Real-Mode
 * Kernel Header" and "Details of Header Fields"): where its fields are, which protocol version
 * brought each, and what a loader may conclude from them. Every offset is into the kernel file,
 * and the same offset in struct boot_params (the zero page), where the header is copied.
 *
 * What this module accepts (parseLinuxSetupHeader), checked in this order:
 * - a bzImage: boot_flag 0xAA55 at 0x1FE, "HdrS" at 0x202, protocol version >= 2.00 and
 *   loadflags.LOADED_HIGH (boot.rst: `is_bzImage = protocol >= 0x0200 && loadflags & 0x01`);
 *   a zImage (LOADED_HIGH clear) or a pre-2.00 kernel is "not a bzImage";
 * - protocol >= 2.03, as GRUB's `linux` command requires for the 32-bit boot protocol (older
 *   kernels predate it; cmd_line_ptr is 2.02, initrd_addr_max 2.03);
 * - setup_sects <= 64 (the real-mode code is at most 32 KiB; 0 means 4), the setup header ending
 *   (0x202 + the jump's offset byte at 0x201) before boot_params.edd_mbr_sig_buffer (0x290), and
 *   the file holding the real-mode code plus syssize * 16 bytes of protected-mode code.
 * Fields a version does not have take boot.rst's stated defaults: cmdline_size 255 before 2.06, not relocatable before 2.05, no pref_address or
 * init_size before 2.10, xloadflags 0 before 2.12.
 */
import { BootError } from '../base/errors';

/** Offsets of the setup header fields (struct setup_header, in the file and in the zero page). */
export const HDR = {
  setupSects: 0x1f1, rootFlags: 0x1f2, syssize: 0x1f4, vidMode: 0x1fa, rootDev: 0x1fc, bootFlag: 0x1fe,
  jump: 0x200, header: 0x202, version: 0x206, kernelVersion: 0x20e, typeOfLoader: 0x210, loadflags: 0x211,
  code32Start: 0x214, ramdiskImage: 0x218, ramdiskSize: 0x21c, heapEndPtr: 0x224, cmdLinePtr: 0x228,
  initrdAddrMax: 0x22c, kernelAlignment: 0x230, relocatableKernel: 0x234, minAlignment: 0x235,
  xloadflags: 0x236, cmdlineSize: 0x238, payloadOffset: 0x248, payloadLength: 0x24c, prefAddress: 0x258,
  initSize: 0x260,
} as const;

/** boot_flag: the boot sector signature, "the closest thing old Linux kernels have to a magic number". */
export const LINUX_BOOT_FLAG = 0xaa55;
/** header: "HdrS" read as a little-endian 32-bit word. */
export const LINUX_HEADER_MAGIC = 0x53726448;
/** loadflags bit 0 LOADED_HIGH: the protected-mode code is loaded at 0x100000 (a bzImage). */
export const LOADFLAG_LOADED_HIGH = 0x01;
/** loadflags bit 5 QUIET_FLAG: the loader asks for no early messages. */
export const LOADFLAG_QUIET = 0x20;
/** loadflags bit 7 CAN_USE_HEAP: heap_end_ptr is valid. */
export const LOADFLAG_CAN_USE_HEAP = 0x80;
/** xloadflags bit 0 XLF_KERNEL_64: an x86-64 kernel (it has the 64-bit entry at 0x200). */
export const XLF_KERNEL_64 = 0x01;
/** xloadflags bit 1 XLF_CAN_BE_LOADED_ABOVE_4G. */
export const XLF_CAN_BE_LOADED_ABOVE_4G = 0x02;
/** A sector of the kernel file: the boot sector and each setup sector are 512 bytes. */
export const LINUX_SECTOR = 512;
/** setup_sects = 0 means 4 (boot.rst note 1). */
const DEFAULT_SETUP_SECTS = 4;
/** The real-mode code is at most 32 KiB: 64 sectors (GRUB_LINUX_MAX_SETUP_SECTS). */
const MAX_SETUP_SECTS = 64;
/** Where the setup header ends at the latest: boot_params.edd_mbr_sig_buffer (zero-page.rst). */
const SETUP_HEADER_LIMIT = 0x290;
/** The lowest protocol the 32-bit boot protocol is used with (GRUB's `linux` command: 2.03). */
export const LINUX_MIN_PROTOCOL = 0x0203;
/** cmdline_size before protocol 2.06 (boot.rst "The Kernel Command Line"). */
const LEGACY_CMDLINE_SIZE = 255;
/** Where a bzImage's protected-mode code is loaded, and its default runtime address. */
export const BZIMAGE_LOAD_ADDRESS = 0x100000;
/** A paragraph: syssize counts 16-byte units. */
const PARAGRAPH = 16;
/** Bytes needed to read every field this module knows (through init_size). */
const HEADER_READ_END = HDR.initSize + 4;

/** The setup header of a bzImage, with version-dependent fields resolved to what boot.rst says. */
export interface LinuxSetupHeader {
  /** Protocol version as (major << 8) | minor, e.g. 0x020f. */
  readonly version: number;
  /** The same as text, e.g. "2.15". */
  readonly versionText: string;
  /** setup_sects with 0 read as 4. */
  readonly setupSects: number;
  /** File offset of the protected-mode code: (setup_sects + 1) * 512. */
  readonly protectedModeOffset: number;
  /** Bytes of protected-mode code in the file (everything after the real-mode code). */
  readonly protectedModeSize: number;
  /** syssize * 16: the protected-mode code size the kernel declares (2.04+; the low 16 bits before). */
  readonly declaredSize: number;
  /** One past the setup header's last byte: 0x202 + the byte at 0x201. */
  readonly headerEnd: number;
  readonly loadflags: number;
  readonly code32Start: number;
  /** The highest address the initrd may occupy (inclusive). */
  readonly initrdAddrMax: number;
  /** Longest command line, without its NUL. */
  readonly cmdlineSize: number;
  /** True if the kernel may run anywhere kernelAlignment allows (2.05+, a power-of-two alignment). */
  readonly relocatable: boolean;
  readonly kernelAlignment: number;
  /** log2 of the minimum alignment (2.10+), 0 if not given. */
  readonly minAlignment: number;
  readonly xloadflags: number;
  /** Preferred (for a non-relocatable kernel: the) runtime address; 2.10+, else 0x100000. */
  readonly prefAddress: number;
  /** Memory the kernel needs from its runtime address before it reads the memory map (2.10+). */
  readonly initSize: number | undefined;
  /** The kernel's version string (kernel_version + 0x200), if it has one. */
  readonly kernelVersion: string | undefined;
}

function fail(path: string, code: string, problem: string): BootError {
  return new BootError(`boot.${code}`, `${path}: ${problem}`, path);
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** True for a file boot.rst calls a bzImage: boot flag, "HdrS", protocol >= 2.00, LOADED_HIGH. */
export function isLinuxBzImage(bytes: Uint8Array): boolean {
  if (bytes.length < HDR.loadflags + 1) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return (
    view.getUint16(HDR.bootFlag, true) === LINUX_BOOT_FLAG &&
    view.getUint32(HDR.header, true) === LINUX_HEADER_MAGIC &&
    view.getUint16(HDR.version, true) >= 0x0200 &&
    (bytes[HDR.loadflags] & LOADFLAG_LOADED_HIGH) !== 0
  );
}

/** Reads and checks the setup header (see the file comment); throws a BootError naming `path`. */
export function parseLinuxSetupHeader(bytes: Uint8Array, path: string): LinuxSetupHeader {
  const notBz = (why: string) => fail(path, 'linux-not-bzimage', `not a Linux bzImage: ${why}`);
  if (bytes.length < HEADER_READ_END) throw notBz(`the file has only ${bytes.length} bytes, fewer than a setup header needs (${HEADER_READ_END})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (off: number) => view.getUint16(off, true);
  const u32 = (off: number) => view.getUint32(off, true);
  if (u16(HDR.bootFlag) !== LINUX_BOOT_FLAG) throw notBz(`no boot flag 0xAA55 at offset 0x1FE (found ${hex(u16(HDR.bootFlag))})`);
  if (u32(HDR.header) !== LINUX_HEADER_MAGIC) throw notBz('no "HdrS" signature at offset 0x202: an old zImage or not a Linux kernel at all');
  const version = u16(HDR.version);
  const versionText = `${version >> 8}.${(version & 0xff).toString().padStart(2, '0')}`;
  if (version < 0x0200) throw notBz(`boot protocol ${versionText} predates bzImage (2.00)`);
  const loadflags = bytes[HDR.loadflags];
  if ((loadflags & LOADFLAG_LOADED_HIGH) === 0) throw notBz('loadflags.LOADED_HIGH is clear: a zImage, which loads below 1 MiB through real-mode setup code; rebuild it as a bzImage (make bzImage)');
  if (version < LINUX_MIN_PROTOCOL) {
    throw fail(path, 'linux-too-old', `boot protocol ${versionText} is too old for the 32-bit boot protocol Domus uses (2.03 or later, Linux 2.4.18+, as for GRUB's \`linux\` command)`);
  }
  const rawSects = bytes[HDR.setupSects];
  if (rawSects > MAX_SETUP_SECTS) throw fail(path, 'linux-bad-header', `setup_sects is ${rawSects}; the real-mode code is at most ${MAX_SETUP_SECTS} sectors (32 KiB)`);
  const setupSects = rawSects === 0 ? DEFAULT_SETUP_SECTS : rawSects;
  const headerEnd = HDR.header + bytes[HDR.jump + 1];
  if (headerEnd > SETUP_HEADER_LIMIT) throw fail(path, 'linux-bad-header', `the setup header would end at ${hex(headerEnd)} (0x202 + the jump offset at 0x201), past boot_params.edd_mbr_sig_buffer at 0x290`);
  const protectedModeOffset = (setupSects + 1) * LINUX_SECTOR;
  const declaredSize = (version >= 0x0204 ? u32(HDR.syssize) : u16(HDR.syssize)) * PARAGRAPH;
  if (bytes.length < protectedModeOffset + declaredSize || bytes.length === protectedModeOffset) {
    throw fail(path, 'linux-truncated', `the file has ${bytes.length} bytes but the header says ${protectedModeOffset} bytes of real-mode code (setup_sects ${setupSects} + the boot sector) and ${declaredSize} bytes of protected-mode code (syssize * 16): truncated?`);
  }
  const alignment = version >= 0x0205 ? u32(HDR.kernelAlignment) : 0;
  const powerOfTwo = alignment !== 0 && (alignment & (alignment - 1)) === 0;
  const relocatable = version >= 0x0205 && powerOfTwo && bytes[HDR.relocatableKernel] !== 0;
  const kvOff = u16(HDR.kernelVersion);
  return {
    version,
    versionText,
    setupSects,
    protectedModeOffset,
    protectedModeSize: bytes.length - protectedModeOffset,
    declaredSize,
    headerEnd,
    loadflags,
    code32Start: u32(HDR.code32Start),
    initrdAddrMax: u32(HDR.initrdAddrMax),
    cmdlineSize: version >= 0x0206 ? u32(HDR.cmdlineSize) : LEGACY_CMDLINE_SIZE,
    relocatable,
    kernelAlignment: powerOfTwo ? alignment : 0,
    minAlignment: version >= 0x020a ? bytes[HDR.minAlignment] : 0,
    xloadflags: version >= 0x020c ? u16(HDR.xloadflags) : 0,
    prefAddress: version >= 0x020a ? Number(view.getBigUint64(HDR.prefAddress, true)) : BZIMAGE_LOAD_ADDRESS,
    initSize: version >= 0x020a ? u32(HDR.initSize) : undefined,
    kernelVersion: kvOff !== 0 ? readVersionString(bytes, kvOff + LINUX_SECTOR, protectedModeOffset) : undefined,
  };
}

/** The NUL-terminated string at `at`, if it lies inside the real-mode code (else undefined). */
function readVersionString(bytes: Uint8Array, at: number, end: number): string | undefined {
  if (at >= end) return undefined;
  let stop = at;
  while (stop < end && bytes[stop] !== 0) stop++;
  if (stop === end) return undefined;
  let text = '';
  for (let i = at; i < stop; i++) text += String.fromCharCode(bytes[i]);
  return text;
}

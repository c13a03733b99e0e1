/**
 * A domain booted from a raw system ROM image (`domus run --bios ROM`, QEMU's `-bios`): the ROM
 * is the only firmware. Domus writes no BIOS, no POST, no tables; the VCPU starts at the
 * architectural reset state (CS selector F000h, base FFFF0000h, EIP FFF0h) and its first fetch,
 * at FFFFFFF0h, comes from the ROM's mirror at the top of 4 GiB.
 *
 * Placement, as on a PC chipset (Intel 82441FX/PIIX3 datasheets, "BIOS memory space"; QEMU
 * hw/i386/x86.c x86_bios_rom_init): the last 128 KiB of the first MiB (E0000h-FFFFFh) show the
 * last 128 KiB of the ROM, and the whole ROM appears again just below 4 GiB. A 64 KiB ROM sits
 * at F0000h-FFFFFh and FFFF0000h-FFFFFFFFh; a 128 KiB one at E0000h-FFFFFh and
 * FFFE0000h-FFFFFFFFh.
 *
 * Mechanism. The ROM bytes are written into the domain's own RAM frames below 1 MiB, and the
 * P2M entries of the high window are aliases of those frames (DomainMemory.alias): both windows
 * show the same machine frames, the high ones are not pages of their own (not counted, not
 * released, not saved). This is what Xen's hvmloader does (the BIOS lives in guest RAM) and what
 * SeaBIOS does under QEMU once it has unlocked the i440FX's PAM registers; the difference from
 * QEMU is that the ROM is writable from the first instruction instead of after the PAM unlock
 * (docs/third-party-firmware.md).
 */
import { BootError } from '../base/errors';
import type { DomainMemory } from '../hv/memory/domain-memory';

/** Size of a guest frame. */
const FRAME_SIZE = 4096;
/** End of the real-mode address space: the ROM's low window ends here. */
const LOW_ROM_END = 0x100000;
/** The top of the 32-bit physical address space: the ROM's high mirror ends here. */
const FOUR_GIB = 0x100000000;
/** Sizes of a raw system ROM Domus maps: 64 KiB (F0000h) and 128 KiB (E0000h). */
export const ROM_SIZES: readonly number[] = [0x10000, 0x20000];

/** A raw system ROM image for a domain (DomainSpec.rom). */
export interface RomSpec {
  /** The whole image. */
  data: Uint8Array;
  /** Where it came from (what messages name). */
  path: string;
}

/** Where a ROM was mapped. */
export interface RomPlacement {
  /** Guest-physical start of the low window (F0000h or E0000h). */
  lowBase: number;
  /** Guest-physical start of the high mirror (FFFF0000h or FFFE0000h). */
  highBase: number;
  size: number;
}

/** Refuses a ROM image of a size Domus cannot map, naming the file and the sizes allowed. */
export function checkRomImage(rom: RomSpec): void {
  if (!ROM_SIZES.includes(rom.data.length)) {
    throw new BootError(
      'boot.rom-size',
      `${rom.path} is ${rom.data.length} bytes; a --bios ROM must be a raw image of exactly 65536 bytes (64 KiB, mapped at F0000h) ` +
        'or 131072 bytes (128 KiB, mapped at E0000h), each mirrored below 4 GiB.',
      rom.path,
    );
  }
}

/** Where a ROM of `size` bytes goes (size already checked). */
export function romPlacement(size: number): RomPlacement {
  return { lowBase: LOW_ROM_END - size, highBase: FOUR_GIB - size, size };
}

/**
 * Writes the ROM into the domain's RAM below 1 MiB and shows its frames again below 4 GiB.
 * Call it before the VCPUs first run; restoring a saved domain calls it too (the saved pages then
 * overwrite the low window with whatever the firmware left there, and the mirror follows).
 */
export function mapRom(memory: DomainMemory, rom: RomSpec): RomPlacement {
  checkRomImage(rom);
  const p = romPlacement(rom.data.length);
  if (!memory.isRam(p.lowBase, p.size)) {
    throw new BootError('boot.rom-ram', `${rom.path}: the domain has no RAM at 0x${p.lowBase.toString(16)}-0xfffff for the ROM; give it at least 1 MiB (--memory).`, rom.path);
  }
  memory.write(p.lowBase, rom.data);
  const frames = p.size / FRAME_SIZE;
  memory.alias(p.highBase / FRAME_SIZE, p.lowBase / FRAME_SIZE, frames);
  return p;
}

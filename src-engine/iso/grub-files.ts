/**
 * GRUB's i386-pc platform directory as the ISO builder sees it: file name -> bytes. The node layer
 * fills it from resources/grub/i386-pc (or a user-chosen GRUB directory) after checking it.
 */
import { IsoError } from '../base/errors';

/** Contents of a GRUB i386-pc directory (usr/lib/grub/i386-pc), keyed by file name. */
export type GrubFiles = ReadonlyMap<string, Uint8Array>;

/** The boot-sector and core images grub-mkimage and xorriso read. */
export const GRUB_IMAGE_FILES = ['kernel.img', 'cdboot.img', 'diskboot.img', 'lzma_decompress.img', 'boot_hybrid.img'] as const;

/** Returns a GRUB file or throws an IsoError that names it. */
export function grubFile(files: GrubFiles, name: string): Uint8Array {
  const f = files.get(name);
  if (f === undefined) {
    throw new IsoError(
      'iso.grub-missing',
      `The GRUB directory has no ${name}. Use Domus's bundled GRUB (resources/grub/i386-pc) or point --grub-dir at a complete i386-pc directory (e.g. /usr/lib/grub/i386-pc from grub-pc-bin).`,
      name,
    );
  }
  return f;
}

/** Text of a GRUB list file (moddep.lst, partmap.lst ...), or undefined when absent. */
export function grubText(files: GrubFiles, name: string): string | undefined {
  const f = files.get(name);
  return f === undefined ? undefined : new TextDecoder().decode(f);
}

/**
 * Which files grub-mkrescue copies into /boot/grub/i386-pc on the image (spec §2.1): every
 * module, every list, the EFI emulator objects and modinfo.sh. None of the .img files.
 */
export function isRescueCopied(name: string): boolean {
  return name.endsWith('.mod') || name.endsWith('.lst') || name === 'modinfo.sh' || /^efiemu(32|64)\.o$/.test(name);
}

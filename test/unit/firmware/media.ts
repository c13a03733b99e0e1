/**
 * Synthetic boot media for the BIOS tests: a CD image with an El Torito boot record, catalog and
 * boot image (each part can be broken on purpose), and raw disk images. Every sector starts with
 * its own LBA (u32) so a test can tell which sectors a read delivered.
 */
import { createMemoryBlockBackend, type MemoryBlockBackend } from '../../../src-engine/firmware/bios/memory-disk';

const CD_SECTOR = 2048;
const DISK_SECTOR = 512;
export const BOOT_RECORD_LBA = 17;
export const CATALOG_LBA = 18;
export const IMAGE_LBA = 19;

/** What to put in (or break about) the El Torito structures. */
export interface CdOptions {
  sectors?: number;
  /** Boot image bytes (default: `cli; hlt`), placed at IMAGE_LBA. */
  bootImage?: Uint8Array;
  /** Virtual 512-byte sectors to load (default 4). */
  sectorCount?: number;
  loadSegment?: number;
  mediaType?: number;
  platform?: number;
  indicator?: number;
  catalogLba?: number;
  imageLba?: number;
  /** Break the boot record's "EL TORITO SPECIFICATION" id. */
  badBootRecord?: boolean;
  /** Keep the validation entry's checksum word wrong. */
  badChecksum?: boolean;
  /** Clear the 55h AAh key bytes. */
  badKey?: boolean;
}

/** Marks every sector with its LBA. */
function markSectors(img: Uint8Array, size: number): void {
  const dv = new DataView(img.buffer);
  for (let lba = 0; lba * size < img.length; lba++) {
    dv.setUint32(lba * size, lba, true);
    img.fill(lba & 0xff, lba * size + 4, (lba + 1) * size);
  }
}

/** A bootable (or deliberately broken) CD image. */
export function makeCdImage(o: CdOptions = {}): Uint8Array {
  const img = new Uint8Array((o.sectors ?? 64) * CD_SECTOR);
  markSectors(img, CD_SECTOR);
  const br = BOOT_RECORD_LBA * CD_SECTOR;
  img.fill(0, br, br + CD_SECTOR);
  img[br] = 0;
  img.set(Array.from('CD001', (c) => c.charCodeAt(0)), br + 1);
  img[br + 6] = 1;
  img.set(Array.from(o.badBootRecord ? 'EL TORITO SPECIFICATIOM' : 'EL TORITO SPECIFICATION', (c) => c.charCodeAt(0)), br + 7);
  new DataView(img.buffer).setUint32(br + 0x47, o.catalogLba ?? CATALOG_LBA, true);

  const cat = CATALOG_LBA * CD_SECTOR;
  img.fill(0, cat, cat + CD_SECTOR);
  img[cat] = 1;
  img[cat + 1] = o.platform ?? 0;
  img[cat + 30] = o.badKey ? 0 : 0x55;
  img[cat + 31] = o.badKey ? 0 : 0xaa;
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum = (sum + img[cat + i] + (img[cat + i + 1] << 8)) & 0xffff;
  const check = (0x10000 - sum) & 0xffff;
  new DataView(img.buffer).setUint16(cat + 28, o.badChecksum ? (check + 1) & 0xffff : check, true);
  img[cat + 32] = o.indicator ?? 0x88;
  img[cat + 33] = o.mediaType ?? 0;
  new DataView(img.buffer).setUint16(cat + 34, o.loadSegment ?? 0, true);
  new DataView(img.buffer).setUint16(cat + 38, o.sectorCount ?? 4, true);
  new DataView(img.buffer).setUint32(cat + 40, o.imageLba ?? IMAGE_LBA, true);

  const boot = o.bootImage ?? Uint8Array.of(0xfa, 0xf4);
  img.fill(0, IMAGE_LBA * CD_SECTOR, (IMAGE_LBA + 1) * CD_SECTOR);
  img.set(boot, IMAGE_LBA * CD_SECTOR);
  return img;
}

/** A CD-ROM block device over makeCdImage(o). */
export function makeCd(o: CdOptions = {}): MemoryBlockBackend {
  return createMemoryBlockBackend(makeCdImage(o), { medium: 'cdrom', name: 'test.iso' });
}

/** A raw disk of `sectors` 512-byte sectors; sector 0 gets boot code and 55h AAh if `bootable`. */
export function makeDisk(sectors: number, bootable = false, bootCode: Uint8Array = Uint8Array.of(0xfa, 0xf4)): MemoryBlockBackend {
  const img = new Uint8Array(sectors * DISK_SECTOR);
  markSectors(img, DISK_SECTOR);
  if (bootable) {
    img.fill(0, 0, DISK_SECTOR);
    img.set(bootCode, 0);
    img[510] = 0x55;
    img[511] = 0xaa;
  }
  return createMemoryBlockBackend(img, { medium: 'disk', name: 'test.img' });
}

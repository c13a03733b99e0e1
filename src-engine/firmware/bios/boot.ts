/**
 * The bootstrap loader (INT 19h): tries the devices of the boot order, loads the first boot image
 * it can, and says where to enter it; or collects why nothing could boot.
 *
 * - cdrom: the first CD-ROM drive's El Torito no-emulation image (el-torito.ts), ceil(count / 4)
 *   whole 2048-byte sectors at its load segment, entered at the canonical address
 *   (segment & F000h):(segment & 0FFFh) << 4, i.e. 0000:7C00 for the default 07C0h (SeaBIOS).
 * - disk: sector 0 of the first hard disk at 0000:7C00 if it ends with 55h AAh.
 * - floppy, network: not available on this platform; reported and skipped.
 *
 * Messages follow SeaBIOS ("Booting from DVD/CD...", "Boot failed: ...", "No bootable device.").
 * Like SeaBIOS, which offers only the devices it found, a device of the boot order with no drive
 * attached is skipped without a line; its absence is reported only when nothing boots.
 */
import { CDROM_SECTOR_BYTES } from '../../machine/block-backend';
import type { CmosBootDevice } from '../../machine/cmos-layout';
import { BOOT_LOAD_ADDR, DRIVE_FIRST_CD, DRIVE_FIRST_HD, FREE_MEMORY_START, MBR_SIGNATURE, MBR_SIGNATURE_OFFSET } from './layout';
import { readElTorito } from './el-torito';
import type { BiosDrive } from './drives';
import type { BootRecord } from './service';
import type { GuestPhysMemory } from '../../machine/guest-memory';
import { EBDA_START } from '../../boot/e820';
import { VIRTUAL_SECTORS_PER_CD_SECTOR } from './services-disk';

/** The boot order when the configuration gives none: xl's default boot="cd" (hard disk, then CD-ROM). */
export const DEFAULT_BOOT_ORDER: readonly CmosBootDevice[] = ['disk', 'cdrom'];

/** A device of the boot order with no drive attached: skipped quietly unless nothing boots. */
interface Absent {
  absent: string;
}

/** Where to enter a loaded boot image. */
export interface BootEntry {
  cs: number;
  ip: number;
  /** DL at entry: the boot drive. */
  drive: number;
  record: BootRecord;
  /** "DVD/CD" or "Hard Disk", for messages. */
  what: string;
}

/** The outcome of trying the boot order. */
export interface BootAttempt {
  entry: BootEntry | undefined;
  /** Index in the boot order of the device booted. */
  index: number;
  /** Lines shown on the screen, in order ("Booting from ...", "Boot failed: ..."). */
  screen: string[];
  /** One reason per device that could not boot. */
  failures: string[];
}

const DEVICE_LABEL: Readonly<Record<CmosBootDevice, string>> = {
  cdrom: 'DVD/CD',
  disk: 'Hard Disk',
  floppy: 'Floppy',
  network: 'the network',
};

function describe(drive: BiosDrive): string {
  return drive.backend?.name ?? 'the drive';
}

function bootCdrom(drives: ReadonlyMap<number, BiosDrive>, mem: GuestPhysMemory): BootEntry | Absent | string {
  const drive = drives.get(DRIVE_FIRST_CD);
  if (drive === undefined) return { absent: 'no CD-ROM drive is attached' };
  const cd = drive.backend;
  if (cd === undefined) return `the CD-ROM image cannot be used: ${drive.problem ?? 'no medium'}`;
  const et = readElTorito(cd);
  if (!et.ok) return `${describe(drive)}: ${et.reason}`;
  const b = et.boot;
  const sectors = Math.max(1, Math.ceil(b.sectorCount / VIRTUAL_SECTORS_PER_CD_SECTOR));
  const addr = b.loadSegment * 16;
  const bytes = sectors * CDROM_SECTOR_BYTES;
  if (addr < FREE_MEMORY_START || addr + bytes > EBDA_START) {
    return `${describe(drive)}: the boot image (${bytes} bytes at segment ${b.loadSegment.toString(16)}h) does not fit in conventional memory`;
  }
  if (b.imageLba + sectors > cd.sectorCount) {
    return `${describe(drive)}: the boot image (sectors ${b.imageLba}-${b.imageLba + sectors - 1}) runs past the end of the CD`;
  }
  mem.write(addr, cd.read(b.imageLba, sectors));
  return {
    cs: b.loadSegment & 0xf000,
    ip: (b.loadSegment & 0x0fff) << 4,
    drive: drive.number,
    what: DEVICE_LABEL.cdrom,
    record: {
      drive: drive.number,
      elTorito: { imageLba: b.imageLba, loadSegment: b.loadSegment, sectorCount: b.sectorCount, mediaType: b.mediaType },
    },
  };
}

function bootDisk(drives: ReadonlyMap<number, BiosDrive>, mem: GuestPhysMemory): BootEntry | Absent | string {
  const drive = drives.get(DRIVE_FIRST_HD);
  if (drive === undefined) return { absent: 'no hard disk is attached' };
  const disk = drive.backend;
  if (disk === undefined) return `the disk image cannot be used: ${drive.problem ?? 'no medium'}`;
  const sector = disk.read(0, 1).subarray(0, 512);
  const sig = sector[MBR_SIGNATURE_OFFSET] | (sector[MBR_SIGNATURE_OFFSET + 1] << 8);
  if (sig !== MBR_SIGNATURE) return `${describe(drive)}: not a bootable disk (no boot signature 55h AAh in sector 0)`;
  mem.write(BOOT_LOAD_ADDR, sector);
  return { cs: 0, ip: BOOT_LOAD_ADDR, drive: drive.number, what: DEVICE_LABEL.disk, record: { drive: drive.number } };
}

/** Tries `order` from index `from`; loads the first bootable image into memory. */
export function tryBoot(
  order: readonly CmosBootDevice[],
  drives: ReadonlyMap<number, BiosDrive>,
  mem: GuestPhysMemory,
  from = 0,
): BootAttempt {
  const screen: string[] = [];
  const failures: string[] = [];
  /** Every reason in boot order, absent drives included: reported when nothing boots. */
  const all: string[] = [];
  for (let i = from; i < order.length; i++) {
    const dev = order[i];
    let result: BootEntry | Absent | string;
    try {
      if (dev === 'cdrom') result = bootCdrom(drives, mem);
      else if (dev === 'disk') result = bootDisk(drives, mem);
      else result = `booting from ${DEVICE_LABEL[dev]} is not available on this machine`;
    } catch (err) {
      result = `could not read the boot device (${err instanceof Error ? err.message : String(err)})`;
    }
    if (typeof result !== 'string' && 'absent' in result) {
      all.push(result.absent);
      continue;
    }
    screen.push(`Booting from ${DEVICE_LABEL[dev]}...`);
    if (typeof result !== 'string') return { entry: result, index: i, screen, failures };
    screen.push(`Boot failed: ${result}`);
    failures.push(result);
    all.push(result);
  }
  if (order.length === 0) all.push('the boot order names no device');
  screen.push('No bootable device.');
  return { entry: undefined, index: order.length, screen, failures: all };
}

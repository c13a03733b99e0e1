/**
 * A block device as the firmware and the emulated disk controllers see it: a run of fixed-size
 * sectors that can be read, written (unless read-only) and flushed. Calls are synchronous: they
 * run on the thread that owns the domain's devices (the hypervisor thread) while the VCPU that
 * asked waits, so an implementation must finish each call before returning.
 *
 * Implementations: src-engine/node/disk (raw image files and ISO files), and an in-memory one in
 * src-engine/firmware/bios/memory-disk.ts (tests, ISOs built in memory).
 *
 * Addresses are logical block addresses (LBA) in units of `sectorSize`. An access that does not
 * lie entirely inside [0, sectorCount) throws a BlockIoError and transfers nothing; so does a
 * write to a read-only device.
 */
import { DomusError } from '../base/errors';

/** Sector size of a hard disk image (and of the BIOS's INT 13h on disks). */
export const DISK_SECTOR_BYTES = 512;
/** Sector size of a CD-ROM (ISO 9660 logical block). */
export const CDROM_SECTOR_BYTES = 2048;

/** The kind of medium behind a block device. */
export type BlockMedium = 'disk' | 'cdrom';

/** A synchronous block device. */
export interface BlockBackend {
  /** What the device is called in messages, e.g. the image file's path. */
  readonly name: string;
  /** Hard disk or CD-ROM (decides the BIOS drive number and sector size). */
  readonly medium: BlockMedium;
  /** Bytes per sector: 512 for disks, 2048 for CD-ROMs. */
  readonly sectorSize: number;
  /** Number of sectors; the device is sectorCount * sectorSize bytes long. */
  readonly sectorCount: number;
  /** True if writes are refused (CD-ROMs always; disks attached read-only). */
  readonly readOnly: boolean;
  /** Reads `count` sectors starting at `lba`. */
  read(lba: number, count: number): Uint8Array;
  /** Writes whole sectors starting at `lba` (`data.length` must be a multiple of sectorSize). */
  write(lba: number, data: Uint8Array): void;
  /** Makes every completed write durable (fsync for files). */
  flush(): void;
  /** Flushes and releases the device; later calls throw. */
  close(): void;
}

/** A block access that cannot be done: outside the device, read-only, closed, or a host I/O error. */
export class BlockIoError extends DomusError {}

/**
 * Throws a BlockIoError unless sectors [lba, lba + count) lie inside `dev` and, for a write, the
 * device is writable. Shared by every implementation so their refusals read the same.
 */
export function checkBlockRange(dev: BlockBackend, lba: number, count: number, write: boolean): void {
  if (!Number.isSafeInteger(lba) || !Number.isSafeInteger(count) || lba < 0 || count < 0 || lba + count > dev.sectorCount) {
    throw new BlockIoError(
      'block.out-of-range',
      `${dev.name}: sectors ${lba}..${lba + count - 1} are outside the device (it has ${dev.sectorCount} sectors of ${dev.sectorSize} bytes).`,
      dev.name,
    );
  }
  if (write && dev.readOnly) {
    throw new BlockIoError('block.read-only', `${dev.name} is read-only: the write to sector ${lba} was refused.`, dev.name);
  }
}

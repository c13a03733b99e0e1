/**
 * A block device over bytes in memory: an ISO built by the wizard and booted without writing it
 * to a file, or a disk image in tests. Writes change the bytes in place; flush and close only
 * mark the device.
 */
import {
  BlockIoError, CDROM_SECTOR_BYTES, DISK_SECTOR_BYTES, checkBlockRange, type BlockBackend, type BlockMedium,
} from '../../machine/block-backend';

/** Options of createMemoryBlockBackend. */
export interface MemoryBlockConfig {
  /** Name in messages (default "memory disk" / "memory CD-ROM"). */
  name?: string;
  medium: BlockMedium;
  /** Refuse writes (CD-ROMs always do). */
  readOnly?: boolean;
}

/** The bytes behind a memory block device and what happened to it (tests look at these). */
export interface MemoryBlockBackend extends BlockBackend {
  /** The device's bytes (whole sectors; the image's partial last sector is not part of it). */
  readonly bytes: Uint8Array;
  /** Number of flush() calls that had writes to make durable. */
  readonly flushes: number;
  readonly closed: boolean;
}

/** Wraps `image` (not copied) as a block device of the given medium. */
export function createMemoryBlockBackend(image: Uint8Array, config: MemoryBlockConfig): MemoryBlockBackend {
  const sectorSize = config.medium === 'cdrom' ? CDROM_SECTOR_BYTES : DISK_SECTOR_BYTES;
  const sectorCount = Math.floor(image.length / sectorSize);
  const bytes = image.subarray(0, sectorCount * sectorSize);
  let dirty = false;
  const dev = {
    name: config.name ?? (config.medium === 'cdrom' ? 'memory CD-ROM' : 'memory disk'),
    medium: config.medium,
    sectorSize,
    sectorCount,
    readOnly: config.medium === 'cdrom' || config.readOnly === true,
    bytes,
    flushes: 0,
    closed: false,
    read(lba: number, count: number): Uint8Array {
      alive();
      checkBlockRange(dev, lba, count, false);
      return bytes.slice(lba * sectorSize, (lba + count) * sectorSize);
    },
    write(lba: number, data: Uint8Array): void {
      alive();
      if (data.length % sectorSize !== 0) {
        throw new BlockIoError('block.partial-sector', `${dev.name}: a write of ${data.length} bytes is not a whole number of sectors.`, dev.name);
      }
      checkBlockRange(dev, lba, data.length / sectorSize, true);
      bytes.set(data, lba * sectorSize);
      dirty = true;
    },
    flush(): void {
      alive();
      if (dirty) dev.flushes++;
      dirty = false;
    },
    close(): void {
      if (dev.closed) return;
      dev.flush();
      dev.closed = true;
    },
  };
  function alive(): void {
    if (dev.closed) throw new BlockIoError('block.closed', `${dev.name} has been closed.`, dev.name);
  }
  return dev;
}

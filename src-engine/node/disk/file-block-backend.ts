/**
 * Block devices over host files: raw hard disk images (read-write unless asked otherwise, writes
 * go straight to the file and are made durable by flush/close) and ISO files as read-only
 * CD-ROMs. Every call is synchronous (fs.readSync/writeSync/fsyncSync): the hypervisor thread
 * serves the BIOS and the disk controllers while the VCPU waits.
 *
 * A disk image whose size is not a whole number of 512-byte sectors exposes only the whole
 * sectors (like QEMU's raw driver); an ISO's last partial 2048-byte block is dropped the same way.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import {
  BlockIoError, CDROM_SECTOR_BYTES, DISK_SECTOR_BYTES, checkBlockRange, type BlockBackend, type BlockMedium,
} from '../../machine/block-backend';

/** How to open an image. */
export interface FileBlockConfig {
  /** Host path of the image. */
  path: string;
  /** 'disk' (512-byte sectors) or 'cdrom' (2048-byte sectors, always read-only). */
  medium: BlockMedium;
  /** Open a disk read-only (default false; CD-ROMs are read-only regardless). */
  readOnly?: boolean;
}

/** Node's error code for a missing file. */
const ENOENT = 'ENOENT';
/** Node's error code for a permission refusal. */
const EACCES = 'EACCES';

function hostCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** Opens an image file as a block device. Throws a BlockIoError naming the file if it cannot. */
export function openFileBlockBackend(config: FileBlockConfig): BlockBackend {
  const readOnly = config.medium === 'cdrom' || config.readOnly === true;
  const kind = config.medium === 'cdrom' ? 'CD-ROM image' : 'disk image';
  let fd: number;
  try {
    fd = openSync(config.path, readOnly ? 'r' : 'r+');
  } catch (err) {
    const code = hostCode(err);
    const why =
      code === ENOENT ? 'does not exist'
      : code === EACCES ? `cannot be opened ${readOnly ? 'for reading' : 'for reading and writing'} (permission denied)`
      : `cannot be opened (${err instanceof Error ? err.message : String(err)})`;
    throw new BlockIoError('block.open', `The ${kind} ${config.path} ${why}. Check the path in the domain's disk list.`, config.path);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new BlockIoError('block.not-file', `The ${kind} ${config.path} is not a regular file.`, config.path);
    }
    const sectorSize = config.medium === 'cdrom' ? CDROM_SECTOR_BYTES : DISK_SECTOR_BYTES;
    const sectorCount = Math.floor(st.size / sectorSize);
    if (sectorCount === 0) {
      throw new BlockIoError('block.empty', `The ${kind} ${config.path} is smaller than one ${sectorSize}-byte sector.`, config.path);
    }
    return new FileBlockBackend(fd, config.path, config.medium, sectorSize, sectorCount, readOnly);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

class FileBlockBackend implements BlockBackend {
  private fd: number | undefined;
  private dirty = false;

  constructor(
    fd: number,
    readonly name: string,
    readonly medium: BlockMedium,
    readonly sectorSize: number,
    readonly sectorCount: number,
    readonly readOnly: boolean,
  ) {
    this.fd = fd;
  }

  read(lba: number, count: number): Uint8Array {
    const fd = this.open();
    checkBlockRange(this, lba, count, false);
    const out = new Uint8Array(count * this.sectorSize);
    let done = 0;
    while (done < out.length) {
      const n = this.host(() => readSync(fd, out, done, out.length - done, lba * this.sectorSize + done), 'read');
      if (n === 0) break; // the file shrank under us: the rest reads as zeros
      done += n;
    }
    return out;
  }

  write(lba: number, data: Uint8Array): void {
    const fd = this.open();
    if (data.length % this.sectorSize !== 0) {
      throw new BlockIoError('block.partial-sector', `${this.name}: a write of ${data.length} bytes is not a whole number of sectors.`, this.name);
    }
    checkBlockRange(this, lba, data.length / this.sectorSize, true);
    let done = 0;
    while (done < data.length) {
      done += this.host(() => writeSync(fd, data, done, data.length - done, lba * this.sectorSize + done), 'write');
    }
    this.dirty = true;
  }

  flush(): void {
    const fd = this.open();
    if (!this.dirty) return;
    this.host(() => fsyncSync(fd), 'flush');
    this.dirty = false;
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private open(): number {
    if (this.fd === undefined) throw new BlockIoError('block.closed', `${this.name} has been closed.`, this.name);
    return this.fd;
  }

  private host<T>(fn: () => T, what: string): T {
    try {
      return fn();
    } catch (err) {
      throw new BlockIoError('block.host-io', `${this.name}: host ${what} failed: ${err instanceof Error ? err.message : String(err)}`, this.name);
    }
  }
}

/**
 * The ISO 9660 + El Torito image writer (spec/grub-iso-and-bios.md §1, §2.2): lays a file tree out
 * in sectors and returns the image bytes. Plain ISO 9660 names (no Rock Ridge, no Joliet), every
 * file one contiguous extent, optional no-emulation boot entry with boot info table, GRUB's
 * boot-info patch and the hybrid MBR, and the padding GRUB's 32 KiB disk reads need.
 * Deterministic: the same tree, options and time give the same bytes.
 *
 * Sector map: 0-15 system area (hybrid MBR in the first 512 bytes), 16 PVD, 17 El Torito boot
 * record (when booting), then the terminator, the L and M path tables, the boot catalog, every
 * directory extent (path-table order), every file extent, and the padding.
 */
import { IsoError } from '../base/errors';
import { alignUp, SECTOR_SIZE } from './bytes';
import { encodeBootCatalog, patchBootImage } from './el-torito';
import { encodeHybridMbr } from './hybrid-mbr';
import { encodeBootRecord, encodePrimaryVolume, encodeTerminator, PVD_LBA } from './iso9660-descriptors';
import {
  dirRecordLength,
  encodeDirRecord,
  encodePathRecord,
  ID_PARENT,
  ID_SELF,
  packRecords,
  pathRecordLength,
  recordIdentifier,
} from './iso9660-records';
import { type IsoDir, type IsoFile, sortedChildren } from './iso-tree';

/** §1.8: GRUB reads the medium in aligned blocks of 16 ISO sectors (32 KiB); round the image up to one. */
export const PAD_ALIGN_SECTORS = 16;
/** §1.8: zero sectors added after the rounding, as xorriso's default 300 KiB tail pad does. */
export const PAD_TAIL_SECTORS = 150;
/** xorriso's default volume identifier. */
export const DEFAULT_VOLUME_ID = 'ISOIMAGE';
/** Longest volume identifier (ECMA-119 8.4.6). */
const VOLUME_ID_MAX = 32;
/** Path-table parent numbers are 16 bits (ECMA-119 9.4.4). */
const MAX_DIRECTORIES = 0xffff;

/** How the image boots from CD (El Torito) and, optionally, as a hard disk. */
export interface IsoBootOptions {
  /** Path of the no-emulation boot image in the tree, e.g. "/boot/grub/i386-pc/eltorito.img". */
  imagePath: string;
  /** Apply xorriso's `--grub2-boot-info` patch (for a GRUB eltorito.img). */
  grub2BootInfo: boolean;
  /** GRUB's boot_hybrid.img: when given, the system area gets the hybrid MBR (`--grub2-mbr` + `--protective-msdos-label`). */
  hybridMbr?: Uint8Array;
}

/** Options of writeIsoImage. */
export interface IsoImageOptions {
  /** Recording time in ms since the Unix epoch (UTC): PVD dates and every record date. */
  timeMs: number;
  /** Volume identifier (ASCII, at most 32 characters). Default "ISOIMAGE". */
  volumeId?: string;
  /** Application identifier in the PVD. */
  applicationId?: string;
  boot?: IsoBootOptions;
  /** Directories whose files are placed first on the medium (like `--sort-weight 1 /boot`). */
  firstPaths?: readonly string[];
  /** Called while file data is copied: bytes done and total. */
  onProgress?: (done: number, total: number) => void;
}

/** Where things landed, for tests, reports and readers. */
export interface IsoLayout {
  totalSectors: number;
  /** First sector after the last file (before padding). */
  dataEndSectors: number;
  lPathTableLba: number;
  mPathTableLba: number;
  pathTableSize: number;
  catalogLba: number | undefined;
  bootImageLba: number | undefined;
  /** Extent LBA of each file and directory by absolute path ("/" for the root). */
  extents: Map<string, { lba: number; size: number }>;
}

interface DirPlan {
  dir: IsoDir;
  path: string;
  number: number;
  parent: number;
  children: (IsoDir | IsoFile)[];
  recordOffsets: number[];
  size: number;
  lba: number;
}

interface FilePlan {
  file: IsoFile;
  path: string;
  lba: number;
}

const childPath = (parent: string, name: string) => (parent === '/' ? `/${name}` : `${parent}/${name}`);

function checkVolumeId(id: string): void {
  if (id.length > VOLUME_ID_MAX || !/^[\x20-\x7e]*$/.test(id)) {
    throw new IsoError('iso.bad-volume-id', `The volume identifier "${id}" must be at most ${VOLUME_ID_MAX} printable ASCII characters.`, id);
  }
}

/** Plans directories breadth-first (path-table order, ECMA-119 9.4) with their record layout. */
function planDirectories(root: IsoDir): DirPlan[] {
  const dirs: DirPlan[] = [];
  const queue: { dir: IsoDir; path: string; parent: number }[] = [{ dir: root, path: '/', parent: 1 }];
  while (queue.length > 0) {
    const { dir, path, parent } = queue.shift()!;
    const children = sortedChildren(dir);
    const lengths = [dirRecordLength(1), dirRecordLength(1)];
    for (const c of children) lengths.push(dirRecordLength(recordIdentifier(c.name, c.kind === 'dir').length));
    const packed = packRecords(lengths);
    const number = dirs.length + 1;
    dirs.push({ dir, path, number, parent, children, recordOffsets: packed.offsets, size: packed.size, lba: 0 });
    for (const c of children) if (c.kind === 'dir') queue.push({ dir: c, path: childPath(path, c.name), parent: number });
  }
  if (dirs.length > MAX_DIRECTORIES) {
    throw new IsoError('iso.too-many-dirs', `The tree has ${dirs.length} directories; ISO 9660 path tables hold at most ${MAX_DIRECTORIES}.`);
  }
  return dirs;
}

/** Files depth-first by name, those under `firstPaths` first. */
function planFiles(root: IsoDir, firstPaths: readonly string[]): FilePlan[] {
  const files: FilePlan[] = [];
  const walk = (dir: IsoDir, path: string) => {
    for (const c of sortedChildren(dir)) {
      const p = childPath(path, c.name);
      if (c.kind === 'dir') walk(c, p);
      else files.push({ file: c, path: p, lba: 0 });
    }
  };
  walk(root, '/');
  const lower = firstPaths.map((p) => '/' + p.split('/').filter(Boolean).join('/').toLowerCase());
  const first = (p: string) => lower.some((f) => p.toLowerCase() === f || p.toLowerCase().startsWith(f + '/'));
  return [...files.filter((f) => first(f.path)), ...files.filter((f) => !first(f.path))];
}

/** Writes the ISO image of `root`. */
export function writeIsoImage(root: IsoDir, options: IsoImageOptions): { image: Uint8Array; layout: IsoLayout } {
  const volumeId = options.volumeId ?? DEFAULT_VOLUME_ID;
  checkVolumeId(volumeId);
  const dirs = planDirectories(root);
  const files = planFiles(root, options.firstPaths ?? []);
  const ids = dirs.map((d) => (d.number === 1 ? Uint8Array.of(ID_SELF) : recordIdentifier(d.dir.name, true)));
  const pathTableSize = ids.reduce((n, id) => n + pathRecordLength(id.length), 0);
  const pathTableSectors = Math.ceil(pathTableSize / SECTOR_SIZE);

  // Sector assignment.
  const boot = options.boot;
  let next = PVD_LBA + 1;
  if (boot) next++; // El Torito boot record
  next++; // terminator
  const lPathTableLba = next;
  next += pathTableSectors;
  const mPathTableLba = next;
  next += pathTableSectors;
  const catalogLba = boot ? next++ : undefined;
  for (const d of dirs) {
    d.lba = next;
    next += d.size / SECTOR_SIZE;
  }
  const extents = new Map<string, { lba: number; size: number }>();
  for (const d of dirs) extents.set(d.path, { lba: d.lba, size: d.size });
  let totalBytes = 0;
  for (const f of files) {
    f.lba = next;
    next += Math.ceil(f.file.data.length / SECTOR_SIZE);
    totalBytes += f.file.data.length;
    extents.set(f.path, { lba: f.lba, size: f.file.data.length });
  }
  const dataEndSectors = next;
  const totalSectors = alignUp(next, PAD_ALIGN_SECTORS) + PAD_TAIL_SECTORS;

  let bootFile: FilePlan | undefined;
  if (boot) {
    const want = '/' + boot.imagePath.split('/').filter(Boolean).join('/').toLowerCase();
    bootFile = files.find((f) => f.path.toLowerCase() === want);
    if (!bootFile || bootFile.file.data.length === 0) {
      throw new IsoError('iso.no-boot-image', `The boot image ${boot.imagePath} is not in the tree (or is empty).`, boot.imagePath);
    }
  }

  const image = new Uint8Array(totalSectors * SECTOR_SIZE);
  const at = (lba: number) => lba * SECTOR_SIZE;
  encodePrimaryVolume(image, at(PVD_LBA), {
    volumeId,
    volumeSectors: totalSectors,
    pathTableSize,
    lPathTableLba,
    mPathTableLba,
    rootLba: dirs[0].lba,
    rootSize: dirs[0].size,
    timeMs: options.timeMs,
    preparerId: 'DOMUS ISO BUILDER',
    applicationId: options.applicationId ?? 'DOMUS',
  });
  if (boot && catalogLba !== undefined && bootFile) {
    encodeBootRecord(image, at(PVD_LBA + 1), catalogLba);
    encodeBootCatalog(image, at(catalogLba), bootFile.lba);
  }
  encodeTerminator(image, at(boot ? PVD_LBA + 2 : PVD_LBA + 1));

  // Path tables, both byte orders.
  let lOff = at(lPathTableLba);
  let mOff = at(mPathTableLba);
  dirs.forEach((d, i) => {
    const rec = { id: ids[i], lba: d.lba, parent: d.parent };
    lOff += encodePathRecord(image, lOff, rec, false);
    mOff += encodePathRecord(image, mOff, rec, true);
  });

  // Directory extents.
  const dirByPath = new Map(dirs.map((d) => [d.path, d]));
  for (const d of dirs) {
    const base = at(d.lba);
    const parent = dirs[d.parent - 1];
    const t = options.timeMs;
    encodeDirRecord(image, base + d.recordOffsets[0], { id: Uint8Array.of(ID_SELF), lba: d.lba, size: d.size, isDir: true, timeMs: t });
    encodeDirRecord(image, base + d.recordOffsets[1], { id: Uint8Array.of(ID_PARENT), lba: parent.lba, size: parent.size, isDir: true, timeMs: t });
    d.children.forEach((c, i) => {
      const p = childPath(d.path, c.name);
      const ext = c.kind === 'dir' ? dirByPath.get(p)! : extents.get(p)!;
      encodeDirRecord(image, base + d.recordOffsets[i + 2], {
        id: recordIdentifier(c.name, c.kind === 'dir'),
        lba: ext.lba,
        size: ext.size,
        isDir: c.kind === 'dir',
        timeMs: t,
      });
    });
  }

  // File extents.
  let done = 0;
  for (const f of files) {
    image.set(f.file.data, at(f.lba));
    done += f.file.data.length;
    options.onProgress?.(done, totalBytes);
  }
  if (boot && bootFile) {
    const start = at(bootFile.lba);
    patchBootImage(image.subarray(start, start + bootFile.file.data.length), bootFile.lba, boot.grub2BootInfo);
    if (boot.hybridMbr) encodeHybridMbr(image, boot.hybridMbr, bootFile.lba, totalSectors);
  }
  if (files.length === 0) options.onProgress?.(0, 0);
  return {
    image,
    layout: {
      totalSectors,
      dataEndSectors,
      lPathTableLba,
      mPathTableLba,
      pathTableSize,
      catalogLba,
      bootImageLba: bootFile?.lba,
      extents,
    },
  };
}

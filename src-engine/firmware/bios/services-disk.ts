/**
 * INT 13h disk services over the configured block devices: hard disks from raw images (512-byte
 * sectors, CHS and LBA calls) and CD-ROMs from ISO files (2048-byte sectors, LBA calls and the
 * El Torito status call).
 *
 * Results follow SeaBIOS (src/disk.c): AH = status, CF = (status != 0); BDA 0x474 keeps the last
 * status of drives >= 80h; a drive that does not exist answers AH=01h. An LBA read starting
 * past the end of the medium fails with AH=01h; one that runs past the end transfers nothing and
 * fails with SECTOR_NOT_FOUND (the DAP count becomes 0). No call ever returns partial data as
 * if it were whole.
 *
 * References: RBIL INT 13h; Phoenix "BIOS Enhanced Disk Drive Specification" 1.1/3.0 (functions
 * 41h-49h, the disk address packet, the drive parameter table); "El Torito" Bootable CD-ROM
 * Format Specification 1.0 (function 4Bh, the specification packet).
 */
import type { BiosCall } from './call';
import type { BiosContext, BiosService } from './service';
import type { BiosDrive } from './drives';
import { BDA, BDA_BASE, DRIVE_FIRST_HD } from './layout';
import { SEG_DS, SEG_ES } from '../../cpu/state';
import { MAX_BIOS_CYLINDERS, hardDiskCount } from './drives';

/** INT 13h. */
const V = 0x13;

/** INT 13h status codes (RBIL table 00234; SeaBIOS std/disk.h). */
export const DISK = {
  ok: 0x00,
  /** Invalid function or parameter; also "no such drive" and (hard disks) an LBA past the end. */
  badParam: 0x01,
  /** Write to a write-protected medium. */
  writeProtected: 0x03,
  /** Media changed (removable drives). */
  mediaChanged: 0x06,
  /** Transfer would exceed 64 KiB. */
  boundary: 0x09,
  /** Bad sector: the device could not do the transfer (a range past the end, a host I/O error). */
  badTrack: 0x0c,
  /** Drive not removable. */
  notRemovable: 0xb2,
  /** Drive not ready (no medium). */
  notReady: 0xaa,
} as const;

/** EDD version reported by AH=41h: 3.0. */
const EDD_VERSION = 0x30;
/** AH=41h CX: fixed-disk access (42h-44h, 47h, 48h), drive locking/ejecting, EDD. */
const EDD_SUPPORT = 0x0007;
/** Disk address packet fields. */
const DAP = { size: 0, count: 2, offset: 4, segment: 6, lba: 8, flat: 16 } as const;
/** DAP size that carries a 64-bit flat buffer address (used when segment:offset is FFFF:FFFF). */
const DAP_SIZE_FLAT = 0x18;
/** Largest transfer a BIOS call may do (SeaBIOS: 64 KiB). */
const MAX_TRANSFER_BYTES = 64 * 1024;
/** Drive parameter table (AH=48h) sizes: EDD 1.1 and with the DPTE pointer (EDD 2.0). */
const DPT_SIZE_1 = 0x1a;
const DPT_SIZE_2 = 0x1e;
/** DPT info flags: hard disk "CHS information valid"; CD "removable, change line, lockable, max CHS". */
const DPT_FLAGS_HD = 0x0002;
const DPT_FLAGS_CD = 0x0074;
/** AH=15h types: hard disk present. */
const DISK_TYPE_HD = 3;
/** AH=15h answer for CD-ROMs (as SeaBIOS: "floppy without change line"). */
const DISK_TYPE_CD = 1;
/** El Torito specification packet size. */
export const ELTORITO_PACKET_BYTES = 0x13;
/** CD sector size in 512-byte "virtual sectors". */
const VIRTUAL_PER_CD_SECTOR = 4;

/** Records the status of a call on `dl` and returns it to the caller. */
export function diskReturn(c: BiosCall, bios: BiosContext, code: number): void {
  if (c.dl >= DRIVE_FIRST_HD) bios.host.memory.writeU8(BDA_BASE + BDA.diskLastStatus, code);
  c.status(code);
}

/**
 * Reads or writes sectors between a drive and guest memory; returns [status, sectors done].
 * As SeaBIOS with QEMU's ATA and ATAPI devices (measured, test/slow/bios-probe.test.ts): more
 * than 64 KiB fails with 09h before anything moves; on a CD-ROM a range that runs past the end
 * fails as a whole with 0Ch; on a hard disk the sectors up to the end are transferred and the call
 * fails with 0Ch, reporting how many were done. Callers check "LBA past the end" first (01h).
 */
export function transfer(bios: BiosContext, drive: BiosDrive, lba: number, count: number, addr: number, write: boolean): [number, number] {
  const dev = drive.backend;
  if (dev === undefined) return [DISK.notReady, 0];
  if (count === 0) return [DISK.ok, 0];
  if (count * dev.sectorSize > MAX_TRANSFER_BYTES) return [DISK.boundary, 0];
  if (write && dev.readOnly) return [DISK.writeProtected, 0];
  const mem = bios.host.memory;
  const inside = Math.max(0, Math.min(count, dev.sectorCount - lba));
  const doable = drive.medium === 'cdrom' && inside < count ? 0 : inside;
  if (doable > 0) {
    const bytes = doable * dev.sectorSize;
    if (!mem.isRam(addr, bytes)) return [DISK.badParam, 0];
    try {
      if (write) dev.write(lba, mem.read(addr, bytes));
      else mem.write(addr, dev.read(lba, doable));
    } catch (err) {
      bios.host.message(`BIOS: ${write ? 'write to' : 'read from'} ${dev.name} failed: ${err instanceof Error ? err.message : String(err)}`);
      return [DISK.badTrack, 0];
    }
  }
  return [doable === count ? DISK.ok : DISK.badTrack, doable];
}

/** The drive DL names, or undefined after answering "no such drive". */
function driveOf(c: BiosCall, bios: BiosContext): BiosDrive | undefined {
  const d = bios.drives.get(c.dl);
  if (d === undefined) diskReturn(c, bios, DISK.badParam);
  return d;
}

/** AH=02h/03h/04h: CHS access (hard disks). */
function chsAccess(c: BiosCall, bios: BiosContext, op: 'read' | 'write' | 'verify'): void {
  const d = driveOf(c, bios);
  if (d === undefined) return;
  const count = c.al;
  const cylinder = c.ch | ((c.cl & 0xc0) << 2);
  const sector = c.cl & 0x3f;
  const head = c.dh;
  const chs = d.chs;
  if (chs === undefined || count === 0 || count > 128 || sector === 0) return diskReturn(c, bios, DISK.badParam);
  if (cylinder >= chs.cylinders || head >= chs.heads || sector > chs.sectorsPerTrack) return diskReturn(c, bios, DISK.badParam);
  const lba = (cylinder * chs.heads + head) * chs.sectorsPerTrack + sector - 1;
  const [status, done] = op === 'verify'
    ? verify(d, lba, count)
    : transfer(bios, d, lba, count, c.linear(c.sel(SEG_ES), c.bx), op === 'write');
  c.al = done;
  diskReturn(c, bios, status);
}

function verify(d: BiosDrive, lba: number, count: number): [number, number] {
  const dev = d.backend;
  if (dev === undefined) return [DISK.notReady, 0];
  const inside = Math.max(0, Math.min(count, dev.sectorCount - lba));
  const doable = d.medium === 'cdrom' && inside < count ? 0 : inside;
  return [doable === count ? DISK.ok : DISK.badTrack, doable];
}

/** AH=42h/43h/44h/47h: extended access through the disk address packet at DS:SI. */
function extendedAccess(c: BiosCall, bios: BiosContext, op: 'read' | 'write' | 'verify' | 'seek'): void {
  const d = driveOf(c, bios);
  if (d === undefined) return;
  const ds = c.sel(SEG_DS);
  const lbaLo = c.readU32(ds, c.si + DAP.lba);
  const lbaHi = c.readU32(ds, c.si + DAP.lba + 4);
  const lba = lbaHi * 2 ** 32 + lbaLo;
  const dev = d.backend;
  if (dev === undefined) return diskReturn(c, bios, DISK.notReady);
  // SeaBIOS knows a hard disk's size and refuses an LBA past it without touching the packet; a
  // CD-ROM's size is unknown to it, so the device fails the read instead (in transfer()).
  if (d.medium === 'disk' && lba >= dev.sectorCount) return diskReturn(c, bios, DISK.badParam);
  if (op === 'seek') return diskReturn(c, bios, lba < dev.sectorCount ? DISK.ok : DISK.badParam);
  const count = c.readU16(ds, c.si + DAP.count);
  if (count === 0) return diskReturn(c, bios, DISK.ok);
  let status: number;
  let done: number;
  if (op === 'verify') {
    [status, done] = verify(d, lba, count);
  } else {
    const off = c.readU16(ds, c.si + DAP.offset);
    const seg = c.readU16(ds, c.si + DAP.segment);
    const size = c.readU8(ds, c.si + DAP.size);
    let addr: number;
    if (seg === 0xffff && off === 0xffff && size >= DAP_SIZE_FLAT) {
      addr = c.readU32(ds, c.si + DAP.flat + 4) * 2 ** 32 + c.readU32(ds, c.si + DAP.flat);
    } else {
      addr = c.linear(seg, off);
    }
    [status, done] = transfer(bios, d, lba, count, addr, op === 'write');
  }
  c.writeU16(ds, c.si + DAP.count, done);
  diskReturn(c, bios, status);
}

function driveParameters(c: BiosCall, bios: BiosContext): void {
  const d = driveOf(c, bios);
  if (d === undefined) return;
  const chs = d.chs;
  if (d.medium !== 'disk' || chs === undefined) return diskReturn(c, bios, DISK.badParam);
  // The last cylinder is reserved (diagnostics), as SeaBIOS and the IBM BIOS report it.
  const maxCyl = Math.max(0, Math.min(chs.cylinders, MAX_BIOS_CYLINDERS) - 2);
  c.al = 0;
  c.ch = maxCyl & 0xff;
  c.cl = ((maxCyl >> 2) & 0xc0) | (chs.sectorsPerTrack & 0x3f);
  c.dh = chs.heads - 1;
  diskReturn(c, bios, DISK.ok);
  c.dl = hardDiskCount(bios.drives);
}

function diskType(c: BiosCall, bios: BiosContext): void {
  const d = driveOf(c, bios);
  if (d === undefined) return;
  diskReturn(c, bios, DISK.ok);
  if (d.medium !== 'disk' || d.chs === undefined) {
    c.ah = DISK_TYPE_CD;
    return;
  }
  const sectors = Math.max(0, d.chs.cylinders - 1) * d.chs.heads * d.chs.sectorsPerTrack;
  c.cx = Math.floor(sectors / 0x10000) & 0xffff;
  c.dx = sectors & 0xffff;
  c.ah = DISK_TYPE_HD;
}

function eddParameters(c: BiosCall, bios: BiosContext): void {
  const d = driveOf(c, bios);
  if (d === undefined) return;
  const ds = c.sel(SEG_DS);
  const asked = c.readU16(ds, c.si);
  if (asked < DPT_SIZE_1) return diskReturn(c, bios, DISK.badParam);
  const size = asked >= DPT_SIZE_2 ? DPT_SIZE_2 : DPT_SIZE_1;
  const t = new Uint8Array(size);
  const dv = new DataView(t.buffer);
  dv.setUint16(0, size, true);
  const dev = d.backend;
  if (d.medium === 'cdrom') {
    dv.setUint16(2, DPT_FLAGS_CD, true);
    for (let off = 4; off < 24; off += 4) dv.setUint32(off, 0xffffffff, true);
  } else {
    const chs = d.chs ?? { cylinders: 0, heads: 0, sectorsPerTrack: 0 };
    dv.setUint16(2, DPT_FLAGS_HD, true);
    dv.setUint32(4, chs.cylinders, true);
    dv.setUint32(8, chs.heads, true);
    dv.setUint32(12, chs.sectorsPerTrack, true);
    const n = dev?.sectorCount ?? 0;
    dv.setUint32(16, n % 2 ** 32, true);
    dv.setUint32(20, Math.floor(n / 2 ** 32), true);
  }
  dv.setUint16(24, dev?.sectorSize ?? (d.medium === 'cdrom' ? 2048 : 512), true);
  if (size === DPT_SIZE_2) dv.setUint32(26, 0xffffffff, true); // no DPTE (not an ATA controller)
  c.write(ds, c.si, t);
  diskReturn(c, bios, DISK.ok);
}

/** AX=4B00h/4B01h: El Torito emulation status (terminate is a no-op: no disk emulation exists). */
function elToritoStatus(c: BiosCall, bios: BiosContext): void {
  const boot = bios.boot;
  const et = boot?.elTorito;
  if (et === undefined || boot === undefined || c.dl !== boot.drive) return diskReturn(c, bios, DISK.badParam);
  const p = new Uint8Array(ELTORITO_PACKET_BYTES);
  const dv = new DataView(p.buffer);
  p[0] = ELTORITO_PACKET_BYTES;
  p[1] = et.mediaType;
  p[2] = boot.drive;
  p[3] = 0; // controller index
  dv.setUint32(4, et.imageLba, true);
  dv.setUint16(8, 0, true); // device specification
  dv.setUint16(10, 0, true); // user buffer segment
  dv.setUint16(12, et.loadSegment, true);
  dv.setUint16(14, et.sectorCount, true);
  // bytes 16-18: cylinders, sectors, heads of an emulated disk: 0 for no emulation
  c.write(c.sel(SEG_DS), c.si, p);
  diskReturn(c, bios, DISK.ok);
}

function ok(c: BiosCall, bios: BiosContext): void {
  if (driveOf(c, bios) !== undefined) diskReturn(c, bios, DISK.ok);
}

/** INT 13h catalogue. */
export const DISK_SERVICES: readonly BiosService[] = [
  { vector: V, ah: 0x00, name: 'reset disk system', status: 'supported', contract: 'DL=drive -> AH=0, CF=0 (AH=01h, CF=1 for a drive that does not exist).', run: ok },
  {
    vector: V, ah: 0x01, name: 'get status of last operation', status: 'supported', contract: '-> AH=status of the last call on a drive >= 80h (BDA 0x474), CF set if it was an error.',
    run: (c, b) => {
      const v = b.host.memory.readU8(BDA_BASE + BDA.diskLastStatus);
      c.ah = v;
      c.carry = v !== 0;
    },
  },
  { vector: V, ah: 0x02, name: 'read sectors (CHS)', status: 'supported', contract: 'AL=count (1-128), CH=cylinder low, CL=sector | cylinder bits 8-9 << 6, DH=head, DL=drive, ES:BX=buffer -> AL=sectors read, AH=status. Hard disks only (CD-ROMs: AH=01h).', run: (c, b) => chsAccess(c, b, 'read') },
  { vector: V, ah: 0x03, name: 'write sectors (CHS)', status: 'supported', contract: 'As AH=02h, writing; read-only media give AH=03h.', run: (c, b) => chsAccess(c, b, 'write') },
  { vector: V, ah: 0x04, name: 'verify sectors (CHS)', status: 'supported', contract: 'As AH=02h without a transfer.', run: (c, b) => chsAccess(c, b, 'verify') },
  { vector: V, ah: 0x05, name: 'format track', status: 'not-yet', contract: 'AH=01h, CF=1.' },
  { vector: V, ah: 0x08, name: 'get drive parameters', status: 'supported', contract: 'DL=drive -> CH/CL=last cylinder (one reserved) and sectors per track, DH=last head, DL=number of hard disks, AX=0. CD-ROMs and missing drives: AH=01h.', run: driveParameters },
  { vector: V, ah: 0x09, name: 'initialize drive parameters', status: 'supported', contract: 'No-op, AH=0.', run: ok },
  { vector: V, ah: 0x0c, name: 'seek', status: 'supported', contract: 'No-op, AH=0.', run: ok },
  { vector: V, ah: 0x0d, name: 'alternate disk reset', status: 'supported', contract: 'No-op, AH=0.', run: ok },
  { vector: V, ah: 0x10, name: 'check drive ready', status: 'supported', contract: 'AH=0 if the drive has a medium, else AAh.', run: (c, b) => { const d = driveOf(c, b); if (d) diskReturn(c, b, d.backend ? DISK.ok : DISK.notReady); } },
  { vector: V, ah: 0x11, name: 'recalibrate', status: 'supported', contract: 'No-op, AH=0.', run: ok },
  { vector: V, ah: 0x14, name: 'controller diagnostic', status: 'supported', contract: 'No-op, AH=0.', run: ok },
  { vector: V, ah: 0x15, name: 'get disk type', status: 'supported', contract: 'Hard disk: AH=03h, CX:DX=sectors addressable by CHS, CF=0. CD-ROM: AH=01h, CF=0. No drive: AH=01h, CF=1.', run: diskType },
  { vector: V, ah: 0x16, name: 'detect media change', status: 'supported', contract: 'Hard disks: AH=01h, CF=1 (not a removable drive); CD-ROMs: AH=06h, CF=1 (changed).', run: (c, b) => { const d = driveOf(c, b); if (d) diskReturn(c, b, d.medium === 'disk' ? DISK.badParam : DISK.mediaChanged); } },
  {
    vector: V, ah: 0x41, name: 'extensions installation check', status: 'supported', contract: 'BX=55AAh -> BX=AA55h, AH=30h (EDD 3.0), CX=0007h, CF=0.',
    run: (c, b) => {
      if (driveOf(c, b) === undefined) return;
      c.bx = 0xaa55;
      c.cx = EDD_SUPPORT;
      diskReturn(c, b, DISK.ok);
      c.ah = EDD_VERSION;
    },
  },
  { vector: V, ah: 0x42, name: 'extended read', status: 'supported', contract: 'DL=drive, DS:SI=disk address packet {u8 size, u8 0, u16 count, u16 offset, u16 segment, u64 LBA[, u64 flat address if segment:offset=FFFF:FFFF]}; blocks of the drive\'s sector size (2048 on a CD). Success: AH=0, CF=0. Over 64 KiB: AH=09h, count 0. Hard disk: LBA past the end AH=01h (packet untouched); a range running past the end transfers up to the end, AH=0Ch, count = sectors done. CD-ROM: any range reaching past the end AH=0Ch, count 0 (as SeaBIOS with QEMU\'s ATA/ATAPI devices).', run: (c, b) => extendedAccess(c, b, 'read') },
  { vector: V, ah: 0x43, name: 'extended write', status: 'supported', contract: 'As AH=42h, writing (AL=write flags, ignored); CD-ROMs and read-only disks: AH=03h.', run: (c, b) => extendedAccess(c, b, 'write') },
  { vector: V, ah: 0x44, name: 'extended verify', status: 'supported', contract: 'As AH=42h without a transfer.', run: (c, b) => extendedAccess(c, b, 'verify') },
  { vector: V, ah: 0x45, name: 'lock/unlock drive', status: 'partial', contract: 'Accepted with AH=0 (the virtual media cannot be removed anyway).', run: ok },
  { vector: V, ah: 0x46, name: 'eject media', status: 'not-yet', contract: 'Hard disks: AH=B2h; CD-ROMs: AH=01h.', run: (c, b) => { const d = driveOf(c, b); if (d) diskReturn(c, b, d.medium === 'disk' ? DISK.notRemovable : DISK.badParam); } },
  { vector: V, ah: 0x47, name: 'extended seek', status: 'supported', contract: 'DS:SI=packet; AH=0 if the LBA is on the medium, else AH=01h.', run: (c, b) => extendedAccess(c, b, 'seek') },
  { vector: V, ah: 0x48, name: 'get drive parameters (EDD)', status: 'partial', contract: 'DS:SI=buffer with its size (>= 1Ah) -> size 1Ah, or 1Eh with DPTE pointer FFFF:FFFF; flags, CHS, total sectors and sector size (CD-ROM: flags 74h, CHS and sectors all ones, 2048). No EDD 3.0 device path.', run: eddParameters },
  { vector: V, ah: 0x49, name: 'extended media change', status: 'supported', contract: 'Hard disks: AH=0; CD-ROMs: AH=06h, CF=1.', run: (c, b) => { const d = driveOf(c, b); if (d) diskReturn(c, b, d.medium === 'disk' ? DISK.ok : DISK.mediaChanged); } },
  { vector: V, ax: 0x4b00, name: 'El Torito: terminate disk emulation', status: 'supported', contract: 'DL=boot CD, DS:SI=13h-byte specification packet, filled as for 4B01h (there is no disk emulation to end).', run: elToritoStatus },
  { vector: V, ax: 0x4b01, name: 'El Torito: get emulation status', status: 'supported', contract: 'DL=boot CD, DS:SI -> packet {13h, media type (0 = no emulation), drive, controller 0, u32 image LBA, device 0, buffer segment 0, load segment, sector count, CHS 0}, CF=0. Any other drive: AH=01h, CF=1.', run: elToritoStatus },
  {
    vector: V, ah: 0x4e, name: 'set hardware configuration', status: 'supported', contract: 'AL=01h/03h/04h/06h -> AH=0; other AL -> AH=01h.',
    run: (c, b) => { if (driveOf(c, b)) diskReturn(c, b, [1, 3, 4, 6].includes(c.al) ? DISK.ok : DISK.badParam); },
  },
];

/** What INT 13h does with a function it does not have. */
export function diskUnsupported(c: BiosCall, bios: BiosContext): void {
  diskReturn(c, bios, DISK.badParam);
}

/** Virtual (512-byte) sectors per CD sector, for El Torito sector counts. */
export const VIRTUAL_SECTORS_PER_CD_SECTOR = VIRTUAL_PER_CD_SECTOR;

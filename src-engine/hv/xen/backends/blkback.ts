/**
 * The PV block back end: one virtual block device (a `disk=` entry) served over the blkif ring
 * with grants, backed by a BlockBackend (machine/block-backend.ts: image file, ISO, memory).
 *
 * Xenbus handshake (io/xenbus.h states, nodes as libxl and blkback write them): the toolstack
 * creates the front-end directory /local/domain/<D>/device/vbd/<devid> and the back-end directory
 * /local/domain/0/backend/vbd/<D>/<devid>; the back end publishes sectors, info, sector-size,
 * feature-flush-cache and goes to InitWait. When the front end reaches Initialised (or
 * Connected) the back end reads ring-ref, event-channel and protocol, pins the ring page, binds
 * the event channel and goes to Connected. Closing tears it down; Closed/Initialising lets the
 * front end connect again.
 *
 * Requests: READ and WRITE with up to 11 segments (a granted page each, sectors first..last
 * of 512 bytes), FLUSH_DISKCACHE and WRITE_BARRIER (flush), anything else answered
 * BLKIF_RSP_EOPNOTSUPP. A bad segment, a grant that does not check, or an access outside the
 * device is BLKIF_RSP_ERROR for that request only. I/O is synchronous (BlockBackend calls).
 */
import { BlockIoError, type BlockBackend } from '../../../machine/block-backend';
import { GrantError } from '../grant-table';
import { XenFault } from '../abi/xen-errno';
import type { BackendEndpoint } from '../event-channels';
import type { BackendEnv } from './backend-env';
import { touchFrames } from '../mem-util';
import {
  BLKIF_MAX_SEGMENTS, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_WRITE_BARRIER, BLKIF_RSP_EOPNOTSUPP,
  BLKIF_RSP_ERROR, BLKIF_RSP_OKAY, BLKIF_SECTOR, blkifAbi, REQ_NR_SEGMENTS, REQ_OPERATION, RING_ENTRIES_OFFSET, RING_REQ_EVENT,
  RING_REQ_PROD, RING_RSP_EVENT, RING_RSP_PROD, SEG_BYTES, SEG_FIRST, SEG_LAST, VDISK_CDROM, VDISK_READONLY, type BlkifAbi,
} from './blkif';

/** XenbusState values (io/xenbus.h). */
export const XENBUS_INITIALISING = 1;
export const XENBUS_INIT_WAIT = 2;
export const XENBUS_INITIALISED = 3;
export const XENBUS_CONNECTED = 4;
export const XENBUS_CLOSING = 5;
export const XENBUS_CLOSED = 6;
/** 512-byte sectors per 4 KiB page (last_sect is at most 7). */
const SECTORS_PER_PAGE = 8;

/** A request the front end got wrong (answered BLKIF_RSP_ERROR). */
class BadRequest extends Error {}

/** A vbd to serve. */
export interface VbdConfig {
  /** Virtual device number (blkif.ts vbdDeviceNumber). */
  readonly devid: number;
  /** The name as written in disk= (xvda, hda...). */
  readonly vdev: string;
  readonly disk: BlockBackend;
}

/** One vbd of one domain. */
export class BlkBackend {
  readonly frontDir: string;
  readonly backDir: string;
  private ring: { ref: number; frame: number; port: number; abi: BlkifAbi; reqCons: number; rspProd: number } | undefined;
  private readonly endpoint: BackendEndpoint;
  private unwatch: (() => void) | undefined;
  /** Requests served (statistics, tests). */
  served = 0;

  constructor(
    private readonly env: BackendEnv,
    readonly domid: number,
    readonly cfg: VbdConfig,
  ) {
    this.frontDir = `/local/domain/${domid}/device/vbd/${cfg.devid}`;
    this.backDir = `/local/domain/0/backend/vbd/${domid}/${cfg.devid}`;
    this.endpoint = { port: env.allocBackendPort(), notify: () => this.service() };
  }

  /** Creates the xenstore nodes and starts watching the front end. */
  start(): void {
    const xs = this.env.xs;
    const d = this.cfg.disk;
    const type = d.medium === 'cdrom' ? 'cdrom' : 'disk';
    const f = this.frontDir;
    const b = this.backDir;
    xs.write(`${f}/backend`, b);
    xs.write(`${f}/backend-id`, '0');
    xs.write(`${f}/virtual-device`, String(this.cfg.devid));
    xs.write(`${f}/device-type`, type);
    xs.write(`${f}/state`, String(XENBUS_INITIALISING));
    xs.setPermStrings(f, [`n${this.domid}`, 'r0']);
    for (const k of ['backend', 'backend-id', 'virtual-device', 'device-type', 'state']) xs.setPermStrings(`${f}/${k}`, [`n${this.domid}`, 'r0']);
    const bytes = d.sectorCount * d.sectorSize;
    const nodes: [string, string][] = [
      ['frontend', f], ['frontend-id', String(this.domid)], ['online', '1'], ['removable', d.medium === 'cdrom' ? '1' : '0'],
      ['bootable', '1'], ['dev', this.cfg.vdev], ['type', 'file'], ['mode', d.readOnly ? 'r' : 'w'], ['device-type', type],
      ['params', d.name], ['sectors', String(Math.floor(bytes / BLKIF_SECTOR))],
      ['info', String((d.medium === 'cdrom' ? VDISK_CDROM : 0) | (d.readOnly ? VDISK_READONLY : 0))],
      ['sector-size', String(BLKIF_SECTOR)], ['physical-sector-size', String(d.sectorSize)], ['feature-flush-cache', '1'],
      ['feature-barrier', '1'], ['state', String(XENBUS_INIT_WAIT)],
    ];
    for (const [k, v] of nodes) xs.write(`${b}/${k}`, v);
    xs.setPermStrings(b, ['n0', `r${this.domid}`]);
    for (const [k] of nodes) xs.setPermStrings(`${b}/${k}`, ['n0', `r${this.domid}`]);
    this.unwatch = xs.watch(`${f}/state`, () => this.frontendChanged());
  }

  /** The engine end of this vbd's event channel (save images name it). */
  get backendEndpoint(): BackendEndpoint {
    return this.endpoint;
  }

  /** The connected ring (grant ref, port, protocol, indexes) for a save image, or null. */
  saveState(): { ring: { ref: number; port: number; protocol: string; reqCons: number; rspProd: number } | null; served: number } {
    const r = this.ring;
    return { ring: r === undefined ? null : { ref: r.ref, port: r.port, protocol: r.abi.name, reqCons: r.reqCons, rspProd: r.rspProd }, served: this.served };
  }

  /**
   * Takes a saved vbd back (restore): the xenstore nodes are already restored and the guest's
   * port is already connected to backendEndpoint; the ring grant is pinned again and the front
   * end watched. Requests the guest queued but the back end had not consumed are served at the
   * next notification (or service()). Throws GrantError if the ring grant no longer checks.
   */
  resume(s: ReturnType<BlkBackend['saveState']>): void {
    if (s.ring !== null) {
      const abi = blkifAbi(s.ring.protocol);
      if (abi === undefined) throw new BadRequest(`vbd ${this.cfg.vdev}: unknown ring protocol "${s.ring.protocol}"`);
      const frame = this.env.acquireGrant(this.domid, s.ring.ref, true);
      this.ring = { ref: s.ring.ref, frame, port: s.ring.port, abi, reqCons: s.ring.reqCons >>> 0, rspProd: s.ring.rspProd >>> 0 };
    }
    this.served = s.served;
    this.unwatch = this.env.xs.watch(`${this.frontDir}/state`, () => this.frontendChanged());
    // Requests already on the ring (queued before the save, not yet notified) are served now.
    this.service();
  }

  private setState(state: number): void {
    this.env.xs.write(`${this.backDir}/state`, String(state));
  }

  private frontendChanged(): void {
    const state = Number(this.env.xs.tryRead(`${this.frontDir}/state`) ?? XENBUS_CLOSED);
    if ((state === XENBUS_INITIALISED || state === XENBUS_CONNECTED) && this.ring === undefined) this.connect();
    else if (state === XENBUS_CLOSING && this.ring !== undefined) {
      this.disconnect();
      this.setState(XENBUS_CLOSING);
      this.setState(XENBUS_CLOSED);
    } else if ((state === XENBUS_CLOSED || state === XENBUS_INITIALISING) && this.ring === undefined) {
      if (this.env.xs.tryRead(`${this.backDir}/state`) !== String(XENBUS_INIT_WAIT)) this.setState(XENBUS_INIT_WAIT);
    }
  }

  private connect(): void {
    const xs = this.env.xs;
    const ref = Number(xs.tryRead(`${this.frontDir}/ring-ref`));
    const port = Number(xs.tryRead(`${this.frontDir}/event-channel`));
    const abi = blkifAbi(xs.tryRead(`${this.frontDir}/protocol`));
    if (!Number.isInteger(ref) || !Number.isInteger(port) || abi === undefined) {
      this.env.log(`vbd ${this.cfg.vdev} of domain ${this.domid}: front end gave no usable ring-ref/event-channel/protocol`);
      this.setState(XENBUS_CLOSED);
      return;
    }
    let frame: number;
    try {
      frame = this.env.acquireGrant(this.domid, ref, true);
    } catch (e) {
      if (!(e instanceof GrantError)) throw e;
      this.env.log(`vbd ${this.cfg.vdev} of domain ${this.domid}: ring grant ${ref}: ${e.message}`);
      this.setState(XENBUS_CLOSED);
      return;
    }
    try {
      this.env.attachPort(this.domid, port, this.endpoint);
    } catch (e) {
      this.env.releaseGrant(this.domid, ref, true, frame);
      if (!(e instanceof XenFault)) throw e;
      this.env.log(`vbd ${this.cfg.vdev} of domain ${this.domid}: event channel ${port}: ${e.message}`);
      this.setState(XENBUS_CLOSED);
      return;
    }
    // Requests consumed so far = responses produced (0 on a ring the front end just initialised).
    const done = Atomics.load(this.env.pool.mem32, (frame * 4096 + RING_RSP_PROD) >> 2) >>> 0;
    this.ring = { ref, frame, port, abi, reqCons: done, rspProd: done };
    this.setState(XENBUS_CONNECTED);
    this.service();
  }

  private disconnect(): void {
    const r = this.ring;
    if (r === undefined) return;
    this.ring = undefined;
    this.env.detachPort(this.domid, r.port, this.endpoint);
    this.env.releaseGrant(this.domid, r.ref, true, r.frame);
  }

  /** Stops serving (domain destruction). */
  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
    this.disconnect();
  }

  /** Serves every request on the ring (the front end notified, or we connected). */
  service(): void {
    const r = this.ring;
    if (r === undefined) return;
    const m32 = this.env.pool.mem32;
    const base = r.frame * 4096;
    const oldRsp = r.rspProd;
    for (;;) {
      const prod = Atomics.load(m32, (base + RING_REQ_PROD) >> 2) >>> 0;
      if (((prod - r.reqCons) >>> 0) > r.abi.ringSize) {
        this.env.log(`vbd ${this.cfg.vdev} of domain ${this.domid}: request producer ran past the ring; disconnecting`);
        this.disconnect();
        this.setState(XENBUS_CLOSED);
        return;
      }
      while (r.reqCons !== prod) {
        const slot = base + RING_ENTRIES_OFFSET + (r.reqCons % r.abi.ringSize) * r.abi.entryBytes;
        const req = this.env.pool.mem8.slice(slot, slot + r.abi.entryBytes);
        r.reqCons = (r.reqCons + 1) >>> 0;
        this.respond(r, req, this.handle(r.abi, req));
      }
      // RING_FINAL_CHECK_FOR_REQUESTS: ask for a notification at the next request, then re-check.
      Atomics.store(m32, (base + RING_REQ_EVENT) >> 2, (r.reqCons + 1) | 0);
      if ((Atomics.load(m32, (base + RING_REQ_PROD) >> 2) >>> 0) === r.reqCons) break;
    }
    if (r.rspProd === oldRsp) return;
    // RING_PUSH_RESPONSES_AND_CHECK_NOTIFY.
    Atomics.store(m32, (base + RING_RSP_PROD) >> 2, r.rspProd | 0);
    const event = Atomics.load(m32, (base + RING_RSP_EVENT) >> 2) >>> 0;
    if (((r.rspProd - event) >>> 0) < ((r.rspProd - oldRsp) >>> 0)) this.env.raisePort(this.domid, r.port, this.endpoint);
  }

  private respond(r: NonNullable<BlkBackend['ring']>, req: Uint8Array, status: number): void {
    const abi = r.abi;
    const base = r.frame * 4096;
    const at = base + RING_ENTRIES_OFFSET + (r.rspProd % abi.ringSize) * abi.entryBytes;
    const mem = this.env.pool.mem8;
    mem.set(req.subarray(abi.reqId, abi.reqId + 8), at + abi.rspId);
    mem[at + abi.rspOp] = req[REQ_OPERATION];
    new DataView(mem.buffer, mem.byteOffset + at + abi.rspStatus, 2).setInt16(0, status, true);
    touchFrames(this.env.pool.codeMark, this.env.pool.codeGen, at, abi.entryBytes);
    r.rspProd = (r.rspProd + 1) >>> 0;
    this.served++;
  }

  /** Executes one request; returns its BLKIF_RSP_* status. */
  private handle(abi: BlkifAbi, req: Uint8Array): number {
    const op = req[REQ_OPERATION];
    const disk = this.cfg.disk;
    try {
      switch (op) {
        case BLKIF_OP_READ:
        case BLKIF_OP_WRITE:
        case BLKIF_OP_WRITE_BARRIER:
          if (op !== BLKIF_OP_READ && disk.readOnly) return BLKIF_RSP_ERROR;
          this.transfer(abi, req, op === BLKIF_OP_READ);
          if (op === BLKIF_OP_WRITE_BARRIER) disk.flush();
          return BLKIF_RSP_OKAY;
        case BLKIF_OP_FLUSH_DISKCACHE:
          disk.flush();
          return BLKIF_RSP_OKAY;
        default:
          return BLKIF_RSP_EOPNOTSUPP;
      }
    } catch (e) {
      if (e instanceof GrantError || e instanceof BadRequest || e instanceof BlockIoError) return BLKIF_RSP_ERROR;
      throw e;
    }
  }

  /** Moves the data of a READ or WRITE between the device and the granted pages. */
  private transfer(abi: BlkifAbi, req: Uint8Array, read: boolean): void {
    const dv = new DataView(req.buffer, req.byteOffset, req.byteLength);
    const n = req[REQ_NR_SEGMENTS];
    if (n === 0 || n > BLKIF_MAX_SEGMENTS) throw new BadRequest('bad segment count');
    let sector = dv.getUint32(abi.reqSector, true) + dv.getUint32(abi.reqSector + 4, true) * 4294967296;
    const segs: [number, number, number][] = [];
    for (let k = 0; k < n; k++) {
      const o = abi.reqSegments + k * SEG_BYTES;
      const first = req[o + SEG_FIRST];
      const last = req[o + SEG_LAST];
      if (first > last || last >= SECTORS_PER_PAGE) throw new BadRequest('bad segment');
      segs.push([dv.getUint32(o, true), first, last]);
    }
    for (const [gref, first, last] of segs) {
      const count = last - first + 1;
      const frame = this.env.acquireGrant(this.domid, gref, read);
      try {
        const off = frame * 4096 + first * BLKIF_SECTOR;
        const mem = this.env.pool.mem8;
        if (read) {
          mem.set(readBytes(this.cfg.disk, sector * BLKIF_SECTOR, count * BLKIF_SECTOR), off);
          touchFrames(this.env.pool.codeMark, this.env.pool.codeGen, off, count * BLKIF_SECTOR);
        } else {
          writeBytes(this.cfg.disk, sector * BLKIF_SECTOR, mem.slice(off, off + count * BLKIF_SECTOR));
        }
      } finally {
        this.env.releaseGrant(this.domid, gref, read, frame);
      }
      sector += count;
    }
  }
}

/** Reads `len` bytes at byte offset `pos` of a device with any sector size. */
function readBytes(d: BlockBackend, pos: number, len: number): Uint8Array {
  const ss = d.sectorSize;
  const lba = Math.floor(pos / ss);
  const end = Math.ceil((pos + len) / ss);
  const data = d.read(lba, end - lba);
  return data.subarray(pos - lba * ss, pos - lba * ss + len);
}

/** Writes bytes at byte offset `pos`, read-modify-writing partial device sectors. */
function writeBytes(d: BlockBackend, pos: number, bytes: Uint8Array): void {
  const ss = d.sectorSize;
  const lba = Math.floor(pos / ss);
  const end = Math.ceil((pos + bytes.length) / ss);
  const whole = pos % ss === 0 && bytes.length % ss === 0;
  const buf = whole ? bytes : d.read(lba, end - lba).slice();
  if (!whole) buf.set(bytes, pos - lba * ss);
  d.write(lba, buf);
}

/**
 * memory_op (12): memory.h. arg1 = XENMEM_* command in its low 6 bits (MEMOP_CMD_MASK) and, for
 * the reservation calls, the extent to start at above them (MEMOP_EXTENT_SHIFT); arg2 = argument.
 *
 * Ballooning works on guest frames (PVH guests are auto-translated): decrease_reservation gives
 * frames back to the machine pool, populate_physmap fills empty frames up to the domain's
 * maximum. Long requests continue: after MAX_PAGES_PER_CALL pages the call is re-issued with the
 * next start extent in arg1, as Xen's hypercall continuations do. add_to_physmap shows the
 * shared_info page or grant frames at a guest frame (physmap.ts).
 */
import { EINVAL, EPERM, xenCheck, XenFault } from '../abi/xen-errno';
import { XEN_ADD_TO_PHYSMAP, XEN_MEMORY_MAP, XEN_MEMORY_RESERVATION, XEN_REMOVE_FROM_PHYSMAP } from '../abi/layouts';
import { GuestStruct } from '../guest-struct';
import { Physmap } from '../physmap';
import { requireSelf } from './util';
import { noSubop, type HypercallContext, type SubOp } from './types';

/** MEMOP_EXTENT_SHIFT / MEMOP_CMD_MASK. */
export const MEMOP_EXTENT_SHIFT = 6;
export const MEMOP_CMD_MASK = (1 << MEMOP_EXTENT_SHIFT) - 1;
/** Largest extent order a domU may use (Xen's domU max order). */
const MAX_EXTENT_ORDER = 9;
/** Pages handled before a reservation call continues. */
export const MAX_PAGES_PER_CALL = 512;
/** XENMAPSPACE_* (memory.h). */
const XENMAPSPACE_SHARED_INFO = 0;
const XENMAPSPACE_GRANT_TABLE = 1;
const XENMAPSPACE_GMFN = 2;
const XENMAPSPACE_GMFN_RANGE = 3;
const XENMAPSPACE_GMFN_FOREIGN = 4;
/** XENMAPIDX_grant_table_status: v2 status frames. */
const XENMAPIDX_GRANT_TABLE_STATUS = 0x80000000;
/** Bytes of a packed e820 entry in the XENMEM_memory_map buffer. */
const E820_ENTRY_BYTES = 20;

function readDomid(c: HypercallContext): number {
  return c.guest.readU16(c.args[1]);
}

/** The xen_memory_reservation argument of a reservation call (the caller's own domain only). */
function reservation(c: HypercallContext): GuestStruct<keyof typeof XEN_MEMORY_RESERVATION.fields> {
  const r = GuestStruct.read(c.guest, c.args[1], XEN_MEMORY_RESERVATION, c.width);
  requireSelf(c, r.get('domid'));
  return r;
}

/**
 * Runs `perPage` over the extents of a reservation call from the start extent in arg1, with
 * Xen's result: the number of extents done. Stops early (returning how far it got) on a page
 * that cannot be done or a list entry that cannot be read.
 */
function eachExtent(c: HypercallContext, perPage: (gfn: number) => void): number {
  const r = reservation(c);
  const cmd = c.args[0] & MEMOP_CMD_MASK;
  const nr = r.get('nrExtents');
  const order = r.get('extentOrder');
  let i = c.args[0] >>> MEMOP_EXTENT_SHIFT;
  if (order > MAX_EXTENT_ORDER) return i;
  const entry = c.width === 32 ? 4 : 8;
  const list = r.get('extentStart');
  let pages = 0;
  for (; i < nr; i++) {
    if (pages >= MAX_PAGES_PER_CALL) {
      c.continueWith = new Map([[0, cmd | (i << MEMOP_EXTENT_SHIFT)]]);
      return 0;
    }
    let gfn: number;
    try {
      const b = c.guest.read((list + i * entry) >>> 0, entry);
      gfn = new DataView(b.buffer).getUint32(0, true) + (entry === 8 ? new DataView(b.buffer).getUint32(4, true) * 4294967296 : 0);
    } catch (e) {
      if (e instanceof XenFault) return i;
      throw e;
    }
    const n = 2 ** order;
    if (!Physmap.validGfn(gfn) || !Physmap.validGfn(gfn + n - 1) || gfn % n !== 0) return i;
    try {
      for (let k = 0; k < n; k++) perPage(gfn + k);
    } catch (e) {
      if (e instanceof XenFault) return i;
      throw e;
    }
    pages += n;
  }
  return i;
}

function addToPhysmap(c: HypercallContext): number {
  const a = GuestStruct.read(c.guest, c.args[1], XEN_ADD_TO_PHYSMAP, c.width);
  requireSelf(c, a.get('domid'));
  const space = a.get('space');
  const idx = a.get('idx');
  const gpfn = a.get('gpfn');
  xenCheck(Physmap.validGfn(gpfn), EINVAL, `gpfn 0x${gpfn.toString(16)} is outside the guest-physical space`);
  const dom = c.dom;
  switch (space) {
    case XENMAPSPACE_SHARED_INFO:
      xenCheck(idx === 0, EINVAL, 'shared_info has only index 0');
      c.host.mapSharedInfo(dom, gpfn, c.vcpu.id);
      return 0;
    case XENMAPSPACE_GRANT_TABLE: {
      xenCheck(idx < XENMAPIDX_GRANT_TABLE_STATUS, EINVAL, 'status frames exist only in grant table v2');
      xenCheck(idx < dom.grants.maxFrames && dom.grants.grow(idx + 1), EINVAL, `grant frame ${idx} is beyond the table's maximum`);
      const frame = dom.grants.frames[idx];
      const old = dom.physmap.gfnOf(frame);
      if (old >= 0 && old !== gpfn) dom.physmap.clear(old);
      if (old !== gpfn) dom.physmap.mapOverlay(gpfn, 'grant-frame', frame);
      return 0;
    }
    case XENMAPSPACE_GMFN:
      dom.physmap.move(idx, gpfn);
      return 0;
    case XENMAPSPACE_GMFN_RANGE: {
      const size = a.get('size');
      for (let k = 0; k < size; k++) dom.physmap.move(idx + k, gpfn + k);
      return 0;
    }
    case XENMAPSPACE_GMFN_FOREIGN:
      throw new XenFault(EPERM, 'mapping foreign frames needs a privileged domain');
    default:
      throw new XenFault(EINVAL, `map space ${space} does not exist on x86`);
  }
}

/** Sub-operations of memory_op. */
export const MEMORY_OPS: readonly SubOp[] = [
  noSubop(0, 'XENMEM_increase_reservation', 'not-yet', 'auto-translated guests use populate_physmap'),
  {
    nr: 1, name: 'XENMEM_decrease_reservation', status: 'supported', note: 'balloon out: frames go back to the pool; frames mapped by others are refused',
    handler: (c) => eachExtent(c, (g) => c.dom.physmap.release(g)),
  },
  { nr: 2, name: 'XENMEM_maximum_ram_page', status: 'supported', note: 'highest machine frame of the pool', handler: (c) => c.host.pool.totalFrames - 1 },
  {
    nr: 3, name: 'XENMEM_current_reservation', status: 'supported', note: 'pages the domain owns (RAM and special pages)',
    handler: (c) => {
      requireSelf(c, readDomid(c));
      return c.dom.memory.currentPages;
    },
  },
  {
    nr: 4, name: 'XENMEM_maximum_reservation', status: 'supported', note: 'max_pages',
    handler: (c) => {
      requireSelf(c, readDomid(c));
      return c.dom.physmap.maxPages;
    },
  },
  noSubop(5, 'XENMEM_machphys_mfn_list', 'pv-only', 'the M2P is a PV interface'),
  {
    nr: 6, name: 'XENMEM_populate_physmap', status: 'supported', note: 'balloon in: fresh zeroed frames up to max_pages',
    handler: (c) => eachExtent(c, (g) => c.dom.physmap.populate(g)),
  },
  {
    nr: 7, name: 'XENMEM_add_to_physmap', status: 'supported', note: 'shared_info, grant_table (v1 frames), gmfn, gmfn_range',
    handler: addToPhysmap,
  },
  {
    nr: 9, name: 'XENMEM_memory_map', status: 'supported', note: 'the domain E820 map (same as hvm_start_info)',
    handler: (c) => {
      const m = GuestStruct.read(c.guest, c.args[1], XEN_MEMORY_MAP, c.width);
      const map = c.dom.memoryMap;
      const n = Math.min(m.get('nrEntries'), map.length);
      const buf = new Uint8Array(n * E820_ENTRY_BYTES);
      const dv = new DataView(buf.buffer);
      for (let k = 0; k < n; k++) {
        dv.setBigUint64(k * E820_ENTRY_BYTES, BigInt(map[k].base), true);
        dv.setBigUint64(k * E820_ENTRY_BYTES + 8, BigInt(map[k].length), true);
        dv.setUint32(k * E820_ENTRY_BYTES + 16, map[k].type, true);
      }
      c.guest.write(m.get('buffer'), buf);
      m.put('nrEntries', n);
      return 0;
    },
  },
  { nr: 10, name: 'XENMEM_machine_memory_map', status: 'privileged', note: '', caller: 'privileged' },
  noSubop(11, 'XENMEM_exchange', 'pv-only', 'machine-contiguous exchanges mean nothing to an auto-translated guest'),
  noSubop(12, 'XENMEM_machphys_mapping', 'pv-only', ''),
  { nr: 13, name: 'XENMEM_set_memory_map', status: 'privileged', note: '', caller: 'privileged' },
  {
    nr: 14, name: 'XENMEM_maximum_gpfn', status: 'supported', note: 'highest populated guest frame',
    handler: (c) => {
      requireSelf(c, readDomid(c));
      return c.dom.physmap.maxGfn();
    },
  },
  {
    nr: 15, name: 'XENMEM_remove_from_physmap', status: 'supported', note: 'unmaps shared_info/grant frames, frees RAM',
    handler: (c) => {
      const r = GuestStruct.read(c.guest, c.args[1], XEN_REMOVE_FROM_PHYSMAP, c.width);
      requireSelf(c, r.get('domid'));
      const gfn = r.get('gpfn');
      xenCheck(Physmap.validGfn(gfn), EINVAL, 'gpfn out of range');
      xenCheck(c.dom.physmap.overlayAt(gfn)?.kind !== 'foreign', EINVAL, 'grant mappings are removed with GNTTABOP_unmap_grant_ref');
      c.dom.physmap.clear(gfn);
      return 0;
    },
  },
  noSubop(23, 'XENMEM_add_to_physmap_batch', 'not-yet', ''),
  { nr: 24, name: 'XENMEM_claim_pages', status: 'privileged', note: '', caller: 'privileged' },
  noSubop(26, 'XENMEM_get_vnumainfo', 'not-yet', 'no vNUMA'),
  { nr: 28, name: 'XENMEM_acquire_resource', status: 'privileged', note: '', caller: 'privileged' },
];

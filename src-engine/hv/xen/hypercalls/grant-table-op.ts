/**
 * grant_table_op (20): grant_table.h. arg1 = GNTTABOP_*, arg2 = array of argument structures,
 * arg3 = count. Per-element failures go into each element's status (GNTST_*); only unreadable
 * arguments fail the call (-EFAULT), and a wrong count for the single-element operations is
 * -EINVAL. Arrays longer than BATCH continue (arg2 advanced, arg3 reduced), as Xen does.
 */
import { DOMID_SELF } from '../abi/xen-constants';
import { EINVAL, EOPNOTSUPP, xenCheck } from '../abi/xen-errno';
import {
  GNTTAB_COPY, GNTTAB_GET_VERSION, GNTTAB_MAP_GRANT_REF, GNTTAB_QUERY_SIZE, GNTTAB_SET_VERSION, GNTTAB_SETUP_TABLE,
  GNTTAB_UNMAP_GRANT_REF, type StructLayout,
} from '../abi/layouts';
import { copyGrant, GNTCOPY_DEST_GREF, GNTCOPY_SOURCE_GREF, mapGrant, unmapGrant } from '../grant-mapping';
import { GNTST_BAD_DOMAIN, GNTST_GENERAL_ERROR, GNTST_OKAY, GrantError } from '../grant-table';
import { GuestStruct } from '../guest-struct';
import { noSubop, type HypercallContext, type SubOp } from './types';

/** Array elements handled before the call continues. */
export const GRANT_BATCH = 128;
/** The grant table version Domus implements. */
const GRANT_VERSION = 1;
/** INVALID_GFN as a frame_list entry (all ones). */
const INVALID_GFN32 = 0xffffffff;

/** Counts from here on read as negative ints in Xen and are refused. */
const COUNT_LIMIT = 0x80000000;
const ARG_UOP = 1;
const ARG_COUNT = 2;

/** True if `dom` names the caller (grant structures use GNTST_bad_domain for anything else). */
function isSelf(c: HypercallContext, dom: number): boolean {
  return dom === DOMID_SELF || dom === c.dom.domid;
}

/**
 * Runs `one` over the array in arg2/arg3 in batches; statuses come from GrantError. A count with
 * the top bit set is -EINVAL, as in Xen's do_grant_table_op.
 */
function batch<F extends string>(c: HypercallContext, layout: StructLayout<F>, one: (s: GuestStruct<F>) => void): number {
  const count = c.args[ARG_COUNT] >>> 0;
  xenCheck(count < COUNT_LIMIT, EINVAL, `count ${count}`);
  const size = c.width === 32 ? layout.size32 : layout.size64;
  const n = Math.min(count, GRANT_BATCH);
  for (let k = 0; k < n; k++) {
    const s = GuestStruct.read(c.guest, (c.args[ARG_UOP] + k * size) >>> 0, layout, c.width);
    one(s);
  }
  if (count > n) {
    c.continueWith = new Map([
      [ARG_UOP, (c.args[ARG_UOP] + n * size) >>> 0],
      [ARG_COUNT, count - n],
    ]);
  }
  return 0;
}

/** The status a GrantError carries, rethrowing anything else. */
function statusOf(e: unknown): number {
  if (e instanceof GrantError) return e.status;
  throw e;
}

function single(c: HypercallContext): void {
  xenCheck(c.args[ARG_COUNT] === 1, EINVAL, 'this operation takes exactly one element');
}

/** Sub-operations of grant_table_op. */
export const GRANT_OPS: readonly SubOp[] = [
  {
    nr: 0, name: 'GNTTABOP_map_grant_ref', status: 'partial', note: 'host mappings into an empty guest frame; read-only mappings are refused (no P2M permissions)',
    handler: (c) =>
      batch(c, GNTTAB_MAP_GRANT_REF, (s) => {
        try {
          const handle = mapGrant(c.host, c.dom, s.get('dom'), s.get('ref'), s.get('hostAddr'), s.get('flags'));
          s.put('handle', handle);
          s.put('devBusAddr', s.get('hostAddr') - (s.get('hostAddr') % 4096));
          s.put('status', GNTST_OKAY);
        } catch (e) {
          s.put('status', statusOf(e));
        }
      }),
  },
  {
    nr: 1, name: 'GNTTABOP_unmap_grant_ref', status: 'supported', note: '',
    handler: (c) =>
      batch(c, GNTTAB_UNMAP_GRANT_REF, (s) => {
        try {
          unmapGrant(c.host, c.dom, s.get('handle'), s.get('hostAddr'));
          s.put('status', GNTST_OKAY);
        } catch (e) {
          s.put('status', statusOf(e));
        }
      }),
  },
  {
    nr: 2, name: 'GNTTABOP_setup_table', status: 'supported', note: 'grows the table; frame_list gets each frame\'s guest frame (all ones if unmapped)',
    handler: (c) => {
      single(c);
      const s = GuestStruct.read(c.guest, c.args[ARG_UOP], GNTTAB_SETUP_TABLE, c.width);
      if (!isSelf(c, s.get('dom'))) {
        s.put('status', GNTST_BAD_DOMAIN);
        return 0;
      }
      const n = s.get('nrFrames');
      const g = c.dom.grants;
      if (n > g.maxFrames || !g.grow(n)) {
        s.put('status', GNTST_GENERAL_ERROR);
        return 0;
      }
      const entry = c.width === 32 ? 4 : 8;
      const list = new Uint8Array(n * entry);
      const dv = new DataView(list.buffer);
      for (let k = 0; k < n; k++) {
        const gfn = c.dom.physmap.gfnOf(g.frames[k]);
        dv.setUint32(k * entry, gfn < 0 ? INVALID_GFN32 : gfn, true);
        if (entry === 8) dv.setUint32(k * entry + 4, gfn < 0 ? INVALID_GFN32 : 0, true);
      }
      c.guest.write(s.get('frameList'), list);
      s.put('status', GNTST_OKAY);
      return 0;
    },
  },
  noSubop(3, 'GNTTABOP_dump_table', 'not-yet', ''),
  noSubop(4, 'GNTTABOP_transfer', 'pv-only', 'page transfer is a PV interface'),
  {
    nr: 5, name: 'GNTTABOP_copy', status: 'supported', note: 'gref or own-frame on each side, within one page',
    handler: (c) =>
      batch(c, GNTTAB_COPY, (s) => {
        const flags = s.get('flags');
        const side = (gref: boolean, ref: number, dom: number, offset: number) => ({
          gref, ref, offset, domid: dom === DOMID_SELF ? c.dom.domid : dom,
        });
        try {
          copyGrant(
            c.host, c.dom,
            side((flags & GNTCOPY_SOURCE_GREF) !== 0, s.get('srcRef'), s.get('srcDom'), s.get('srcOffset')),
            side((flags & GNTCOPY_DEST_GREF) !== 0, s.get('dstRef'), s.get('dstDom'), s.get('dstOffset')),
            s.get('len'),
          );
          s.put('status', GNTST_OKAY);
        } catch (e) {
          s.put('status', statusOf(e));
        }
      }),
  },
  {
    nr: 6, name: 'GNTTABOP_query_size', status: 'supported', note: '',
    handler: (c) => {
      single(c);
      const s = GuestStruct.read(c.guest, c.args[ARG_UOP], GNTTAB_QUERY_SIZE, c.width);
      if (!isSelf(c, s.get('dom'))) {
        s.put('status', GNTST_BAD_DOMAIN);
        return 0;
      }
      s.put('nrFrames', c.dom.grants.nrFrames);
      s.put('maxNrFrames', c.dom.grants.maxFrames);
      s.put('status', GNTST_OKAY);
      return 0;
    },
  },
  noSubop(7, 'GNTTABOP_unmap_and_replace', 'pv-only', ''),
  {
    nr: 8, name: 'GNTTABOP_set_version', status: 'partial', note: 'version 1 only (2 is refused with -EOPNOTSUPP)',
    handler: (c) => {
      single(c);
      const s = GuestStruct.read(c.guest, c.args[ARG_UOP], GNTTAB_SET_VERSION, c.width);
      const asked = s.get('version');
      s.put('version', GRANT_VERSION);
      xenCheck(asked === GRANT_VERSION, asked === 2 ? EOPNOTSUPP : EINVAL, `grant table version ${asked}`);
      return 0;
    },
  },
  noSubop(9, 'GNTTABOP_get_status_frames', 'not-yet', 'version 2 only'),
  {
    nr: 10, name: 'GNTTABOP_get_version', status: 'supported', note: 'always 1',
    handler: (c) => {
      single(c);
      const s = GuestStruct.read(c.guest, c.args[ARG_UOP], GNTTAB_GET_VERSION, c.width);
      xenCheck(isSelf(c, s.get('dom')), EINVAL, 'only the caller\'s own version can be read');
      s.put('version', GRANT_VERSION);
      return 0;
    },
  },
  noSubop(11, 'GNTTABOP_swap_grant_ref', 'not-yet', ''),
  noSubop(12, 'GNTTABOP_cache_flush', 'not-yet', 'ARM only'),
];

/**
 * Using grants: a guest back end maps another domain's granted frame into its own
 * guest-physical space (GNTTABOP_map_grant_ref / unmap_grant_ref), copies through grants
 * (GNTTABOP_copy), and the engine's own back ends pin granted frames while they read or write
 * them (acquireGrant / releaseGrant).
 *
 * Design. Every use pins the grant entry (grant-table.ts) and the machine frame
 * (physmap.ts PinnedFrames), so the granting domain can neither revoke nor balloon out a frame in
 * use, and a frame whose owner is destroyed while mapped elsewhere goes back to the pool only
 * when the last user lets go. A host mapping is a P2M entry of the mapper pointing at the
 * grantor's machine frame, recorded in the mapper's maptrack (handle -> mapping).
 *
 * Deviation: the P2M has no per-entry permissions, so a read-only host mapping
 * (GNTMAP_readonly) cannot be enforced and is refused with GNTST_general_error; read-only grants
 * can still be used through GNTTABOP_copy.
 */
import type { MachineMemory } from '../memory/machine-memory';
import { FRAME_SIZE } from '../memory/machine-memory';
import { DEFAULT_MAX_MAPTRACK } from './abi/xen-constants';
import {
  GNTST_BAD_COPY_ARG, GNTST_BAD_DOMAIN, GNTST_BAD_GNTREF, GNTST_BAD_HANDLE, GNTST_BAD_PAGE, GNTST_BAD_VIRT_ADDR,
  GNTST_GENERAL_ERROR, GNTST_NO_SPACE, GrantError,
} from './grant-table';
import { touchFrames } from './mem-util';
import { Physmap, type PinnedFrames } from './physmap';
import type { XenDomain } from './xen-domain';

/** GNTMAP_device_map. */
export const GNTMAP_DEVICE_MAP = 1 << 0;
/** GNTMAP_host_map. */
export const GNTMAP_HOST_MAP = 1 << 1;
/** GNTMAP_readonly. */
export const GNTMAP_READONLY = 1 << 2;
/** GNTMAP_contains_pte (PV page-table updates). */
export const GNTMAP_CONTAINS_PTE = 1 << 4;
/** GNTCOPY_source_gref / GNTCOPY_dest_gref. */
export const GNTCOPY_SOURCE_GREF = 1 << 0;
export const GNTCOPY_DEST_GREF = 1 << 1;

/** One host mapping a domain made. */
export interface GrantMapRecord {
  readonly grantor: number;
  readonly ref: number;
  /** The mapper's guest frame. */
  readonly gfn: number;
  /** The granted machine frame. */
  readonly frame: number;
  /** The grantor's guest frame of it (when it was mapped). */
  readonly grantorGfn: number;
}

/** What the grant operations need from the host. */
export interface GrantEnv {
  readonly pool: MachineMemory;
  readonly pinned: PinnedFrames;
  domain(domid: number): XenDomain | undefined;
}

/**
 * Pins grant `ref` of domain `grantorId` for `grantee` and returns the granted machine frame.
 * Throws GrantError (bad domain, bad ref, permission denied, bad page).
 */
export function acquireGrant(env: GrantEnv, grantorId: number, ref: number, grantee: number, write: boolean): number {
  return acquireGrantAt(env, grantorId, ref, grantee, write)[0];
}

/** acquireGrant, also returning the grantor's guest frame: [machine frame, grantor gfn]. */
function acquireGrantAt(env: GrantEnv, grantorId: number, ref: number, grantee: number, write: boolean): [number, number] {
  const grantor = env.domain(grantorId);
  if (grantor === undefined || grantor.dying) {
    throw new GrantError(GNTST_BAD_DOMAIN, `domain ${grantorId} does not exist`);
  }
  const gfn = grantor.grants.pin(ref, grantee, write);
  if (!grantor.physmap.isOwnRam(gfn)) {
    grantor.grants.unpin(ref, write);
    throw new GrantError(GNTST_BAD_PAGE, `grant ${ref} of domain ${grantorId} names frame 0x${gfn.toString(16)}, which is not its RAM`);
  }
  const frame = grantor.physmap.frameAt(gfn);
  env.pinned.pin(frame);
  return [frame, gfn];
}

/** Drops a pin taken by acquireGrant (the grantor may be gone by now). */
export function releaseGrant(env: GrantEnv, grantorId: number, ref: number, write: boolean, frame: number): void {
  env.domain(grantorId)?.grants.unpin(ref, write);
  if (env.pinned.unpin(frame)) env.pool.free([frame]);
}

/** GNTTABOP_map_grant_ref for an auto-translated mapper: returns the new handle. */
export function mapGrant(env: GrantEnv, mapper: XenDomain, grantorId: number, ref: number, hostAddr: number, flags: number): number {
  if ((flags & (GNTMAP_HOST_MAP | GNTMAP_DEVICE_MAP)) === 0) throw new GrantError(GNTST_BAD_GNTREF, 'neither host nor device mapping asked for');
  if ((flags & GNTMAP_CONTAINS_PTE) !== 0) throw new GrantError(GNTST_GENERAL_ERROR, 'PTE mappings are for PV guests');
  if ((flags & GNTMAP_READONLY) !== 0) throw new GrantError(GNTST_GENERAL_ERROR, 'read-only host mappings cannot be enforced (use GNTTABOP_copy)');
  const gfn = Math.floor(hostAddr / FRAME_SIZE);
  if (!Physmap.validGfn(gfn) || mapper.memory.p2m[gfn] !== 0) {
    throw new GrantError(GNTST_BAD_VIRT_ADDR, `guest frame 0x${gfn.toString(16)} is not an empty frame to map into`);
  }
  if (mapper.maptrack.size >= DEFAULT_MAX_MAPTRACK) throw new GrantError(GNTST_NO_SPACE, 'no free maptrack handles');
  const [frame, grantorGfn] = acquireGrantAt(env, grantorId, ref, mapper.domid, true);
  mapper.physmap.mapOverlay(gfn, 'foreign', frame);
  const handle = mapper.nextHandle++;
  mapper.maptrack.set(handle, { grantor: grantorId, ref, gfn, frame, grantorGfn });
  return handle;
}

/** GNTTABOP_unmap_grant_ref: `hostAddr` 0 means "wherever the handle mapped it". */
export function unmapGrant(env: GrantEnv, mapper: XenDomain, handle: number, hostAddr: number): void {
  const m = mapper.maptrack.get(handle);
  if (m === undefined) throw new GrantError(GNTST_BAD_HANDLE, `no grant mapping with handle ${handle}`);
  if (hostAddr !== 0 && Math.floor(hostAddr / FRAME_SIZE) !== m.gfn) throw new GrantError(GNTST_BAD_VIRT_ADDR, 'handle maps a different frame');
  mapper.maptrack.delete(handle);
  if (mapper.physmap.overlayAt(m.gfn)?.frame === m.frame) mapper.physmap.clear(m.gfn);
  releaseGrant(env, m.grantor, m.ref, true, m.frame);
}

/** Unmaps everything a domain mapped (its destruction). */
export function unmapAll(env: GrantEnv, mapper: XenDomain): void {
  for (const h of [...mapper.maptrack.keys()]) unmapGrant(env, mapper, h, 0);
}

/** One side of a GNTTABOP_copy. */
export interface CopySide {
  readonly gref: boolean;
  /** Grant ref (gref) or guest frame of the caller. */
  readonly ref: number;
  readonly domid: number;
  readonly offset: number;
}

/** GNTTABOP_copy of `len` bytes for `caller`; throws GrantError with the status. */
export function copyGrant(env: GrantEnv, caller: XenDomain, src: CopySide, dst: CopySide, len: number): void {
  if (src.offset + len > FRAME_SIZE || dst.offset + len > FRAME_SIZE) throw new GrantError(GNTST_BAD_COPY_ARG, 'copy crosses a page boundary');
  const held: [number, number, boolean, number][] = [];
  const frameOf = (side: CopySide, write: boolean): number => {
    if (side.gref) {
      const f = acquireGrant(env, side.domid, side.ref, caller.domid, write);
      held.push([side.domid, side.ref, write, f]);
      return f;
    }
    if (side.domid !== caller.domid) throw new GrantError(GNTST_BAD_DOMAIN, 'a frame-number side must be the caller itself');
    if (!caller.physmap.isOwnRam(side.ref)) throw new GrantError(GNTST_BAD_PAGE, `frame 0x${side.ref.toString(16)} is not the caller's RAM`);
    return caller.physmap.frameAt(side.ref);
  };
  try {
    const s = frameOf(src, false) * FRAME_SIZE + src.offset;
    const d = frameOf(dst, true) * FRAME_SIZE + dst.offset;
    const mem = env.pool.mem8;
    mem.copyWithin(d, s, s + len);
    touchFrames(env.pool.codeMark, env.pool.codeGen, d, len);
  } finally {
    for (const [dom, ref, write, f] of held) releaseGrant(env, dom, ref, write, f);
  }
}

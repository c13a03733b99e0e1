/**
 * Guest-physical map edits a Xen guest asks for, on top of the domain's P2M (hv/memory):
 * hypervisor pages shown at a guest-chosen frame (shared_info, grant-table frames), foreign
 * frames mapped through grants, ballooning (populate_physmap / decrease_reservation) and
 * remove_from_physmap.
 *
 * Design. The P2M entry of a guest frame is (machine frame + 1). Frames the domain owns (its
 * RAM) are counted by DomainMemory; frames shown here but owned elsewhere (hypervisor pages,
 * another domain's granted frames) are "overlays": this map remembers them so they are never
 * handed back to the pool as if they were the domain's RAM, and removes them before the domain's
 * memory is released. A frame that another domain (or an engine back end) has mapped through a
 * grant is "pinned": ballooning it out is refused until it is unmapped, so no domain can ever
 * reach a frame after it returned to the pool.
 *
 * Every change calls `changed()` so the runtime can flush the translations of the pCPUs that
 * run the domain (their TLBs cache linear -> machine).
 */
import type { DomainMemory } from '../memory/domain-memory';
import { P2M_ENTRIES } from '../memory/domain-memory';
import { EBUSY, EINVAL, ENOMEM, xenCheck } from './abi/xen-errno';

/** What an overlay holds. */
export type OverlayKind = 'shared-info' | 'grant-frame' | 'foreign';

/** A frame shown at a guest frame but not owned by the domain as RAM. */
export interface Overlay {
  readonly kind: OverlayKind;
  readonly frame: number;
}

/**
 * Machine frames mapped through grants somewhere, with a count (host-wide). When the owner of a
 * pinned frame is destroyed, the frame is "orphaned": taken out of its P2M so the owner's
 * memory release skips it, and given back to the pool by whoever drops the last pin.
 */
export class PinnedFrames {
  private readonly pins = new Map<number, number>();
  private readonly orphans = new Set<number>();

  pin(frame: number): void {
    this.pins.set(frame, (this.pins.get(frame) ?? 0) + 1);
  }

  /** Drops one pin; true if that was the last pin of an orphaned frame (the caller frees it). */
  unpin(frame: number): boolean {
    const n = (this.pins.get(frame) ?? 0) - 1;
    if (n > 0) {
      this.pins.set(frame, n);
      return false;
    }
    this.pins.delete(frame);
    return this.orphans.delete(frame);
  }

  isPinned(frame: number): boolean {
    return this.pins.has(frame);
  }

  /** Marks a pinned frame whose owner is gone. */
  orphan(frame: number): void {
    if (this.pins.has(frame)) this.orphans.add(frame);
  }
}

/** The Xen view of one domain's P2M. */
export class Physmap {
  private readonly overlays = new Map<number, Overlay>();

  constructor(
    readonly memory: DomainMemory,
    private readonly pinned: PinnedFrames,
    /** Pages the domain may own at most (Xen's max_pages). */
    public maxPages: number,
    private readonly changed: () => void,
  ) {}

  /** True if `gfn` is a valid guest frame number. */
  static validGfn(gfn: number): boolean {
    return Number.isInteger(gfn) && gfn >= 0 && gfn < P2M_ENTRIES;
  }

  /** Machine frame at `gfn`, or -1. */
  frameAt(gfn: number): number {
    if (!Physmap.validGfn(gfn)) return -1;
    return this.memory.p2m[gfn] - 1;
  }

  /** The overlay at `gfn`, if any. */
  overlayAt(gfn: number): Overlay | undefined {
    return this.overlays.get(gfn);
  }

  /** True if `gfn` holds the domain's own RAM (not an overlay). */
  isOwnRam(gfn: number): boolean {
    return this.frameAt(gfn) >= 0 && !this.overlays.has(gfn);
  }

  /**
   * Shows machine `frame` at `gfn`. RAM already there is given back to the pool (as Xen frees
   * the page it replaces); an older overlay there is removed. EBUSY if that RAM is pinned.
   */
  mapOverlay(gfn: number, kind: OverlayKind, frame: number): void {
    xenCheck(Physmap.validGfn(gfn), EINVAL, `gfn 0x${gfn.toString(16)} is outside the guest-physical space`);
    this.clear(gfn);
    Atomics.store(this.memory.p2m, gfn, frame + 1);
    this.overlays.set(gfn, { kind, frame });
    this.changed();
  }

  /** Removes whatever is at `gfn`: an overlay is unmapped, RAM goes back to the pool. */
  clear(gfn: number): void {
    if (!Physmap.validGfn(gfn)) return;
    const m = this.memory.p2m[gfn];
    if (m === 0) return;
    if (this.overlays.delete(gfn)) {
      Atomics.store(this.memory.p2m, gfn, 0);
    } else {
      xenCheck(!this.pinned.isPinned(m - 1), EBUSY, `gfn 0x${gfn.toString(16)} is mapped by another domain`);
      this.memory.depopulate(gfn);
    }
    this.changed();
  }

  /** The guest frame a given overlay frame is shown at, or -1. */
  gfnOf(frame: number): number {
    for (const [g, o] of this.overlays) if (o.frame === frame) return g;
    return -1;
  }

  /** populate_physmap of one page: fresh zeroed RAM at an empty `gfn` (ENOMEM over max_pages). */
  populate(gfn: number): void {
    xenCheck(Physmap.validGfn(gfn), EINVAL, 'gfn out of range');
    if (this.memory.p2m[gfn] !== 0) return;
    xenCheck(this.memory.currentPages < this.maxPages, ENOMEM, 'the domain is at its maximum reservation');
    xenCheck(this.memory.pool.freeFrames > 0, ENOMEM, 'the machine pool is empty');
    this.memory.populate(gfn);
    this.changed();
  }

  /** decrease_reservation of one page. */
  release(gfn: number): void {
    xenCheck(Physmap.validGfn(gfn) && this.memory.p2m[gfn] !== 0, EINVAL, `gfn 0x${gfn.toString(16)} is not populated`);
    this.clear(gfn);
  }

  /** XENMAPSPACE_gmfn: moves the RAM frame at `from` to `to` (whatever was at `to` is removed). */
  move(from: number, to: number): void {
    xenCheck(Physmap.validGfn(from) && Physmap.validGfn(to), EINVAL, 'gfn out of range');
    xenCheck(this.isOwnRam(from), EINVAL, `gfn 0x${from.toString(16)} is not RAM of the domain`);
    if (from === to) return;
    const m = this.memory.p2m[from];
    xenCheck(!this.pinned.isPinned(m - 1), EBUSY, `gfn 0x${from.toString(16)} is mapped by another domain`);
    this.clear(to);
    Atomics.store(this.memory.p2m, from, 0);
    Atomics.store(this.memory.p2m, to, m);
    this.changed();
  }

  /** The highest populated guest frame (XENMEM_maximum_gpfn), 0 if none. */
  maxGfn(): number {
    const p2m = this.memory.p2m;
    for (let g = P2M_ENTRIES - 1; g > 0; g--) if (p2m[g] !== 0) return g;
    return 0;
  }

  /** Every overlay (for teardown and dumps). */
  entries(): [number, Overlay][] {
    return [...this.overlays];
  }

  /** Unmaps every overlay (before the domain's memory is released). */
  dropOverlays(): void {
    for (const gfn of [...this.overlays.keys()]) {
      Atomics.store(this.memory.p2m, gfn, 0);
      this.overlays.delete(gfn);
    }
    this.changed();
  }
}

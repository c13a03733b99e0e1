/**
 * One domain's grant table (grant_table.h, version 1): the shared frames of grant entries the
 * guest fills in, and the pins other parties hold on its entries while they use the granted
 * frames.
 *
 * Design. Grant frames are hypervisor pages (allocated from the machine pool, owned here) that
 * the guest shows at frames of its choice with XENMEM_add_to_physmap or reads back from
 * GNTTABOP_setup_table. A v1 entry is {flags u16, domid u16, frame u32}; `frame` is a guest
 * frame of the granting domain (PVH guests are auto-translated). Whoever uses a grant - a guest
 * backend through GNTTABOP_map_grant_ref or GNTTABOP_copy, or an engine back end - pins the
 * entry: GTF_reading (and GTF_writing for write access) are set in the shared entry with a
 * compare-and-swap that re-checks the type and grantee, exactly as Xen does, so the granting
 * guest sees its grant is in use and cannot revoke it under the user's feet.
 *
 * Concurrency. Entries are written by the guest at any time; the flags word is changed here only
 * with Atomics.compareExchange / Atomics.and on the 32-bit word holding flags and domid.
 */
import type { MachineMemory } from '../memory/machine-memory';
import { FRAME_SIZE } from '../memory/machine-memory';

/** GTF_permit_access: the grantee may map or copy the frame. */
export const GTF_PERMIT_ACCESS = 1;
/** GTF_type_mask. */
export const GTF_TYPE_MASK = 3;
/** GTF_readonly: read access only. */
export const GTF_READONLY = 1 << 2;
/** GTF_reading: the grantee is using the frame (set by the hypervisor). */
export const GTF_READING = 1 << 3;
/** GTF_writing: the grantee may be writing the frame (set by the hypervisor). */
export const GTF_WRITING = 1 << 4;

/** GNTST_okay. */
export const GNTST_OKAY = 0;
/** GNTST_general_error. */
export const GNTST_GENERAL_ERROR = -1;
/** GNTST_bad_domain. */
export const GNTST_BAD_DOMAIN = -2;
/** GNTST_bad_gntref. */
export const GNTST_BAD_GNTREF = -3;
/** GNTST_bad_handle. */
export const GNTST_BAD_HANDLE = -4;
/** GNTST_bad_virt_addr. */
export const GNTST_BAD_VIRT_ADDR = -5;
/** GNTST_permission_denied. */
export const GNTST_PERMISSION_DENIED = -8;
/** GNTST_bad_page. */
export const GNTST_BAD_PAGE = -9;
/** GNTST_bad_copy_arg. */
export const GNTST_BAD_COPY_ARG = -10;
/** GNTST_no_space (maptrack handles). */
export const GNTST_NO_SPACE = -13;

/** Bytes of a v1 grant entry. */
export const GRANT_ENTRY_BYTES = 8;
/** v1 entries per grant frame. */
export const ENTRIES_PER_FRAME = FRAME_SIZE / GRANT_ENTRY_BYTES;
/** GNTTAB_NR_RESERVED_ENTRIES: refs the toolstack keeps (console 0, xenstore 1). */
export const GNTTAB_NR_RESERVED_ENTRIES = 8;

/** A grant-table operation that failed with a GNTST_* status (not an Error: no stack trace). */
export class GrantError {
  readonly name = 'GrantError';

  constructor(
    readonly status: number,
    readonly message: string,
  ) {}
}

/** A decoded v1 entry. */
export interface GrantEntry {
  flags: number;
  domid: number;
  frame: number;
}

/** One domain's v1 grant table. */
export class GrantTable {
  /** Machine frames of the table, in grant-frame order. */
  readonly frames: number[] = [];
  /** Pins held on our entries: ref -> [all pins, write pins]. */
  private readonly pins = new Map<number, [number, number]>();

  constructor(
    private readonly pool: MachineMemory,
    private readonly owner: string,
    /** max_grant_frames. */
    readonly maxFrames: number,
  ) {}

  /** Number of frames the table has now. */
  get nrFrames(): number {
    return this.frames.length;
  }

  /** Grows the table to `n` frames (zeroed). False if over the maximum or the pool is short. */
  grow(n: number): boolean {
    if (n > this.maxFrames) return false;
    if (n <= this.frames.length) return true;
    const need = n - this.frames.length;
    if (need > this.pool.freeFrames) return false;
    for (const f of this.pool.allocate(need, `grant table of ${this.owner}`)) this.frames.push(f);
    return true;
  }

  /** Machine byte offset of entry `ref`, or -1 if the table does not reach it. */
  entryOffset(ref: number): number {
    if (!Number.isInteger(ref) || ref < 0 || ref >= this.frames.length * ENTRIES_PER_FRAME) return -1;
    return this.frames[Math.floor(ref / ENTRIES_PER_FRAME)] * FRAME_SIZE + (ref % ENTRIES_PER_FRAME) * GRANT_ENTRY_BYTES;
  }

  /** Reads entry `ref` (no checks beyond range). */
  read(ref: number): GrantEntry | undefined {
    const off = this.entryOffset(ref);
    if (off < 0) return undefined;
    const w = Atomics.load(this.pool.mem32, off >> 2);
    return { flags: w & 0xffff, domid: w >>> 16, frame: Atomics.load(this.pool.mem32, (off >> 2) + 1) >>> 0 };
  }

  /**
   * Pins entry `ref` for `grantee` (read, or read+write): checks it is a permit-access grant to
   * `grantee` (and not read-only for a write), sets GTF_reading/GTF_writing, and returns the
   * granted guest frame. Throws GrantError with Xen's status otherwise.
   */
  pin(ref: number, grantee: number, write: boolean): number {
    const off = this.entryOffset(ref);
    if (off < 0) throw new GrantError(GNTST_BAD_GNTREF, `grant ref ${ref} is beyond the table`);
    const idx = off >> 2;
    const mem = this.pool.mem32;
    for (;;) {
      const w = Atomics.load(mem, idx);
      const flags = w & 0xffff;
      if ((flags & GTF_TYPE_MASK) !== GTF_PERMIT_ACCESS || w >>> 16 !== grantee) {
        throw new GrantError(GNTST_PERMISSION_DENIED, `grant ref ${ref} is not granted to domain ${grantee}`);
      }
      if (write && (flags & GTF_READONLY) !== 0) throw new GrantError(GNTST_PERMISSION_DENIED, `grant ref ${ref} is read-only`);
      const nw = w | GTF_READING | (write ? GTF_WRITING : 0);
      if (Atomics.compareExchange(mem, idx, w, nw) === w) break;
    }
    const p = this.pins.get(ref) ?? [0, 0];
    p[0]++;
    if (write) p[1]++;
    this.pins.set(ref, p);
    return Atomics.load(mem, idx + 1) >>> 0;
  }

  /** Drops a pin taken by pin(); clears GTF_writing / GTF_reading when the last one goes. */
  unpin(ref: number, write: boolean): void {
    const p = this.pins.get(ref);
    const off = this.entryOffset(ref);
    if (p === undefined || off < 0) return;
    p[0]--;
    if (write) p[1]--;
    let clear = 0;
    if (p[1] === 0) clear |= GTF_WRITING;
    if (p[0] === 0) {
      clear |= GTF_READING;
      this.pins.delete(ref);
    }
    if (clear !== 0) Atomics.and(this.pool.mem32, off >> 2, ~clear);
  }

  /** Pins outstanding on entry `ref` (tests, dumps). */
  pinCount(ref: number): number {
    return this.pins.get(ref)?.[0] ?? 0;
  }

  /** Returns the table's frames to the pool (domain destruction, after unmapping them). */
  release(): void {
    this.pool.free(this.frames);
    this.frames.length = 0;
    this.pins.clear();
  }
}

/**
 * Where a direct-boot loader puts things in guest RAM. It knows the E820 RAM ranges and everything
 * already placed; it places blocks at fixed addresses (kernel segments) or finds the lowest (or
 * highest) free aligned block in a window (modules, ELF sections, the boot information), the way
 * GRUB's relocator does with GRUB_RELOCATOR_PREFERENCE_NONE/LOW and _HIGH.
 *
 * Only addresses below 4 GiB are handed out: both multiboot protocols pass 32-bit pointers.
 */
import { BootError } from '../base/errors';
import type { GuestPhysMemory } from '../machine/guest-memory';
import { E820_RAM, EBDA_START, HIGH_MEMORY_START, type E820Entry } from './e820';

/** 4 GiB: the first address a 32-bit boot protocol cannot express. */
export const ADDRESS_LIMIT_32 = 0x1_0000_0000;

/** What a placed block holds (for --stats and tests). */
export type BootRegionKind = 'kernel' | 'elf-section' | 'module' | 'boot-info' | 'gdt';

/** A block of guest RAM the loader filled: [start, end). */
export interface BootRegion {
  readonly kind: BootRegionKind;
  readonly start: number;
  readonly end: number;
  /** Human description, e.g. "kernel segment 0" or "module /boot/app". */
  readonly what: string;
}

/** A request for a block anywhere in a window. */
export interface BootAllocation {
  readonly kind: BootRegionKind;
  readonly what: string;
  readonly length: number;
  /** Alignment of the start address (a positive integer; 1 = none). */
  readonly align: number;
  /** Lowest allowed start address. */
  readonly min: number;
  /** The block must end at or below this address. */
  readonly max: number;
  /** 'low' takes the lowest fitting address, 'high' the highest. */
  readonly preference: 'low' | 'high';
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Free-RAM bookkeeping for one load. `path` names the kernel in error messages. */
export class BootPlacement {
  private readonly ram: Array<{ start: number; end: number }>;
  private readonly placed: BootRegion[] = [];

  constructor(
    private readonly map: readonly E820Entry[],
    private readonly memory: GuestPhysMemory,
    private readonly path: string,
  ) {
    this.ram = map
      .filter((e) => e.type === E820_RAM)
      .map((e) => ({ start: e.base, end: Math.min(e.base + e.length, ADDRESS_LIMIT_32) }))
      .filter((r) => r.end > r.start)
      .sort((a, b) => a.start - b.start);
  }

  /** Everything placed so far, sorted by address. */
  get regions(): readonly BootRegion[] {
    return [...this.placed].sort((a, b) => a.start - b.start);
  }

  /**
   * Places [start, start+length) at a fixed address. Throws a BootError saying what is in the way:
   * the low-memory hole, a reserved range, the end of RAM, or an earlier block.
   */
  claim(kind: BootRegionKind, what: string, start: number, length: number): BootRegion {
    const end = start + length;
    const range = `${what} [${hex(start)}, ${hex(end)})`;
    if (!this.insideRam(start, end)) throw this.fail('outside-ram', `${range} ${this.whyNotRam(start, end)}`);
    const other = this.placed.find((r) => start < r.end && r.start < end);
    if (other) throw this.fail('overlap', `${range} overlaps ${other.what} [${hex(other.start)}, ${hex(other.end)})`);
    return this.record({ kind, what, start, end });
  }

  /** Places a block by `req`, or returns undefined if no free RAM in the window fits it. */
  allocate(req: BootAllocation): BootRegion | undefined {
    const starts = this.ram.map((r) => this.fitIn(r, req)).filter((s): s is number => s !== undefined);
    if (starts.length === 0) return undefined;
    const start = req.preference === 'low' ? Math.min(...starts) : Math.max(...starts);
    return this.record({ kind: req.kind, what: req.what, start, end: start + req.length });
  }

  /** The largest free block (in bytes) inside [min, max), for error messages. */
  largestFree(min: number, max: number): number {
    let best = 0;
    for (const r of this.ram) {
      let cursor = Math.max(r.start, min);
      const limit = Math.min(r.end, max);
      for (const p of this.sortedPlaced()) {
        if (p.end <= cursor || p.start >= limit) continue;
        best = Math.max(best, p.start - cursor);
        cursor = Math.max(cursor, p.end);
      }
      best = Math.max(best, limit - cursor);
    }
    return best;
  }

  /** The lowest/highest aligned start of a free block for `req` inside one RAM range. */
  private fitIn(ram: { start: number; end: number }, req: BootAllocation): number | undefined {
    const lo = Math.max(ram.start, req.min);
    const hi = Math.min(ram.end, req.max);
    if (hi - lo < req.length) return undefined;
    const busy = this.sortedPlaced();
    if (req.preference === 'low') {
      let s = alignUp(lo, req.align);
      for (const p of busy) if (s < p.end && p.start < s + req.length) s = alignUp(p.end, req.align);
      return s + req.length <= hi ? s : undefined;
    }
    let s = alignDown(hi - req.length, req.align);
    for (const p of [...busy].reverse()) if (s < p.end && p.start < s + req.length) s = alignDown(p.start - req.length, req.align);
    return s >= lo ? s : undefined;
  }

  private sortedPlaced(): BootRegion[] {
    return [...this.placed].sort((a, b) => a.start - b.start);
  }

  private record(region: BootRegion): BootRegion {
    if (region.end > region.start && !this.memory.isRam(region.start, region.end - region.start)) {
      throw this.fail(
        'memory-map-mismatch',
        `${region.what} [${hex(region.start)}, ${hex(region.end)}) is RAM in the memory map but not in the guest's memory (${this.memory.ramSize} bytes); the memory map and the RAM size disagree`,
      );
    }
    this.placed.push(region);
    return region;
  }

  private insideRam(start: number, end: number): boolean {
    return start >= 0 && end <= ADDRESS_LIMIT_32 && this.ram.some((r) => start >= r.start && end <= r.end);
  }

  private whyNotRam(start: number, end: number): string {
    if (end > ADDRESS_LIMIT_32) return 'is above 4 GiB, out of reach of a 32-bit boot protocol';
    if (start < HIGH_MEMORY_START && end > EBDA_START) {
      return `overlaps the low-memory hole [${hex(EBDA_START)}, ${hex(HIGH_MEMORY_START)}) (EBDA, VGA window and BIOS); link the kernel at 1 MiB or above, or below ${hex(EBDA_START)}`;
    }
    const top = Math.max(...this.map.filter((e) => e.type === E820_RAM).map((e) => e.base + e.length));
    if (end > top) {
      return `is beyond the end of RAM at ${hex(top)} (${Math.floor(top / 1048576)} MiB); give the guest more memory`;
    }
    const hit = this.map.find((e) => e.type !== E820_RAM && start < e.base + e.length && e.base < end);
    if (hit) return `overlaps reserved memory [${hex(hit.base)}, ${hex(hit.base + hit.length)}) (E820 type ${hit.type})`;
    return 'is not inside one contiguous RAM range of the memory map';
  }

  private fail(code: string, problem: string): BootError {
    return new BootError(`boot.${code}`, `${this.path}: ${problem}`, this.path);
  }
}

/** Rounds `value` up to a multiple of `align` (any positive integer). */
export function alignUp(value: number, align: number): number {
  return align <= 1 ? value : Math.ceil(value / align) * align;
}

/** Rounds `value` down to a multiple of `align` (any positive integer). */
export function alignDown(value: number, align: number): number {
  return align <= 1 ? value : Math.floor(value / align) * align;
}

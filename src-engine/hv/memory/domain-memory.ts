/**
 * A domain's pseudo-physical memory: its P2M (guest frame -> machine frame) over the machine
 * pool, the RAM accounting Xen keeps per domain (current pages, maximum, balloon target), and a
 * GuestPhysMemory for loaders, firmware and back ends. The guest reaches only frames its P2M
 * names; every other machine frame is invisible to it.
 *
 * P2M entries hold (machine frame + 1); 0 means "not RAM here" (MMIO hole or unpopulated). The
 * P2M covers the 4 GiB guest-physical space and lives in a SharedArrayBuffer (pages the guest
 * never populates are never touched, so cost no host memory).
 */
import { MemoryError } from '../../base/errors';
import type { GuestPhysMemory } from '../../machine/guest-memory';
import type { PhysMemory } from '../../cpu/ops';
import { FRAME_SHIFT, FRAME_SIZE, MachineMemory, physMemoryOf } from './machine-memory';

/** Guest frames the P2M covers (4 GiB of guest-physical space). */
export const P2M_ENTRIES = 1 << 20;

/** RAM layout of a PC guest: RAM below the 4 GiB MMIO hole. */
export interface GuestRamLayout {
  /** Bytes of RAM starting at guest-physical 0. */
  ramBytes: number;
}

/** One domain's memory. */
export class DomainMemory implements GuestPhysMemory {
  readonly p2mBuffer: SharedArrayBuffer;
  readonly p2m: Int32Array;
  readonly ramSize: number;
  /** Pages currently populated (Xen's tot_pages). */
  private pages = 0;
  /** Guest frames that show another guest frame's machine frame (not owned twice). */
  private readonly aliases = new Set<number>();
  private readonly phys: PhysMemory;

  constructor(
    readonly pool: MachineMemory,
    readonly owner: string,
    layout: GuestRamLayout,
  ) {
    if (layout.ramBytes % FRAME_SIZE !== 0 || layout.ramBytes <= 0 || layout.ramBytes > 0xf0000000) {
      throw new MemoryError('memory.layout', `Guest RAM for ${owner} must be a positive multiple of 4 KiB below 3840 MiB.`, owner);
    }
    this.ramSize = layout.ramBytes;
    this.p2mBuffer = new SharedArrayBuffer(P2M_ENTRIES * 4);
    this.p2m = new Int32Array(this.p2mBuffer);
    this.pages = layout.ramBytes / FRAME_SIZE;
    pool.allocateInto(this.p2m.subarray(0, this.pages), owner);
    this.phys = physMemoryOf(pool.buffers, this.p2mBuffer);
  }

  /** The CPU's view of this domain's memory (in this thread). */
  get physMemory(): PhysMemory {
    return this.phys;
  }

  /** Pages populated now. */
  get currentPages(): number {
    return this.pages;
  }

  /** Populates guest frame `gfn` with a fresh machine frame (ballooning up, grant/shared pages). */
  populate(gfn: number): void {
    if (gfn < 0 || gfn >= P2M_ENTRIES) throw new MemoryError('memory.gfn', `Guest frame ${gfn} is outside the guest-physical space.`);
    if (this.p2m[gfn] !== 0) return;
    const [f] = this.pool.allocate(1, this.owner);
    Atomics.store(this.p2m, gfn, f + 1);
    this.pages++;
  }

  /**
   * Shows the machine frames behind guest frames [src, src + count) also at [dst, dst + count),
   * like a PC chipset shows the BIOS ROM both below 1 MiB and at the top of 4 GiB. The aliases
   * are not pages of their own: they are not counted, released or saved.
   */
  alias(dst: number, src: number, count: number): void {
    for (let k = 0; k < count; k++) {
      const d = dst + k;
      const m = this.p2m[src + k];
      if (d < 0 || d >= P2M_ENTRIES || m === 0 || (this.p2m[d] !== 0 && !this.aliases.has(d))) {
        throw new MemoryError('memory.alias', `Cannot show guest frame 0x${(src + k).toString(16)} of ${this.owner} at 0x${d.toString(16)}.`, this.owner);
      }
      this.aliases.add(d);
      Atomics.store(this.p2m, d, m);
    }
  }

  /** True if guest frame `gfn` is an alias made by alias(). */
  isAlias(gfn: number): boolean {
    return this.aliases.has(gfn);
  }

  /** Removes guest frame `gfn` and returns its machine frame to the pool (ballooning down). */
  depopulate(gfn: number): void {
    const m = this.p2m[gfn];
    if (m === 0) return;
    Atomics.store(this.p2m, gfn, 0);
    if (this.aliases.delete(gfn)) return;
    // Aliases of the frame go with it: nothing may keep showing a frame given back to the pool.
    for (const a of this.aliases) {
      if (this.p2m[a] === m) {
        Atomics.store(this.p2m, a, 0);
        this.aliases.delete(a);
      }
    }
    this.pool.free([m - 1]);
    this.pages--;
  }

  /** Releases every frame (domain destruction). */
  release(): void {
    for (const g of this.aliases) this.p2m[g] = 0;
    this.aliases.clear();
    const frames: number[] = [];
    for (let g = 0; g < P2M_ENTRIES; g++) {
      const m = this.p2m[g];
      if (m !== 0) {
        frames.push(m - 1);
        this.p2m[g] = 0;
      }
    }
    this.pool.free(frames);
    this.pages = 0;
  }

  /** Machine offset of guest-physical `addr`, or -1. */
  private off(addr: number): number {
    const gfn = addr >>> FRAME_SHIFT;
    if (addr < 0 || gfn >= P2M_ENTRIES) return -1;
    const m = this.p2m[gfn];
    return m === 0 ? -1 : (m - 1) * FRAME_SIZE + (addr & (FRAME_SIZE - 1));
  }

  private must(addr: number): number {
    const o = this.off(addr);
    if (o < 0) throw new MemoryError('memory.not-ram', `Guest-physical address 0x${addr.toString(16)} of ${this.owner} is not RAM.`, this.owner);
    return o;
  }

  isRam(addr: number, len: number): boolean {
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(len) || addr < 0 || len < 0) return false;
    for (let a = addr - (addr % FRAME_SIZE); a < addr + len; a += FRAME_SIZE) if (this.off(a) < 0) return false;
    return true;
  }

  read(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.copy(addr, len, (o, k, n) => out.set(this.pool.mem8.subarray(o, o + n), k));
    return out;
  }

  write(addr: number, data: Uint8Array): void {
    this.copy(addr, data.length, (o, k, n) => {
      this.pool.mem8.set(data.subarray(k, k + n), o);
      this.touch(o, n);
    });
  }

  fill(addr: number, len: number, value: number): void {
    this.copy(addr, len, (o, _k, n) => {
      this.pool.mem8.fill(value, o, o + n);
      this.touch(o, n);
    });
  }

  /** Walks [addr, addr+len) page by page, checking it is RAM before anything is done. */
  private copy(addr: number, len: number, fn: (machineOff: number, k: number, n: number) => void): void {
    if (!this.isRam(addr, len)) {
      throw new MemoryError('memory.not-ram', `Guest-physical range 0x${addr.toString(16)}+${len} of ${this.owner} is not all RAM.`, this.owner);
    }
    let k = 0;
    while (k < len) {
      const a = addr + k;
      const n = Math.min(len - k, FRAME_SIZE - (a % FRAME_SIZE));
      fn(this.must(a), k, n);
      k += n;
    }
  }

  /** Writes from outside the CPU invalidate decoded code like guest writes do. */
  private touch(off: number, n: number): void {
    for (let f = off >>> FRAME_SHIFT; f <= (off + n - 1) >>> FRAME_SHIFT; f++) {
      if (this.pool.codeMark[f] !== 0) {
        Atomics.store(this.pool.codeMark, f, 0);
        Atomics.add(this.pool.codeGen, f, 1);
      }
    }
  }

  readU8(addr: number): number {
    return this.pool.mem8[this.must(addr)];
  }
  readU16(addr: number): number {
    const b = this.read(addr, 2);
    return b[0] | (b[1] << 8);
  }
  readU32(addr: number): number {
    const b = this.read(addr, 4);
    return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  }
  writeU8(addr: number, value: number): void {
    this.write(addr, Uint8Array.of(value & 0xff));
  }
  writeU16(addr: number, value: number): void {
    this.write(addr, Uint8Array.of(value & 0xff, (value >>> 8) & 0xff));
  }
  writeU32(addr: number, value: number): void {
    this.write(addr, Uint8Array.of(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff));
  }
}

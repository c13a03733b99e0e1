/**
 * The PV console back end (io/console.h struct xencons_interface): the guest's console ring
 * <-> the domain's console stream (GUI, CLI, log file).
 *
 * Ring page: in[1024] (host -> guest) at 0, out[2048] (guest -> host) at 1024, then in_cons,
 * in_prod, out_cons, out_prod (u32 each) at 3072. Indices are free-running; the byte index is
 * idx & (size - 1). service() drains out[] into the stream and feeds queued input into in[];
 * it runs when the guest notifies its console port and on every hypervisor loop iteration,
 * because guests (Mini-OS) fill the ring before they first notify.
 *
 * Concurrency. Indices with Atomics; ring bytes are read after the producer index that covers
 * them and written before the producer index that publishes them.
 */
import { touchFrames } from '../mem-util';

/** Sizes of the two rings. */
export const CONS_IN_SIZE = 1024;
export const CONS_OUT_SIZE = 2048;
/** Byte offsets in the ring page. */
const IN = 0;
const OUT = 1024;
const IN_CONS = 3072;
const IN_PROD = 3076;
const OUT_CONS = 3080;
const OUT_PROD = 3084;
/** Input bytes kept for a guest that does not read its console (older bytes are dropped). */
export const MAX_PENDING_INPUT = 64 * 1024;

/** Machine memory views the back end works on. */
export interface RingMemory {
  readonly mem8: Uint8Array;
  readonly mem32: Int32Array;
  readonly codeMark: Uint8Array;
  readonly codeGen: Int32Array;
}

/** One domain's console back end. */
export class ConsoleBackend {
  private pending: number[] = [];

  constructor(
    private readonly mem: RingMemory,
    /** Machine offset of the ring page now, or -1 if the guest frame is gone. */
    private readonly ringOffset: () => number,
    /** Raise the guest's console port. */
    private readonly notify: () => void,
    /** Bytes the guest wrote. */
    private readonly output: (bytes: Uint8Array) => void,
  ) {}

  /** Zeroes a fresh ring page. */
  static initialise(mem8: Uint8Array, base: number): void {
    mem8.fill(0, base, base + 4096);
  }

  /** Queues keyboard input for the guest and delivers what fits. */
  input(bytes: Uint8Array): void {
    for (const b of bytes) this.pending.push(b);
    if (this.pending.length > MAX_PENDING_INPUT) this.pending = this.pending.slice(this.pending.length - MAX_PENDING_INPUT);
    this.service();
  }

  /** Input not yet delivered to the guest (save images). */
  pendingInput(): Uint8Array {
    return Uint8Array.from(this.pending);
  }

  /** Queues input a save image kept, without delivering it yet. */
  restoreInput(bytes: Uint8Array): void {
    this.pending = [...bytes].slice(-MAX_PENDING_INPUT);
  }

  /** Drains output and feeds input; notifies the guest if anything moved. */
  service(): void {
    const base = this.ringOffset();
    if (base < 0) return;
    const { mem8, mem32 } = this.mem;
    let moved = false;
    const cons = Atomics.load(mem32, (base + OUT_CONS) >> 2) >>> 0;
    const prod = Atomics.load(mem32, (base + OUT_PROD) >> 2) >>> 0;
    const avail = Math.min((prod - cons) >>> 0, CONS_OUT_SIZE);
    if (prod !== cons) {
      const out = new Uint8Array(avail);
      for (let k = 0; k < avail; k++) out[k] = mem8[base + OUT + ((cons + k) & (CONS_OUT_SIZE - 1))];
      // A guest that ran its indices more than a ring apart loses the excess, nothing else.
      Atomics.store(mem32, (base + OUT_CONS) >> 2, prod | 0);
      if (avail > 0) this.output(out);
      moved = true;
    }
    if (this.pending.length > 0) {
      const icons = Atomics.load(mem32, (base + IN_CONS) >> 2) >>> 0;
      const iprod = Atomics.load(mem32, (base + IN_PROD) >> 2) >>> 0;
      const used = (iprod - icons) >>> 0;
      const room = used > CONS_IN_SIZE ? 0 : CONS_IN_SIZE - used;
      const n = Math.min(room, this.pending.length);
      for (let k = 0; k < n; k++) mem8[base + IN + ((iprod + k) & (CONS_IN_SIZE - 1))] = this.pending[k];
      if (n > 0) {
        touchFrames(this.mem.codeMark, this.mem.codeGen, base + IN, CONS_IN_SIZE);
        Atomics.store(mem32, (base + IN_PROD) >> 2, (iprod + n) | 0);
        this.pending = this.pending.slice(n);
        moved = true;
      }
    }
    if (moved) this.notify();
  }
}

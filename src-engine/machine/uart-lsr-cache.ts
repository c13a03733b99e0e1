/**
 * The UARTs' line status, published for the pCPUs. A serial driver reads LSR before every
 * character it sends (GRUB, Linux's 8250 console, the BIOS), and each read was a round trip to
 * the hypervisor thread: about 650 of the 1,800 exits of a GRUB boot. The platform publishes
 * each UART's LSR in a shared word after everything that can change it, and a pCPU answers a
 * one-byte read of LSR from that word without leaving the guest.
 *
 * Why the copy is exact. LSR here is DR | THRE | TEMT (transmission is instantaneous), plus error
 * bits. DR changes only through the hypervisor: console input, RBR reads, FIFO resets (FCR),
 * leaving loopback (MCR). The published word is -1 ("ask") while reading LSR has a side effect
 * (error bits, which the read clears) or THR writes feed the receiver (loopback). RBR reads are
 * synchronous exits, so the word is current when the guest continues. The pCPU must send FCR and
 * MCR writes synchronously as well (not posted), so a read after them sees their effect. THR
 * writes stay posted: outside loopback they do not change LSR.
 *
 * Layout: one Int32 per COM port (COM1 at index 0), the LSR value (0-255) or -1.
 */

/** Words in a domain's LSR cache: COM1-COM4. */
export const LSR_CACHE_WORDS = 4;
/** A word that says "ask the hypervisor". */
export const LSR_ASK = -1;
/** Base ports of COM1-COM4, as PC firmware assigns them (the index in the cache is COM - 1). */
const COM_BASES: readonly number[] = [0x3f8, 0x2f8, 0x3e8, 0x2e8];
/** Register offsets. */
const REG_FCR = 2;
const REG_MCR = 4;
const REG_LSR = 5;
/** The UART decodes three address bits. */
const REG_MASK = 7;

/** A fresh cache: every word "ask". */
export function newLsrCache(): SharedArrayBuffer {
  const buf = new SharedArrayBuffer(LSR_CACHE_WORDS * 4);
  new Int32Array(buf).fill(LSR_ASK);
  return buf;
}

/** Index in the cache of the COM port whose register `port` is, or -1. */
function comIndex(port: number): number {
  return COM_BASES.indexOf(port & ~REG_MASK);
}

/**
 * The published LSR for a read of `size` bytes at `port`, or -1 when the read must go to the
 * hypervisor (not a one-byte LSR read, or nothing published).
 */
export function readCachedLsr(cache: Int32Array, port: number, size: number): number {
  if (size !== 1 || (port & REG_MASK) !== REG_LSR) return LSR_ASK;
  const i = comIndex(port);
  return i < 0 ? LSR_ASK : Atomics.load(cache, i);
}

/** True for the UART registers whose writes may change LSR (FCR, MCR): never post them. */
export function uartWriteChangesLsr(port: number): boolean {
  const reg = port & REG_MASK;
  return (reg === REG_FCR || reg === REG_MCR) && comIndex(port) >= 0;
}

/** Publishes COM `com`'s LSR (or LSR_ASK). */
export function publishLsr(cache: Int32Array, com: number, value: number): void {
  Atomics.store(cache, com - 1, value);
}

/** ASCII line feed. */
const LINE_FEED = 0x0a;
/** Register offset of THR (and DLL while DLAB is set). */
const REG_DATA = 0;

/**
 * True for a write of a line feed to a UART's data register. A pCPU posts UART writes without
 * waking the hypervisor, which then sees them at the end of the run chunk (up to 50,000
 * instructions later: milliseconds while code still runs interpreted and cold, as at a guest's
 * start). A finished line is worth a wake-up: it reaches the console at once.
 */
export function uartLineEnd(port: number, value: number): boolean {
  return (value & 0xff) === LINE_FEED && (port & REG_MASK) === REG_DATA && comIndex(port) >= 0;
}

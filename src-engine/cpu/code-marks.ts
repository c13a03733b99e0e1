/**
 * Which bytes of a machine frame hold decoded code, at a granularity finer than the frame.
 *
 * PhysMemory.codeMark has one byte per frame; it used to be a flag ("some block was decoded from
 * this frame"), so any store into the frame bumped its code generation and every block decoded
 * from it was decoded again. GRUB keeps data next to its code: the real-mode trampolines save
 * the IDT descriptors and the stack pointer beside themselves, grub_bios_interrupt patches its
 * own `INT n`, and module code shares heap pages with allocator headers; one boot bumped the
 * generations of two hot code frames 1100 times. Now each of the byte's 8 bits stands for one
 * 512-byte chunk of the frame (CODE_CHUNK_SHIFT): a store bumps the generation only when it
 * touches a chunk that holds decoded code. Every other user of codeMark (the hypervisor's
 * touchFrames, DomainMemory) still reads "non-zero" as "holds code" and clears the whole byte
 * when it bumps, which stays correct: it only invalidates more.
 *
 * A bump still invalidates every block of the frame. A block whose bytes did not change is
 * revalidated instead of decoded again: it keeps a copy of its code bytes (Block.code), and
 * revalidateBlock marks its chunks, reads the generation and compares the bytes. Marking before
 * reading keeps this exact with other threads writing: a store after the mark bumps the
 * generation again, a store before it shows in the comparison.
 */
import type { Block } from './insn';
import type { PhysMemory } from './ops';

/** log2 of the bytes one codeMark bit covers (512: 8 chunks per 4-KiB frame). */
export const CODE_CHUNK_SHIFT = 9;
/** Offset within a 4-KiB frame. */
const PAGE_MASK = 0xfff;
/** Longest x86 instruction (SDM Vol. 2, 2.3.11): the bytes one instruction decode may read. */
export const MAX_INSN_BYTES = 15;

/** codeMark bits of the chunks that bytes [pageOff, pageOff + len) of a frame touch (len >= 1). */
export function chunkBits(pageOff: number, len: number): number {
  const first = (pageOff & PAGE_MASK) >>> CODE_CHUNK_SHIFT;
  const end = (pageOff & PAGE_MASK) + len - 1;
  const last = end > PAGE_MASK ? PAGE_MASK >>> CODE_CHUNK_SHIFT : end >>> CODE_CHUNK_SHIFT;
  return ((2 << last) - 1) & ~((1 << first) - 1) & 0xff;
}

/**
 * Marks the chunks an instruction starting at machine offset `off` may occupy as holding code,
 * before the decoder reads it (a store after this bumps the frame's generation).
 */
export function markInsnBytes(phys: PhysMemory, off: number): void {
  const bits = chunkBits(off & PAGE_MASK, MAX_INSN_BYTES);
  if ((phys.codeMark[off >>> 12] & bits) !== bits) Atomics.or(phys.codeMark, off >>> 12, bits);
}

/**
 * Records a store of `len` bytes at machine offset `off` (one frame): when it touched a chunk
 * holding decoded code, the frame's code generation moves on (its blocks must be checked again)
 * and every mark of the frame is cleared. Returns true when it did.
 */
export function codeStore(phys: PhysMemory, off: number, len: number): boolean {
  const frame = off >>> 12;
  const mark = phys.codeMark[frame];
  if (mark === 0 || (mark & chunkBits(off & PAGE_MASK, len)) === 0) return false;
  Atomics.store(phys.codeMark, frame, 0);
  Atomics.add(phys.codeGen, frame, 1);
  return true;
}

/**
 * Checks a cached block whose frame's generation moved: if its code bytes are unchanged it is
 * valid again (its generation becomes the current one) and true is returned.
 */
export function revalidateBlock(phys: PhysMemory, b: Block): boolean {
  const code = b.code;
  if (code === null || b.off < 0) return false;
  Atomics.or(phys.codeMark, b.frame, chunkBits(b.spanOff & PAGE_MASK, code.length));
  const gen = Atomics.load(phys.codeGen, b.frame);
  const m = phys.mem8;
  const off = b.spanOff;
  for (let k = 0; k < code.length; k++) if (m[off + k] !== code[k]) return false;
  b.gen = gen;
  return true;
}

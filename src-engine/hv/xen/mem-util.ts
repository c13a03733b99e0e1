/**
 * Writes the engine makes into guest frames behind the CPU's back (rings, grant copies) must
 * invalidate decoded code in those frames, as a guest store would (cpu/mmu.ts noteWrite).
 */

/** Invalidates decoded code in every frame [off, off + n) touches. */
export function touchFrames(codeMark: Uint8Array, codeGen: Int32Array, off: number, n: number): void {
  if (n <= 0) return;
  for (let f = off >>> 12; f <= (off + n - 1) >>> 12; f++) {
    if (codeMark[f] !== 0) {
      Atomics.store(codeMark, f, 0);
      Atomics.add(codeGen, f, 1);
    }
  }
}

// Shared by gen.mjs (the QEMU side) and realmode-vectors.test.ts (the Domus side): where a case's
// code, data window and stack live in real mode, and the PRNG that fills the window.

/** Real-mode layout of a case (segments are paragraph numbers). */
export const LAYOUT = {
  /** The instruction runs at codeSeg:0000, followed by JMP FAR captureSeg:captureA and :captureB. */
  codeSeg: 0x0900,
  captureSeg: 0x0800,
  captureA: 0x0300,
  captureB: 0x0310,
  /** Exception vector v lands at captureSeg:(stubBase + 16 v). */
  stubBase: 0x0400,
  /** DS = ES = FS = GS = SS = dataSeg; the window is dataSeg:0000..windowSize-1. */
  dataSeg: 0x2000,
  windowSize: 0x400,
  /** Initial SP (inside the window). */
  sp: 0x0300,
};

/** One xorshift32 step (Marsaglia 2003: 13, 17, 5). */
export function xorshift(x) {
  x ^= x << 13;
  x >>>= 0;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}

/** The initial bytes of a case's window: the low byte of successive xorshift states of `seed`. */
export function windowBytes(seed) {
  const out = new Uint8Array(LAYOUT.windowSize);
  let x = seed >>> 0 || 1;
  for (let k = 0; k < out.length; k++) {
    x = xorshift(x);
    out[k] = x & 0xff;
  }
  return out;
}

/**
 * A small seeded PRNG (xoshiro128**, seeded through splitmix32) so every generated case is
 * reproducible from (seed, index) alone, independent of how many cases came before it.
 *
 * Reference: Blackman & Vigna, "Scrambled linear pseudorandom number generators" (xoshiro128**);
 * splitmix32 as the usual seeding function.
 */

/** Mixes a 32-bit state word (splitmix32 output function). */
function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A reproducible random stream. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** A stream for case `index` of run `seed`. */
  constructor(seed: number, index = 0) {
    let x = splitmix32((seed >>> 0) ^ Math.imul(index >>> 0, 0x2545f491));
    this.s0 = x;
    x = splitmix32(x ^ index);
    this.s1 = x;
    x = splitmix32(x);
    this.s2 = x;
    x = splitmix32(x);
    this.s3 = x | 1;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  /** One element chosen by weight: items are [weight, value] pairs. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of items) total += w;
    let r = (this.u32() / 0x1_0000_0000) * total;
    for (const [w, v] of items) {
      if (r < w) return v;
      r -= w;
    }
    return items[items.length - 1][1];
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

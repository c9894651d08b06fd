/**
 * Seeded pseudo-random numbers, so that a run with the same seed sees the same data order,
 * the same augmentations and the same initialisations.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's "small fast counting" generator): 128 bits of
 * state, passes PractRand, and needs only 32-bit integer arithmetic, which JavaScript does fast
 * with `Math.imul` and `| 0`. Seeds are spread into the state with splitmix32, so nearby seeds
 * (0, 1, 2, …) give unrelated streams.
 */

/** Murmur3's 32-bit finaliser: every input bit flips about half of the output bits. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Folds any finite number (negative, fractional or above 2^32) into 32 bits without losing its high part. */
function toUint32(value: number): number {
  const integer = Math.trunc(value);
  const high = Math.floor(integer / 0x1_0000_0000);
  return (integer ^ fmix32(high >>> 0)) >>> 0;
}

/**
 * Hashes up to four numbers into one 32-bit seed. Used to derive independent streams, for
 * example `mixSeed(seed, epoch)` for an epoch's shuffle or `mixSeed(seed, epoch, position)`
 * for one sample's augmentation. Fixed arity, so calling it per sample allocates nothing.
 */
export function mixSeed(a: number, b = 0, c = 0, d = 0): number {
  let h = 0x243f6a88;
  h = fmix32((h ^ toUint32(a)) + 0x9e3779b9);
  h = fmix32((h ^ toUint32(b)) + 0x9e3779b9);
  h = fmix32((h ^ toUint32(c)) + 0x9e3779b9);
  h = fmix32((h ^ toUint32(d)) + 0x9e3779b9);
  return h;
}

export class Random {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  /** The second value of the last Box–Muller pair, returned by the next `normal()` call. */
  private spareNormal: number | null = null;

  constructor(seed = 0) {
    this.reseed(seed);
  }

  /** Restarts the stream from `seed`, reusing this object (no allocation). */
  reseed(seed: number): this {
    // splitmix32: four well-mixed words from one seed (written out, so reseeding allocates nothing).
    const s = toUint32(seed);
    this.a = fmix32(s + 0x9e3779b9);
    this.b = fmix32(s + 2 * 0x9e3779b9);
    this.c = fmix32(s + 3 * 0x9e3779b9);
    this.d = fmix32(s + 4 * 0x9e3779b9) | 1;
    this.spareNormal = null;
    // The first outputs of sfc32 are still correlated with the seed; discard them.
    for (let i = 0; i < 12; i++) this.nextUint32();
    return this;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform number in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** A uniform number in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /**
   * A uniform integer in [0, n). The bias of scaling 32 bits is below n / 2^32, far too small
   * to matter for the sizes used here (n ≤ a few million).
   */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  bernoulli(p = 0.5): boolean {
    return this.next() < p;
  }

  /** A normal deviate (Box–Muller; the pair's second value is kept for the next call). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const spare = this.spareNormal;
      this.spareNormal = null;
      return mean + std * spare;
    }
    // 1 - next() lies in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - this.next()));
    const angle = 2 * Math.PI * this.next();
    this.spareNormal = radius * Math.sin(angle);
    return mean + std * radius * Math.cos(angle);
  }

  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [index: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const swap = array[i];
      array[i] = array[j];
      array[j] = swap;
    }
    return array;
  }

  /** A random permutation of 0 … n-1. */
  permutation(n: number): Int32Array {
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    return this.shuffle(order);
  }
}

/**
 * The same streams as plain functions, for code that takes a `() => number` (t-SNE's
 * initialisation, synthetic test data): `createRandom(seed)()` is `new Random(seed).next()`.
 */
export function createRandom(seed: number): () => number {
  const random = new Random(seed);
  return () => random.next();
}

/** Standard normal samples from `seed`, as a function (`new Random(seed).normal()`). */
export function createGaussian(seed: number): () => number {
  const random = new Random(seed);
  return () => random.normal();
}

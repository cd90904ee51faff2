/**
 * A small seeded pseudo-random number generator and helpers built on it.
 *
 * tfjs has no global seed and its `fit({shuffle: true})` uses Math.random, so anything that must give the same
 * numbers on a rerun (shuffling, sampling, per-layer initializer seeds) draws from here instead.
 */

/** A function returning uniform floats in [0, 1), deterministic for a given seed. */
export type Rng = () => number;

/** mulberry32: tiny, fast, good enough statistical quality for shuffling and sampling. */
export function mulberry32(seed: number): Rng {
  if (!Number.isFinite(seed)) throw new Error(`mulberry32: seed must be a finite number, got ${seed}.`);
  let state = Math.floor(seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random integer in [min, max) (max exclusive). */
export function randomInt(rng: Rng, min: number, max: number): number {
  if (!(max > min)) throw new Error(`randomInt: need max > min, got min=${min}, max=${max}.`);
  return min + Math.floor(rng() * (max - min));
}

/** Fisher-Yates shuffle of a copy of `items`. */
export function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = out[i];
    out[i] = out[j];
    out[j] = tmp;
  }
  return out;
}

/** The numbers 0..n-1 in a random order. */
export function permutation(n: number, rng: Rng): number[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`permutation: n must be a non-negative integer, got ${n}.`);
  return shuffled(
    Array.from({ length: n }, (_, i) => i),
    rng,
  );
}

/** `k` distinct items drawn at random (without replacement), in random order. */
export function sample<T>(items: readonly T[], k: number, rng: Rng): T[] {
  if (!Number.isInteger(k) || k < 0 || k > items.length) {
    throw new Error(`sample: k must be an integer between 0 and ${items.length} (the number of items), got ${k}.`);
  }
  return shuffled(items, rng).slice(0, k);
}

/**
 * Derive a new 32-bit seed from a base seed and an index, so that e.g. every layer of a model gets its own seed
 * (the same seed in two layers with equal shapes would give them identical initial weights).
 */
export function deriveSeed(seed: number, index: number): number {
  const rng = mulberry32((Math.floor(seed) ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  rng();
  return Math.floor(rng() * 2147483647);
}

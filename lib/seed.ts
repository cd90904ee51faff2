/**
 * Reproducible model building: `withSeed(seed, () => tf.sequential({...}))`.
 *
 * TensorFlow.js has no global seed. Its initializers (glorotUniform, heNormal, ...) and lib's dropout layer take
 * their randomness from Math.random when no seed is given, so while `build` runs, Math.random is replaced by a
 * generator seeded with `seed`; afterwards the original is back. The same seed then gives the same starting
 * weights (and the same dropout masks), while the model cell stays plain tfjs. Weights are created when a layer
 * is built, so give the first layer an `inputShape` (or use tf.input): a model built later, on its first call,
 * would be built outside and not seeded.
 */
import { mulberry32 } from "./random";

export function withSeed<T>(seed: number, build: () => T): T {
  if (!Number.isInteger(seed)) throw new Error(`withSeed: the seed must be an integer (like 2024), got ${seed}.`);
  if (typeof build !== "function") {
    throw new Error(`withSeed(seed, build): build must be a function that returns the model, e.g. () => tf.sequential({...}).`);
  }
  const original = Math.random;
  Math.random = mulberry32(seed);
  try {
    const model = build();
    if (model && typeof (model as { then?: unknown }).then === "function") {
      throw new Error(`withSeed(seed, build): build must build the model synchronously (no async, no await).`);
    }
    return model;
  } finally {
    Math.random = original;
  }
}

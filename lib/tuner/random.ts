/**
 * A small seeded random number generator, so that a RandomSearch with the same seed proposes the same trials
 * on every machine and after a resume (Math.random cannot be seeded).
 */
import { HyperParameterSpec, HpValue, cleanFloat, gridValues } from "./hyperparameters";

import { mulberry32, type Rng } from "../random";

export type { Rng };

/** Mixes several integers into one 32-bit seed (so trial 3, attempt 0 and trial 0, attempt 3 differ). */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h ^= p | 0;
    h = Math.imul(h, 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
  }
  return h >>> 0;
}

/** The project's seeded generator (lib/random's mulberry32), under the name the tuner uses. */
export function createRng(seed: number): Rng {
  return mulberry32(seed);
}

/** One random value for a hyperparameter: uniform over its grid, or over its (log) range when continuous. */
export function sampleValue(spec: HyperParameterSpec, rng: Rng): HpValue {
  if (spec.type === "float" && spec.step === undefined) {
    const u = rng();
    if (spec.sampling === "log") {
      const lo = Math.log(spec.min);
      const hi = Math.log(spec.max);
      return Math.min(spec.max, Math.max(spec.min, cleanFloat(Math.exp(lo + u * (hi - lo)))));
    }
    return Math.min(spec.max, cleanFloat(spec.min + u * (spec.max - spec.min)));
  }
  const values = gridValues(spec);
  return values[Math.floor(rng() * values.length)];
}

/**
 * Oracles decide which hyperparameter values to try next. They are pure functions of the search space, the
 * trials already done and (for random search) the seed, so an interrupted search resumes exactly where it was.
 */
import { HyperParameterSpec, HpValue, gridValues } from "./hyperparameters";
import { Rng, createRng, mixSeed, sampleValue } from "./random";

export type Values = Record<string, HpValue>;

/** Grids bigger than this are refused: they would take far too long to train anyway. */
export const MAX_GRID_SIZE = 100_000;

/** A stable text key for a combination of values (in space order), used to recognise trials already run. */
export function valuesKey(space: readonly HyperParameterSpec[], values: Readonly<Values>): string {
  return JSON.stringify(space.map((s) => values[s.name]));
}

/** The number of distinct combinations, or Infinity when a Float has no step (a continuous range). */
export function spaceSize(space: readonly HyperParameterSpec[]): number {
  let n = 1;
  for (const spec of space) {
    if (spec.type === "float" && spec.step === undefined) return Infinity;
    n *= gridValues(spec).length;
  }
  return n;
}

/**
 * Every combination of values, in a fixed order: like nested for-loops in declaration order, so the
 * LAST-declared hyperparameter varies fastest. For n_layers {1,2} then dropout {0.2,0.5,0.8}:
 * (1,0.2) (1,0.5) (1,0.8) (2,0.2) (2,0.5) (2,0.8).
 */
export function gridCombinations(space: readonly HyperParameterSpec[]): Values[] {
  const axes = space.map((spec) => ({ name: spec.name, values: gridValues(spec) }));
  const size = axes.reduce((n, a) => n * a.values.length, 1);
  if (size > MAX_GRID_SIZE) {
    throw new Error(
      `The grid has ${size} combinations (${axes.map((a) => `${a.name}: ${a.values.length}`).join(" x ")}), ` +
        `too many to train. Use fewer values (bigger steps) or RandomSearch with maxTrials.`,
    );
  }
  const out: Values[] = [];
  const walk = (i: number, acc: Values): void => {
    if (i === axes.length) {
      out.push({ ...acc });
      return;
    }
    for (const v of axes[i].values) {
      acc[axes[i].name] = v;
      walk(i + 1, acc);
    }
  };
  walk(0, {});
  return out;
}

/** One random combination, drawn with the given generator. */
export function sampleValues(space: readonly HyperParameterSpec[], rng: Rng): Values {
  const out: Values = {};
  for (const spec of space) out[spec.name] = sampleValue(spec, rng);
  return out;
}

/**
 * The values for random trial number `trialIndex`: a draw that was not tried before, or undefined when every
 * combination of a finite space has been tried. Each (trial, attempt) has its own seed, so the proposal depends
 * only on the seed and on the trials already done, not on how many sessions the search took.
 */
export function proposeRandom(
  space: readonly HyperParameterSpec[],
  seed: number,
  trialIndex: number,
  tried: ReadonlySet<string>,
  maxAttempts = 200,
): Values | undefined {
  if (tried.size >= spaceSize(space)) return undefined;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const values = sampleValues(space, createRng(mixSeed(seed, trialIndex, attempt)));
    if (!tried.has(valuesKey(space, values))) return values;
  }
  // A nearly exhausted finite space: fall back to the first untried combination in grid order.
  if (Number.isFinite(spaceSize(space))) {
    return gridCombinations(space).find((v) => !tried.has(valuesKey(space, v)));
  }
  return undefined;
}

/**
 * The Keras-like form of search: `tuner.search(data, { epochs, validationData })` trains every trial's model with
 * lib/train's train() (quietly, seeded with the tuner's seed) and times a few training steps beforehand for the
 * duration estimate, so a notebook needs no fit or timing functions of its own.
 */
import type * as tf from "@tensorflow/tfjs";
import { estimateTrainingSeconds, train, type LabelledData, type TrainOptions } from "../train";
import type { HyperParameters } from "./hyperparameters";
import type { FitFunction } from "./tuner";

export interface DataSearch<M> {
  fit: FitFunction<M>;
  estimate: (model: M, hp: HyperParameters) => Promise<number>;
}

export function searchOnData<M>(data: LabelledData, opts: TrainOptions): DataSearch<M> {
  if (!opts || !Number.isInteger(opts.epochs)) {
    throw new Error(`search(data, options) needs the training options, e.g. { epochs: 20, validationData: valData }.`);
  }
  const asModel = (model: M) => model as unknown as tf.LayersModel;
  return {
    fit: (model, _hp, trial) => train(asModel(model), data, { verbose: 0, seed: trial.seed, ...opts }),
    estimate: (model) => estimateTrainingSeconds(asModel(model), data, opts),
  };
}

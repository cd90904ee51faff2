/**
 * A small hyperparameter tuner modelled on keras_tuner. See tuner.ts for the search loop and
 * hyperparameters.ts for hp.Int / hp.Float / hp.Choice / hp.Fixed.
 *
 * In a notebook import it as "./lib/tuner/index" (tslab's loader does not resolve a folder to its index.ts):
 *
 *   import { GridSearch } from "./lib/tuner/index";
 *   const tuner = new GridSearch({
 *     hypermodel: (hp) => compileForClassification(configurableModel({
 *       convLayers: hp.Int("n_layers", { min: 1, max: 2 }),
 *       dropoutRate: hp.Float("dropout_rate", { min: 0.2, max: 0.8, step: 0.3 }),
 *     })),
 *     objective: "val_loss",
 *     projectName: "dropout_and_layers",
 *   });
 *   await tuner.search((model, hp, trial) => train(model, trainData, { epochs: 20, validationData: valData, seed: trial.seed }));
 *   const results = tuner.resultsSummary();
 */
export { HyperParameters } from "./hyperparameters";
export type { HpValue, HyperParameterSpec, IntOptions, FloatOptions, Sampling } from "./hyperparameters";
export { GridSearch, RandomSearch, Tuner } from "./tuner";
export type { FitFunction, FitResult, Hypermodel, MetricValue, RandomSearchOptions, TrialInfo, TunerOptions } from "./tuner";
export type { Objective, Direction } from "./objective";
export type { TrialSummary } from "./results";
export type { TrialRecord } from "./storage";

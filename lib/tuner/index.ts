/**
 * A small hyperparameter tuner modelled on keras_tuner. See tuner.ts for the search loop and
 * hyperparameters.ts for hp.Int / hp.Float / hp.Choice / hp.Fixed.
 */
export { HyperParameters } from "./hyperparameters";
export type { HpValue, HyperParameterSpec, IntOptions, FloatOptions, Sampling } from "./hyperparameters";
export { GridSearch, RandomSearch, Tuner } from "./tuner";
export type { FitFunction, FitResult, Hypermodel, MetricValue, RandomSearchOptions, TrialInfo, TunerOptions } from "./tuner";
export type { Objective, Direction } from "./objective";
export type { TrialSummary } from "./results";
export type { TrialRecord } from "./storage";

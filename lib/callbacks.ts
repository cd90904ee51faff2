/**
 * Keras-like training callbacks, as tf.Callback subclasses: they work with train() from lib/train and with
 * tfjs's own model.fit.
 */
import * as tf from "@tensorflow/tfjs";
import { saveModel } from "./model-io";

export type MonitorMode = "min" | "max" | "auto";

type LogsLike = Record<string, number | tf.Tensor> | undefined;

/** Read a metric from epoch logs (tfjs's fit may hand over scalars as tensors). */
async function readMetric(logs: LogsLike, key: string): Promise<number | undefined> {
  const v = logs?.[key];
  if (v === undefined) return undefined;
  return typeof v === "number" ? v : (await v.data())[0];
}

function resolveMode(mode: MonitorMode, monitor: string): "min" | "max" {
  if (mode !== "auto") return mode;
  return /acc/.test(monitor) ? "max" : "min";
}

/** Tracks the best value of a metric; `improves` says whether a new value beats it by more than minDelta. */
class BestTracker {
  best: number;
  constructor(
    readonly monitor: string,
    private readonly mode: "min" | "max",
    private readonly minDelta: number,
  ) {
    this.best = this.reset();
  }
  reset(): number {
    return (this.best = this.mode === "min" ? Infinity : -Infinity);
  }
  improves(value: number): boolean {
    return this.mode === "min" ? value < this.best - this.minDelta : value > this.best + this.minDelta;
  }
}

function missingMetric(monitor: string, logs: LogsLike): Error {
  return new Error(
    `Cannot monitor "${monitor}": the epoch logs only have ${Object.keys(logs ?? {}).join(", ") || "nothing"}. ` +
      `Monitoring val_* needs validationData or validationSplit.`,
  );
}

export interface EarlyStoppingOptions {
  /** Metric to watch. Default "val_loss". */
  monitor?: string;
  /** Epochs without improvement before stopping. Default 0 (stop at the first epoch that does not improve). */
  patience?: number;
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** "min" for losses, "max" for accuracies; "auto" (default) decides from the name. */
  mode?: MonitorMode;
  /** At the end of training, put back the weights of the best epoch. Default false. */
  restoreBestWeights?: boolean;
}

export class EarlyStoppingCallback extends tf.Callback {
  private readonly tracker: BestTracker;
  private readonly patience: number;
  private readonly restore: boolean;
  private wait = 0;
  private bestWeights: tf.Tensor[] | undefined;
  /** 0-based epoch at which training was stopped, or -1 when it ran all epochs. */
  stoppedEpoch = -1;
  /** 0-based epoch with the best monitored value so far, or -1. */
  bestEpoch = -1;

  constructor(opts: EarlyStoppingOptions = {}) {
    super();
    const monitor = opts.monitor ?? "val_loss";
    this.patience = opts.patience ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0) {
      throw new Error(`patience must be a non-negative integer, got ${opts.patience}.`);
    }
    this.tracker = new BestTracker(monitor, resolveMode(opts.mode ?? "auto", monitor), Math.abs(opts.minDelta ?? 0));
    this.restore = opts.restoreBestWeights ?? false;
  }

  get best(): number {
    return this.tracker.best;
  }

  override async onTrainBegin(): Promise<void> {
    this.wait = 0;
    this.stoppedEpoch = -1;
    this.bestEpoch = -1;
    this.tracker.reset();
    this.disposeBest();
  }

  override async onEpochEnd(epoch: number, logs?: LogsLike): Promise<void> {
    const value = await readMetric(logs, this.tracker.monitor);
    if (value === undefined) throw missingMetric(this.tracker.monitor, logs);
    if (this.tracker.improves(value)) {
      this.tracker.best = value;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.restore) {
        this.disposeBest();
        this.bestWeights = this.model.getWeights().map((w) => w.clone());
      }
      return;
    }
    this.wait++;
    if (this.wait >= this.patience) {
      this.stoppedEpoch = epoch;
      this.model.stopTraining = true;
    }
  }

  override async onTrainEnd(): Promise<void> {
    // Unlike Keras (which restores only when it stops early) we restore whenever the best epoch was not the last.
    if (this.restore && this.bestWeights) this.model.setWeights(this.bestWeights);
    this.disposeBest();
  }

  private disposeBest(): void {
    this.bestWeights?.forEach((t) => t.dispose());
    this.bestWeights = undefined;
  }
}

/** Stop training when `monitor` has not improved for `patience` epochs (Keras' EarlyStopping). */
export function earlyStopping(opts: EarlyStoppingOptions = {}): EarlyStoppingCallback {
  return new EarlyStoppingCallback(opts);
}

export interface ModelCheckpointOptions {
  /** Folder to save into (see lib/model-io; it is replaced at every save). */
  dir: string;
  /** Metric to watch. Default "val_loss". */
  monitor?: string;
  /** Save only when the monitored metric improves. Default true. */
  saveBestOnly?: boolean;
  mode?: MonitorMode;
}

export class ModelCheckpointCallback extends tf.Callback {
  private readonly tracker: BestTracker;
  private readonly dir: string;
  private readonly saveBestOnly: boolean;
  /** 0-based epochs at which the model was written. */
  savedEpochs: number[] = [];

  constructor(opts: ModelCheckpointOptions) {
    super();
    if (!opts || typeof opts.dir !== "string" || opts.dir === "") {
      throw new Error(`modelCheckpoint needs {dir: "folder to save the model in"}.`);
    }
    const monitor = opts.monitor ?? "val_loss";
    this.tracker = new BestTracker(monitor, resolveMode(opts.mode ?? "auto", monitor), 0);
    this.dir = opts.dir;
    this.saveBestOnly = opts.saveBestOnly ?? true;
  }

  get best(): number {
    return this.tracker.best;
  }

  override async onTrainBegin(): Promise<void> {
    this.tracker.reset();
    this.savedEpochs = [];
  }

  override async onEpochEnd(epoch: number, logs?: LogsLike): Promise<void> {
    if (this.saveBestOnly) {
      const value = await readMetric(logs, this.tracker.monitor);
      if (value === undefined) throw missingMetric(this.tracker.monitor, logs);
      if (!this.tracker.improves(value)) return;
      this.tracker.best = value;
    }
    await saveModel(this.model, this.dir);
    this.savedEpochs.push(epoch);
  }
}

/** Save the model to `dir` after each epoch, or only when `monitor` improves (Keras' ModelCheckpoint). */
export function modelCheckpoint(opts: ModelCheckpointOptions): ModelCheckpointCallback {
  return new ModelCheckpointCallback(opts);
}

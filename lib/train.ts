/**
 * Compiling and training classification models, Keras-style, with reproducible shuffling and a live progress line.
 *
 * Why not plain model.fit: tfjs's fit shuffles with Math.random (reruns differ), and it insists that targets have
 * the model's output shape, so integer labels cannot be used with a sparse loss. train() runs its own loop over
 * seeded batches, computes the compiled loss on integer labels, and calls tf.Callback objects the way fit does
 * (setParams, setModel, onTrainBegin, onEpochBegin, onBatchEnd, onEpochEnd, onTrainEnd; model.stopTraining).
 */
import * as tf from "@tensorflow/tfjs";
import { adam } from "./backend/fused-adam";
import { sparseCategoricalCrossentropyFromLogits } from "./losses";
import { accuracy } from "./metrics";
import { TrainingProgress, type ProgressMode } from "./progress";
import { interruptTicket } from "./interrupt";
import { mulberry32, permutation } from "./random";
import { gatherRows, type ImageInput, ScaledImages, sliceRows } from "./data/scaled-images";
import { regularizationLosses } from "./regularization";
import type { ImageAugmenter } from "./augment/augmenter";

/**
 * Images and their integer labels, as {x, y} or as a Keras-like [x, y] pair. The images are a tensor, or
 * scaledImages(split) from lib/data (bytes scaled to 0..1 batch by batch, for sets too big for a float tensor).
 */
export type LabelledData = { x: ImageInput; y: tf.Tensor } | [ImageInput, tf.Tensor];

export interface CompileOptions {
  /** Adam's learning rate. Default 0.001 (Keras' default). */
  learningRate?: number;
}

export interface TrainOptions {
  epochs: number;
  /** Default 32. */
  batchSize?: number;
  /** Data to evaluate at the end of every epoch (adds val_loss and val_accuracy). */
  validationData?: LabelledData;
  /** Alternatively, hold out this fraction of the training data (its last samples, as Keras does). */
  validationSplit?: number;
  /** Seed of the per-epoch shuffling. Default 42. */
  seed?: number;
  /**
   * tf.Callback objects (e.g. from lib/callbacks) or plain {onEpochEnd(epoch, logs) {...}} objects. (A tf.Callback
   * fits the tf.CustomCallbackArgs type, which keeps parameter types inferred in plain objects.)
   */
  callbacks?: tf.CustomCallbackArgs[];
  /** 0: silent; 1 (default): the live progress line. */
  verbose?: 0 | 1;
  /** Override how progress is drawn (see lib/progress). Default "auto". */
  progress?: ProgressMode;
  /**
   * Random transforms for every training batch (lib/augment's imageAugmenter). Validation data is never augmented.
   * Reruns with the same augmenter see the same transforms.
   */
  augment?: ImageAugmenter;
}

// A type alias, not an interface: aliases get an implicit index signature, so a history can be passed wherever a
// Record<string, number[]> of metrics is expected (plots, reports, the tuner).
export type HistoryValues = {
  loss: number[];
  accuracy: number[];
  val_loss?: number[];
  val_accuracy?: number[];
};

/** Like Keras' History: epoch numbers (0-based) and one value per epoch for each metric. */
export interface TrainHistory {
  epochs: number[];
  history: HistoryValues;
  /** Wall-clock seconds for the whole run, validation included. */
  seconds: number;
}

export interface EvaluateResult {
  loss: number;
  accuracy: number;
}

type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** Adam + sparse cross-entropy from logits + accuracy, like the lessons' compile_model(). */
export function compileForClassification(model: tf.LayersModel, opts: CompileOptions = {}): tf.LayersModel {
  const lr = opts.learningRate ?? 0.001;
  if (!(lr > 0)) throw new Error(`learningRate must be a positive number, got ${lr}.`);
  model.compile({
    optimizer: adam(lr), // tf.train.adam's numbers; one fused kernel per weight on wasm
    loss: sparseCategoricalCrossentropyFromLogits,
    metrics: [accuracy],
  });
  return model;
}

function unpack(data: LabelledData, what: string): { x: ImageInput; y: tf.Tensor } {
  const [x, y] = Array.isArray(data) ? data : [data?.x, data?.y];
  if (!(x instanceof tf.Tensor || x instanceof ScaledImages) || !(y instanceof tf.Tensor)) {
    throw new Error(`${what} must be {x: images tensor, y: labels tensor} or [images, labels].`);
  }
  if (x.shape[0] !== y.shape[0]) {
    throw new Error(`${what} has ${x.shape[0]} images but ${y.shape[0]} labels; they must match.`);
  }
  if (x.shape[0] === 0) throw new Error(`${what} is empty.`);
  return { x, y };
}

function compiledLoss(model: tf.LayersModel): LossFn {
  const loss = (model as unknown as { loss?: unknown }).loss;
  if (model.optimizer == null || typeof loss !== "function") {
    throw new Error(
      `The model is not compiled with a loss function. Call compileForClassification(model) (lib/train) first; ` +
        `a loaded model must be compiled again before training.`,
    );
  }
  return loss as LossFn;
}

function yieldToEventLoop(): Promise<void> {
  // Lets stdout reach the notebook (tslab sends it asynchronously) while a long loop runs.
  return new Promise((resolve) => setImmediate(resolve));
}

/** Mean loss (the compiled one, or cross-entropy from logits) and accuracy over a dataset, in batches. */
export async function evaluate(
  model: tf.LayersModel,
  data: LabelledData,
  opts: { batchSize?: number } = {},
): Promise<EvaluateResult> {
  const { x, y } = unpack(data, "evaluate data");
  const lossFn = typeof (model as unknown as { loss?: unknown }).loss === "function"
    ? ((model as unknown as { loss: LossFn }).loss)
    : sparseCategoricalCrossentropyFromLogits;
  const batchSize = opts.batchSize ?? 32;
  const n = x.shape[0];
  let totals = tf.zeros([2]);
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const next = tf.tidy(() => {
      const xb = sliceRows(x, start, size);
      const yb = tf.slice(y, start, size);
      const logits = model.predict(xb) as tf.Tensor;
      return tf.add(totals, tf.stack([tf.sum(lossFn(yb, logits)), tf.sum(accuracy(yb, logits))]));
    });
    totals.dispose();
    totals = next;
  }
  const [lossSum, correct] = Array.from(await totals.data());
  totals.dispose();
  return { loss: lossSum / n, accuracy: correct / n };
}

function wrapCallbacks(list: tf.CustomCallbackArgs[]): tf.Callback[] {
  return list.map((cb) => {
    const maybe = cb as Partial<tf.Callback>;
    if (typeof maybe.setParams === "function" && typeof maybe.onEpochEnd === "function") return cb as tf.Callback;
    if (cb && typeof cb === "object") {
      // A plain {onEpochEnd, ...} object: give it the tf.Callback interface.
      return new tf.CustomCallback(cb) as unknown as tf.Callback;
    }
    throw new Error(`Each callback must be a tf.Callback or an object like {onEpochEnd(epoch, logs) {...}}.`);
  });
}

/**
 * Train a compiled model on images x and integer labels y. Returns the per-epoch history.
 * Batches are reshuffled every epoch with a PRNG seeded by `seed`, so a rerun (same seed, same initial weights)
 * sees the same batches. Training stops early when a callback sets model.stopTraining = true.
 */
export async function train(model: tf.LayersModel, data: LabelledData, opts: TrainOptions): Promise<TrainHistory> {
  const started = Date.now();
  const lossFn = compiledLoss(model);
  const optimizer = model.optimizer;
  const epochs = opts.epochs;
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`epochs must be a positive integer, got ${epochs}.`);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be a positive integer, got ${batchSize}.`);
  }
  if (opts.validationData && opts.validationSplit) {
    throw new Error(`Pass validationData or validationSplit, not both.`);
  }

  const all = unpack(data, "Training data");
  const owned: tf.Tensor[] = []; // tensors this function made and must free
  let trainX = all.x;
  let trainY = all.y;
  let val: { x: ImageInput; y: tf.Tensor } | undefined;
  if (opts.validationData) val = unpack(opts.validationData, "validationData");
  if (opts.validationSplit) {
    const split = opts.validationSplit;
    const n = all.x.shape[0];
    const nTrain = Math.floor(n * (1 - split));
    if (!(split > 0 && split < 1) || nTrain < 1 || nTrain >= n) {
      throw new Error(`validationSplit must leave samples on both sides (0 < split < 1); got ${split} for ${n} samples.`);
    }
    trainX = all.x instanceof ScaledImages ? all.x.rows(0, nTrain) : tf.slice(all.x, 0, nTrain);
    trainY = tf.slice(all.y, 0, nTrain);
    val = { x: all.x instanceof ScaledImages ? all.x.rows(nTrain) : tf.slice(all.x, nTrain), y: tf.slice(all.y, nTrain) };
    for (const t of [trainX, trainY, val.x, val.y]) if (t instanceof tf.Tensor) owned.push(t);
  }

  if (opts.augment && trainX.rank !== 4) {
    throw new Error(`augment needs images shaped [n, height, width, channels]; the training data has shape [${trainX.shape.join(", ")}].`);
  }
  const augmentBatch = opts.augment?.stream();
  const n = trainX.shape[0];
  const steps = Math.ceil(n / batchSize);
  const rng = mulberry32(opts.seed ?? 42);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const callbacks = wrapCallbacks(opts.callbacks ?? []);
  const progress = new TrainingProgress({ mode: opts.verbose === 0 ? "none" : opts.progress ?? "auto" });
  const history: HistoryValues = { loss: [], accuracy: [] };
  if (val) Object.assign(history, { val_loss: [], val_accuracy: [] });
  const epochList: number[] = [];

  const params = {
    epochs, steps, samples: n, batchSize, verbose: opts.verbose ?? 1, doValidation: !!val,
    metrics: val ? ["loss", "accuracy", "val_loss", "val_accuracy"] : ["loss", "accuracy"],
  };
  model.stopTraining = false;
  const interrupt = interruptTicket("Training");
  for (const cb of callbacks) {
    cb.setParams(params);
    cb.setModel(model);
  }
  try {
    for (const cb of callbacks) await cb.onTrainBegin({});
    for (let epoch = 0; epoch < epochs && !model.stopTraining; epoch++) {
      const epochStart = Date.now();
      for (const cb of callbacks) await cb.onEpochBegin(epoch, {});
      progress.epochBegin(epoch + 1, epochs, steps);
      const order = permutation(n, rng);
      let lossSum = 0;
      let correctSum = 0;
      let seen = 0;
      for (let step = 0; step < steps; step++) {
        for (const cb of callbacks) await cb.onBatchBegin(step, {});
        const idx = order.slice(step * batchSize, (step + 1) * batchSize);
        interrupt.check();
        const [batchLoss, batchAcc] = await trainStep(model, optimizer, lossFn, variables, trainX, trainY, idx, augmentBatch);
        lossSum += batchLoss * idx.length;
        correctSum += batchAcc * idx.length;
        seen += idx.length;
        const running = { loss: lossSum / seen, accuracy: correctSum / seen };
        for (const cb of callbacks) await cb.onBatchEnd(step, { batch: step, size: idx.length, ...running });
        if (progress.batchEnd(step + 1, running)) await yieldToEventLoop();
      }
      const logs: Record<string, number> = { loss: lossSum / seen, accuracy: correctSum / seen };
      if (val) {
        const v = await evaluate(model, val, { batchSize });
        logs.val_loss = v.loss;
        logs.val_accuracy = v.accuracy;
      }
      epochList.push(epoch);
      history.loss.push(logs.loss);
      history.accuracy.push(logs.accuracy);
      history.val_loss?.push(logs.val_loss);
      history.val_accuracy?.push(logs.val_accuracy);
      progress.epochEnd(logs, (Date.now() - epochStart) / 1000);
      for (const cb of callbacks) await cb.onEpochEnd(epoch, { ...logs });
      await yieldToEventLoop();
    }
    for (const cb of callbacks) await cb.onTrainEnd({});
  } catch (err) {
    progress.abort();
    throw err;
  } finally {
    for (const t of owned) t.dispose();
  }
  return { epochs: epochList, history, seconds: (Date.now() - started) / 1000 };
}

/**
 * One optimizer step on the samples at `idx` (augmented first when `augment` is given); returns the batch's mean
 * loss, weight penalties included (as Keras reports it), and accuracy.
 */
async function trainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  lossFn: LossFn,
  variables: tf.Variable[],
  x: ImageInput,
  y: tf.Tensor,
  idx: number[],
  augment?: (images: tf.Tensor) => tf.Tensor,
): Promise<[number, number]> {
  const result = tf.tidy(() => {
    const indices = tf.tensor1d(idx, "int32");
    const picked = gatherRows(x, idx);
    const xb = augment ? augment(picked) : picked;
    const yb = tf.gather(y, indices);
    let acc: tf.Scalar | undefined;
    const loss = optimizer.minimize(
      () => {
        const logits = model.apply(xb, { training: true }) as tf.Tensor;
        // Kept: the optimizer's gradient scope would otherwise free it.
        acc = tf.keep(tf.mean(accuracy(yb, logits)) as tf.Scalar);
        let loss = tf.mean(lossFn(yb, logits)) as tf.Scalar;
        // Weight penalties (tf.regularizers.l2 and the like), which model.fit would add and a custom loop must.
        for (const penalty of regularizationLosses(model)) loss = tf.add(loss, penalty);
        return loss;
      },
      true,
      variables,
    ) as tf.Scalar;
    const both = tf.stack([loss, acc as tf.Scalar]);
    acc?.dispose();
    return both;
  });
  const values = await result.data();
  result.dispose();
  if (!Number.isFinite(values[0])) {
    throw new Error(
      `The training loss became ${values[0]}. Lower the learning rate, or check that the images are scaled to 0..1.`,
    );
  }
  return [values[0], values[1]];
}

export interface EstimateOptions {
  epochs: number;
  batchSize?: number;
  validationData?: LabelledData;
  /** Training steps to time after one warm-up step (default 2). */
  timedSteps?: number;
}

/**
 * How many seconds `train(model, data, opts)` will take, from the measured time of a few training steps.
 * The steps change the model's weights: pass a freshly built model that you will not keep (the tuner does).
 * Validation is counted as a forward pass, about a third of a training step per batch.
 */
export async function estimateTrainingSeconds(model: tf.LayersModel, data: LabelledData, opts: EstimateOptions): Promise<number> {
  const { x, y } = unpack(data, "Training data");
  const batchSize = Math.min(opts.batchSize ?? 32, x.shape[0]);
  const timedSteps = opts.timedSteps ?? 2;
  const lossFn = compiledLoss(model);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const idx = Array.from({ length: batchSize }, (_, i) => i);
  await trainStep(model, model.optimizer, lossFn, variables, x, y, idx); // warm-up: kernels compile, memory grows
  const t0 = Date.now();
  for (let i = 0; i < timedSteps; i++) await trainStep(model, model.optimizer, lossFn, variables, x, y, idx);
  const stepSeconds = (Date.now() - t0) / 1000 / timedSteps;
  const stepsPerEpoch = Math.ceil(x.shape[0] / batchSize);
  const valBatches = opts.validationData ? Math.ceil(unpack(opts.validationData, "validationData").x.shape[0] / batchSize) : 0;
  return opts.epochs * stepSeconds * (stepsPerEpoch + valBatches / 3);
}

/**
 * The Dollar Street models (64x64 RGB images, 10 classes) for tests, benchmarks and later lessons.
 *
 * The lessons write these same models in their cells; these copies exist so that tests can check the parameter
 * counts the lessons state (1,823,960 / 514,510 / 617,510 / 137,060) and reuse the models without a notebook.
 * They are written the way the lessons write them: plain tf.layers inside withSeed(), logits out (no softmax:
 * the loss in lib/losses applies it).
 */
import * as tf from "@tensorflow/tfjs";
import { dropout } from "./layers";
import { withSeed } from "./seed";

export type Activation = "relu" | "tanh" | "sigmoid" | "elu" | "linear";

export interface ModelOptions {
  /** Seed for every initializer (and dropout mask). Default 42. */
  seed?: number;
  /** Shape of one image, [height, width, channels]. Default [64, 64, 3]. */
  inputShape?: number[];
  /** Number of classes (units of the output layer). Default 10. */
  numClasses?: number;
}

export interface DropoutModelOptions extends ModelOptions {
  /** Fraction of units silenced after each pooling layer during training. Default 0.8 as in the lesson. */
  dropoutRate?: number;
}

export interface ConfigurableModelOptions extends ModelOptions {
  /** How many Conv2D + MaxPooling2D (+ Dropout) blocks. Default 2. */
  convLayers?: number;
  /** Dropout after each pooling layer; 0 leaves the Dropout layers out. Default 0.2. */
  dropoutRate?: number;
  /** Activation of the conv layers and of the hidden Dense layer. Default "relu". */
  activation?: Activation;
  /** Side of the square conv kernels. Default 3. */
  kernelSize?: number;
  /** Filters per conv layer. Default 50. */
  filters?: number;
  /** Units of the hidden Dense layer. Default 50. */
  denseUnits?: number;
  /** Model name shown by summary(). Default "hp_model". */
  name?: string;
}

function inputShapeOf(opts: ModelOptions): number[] {
  const shape = opts.inputShape ?? [64, 64, 3];
  if (!Array.isArray(shape) || shape.length !== 3 || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new Error(`inputShape must be [height, width, channels] of positive integers like [64, 64, 3], got ${JSON.stringify(shape)}.`);
  }
  return shape;
}

function classes(opts: ModelOptions): number {
  const n = opts.numClasses ?? 10;
  if (!Number.isInteger(n) || n < 2) throw new Error(`numClasses must be an integer >= 2, got ${n}.`);
  return n;
}

function checkRate(rate: number): number {
  if (!(rate >= 0 && rate < 1)) {
    throw new Error(`dropoutRate must be in [0, 1) (0.8 silences 80% of units), got ${rate}.`);
  }
  return rate;
}

/** A seeded tf.sequential of `layers` (a function, so that the layers are created under the seed). */
function sequential(name: string, opts: ModelOptions, layers: () => tf.layers.Layer[]): tf.LayersModel {
  return withSeed(opts.seed ?? 42, () => tf.sequential({ name, layers: layers() }));
}

const conv = (filters: number, extra: Partial<Parameters<typeof tf.layers.conv2d>[0]> = {}) =>
  tf.layers.conv2d({ filters, kernelSize: 3, activation: "relu", ...extra });
const pool = () => tf.layers.maxPooling2d({ poolSize: 2 });

/** Two 3x3 conv layers straight into the output: 1,823,960 params on 64x64x3, most of them in the Dense layer. */
export function dollarStreetModelSmall(opts: ModelOptions = {}): tf.LayersModel {
  return sequential("dollar_street_model_small", opts, () => [
    conv(50, { inputShape: inputShapeOf(opts) }), conv(50),
    tf.layers.flatten(), tf.layers.dense({ units: classes(opts) }),
  ]);
}

/** Conv + pooling twice, then a hidden Dense(50): 514,510 params on 64x64x3. */
export function dollarStreetModel(opts: ModelOptions = {}): tf.LayersModel {
  return sequential("dollar_street_model", opts, () => [
    conv(50, { inputShape: inputShapeOf(opts) }), pool(), conv(50), pool(),
    tf.layers.flatten(), tf.layers.dense({ units: 50, activation: "relu" }), tf.layers.dense({ units: classes(opts) }),
  ]);
}

/** Dense-only comparison: Flatten, Dense(50) x2, output. 617,510 params on 64x64x3. */
export function denseModel(opts: ModelOptions = {}): tf.LayersModel {
  return sequential("dense_model", opts, () => [
    tf.layers.flatten({ inputShape: inputShapeOf(opts) }),
    tf.layers.dense({ units: 50, activation: "relu" }), tf.layers.dense({ units: 50, activation: "relu" }),
    tf.layers.dense({ units: classes(opts) }),
  ]);
}

/** dollarStreetModel with a third Conv2D(50) + MaxPooling2D: 137,060 params on 64x64x3 (fewer than two blocks). */
export function dollarStreetModelDeeper(opts: ModelOptions = {}): tf.LayersModel {
  return configurableModel({ ...opts, convLayers: 3, dropoutRate: 0, name: "dollar_street_model_deeper" });
}

/** The deeper model with Dropout(dropoutRate) after each of the three pooling layers: also 137,060 params. */
export function dropoutModel(opts: DropoutModelOptions = {}): tf.LayersModel {
  return configurableModel({ ...opts, convLayers: 3, dropoutRate: opts.dropoutRate ?? 0.8, name: "dropout_model" });
}

/**
 * The tuner's model: `convLayers` blocks of Conv2D(filters, kernelSize, activation) + MaxPooling2D(2) +
 * Dropout(dropoutRate), then Flatten, Dense(denseUnits, activation), Dense(numClasses).
 */
export function configurableModel(opts: ConfigurableModelOptions = {}): tf.LayersModel {
  const convLayers = opts.convLayers ?? 2;
  const kernelSize = opts.kernelSize ?? 3;
  const rate = checkRate(opts.dropoutRate ?? 0.2);
  const activation = opts.activation ?? "relu";
  const inputShape = inputShapeOf(opts);
  if (!Number.isInteger(convLayers) || convLayers < 0) {
    throw new Error(`convLayers must be a non-negative integer, got ${convLayers}.`);
  }
  if (!Number.isInteger(kernelSize) || kernelSize < 1) {
    throw new Error(`kernelSize must be a positive integer (3 means 3x3 kernels), got ${kernelSize}.`);
  }
  let side = Math.min(inputShape[0], inputShape[1]);
  for (let i = 0; i < convLayers; i++) side = Math.floor((side - kernelSize + 1) / 2);
  if (side < 1) {
    throw new Error(
      `${convLayers} conv layers with ${kernelSize}x${kernelSize} kernels shrink the image to nothing; ` +
        `use fewer conv layers, a smaller kernelSize or larger images.`,
    );
  }
  return sequential(opts.name ?? "hp_model", opts, () => {
    const layers: tf.layers.Layer[] = [];
    for (let i = 0; i < convLayers; i++) {
      const first = i === 0 ? { inputShape } : {};
      layers.push(conv(opts.filters ?? 50, { kernelSize, activation, ...first }), pool());
      if (rate > 0) layers.push(dropout({ rate }));
    }
    if (convLayers === 0) layers.push(tf.layers.flatten({ inputShape }));
    else layers.push(tf.layers.flatten());
    layers.push(tf.layers.dense({ units: opts.denseUnits ?? 50, activation }), tf.layers.dense({ units: classes(opts) }));
    return layers;
  });
}

/**
 * Model builders for the Dollar Street lessons (64x64 RGB images, 10 classes).
 *
 * Every builder returns an uncompiled tf.LayersModel whose last layer outputs logits (no softmax: the loss in
 * lib/losses.ts applies it). Every initializer is seeded from `seed`, each layer with its own derived seed, so two
 * builds with the same seed start from identical weights. Layer names follow Keras (conv2d, conv2d_1, ...).
 */
import * as tf from "@tensorflow/tfjs";
import { deriveSeed } from "./random";
import { SeededDropout } from "./seeded-dropout";

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

const DEFAULT_SEED = 42;

/** Builds a functional model layer by layer, naming layers like Keras and seeding every initializer. */
class Builder {
  private readonly counts = new Map<string, number>();
  private layerIndex = 0;
  private readonly seed: number;
  readonly input: tf.SymbolicTensor;
  x: tf.SymbolicTensor;

  constructor(opts: ModelOptions) {
    this.seed = opts.seed ?? DEFAULT_SEED;
    const shape = opts.inputShape ?? [64, 64, 3];
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new Error(`inputShape must be positive integers like [64, 64, 3], got ${JSON.stringify(shape)}.`);
    }
    this.input = tf.input({ shape, name: this.name("input_layer") });
    this.x = this.input;
  }

  private name(base: string): string {
    const n = this.counts.get(base) ?? 0;
    this.counts.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  }

  private nextSeed(): number {
    return deriveSeed(this.seed, this.layerIndex++);
  }

  private add(layer: tf.layers.Layer): this {
    this.x = layer.apply(this.x) as tf.SymbolicTensor;
    if (this.x.shape.slice(1).some((d) => d !== null && d <= 0)) {
      throw new Error(
        `Layer ${layer.name} would output shape [${this.x.shape.slice(1)}]: the images are too small for this ` +
          `many conv/pooling layers. Use larger images (inputShape) or fewer layers.`,
      );
    }
    return this;
  }

  conv(filters: number, kernelSize: number, activation: Activation): this {
    return this.add(
      tf.layers.conv2d({
        filters,
        kernelSize,
        activation,
        name: this.name("conv2d"),
        kernelInitializer: tf.initializers.glorotUniform({ seed: this.nextSeed() }),
        biasInitializer: "zeros",
      }),
    );
  }

  maxPool(size = 2): this {
    return this.add(tf.layers.maxPooling2d({ poolSize: size, name: this.name("max_pooling2d") }));
  }

  dropout(rate: number): this {
    return this.add(new SeededDropout({ rate, seed: this.nextSeed(), name: this.name("dropout") }));
  }

  flatten(): this {
    return this.add(tf.layers.flatten({ name: this.name("flatten") }));
  }

  dense(units: number, activation: Activation = "linear"): this {
    return this.add(
      tf.layers.dense({
        units,
        activation,
        name: this.name("dense"),
        kernelInitializer: tf.initializers.glorotUniform({ seed: this.nextSeed() }),
        biasInitializer: "zeros",
      }),
    );
  }

  build(name: string): tf.LayersModel {
    return tf.model({ inputs: this.input, outputs: this.x, name });
  }
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

/** Two 3x3 conv layers straight into the output: 1,823,960 params on 64x64x3, most of them in the Dense layer. */
export function dollarStreetModelSmall(opts: ModelOptions = {}): tf.LayersModel {
  return new Builder(opts)
    .conv(50, 3, "relu")
    .conv(50, 3, "relu")
    .flatten()
    .dense(classes(opts))
    .build("dollar_street_model_small");
}

/** Conv + pooling twice, then a hidden Dense(50): 514,510 params on 64x64x3. */
export function dollarStreetModel(opts: ModelOptions = {}): tf.LayersModel {
  return new Builder(opts)
    .conv(50, 3, "relu")
    .maxPool()
    .conv(50, 3, "relu")
    .maxPool()
    .flatten()
    .dense(50, "relu")
    .dense(classes(opts))
    .build("dollar_street_model");
}

/** Dense-only comparison: Flatten, Dense(50) x2, output. 617,510 params on 64x64x3. */
export function denseModel(opts: ModelOptions = {}): tf.LayersModel {
  return new Builder(opts)
    .flatten()
    .dense(50, "relu")
    .dense(50, "relu")
    .dense(classes(opts))
    .build("dense_model");
}

/** dollarStreetModel with a third Conv2D(50) + MaxPooling2D: 137,060 params on 64x64x3 (fewer than two blocks). */
export function dollarStreetModelDeeper(opts: ModelOptions = {}): tf.LayersModel {
  return new Builder(opts)
    .conv(50, 3, "relu")
    .maxPool()
    .conv(50, 3, "relu")
    .maxPool()
    .conv(50, 3, "relu")
    .maxPool()
    .flatten()
    .dense(50, "relu")
    .dense(classes(opts))
    .build("dollar_street_model");
}

/** The deeper model with Dropout(dropoutRate) after each of the three pooling layers: also 137,060 params. */
export function dropoutModel(opts: DropoutModelOptions = {}): tf.LayersModel {
  const rate = checkRate(opts.dropoutRate ?? 0.8);
  return new Builder(opts)
    .conv(50, 3, "relu")
    .maxPool()
    .dropout(rate)
    .conv(50, 3, "relu")
    .maxPool()
    .dropout(rate)
    .conv(50, 3, "relu")
    .maxPool()
    .dropout(rate)
    .flatten()
    .dense(50, "relu")
    .dense(classes(opts))
    .build("dropout_model");
}

/**
 * The tuner's model: `convLayers` blocks of Conv2D(filters, kernelSize, activation) + MaxPooling2D(2) +
 * Dropout(dropoutRate), then Flatten, Dense(denseUnits, activation), Dense(numClasses).
 * The lesson's grids: convLayers {1,2} x dropoutRate {0.2,0.5,0.8}; and convLayers 3 with
 * activation {relu,tanh} x kernelSize {3,4}.
 */
export function configurableModel(opts: ConfigurableModelOptions = {}): tf.LayersModel {
  const convLayers = opts.convLayers ?? 2;
  const kernelSize = opts.kernelSize ?? 3;
  const rate = checkRate(opts.dropoutRate ?? 0.2);
  const activation = opts.activation ?? "relu";
  if (!Number.isInteger(convLayers) || convLayers < 0) {
    throw new Error(`convLayers must be a non-negative integer, got ${convLayers}.`);
  }
  if (!Number.isInteger(kernelSize) || kernelSize < 1) {
    throw new Error(`kernelSize must be a positive integer (3 means 3x3 kernels), got ${kernelSize}.`);
  }
  const b = new Builder(opts);
  let side = Math.min(...(opts.inputShape ?? [64, 64, 3]).slice(0, 2));
  for (let i = 0; i < convLayers; i++) {
    side = Math.floor((side - kernelSize + 1) / 2);
    if (side < 1) {
      throw new Error(
        `${convLayers} conv layers with ${kernelSize}x${kernelSize} kernels shrink the image to nothing; ` +
          `use fewer conv layers, a smaller kernelSize or larger images.`,
      );
    }
    b.conv(opts.filters ?? 50, kernelSize, activation).maxPool();
    if (rate > 0) b.dropout(rate);
  }
  return b
    .flatten()
    .dense(opts.denseUnits ?? 50, activation)
    .dense(classes(opts))
    .build(opts.name ?? "hp_model");
}

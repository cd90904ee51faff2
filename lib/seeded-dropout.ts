/**
 * Dropout whose random masks are reproducible from a seed.
 *
 * tfjs's own Dropout layer passes its `seed` unchanged to every call, so a seeded tf.layers.dropout draws the SAME
 * mask for every batch (a fixed thinner network, not dropout); unseeded, it uses Math.random and reruns differ.
 * This layer advances a counter per training call: mask k uses seed (seed, k), so a rerun from a fresh build
 * repeats the same sequence of masks. At inference (training=false) it passes inputs through, like Keras.
 * The mask comes from the project's mulberry32 generator: tf.dropout draws its uniforms one by one through
 * seedrandom, which cost about 30 ms per million activations, a large part of a CIFAR-10 training step. On wasm
 * a compiled kernel makes the same mask (lib/backend/dropout-mask.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { compiledDropoutMask } from "./backend/dropout-mask";
import { deriveSeed, mulberry32 } from "./random";

export interface SeededDropoutArgs {
  /** Fraction of the values set to zero while training, in [0, 1). */
  rate: number;
  /** Seed of the mask sequence. Default: drawn from Math.random, which withSeed() (lib/seed) makes reproducible. */
  seed?: number;
  name?: string;
  trainable?: boolean;
}

/**
 * Inverted-dropout multipliers: each entry is 0 with probability `rate`, otherwise 1 / (1 - rate), so that the
 * expected value of every activation is unchanged (what Keras and tf.dropout do).
 */
export function dropoutMask(size: number, rate: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  const kept = 1 / (1 - rate);
  const mask = new Float32Array(size);
  for (let i = 0; i < size; i++) mask[i] = rng() < rate ? 0 : kept;
  return mask;
}

export class SeededDropout extends tf.layers.Layer {
  // Saved and summarised as a plain "Dropout": at inference it is one, and any loader can read the saved model.
  static className = "Dropout";
  readonly rate: number;
  readonly seed: number;
  private calls = 0;

  constructor(args: SeededDropoutArgs) {
    super({ name: args.name, trainable: args.trainable });
    if (!(args.rate >= 0 && args.rate < 1)) {
      throw new Error(`Dropout rate must be in [0, 1) (the fraction of units silenced), got ${args.rate}.`);
    }
    this.rate = args.rate;
    this.seed = args.seed ?? Math.floor(Math.random() * 2 ** 32);
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs?.training || this.rate === 0) return x;
    const seed = deriveSeed(this.seed, this.calls++);
    return tf.tidy(() => tf.mul(x, compiledDropoutMask(x.shape, this.rate, seed) ?? tf.tensor(dropoutMask(x.size, this.rate, seed), x.shape, "float32")));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}

tf.serialization.registerClass(SeededDropout);

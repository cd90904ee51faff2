/**
 * Layers the lessons use besides tf.layers.*: `dropout`, lib's reproducible dropout layer.
 *
 * Why not tf.layers.dropout: in TensorFlow.js a seeded dropout layer draws the same mask for every batch (a fixed,
 * thinner network, not dropout), and an unseeded one cannot be reproduced. lib's layer draws a fresh mask for every
 * example of every batch from a seeded sequence. It is registered under the class name "Dropout", so summaries and
 * saved models show a plain dropout layer that any TensorFlow.js or Keras loader understands.
 */
import { SeededDropout, type SeededDropoutArgs } from "./seeded-dropout";

export type DropoutArgs = SeededDropoutArgs;

/** Like tf.layers.dropout({ rate }): zeroes a fraction `rate` of the values while training, nothing at inference. */
export function dropout(args: DropoutArgs): SeededDropout {
  return new SeededDropout(args);
}

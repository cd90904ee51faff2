/**
 * Leaner gradients for Sum and Mean. tfjs's own ones build `dy * ones(x.shape)`: the ones tensor is filled
 * element by element in JavaScript and then copied to the backend, which for BatchNorm statistics over a
 * [64, 32, 32, 64] activation took most of a training step. Broadcasting dy with tf.broadcastTo (the Tile
 * kernel) gives the same numbers exactly (dy * 1 == dy) without that array. Backend-independent; registering
 * twice is harmless.
 */
import * as tf from "@tensorflow/tfjs";

/** dy reshaped to keep x's rank (size 1 on the reduced axes) and broadcast back to x's shape. */
function broadcastBack(dy: tf.Tensor, xShape: number[], axis: number | number[]): tf.Tensor {
  const axes = tf.util.parseAxisParam(axis, xShape);
  const kept = xShape.map((d, i) => (axes.includes(i) ? 1 : d));
  return tf.broadcastTo(tf.reshape(dy, kept), xShape);
}

function reducedSize(xShape: number[], axis: number | number[]): number {
  return tf.util.parseAxisParam(axis, xShape).reduce((n, a) => n * xShape[a], 1);
}

export const SUM_GRADIENT: tf.GradConfig = {
  kernelName: tf.Sum,
  inputsToSave: ["x"],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const { axis } = attrs as unknown as { axis: number | number[] };
    return { x: () => broadcastBack(dy as tf.Tensor, x.shape, axis) };
  },
};

export const MEAN_GRADIENT: tf.GradConfig = {
  kernelName: tf.Mean,
  inputsToSave: ["x"],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const { axis } = attrs as unknown as { axis: number | number[] };
    return { x: () => tf.div(broadcastBack(dy as tf.Tensor, x.shape, axis), reducedSize(x.shape, axis)) };
  },
};

export function registerLeanGradients(): void {
  tf.registerGradient(SUM_GRADIENT);
  tf.registerGradient(MEAN_GRADIENT);
}

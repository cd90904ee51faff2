/**
 * Leaner gradients for kernels whose stock tfjs gradients build full-size helper tensors, with the same
 * numbers (the same float operations in the same order):
 * - Sum and Mean: tfjs computes `dy * ones(x.shape)`, the ones filled element by element in JavaScript and then
 *   copied to the backend; for BatchNorm statistics over a [64, 32, 32, 64] activation that took most of a
 *   training step. Broadcasting dy with tf.broadcastTo (the Tile kernel) gives dy * 1 == dy without that array.
 * - FusedBatchNorm: tfjs tiles 1/sqrt(variance + eps) to the whole [N, H, W, C] shape before multiplying dy by
 *   it; a per-channel broadcast multiply gives the same products without the tiled tensor. On wasm, with
 *   per-channel statistics, one compiled pass computes all five gradients (same values up to rounding).
 * - Relu: tfjs computes dy * cast(step(x)) in three kernels; on wasm one compiled kernel gives the same numbers
 *   (elsewhere the stock formula runs). It keeps the output instead of the input, which frees one full-size
 *   activation per ReLU for the backward pass (56 MB in the CIFAR-10 CNN at batch 128).
 * - MaxPool of a conv layer's ReLU output (fused-conv.ts), windows not overlapping: on wasm one compiled pass
 *   gives MaxPoolGrad's dx times the ReLU's step, which the conv layer's gradient then takes as it is (the same
 *   numbers as MaxPoolGrad followed by ReLU's gradient; where that ReLU output also feeds another layer, the
 *   step is then applied twice, which can only change the sign of a zero); otherwise tfjs's own gradient.
 * - Max (global max pooling): tfjs computes dy * cast(equal(x, max)) with broadcasts the stock wasm kernels run
 *   slowly; on wasm one compiled pass gives the same numbers (max-reduce.ts).
 * Backend-independent; registering twice is harmless.
 */
import * as tf from "@tensorflow/tfjs";
import { BATCH_NORM_GRAD_KERNEL, BATCH_NORM_GRAD_MAX_CHANNELS, LessonsBatchNormGradAttrs } from "./batch-norm";
import { LessonsMaxGradAttrs, MAX_GRAD_KERNEL, middleSplit } from "./max-reduce";
import { RELU_GRAD_KERNEL, isReluOutput, markSteppedBy } from "./relu-grad";
import { MAX_POOL_GRAD_RELU_KERNEL, poolWindowsDisjoint } from "./pool-grads";
import { compiledKernelReady } from "./wasm-util";

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
    const { axis } = attrs as unknown as tf.SumAttrs;
    return { x: () => broadcastBack(dy as tf.Tensor, x.shape, axis) };
  },
};

export const MEAN_GRADIENT: tf.GradConfig = {
  kernelName: tf.Mean,
  inputsToSave: ["x"],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const { axis } = attrs as unknown as tf.MeanAttrs;
    // Divide first, then broadcast: each element gets the same dy / n as tfjs's (dy * 1) / n, in one small division.
    return { x: () => broadcastBack(tf.div(dy as tf.Tensor, reducedSize(x.shape, axis)), x.shape, axis) };
  },
};

/** Sums over every axis where the statistic (mean, variance, ...) was broadcast against x, back to its shape. */
function reduceToShape(t: tf.Tensor, xShape: number[], shape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, xShape);
  return tf.reshape(axes.length ? tf.sum(t, axes) : t, shape);
}

export const FUSED_BATCH_NORM_GRADIENT: tf.GradConfig = {
  kernelName: tf.FusedBatchNorm,
  inputsToSave: ["x", "mean", "variance", "scale"],
  gradFunc: (dy, saved, attrs) => {
    const g = dy as tf.Tensor;
    const [x, mean, variance, scale] = saved;
    const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
    const channels = x.shape[x.shape.length - 1];
    const perChannel = (t: tf.Tensor | undefined) => t !== undefined && t.rank === 1 && t.shape[0] === channels && t.dtype === "float32";
    if (
      tf.getBackend() === "wasm" && tf.getKernel(BATCH_NORM_GRAD_KERNEL, "wasm") !== undefined && x.dtype === "float32" &&
      channels <= BATCH_NORM_GRAD_MAX_CHANNELS && perChannel(mean) && perChannel(variance) && perChannel(scale)
    ) {
      // One compiled pass on wasm (the same values up to rounding); all five gradients come out of it at once.
      const gradAttrs: LessonsBatchNormGradAttrs = { varianceEpsilon };
      const [dx, dMean, dVariance, dScale, dOffset] = tf.engine().runKernel(BATCH_NORM_GRAD_KERNEL, { dy: g, x, mean, variance, scale },
        gradAttrs) as tf.Tensor[];
      return { x: () => dx, mean: () => dMean, variance: () => dVariance, scale: () => dScale, offset: () => dOffset };
    }
    const gamma = scale ?? tf.scalar(1);
    const centred = tf.sub(x, mean);
    const gTimesGamma = tf.mul(g, gamma);
    const invStd = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    // d(out)/d(variance) = -1/2 (variance + eps)^(-3/2) (x - mean) * gamma
    const minusHalfInvStdCubed = tf.mul(tf.mul(tf.mul(invStd, invStd), invStd), tf.scalar(-0.5));
    return {
      x: () => tf.reshape(tf.mul(tf.mul(g, invStd), gamma), x.shape),
      mean: () => reduceToShape(tf.mul(tf.mul(invStd, tf.scalar(-1)), gTimesGamma), x.shape, mean.shape),
      variance: () => reduceToShape(tf.mul(tf.mul(minusHalfInvStdCubed, centred), gTimesGamma), x.shape, mean.shape),
      scale: () => reduceToShape(tf.mul(g, tf.mul(centred, invStd)), x.shape, mean.shape),
      offset: () => reduceToShape(g, x.shape, mean.shape),
    };
  },
};

export const RELU_GRADIENT: tf.GradConfig = {
  kernelName: tf.Relu,
  // step(relu(x)) = step(x) for every x (NaN included: relu(NaN) is NaN), so the output serves as well as the
  // input, and keeping the output lets the input (a convolution's or batch norm's full-size result, which
  // nothing else needs for the backward pass) be freed during the forward pass.
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [y] = saved;
    return { x: () => reluGradFromOutput(dy as tf.Tensor, y) };
  },
};

/** ReLU's gradient dy * step(y) from its output y (one compiled kernel on wasm, tfjs's formula elsewhere). */
export function reluGradFromOutput(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  const fused = tf.getBackend() === "wasm" && y.dtype === "float32" && tf.getKernel(RELU_GRAD_KERNEL, "wasm") !== undefined;
  return fused ? (tf.engine().runKernel(RELU_GRAD_KERNEL, { dy, x: y }) as tf.Tensor) : tf.mul(dy, tf.cast(tf.step(y), "float32"));
}

export const MAX_GRADIENT: tf.GradConfig = {
  kernelName: tf.Max,
  inputsToSave: ["x"],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, y] = saved;
    const { reductionIndices } = attrs as unknown as tf.MaxAttrs;
    const axis = tf.util.parseAxisParam(reductionIndices, x.shape);
    const fused = tf.getBackend() === "wasm" && x.dtype === "float32" && middleSplit(x.shape, axis) !== undefined &&
      tf.getKernel(MAX_GRAD_KERNEL, "wasm") !== undefined;
    if (fused) {
      const gradAttrs: LessonsMaxGradAttrs = { axis };
      return { x: () => tf.engine().runKernel(MAX_GRAD_KERNEL, { x, y, dy: dy as tf.Tensor }, gradAttrs) as tf.Tensor };
    }
    // tfjs's formula: every element equal to the maximum gets dy.
    const kept = x.shape.map((d, i) => (axis.includes(i) ? 1 : d));
    return { x: () => tf.mul(tf.reshape(dy as tf.Tensor, kept), tf.cast(tf.equal(x, tf.reshape(y, kept)), "float32")) };
  },
};

export const MAX_POOL_GRADIENT: tf.GradConfig = {
  kernelName: tf.MaxPool,
  inputsToSave: ["x"],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, y] = saved;
    const a = attrs as unknown as tf.MaxPoolAttrs;
    // Pooling a conv layer's ReLU output: the ReLU's step goes into the same pass, and the conv layer's gradient
    // takes the result as it is (fused-conv.ts).
    const throughRelu = x.dtype === "float32" && x.rank === 4 && isReluOutput(x) && poolWindowsDisjoint(a) && compiledKernelReady(MAX_POOL_GRAD_RELU_KERNEL);
    if (throughRelu) {
      const gradAttrs = { filterSize: a.filterSize, strides: a.strides, pad: a.pad, dimRoundingMode: a.dimRoundingMode };
      return {
        x: () => {
          const dx = tf.engine().runKernel(MAX_POOL_GRAD_RELU_KERNEL, { dy: dy as tf.Tensor, input: x, output: y }, gradAttrs as unknown as tf.NamedAttrMap) as tf.Tensor;
          markSteppedBy(dx, x);
          return dx;
        },
      };
    }
    return stockGradient(tf.MaxPool)!.gradFunc(dy, saved, attrs);
  },
};

const LEAN_GRADIENTS = [SUM_GRADIENT, MEAN_GRADIENT, FUSED_BATCH_NORM_GRADIENT, RELU_GRADIENT, MAX_GRADIENT, MAX_POOL_GRADIENT];

/** tfjs's own gradient configs, kept when ours replace them (tests compare the two). */
const stockGradients = new Map<string, tf.GradConfig>();

export function stockGradient(kernelName: string): tf.GradConfig | undefined {
  return stockGradients.get(kernelName);
}

export function registerLeanGradients(): void {
  for (const config of LEAN_GRADIENTS) {
    const current = tf.getGradient(config.kernelName);
    if (current && current !== config && !stockGradients.has(config.kernelName)) stockGradients.set(config.kernelName, current);
    tf.registerGradient(config);
  }
}

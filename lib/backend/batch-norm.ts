/**
 * Batch normalization on the wasm backend, forward and gradient, for per-channel statistics:
 * - FusedBatchNorm: one pass with per-channel coefficients (batch_norm_rows in the C source); the stock kernel is
 *   several times slower. Other statistics go to the stock kernel.
 * - LessonsBatchNormGrad, our own kernel: all five gradients in one pass (batch_norm_grad), used by the lean
 *   FusedBatchNorm gradient in gradients.ts.
 */
import * as tf from "@tensorflow/tfjs";
import { SUM_COLS } from "./native-kernels";
import { runInHalves, sumInHalves } from "./split-work";
import { KernelArgs, WasmBackendLike, callStock, compiledKernels, ptr, wasmKernel } from "./wasm-util";

/** Values of a per-channel statistic as one number per channel, or undefined when it is not per-channel. */
function perChannel(backend: WasmBackendLike, t: tf.TensorInfo | undefined, cols: number, fallback: number): ArrayLike<number> | undefined {
  if (!t) return new Float32Array(cols).fill(fallback);
  if (t.dtype !== "float32") return undefined;
  const size = tf.util.sizeFromShape(t.shape);
  const values = backend.typedArrayFromHeap(t) as Float32Array;
  if (size === 1) return new Float32Array(cols).fill(values[0]);
  const lastAxisOnly = t.shape[t.shape.length - 1] === cols && size === cols;
  return lastAxisOnly ? values : undefined;
}

function fusedBatchNorm(args: KernelArgs<tf.FusedBatchNormInputs, tf.FusedBatchNormAttrs>): tf.TensorInfo {
  const { inputs: { x, mean, variance, offset, scale }, backend, attrs: { varianceEpsilon } } = args;
  const native = compiledKernels(backend);
  if (!native || !x || !mean || !variance || x.dtype !== "float32" || x.shape.length === 0) return callStock("FusedBatchNorm", args);
  const cols = x.shape[x.shape.length - 1];
  const size = tf.util.sizeFromShape(x.shape);
  const m = perChannel(backend, mean, cols, 0);
  const v = perChannel(backend, variance, cols, 0);
  const o = perChannel(backend, offset, cols, 0);
  const s = perChannel(backend, scale, cols, 1);
  if (!m || !v || !o || !s || size === 0) return callStock("FusedBatchNorm", args);
  const coefValues = new Float32Array(3 * cols);
  for (let c = 0; c < cols; c++) {
    coefValues[c] = m[c];
    coefValues[cols + c] = s[c] / Math.sqrt(v[c] + varianceEpsilon);
    coefValues[2 * cols + c] = o[c];
  }
  const coef = backend.makeOutput([3 * cols], "float32");
  const out = backend.makeOutput(x.shape, "float32");
  try {
    (backend.typedArrayFromHeap(coef) as Float32Array).set(coefValues);
    const [xp, cp, op] = [ptr(backend, x), ptr(backend, coef), ptr(backend, out)];
    runInHalves(native, backend, "batch_norm_rows", size / cols, size,
      (r0, n) => [xp + r0 * cols * 4, cp, op + r0 * cols * 4, n, cols]);
  } finally {
    backend.disposeData(coef.dataId);
  }
  return out;
}

export const BATCH_NORM_GRAD_KERNEL = "LessonsBatchNormGrad";

/** Most channels batch_norm_grad handles (its per-channel sums live in fixed buffers: SUM_COLS in the C source). */
export const BATCH_NORM_GRAD_MAX_CHANNELS = SUM_COLS;

export type LessonsBatchNormGradInputs = { dy: tf.TensorInfo; x: tf.TensorInfo; mean: tf.TensorInfo; variance: tf.TensorInfo; scale: tf.TensorInfo };
export type LessonsBatchNormGradAttrs = { varianceEpsilon: number };

/** Per-channel factors of the gradients: 1/sqrt(variance + eps) and gamma (as float64), and coef's first 2 x C floats (mean, gamma / sqrt(variance + eps)). */
function channelFactors(backend: WasmBackendLike, mean: tf.TensorInfo, variance: tf.TensorInfo, scale: tf.TensorInfo, eps: number, cols: number) {
  // Copies, not views: allocations may grow the wasm heap and detach views.
  const [m, v, gamma] = [mean, variance, scale].map((t) => Float64Array.from(backend.typedArrayFromHeap(t) as Float32Array));
  const invStd = new Float64Array(cols);
  const coef = new Float32Array(2 * cols);
  for (let c = 0; c < cols; c++) {
    invStd[c] = 1 / Math.sqrt(v[c] + eps);
    coef[c] = m[c];
    coef[cols + c] = gamma[c] * invStd[c];
  }
  return { invStd, gamma, coef };
}

/** The mean's and variance's gradients from batch_norm_grad's two sums (as float32, like the outputs). */
function statisticsGradients(sumDy: number, sumDyCentred: number, gamma: number, invStd: number): [number, number] {
  return [Math.fround(-gamma * invStd * sumDy), Math.fround(-0.5 * gamma * invStd * invStd * invStd * sumDyCentred)];
}

function checkChannels(native: unknown, kernel: string, cols: number): void {
  if (!native || cols > BATCH_NORM_GRAD_MAX_CHANNELS) throw new Error(`${kernel} needs the compiled kernels and at most ${BATCH_NORM_GRAD_MAX_CHANNELS} channels.`);
}

/**
 * FusedBatchNorm's gradient for per-channel statistics in one pass (batch_norm_grad in the C source). Inputs
 * dy, x, mean, variance, scale (x [..., C], the rest [C]); attr varianceEpsilon. Outputs the gradients of x,
 * mean, variance, scale and offset: dx = dy * scale / sqrt(variance + eps); d offset = sum dy;
 * d scale = sum dy (x - mean) / sqrt(variance + eps); d mean = -scale / sqrt(variance + eps) * sum dy;
 * d variance = -scale / 2 (variance + eps)^(-3/2) * sum dy (x - mean). The same values as tfjs's gradient up
 * to float rounding (the sums are taken before the per-channel factors are applied).
 */
function batchNormGrad(args: KernelArgs<LessonsBatchNormGradInputs, LessonsBatchNormGradAttrs>): tf.TensorInfo[] {
  const { inputs: { dy, x, mean, variance, scale }, backend, attrs: { varianceEpsilon } } = args;
  const native = compiledKernels(backend);
  const cols = x.shape[x.shape.length - 1];
  checkChannels(native, BATCH_NORM_GRAD_KERNEL, cols);
  const rows = tf.util.sizeFromShape(x.shape) / cols;
  const { invStd, gamma, coef: coefValues } = channelFactors(backend, mean, variance, scale, varianceEpsilon, cols);
  const coef = backend.makeOutput([2 * cols], "float32");
  const sums = backend.makeOutput([2, cols], "float32");
  const dx = backend.makeOutput(x.shape, "float32");
  try {
    (backend.typedArrayFromHeap(coef) as Float32Array).set(coefValues);
    const [gp, xp, cp, dp] = [dy, x, coef, dx].map((t) => ptr(backend, t));
    // The kernel overwrites its rows of dx and the sums at dst.
    sumInHalves(native!, backend, "batch_norm_grad", rows, rows * cols, sums,
      (r0, n, dst) => [gp + r0 * cols * 4, xp + r0 * cols * 4, cp, dp + r0 * cols * 4, dst, n, cols]);
    const s = Float64Array.from(backend.typedArrayFromHeap(sums) as Float32Array);
    const outs = [0, 1, 2, 3].map(() => backend.makeOutput([cols], "float32"));
    const [dMean, dVar, dScale, dOffset] = outs.map((t) => backend.typedArrayFromHeap(t) as Float32Array);
    for (let c = 0; c < cols; c++) {
      const [sumDy, sumDyCentred] = [s[c], s[cols + c]];
      dOffset[c] = sumDy;
      dScale[c] = sumDyCentred * invStd[c];
      [dMean[c], dVar[c]] = statisticsGradients(sumDy, sumDyCentred, gamma[c], invStd[c]);
    }
    return [dx, ...outs];
  } finally {
    for (const t of [coef, sums]) backend.disposeData(t.dataId);
  }
}

export const BATCH_NORM_TRAIN_GRAD_KERNEL = "LessonsBatchNormTrainGrad";

export type LessonsBatchNormTrainGradInputs = LessonsBatchNormGradInputs;

/**
 * The gradient of batch normalization on the batch's own statistics (mean and variance computed from x by
 * tf.moments): outputs dx, d scale and d offset. dx is the sum of the direct term (batch_norm_grad's dx) and the
 * term through the statistics (what tf.moments' gradient makes of batch_norm_grad's d mean and d variance),
 * computed as those kernels compute them and added as tfjs adds them, so the same numbers bit for bit, in two
 * reading passes and one written tensor instead of three passes, three written tensors and an Add.
 */
function batchNormTrainGrad(args: KernelArgs<LessonsBatchNormTrainGradInputs, LessonsBatchNormGradAttrs>): tf.TensorInfo[] {
  const { inputs: { dy, x, mean, variance, scale }, backend, attrs: { varianceEpsilon } } = args;
  const native = compiledKernels(backend);
  const cols = x.shape[x.shape.length - 1];
  checkChannels(native, BATCH_NORM_TRAIN_GRAD_KERNEL, cols);
  const rows = tf.util.sizeFromShape(x.shape) / cols;
  const { invStd, gamma, coef: factors } = channelFactors(backend, mean, variance, scale, varianceEpsilon, cols);
  const coef = backend.makeOutput([4 * cols], "float32");
  const sums = backend.makeOutput([2, cols], "float32");
  try {
    (backend.typedArrayFromHeap(coef) as Float32Array).set(factors);
    const [gp, xp, cp] = [dy, x, coef].map((t) => ptr(backend, t));
    // The same split as batch_norm_grad's (same count and work), so the same sums.
    sumInHalves(native!, backend, "batch_norm_grad_sums", rows, rows * cols, sums,
      (r0, n, dst) => [gp + r0 * cols * 4, xp + r0 * cols * 4, cp, dst, n, cols]);
    const s = Float64Array.from(backend.typedArrayFromHeap(sums) as Float32Array);
    const [dScale, dOffset] = [0, 1].map(() => backend.makeOutput([cols], "float32"));
    const [ds, dof, c] = [dScale, dOffset, coef].map((t) => backend.typedArrayFromHeap(t) as Float32Array);
    for (let j = 0; j < cols; j++) {
      const [sumDy, sumDyCentred] = [s[j], s[cols + j]];
      dof[j] = sumDy;
      ds[j] = sumDyCentred * invStd[j];
      const [dMean, dVar] = statisticsGradients(sumDy, sumDyCentred, gamma[j], invStd[j]);
      // As moments' gradient takes them: float32 d mean / n and d variance / n.
      c[2 * cols + j] = dMean / rows;
      c[3 * cols + j] = dVar / rows;
    }
    const dx = backend.makeOutput(x.shape, "float32");
    const dp = ptr(backend, dx);
    runInHalves(native!, backend, "batch_norm_train_dx", rows, 3 * rows * cols,
      (r0, n) => [gp + r0 * cols * 4, xp + r0 * cols * 4, ptr(backend, coef), dp + r0 * cols * 4, n, cols]);
    return [dx, dScale, dOffset];
  } finally {
    for (const t of [coef, sums]) backend.disposeData(t.dataId);
  }
}

export const fusedBatchNormConfig = wasmKernel(tf.FusedBatchNorm, fusedBatchNorm);
export const batchNormGradConfig = wasmKernel(BATCH_NORM_GRAD_KERNEL, batchNormGrad);
export const batchNormTrainGradConfig = wasmKernel(BATCH_NORM_TRAIN_GRAD_KERNEL, batchNormTrainGrad);

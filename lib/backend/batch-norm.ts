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
  if (!native || cols > BATCH_NORM_GRAD_MAX_CHANNELS) throw new Error(`${BATCH_NORM_GRAD_KERNEL} needs the compiled kernels and at most ${BATCH_NORM_GRAD_MAX_CHANNELS} channels.`);
  const rows = tf.util.sizeFromShape(x.shape) / cols;
  // Copies, not views: the allocations below may grow the wasm heap and detach views.
  const [m, v, gamma] = [mean, variance, scale].map((t) => Float64Array.from(backend.typedArrayFromHeap(t) as Float32Array));
  const invStd = new Float64Array(cols);
  const coefValues = new Float32Array(2 * cols);
  for (let c = 0; c < cols; c++) {
    invStd[c] = 1 / Math.sqrt(v[c] + varianceEpsilon);
    coefValues[c] = m[c];
    coefValues[cols + c] = gamma[c] * invStd[c];
  }
  const coef = backend.makeOutput([2 * cols], "float32");
  const sums = backend.makeOutput([2, cols], "float32");
  const dx = backend.makeOutput(x.shape, "float32");
  try {
    (backend.typedArrayFromHeap(coef) as Float32Array).set(coefValues);
    const [gp, xp, cp, dp] = [dy, x, coef, dx].map((t) => ptr(backend, t));
    // The kernel overwrites its rows of dx and the sums at dst.
    sumInHalves(native, backend, "batch_norm_grad", rows, rows * cols, sums,
      (r0, n, dst) => [gp + r0 * cols * 4, xp + r0 * cols * 4, cp, dp + r0 * cols * 4, dst, n, cols]);
    const s = Float64Array.from(backend.typedArrayFromHeap(sums) as Float32Array);
    const outs = [0, 1, 2, 3].map(() => backend.makeOutput([cols], "float32"));
    const [dMean, dVar, dScale, dOffset] = outs.map((t) => backend.typedArrayFromHeap(t) as Float32Array);
    for (let c = 0; c < cols; c++) {
      const [sumDy, sumDyCentred] = [s[c], s[cols + c]];
      dOffset[c] = sumDy;
      dScale[c] = sumDyCentred * invStd[c];
      dMean[c] = -gamma[c] * invStd[c] * sumDy;
      dVar[c] = -0.5 * gamma[c] * invStd[c] * invStd[c] * invStd[c] * sumDyCentred;
    }
    return [dx, ...outs];
  } finally {
    for (const t of [coef, sums]) backend.disposeData(t.dataId);
  }
}

export const fusedBatchNormConfig = wasmKernel(tf.FusedBatchNorm, fusedBatchNorm);
export const batchNormGradConfig = wasmKernel(BATCH_NORM_GRAD_KERNEL, batchNormGrad);

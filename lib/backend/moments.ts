/**
 * tf.moments over leading axes (batch normalization's statistics while training: [N, H, W, C] over N, H and W)
 * as one kernel with its own gradient on the wasm backend. tfjs builds moments from Mean, Sub, Square and Mean,
 * so a training step keeps x - mean and its square alive until the backward pass and then runs five full-size
 * gradient passes; here the forward pass is two reading passes (sum_rows, sq_dev_rows) and the backward pass one
 * (moments_grad). The mean and variance are the same numbers as tfjs's; the gradient is the same up to float
 * rounding (tfjs also adds back the sum of the deviations' gradient, which is zero up to rounding).
 *
 * tfjs-layers calls `tfc.moments` through the tfjs-core module object at every call, so installing our version on
 * that object (installFusedMoments) is what makes BatchNormalization layers use it. Every other case (other
 * backends, other axes, other dtypes) goes to tfjs's own moments.
 */
import * as tf from "@tensorflow/tfjs";
import { nodeRequire } from "../node-require";
import { divideBy, leadingSplit, sumRows } from "./reduce-leading";
import { SUM_COLS } from "./native-kernels";
import { runInHalves, sumInHalves } from "./split-work";
import { KernelArgs, compiledKernelReady, compiledKernels, f32, ptr, wasmKernel } from "./wasm-util";

type Moments = (x: tf.Tensor | tf.TensorLike, axis?: number | number[], keepDims?: boolean) => { mean: tf.Tensor; variance: tf.Tensor };

export const MOMENTS_KERNEL = "LessonsMoments";
export const MOMENTS_GRAD_KERNEL = "LessonsMomentsGrad";

export type LessonsMomentsInputs = { x: tf.TensorInfo };
export type LessonsMomentsAttrs = { axis: number[]; keepDims: boolean };
export type LessonsMomentsGradInputs = { x: tf.TensorInfo; mean: tf.TensorInfo; dMean: tf.TensorInfo; dVariance: tf.TensorInfo };
export type LessonsMomentsGradAttrs = { axis: number[] };

/** Most channels the compiled passes take (their per-column sums live in a fixed buffer: SUM_COLS in the C source). */
const MAX_COLS = SUM_COLS;

/** [k, rows, cols] when the fused kernels take a float32 x reduced over `axis`: its leading k axes, at most MAX_COLS values after them. */
function fusable(shape: number[], axis: number | number[]): [number, number, number] | undefined {
  const split = leadingSplit(shape, axis);
  return split && split[1] > 0 && split[2] <= MAX_COLS ? split : undefined;
}

/** Outputs mean and variance, in tf.moments's shapes. */
function moments(args: KernelArgs<LessonsMomentsInputs, LessonsMomentsAttrs>): tf.TensorInfo[] {
  const { inputs: { x }, backend, attrs: { axis, keepDims } } = args;
  const native = compiledKernels(backend);
  const split = fusable(x.shape, axis);
  if (!native || !split) throw new Error(`${MOMENTS_KERNEL} needs the compiled kernels and leading axes with at most ${MAX_COLS} values after them.`);
  const [k, rows, cols] = split;
  const shape = keepDims ? [...new Array<number>(k).fill(1), ...x.shape.slice(k)] : x.shape.slice(k);
  const mean = backend.makeOutput(shape, "float32");
  const variance = backend.makeOutput(shape, "float32");
  const [xp, mp] = [ptr(backend, x), ptr(backend, mean)];
  // The same sums and divisions as the Mean kernel (reduce-leading.ts) gives for each of tfjs's two means.
  sumRows(backend, xp, mean, rows, cols);
  divideBy(backend, mean, rows);
  sumInHalves(native, backend, "sq_dev_rows", rows, 2 * rows * cols, variance, (r0, n, dst) => [xp + r0 * cols * 4, mp, dst, n, cols]);
  divideBy(backend, variance, rows);
  return [mean, variance];
}

/** Output dx of x's shape. */
function momentsGrad(args: KernelArgs<LessonsMomentsGradInputs, LessonsMomentsGradAttrs>): tf.TensorInfo {
  const { inputs: { x, mean, dMean, dVariance }, backend, attrs: { axis } } = args;
  const native = compiledKernels(backend);
  const split = fusable(x.shape, axis);
  if (!native || !split) throw new Error(`${MOMENTS_GRAD_KERNEL} needs the compiled kernels and leading axes.`);
  const [, rows, cols] = split;
  const coef = backend.makeOutput([3 * cols], "float32");
  const dx = backend.makeOutput(x.shape, "float32");
  try {
    const c = f32(backend, coef);
    const [m, dm, dv] = [mean, dMean, dVariance].map((t) => f32(backend, t));
    // The per-channel factors as float32, like tfjs's dMean / n and dVariance / n.
    for (let j = 0; j < cols; j++) {
      c[j] = m[j];
      c[cols + j] = dm[j] / rows;
      c[2 * cols + j] = dv[j] / rows;
    }
    const [xp, cp, dp] = [x, coef, dx].map((t) => ptr(backend, t));
    runInHalves(native, backend, "moments_grad", rows, 2 * rows * cols, (r0, n) => [xp + r0 * cols * 4, cp, dp + r0 * cols * 4, n, cols]);
  } finally {
    backend.disposeData(coef.dataId);
  }
  return dx;
}

export const momentsConfig = wasmKernel(MOMENTS_KERNEL, moments);
export const momentsGradConfig = wasmKernel(MOMENTS_GRAD_KERNEL, momentsGrad);

export const MOMENTS_GRADIENT: tf.GradConfig = {
  kernelName: MOMENTS_KERNEL,
  inputsToSave: ["x"],
  outputsToSave: [true, false],
  gradFunc: (dy, saved, attrs) => {
    const [dMean, dVariance] = dy as tf.Tensor[];
    const [x, mean] = saved;
    const inputs: Record<keyof LessonsMomentsGradInputs, tf.Tensor> = { x, mean, dMean, dVariance };
    return { x: () => tf.engine().runKernel(MOMENTS_GRAD_KERNEL, inputs, { axis: (attrs as unknown as LessonsMomentsAttrs).axis } as unknown as tf.NamedAttrMap) as tf.Tensor };
  },
};

let stockMoments: Moments | undefined;

/** Which x each mean from our kernel was computed from, with its variance and axes (batch-norm-train.ts asks). */
const computedFrom = new WeakMap<tf.Tensor, { x: tf.Tensor; variance: tf.Tensor; axis: number[] }>();

/** The x of which `mean` and `variance` are the per-channel moments over all its other axes (from fusedMoments, keepDims false), or undefined. */
export function perChannelMomentsOf(mean: tf.Tensor, variance: tf.Tensor): tf.Tensor | undefined {
  const from = computedFrom.get(mean);
  if (!from || from.variance !== variance || from.x.isDisposed) return undefined;
  const perChannel = from.axis.length === from.x.rank - 1 && from.axis.every((a, i) => a === i) && mean.rank === 1;
  return perChannel ? from.x : undefined;
}

/** tf.moments as one kernel where it can (wasm with our kernels, float32, leading axes), else tfjs's own. */
export function fusedMoments(x: tf.Tensor | tf.TensorLike, axis: number | number[] | null = null, keepDims = false): { mean: tf.Tensor; variance: tf.Tensor } {
  const stock = stockMoments ?? tf.moments;
  if (!(x instanceof tf.Tensor) || x.dtype !== "float32" || !compiledKernelReady(MOMENTS_KERNEL) || axis === null || !fusable(x.shape, axis)) {
    return stock(x, axis ?? undefined, keepDims);
  }
  const attrs: LessonsMomentsAttrs = { axis: tf.util.parseAxisParam(axis, x.shape), keepDims };
  const [mean, variance] = tf.engine().runKernel(MOMENTS_KERNEL, { x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  computedFrom.set(mean, { x, variance, axis: attrs.axis });
  return { mean, variance };
}

/**
 * Makes tf.moments (as tfjs-layers calls it) the fused version; safe to call more than once. Returns false when
 * tfjs-core's module object cannot be changed (then layers keep tfjs's moments, which is only slower).
 */
export function installFusedMoments(): boolean {
  tf.registerGradient(MOMENTS_GRADIENT);
  const core = nodeRequire()("@tensorflow/tfjs-core") as { moments: Moments };
  if (core.moments === (fusedMoments as Moments)) return true;
  try {
    stockMoments = core.moments;
    core.moments = fusedMoments as Moments;
    return core.moments === (fusedMoments as Moments);
  } catch {
    return false;
  }
}

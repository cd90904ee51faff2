/**
 * Faster replacements for stock wasm kernels that dominate training steps, each delegating to the stock kernel
 * outside the case it speeds up:
 * - Identity, and Cast to the dtype a tensor already has (ReLU's gradient casts a float mask to float): share the
 *   data (tensors are immutable) instead of copying it.
 * - FusedBatchNorm with per-channel statistics: one pass with per-channel coefficients; the stock kernel is
 *   several times slower.
 * - Sum / Mean over leading axes (bias gradients, BatchNorm statistics): one pass, no transpose of the tensor.
 * - Tile (BatchNorm gradients tile per-channel values over the batch): block copies instead of a per-element
 *   index computation.
 * - Add / Sub / Multiply where an operand is full, per-channel (last axis) or scalar: the stock kernels take a
 *   slow generic broadcasting loop for BatchNorm's per-channel terms.
 * - BatchMatMul (dense layers and their gradients): our compiled convolution kernel as a 1x1 convolution, after
 *   transposing an operand where asked; XNNPACK re-packs its weight operand on every call and the stock kernel
 *   falls into a scalar loop for transposed operands.
 */
import * as tf from "@tensorflow/tfjs";
import { runInHalves, sumInHalves } from "./split-work";
import { NativeKernels } from "./native-kernels";
import { gemmRows } from "./conv-forward";
import { WasmBackendLike, callStock, compiledKernels, hasSlack, ptr, runWasmKernel } from "./wasm-util";

type Args = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };
export function identity(args: Args): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  (args.backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

export function cast(args: Args): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { dtype } = args.attrs as { dtype: tf.DataType };
  if (dtype !== x.dtype || dtype === "string" || dtype === "complex64") return callStock("Cast", args);
  (args.backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype };
}

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

export function fusedBatchNorm(args: Args): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, mean, variance, offset, scale } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const { varianceEpsilon } = args.attrs as { varianceEpsilon: number };
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

/** The split [k, rows, cols] when `axis` is exactly the leading axes 0..k-1 of shape (0 < k < rank). */
function leadingSplit(shape: number[], axis: unknown): [number, number, number] | undefined {
  const axes = tf.util.parseAxisParam(axis as number | number[], shape).sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= shape.length) return undefined;
  if (!axes.every((a, i) => a === i)) return undefined;
  const k = axes.length;
  return [k, tf.util.sizeFromShape(shape.slice(0, k)), tf.util.sizeFromShape(shape.slice(k))];
}

function reduceLeading(name: "Sum" | "Mean", args: Args): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
  const split = x.dtype === "float32" ? leadingSplit(x.shape, axis) : undefined;
  const native = compiledKernels(backend);
  if (!split || !native) return callStock(name, args);
  const [k, rows, cols] = split;
  const rest = x.shape.slice(k);
  const out = backend.makeOutput(keepDims ? [...new Array<number>(k).fill(1), ...rest] : rest, "float32");
  sumRows(backend, ptr(backend, x), out, rows, cols);
  if (name === "Mean") {
    const view = backend.typedArrayFromHeap(out) as Float32Array;
    for (let i = 0; i < view.length; i++) view[i] /= rows;
  }
  return out;
}

/** out[j] = sum over rows of x[i][j]; big inputs split by rows over the helper thread (two partial sums added). */
function sumRows(backend: WasmBackendLike, x: number, out: tf.TensorInfo, rows: number, cols: number): void {
  sumInHalves(compiledKernels(backend)!, backend, "sum_rows", rows, rows * cols, out, (r0, n, dst) => [x + r0 * cols * 4, dst, n, cols]);
}

export const sum = (args: Args): tf.TensorInfo => reduceLeading("Sum", args);
export const mean = (args: Args): tf.TensorInfo => reduceLeading("Mean", args);

export function batchMatMul(args: Args): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  const native = compiledKernels(backend);
  if (a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length < 2 || b.shape.length < 2) return callStock("BatchMatMul", args);
  const outer = (t: tf.TensorInfo) => t.shape.slice(0, -2);
  const [oa, ob] = [outer(a), outer(b)];
  const same = oa.length === ob.length && oa.every((d, i) => d === ob[i]);
  const single = (o: number[]) => tf.util.sizeFromShape(o) === 1;
  // Our kernel handles equal batch dimensions, or one side without any (the usual dense-layer case).
  const ownKernel = native !== undefined && (same || (single(oa) && oa.length <= ob.length) || (single(ob) && ob.length <= oa.length));
  if (!ownKernel && !transposeA && !transposeB) return callStock("BatchMatMul", args);
  const swapLast = (t: tf.TensorInfo): tf.TensorInfo => {
    const r = t.shape.length;
    const perm = [...Array(r).keys()];
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return runWasmKernel(backend, "Transpose", { x: t }, { perm });
  };
  const a2 = transposeA ? swapLast(a) : a;
  const b2 = transposeB ? swapLast(b) : b;
  try {
    // The output's batch dimensions: the side with real batches, else the longer (all-ones) list, as tfjs does.
    const outShape = !single(oa) ? oa : !single(ob) ? ob : oa.length >= ob.length ? oa : ob;
    if (ownKernel && hasSlack(backend, b2, 16)) return matMul(backend, native!, a2, b2, outShape);
    return callStock("BatchMatMul", { ...args, inputs: { a: a2, b: b2 }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
  } finally {
    if (a2 !== a) backend.disposeData(a2.dataId);
    if (b2 !== b) backend.disposeData(b2.dataId);
  }
}

/**
 * [..., M, K] x [..., K, N] (equal batch dimensions, or a side without any broadcast) with the compiled
 * convolution kernel: a matrix product is a 1x1 convolution of M "pixels" with K channels. The rows of each
 * product split over the helper thread when it is big enough.
 */
function matMul(backend: WasmBackendLike, native: NativeKernels, a: tf.TensorInfo, b: tf.TensorInfo, outer: number[]): tf.TensorInfo {
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[b.shape.length - 1];
  const ba = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const bb = tf.util.sizeFromShape(b.shape.slice(0, -2));
  const batch = tf.util.sizeFromShape(outer);
  const out = backend.makeOutput([...outer, m, n], "float32");
  if (batch * m * n === 0) return out;
  if (k === 0) {
    (backend.typedArrayFromHeap(out) as Float32Array).fill(0);
    return out;
  }
  const [ap, bp, op] = [ptr(backend, a), ptr(backend, b), ptr(backend, out)];
  for (let i = 0; i < batch; i++) {
    gemmRows(native, backend, ap + (ba === 1 ? 0 : i * m * k * 4), bp + (bb === 1 ? 0 : i * k * n * 4), op + i * m * n * 4, m, k, n);
  }
  return out;
}

export const BATCH_NORM_GRAD_KERNEL = "LessonsBatchNormGrad";

/** Most channels batch_norm_grad handles (its per-channel sums live in fixed buffers: SUM_COLS in the C source). */
export const BATCH_NORM_GRAD_MAX_CHANNELS = 2048;

/**
 * FusedBatchNorm's gradient for per-channel statistics in one pass (batch_norm_grad in the C source). Inputs
 * dy, x, mean, variance, scale (x [..., C], the rest [C]); attr varianceEpsilon. Outputs the gradients of x,
 * mean, variance, scale and offset: dx = dy * scale / sqrt(variance + eps); d offset = sum dy;
 * d scale = sum dy (x - mean) / sqrt(variance + eps); d mean = -scale / sqrt(variance + eps) * sum dy;
 * d variance = -scale / 2 (variance + eps)^(-3/2) * sum dy (x - mean). The same values as tfjs's gradient up
 * to float rounding (the sums are taken before the per-channel factors are applied).
 */
export function batchNormGrad(args: Args): tf.TensorInfo[] {
  const backend = args.backend as WasmBackendLike;
  const { dy, x, mean, variance, scale } = args.inputs as Record<string, tf.TensorInfo>;
  const { varianceEpsilon } = args.attrs as { varianceEpsilon: number };
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

export const RELU_GRAD_KERNEL = "LessonsReluGrad";

/** dy * step(x) in one pass (see relu_grad in wasm/training_kernels.c); the two halves on two threads when big. */
export function reluGrad(args: Args): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const native = compiledKernels(backend);
  if (!native) throw new Error(`${RELU_GRAD_KERNEL} needs the compiled training kernels (wasm/training_kernels.wasm).`);
  const out = backend.makeOutput(x.shape, "float32");
  const size = tf.util.sizeFromShape(x.shape);
  const [dp, xp, op] = [ptr(backend, dy), ptr(backend, x), ptr(backend, out)];
  // As rows of 4 values, so that both halves start on whole SIMD vectors; the last row may be partial.
  const rows = Math.ceil(size / 4);
  runInHalves(native, backend, "relu_grad", rows, size,
    (r0, n) => [dp + r0 * 16, xp + r0 * 16, op + r0 * 16, Math.min(n * 4, size - r0 * 4)]);
  return out;
}

type Numeric = Float32Array | Int32Array | Uint8Array;

/** Tile by whole-block copies: for each axis from the last, repeat every block of the dims after it. */
export function tile(args: Args): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { reps } = args.attrs as { reps: number[] };
  if (x.dtype === "string" || x.dtype === "complex64" || reps.length !== x.shape.length) return callStock("Tile", args);
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const out = backend.makeOutput(outShape, x.dtype);
  const src = backend.typedArrayFromHeap(x) as Numeric;
  const dst = backend.typedArrayFromHeap(out) as Numeric;
  if (dst.length === 0) return out;
  // Broadcasting over leading axes (the gradients of sums and means: [1, 1, 1, C] over [N, H, W, 1]) repeats
  // the whole input: copy it once, then double the copied part with copyWithin (a few large memory moves).
  const firstReal = x.shape.findIndex((d) => d > 1);
  if (firstReal < 0 || reps.slice(firstReal).every((r) => r === 1)) {
    dst.set(src);
    for (let filled = src.length; filled < dst.length; filled *= 2) dst.copyWithin(filled, 0, Math.min(filled, dst.length - filled));
    return out;
  }
  // cur holds the tensor tiled along axes > axis; it grows axis by axis (only axes with reps > 1 cost a pass).
  let cur: Numeric = src;
  let shape = x.shape.slice();
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    if (reps[axis] === 1) continue;
    const block = tf.util.sizeFromShape(shape.slice(axis));
    const outer = tf.util.sizeFromShape(shape.slice(0, axis));
    const next = cur.length * reps[axis] === dst.length ? dst : new (cur.constructor as new (n: number) => Numeric)(cur.length * reps[axis]);
    for (let o = 0; o < outer; o++) {
      const piece = cur.subarray(o * block, (o + 1) * block);
      const base = o * block * reps[axis];
      for (let r = 0; r < reps[axis]; r++) next.set(piece, base + r * block);
    }
    cur = next;
    shape = shape.map((d, i) => (i === axis ? d * reps[axis] : d));
  }
  if (cur !== dst) dst.set(cur);
  return out;
}

/** 0: same shape as the output, 1: one value per last-axis entry, 2: scalar; undefined: another broadcast. */
function operandMode(shape: number[], outShape: number[]): number | undefined {
  const size = tf.util.sizeFromShape(shape);
  const outSize = tf.util.sizeFromShape(outShape);
  if (size === outSize) return 0;
  if (size === 1) return 2;
  const cols = outShape[outShape.length - 1];
  if (size === cols && shape[shape.length - 1] === cols) return 1;
  return undefined;
}

function binary(name: "Add" | "Sub" | "Multiply", op: number): (args: Args) => tf.TensorInfo {
  return (args: Args) => {
    const backend = args.backend as WasmBackendLike;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const native = compiledKernels(backend);
    if (!native || a.dtype !== "float32" || b.dtype !== "float32") return callStock(name, args);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const size = tf.util.sizeFromShape(outShape);
    const am = operandMode(a.shape, outShape);
    const bm = operandMode(b.shape, outShape);
    if (size === 0 || outShape.length === 0 || am === undefined || bm === undefined) return callStock(name, args);
    const cols = outShape[outShape.length - 1];
    const out = backend.makeOutput(outShape, "float32");
    const [ap, bp, op0] = [ptr(backend, a), ptr(backend, b), ptr(backend, out)];
    const step = cols * 4;
    runInHalves(native, backend, "binary_rows", size / cols, size,
      (r0, n) => [am === 0 ? ap + r0 * step : ap, bm === 0 ? bp + r0 * step : bp, op0 + r0 * step, n, cols, am, bm, op]);
    return out;
  };
}

export const add = binary("Add", 0);
export const sub = binary("Sub", 1);
export const multiply = binary("Multiply", 2);

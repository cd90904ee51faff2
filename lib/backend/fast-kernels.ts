/**
 * Faster replacements for stock wasm kernels that dominate training steps, each delegating to the stock kernel
 * outside the case it speeds up:
 * - Identity: shares the data (tensors are immutable) instead of copying it.
 * - Sum / Mean over leading axes (bias gradients, BatchNorm statistics): one pass, no transpose of the tensor.
 * - BatchMatMul with transposeA/B (dense-layer gradients): the stock kernel uses XNNPACK only without
 *   transposes, so transpose the operand first (cheap) and multiply with XNNPACK.
 */
import * as tf from "@tensorflow/tfjs";
import { WasmBackendLike, compiledKernels, ptr, runWasmKernel } from "./wasm-util";

type Args = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };
type KernelFn = (args: Args) => tf.TensorInfo | tf.TensorInfo[];

/** The stock kernels, captured before we replace them. */
const stock = new Map<string, KernelFn>();

export function rememberStockKernel(name: string): void {
  if (stock.has(name)) return;
  const k = tf.getKernel(name, "wasm");
  if (k) stock.set(name, k.kernelFunc as unknown as KernelFn);
}

function callStock(name: string, args: Args): tf.TensorInfo {
  const fn = stock.get(name);
  if (!fn) throw new Error(`The stock wasm '${name}' kernel was not captured; call registerWasmTrainingKernels() once the wasm backend is registered.`);
  const out = fn(args);
  return Array.isArray(out) ? out[0] : out;
}

export function identity(args: Args): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  (args.backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
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
  native.sum_rows(ptr(backend, x), ptr(backend, out), rows, cols);
  if (name === "Mean") {
    const view = backend.typedArrayFromHeap(out) as Float32Array;
    for (let i = 0; i < view.length; i++) view[i] /= rows;
  }
  return out;
}

export const sum = (args: Args): tf.TensorInfo => reduceLeading("Sum", args);
export const mean = (args: Args): tf.TensorInfo => reduceLeading("Mean", args);

export function batchMatMul(args: Args): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  if ((!transposeA && !transposeB) || a.dtype !== "float32" || b.dtype !== "float32") return callStock("BatchMatMul", args);
  const swapLast = (t: tf.TensorInfo): tf.TensorInfo => {
    const r = t.shape.length;
    const perm = [...Array(r).keys()];
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return runWasmKernel(backend, "Transpose", { x: t }, { perm });
  };
  const a2 = transposeA ? swapLast(a) : a;
  const b2 = transposeB ? swapLast(b) : b;
  try {
    return callStock("BatchMatMul", { ...args, inputs: { a: a2, b: b2 }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
  } finally {
    if (a2 !== a) backend.disposeData(a2.dataId);
    if (b2 !== b) backend.disposeData(b2.dataId);
  }
}


/**
 * Sum and Mean over leading axes (bias gradients, BatchNorm statistics) on the wasm backend: one pass (sum_rows in
 * the C source), no transpose of the tensor. Other reductions go to the stock kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { sumInHalves } from "./split-work";
import { KernelArgs, Present, WasmBackendLike, callStock, compiledKernels, ptr, wasmKernel } from "./wasm-util";

/** The split [k, rows, cols] when `axis` is exactly the leading axes 0..k-1 of shape (0 < k < rank). */
export function leadingSplit(shape: number[], axis: number | number[]): [number, number, number] | undefined {
  const axes = tf.util.parseAxisParam(axis, shape).sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= shape.length) return undefined;
  if (!axes.every((a, i) => a === i)) return undefined;
  const k = axes.length;
  return [k, tf.util.sizeFromShape(shape.slice(0, k)), tf.util.sizeFromShape(shape.slice(k))];
}

/** Sum's and Mean's arguments (tfjs declares the same inputs and attrs for both). */
type ReduceArgs = KernelArgs<Present<tf.SumInputs>, tf.SumAttrs>;

function reduceLeading(name: "Sum" | "Mean", args: ReduceArgs): tf.TensorInfo {
  const { inputs: { x }, backend, attrs: { axis, keepDims } } = args;
  const split = x.dtype === "float32" ? leadingSplit(x.shape, axis) : undefined;
  const native = compiledKernels(backend);
  if (!split || !native) return callStock(name, args);
  const [k, rows, cols] = split;
  const rest = x.shape.slice(k);
  const out = backend.makeOutput(keepDims ? [...new Array<number>(k).fill(1), ...rest] : rest, "float32");
  sumRows(backend, ptr(backend, x), out, rows, cols);
  if (name === "Mean") divideBy(backend, out, rows);
  return out;
}

/** out /= n in place, value by value: a mean from its sum, as tfjs's Mean divides (moments.ts does the same). */
export function divideBy(backend: WasmBackendLike, out: tf.TensorInfo, n: number): void {
  const view = backend.typedArrayFromHeap(out) as Float32Array;
  for (let i = 0; i < view.length; i++) view[i] /= n;
}

/** out[j] = sum over rows of x[i][j]; big inputs split by rows over the helper thread (two partial sums added). */
export function sumRows(backend: WasmBackendLike, x: number, out: tf.TensorInfo, rows: number, cols: number): void {
  sumInHalves(compiledKernels(backend)!, backend, "sum_rows", rows, rows * cols, out, (r0, n, dst) => [x + r0 * cols * 4, dst, n, cols]);
}

export const sumConfig = wasmKernel(tf.Sum, (args: ReduceArgs) => reduceLeading("Sum", args));
export const meanConfig = wasmKernel(tf.Mean, (args: KernelArgs<Present<tf.MeanInputs>, tf.MeanAttrs>) => reduceLeading("Mean", args));

/**
 * Max over a run of middle axes on the wasm backend (global max pooling: [N, H, W, C] over H and W), and its
 * gradient, each one compiled pass (max_middle, max_middle_grad in the C source). The stock Max transposes x
 * so the reduced axes come last, and tfjs's gradient, dy * cast(equal(x, max)), broadcasts through the stock
 * Equal and Multiply kernels' slow generic loops: on the residual network's [256, 2, 2, 160] that was 25 ms.
 * Both give tfjs's numbers exactly (the same comparisons and products). Other reductions go to the stock kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { runInHalves } from "./split-work";
import { KernelArgs, Present, callStock, compiledKernels, f32, ptr, wasmKernel } from "./wasm-util";

export const MAX_GRAD_KERNEL = "LessonsMaxGrad";

export type LessonsMaxGradInputs = { x: tf.TensorInfo; y: tf.TensorInfo; dy: tf.TensorInfo };
export type LessonsMaxGradAttrs = { axis: number[] };

/** x as [outer, mid, inner] when `axis` is one contiguous run of axes followed by at least one kept axis of size > 1. */
export function middleSplit(shape: number[], axis: number | number[]): [number, number, number] | undefined {
  const axes = tf.util.parseAxisParam(axis, shape).sort((a, b) => a - b);
  if (axes.length === 0 || !axes.every((a, i) => a === axes[0] + i)) return undefined;
  const [first, last] = [axes[0], axes[axes.length - 1]];
  const size = (from: number, to: number) => tf.util.sizeFromShape(shape.slice(from, to));
  const split: [number, number, number] = [size(0, first), size(first, last + 1), size(last + 1, shape.length)];
  return split[2] > 1 ? split : undefined;
}

function max(args: KernelArgs<Present<tf.MaxInputs>, tf.MaxAttrs>): tf.TensorInfo {
  const { inputs: { x }, backend, attrs: { reductionIndices, keepDims } } = args;
  const native = compiledKernels(backend);
  const split = x.dtype === "float32" && native ? middleSplit(x.shape, reductionIndices) : undefined;
  if (!native || !split || split[1] === 0) return callStock("Max", args);
  const axes = tf.util.parseAxisParam(reductionIndices, x.shape);
  const shape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d)).filter((d, i) => keepDims || !axes.includes(i));
  const out = backend.makeOutput(shape, "float32");
  const [outer, mid, inner] = split;
  const [xp, op] = [ptr(backend, x), ptr(backend, out)];
  runInHalves(native, backend, "max_middle", outer, outer * mid * inner,
    (o0, n) => [xp + o0 * mid * inner * 4, op + o0 * inner * 4, n, mid, inner]);
  return out;
}

/** Inputs x, y = max(x), dy (y and dy with or without the reduced axes); attr axis. Output dx of x's shape. */
function maxGrad(args: KernelArgs<LessonsMaxGradInputs, LessonsMaxGradAttrs>): tf.TensorInfo {
  const { inputs: { x, y, dy }, backend, attrs: { axis } } = args;
  const split = middleSplit(x.shape, axis);
  if (!split) throw new Error(`${MAX_GRAD_KERNEL} needs a contiguous run of reduced axes before a kept one; got axes [${axis}] of [${x.shape}].`);
  const [outer, mid, inner] = split;
  const dx = backend.makeOutput(x.shape, "float32");
  const native = compiledKernels(backend);
  if (!native) {
    const [xv, yv, gv, dv] = [x, y, dy, dx].map((t) => f32(backend, t));
    for (let i = 0; i < xv.length; i++) {
      const c = (Math.floor(i / (mid * inner)) * inner) + (i % inner);
      dv[i] = gv[c] * (xv[i] === yv[c] ? 1 : 0);
    }
    return dx;
  }
  const [xp, yp, gp, dp] = [x, y, dy, dx].map((t) => ptr(backend, t));
  runInHalves(native, backend, "max_middle_grad", outer, 2 * outer * mid * inner,
    (o0, n) => [xp + o0 * mid * inner * 4, yp + o0 * inner * 4, gp + o0 * inner * 4, dp + o0 * mid * inner * 4, n, mid, inner]);
  return dx;
}

export const maxConfig = wasmKernel(tf.Max, max);
export const maxGradConfig = wasmKernel(MAX_GRAD_KERNEL, maxGrad);

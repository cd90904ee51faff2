/**
 * LessonsReluGrad, our own kernel: ReLU's gradient on the wasm backend in one compiled pass instead of tfjs's
 * dy * cast(step(x)) in three kernels, used by the lean Relu gradient in gradients.ts (the same numbers).
 * LessonsReluGradSum also sums that gradient over all but the last axis in the same pass: a conv layer's bias
 * gradient (fused-conv.ts), the same numbers as the Sum kernel gives (reduce-leading.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { runOverValues, sumInHalves } from "./split-work";
import { SUM_COLS } from "./native-kernels";
import { KernelArgs, compiledKernels, ptr, wasmKernel } from "./wasm-util";

export const RELU_GRAD_KERNEL = "LessonsReluGrad";
export const RELU_GRAD_SUM_KERNEL = "LessonsReluGradSum";

export type LessonsReluGradInputs = { dy: tf.TensorInfo; x: tf.TensorInfo };

/** dy * step(x) in one pass (see relu_grad in wasm/training_kernels.c); the two halves on two threads when big. */
function reluGrad(args: KernelArgs<LessonsReluGradInputs>): tf.TensorInfo {
  const { inputs: { dy, x }, backend } = args;
  const native = compiledKernels(backend);
  if (!native) throw new Error(`${RELU_GRAD_KERNEL} needs the compiled training kernels (wasm/training_kernels.wasm).`);
  const out = backend.makeOutput(x.shape, "float32");
  const size = tf.util.sizeFromShape(x.shape);
  const [dp, xp, op] = [ptr(backend, dy), ptr(backend, x), ptr(backend, out)];
  runOverValues(native, backend, "relu_grad", size, size, (at, count) => [dp + at, xp + at, op + at, count]);
  return out;
}

export const reluGradConfig = wasmKernel(RELU_GRAD_KERNEL, reluGrad);

/** Outputs the gradient (x's shape) and its sums over all but the last axis ([channels]). */
function reluGradSum(args: KernelArgs<LessonsReluGradInputs>): tf.TensorInfo[] {
  const { inputs: { dy, x }, backend } = args;
  const native = compiledKernels(backend);
  const cols = x.shape[x.shape.length - 1];
  if (!native || x.shape.length < 2 || cols > SUM_COLS) {
    throw new Error(`${RELU_GRAD_SUM_KERNEL} needs the compiled training kernels and at most ${SUM_COLS} channels, got shape [${x.shape.join(", ")}].`);
  }
  const out = backend.makeOutput(x.shape, "float32");
  const sums = backend.makeOutput([cols], "float32");
  const rows = tf.util.sizeFromShape(x.shape) / cols;
  const [dp, xp, op] = [ptr(backend, dy), ptr(backend, x), ptr(backend, out)];
  // Split by rows exactly as the Sum kernel splits the same sum (the same work), so the two halves' sums match.
  sumInHalves(native, backend, "relu_grad_sum", rows, rows * cols, sums,
    (r0, n, dst) => [dp + r0 * cols * 4, xp + r0 * cols * 4, op + r0 * cols * 4, dst, n, cols]);
  return [out, sums];
}

export const reluGradSumConfig = wasmKernel(RELU_GRAD_SUM_KERNEL, reluGradSum);

/*
 * Max pooling right after a conv layer's ReLU (fused-conv.ts) passes its gradient through the ReLU's in the same
 * pass (LessonsMaxPoolGradRelu, from the MaxPool gradient in gradients.ts); the conv layer's gradient then takes
 * it as it is. These marks, on the tensors' data (which clones share), say which data is such a ReLU's output
 * and which gradient already has the ReLU's step applied.
 */
const reluOutputs = new WeakSet<object>();
const steppedBy = new WeakMap<object, object>();

export function markReluOutput(y: tf.TensorInfo): void {
  reluOutputs.add(y.dataId);
}

export function isReluOutput(x: tf.TensorInfo): boolean {
  return reluOutputs.has(x.dataId);
}

/** Records that gradient g is already (what it would be) times step(y). */
export function markSteppedBy(g: tf.TensorInfo, y: tf.TensorInfo): void {
  steppedBy.set(g.dataId, y.dataId);
}

export function isSteppedBy(g: tf.TensorInfo, y: tf.TensorInfo): boolean {
  return steppedBy.get(g.dataId) === y.dataId;
}

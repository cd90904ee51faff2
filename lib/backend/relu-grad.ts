/**
 * LessonsReluGrad, our own kernel: ReLU's gradient on the wasm backend in one compiled pass instead of tfjs's
 * dy * cast(step(x)) in three kernels, used by the lean Relu gradient in gradients.ts (the same numbers).
 */
import * as tf from "@tensorflow/tfjs";
import { runInHalves } from "./split-work";
import { KernelArgs, compiledKernels, ptr, wasmKernel } from "./wasm-util";

export const RELU_GRAD_KERNEL = "LessonsReluGrad";

export type LessonsReluGradInputs = { dy: tf.TensorInfo; x: tf.TensorInfo };

/** dy * step(x) in one pass (see relu_grad in wasm/training_kernels.c); the two halves on two threads when big. */
function reluGrad(args: KernelArgs<LessonsReluGradInputs>): tf.TensorInfo {
  const { inputs: { dy, x }, backend } = args;
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

export const reluGradConfig = wasmKernel(RELU_GRAD_KERNEL, reluGrad);

/**
 * Relu and Relu6 on the wasm backend in one compiled pass (relu_into in the C source), split over the helper
 * thread when big: since XNNPACK's pool runs on one thread fewer (wasm-loader.ts), the stock kernels would run
 * on one. The stock kernels' numbers, NaN and -0 included. Other dtypes go to the stock kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { runOverValues } from "./split-work";
import { KernelArgs, callStock, compiledKernels, ptr, wasmKernel } from "./wasm-util";

function activationConfig(name: "Relu" | "Relu6", six: number): tf.KernelConfig {
  return wasmKernel(name, (args: KernelArgs<{ x: tf.TensorInfo }>) => {
    const { inputs: { x }, backend } = args;
    const native = compiledKernels(backend);
    const size = tf.util.sizeFromShape(x.shape);
    if (!native || x.dtype !== "float32" || size === 0) return callStock(name, args);
    const out = backend.makeOutput(x.shape, "float32");
    const [xp, op] = [ptr(backend, x), ptr(backend, out)];
    runOverValues(native, backend, "relu_into", size, 2 * size, (at, count) => [xp + at, op + at, count, six]);
    return out;
  });
}

export const reluConfig = activationConfig(tf.Relu, 0);
export const relu6Config = activationConfig(tf.Relu6, 1);

/**
 * MaxPool on the wasm backend, NHWC float32: one compiled pass (max_pool_forward in the C source), the images split
 * over the helper thread when big. Since XNNPACK's pool runs on one thread fewer (wasm-loader.ts), the stock kernel
 * would run on one. It finds each window's maximum as tfjs's cpu backend does, which is what our MaxPoolGrad
 * assumes (pool-grads.ts): a NaN never wins, where the stock kernel's answer for a window holding NaN depended on
 * the window's order. Other dtypes go to the stock kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { runInHalves } from "./split-work";
import { KernelArgs, Present, as4D, callStock, compiledKernels, ptr, wasmKernel, windowGeometry } from "./wasm-util";

function maxPool(args: KernelArgs<Present<tf.MaxPoolInputs>, tf.MaxPoolAttrs>): tf.TensorInfo {
  const { inputs: { x }, backend, attrs: { filterSize, strides, pad, dimRoundingMode } } = args;
  const native = compiledKernels(backend);
  if (!native || x.dtype !== "float32" || x.shape.length !== 4) return callStock("MaxPool", args);
  const info = tf.backend_util.computePool2DInfo(as4D(x.shape, "x"), filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, effectiveFilterHeight: kh, effectiveFilterWidth: kw } = info;
  const out = backend.makeOutput([n, oh, ow, c], "float32");
  if (n * oh * ow * c === 0) return out;
  const [xp, op] = [ptr(backend, x), ptr(backend, out)];
  runInHalves(native, backend, "max_pool_forward", n, n * oh * ow * c * (kh * kw + 1),
    (b0, count) => [xp + b0 * h * w * c * 4, op + b0 * oh * ow * c * 4, count, ...windowGeometry(info)]);
  return out;
}

export const maxPoolConfig = wasmKernel(tf.MaxPool, maxPool);

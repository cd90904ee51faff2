/**
 * DepthwiseConv2dNative on the wasm backend for channel multiplier 1 (MobileNet's and lesson 04's separable
 * convolutions), NHWC and undilated: one compiled pass (depthwise_forward in the C source), the images split over
 * the helper thread when big, padding handled by the loop bounds (no padded copy). Since XNNPACK's pool runs on
 * one thread fewer (wasm-loader.ts), the stock kernel would run on one. Everything else goes to the stock kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { macWork, runInHalves } from "./split-work";
import { KernelArgs, Present, as4D, callStock, compiledKernels, isChannelsLast, isUndilated, ptr, wasmKernel, windowGeometry } from "./wasm-util";

function depthwiseConv2dNative(args: KernelArgs<Present<tf.DepthwiseConv2dNativeInputs>, tf.DepthwiseConv2dNativeAttrs>): tf.TensorInfo {
  const { inputs: { x, filter }, backend, attrs } = args;
  const native = compiledKernels(backend);
  const plain = native && isChannelsLast(attrs.dataFormat) && isUndilated(attrs.dilations) && x.dtype === "float32" && filter.dtype === "float32";
  if (!plain || x.shape.length !== 4 || filter.shape.length !== 4 || filter.shape[3] !== 1) return callStock("DepthwiseConv2dNative", args);
  const info = tf.backend_util.computeConv2DInfo(as4D(x.shape, "x"), as4D(filter.shape, "filter"), attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, true);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const out = backend.makeOutput([n, oh, ow, c], "float32");
  if (n * oh * ow * c === 0) return out;
  const [xp, fp, op] = [ptr(backend, x), ptr(backend, filter), ptr(backend, out)];
  runInHalves(native, backend, "depthwise_forward", n, macWork(n * oh * ow * c * kh * kw),
    (b0, count) => [xp + b0 * h * w * c * 4, fp, op + b0 * oh * ow * c * 4, count, ...windowGeometry(info)]);
  return out;
}

export const depthwiseConv2dNativeConfig = wasmKernel(tf.DepthwiseConv2dNative, depthwiseConv2dNative);

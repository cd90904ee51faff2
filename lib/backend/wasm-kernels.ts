/**
 * Registers the training kernels that tfjs-backend-wasm 4.22.0 lacks (convolution and depthwise gradients) and
 * replaces its incorrect MaxPoolGrad. Call after the wasm backend is registered (importing
 * @tensorflow/tfjs-backend-wasm does that); safe to call more than once.
 */
import * as tf from "@tensorflow/tfjs";
import {
  conv2DBackpropFilter,
  conv2DBackpropInput,
  depthwiseConv2dNativeBackpropFilter,
  depthwiseConv2dNativeBackpropInput,
} from "./conv-grads";
import { cast, identity } from "./share-data";
import { BATCH_NORM_GRAD_KERNEL, batchNormGrad, fusedBatchNorm } from "./batch-norm";
import { mean, sum } from "./reduce-leading";
import { batchMatMul } from "./mat-mul";
import { tile } from "./tile";
import { add, multiply, sub } from "./binary";
import { RELU_GRAD_KERNEL, reluGrad } from "./relu-grad";
import { maxPoolGrad } from "./pool-grads";
import { MAX_GRAD_KERNEL, max, maxGrad } from "./max-reduce";
import { conv2D } from "./conv-forward";
import { rememberStockKernel } from "./wasm-util";
import { ADAM_KERNEL, adamUpdateKernel } from "./fused-adam";

type BackendKernel = (args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap }) => tf.TensorInfo;

/** Our kernels by name: what a test compares against the cpu backend. */
export const WASM_TRAINING_KERNELS: Record<string, BackendKernel> = {
  Conv2DBackpropInput: conv2DBackpropInput,
  Conv2DBackpropFilter: conv2DBackpropFilter,
  DepthwiseConv2dNativeBackpropInput: depthwiseConv2dNativeBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: depthwiseConv2dNativeBackpropFilter,
  MaxPoolGrad: maxPoolGrad,
};

/** Faster versions of stock kernels (they call the stock kernel outside the cases they speed up). */
export const WASM_FAST_KERNELS: Record<string, BackendKernel> = {
  Conv2D: conv2D,
  Identity: identity,
  Cast: cast,
  FusedBatchNorm: fusedBatchNorm,
  Sum: sum,
  Mean: mean,
  BatchMatMul: batchMatMul,
  Tile: tile,
  Add: add,
  Sub: sub,
  Multiply: multiply,
  Max: max,
};

/** Kernels of our own (no tfjs counterpart), used by lib code that checks for them. */
export const WASM_EXTRA_KERNELS: Record<string, (args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap }) => tf.TensorInfo | tf.TensorInfo[]> = {
  [ADAM_KERNEL]: adamUpdateKernel,
  [RELU_GRAD_KERNEL]: reluGrad,
  [BATCH_NORM_GRAD_KERNEL]: batchNormGrad,
  [MAX_GRAD_KERNEL]: maxGrad,
};

export function registerWasmTrainingKernels(): void {
  for (const name of Object.keys(WASM_FAST_KERNELS)) rememberStockKernel(name);
  for (const [kernelName, kernelFunc] of Object.entries({ ...WASM_TRAINING_KERNELS, ...WASM_FAST_KERNELS, ...WASM_EXTRA_KERNELS })) {
    if (tf.getKernel(kernelName, "wasm")) tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
}

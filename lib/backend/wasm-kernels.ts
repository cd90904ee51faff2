/**
 * Registers the training kernels that tfjs-backend-wasm 4.22.0 lacks (convolution and depthwise gradients) and
 * replaces its incorrect MaxPoolGrad. Call after the wasm backend is registered (importing
 * @tensorflow/tfjs-backend-wasm does that); safe to call more than once.
 *
 * The one place our kernels are registered: each kernel file exports a tf.KernelConfig per kernel (made by
 * wasmKernel in wasm-util.ts), listed here.
 */
import * as tf from "@tensorflow/tfjs";
import {
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
} from "./conv-grads";
import { maxPoolGradConfig, maxPoolGradReluConfig } from "./pool-grads";
import { conv2DConfig, fusedConv2DConfig } from "./conv-forward";
import { castConfig, identityConfig, sliceConfig } from "./share-data";
import { batchNormGradConfig, batchNormTrainGradConfig, fusedBatchNormConfig } from "./batch-norm";
import { installFusedBatchNormTraining } from "./batch-norm-train";
import { meanConfig, sumConfig } from "./reduce-leading";
import { batchMatMulConfig } from "./mat-mul";
import { tileConfig } from "./tile";
import { addConfig, multiplyConfig, realDivConfig, subConfig } from "./binary";
import { maxConfig, maxGradConfig } from "./max-reduce";
import { reluGradConfig, reluGradSumConfig } from "./relu-grad";
import { relu6Config, reluConfig } from "./relu";
import { depthwiseConv2dNativeConfig } from "./depthwise-forward";
import { maxPoolConfig } from "./max-pool";
import { adamUpdateConfig } from "./fused-adam";
import { installFusedMoments, momentsConfig, momentsGradConfig } from "./moments";
import { convBiasActConfig, installFusedConvTraining } from "./fused-conv";
import { dropoutMaskConfig } from "./dropout-mask";
import { rememberStockKernel } from "./wasm-util";

/** Kernels the stock wasm backend lacks or gets wrong. */
export const WASM_TRAINING_KERNELS: tf.KernelConfig[] = [
  conv2DBackpropInputConfig,
  conv2DBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  maxPoolGradConfig,
];

/** Faster versions of stock kernels (they call the stock kernel outside the cases they speed up). */
export const WASM_FAST_KERNELS: tf.KernelConfig[] = [
  conv2DConfig,
  fusedConv2DConfig,
  identityConfig,
  castConfig,
  sliceConfig,
  fusedBatchNormConfig,
  sumConfig,
  meanConfig,
  batchMatMulConfig,
  tileConfig,
  addConfig,
  subConfig,
  multiplyConfig,
  realDivConfig,
  maxConfig,
  reluConfig,
  relu6Config,
  depthwiseConv2dNativeConfig,
  maxPoolConfig,
];

/** Kernels of our own (no tfjs counterpart), used by lib code that checks for them. */
export const WASM_EXTRA_KERNELS: tf.KernelConfig[] = [adamUpdateConfig, reluGradConfig, reluGradSumConfig, batchNormGradConfig, batchNormTrainGradConfig, maxPoolGradReluConfig, maxGradConfig, momentsConfig, momentsGradConfig, convBiasActConfig,
  dropoutMaskConfig];

export function registerWasmTrainingKernels(): void {
  for (const { kernelName } of WASM_FAST_KERNELS) rememberStockKernel(kernelName);
  for (const config of [...WASM_TRAINING_KERNELS, ...WASM_FAST_KERNELS, ...WASM_EXTRA_KERNELS]) {
    if (tf.getKernel(config.kernelName, "wasm")) tf.unregisterKernel(config.kernelName, "wasm");
    tf.registerKernel(config);
  }
  installFusedMoments();
  installFusedBatchNormTraining();
  installFusedConvTraining();
}

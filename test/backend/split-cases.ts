/**
 * The kernels that split their batch over the helper thread, as runnable cases for a given batch size.
 * Shapes are just above each kernel's minimum work for a batch of 3, with channel counts that are not multiples
 * of 4 (the SIMD tails) and overlapping pool windows.
 */
import * as tf from "@tensorflow/tfjs";
import { randomArray } from "./helpers";
import type { HelperExport } from "../../lib/backend/helper-thread";

export interface SplitCase {
  kernel: string;
  exportName: HelperExport;
  /** A function computing the kernel for batch size n (deterministic inputs), for onBackend. */
  build(n: number): () => tf.Tensor;
  /** Helper jobs one call runs at batch n, where that is not one job for n >= 2 (a kernel made of several calls). */
  jobs?(n: number): number;
  /** The argument the "trap" fault points past the memory: one the kernel first touches at offset 0 (default 0). */
  trapArg?: number;
}

function tensorOf(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(randomArray(tf.util.sizeFromShape(shape), seed), shape);
}

export const SPLIT_CASES: SplitCase[] = [
  {
    kernel: "Conv2DBackpropFilter",
    exportName: "conv2d_backprop_filter",
    build: (n) => () =>
      tf.engine().runKernel("Conv2DBackpropFilter", { x: tensorOf([n, 16, 16, 12], 7), dy: tensorOf([n, 16, 16, 13], 8) }, {
        strides: [1, 1], pad: "same", dataFormat: "NHWC", filterShape: [3, 3, 12, 13],
      } as unknown as tf.NamedAttrMap) as tf.Tensor,
  },
  {
    kernel: "Conv2DBackpropInput (stride 2, by phases)",
    exportName: "conv2d_forward_into",
    build: (n) => () =>
      tf.engine().runKernel("Conv2DBackpropInput", { dy: tensorOf([n, 16, 16, 24], 9), filter: tensorOf([3, 3, 21, 24], 10) }, {
        strides: [2, 2], pad: "same", dataFormat: "NHWC", inputShape: [n, 32, 31, 21],
      } as unknown as tf.NamedAttrMap) as tf.Tensor,
    // Four phases of 121k, 64k, 60k and 32k multiply-adds per image (their taps are 2x2, 2x1, 1x2, 1x1): at batch
    // 3 only the first is worth splitting, at batch 5 the first three.
    jobs: (n) => (n < 2 ? 0 : n < 5 ? 1 : 3),
  },
  {
    kernel: "Conv2DBackpropFilter (Winograd, 16 channels)",
    exportName: "winograd_filter_grad_tiles",
    build: (n) => () =>
      tf.engine().runKernel("Conv2DBackpropFilter", { x: tensorOf([n, 16, 15, 16], 13), dy: tensorOf([n, 16, 15, 17], 14) }, {
        strides: [1, 1], pad: "same", dataFormat: "NHWC", filterShape: [3, 3, 16, 17],
      } as unknown as tf.NamedAttrMap) as tf.Tensor,
    // Split by blocks of dy, not images: 64 blocks per image, worth splitting from batch 2 on.
    jobs: (n) => (n < 2 ? 0 : 1),
    // x is read at an offset (the part's first block), which a pointer near the top of memory wraps around;
    // the part's own scratch is written at offset 0 first.
    trapArg: 2,
  },
  {
    kernel: "MaxPoolGrad",
    exportName: "max_pool_grad",
    build: (n) => () => {
      const input = tensorOf([n, 40, 39, 27], 11) as tf.Tensor4D;
      const output = tf.maxPool(input, 3, 2, "same");
      return tf.engine().runKernel("MaxPoolGrad", { dy: tensorOf(output.shape, 12), input, output }, {
        filterSize: 3, strides: 2, pad: "same",
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
    },
  },
  ...[1, 2].map((m): SplitCase => ({
    kernel: `DepthwiseConv2dNativeBackpropFilter (multiplier ${m})`,
    exportName: "depthwise_backprop_filter",
    build: (n) => () => {
      const c = m === 1 ? 45 : 21;
      return tf.engine().runKernel("DepthwiseConv2dNativeBackpropFilter", {
        x: tensorOf([n, 32, 31, c], 21), dy: tensorOf([n, 32, 31, c * m], 22),
      }, { strides: [1, 1], pad: "same", dilations: [1, 1], filterShape: [3, 3, c, m] } as unknown as tf.NamedAttrMap) as tf.Tensor;
    },
  })),
  {
    kernel: "DepthwiseConv2dNative (multiplier 1, 3x3, stride 1)",
    exportName: "depthwise_forward",
    build: (n) => () => tf.depthwiseConv2d(tensorOf([n, 32, 31, 45], 33) as tf.Tensor4D, tensorOf([3, 3, 45, 1], 34) as tf.Tensor4D, 1, "same"),
  },
  {
    kernel: "DepthwiseConv2dNative (multiplier 1, 5x5, stride 2)",
    exportName: "depthwise_forward",
    build: (n) => () => tf.depthwiseConv2d(tensorOf([n, 64, 63, 37], 35) as tf.Tensor4D, tensorOf([5, 5, 37, 1], 36) as tf.Tensor4D, 2, "same"),
  },
  {
    kernel: "MaxPool (3x3 windows, stride 2, same)",
    exportName: "max_pool_forward",
    // 9 taps + 1 store for each of 32 x 32 x 27 outputs per image: 276,480, just above the split threshold.
    build: (n) => () => tf.maxPool(tensorOf([n, 64, 63, 27], 38) as tf.Tensor4D, 3, 2, "same"),
  },
  ...(["relu", "relu6"] as const).map((op): SplitCase => ({
    kernel: `${op === "relu" ? "Relu" : "Relu6"} (rows of 4 values, a partial last one)`,
    exportName: "relu_into",
    // 94,185 values per image (4 x 23,546 + 1): one image is below the split threshold, three are above it.
    build: (n) => () => tf[op](tf.mul(tensorOf([n, 65, 63, 23], 37), 8)),
    jobs: (n) => (n >= 3 ? 1 : 0),
  })),
  {
    kernel: "DepthwiseConv2dNativeBackpropInput (multiplier 1, stride 2)",
    exportName: "depthwise_backprop_input",
    build: (n) => () =>
      tf.engine().runKernel("DepthwiseConv2dNativeBackpropInput", { dy: tensorOf([n, 24, 24, 93], 31), filter: tensorOf([3, 3, 93, 1], 32) }, {
        strides: [2, 2], pad: "same", dilations: [1, 1], inputShape: [n, 48, 47, 93],
      } as unknown as tf.NamedAttrMap) as tf.Tensor,
  },
];

/**
 * The benchmark workloads (models and batch sizes), shared by scripts/bench.ts and its tests.
 * A: Dollar Street CNN; B: CIFAR-10 CNN; C: B with BatchNorm and Dropout; D: MobileNet-style depthwise stack.
 */
import * as tf from "@tensorflow/tfjs";
import { SeededDropout } from "../../lib/seeded-dropout";

export interface Workload {
  id: "A" | "B" | "C" | "D";
  description: string;
  inputShape: [number, number, number];
  classes: number;
  batchSize: number;
  /** Images in one epoch (Dollar Street subset: 878; CIFAR-10 training set: 50,000). */
  epochImages: number;
  build(): tf.Sequential;
}

function cifarStack(withBatchNorm: boolean): tf.Sequential {
  const model = tf.sequential();
  const filters = [32, 64, 128];
  filters.forEach((f, block) => {
    for (let i = 0; i < 2; i++) {
      const first = block === 0 && i === 0;
      model.add(tf.layers.conv2d({ ...(first ? { inputShape: [32, 32, 3] } : {}), filters: f, kernelSize: 3, padding: "same", activation: "relu" }));
    }
    if (withBatchNorm) model.add(tf.layers.batchNormalization());
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    // The lessons' dropout layer (the course's models use it rather than tf.layers.dropout).
    if (withBatchNorm) model.add(new SeededDropout({ rate: 0.2, seed: block + 1 }));
  });
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 128, activation: "relu" }));
  model.add(tf.layers.dense({ units: 64, activation: "relu" }));
  model.add(tf.layers.dense({ units: 10, activation: "softmax" }));
  return model;
}

export const WORKLOADS: Workload[] = [
  {
    id: "A",
    description: "Dollar Street CNN 64x64x3, 2 conv(50) + 2 pool + dense 50/10, batch 32",
    inputShape: [64, 64, 3],
    classes: 10,
    batchSize: 32,
    epochImages: 878,
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [64, 64, 3], filters: 50, kernelSize: 3, activation: "relu" }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.conv2d({ filters: 50, kernelSize: 3, activation: "relu" }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 50, activation: "relu" }),
          tf.layers.dense({ units: 10, activation: "softmax" }),
        ],
      }),
  },
  {
    id: "B",
    description: "CIFAR-10 CNN 32x32x3, conv 32,32,64,64,128,128 + 3 pools + dense 128/64/10, batch 128",
    inputShape: [32, 32, 3],
    classes: 10,
    batchSize: 128,
    epochImages: 50000,
    build: () => cifarStack(false),
  },
  {
    id: "C",
    description: "B with BatchNormalization after each conv pair and Dropout 0.2, batch 128",
    inputShape: [32, 32, 3],
    classes: 10,
    batchSize: 128,
    epochImages: 50000,
    build: () => cifarStack(true),
  },
  {
    id: "D",
    description: "MobileNet-style depthwise-separable stack with BatchNorm, 32x32x3, batch 64",
    inputShape: [32, 32, 3],
    classes: 10,
    batchSize: 64,
    epochImages: 50000,
    build: () => {
      const model = tf.sequential();
      model.add(tf.layers.conv2d({ inputShape: [32, 32, 3], filters: 32, kernelSize: 3, padding: "same", useBias: false }));
      model.add(tf.layers.batchNormalization());
      model.add(tf.layers.reLU());
      const blocks: Array<[number, number]> = [[64, 1], [128, 2], [128, 1], [256, 2], [256, 1]];
      for (const [filters, stride] of blocks) {
        model.add(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: stride, padding: "same", useBias: false }));
        model.add(tf.layers.batchNormalization());
        model.add(tf.layers.reLU());
        model.add(tf.layers.conv2d({ filters, kernelSize: 1, useBias: false }));
        model.add(tf.layers.batchNormalization());
        model.add(tf.layers.reLU());
      }
      model.add(tf.layers.globalAveragePooling2d({}));
      model.add(tf.layers.dense({ units: 10, activation: "softmax" }));
      return model;
    },
  },
];

/** Multiply-adds x 2 of one forward pass per image, for the conv and dense layers (the bulk of the work). */
export function forwardFlopsPerImage(model: tf.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const out = layer.outputShape as number[];
    const cls = layer.getClassName();
    const weights = layer.getWeights();
    if (cls === "Conv2D" || cls === "DepthwiseConv2D") {
      // kernel [kh, kw, cin, cout] (conv) or [kh, kw, cin, multiplier] (depthwise): products per output pixel.
      const perPixel = weights[0].shape.reduce((a, b) => a * b, 1);
      flops += 2 * out[1] * out[2] * perPixel;
    } else if (cls === "Dense") {
      flops += 2 * weights[0].size;
    }
  }
  return flops;
}

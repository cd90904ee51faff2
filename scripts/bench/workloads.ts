/**
 * The benchmark workloads that train a network from scratch (models and batch sizes), shared by scripts/bench.ts
 * and its tests. A: Dollar Street CNN; B: CIFAR-10 CNN; C: B with BatchNorm and Dropout; D: MobileNet-style
 * depthwise stack; E: lesson 03's dropout and batch-norm network; G: seed 003's residual network (lesson 04).
 * F and FT (MobileNet inference and fine-tuning) are in transfer.ts.
 */
import * as tf from "@tensorflow/tfjs";
import { SeededDropout } from "../../lib/seeded-dropout";

export interface Workload {
  id: "A" | "B" | "C" | "D" | "E" | "G";
  description: string;
  inputShape: [number, number, number];
  classes: number;
  batchSize: number;
  /** Images in one epoch (Dollar Street subset: 878; CIFAR-10 training set: 50,000). */
  epochImages: number;
  build(): tf.LayersModel;
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

/**
 * Lesson 03's network with dropout and batch normalization (1,338,090 parameters): conv pairs of 32, 64 and 256
 * filters, each pair followed by batch norm and pooling, dropout 0.2 after the first two blocks and the dense layers.
 */
export function lesson03BatchNormNetwork(): tf.Sequential {
  const model = tf.sequential();
  const blocks: Array<[number, boolean]> = [[32, true], [64, true], [256, false]];
  blocks.forEach(([filters, drop], block) => {
    for (let i = 0; i < 2; i++) {
      const first = block === 0 && i === 0;
      model.add(tf.layers.conv2d({ ...(first ? { inputShape: [32, 32, 3] } : {}), filters, kernelSize: 3, padding: "same", activation: "relu" }));
    }
    model.add(tf.layers.batchNormalization());
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    if (drop) model.add(new SeededDropout({ rate: 0.2, seed: block + 1 }));
  });
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 128, activation: "relu" }));
  model.add(new SeededDropout({ rate: 0.2, seed: 4 }));
  model.add(tf.layers.dense({ units: 64, activation: "relu" }));
  model.add(new SeededDropout({ rate: 0.2, seed: 5 }));
  model.add(tf.layers.dense({ units: 10, activation: "softmax" }));
  return model;
}

/** Weight decay of seed 003's residual network (an L2 penalty on its 3x3 kernels). */
export const RESNET_WEIGHT_DECAY = 1e-6;

/**
 * Seed 003's residual network as lesson 04 writes it (771,690 parameters, 1,800 of them batch-norm statistics):
 * a 7x7 convolution, then for 20, 40, 80 and 160 filters a strided conv block and two residual blocks (x + the
 * block's conv -> ReLU -> batch norm), global max pooling, dropout 0.1 and the output layer.
 */
export function seed003ResidualNetwork(): tf.LayersModel {
  const convBlock = (x: tf.SymbolicTensor, filters: number, strides: number) => {
    const conv = tf.layers.conv2d({ filters, kernelSize: 3, strides, padding: "same", useBias: false, activation: "relu",
      kernelRegularizer: tf.regularizers.l2({ l2: RESNET_WEIGHT_DECAY }) }).apply(x) as tf.SymbolicTensor;
    return tf.layers.batchNormalization().apply(conv) as tf.SymbolicTensor;
  };
  const input = tf.input({ shape: [32, 32, 3] });
  let x = tf.layers.conv2d({ filters: 10, kernelSize: 7, padding: "same", activation: "relu" }).apply(input) as tf.SymbolicTensor;
  for (const filters of [20, 40, 80, 160]) {
    x = convBlock(x, filters, 2);
    for (let i = 0; i < 2; i++) x = tf.layers.add().apply([x, convBlock(x, filters, 1)]) as tf.SymbolicTensor;
  }
  x = tf.layers.globalMaxPooling2d({}).apply(x) as tf.SymbolicTensor;
  x = new SeededDropout({ rate: 0.1, seed: 1 }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 10, activation: "softmax" }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: "resnet" });
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
  {
    id: "E",
    description: "lesson 03's dropout + batch-norm CIFAR-10 network (conv 32,32,64,64,256,256), 32x32x3, batch 128",
    inputShape: [32, 32, 3],
    classes: 10,
    batchSize: 128,
    epochImages: 50000,
    build: lesson03BatchNormNetwork,
  },
  {
    id: "G",
    description: "seed 003's residual network (strided convs, residual adds, global max pooling, L2), 32x32x3, batch 256",
    inputShape: [32, 32, 3],
    classes: 10,
    batchSize: 256,
    epochImages: 50000,
    build: seed003ResidualNetwork,
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

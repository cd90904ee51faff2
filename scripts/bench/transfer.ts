/**
 * Benchmark workloads of lesson 05 (transfer learning), on MobileNet v1 0.25 at the lesson's input size:
 *   F: inference, the frozen base run in inference mode over a batch (what extractFeatures does; images/s);
 *   FT: a fine-tuning step, block 13 unfrozen and the lesson's 41,802-parameter head, frozen batch norm kept in
 *      inference mode (lib/transfer), Adam at 1e-4.
 * The network is built here with the pretrained file's layer names and shapes (a test checks them against the real
 * model.json) and random weights: the time of a step does not depend on the weights. The PyTorch peer builds the same
 * network from the same channel table.
 */
import * as tf from "@tensorflow/tfjs";
import { adam } from "../../lib/backend/fused-adam";
import { forwardFlopsPerImage } from "./workloads";
import { SeededDropout } from "../../lib/seeded-dropout";
import { freeze, keepFrozenBatchNormInInference, mobilenetBlock, unfreeze, useFastRelu6 } from "../../lib/transfer";

/** The lesson's input size: CIFAR-10's 32x32 images upscaled 3x. */
export const LESSON_INPUT_SIZE = 96;
/** MobileNet v1 alpha 0.25: the first conv's filters, then each block's pointwise filters and depthwise stride. */
export const MOBILENET_025_FIRST = 8;
export const MOBILENET_025_BLOCKS: Array<[number, number]> = [
  [16, 1], [32, 2], [32, 1], [64, 2], [64, 1], [128, 2], [128, 1], [128, 1], [128, 1], [128, 1], [128, 1], [256, 2], [256, 1],
];

export interface TransferWorkload {
  id: "F" | "FT";
  kind: "features" | "finetune";
  description: string;
  inputShape: [number, number, number];
  classes: number;
  batchSize: number;
  /** Images in one "epoch": the CIFAR-10 training set. */
  epochImages: number;
}

export const TRANSFER_WORKLOADS: TransferWorkload[] = [
  {
    id: "F",
    kind: "features",
    description: `MobileNet v1 0.25 inference (inference, to the 256 pooled features), ${LESSON_INPUT_SIZE}x${LESSON_INPUT_SIZE}x3, batch 64`,
    inputShape: [LESSON_INPUT_SIZE, LESSON_INPUT_SIZE, 3],
    classes: 10,
    batchSize: 64,
    epochImages: 50000,
  },
  {
    id: "FT",
    kind: "finetune",
    description: `MobileNet v1 0.25 fine-tuning step: block 13 + head 128/64/10 trainable, ${LESSON_INPUT_SIZE}x${LESSON_INPUT_SIZE}x3, batch 32`,
    inputShape: [LESSON_INPUT_SIZE, LESSON_INPUT_SIZE, 3],
    classes: 10,
    batchSize: 32,
    epochImages: 50000,
  },
];

/** MobileNet v1 0.25 up to its global average pooling, with Keras' layer names (conv1, conv_dw_1, conv_pw_1_bn, ...). */
export function mobilenetV1Quarter(size = LESSON_INPUT_SIZE): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3], name: "input_1" });
  const bnRelu = (x: tf.SymbolicTensor, name: string) => {
    const bn = tf.layers.batchNormalization({ name: `${name}_bn`, epsilon: 1e-3 }).apply(x) as tf.SymbolicTensor;
    return tf.layers.activation({ activation: "relu6", name: `${name}_relu` }).apply(bn) as tf.SymbolicTensor;
  };
  let x = tf.layers.conv2d({ name: "conv1", filters: MOBILENET_025_FIRST, kernelSize: 3, strides: 2, padding: "same", useBias: false }).apply(input) as tf.SymbolicTensor;
  x = bnRelu(x, "conv1");
  MOBILENET_025_BLOCKS.forEach(([filters, stride], i) => {
    x = tf.layers.depthwiseConv2d({ name: `conv_dw_${i + 1}`, kernelSize: 3, strides: stride, padding: "same", useBias: false }).apply(x) as tf.SymbolicTensor;
    x = bnRelu(x, `conv_dw_${i + 1}`);
    x = tf.layers.conv2d({ name: `conv_pw_${i + 1}`, filters, kernelSize: 1, useBias: false }).apply(x) as tf.SymbolicTensor;
    x = bnRelu(x, `conv_pw_${i + 1}`);
  });
  const out = tf.layers.globalAveragePooling2d({ name: "global_average_pooling2d_1" }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: "mobilenet_v1_025" });
}

/** The base with the lesson's head (dense 128, dropout, dense 64, dropout, dense 10: 41,802 parameters on 256 features). */
function withHead(base: tf.LayersModel): tf.LayersModel {
  let x = tf.layers.dense({ units: 128, activation: "relu" }).apply(base.outputs[0]) as tf.SymbolicTensor;
  x = new SeededDropout({ rate: 0.2, seed: 1 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 64, activation: "relu" }).apply(x) as tf.SymbolicTensor;
  x = new SeededDropout({ rate: 0.2, seed: 2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 10, activation: "softmax" }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: base.inputs, outputs: x });
}

/** The model a transfer workload times: the base alone (F) or base + head with only block 13 and the head trainable (FT). */
export function buildTransferModel(w: TransferWorkload): tf.LayersModel {
  const base = mobilenetV1Quarter(w.inputShape[0]);
  useFastRelu6(base); // as lesson 05 does
  if (w.kind === "features") return base;
  const model = withHead(base);
  freeze(base);
  unfreeze(base, mobilenetBlock(13));
  keepFrozenBatchNormInInference(model);
  return model;
}

/** FLOPs of one step: a forward pass (F), or a forward pass plus backward through the trainable layers only (FT). */
export function transferFlopsPerStep(w: TransferWorkload, model: tf.LayersModel): number {
  const forward = forwardFlopsPerImage(model);
  if (w.kind === "features") return forward * w.batchSize;
  const trainable = forwardFlopsPerImage({ layers: model.layers.filter((l) => l.trainable && l.weights.length > 0) } as tf.LayersModel);
  return (forward + 2 * trainable) * w.batchSize;
}

/** One timed step, ready to run on a fixed random batch. */
export function prepareTransferWorkload(w: TransferWorkload): { step(): Promise<void>; flopsPerStep: number; dispose(): void } {
  const model = buildTransferModel(w);
  const xs = tf.randomUniform([w.batchSize, ...w.inputShape], -1, 1);
  const ys = tf.tidy(() => tf.oneHot(tf.randomUniform([w.batchSize], 0, w.classes, "int32") as tf.Tensor1D, w.classes));
  if (w.kind === "finetune") model.compile({ optimizer: adam(1e-4), loss: "categoricalCrossentropy" });
  const step = w.kind === "features"
    ? async () => {
        const f = model.predict(xs, { batchSize: w.batchSize }) as tf.Tensor;
        await f.data();
        f.dispose();
      }
    : async () => void (await model.trainOnBatch(xs, ys));
  return {
    step,
    flopsPerStep: transferFlopsPerStep(w, model),
    dispose: () => {
      tf.dispose([xs, ys]);
      model.dispose();
    },
  };
}

/** The PyTorch peer's model and step for F or FT (Python source, inserted into the peer program). */
export function torchTransferSource(w: TransferWorkload): string {
  const blocks = JSON.stringify(MOBILENET_025_BLOCKS);
  return `
def mobilenet_base():
    def bn_relu(c): return [nn.BatchNorm2d(c, eps=1e-3), nn.ReLU6()]
    layers, cin = [nn.Conv2d(3, ${MOBILENET_025_FIRST}, 3, stride=2, padding=1, bias=False), *bn_relu(${MOBILENET_025_FIRST})], ${MOBILENET_025_FIRST}
    blocks = []
    for f, s in ${blocks}:
        blocks.append(nn.Sequential(nn.Conv2d(cin, cin, 3, stride=s, padding=1, groups=cin, bias=False), *bn_relu(cin),
                                    nn.Conv2d(cin, f, 1, bias=False), *bn_relu(f))); cin = f
    return nn.Sequential(*layers, *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten())
size, batch = ${w.inputShape[0]}, ${w.batchSize}
base = mobilenet_base()
if W == "F":
    base.eval()
    model = base
    def step(x, y):
        with torch.no_grad(): model(x).sum().item()
else:
    head = nn.Sequential(nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10))
    model = nn.Sequential(base, head)
    for p in base.parameters(): p.requires_grad = False
    last = base[-3]  # block 13 (before pooling and flatten)
    for p in last.parameters(): p.requires_grad = True
    model.train(); base.eval(); last.train()  # frozen batch norm in inference mode, as in the lesson
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], 1e-4)
    loss_fn = nn.CrossEntropyLoss()
    def step(x, y):
        opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); opt.step(); loss.item()
`;
}

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const CACHE = fs.mkdtempSync(path.join(os.tmpdir(), "lessons-transfer-"));
process.env.LESSONS_DATA_DIR = CACHE;

import * as tf from "@tensorflow/tfjs";
import { projectRoot } from "../../lib/paths";
import { loadMobileNet, MOBILENET_FEATURE_LAYER } from "../../lib/data/mobilenet";
import type { ImageSplit } from "../../lib/data/images";
import { compileForClassification, train } from "../../lib/train";
import {
  cutAt, extractFeatures, freeze, keepFrozenBatchNormInInference, mobilenetBlock, parameterCounts, resizeImages, selectLayers, unfreeze, useFastRelu6,
} from "../../lib/transfer";

const MIRROR = process.env.LESSONS_DATA_MIRROR || path.resolve(projectRoot(), "..", "shared", "data");
const HAVE_MIRROR = fs.existsSync(path.join(MIRROR, "mobilenet_v1_0.25_224", "model.json"));

before(async () => {
  await tf.setBackend("cpu");
});
after(() => fs.rmSync(CACHE, { recursive: true, force: true }));

/** A small pretrained-looking base: conv, batch norm (with non-trivial stored statistics), relu, pooling. */
function smallBase(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3] });
  let x = tf.layers.conv2d({ name: "conv_a", filters: 4, kernelSize: 3, padding: "same", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: "conv_a_bn", movingMeanInitializer: "ones", movingVarianceInitializer: tf.initializers.constant({ value: 4 }) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: "conv_a_relu" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ name: "conv_b", filters: 6, kernelSize: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: "conv_b_bn" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: "gap" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ name: "old_head", units: 5 }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name: "small_base" });
}

function toyImages(n: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return {
    x: tf.randomUniform([n, 8, 8, 3], 0, 3, "float32", seed) as tf.Tensor4D,
    y: tf.tensor1d(Array.from({ length: n }, (_, i) => i % 2), "int32"),
  };
}

/** A classifier: the base cut at "gap" (frozen) with a new trainable dense head. */
function withHead(base: tf.LayersModel): tf.LayersModel {
  const features = cutAt(base, "gap");
  freeze(features);
  const out = tf.layers.dense({ name: "new_head", units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(features.outputs[0]) as tf.SymbolicTensor;
  return compileForClassification(tf.model({ inputs: features.inputs, outputs: out }), { learningRate: 0.05 });
}

function snapshot(layer: tf.layers.Layer): Record<string, number[]> {
  return Object.fromEntries(layer.weights.map((w) => [w.originalName.split("/").at(-1)!, Array.from(w.read().dataSync())]));
}

test("cutAt builds a model up to a named layer that shares the original's weights", () => {
  const base = smallBase();
  const cut = cutAt(base, "gap");
  assert.deepEqual(cut.outputs[0].shape, [null, 6]);
  assert.equal(cut.layers.at(-1)!.name, "gap");
  const x = tf.ones([1, 8, 8, 3]);
  const before = Array.from((cut.predict(x) as tf.Tensor).dataSync());
  const conv = base.getLayer("conv_b");
  conv.setWeights(conv.getWeights().map((w) => tf.mul(w, 2)));
  const afterChange = Array.from((cut.predict(x) as tf.Tensor).dataSync());
  assert.notDeepEqual(afterChange, before, "changing the original's weights changes the cut model");
  assert.throws(() => cutAt(base, "conv_c"), /No layer named "conv_c".*conv_a/s);
});

test("freeze and unfreeze select layers by name, RegExp, list and range, and say when a name is wrong", () => {
  const base = smallBase();
  assert.deepEqual(freeze(base), base.layers.map((l) => l.name));
  assert.equal(parameterCounts(base).trainable, 0);
  assert.deepEqual(unfreeze(base, "conv_b"), ["conv_b"]);
  assert.equal(parameterCounts(base).trainable, 4 * 6 + 6);
  assert.deepEqual(unfreeze(base, /_bn$/), ["conv_a_bn", "conv_b_bn"]);
  assert.equal(parameterCounts(base).trainable, 30 + 2 * 4 + 2 * 6, "gamma and beta train; moving statistics never do");
  assert.deepEqual(freeze(base, { from: "conv_b_bn" }), ["conv_b_bn", "gap", "old_head"]);
  assert.deepEqual(selectLayers(base, { from: "conv_a", to: "conv_a_relu" }).map((l) => l.name), ["conv_a", "conv_a_bn", "conv_a_relu"]);
  assert.deepEqual(selectLayers(base, ["gap", /^conv_a$/]).map((l) => l.name), ["conv_a", "gap"]);
  const total = base.countParams();
  const counts = parameterCounts(base);
  assert.equal(counts.trainable + counts.nonTrainable, total);
  assert.throws(() => freeze(base, "conv_z"), /No layer named "conv_z"/);
  assert.throws(() => freeze(base, /^dense/), /No layer matches/);
  assert.throws(() => freeze(base, { from: "gap", to: "conv_a" }), /comes before/);
  assert.throws(() => freeze(base, []), /empty list/);
});

test("mobilenetBlock names one depthwise-separable block and nothing else", () => {
  const re = mobilenetBlock(13);
  for (const n of ["conv_dw_13", "conv_dw_13_bn", "conv_dw_13_relu", "conv_pw_13", "conv_pw_13_bn", "conv_pw_13_relu"]) assert.ok(re.test(n), n);
  for (const n of ["conv_dw_1", "conv_pw_12", "conv_pw_130", "conv_preds", "conv1_bn"]) assert.ok(!re.test(n), n);
  assert.throws(() => mobilenetBlock(14), /blocks 1..13/);
});

test("the tfjs trap: a frozen batch-norm layer in training mode uses batch statistics and moves its stored ones", async () => {
  const base = smallBase();
  const model = withHead(base);
  const bn = base.getLayer("conv_a_bn");
  const x = toyImages(8, 5).x;
  const inference = Array.from((model.predict(x) as tf.Tensor).dataSync());
  const training = Array.from((model.apply(x, { training: true }) as tf.Tensor).dataSync());
  assert.notDeepEqual(training, inference, "training mode normalizes with the batch's statistics");

  const convBefore = snapshot(base.getLayer("conv_a"));
  const bnBefore = snapshot(bn);
  await train(model, toyImages(32, 6), { epochs: 2, batchSize: 8, verbose: 0 });
  const bnAfter = snapshot(bn);
  assert.deepEqual(snapshot(base.getLayer("conv_a")), convBefore, "the frozen kernel does not change");
  assert.deepEqual(bnAfter.gamma, bnBefore.gamma);
  assert.deepEqual(bnAfter.beta, bnBefore.beta);
  assert.notDeepEqual(bnAfter.moving_mean, bnBefore.moving_mean, "but the stored mean moves: the trap");
  assert.notDeepEqual(bnAfter.moving_variance, bnBefore.moving_variance);
});

test("keepFrozenBatchNormInInference: a frozen base's weights and batch-norm statistics stay put while the head trains", async () => {
  const base = smallBase();
  const model = withHead(base);
  assert.equal(keepFrozenBatchNormInInference(model), 2);
  assert.equal(keepFrozenBatchNormInInference(model), 2, "a second call is harmless");
  const x = toyImages(8, 5).x;
  assert.deepEqual(
    Array.from((model.apply(x, { training: true }) as tf.Tensor).dataSync()),
    Array.from((model.predict(x) as tf.Tensor).dataSync()),
    "a frozen base gives the same output in training and inference mode",
  );
  const baseBefore = base.layers.map(snapshot);
  const headBefore = snapshot(model.getLayer("new_head"));
  await train(model, toyImages(32, 6), { epochs: 2, batchSize: 8, verbose: 0 });
  assert.deepEqual(base.layers.map(snapshot), baseBefore, "every base weight, moving statistics included, is unchanged");
  assert.notDeepEqual(snapshot(model.getLayer("new_head")), headBefore, "the head did train");

  // The rule is read at every call: an unfrozen batch-norm layer trains (and updates its statistics) again.
  unfreeze(base, "conv_b_bn");
  compileForClassification(model, { learningRate: 0.05 });
  const meanBefore = snapshot(base.getLayer("conv_b_bn")).moving_mean;
  await train(model, toyImages(16, 7), { epochs: 1, batchSize: 8, verbose: 0 });
  assert.notDeepEqual(snapshot(base.getLayer("conv_b_bn")).moving_mean, meanBefore);
  assert.deepEqual(snapshot(base.getLayer("conv_a_bn")), baseBefore[2], "still-frozen layers stay put");
});

test("extractFeatures: same numbers as predict, in batches, from a tensor or an ImageSplit, with preprocessing", async () => {
  const base = cutAt(smallBase(), "gap");
  const n = 21;
  const pixels = tf.round(tf.randomUniform([n, 8, 8, 3], 0, 255, "float32", 9)) as tf.Tensor4D;
  const scale = (p: tf.Tensor4D) => tf.div(p, 127.5).sub(1);
  const expected = Array.from((base.predict(scale(pixels)) as tf.Tensor).dataSync());
  const calls: Array<[number, number]> = [];
  const fromTensor = await extractFeatures(base, pixels, { batchSize: 8, preprocess: scale, progress: "none", onBatch: (d, t) => calls.push([d, t]) });
  assert.deepEqual(fromTensor.shape, [n, 6]);
  assertClose(Array.from(fromTensor.dataSync()), expected);
  assert.deepEqual(calls, [[8, 21], [16, 21], [21, 21]]);

  const split: ImageSplit = { images: Uint8Array.from(pixels.dataSync()), labels: new Int32Array(n), count: n, height: 8, width: 8, channels: 3 };
  const fromSplit = await extractFeatures(base, split, { batchSize: 5, preprocess: scale, progress: "none" });
  assertClose(Array.from(fromSplit.dataSync()), expected);
  await assert.rejects(extractFeatures(base, pixels, { batchSize: 0, progress: "none" }), /batchSize must be a positive integer/);
});

test("extractFeatures keeps only one batch of tensors alive, however many images there are", async () => {
  const base = cutAt(smallBase(), "gap");
  const peakFor = async (n: number) => {
    const pixels = tf.zeros([n, 8, 8, 3]) as tf.Tensor4D;
    const baseline = tf.memory().numBytes;
    let peak = 0;
    const features = await extractFeatures(base, pixels, {
      batchSize: 4,
      progress: "none",
      preprocess: (p) => {
        const scaled = tf.mul(p, 2);
        peak = Math.max(peak, tf.memory().numBytes - baseline);
        return scaled;
      },
    });
    const leaked = tf.memory().numBytes - baseline - features.size * 4;
    tf.dispose([pixels, features]);
    return { peak, leaked };
  };
  const small = await peakFor(8);
  const large = await peakFor(200);
  assert.equal(large.peak, small.peak, "peak tensor memory does not grow with the number of images");
  assert.ok(large.peak <= 2 * 4 * 8 * 8 * 3 * 4, `one batch in and one scaled copy: ${large.peak} bytes`);
  assert.equal(large.leaked, 0, "nothing is left behind but the result");
});

test("useFastRelu6 swaps relu6 layers for tf.relu6 with the same outputs and gradients", () => {
  const input = tf.input({ shape: [4] });
  const act = tf.layers.activation({ activation: "relu6" });
  const other = tf.layers.activation({ activation: "relu" });
  const out = other.apply(act.apply(tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.constant({ value: 3 }) }).apply(input))) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  const x = tf.tensor2d([[1, 1, 1, 0], [-1, 0, 0, 0], [0.1, 0.2, 0, 0]]);
  const run = () => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(x, { training: true }) as tf.Tensor, tf.range(1, 5))) as tf.Scalar);
    return [Array.from((model.predict(x) as tf.Tensor).dataSync()), value.dataSync()[0], ...Object.values(grads).map((g) => Array.from(g.dataSync()))];
  };
  const before = run();
  assert.ok((before[0] as number[]).some((v) => v === 6) && (before[0] as number[]).some((v) => v === 0), "inputs reach both clips");
  assert.equal(useFastRelu6(model), 1, "only the relu6 layer changes");
  assert.deepEqual(run(), before);
  assert.equal((act as unknown as { activation: { getClassName(): string } }).activation.getClassName(), "relu6", "still serializes as relu6");
});

test("resizeImages resizes inside a model like tf.image.resizeBilinear, and scaling before or after it agrees", () => {
  const input = tf.input({ shape: [4, 4, 3] });
  const scaled = tf.layers.rescaling({ scale: 2, offset: -1 }).apply(input) as tf.SymbolicTensor;
  const resized = resizeImages({ height: 12, width: 12 }).apply(scaled) as tf.SymbolicTensor;
  assert.deepEqual(resized.shape, [null, 12, 12, 3]);
  const model = tf.model({ inputs: input, outputs: resized });
  const pixels = tf.randomUniform([2, 4, 4, 3], 0, 255, "float32", 3);
  const inModel = model.predict(tf.div(pixels, 255)) as tf.Tensor;
  const byHand = tf.sub(tf.div(tf.image.resizeBilinear(pixels as tf.Tensor4D, [12, 12]), 127.5), 1);
  assertClose(Array.from(inModel.dataSync()), Array.from(byHand.dataSync()));
  assert.throws(() => resizeImages({ height: 0, width: 3 }), /whole-number \{height, width\}/);
});

test("real MobileNet: cut at its pooling layer, freeze all but block 13, and the frozen part stays put while training", { skip: !HAVE_MIRROR && `no mirror at ${MIRROR}` }, async () => {
  const net = await loadMobileNet({ mirror: MIRROR, inputSize: 32, verbose: false });
  const base = cutAt(net.model, MOBILENET_FEATURE_LAYER);
  assert.deepEqual(base.outputs[0].shape, [null, 256]);
  freeze(base);
  unfreeze(base, mobilenetBlock(13));
  // conv_dw_13 (3*3*256) + its bn's gamma/beta (2*256) + conv_pw_13 (256*256) + its bn's gamma/beta (2*256)
  assert.equal(parameterCounts(base).trainable, 2304 + 512 + 65536 + 512);
  const out = tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }).apply(base.outputs[0]) as tf.SymbolicTensor;
  const model = compileForClassification(tf.model({ inputs: base.inputs, outputs: out }), { learningRate: 1e-4 });
  keepFrozenBatchNormInInference(model);
  const frozenNames = base.layers.filter((l) => !l.trainable && l.weights.length > 0).map((l) => l.name);
  const before = frozenNames.map((name) => snapshot(base.getLayer(name)));
  const block13Before = snapshot(base.getLayer("conv_pw_13"));
  const data = { x: tf.randomUniform([8, 32, 32, 3], -1, 1, "float32", 11) as tf.Tensor4D, y: tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], "int32") };
  await train(model, data, { epochs: 1, batchSize: 4, verbose: 0 });
  assert.deepEqual(frozenNames.map((name) => snapshot(base.getLayer(name))), before);
  assert.notDeepEqual(snapshot(base.getLayer("conv_pw_13")), block13Before, "the unfrozen block does train");
});

function assertClose(actual: number[], expected: number[], tol = 1e-5): void {
  assert.equal(actual.length, expected.length);
  const worst = Math.max(...actual.map((a, i) => Math.abs(a - expected[i])));
  assert.ok(worst <= tol, `largest difference ${worst}`);
}

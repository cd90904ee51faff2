import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  configurableModel,
  denseModel,
  dollarStreetModel,
  dollarStreetModelDeeper,
  dollarStreetModelSmall,
  dropoutModel,
} from "../../lib/models";
import { summary } from "../../lib/summary";
import { withSeed } from "../../lib/seed";

before(async () => {
  await tf.setBackend("cpu");
});

function countAndDispose(model: tf.LayersModel): number {
  const n = model.countParams();
  model.dispose();
  return n;
}

test("the lesson's models have the lesson's parameter counts on 64x64x3 images", () => {
  assert.equal(countAndDispose(dollarStreetModelSmall()), 1_823_960);
  assert.equal(countAndDispose(dollarStreetModel()), 514_510);
  assert.equal(countAndDispose(denseModel()), 617_510);
  assert.equal(countAndDispose(dollarStreetModelDeeper()), 137_060);
  assert.equal(countAndDispose(dropoutModel({ dropoutRate: 0.5 })), 137_060);
});

test("layer sequences follow the lesson", () => {
  const types = (m: tf.LayersModel) => m.layers.map((l) => l.getClassName());
  const m = dropoutModel();
  assert.deepEqual(types(m), [
    "Conv2D", "MaxPooling2D", "Dropout",
    "Conv2D", "MaxPooling2D", "Dropout",
    "Conv2D", "MaxPooling2D", "Dropout",
    "Flatten", "Dense", "Dense",
  ]);
  assert.deepEqual(m.outputs[0].shape, [null, 10]);
  const names = summary(m, { print: false }).layers.map((l) => l.name);
  assert.deepEqual(names.slice(0, 4), ["conv2d", "max_pooling2d", "dropout", "conv2d_1"]);
  m.dispose();
  const s = dollarStreetModelSmall();
  assert.deepEqual(types(s), ["Conv2D", "Conv2D", "Flatten", "Dense"]);
  s.dispose();
});

test("the output layer has no softmax: outputs are logits", () => {
  const m = dollarStreetModel({ inputShape: [16, 16, 3] });
  const last = m.layers[m.layers.length - 1];
  assert.equal((last.getConfig() as { activation: string }).activation, "linear");
  m.dispose();
});

test("the same seed gives identical weights, another seed different ones", () => {
  const opts = { inputShape: [16, 16, 3], seed: 123 };
  const a = dollarStreetModel(opts);
  const b = dollarStreetModel(opts);
  const c = dollarStreetModel({ ...opts, seed: 124 });
  const wa = a.getWeights().map((w) => Array.from(w.dataSync()));
  const wb = b.getWeights().map((w) => Array.from(w.dataSync()));
  const wc = c.getWeights().map((w) => Array.from(w.dataSync()));
  assert.deepEqual(wa, wb);
  assert.notDeepEqual(wa[0], wc[0]);
  // Two conv layers with equal kernel shapes must not start equal (each layer has its own derived seed).
  const d = dollarStreetModelDeeper({ ...opts, inputShape: [32, 32, 3] });
  const kernels = d.getWeights().filter((w) => w.shape.length === 4 && w.shape[2] === 50);
  assert.equal(kernels.length, 2);
  assert.notDeepEqual(Array.from(kernels[0].dataSync()), Array.from(kernels[1].dataSync()));
  for (const m of [a, b, c, d]) m.dispose();
});

test("dropout is reproducible from the seed but differs between batches", () => {
  const x = tf.ones([2, 32, 32, 3]);
  assert.throws(() => dropoutModel({ inputShape: [16, 16, 3] }), /shrink the image to nothing/);
  const run = () => {
    const m = dropoutModel({ inputShape: [32, 32, 3], dropoutRate: 0.5, seed: 5 });
    const out = [0, 1].map(() => tf.tidy(() => Array.from((m.apply(x, { training: true }) as tf.Tensor).dataSync())));
    const inference = tf.tidy(() => Array.from((m.predict(x) as tf.Tensor).dataSync()));
    const inference2 = tf.tidy(() => Array.from((m.predict(x) as tf.Tensor).dataSync()));
    m.dispose();
    return { out, inference, inference2 };
  };
  const r1 = run();
  const r2 = run();
  assert.deepEqual(r1.out, r2.out, "a rebuilt model repeats the same masks");
  assert.notDeepEqual(r1.out[0], r1.out[1], "consecutive training calls use different masks");
  assert.deepEqual(r1.inference, r1.inference2, "no dropout at inference");
  x.dispose();
});

test("configurableModel covers the tuner's grids", () => {
  // convLayers x dropout: dropout does not change the count.
  const oneLayer = countAndDispose(configurableModel({ convLayers: 1, dropoutRate: 0.8 }));
  // 64 -> conv3 62 -> pool 31: 31*31*50 = 48050 inputs to Dense(50).
  assert.equal(oneLayer, 1400 + (48050 * 50 + 50) + 510);
  assert.equal(countAndDispose(configurableModel({ convLayers: 2, dropoutRate: 0.2 })), 514_510);
  assert.equal(countAndDispose(configurableModel({ convLayers: 3, dropoutRate: 0.2 })), 137_060);
  // Kernel size 4, three layers: 64 -> 61 -> 30 -> 27 -> 13 -> 10 -> 5: 5*5*50 = 1250 inputs.
  const k4 = configurableModel({ convLayers: 3, kernelSize: 4, activation: "tanh" });
  assert.equal(k4.countParams(), (4 * 4 * 3 * 50 + 50) + 2 * (4 * 4 * 50 * 50 + 50) + (1250 * 50 + 50) + 510);
  assert.equal((k4.layers[0].getConfig() as { activation: string }).activation, "tanh");
  k4.dispose();
  const noDropout = configurableModel({ convLayers: 2, dropoutRate: 0 });
  assert.ok(!noDropout.layers.some((l) => l.getClassName() === "Dropout"));
  noDropout.dispose();
  assert.throws(() => configurableModel({ convLayers: 7 }), /shrink the image to nothing/);
  assert.throws(() => configurableModel({ dropoutRate: 1.5 }), /dropoutRate must be in \[0, 1\)/);
});

test("the lesson's parameter exercises: Dense(100) on 12,288 inputs and 100 bias-free 3x3x3 kernels", () => {
  const input = tf.input({ shape: [64 * 64 * 3] });
  const dense = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 100 }).apply(input) as tf.SymbolicTensor });
  assert.equal(dense.countParams(), 1_228_900);
  dense.dispose();
  const img = tf.input({ shape: [32, 32, 3] });
  const conv = tf.model({
    inputs: img,
    outputs: tf.layers.conv2d({ filters: 100, kernelSize: 3, useBias: false }).apply(img) as tf.SymbolicTensor,
  });
  assert.equal(conv.countParams(), 2_700);
  conv.dispose();
});

test("withSeed makes plain tf.layers models reproducible and restores Math.random", () => {
  const build = () =>
    tf.sequential({ layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2, kernelInitializer: "heNormal" }),
    ] });
  const weights = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
  const original = Math.random;
  const [a, b, c] = [withSeed(3, build), withSeed(3, build), withSeed(4, build)];
  assert.equal(Math.random, original);
  assert.deepEqual(weights(a), weights(b));
  assert.notDeepEqual(weights(a), weights(c));
  assert.throws(() => withSeed(1.5, build), /seed must be an integer/);
  assert.throws(() => withSeed(1, (async () => build()) as never), /synchronously/);
  assert.equal(Math.random, original, "restored after an error too");
  for (const m of [a, b, c]) m.dispose();
});

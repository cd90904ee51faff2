import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { meanCrossentropy, sparseCategoricalCrossentropyFromLogits } from "../../lib/losses";
import { accuracy, accuracyValue } from "../../lib/metrics";

before(async () => {
  await tf.setBackend("cpu");
});

/** -log(softmax(z)[k]) computed by hand with plain numbers. */
function handCrossentropy(z: number[], k: number): number {
  const max = Math.max(...z);
  const sumExp = z.reduce((s, v) => s + Math.exp(v - max), 0);
  return -(z[k] - max - Math.log(sumExp));
}

const logits = [
  [2.0, 1.0, 0.1],
  [0.5, 2.5, -1.0],
  [-3.0, 0.0, 3.0],
  [1.0, 1.0, 1.0],
];
const labels = [0, 2, 2, 1];

test("sparse cross-entropy from logits matches a hand computation per sample", () => {
  const per = sparseCategoricalCrossentropyFromLogits(tf.tensor1d(labels, "int32"), tf.tensor2d(logits));
  const got = Array.from(per.dataSync());
  const want = logits.map((z, i) => handCrossentropy(z, labels[i]));
  assert.equal(got.length, 4);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-5, `sample ${i}: ${g} vs ${want[i]}`));
  // Uniform logits over 3 classes: exactly log(3).
  assert.ok(Math.abs(got[3] - Math.log(3)) < 1e-6);
  per.dispose();
});

test("the loss accepts float labels, [batch, 1] labels and one-hot rows alike", () => {
  const z = tf.tensor2d(logits);
  const mean = (y: tf.Tensor) => meanCrossentropy(y, z);
  const expected = logits.reduce((s, row, i) => s + handCrossentropy(row, labels[i]), 0) / 4;
  assert.ok(Math.abs(mean(tf.tensor1d(labels, "float32")) - expected) < 1e-5);
  assert.ok(Math.abs(mean(tf.tensor2d(labels, [4, 1])) - expected) < 1e-5);
  assert.ok(Math.abs(mean(tf.oneHot(tf.tensor1d(labels, "int32"), 3)) - expected) < 1e-5);
});

test("the loss is numerically stable for large logits and explains bad shapes", () => {
  const v = meanCrossentropy(tf.tensor1d([1], "int32"), tf.tensor2d([[1000, -1000]]));
  assert.ok(Number.isFinite(v) && Math.abs(v - 2000) < 1e-3, `got ${v}`);
  assert.throws(
    () => sparseCategoricalCrossentropyFromLogits(tf.tensor1d([0, 1]), tf.tensor2d([[1, 2, 3]])),
    /2 labels for 1 predictions/,
  );
  assert.throws(() => sparseCategoricalCrossentropyFromLogits(tf.tensor1d([0]), tf.tensor1d([1, 2])), /Dense/);
});

test("accuracy counts argmax hits; its function name makes tfjs history keys 'accuracy'", () => {
  const perSample = accuracy(tf.tensor1d(labels, "int32"), tf.tensor2d(logits));
  // argmax rows: 0, 1, 2, 0 -> hits for samples 0 and 2.
  assert.deepEqual(Array.from(perSample.dataSync()), [1, 0, 1, 0]);
  assert.equal(accuracyValue(tf.tensor1d(labels, "int32"), tf.tensor2d(logits)), 0.5);
  assert.equal(accuracy.name, "accuracy");
});

test("with model.compile, tfjs's own fit reports loss, accuracy, val_loss, val_accuracy", async () => {
  const input = tf.input({ shape: [4] });
  const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3 }).apply(input) as tf.SymbolicTensor });
  model.compile({ optimizer: "adam", loss: sparseCategoricalCrossentropyFromLogits, metrics: [accuracy] });
  const x = tf.randomUniform([12, 4], 0, 1, "float32", 1);
  // tfjs insists that fit's targets have the output's shape, so one-hot labels here.
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], "int32"), 3);
  const h = await model.fit(x, y, { epochs: 1, validationSplit: 0.25, verbose: 0 });
  assert.deepEqual(Object.keys(h.history).sort(), ["accuracy", "loss", "val_accuracy", "val_loss"]);
  model.dispose();
});

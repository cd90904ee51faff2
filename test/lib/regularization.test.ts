import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { regularizationLosses } from "../../lib/regularization";
import { compileForClassification, evaluate, train } from "../../lib/train";

before(async () => {
  await tf.setBackend("cpu");
});

const L2 = 0.05;

function regularizedModel(seed: number): tf.LayersModel {
  return tf.sequential({ layers: [
    tf.layers.flatten({ inputShape: [2, 2, 1] }),
    tf.layers.dense({ units: 3, kernelRegularizer: tf.regularizers.l2({ l2: L2 }), kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
  ] });
}

function data(): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return { x: tf.randomUniform([12, 2, 2, 1], 0, 1, "float32", 3) as tf.Tensor4D, y: tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], "int32") };
}

test("regularizationLosses finds the penalties in sequential, functional and nested models", () => {
  const seq = regularizedModel(1);
  assert.equal(regularizationLosses(seq).length, 1);
  const kernel = seq.layers[1].getWeights()[0];
  const expected = L2 * tf.sum(tf.square(kernel)).dataSync()[0];
  assert.ok(Math.abs(regularizationLosses(seq)[0].dataSync()[0] - expected) < 1e-6);
  const input = tf.input({ shape: [2, 2, 1] });
  const out = tf.layers.dense({ units: 2, kernelRegularizer: tf.regularizers.l2({ l2: 0.1 }) })
    .apply(seq.apply(input) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const outer = tf.model({ inputs: input, outputs: out });
  assert.equal(regularizationLosses(outer).length, 2, "the nested sequential model's penalty and the outer dense layer's");
  assert.equal(regularizationLosses(tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] })).length, 0);
});

test("train() adds the L2 penalty to the loss it minimises and reports", async () => {
  const d = data();
  const model = compileForClassification(regularizedModel(2), { learningRate: 0.01 });
  const kernel = model.layers[1].getWeights()[0];
  const penalty = L2 * tf.sum(tf.square(kernel)).dataSync()[0];
  const plainLoss = (await evaluate(model, d)).loss;
  // One step on the whole set: the reported loss is the loss before that step, penalty included (as in Keras).
  const h = await train(model, d, { epochs: 1, batchSize: 12, verbose: 0 });
  assert.ok(Math.abs(h.history.loss[0] - (plainLoss + penalty)) < 1e-5, `${h.history.loss[0]} vs ${plainLoss} + ${penalty}`);
  model.dispose();
});

test("a strong L2 penalty shrinks the weights compared with training without it", async () => {
  const d = data();
  const norm = (m: tf.LayersModel) => tf.norm(m.layers[1].getWeights()[0]).dataSync()[0];
  const strong = tf.sequential({ layers: [
    tf.layers.flatten({ inputShape: [2, 2, 1] }),
    tf.layers.dense({ units: 3, kernelRegularizer: tf.regularizers.l2({ l2: 1 }), kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
  ] });
  const none = tf.sequential({ layers: [
    tf.layers.flatten({ inputShape: [2, 2, 1] }),
    tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
  ] });
  for (const m of [strong, none]) {
    compileForClassification(m, { learningRate: 0.05 });
    await train(m, d, { epochs: 20, batchSize: 12, verbose: 0 });
  }
  assert.ok(norm(strong) < 0.5 * norm(none), `weight norms ${norm(strong)} (L2) vs ${norm(none)} (none)`);
});

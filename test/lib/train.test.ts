import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { compileForClassification, evaluate, train } from "../../lib/train";
import { sparseCategoricalCrossentropyFromLogits } from "../../lib/losses";
import { toyData, toyModel } from "./toy";

before(async () => {
  await tf.setBackend("cpu");
});

test("train returns Keras-like history with exactly loss, accuracy, val_loss, val_accuracy, and loss falls", async () => {
  const data = toyData(96, 1);
  const val = toyData(32, 2);
  const model = compileForClassification(toyModel(), { learningRate: 0.01 });
  const h = await train(model, data, { epochs: 6, batchSize: 16, validationData: [val.x, val.y], seed: 3, verbose: 0 });
  assert.deepEqual(Object.keys(h.history).sort(), ["accuracy", "loss", "val_accuracy", "val_loss"]);
  assert.deepEqual(h.epochs, [0, 1, 2, 3, 4, 5]);
  for (const k of ["loss", "accuracy", "val_loss", "val_accuracy"] as const) assert.equal(h.history[k]?.length, 6);
  assert.ok(h.history.loss[5] < h.history.loss[0] * 0.8, `loss ${h.history.loss}`);
  assert.ok(h.history.accuracy[5] > 0.7, `accuracy ${h.history.accuracy}`);
  assert.ok(h.seconds > 0);
  // The last val_loss is what evaluate() gives on the same data.
  const v = await evaluate(model, val, { batchSize: 7 });
  assert.ok(Math.abs(v.loss - (h.history.val_loss as number[])[5]) < 1e-5);
  assert.ok(Math.abs(v.accuracy - (h.history.val_accuracy as number[])[5]) < 1e-6);
  model.dispose();
});

test("without validation there are no val_ keys; validationSplit adds them", async () => {
  const data = toyData(40, 4);
  const model = compileForClassification(toyModel());
  const h = await train(model, data, { epochs: 1, batchSize: 8, verbose: 0 });
  assert.deepEqual(Object.keys(h.history).sort(), ["accuracy", "loss"]);
  const h2 = await train(model, data, { epochs: 1, batchSize: 8, validationSplit: 0.25, verbose: 0 });
  assert.deepEqual(Object.keys(h2.history).sort(), ["accuracy", "loss", "val_accuracy", "val_loss"]);
  model.dispose();
});

test("same seeds give the same history; another shuffling seed a different one", async () => {
  const data = toyData(48, 5);
  const run = async (shuffleSeed: number) => {
    const model = compileForClassification(toyModel(7), { learningRate: 0.01 });
    const h = await train(model, data, { epochs: 2, batchSize: 8, seed: shuffleSeed, verbose: 0 });
    model.dispose();
    return h.history.loss;
  };
  const a = await run(11);
  assert.deepEqual(await run(11), a);
  assert.notDeepEqual(await run(12), a);
});

test("train does not leak tensors", async () => {
  const data = toyData(32, 6);
  const model = compileForClassification(toyModel());
  // The first run creates Adam's slot variables, which live as long as the optimizer.
  await train(model, data, { epochs: 1, batchSize: 8, validationSplit: 0.25, verbose: 0 });
  const before = tf.memory().numTensors;
  await train(model, data, { epochs: 2, batchSize: 8, validationSplit: 0.25, verbose: 0 });
  await evaluate(model, data);
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test("plain {onEpochEnd} callbacks get the epoch logs and can stop training", async () => {
  const data = toyData(32, 8);
  const model = compileForClassification(toyModel());
  const seen: Array<[number, string[]]> = [];
  const h = await train(model, data, {
    epochs: 5,
    batchSize: 8,
    validationSplit: 0.25,
    verbose: 0,
    callbacks: [
      {
        onEpochEnd: async (epoch, logs) => {
          seen.push([epoch, Object.keys(logs ?? {}).sort()]);
          if (epoch === 1) model.stopTraining = true;
        },
      },
    ],
  });
  assert.deepEqual(h.epochs, [0, 1]);
  assert.deepEqual(seen, [
    [0, ["accuracy", "loss", "val_accuracy", "val_loss"]],
    [1, ["accuracy", "loss", "val_accuracy", "val_loss"]],
  ]);
  model.dispose();
});

test("bad calls explain themselves", async () => {
  const data = toyData(8, 9);
  const uncompiled = toyModel();
  await assert.rejects(train(uncompiled, data, { epochs: 1, verbose: 0 }), /compileForClassification/);
  const model = compileForClassification(toyModel());
  await assert.rejects(train(model, { x: data.x, y: tf.zeros([3]) }, { epochs: 1, verbose: 0 }), /8 images but 3 labels/);
  await assert.rejects(train(model, data, { epochs: 0, verbose: 0 }), /epochs must be a positive integer/);
  await assert.rejects(
    train(model, data, { epochs: 1, verbose: 0, validationSplit: 0.2, validationData: data }),
    /not both/,
  );
  assert.equal(model.loss, sparseCategoricalCrossentropyFromLogits);
  model.dispose();
  uncompiled.dispose();
});

test("estimateTrainingSeconds times a few steps and scales with epochs and validation", async () => {
  const { estimateTrainingSeconds } = await import("../../lib/train");
  const data = toyData(64, 5);
  const val = toyData(32, 6);
  const model = compileForClassification(toyModel(3));
  const one = await estimateTrainingSeconds(model, data, { epochs: 1, batchSize: 16 });
  const before = tf.memory().numTensors; // after the first steps: Adam has created its moment tensors
  const ten = await estimateTrainingSeconds(model, data, { epochs: 10, batchSize: 16, validationData: val });
  assert.equal(tf.memory().numTensors, before, "no tensors leak");
  assert.ok(Number.isFinite(one) && one > 0, `estimate ${one}`);
  assert.ok(ten > 5 * one, `10 epochs (${ten}s) should take far longer than 1 (${one}s)`);
  model.dispose();
  tf.dispose([data.x, data.y, val.x, val.y]);
});

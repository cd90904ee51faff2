import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { earlyStopping, modelCheckpoint } from "../../lib/callbacks";
import { loadModel } from "../../lib/model-io";
import { compileForClassification, train } from "../../lib/train";
import { toyData, toyModel } from "./toy";

before(async () => {
  await tf.setBackend("cpu");
});

function weightsOf(model: tf.LayersModel): number[][] {
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

/** Shift every weight by `delta`, standing in for an epoch of training. */
function perturb(model: tf.LayersModel, delta: number): void {
  const shifted = model.getWeights().map((w) => tf.add(w, delta));
  model.setWeights(shifted);
  shifted.forEach((t) => t.dispose());
}

test("earlyStopping stops after `patience` epochs without improvement and restores the best weights", async () => {
  const model = compileForClassification(toyModel()); // tfjs only lets a compiled model set stopTraining
  const cb = earlyStopping({ monitor: "val_loss", patience: 2, restoreBestWeights: true });
  cb.setModel(model);
  model.stopTraining = false;
  await cb.onTrainBegin();
  const valLosses = [1.0, 0.5, 0.6, 0.55, 0.7, 0.2];
  let bestWeights: number[][] = [];
  let epoch = 0;
  for (; epoch < valLosses.length && !model.stopTraining; epoch++) {
    perturb(model, 0.01);
    if (epoch === 1) bestWeights = weightsOf(model);
    await cb.onEpochEnd(epoch, { val_loss: valLosses[epoch] });
  }
  assert.equal(epoch, 4, "ran epochs 0..3: two epochs (2, 3) without beating 0.5");
  assert.equal(cb.stoppedEpoch, 3);
  assert.equal(cb.bestEpoch, 1);
  assert.equal(cb.best, 0.5);
  assert.notDeepEqual(weightsOf(model), bestWeights);
  const before = tf.memory().numTensors;
  await cb.onTrainEnd();
  assert.deepEqual(weightsOf(model), bestWeights);
  assert.ok(tf.memory().numTensors < before, "the kept copy of the best weights is freed");
  model.dispose();
});

test("earlyStopping respects minDelta and mode, and complains about a metric that is not logged", async () => {
  const model = compileForClassification(toyModel());
  const cb = earlyStopping({ monitor: "val_accuracy", patience: 1, minDelta: 0.05 });
  cb.setModel(model);
  model.stopTraining = false;
  await cb.onTrainBegin();
  await cb.onEpochEnd(0, { val_accuracy: 0.5 });
  await cb.onEpochEnd(1, { val_accuracy: 0.52 }); // within minDelta: no improvement
  assert.equal(model.stopTraining, true);
  await assert.rejects(cb.onEpochEnd(2, { loss: 1 }), /Cannot monitor "val_accuracy".*validationData/s);
  model.dispose();
});

test("earlyStopping with train(): training ends early and the best epoch's weights come back", async () => {
  const data = toyData(32, 3);
  const model = compileForClassification(toyModel(), { learningRate: 0.01 });
  let epochZeroWeights: number[][] = [];
  const h = await train(model, data, {
    epochs: 6,
    batchSize: 8,
    validationSplit: 0.25,
    verbose: 0,
    callbacks: [
      { onEpochEnd: async (epoch) => void (epoch === 0 && (epochZeroWeights = weightsOf(model))) },
      // No later epoch can beat the first by 10 points of accuracy: stop after `patience` more epochs.
      earlyStopping({ monitor: "accuracy", mode: "max", minDelta: 10, patience: 2, restoreBestWeights: true }),
    ],
  });
  assert.deepEqual(h.epochs, [0, 1, 2]);
  assert.deepEqual(weightsOf(model), epochZeroWeights);
  model.dispose();
});

test("earlyStopping restores the best weights also when the epochs run out before patience does", async () => {
  const model = compileForClassification(toyModel());
  const cb = earlyStopping({ monitor: "val_loss", patience: 10, restoreBestWeights: true });
  cb.setModel(model);
  model.stopTraining = false;
  await cb.onTrainBegin();
  const valLosses = [1.0, 0.3, 0.5, 0.6];
  let bestWeights: number[][] = [];
  for (let epoch = 0; epoch < valLosses.length; epoch++) {
    perturb(model, 0.01);
    if (epoch === 1) bestWeights = weightsOf(model);
    await cb.onEpochEnd(epoch, { val_loss: valLosses[epoch] });
  }
  assert.equal(model.stopTraining, false, "patience never ran out");
  assert.equal(cb.stoppedEpoch, -1);
  await cb.onTrainEnd();
  assert.deepEqual(weightsOf(model), bestWeights);

  // The same through train(): whatever epoch had the lowest val_loss, its weights are the ones left at the end.
  const trained = compileForClassification(toyModel(), { learningRate: 0.05 });
  const perEpoch: number[][][] = [];
  const h = await train(trained, toyData(32, 3), {
    epochs: 4,
    batchSize: 8,
    validationSplit: 0.25,
    verbose: 0,
    callbacks: [
      { onEpochEnd: async () => void perEpoch.push(weightsOf(trained)) },
      earlyStopping({ monitor: "val_loss", patience: 10, restoreBestWeights: true }),
    ],
  });
  assert.deepEqual(h.epochs, [0, 1, 2, 3]);
  const losses = h.history.val_loss!;
  assert.deepEqual(weightsOf(trained), perEpoch[losses.indexOf(Math.min(...losses))]);
  model.dispose();
  trained.dispose();
});

test("earlyStopping also works with tfjs's own model.fit", async () => {
  const input = tf.input({ shape: [2] });
  const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 1 }).apply(input) as tf.SymbolicTensor });
  model.compile({ optimizer: tf.train.sgd(0), loss: "meanSquaredError" }); // lr 0: the loss never improves
  const x = tf.ones([4, 2]);
  const y = tf.zeros([4, 1]);
  const h = await model.fit(x, y, { epochs: 10, verbose: 0, callbacks: [earlyStopping({ monitor: "loss", patience: 1 })] });
  assert.equal(h.epoch.length, 2);
  model.dispose();
});

test("modelCheckpoint writes the model only when the monitored value improves", async () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ckpt-test-")), "best");
  const model = toyModel();
  const cb = modelCheckpoint({ dir, monitor: "val_loss", saveBestOnly: true });
  cb.setModel(model);
  await cb.onTrainBegin();
  const x = toyData(4, 1).x;
  const predict = (m: tf.LayersModel) => tf.tidy(() => Array.from((m.predict(x) as tf.Tensor).dataSync()));
  await cb.onEpochEnd(0, { val_loss: 0.9 });
  perturb(model, 0.05);
  await cb.onEpochEnd(1, { val_loss: 0.4 });
  const bestPredictions = predict(model);
  perturb(model, 0.05);
  await cb.onEpochEnd(2, { val_loss: 0.6 });
  assert.deepEqual(cb.savedEpochs, [0, 1]);
  const loaded = await loadModel(dir);
  assert.deepEqual(predict(loaded), bestPredictions);
  assert.notDeepEqual(predict(model), bestPredictions);
  loaded.dispose();
  model.dispose();
});

test("modelCheckpoint with train() saves a loadable model", async () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ckpt-train-")), "model");
  const data = toyData(24, 2);
  const model = compileForClassification(toyModel());
  const cb = modelCheckpoint({ dir });
  await train(model, data, { epochs: 2, batchSize: 8, validationSplit: 0.25, verbose: 0, callbacks: [cb] });
  assert.ok(cb.savedEpochs.length >= 1);
  assert.ok(fs.existsSync(path.join(dir, "model.json")));
  const loaded = await loadModel(dir);
  assert.equal(loaded.countParams(), model.countParams());
  loaded.dispose();
  model.dispose();
  assert.throws(() => modelCheckpoint({ dir: "" }), /needs \{dir/);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { GridSearch, HyperParameters } from "../../lib/tuner";

function buildModel(hp: HyperParameters): tf.LayersModel {
  const units = hp.Choice("units", [2, 4]);
  const rate = hp.Float("dropout_rate", { min: 0, max: 0.5, step: 0.5 });
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [3], units, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
  model.add(tf.layers.dropout({ rate }));
  model.add(tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
  // An optimizer object (not the string "adam"): tfjs does not free its state with the model, the tuner must.
  model.compile({ optimizer: tf.train.adam(0.01), loss: "meanSquaredError" });
  return model;
}

test("end to end with a tiny tfjs model on the cpu backend: 4 trials, real val_loss, no leaked tensors", async () => {
  await tf.setBackend("cpu");
  const xs = tf.tensor2d([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 0.3, 0.1, 0.2, 0.5, 0.4, 0.6], [6, 3]);
  const ys = tf.tensor2d([1, 2, 3, 4, 1, 2], [6, 1]);
  const before = tf.memory().numTensors;
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "tuner-tfjs-"));
  const tuner = new GridSearch<tf.LayersModel>({
    hypermodel: buildModel,
    objective: "val_loss",
    directory,
    projectName: "tiny",
    log: () => {},
  });
  await tuner.search((model) => model.fit(xs, ys, { epochs: 2, batchSize: 3, validationData: [xs, ys], verbose: 0 }));

  const trials = tuner.getTrials();
  assert.deepEqual(
    trials.map((t) => t.hyperparameters),
    [
      { units: 2, dropout_rate: 0 },
      { units: 2, dropout_rate: 0.5 },
      { units: 4, dropout_rate: 0 },
      { units: 4, dropout_rate: 0.5 },
    ],
  );
  for (const t of trials) {
    assert.equal(t.metrics.val_loss.length, 2);
    assert.equal(t.score, Math.min(...t.metrics.val_loss));
    assert.ok(Number.isFinite(t.score) && t.score > 0);
  }
  const [best] = tuner.getBestModels();
  const bestUnits = tuner.getBestHyperparameters()[0].get("units");
  assert.equal((best.layers[0].getWeights()[0].shape as number[])[1], bestUnits);
  // Only the kept best model holds tensors; after dispose nothing the tuner made is left.
  tuner.dispose();
  assert.equal(tf.memory().numTensors, before);
  xs.dispose();
  ys.dispose();
  fs.rmSync(directory, { recursive: true, force: true });
});

test("search(data, { epochs, validationData }) trains each trial with lib's train and prints an estimate first", async () => {
  await tf.setBackend("cpu");
  const { toyData, toyModel } = await import("../lib/toy");
  const { compileForClassification } = await import("../../lib/train");
  const data = toyData(24, 3);
  const val = toyData(12, 4);
  const lines: string[] = [];
  const tuner = new GridSearch<tf.LayersModel>({
    hypermodel: (hp) => compileForClassification(toyModel(1), { learningRate: hp.Choice("lr", [0.001, 0.01]) }),
    directory: fs.mkdtempSync(path.join(os.tmpdir(), "tuner-data-")),
    projectName: "on_data",
    log: (line) => lines.push(line),
  });
  await tuner.search(data, { epochs: 2, batchSize: 8, validationData: val });
  const trials = tuner.getTrials();
  assert.equal(trials.length, 2);
  for (const t of trials) assert.equal(t.metrics.val_loss.length, 2);
  assert.ok(lines.some((l) => /^Estimated duration: ~/.test(l)), lines.join("\n"));
  await assert.rejects(() => tuner.search(data, {} as never), /needs the training options/);
  for (const t of [data.x, data.y, val.x, val.y]) t.dispose();
});

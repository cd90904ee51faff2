/** LessonsAdam: the fused wasm Adam step gives bit-for-bit what tf.train.adam gives, and leaks nothing. */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { ADAM_KERNEL, adam } from "../../lib/backend/fused-adam";
import { randomArray, readyWasm } from "./helpers";

function build(): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [9, 9, 3], filters: 5, kernelSize: 3, activation: "relu" }));
  model.add(tf.layers.batchNormalization());
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 7, activation: "relu" }));
  model.add(tf.layers.dense({ units: 3, activation: "softmax" }));
  return model;
}

/** Trains a copy of `reference` for `steps` batches with the given optimizer; returns weights and optimizer state. */
async function trainCopy(reference: tf.Sequential, optimizer: tf.Optimizer, steps: number): Promise<{ weights: number[][]; state: number[][] }> {
  const model = build();
  model.setWeights(reference.getWeights());
  model.compile({ optimizer, loss: "categoricalCrossentropy" });
  const x = tf.tensor4d(randomArray(6 * 9 * 9 * 3, 1), [6, 9, 9, 3]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 1, 0, 2], "int32"), 3);
  for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y);
  const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
  const state = (await optimizer.getWeights()).map((w) => Array.from(w.tensor.dataSync()));
  tf.dispose([x, y]);
  model.dispose();
  optimizer.dispose();
  return { weights, state };
}

describe("fused Adam", () => {
  before(readyWasm);

  for (const backend of ["wasm", "cpu"] as const) {
    it(`matches tf.train.adam exactly after several steps on ${backend}`, async () => {
      await tf.setBackend(backend);
      const reference = build();
      const stock = await trainCopy(reference, tf.train.adam(0.01), 4);
      const fused = await trainCopy(reference, adam(0.01), 4);
      reference.dispose();
      assert.equal(fused.weights.length, stock.weights.length);
      fused.weights.forEach((w, i) => assert.deepEqual(w, stock.weights[i], `weight ${i}`));
      assert.deepEqual(fused.state, stock.state, "iterations and moment estimates");
      await tf.setBackend("wasm");
    });
  }

  it("runs as one kernel per weight on wasm, and keeps the tensor count flat", async () => {
    await tf.setBackend("wasm");
    const model = build();
    model.compile({ optimizer: adam(0.001), loss: "categoricalCrossentropy" });
    const x = tf.tensor4d(randomArray(4 * 9 * 9 * 3, 2), [4, 9, 9, 3]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 1], "int32"), 3);
    await model.trainOnBatch(x, y);
    const before = tf.memory().numTensors;
    const profile = await tf.profile(async () => {
      await model.trainOnBatch(x, y);
    });
    assert.equal(tf.memory().numTensors, before, "tensors after a step");
    const fusedCalls = profile.kernels.filter((k) => k.name === ADAM_KERNEL).length;
    assert.equal(fusedCalls, model.trainableWeights.length);
    assert.ok(!profile.kernels.some((k) => k.name === "Sqrt"), "no elementwise Adam arithmetic left");
    tf.dispose([x, y]);
    model.dispose();
  });
});

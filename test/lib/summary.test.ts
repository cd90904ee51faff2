import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { dollarStreetModel, dropoutModel } from "../../lib/models";
import { formatBytes, formatCount, formatShape, summary } from "../../lib/summary";

before(async () => {
  await tf.setBackend("cpu");
});

test("number and size formatting follow Keras", () => {
  assert.equal(formatCount(1823960), "1,823,960");
  assert.equal(formatCount(510), "510");
  assert.equal(formatBytes(514510 * 4), "1.96 MB");
  assert.equal(formatBytes(137060 * 4), "535.39 KB");
  assert.equal(formatBytes(0), "0.00 B");
  assert.equal(formatShape([null, 62, 62, 50]), "(None, 62, 62, 50)");
});

test("summary returns the numbers and prints a table that contains them", () => {
  const model = dollarStreetModel();
  const s = summary(model, { print: false });
  assert.equal(s.name, "dollar_street_model");
  assert.equal(s.totalParams, 514_510);
  assert.equal(s.trainableParams, 514_510);
  assert.equal(s.nonTrainableParams, 0);
  assert.equal(s.totalBytes, 514_510 * 4);
  assert.equal(s.layers.reduce((a, l) => a + l.params, 0), 514_510);
  const conv = s.layers.find((l) => l.name === "conv2d_1");
  assert.deepEqual(conv, { name: "conv2d_1", type: "Conv2D", outputShape: "(None, 29, 29, 50)", params: 22_550 });
  assert.match(s.text, /Total params: 514,510 \(1\.96 MB\)/);
  assert.match(s.text, /Trainable params: 514,510 \(1\.96 MB\)/);
  assert.match(s.text, /Non-trainable params: 0 \(0\.00 B\)/);
  assert.match(s.text, /dense \(Dense\)\s+\(None, 50\)\s+490,050/);
  assert.match(s.text, /flatten \(Flatten\)\s+\(None, 9800\)\s+0/);
  model.dispose();
});

test("summary prints by default and counts non-trainable weights separately", () => {
  const model = dropoutModel();
  model.layers[0].trainable = false; // freeze the first conv layer: 1,400 params
  const printed: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void printed.push(args.join(" "));
  try {
    const s = summary(model);
    assert.equal(s.nonTrainableParams, 1_400);
    assert.equal(s.trainableParams, 137_060 - 1_400);
  } finally {
    console.log = original;
  }
  assert.equal(printed.length, 1);
  assert.match(printed[0], /Non-trainable params: 1,400 \(5\.47 KB\)/);
  assert.match(printed[0], /dropout_2 \(Dropout\)\s+\(None, 6, 6, 50\)/);
  model.dispose();
});

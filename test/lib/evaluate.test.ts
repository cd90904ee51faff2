import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import * as tf from "@tensorflow/tfjs";
import {
  accuracyOf, classScores, classScoresTable, confusionMatrix, modelResult, predictClasses, resultsTable,
} from "../../lib/evaluate";
import type { ImageSplit } from "../../lib/data/images";

// Hand-computed example with three classes; class 2 occurs three times but is never predicted.
//   labels:    0 0 0 1 1 2 2 2
//   predicted: 0 0 1 1 0 1 0 1
const labels = [0, 0, 0, 1, 1, 2, 2, 2];
const predicted = [0, 0, 1, 1, 0, 1, 0, 1];

test("accuracyOf counts matching predictions", () => {
  assert.equal(accuracyOf(predicted, labels), 3 / 8);
  assert.equal(accuracyOf(tf.tensor1d([1, 2], "int32"), new Int32Array([1, 0])), 0.5);
  assert.throws(() => accuracyOf([1, 2, 3], [1, 2]), /3 predictions.*2 labels|2 labels but 3 predictions/);
  assert.throws(() => accuracyOf([], []), /nothing to evaluate/);
});

test("confusionMatrix puts true classes in rows and predicted classes in columns", () => {
  assert.deepEqual(confusionMatrix(labels, predicted, 3), [
    [2, 1, 0],
    [1, 1, 0],
    [1, 2, 0],
  ]);
  assert.throws(() => confusionMatrix([0, 3], [0, 1], 3), /label 1 is 3, outside 0..2/);
  assert.throws(() => confusionMatrix([0, 1], [0, -1], 3), /prediction 1 is -1/);
  assert.throws(() => confusionMatrix(tf.zeros([2, 3]), [0, 1], 3), /1-D tensor of class indices/);
});

test("classScores gives per-class precision, recall and F1 as computed by hand", () => {
  const scores = classScores(confusionMatrix(labels, predicted, 3), ["a", "b", "c"]);
  const close = (x: number | null, want: number) => assert.ok(x !== null && Math.abs(x - want) < 1e-12, `${x} != ${want}`);
  // class a: TP 2, predicted 4 times, 3 images
  close(scores[0].precision, 2 / 4);
  close(scores[0].recall, 2 / 3);
  close(scores[0].f1, 4 / 7);
  // class b: TP 1, predicted 4 times, 2 images
  close(scores[1].precision, 1 / 4);
  close(scores[1].recall, 1 / 2);
  close(scores[1].f1, 1 / 3);
  // class c: never predicted, so precision is 0/0: null, not 0; recall 0 of 3; F1 0
  assert.equal(scores[2].precision, null);
  assert.equal(scores[2].recall, 0);
  assert.equal(scores[2].f1, 0);
  assert.deepEqual(scores.map((s) => [s.className, s.support, s.predictedCount]), [["a", 3, 4], ["b", 2, 4], ["c", 3, 0]]);
});

test("classScores: a class neither present nor predicted has no scores at all", () => {
  const scores = classScores(confusionMatrix([0, 1], [0, 1], 3));
  assert.deepEqual(scores[2], { className: "2", precision: null, recall: null, f1: null, support: 0, predictedCount: 0 });
  assert.equal(scores[0].precision, 1);
  assert.throws(() => classScores([[1, 2]]), /square confusion matrix/);
  assert.throws(() => classScores([[1]], ["a", "b"]), /1 classes in the matrix but 2 class names/);
});

test("classScoresTable writes n/a for undefined scores and says why", () => {
  const text = classScoresTable(classScores(confusionMatrix(labels, predicted, 3), ["T-shirt", "Bag", "Sandal"]));
  const lines = text.split("\n");
  assert.match(lines[0], /^class\s+precision\s+recall\s+F1\s+images\s+predicted$/);
  assert.match(lines[1], /^T-shirt\s+50\.0%\s+66\.7%\s+57\.1%\s+3\s+4$/);
  assert.match(lines[3], /^Sandal\s+n\/a\s+0\.0%\s+0\.0%\s+3\s+0$/);
  assert.match(text, /never predicted that class/);
  assert.doesNotMatch(text, /no image of that class/);
});

/** A model whose logits are its input pixels: flatten + identity dense, so the predicted class is the brightest channel. */
function identityModel(channels: number): tf.LayersModel {
  const model = tf.sequential({ layers: [
    tf.layers.flatten({ inputShape: [1, 1, channels] }),
    tf.layers.dense({ units: channels, useBias: false, kernelInitializer: "identity" }),
  ] });
  return model;
}

test("predictClasses takes the argmax batch by batch, from a tensor or from a uint8 split", async () => {
  const brightest = [2, 0, 1, 1, 2, 0, 0];
  const pixels = new Uint8Array(brightest.length * 3);
  brightest.forEach((c, i) => {
    pixels.set([10, 20, 30], i * 3);
    pixels[i * 3 + c] = 200;
  });
  const split: ImageSplit = { images: pixels, labels: Int32Array.from(brightest), count: 7, height: 1, width: 1, channels: 3 };
  const model = identityModel(3);
  const before = tf.memory().numTensors;
  assert.deepEqual(Array.from(await predictClasses(model, split, { batchSize: 3 })), brightest, "7 images in batches of 3, 3 and 1");
  const x = tf.tensor4d(Float32Array.from(pixels), [7, 1, 1, 3]);
  assert.deepEqual(Array.from(await predictClasses(model, x, { batchSize: 2 })), brightest);
  x.dispose();
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");
  await assert.rejects(predictClasses(model, split, { batchSize: 0 }), /batchSize must be a positive integer/);
  await assert.rejects(predictClasses(model, [1, 2] as unknown as tf.Tensor), /pass a tensor of images/);
  model.dispose();
});

test("modelResult reads epochs, time and validation accuracies from a history", () => {
  const run = { history: { loss: [1, 0.8, 0.7], val_accuracy: [0.5, 0.7, 0.65] }, seconds: 42 };
  const r = modelResult("baseline", run, { images: 5000, testAccuracy: 0.66, course: "73.0% after 10 epochs" });
  assert.deepEqual(r, { name: "baseline", epochs: 3, images: 5000, seconds: 42, bestValAccuracy: 0.7, finalValAccuracy: 0.65,
    testAccuracy: 0.66, course: "73.0% after 10 epochs" });
  assert.throws(() => modelResult("x", { history: { loss: [1] } }, { images: 1 }), /no seconds/);
});

test("resultsTable returns the rows and a text table, with the course column only when given", () => {
  const rows = [
    { name: "baseline", epochs: 10, images: 50000, seconds: 1500, bestValAccuracy: 0.712, finalValAccuracy: 0.70, testAccuracy: 0.705,
      course: "73.0% (10 epochs)" },
    { name: "dropout 0.2", epochs: 4, images: 5000, seconds: 33, bestValAccuracy: 0.6 },
  ];
  const table = resultsTable(rows);
  assert.deepEqual(table.rows, rows);
  const lines = table.text.split("\n");
  assert.match(lines[0], /^model\s+epochs\s+images\s+time\s+best val acc\s+final val acc\s+test acc\s+original course$/);
  assert.match(lines[1], /^baseline\s+10\s+50,000\s+25\.0 min\s+71\.2%\s+70\.0%\s+70\.5%\s+73\.0% \(10 epochs\)$/);
  assert.match(lines[2], /^dropout 0\.2\s+4\s+5,000\s+33 s\s+60\.0%\s+n\/a\s+n\/a$/);
  assert.equal(inspect(table), table.text, "a notebook cell ending in the table prints the text");
  assert.doesNotMatch(resultsTable([rows[1]]).text, /original course/);
  assert.throws(() => resultsTable([]), /pass an array of results/);
});

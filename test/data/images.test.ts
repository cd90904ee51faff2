import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { batches, classCounts, ImageSplit, imagesToTensor, oneHotLabels, scaleTo01, stratifiedIndices, subsetSplit } from "../../lib/data/images";

/** 25 tiny 2x2x1 images; image i has every pixel = 10 * i, label i % 3 (classes of 9, 8, 8). */
function tinySplit(): ImageSplit {
  const count = 25;
  const images = new Uint8Array(count * 4);
  for (let i = 0; i < count; i++) images.fill(10 * i, i * 4, (i + 1) * 4);
  return { images, labels: Int32Array.from({ length: count }, (_, i) => i % 3), count, height: 2, width: 2, channels: 1 };
}

test("first-N and seeded stratified subsets", () => {
  const split = tinySplit();
  const first = subsetSplit(split, 4);
  assert.deepEqual([...first.labels], [0, 1, 2, 0]);
  assert.deepEqual([...first.images.subarray(12, 16)], [30, 30, 30, 30]);
  const strat = subsetSplit(split, 10, "stratified", 1);
  assert.equal(strat.count, 10);
  assert.deepEqual(classCounts(strat, 3), [4, 3, 3]); // 9:8:8 scaled to 10, largest remainder to class 0
  for (let k = 0; k < strat.count; k++) assert.equal(strat.images[k * 4] / 10 % 3, strat.labels[k], "pixels travel with their label");
  assert.deepEqual(stratifiedIndices(split.labels, 10, 1), stratifiedIndices(split.labels, 10, 1));
  assert.notDeepEqual(stratifiedIndices(split.labels, 10, 1), stratifiedIndices(split.labels, 10, 2));
  assert.throws(() => subsetSplit(split, 0), /positive integer/);
});

test("tensors: raw 0..255 values, a separate 0..1 scaling step, one-hot labels and batches", async () => {
  await tf.setBackend("cpu");
  const split = tinySplit();
  const x = imagesToTensor(split);
  assert.deepEqual(x.shape, [25, 2, 2, 1]);
  assert.equal(x.dtype, "float32");
  assert.equal(x.max().dataSync()[0], 240);
  const scaled = scaleTo01(x);
  assert.ok(Math.abs(scaled.max().dataSync()[0] - 240 / 255) < 1e-6);
  const y = oneHotLabels(split, 3);
  assert.deepEqual(y.shape, [25, 3]);
  assert.deepEqual([...y.dataSync().slice(3, 6)], [0, 1, 0]);
  let seen = 0;
  for (const { xs, ys } of batches(split, 10)) {
    assert.equal(xs.shape[0], ys.shape[0]);
    assert.ok(xs.max().dataSync()[0] <= 1);
    seen += xs.shape[0];
    tf.dispose([xs, ys]);
  }
  assert.equal(seen, 25);
  tf.dispose([x, scaled, y]);
});

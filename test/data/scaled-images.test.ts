import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { scaledImages, ScaledImages } from "../../lib/data/scaled-images";
import { imagesToTensor, labelsToTensor, scaleTo01, type ImageSplit } from "../../lib/data/images";
import { compileForClassification, evaluate, train } from "../../lib/train";
import { withSeed } from "../../lib/seed";

function randomSplit(count: number, seed: number): ImageSplit {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  const images = Uint8Array.from({ length: count * 4 * 4 * 3 }, next);
  const labels = Int32Array.from({ length: count }, (_, i) => (images[i * 48] > 127 ? 1 : 0));
  return { images, labels, count, height: 4, width: 4, channels: 3 };
}

function tinyModel(): tf.LayersModel {
  return compileForClassification(withSeed(1, () => tf.sequential({ layers: [
    tf.layers.conv2d({ inputShape: [4, 4, 3], filters: 2, kernelSize: 3, activation: "relu" }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 2 }),
  ] })));
}

test("ScaledImages gives the same tensors as scaling a full tensor, batch by batch", () => {
  const split = randomSplit(10, 3);
  const lazy = scaledImages(split);
  assert.deepEqual(lazy.shape, [10, 4, 4, 3]);
  const full = scaleTo01(imagesToTensor(split));
  const picked = lazy.gather([7, 2, 2]);
  assert.deepEqual(picked.shape, [3, 4, 4, 3]);
  assert.deepEqual(picked.arraySync(), tf.gather(full, [7, 2, 2]).arraySync());
  assert.deepEqual(lazy.slice(8, 5).arraySync(), tf.slice(full, 8, 2).arraySync(), "a slice past the end stops at the end");
  assert.deepEqual(lazy.rows(4, 6).toTensor().arraySync(), tf.slice(full, 4, 2).arraySync());
  assert.equal(lazy.rows(4, 6).pixels.buffer, split.images.buffer, "rows share the bytes");
  assert.throws(() => lazy.gather([10]), /image index 10 is outside 0..9/);
  assert.throws(() => new ScaledImages(new Uint8Array(5), [1, 2, 2, 3]), /5 bytes do not make images of shape \[1, 2, 2, 3\]/);
  tf.dispose([full, picked]);
});

test("train() and evaluate() on ScaledImages match training on the scaled float tensor exactly", async () => {
  const split = randomSplit(40, 9);
  const y = labelsToTensor(split);
  const xFloat = scaleTo01(imagesToTensor(split));
  const opts = { epochs: 2, batchSize: 8, validationSplit: 0.25, verbose: 0 as const };

  const a = tinyModel();
  let before = tf.memory().numTensors;
  const historyA = await train(a, { x: xFloat, y }, opts);
  const keptA = tf.memory().numTensors - before; // Adam's moment variables
  const b = tinyModel();
  before = tf.memory().numTensors;
  const historyB = await train(b, { x: scaledImages(split), y }, opts);
  assert.equal(tf.memory().numTensors - before, keptA, "no batch tensors leak");

  assert.deepEqual(historyB.history, historyA.history);
  for (const [wa, wb] of a.getWeights().map((w, i) => [w, b.getWeights()[i]])) assert.deepEqual(wb.arraySync(), wa.arraySync());
  assert.deepEqual(await evaluate(b, [scaledImages(split), y], { batchSize: 16 }), await evaluate(a, [xFloat, y], { batchSize: 16 }));
  tf.dispose([xFloat, y]);
});

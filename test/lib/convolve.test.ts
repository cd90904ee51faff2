import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { convolve, HORIZONTAL_EDGE_KERNEL } from "../../lib/convolve";

before(async () => {
  await tf.setBackend("cpu");
});

// 5x4 grayscale: two dark rows over three light rows -> a horizontal edge between rows 1 and 2.
const image = [
  [0, 0, 0, 0],
  [0, 0, 0, 0],
  [1, 1, 1, 1],
  [1, 1, 1, 1],
  [1, 1, 1, 1],
];

test("valid padding: the horizontal-edge kernel fires where dark meets light, output shrinks by 2", () => {
  const out = convolve(tf.tensor2d(image), HORIZONTAL_EDGE_KERNEL);
  assert.deepEqual(out.shape, [3, 2, 1]);
  // Row 0 covers image rows 0..2: -(0+0+0) + (1+1+1) = 3; row 1 covers rows 1..3: 3; row 2 covers rows 2..4: 0.
  assert.deepEqual(out.squeeze().arraySync(), [
    [3, 3],
    [3, 3],
    [0, 0],
  ]);
});

test("same padding keeps the size and pads with zeros at the border", () => {
  const out = convolve(tf.tensor2d(image), HORIZONTAL_EDGE_KERNEL, { padding: "same" });
  assert.deepEqual(out.shape, [5, 4, 1]);
  const rows = out.squeeze().arraySync() as number[][];
  // Row 1 (fully inside): 3 at columns 1..2, only 2 at the edges where a zero column is padded in.
  assert.deepEqual(rows[1], [2, 3, 3, 2]);
  // Last row: the padded row below counts as 0 while the row above is light: 0 - 3 = -3 inside.
  assert.deepEqual(rows[4], [-2, -3, -3, -2]);
});

test("RGB images: 'sum' adds the channels like one Conv2D filter, 'separate' keeps them", () => {
  const gray = tf.tensor2d(image);
  const rgb = tf.stack([gray, tf.mul(gray, 2), tf.mul(gray, 3)], -1) as tf.Tensor3D;
  const summed = convolve(rgb, HORIZONTAL_EDGE_KERNEL);
  assert.deepEqual(summed.shape, [3, 2, 1]);
  assert.deepEqual((summed.squeeze().arraySync() as number[][])[0], [18, 18]); // 3 * (1 + 2 + 3)
  const separate = convolve(rgb, HORIZONTAL_EDGE_KERNEL, { channels: "separate" });
  assert.deepEqual(separate.shape, [3, 2, 3]);
  assert.deepEqual((separate.arraySync() as number[][][])[0][0], [3, 6, 9]);
});

test("bad input gets an explanation", () => {
  assert.throws(() => convolve(tf.tensor2d([[1, 2]]), HORIZONTAL_EDGE_KERNEL), /does not fit/);
  assert.throws(() => convolve(tf.tensor2d(image), [[1, 2], [3]]), /rectangular/);
  assert.throws(
    () => convolve(tf.tensor2d(image), HORIZONTAL_EDGE_KERNEL, { padding: "reflect" as "same" }),
    /"valid" or "same"/,
  );
});

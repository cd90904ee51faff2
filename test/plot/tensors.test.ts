import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { imageGrid, showImages } from "../../lib/plot";

const payload = (source: unknown) => Buffer.from(String(source).split(",")[1], "base64");

test("imageGrid reads real tfjs tensors: int32 0..255 batches and float 0..1 images", () => {
  const ints = tf.tidy(() => tf.fill([3, 4, 5, 3], 200, "int32").mul(tf.tensor1d([0, 1, 0], "int32")) as tf.Tensor4D);
  const fig = imageGrid(ints, ["a", "b", "c"], { show: false });
  assert.equal(fig.data.length, 3);
  const png = PNG.sync.read(payload(fig.data[2].source));
  assert.deepEqual([png.width, png.height], [5, 4]);
  assert.deepEqual(Array.from(png.data.subarray(0, 4)), [0, 200, 0, 255]);

  const floats = tf.fill([4, 5, 3], 0.5) as tf.Tensor3D;
  const one = imageGrid(floats, ["half grey"], { show: false });
  assert.equal(one.data.length, 1, "a 3D tensor is one image");
  assert.equal(PNG.sync.read(payload(one.data[0].source)).data[0], 128);
  tf.dispose([ints, floats]);
});

test("large photos are embedded as JPEG, small images as exact PNG", () => {
  const photo = tf.tidy(() => tf.linspace(0, 1, 96 * 96 * 3).reshape([1, 96, 96, 3]) as tf.Tensor4D);
  const fig = imageGrid(photo, [], { show: false });
  assert.match(String(fig.data[0].source), /^data:image\/jpeg;base64,/);
  const decoded = jpeg.decode(payload(fig.data[0].source));
  assert.deepEqual([decoded.width, decoded.height], [96, 96]);
  const last = decoded.data.length - 4; // bottom-right pixel: close to white
  assert.ok(decoded.data[last] > 240 && decoded.data[last + 2] > 240);
  photo.dispose();
});

test("showImages takes a conv2d output tensor [1, h, w, 1] with signed values", () => {
  const input = tf.tensor4d([0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1], [1, 3, 4, 1]);
  const kernel = tf.tensor4d([-1, 1], [1, 2, 1, 1]);
  const out = tf.conv2d(input, kernel, 1, "valid");
  const fig = showImages([{ image: input, title: "input" }, { image: out, title: "edges" }], { show: false });
  assert.deepEqual(fig.data[1].z, [[0, 1, 0], [0, 1, 0], [0, 1, 0]]);
  assert.equal(fig.data[1].colorscale, "Greys", "no negative values here, so grayscale");
  const neg = tf.neg(out);
  const fig2 = showImages([neg], { show: false });
  assert.equal(fig2.data[0].zmid, 0);
  tf.dispose([input, kernel, out, neg]);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { featureMaps, imageGrid, showImages } from "../../lib/plot";

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

test("featureMaps shows each channel of a conv output as its own panel, in rows", () => {
  const x = tf.tidy(() => tf.randomUniform([1, 10, 10, 1], 0, 1, "float32", 1) as tf.Tensor4D);
  const filters = tf.tidy(() => tf.randomNormal([3, 3, 1, 12], 0, 1, "float32", 2) as tf.Tensor4D);
  const out = tf.conv2d(x, filters, 1, "valid");
  const fig = featureMaps(out, { cols: 5, max: 10, show: false });
  assert.equal(fig.data.length, 10, "at most `max` channels");
  const z = fig.data[7].z as number[][];
  assert.deepEqual([z.length, z[0].length], [8, 8]);
  const expected = (out.slice([0, 0, 0, 7], [1, 8, 8, 1]).arraySync() as number[][][][])[0].map((r) => r.map((v) => v[0]));
  z.forEach((row, r) => row.forEach((v, c) => assert.ok(Math.abs(v - expected[r][c]) < 1e-6)));
  assert.ok(fig.data.every((t) => t.showscale === false && t.zmid === 0), "diverging scale, no colour bar per small panel");
  assert.match((fig.layout!.title as { text: string }).text, /First 10 of 12 channels/);
  const dom = (k: string) => (fig.layout![k] as { domain: number[] }).domain;
  assert.equal(dom("xaxis6")[0], dom("xaxis")[0], "panel 6 starts the second row");
  assert.throws(() => featureMaps(tf.zeros([2, 4, 4, 3]), { show: false }), /pick one example first/);
  tf.dispose([x, filters, out]);
});

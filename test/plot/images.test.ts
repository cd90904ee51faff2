import { test } from "node:test";
import assert from "node:assert/strict";
import { PNG } from "pngjs";
import { imageGrid, showImages, TensorLike } from "../../lib/plot";

/** A stand-in for a tf.Tensor: lib/plot only reads shape, dtype and dataSync(). */
function fakeTensor(shape: number[], dtype: string, fill: (i: number) => number): TensorLike {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = dtype === "float32" ? Float32Array.from({ length: n }, (_, i) => fill(i)) : Int32Array.from({ length: n }, (_, i) => fill(i));
  return { shape, dtype, dataSync: () => values };
}

function decode(source: unknown): PNG {
  assert.equal(typeof source, "string");
  const m = /^data:image\/png;base64,(.+)$/.exec(source as string);
  assert.ok(m, "image source must be a PNG data URI");
  return PNG.sync.read(Buffer.from(m[1], "base64"));
}

test("imageGrid splits a batch tensor into titled image panels laid out in rows", () => {
  // 5 images of 2x3 RGB, uint8-style ints: image k has red = 10 * k everywhere.
  const batch = fakeTensor([5, 2, 3, 3], "int32", (i) => (i % 3 === 0 ? 10 * Math.floor(i / 18) : 0));
  const fig = imageGrid(batch, ["a", "b", "c", "d", "e"], { cols: 2, show: false });
  assert.equal(fig.data.length, 5);
  assert.ok(fig.data.every((t) => t.type === "image"));
  const png = decode(fig.data[3].source);
  assert.equal(png.width, 3);
  assert.equal(png.height, 2);
  assert.equal(png.data[0], 30, "red channel of image 3 kept as 0..255");
  const texts = (fig.layout!.annotations as { text: string }[]).map((a) => a.text);
  assert.deepEqual(texts, ["a", "b", "c", "d", "e"]);
  const dom = (k: string) => (fig.layout![k] as { domain: number[] }).domain;
  assert.equal(dom("xaxis")[0], dom("xaxis3")[0], "image 3 starts the second row");
  assert.ok(dom("yaxis3")[1] < dom("yaxis")[0], "second row is below the first");
});

test("imageGrid scales float 0..1 images to 0..255 and takes arrays of nested-array images", () => {
  const gray = [[0, 0.5], [1, 0.25]];
  const fig = imageGrid([gray, gray], [], { show: false });
  const png = decode(fig.data[0].source);
  assert.deepEqual([png.data[0], png.data[4], png.data[8], png.data[12]], [0, 128, 255, 64]);
  assert.equal(png.data[1], png.data[0], "grayscale becomes equal R, G, B");
  assert.throws(() => imageGrid([gray], ["x", "y"], { show: false }), /1 images but 2 titles/);
  assert.throws(() => imageGrid(fakeTensor([2, 4, 4, 2], "float32", () => 0), [], { show: false }), /cannot read an image of shape/);
});

test("showImages uses grayscale for non-negative images and a diverging scale centred on 0 for signed ones", () => {
  const input = fakeTensor([1, 3, 3, 1], "float32", (i) => i / 8);
  const output = [[-2, 0, 1], [0, 0, 0]];
  const fig = showImages([{ image: input, title: "input" }, { image: output, title: "edges" }], { show: false });
  assert.equal(fig.data.length, 2);
  const [a, b] = fig.data;
  assert.equal(a.type, "heatmap");
  assert.equal(a.colorscale, "Greys");
  assert.equal(a.showscale, false);
  assert.deepEqual(a.z, [[0, 1 / 8, 2 / 8], [3 / 8, 4 / 8, 5 / 8], [6 / 8, 7 / 8, 1]]);
  assert.equal(b.zmid, 0);
  assert.equal(b.zmin, -2);
  assert.equal(b.zmax, 2, "symmetric range so 0 is the neutral colour");
  assert.equal(b.showscale, true);
  assert.ok(Array.isArray(b.colorscale));
  assert.equal((fig.layout!.yaxis2 as { autorange: string }).autorange, "reversed", "row 0 at the top, like an image");
  assert.deepEqual((fig.layout!.annotations as { text: string }[]).map((x) => x.text), ["input", "edges"]);
  assert.throws(() => showImages([], { show: false }), /non-empty array/);
});

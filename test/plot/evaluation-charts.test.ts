import { test } from "node:test";
import assert from "node:assert/strict";
import { PNG } from "pngjs";
import { confusionHeatmap, predictionGrid } from "../../lib/plot";

const matrix = [
  [2, 1, 0],
  [1, 1, 0],
  [1, 2, 0],
];

test("confusionHeatmap draws counts with class names, true classes down and the first class on top", () => {
  const fig = confusionHeatmap(matrix, ["T-shirt", "Bag", "Sandal"], { show: false });
  assert.equal(fig.data.length, 1);
  const t = fig.data[0];
  assert.equal(t.type, "heatmap");
  assert.deepEqual(t.z, matrix);
  assert.deepEqual(t.x, ["T-shirt", "Bag", "Sandal"]);
  assert.deepEqual(t.y, ["T-shirt", "Bag", "Sandal"]);
  assert.deepEqual(t.text, [["2", "1", "0"], ["1", "1", "0"], ["1", "2", "0"]]);
  const scale = t.colorscale as [number, string][];
  assert.equal(t.zmin, 0);
  assert.deepEqual([scale[0][0], scale[0][1], scale[scale.length - 1][0]], [0, "#f7fbff", 1], "zero is (nearly) white, so empty cells recede");
  const layout = fig.layout!;
  assert.equal((layout.yaxis as { autorange: string }).autorange, "reversed", "row 0 at the top, like the printed matrix");
  assert.equal(((layout.xaxis as { title: { text: string } }).title).text, "predicted class");
  assert.equal(((layout.yaxis as { title: { text: string } }).title).text, "true class");
});

test("confusionHeatmap normalize colours by share of the true class and keeps the counts in the text", () => {
  const fig = confusionHeatmap(matrix, undefined, { normalize: true, show: false });
  const z = fig.data[0].z as number[][];
  assert.deepEqual(z[1], [0.5, 0.5, 0]);
  assert.deepEqual(z[0].map((v) => +v.toFixed(4)), [0.6667, 0.3333, 0]);
  assert.equal((fig.data[0].text as string[][])[0][0], "2<br>67%");
  assert.deepEqual(fig.data[0].x, ["0", "1", "2"], "class indices when no names are given");
  assert.equal(fig.data[0].zmax, 1);
});

test("confusionHeatmap explains bad input", () => {
  assert.throws(() => confusionHeatmap([[1, 2]], undefined, { show: false }), /square confusion matrix/);
  assert.throws(() => confusionHeatmap(matrix, ["a", "b"], { show: false }), /3 classes in the matrix but 2 class names/);
  assert.throws(() => confusionHeatmap(matrix, ["a", "a", "b"], { show: false }), /must be different/);
});

// Four 2x2 grey images from a uint8 split: image i has every pixel 50 * i.
const split = { images: Uint8Array.from({ length: 16 }, (_, k) => 50 * Math.floor(k / 4)), labels: Int32Array.from([0, 1, 2, 1]),
  count: 4, height: 2, width: 2, channels: 1 };
const names = ["T-shirt", "Bag", "Sandal"];

function pixel(source: unknown): number {
  const m = /^data:image\/png;base64,(.+)$/.exec(source as string);
  assert.ok(m, "a PNG data URI");
  return PNG.sync.read(Buffer.from(m[1], "base64")).data[0];
}

test("predictionGrid titles each image with predicted and true class and marks the wrong ones in red", () => {
  const fig = predictionGrid(split, [0, 2, 2, 1], split.labels, names, { show: false });
  assert.equal(fig.data.length, 4);
  assert.deepEqual(fig.data.map((t) => pixel(t.source)), [0, 50, 100, 150], "images in order, taken from the split");
  const ann = fig.layout!.annotations as { text: string; font: { color?: string } }[];
  assert.deepEqual(ann.map((a) => a.text), ["T-shirt (T-shirt)", "✗ Sandal (true: Bag)", "Sandal (Sandal)", "Bag (Bag)"]);
  assert.equal(ann[1].font.color, "#d62728");
  assert.equal(ann[0].font.color, undefined);
  const shapes = fig.layout!.shapes as { xref: string; x1: number; y1: number }[];
  assert.equal(shapes.length, 1, "one frame, around the one mistake");
  assert.deepEqual([shapes[0].xref, shapes[0].x1, shapes[0].y1], ["x2", 1.5, 1.5]);
  assert.match((fig.layout!.title as { text: string }).text, /1 of 4 wrong/);
});

test("predictionGrid can show only the mistakes, at most max of them, from nested-array images too", () => {
  const images = [0, 1, 2, 3].map((i) => [[i / 4, i / 4], [i / 4, i / 4]]);
  const fig = predictionGrid(images, [1, 0, 0, 0], [0, 1, 2, 0], names, { onlyWrong: true, max: 2, show: false });
  const ann = fig.layout!.annotations as { text: string }[];
  assert.deepEqual(ann.map((a) => a.text), ["✗ Bag (true: T-shirt)", "✗ T-shirt (true: Bag)"]);
  assert.equal((fig.layout!.shapes as object[]).length, 2);
  assert.throws(() => predictionGrid(images, [0], [0, 1], names, { show: false }), /1 predictions but 2 labels/);
  assert.throws(() => predictionGrid(images.slice(0, 1), [0, 1], [0, 1], names, { show: false }), /2 labels but only 1 images/);
  assert.throws(() => predictionGrid(images, [0, 5], [0, 1], names, { show: false }), /class 5 has no name/);
  assert.throws(() => predictionGrid(images, [0, 1], [0, 1], names, { onlyWrong: true, show: false }), /no wrong predictions/);
});

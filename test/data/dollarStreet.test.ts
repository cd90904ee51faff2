import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const CACHE = fs.mkdtempSync(path.join(os.tmpdir(), "lessons-data-ds-"));
process.env.LESSONS_DATA_DIR = CACHE;

import { DOLLAR_STREET_CLASS_NAMES, loadDollarStreet, STANDIN_MESSAGE } from "../../lib/data/dollarStreet";
import { generateStandInSplit, writeDollarStreetStandIn } from "../../lib/data/dollarStreetGenerator";
import { classCounts, imagesToTensor, scaleTo01 } from "../../lib/data/images";
import { readNpyFile } from "../../lib/data/npy";
import * as tf from "@tensorflow/tfjs";

after(() => fs.rmSync(CACHE, { recursive: true, force: true }));

/** Run `fn` while capturing console.warn. */
async function captureWarnings<T>(fn: () => Promise<T>): Promise<{ result: T; warnings: string }> {
  const original = console.warn;
  const lines: string[] = [];
  console.warn = (...args: unknown[]) => void lines.push(args.join(" "));
  try {
    return { result: await fn(), warnings: lines.join("\n") };
  } finally {
    console.warn = original;
  }
}

test("the stand-in files have the real dataset's names, dtypes, shapes and ranges", () => {
  const dir = path.join(CACHE, "standin-format");
  writeDollarStreetStandIn(dir, { seed: 5 });
  const trainImages = readNpyFile(path.join(dir, "train_images.npy"));
  assert.equal(trainImages.dtype, "<i4");
  assert.deepEqual(trainImages.shape, [878, 64, 64, 3]);
  const trainLabels = readNpyFile(path.join(dir, "train_labels.npy"));
  assert.equal(trainLabels.dtype, "<i8");
  assert.deepEqual(trainLabels.shape, [878]);
  const testImages = readNpyFile(path.join(dir, "test_images.npy"));
  assert.deepEqual(testImages.shape.slice(1), [64, 64, 3]);
  assert.deepEqual(readNpyFile(path.join(dir, "test_labels.npy")).shape, [testImages.shape[0]]);
  let min = Infinity, max = -Infinity;
  for (const v of trainImages.data as Int32Array) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  assert.equal(min, 0);
  assert.equal(max, 255);
  const labels = [...(trainLabels.data as BigInt64Array)].map(Number);
  assert.deepEqual([...new Set(labels)].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test("the stand-in is deterministic from its seed, and images of a class vary", () => {
  const a = generateStandInSplit(30, 11);
  const b = generateStandInSplit(30, 11);
  const c = generateStandInSplit(30, 12);
  assert.deepEqual(a.images, b.images);
  assert.deepEqual(a.labels, b.labels);
  assert.notDeepEqual(a.images, c.images);
  // Two images of the same class differ a lot (position, scale, colour, background).
  const size = 64 * 64 * 3;
  const [i, j] = [...a.labels.keys()].filter((k) => a.labels[k] === a.labels[0]).slice(0, 2);
  let diff = 0;
  for (let p = 0; p < size; p++) diff += Math.abs(a.images[i * size + p] - a.images[j * size + p]);
  assert.ok(diff / size > 30, `mean difference ${diff / size} between two images of one class`);
});

test("offline, loadDollarStreet generates the stand-in and says so loudly", async () => {
  const { result: ds, warnings } = await captureWarnings(() => loadDollarStreet({ offline: true, mirror: null, verbose: false }));
  assert.equal(ds.source, "generated");
  assert.ok(warnings.includes(STANDIN_MESSAGE), warnings);
  assert.equal(ds.note, STANDIN_MESSAGE);
  assert.ok(ds.folder.endsWith("dollar-street-generated"), ds.folder);
  assert.equal(fs.existsSync(path.join(CACHE, "dollar-street", "train_images.npy")), false, "never written where the real files go");
  assert.deepEqual(ds.classNames, DOLLAR_STREET_CLASS_NAMES);
  assert.equal(ds.train.count, 878);
  assert.ok(ds.train.images instanceof Uint8Array);
  assert.equal(ds.train.labels.length, 878);

  // Lesson-visible steps: pixels as a float tensor 0..255, then scaled to 0..1.
  const x = imagesToTensor(ds.test, { end: 4 });
  assert.deepEqual(x.shape, [4, 64, 64, 3]);
  const scaled = scaleTo01(x);
  assert.ok(scaled.max().dataSync()[0] <= 1 && x.max().dataSync()[0] > 1);
  tf.dispose([x, scaled]);

  await assert.rejects(loadDollarStreet({ offline: true, mirror: null, verbose: false, allowGenerated: false }), /zenodo\.org\/records\/10970014/);
});

test("files in a mirror are verified and loaded as the real dataset, with subsets", async () => {
  const mirror = fs.mkdtempSync(path.join(os.tmpdir(), "lessons-ds-mirror-"));
  // Files in the real format (the stand-in generator writes exactly that format).
  writeDollarStreetStandIn(path.join(mirror, "dollar-street"), { seed: 99, testCount: 40 });
  const { result: ds, warnings } = await captureWarnings(() => loadDollarStreet({ mirror, offline: true, verbose: false }));
  assert.equal(ds.source, "real");
  assert.equal(warnings, "");
  assert.equal(ds.test.count, 40);
  const sub = await loadDollarStreet({ mirror, offline: true, verbose: false, trainCount: 100, subset: "stratified", seed: 1 });
  assert.equal(sub.train.count, 100);
  assert.ok(classCounts(sub.train, 10).every((n) => n === 10), `${classCounts(sub.train, 10)}`);

  // A broken real file is reported, not silently replaced by the stand-in.
  fs.rmSync(path.join(CACHE, "dollar-street"), { recursive: true });
  const cut = path.join(mirror, "dollar-street", "test_labels.npy");
  fs.writeFileSync(cut, fs.readFileSync(cut).subarray(0, 150));
  await assert.rejects(loadDollarStreet({ mirror, offline: true, verbose: false }), /test_labels\.npy.*truncated/);
  fs.rmSync(mirror, { recursive: true, force: true });
});

import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const CACHE = fs.mkdtempSync(path.join(os.tmpdir(), "lessons-data-cifar-"));
process.env.LESSONS_DATA_DIR = CACHE;

import * as jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { projectRoot } from "../../lib/paths";
import { CIFAR10_CLASS_NAMES, loadCifar10, loadCifar10Labels, parseCifarBinary, selectCifar10 } from "../../lib/data/cifar10";
import { DatasetUnavailableError } from "../../lib/data/cache";
import { classCounts, stratifiedIndices } from "../../lib/data/images";
import { loadImageFolder } from "../../lib/data/imageFolder";
import { readManifest } from "../../lib/data/cache";

after(() => fs.rmSync(CACHE, { recursive: true, force: true }));

const MIRROR = process.env.LESSONS_DATA_MIRROR || path.resolve(projectRoot(), "..", "shared", "data");
const HAVE_MIRROR = fs.existsSync(path.join(MIRROR, "cifar10", "cifar10-train-jpg.tar.gz"));

test("CIFAR-10 from the mirror: real JPEG images in the official order", { skip: !HAVE_MIRROR && `no mirror at ${MIRROR}` }, async () => {
  const ds = await loadCifar10({ mirror: MIRROR, trainCount: 1000, testCount: 300, verbose: false });
  assert.equal(ds.source, "jpeg-mirror");
  assert.deepEqual(ds.classNames, CIFAR10_CLASS_NAMES);
  for (const [split, n] of [[ds.train, 1000], [ds.test, 300]] as const) {
    assert.equal(split.count, n);
    assert.deepEqual([split.height, split.width, split.channels], [32, 32, 3]);
    assert.ok(split.images instanceof Uint8Array);
    assert.equal(split.images.length, n * 32 * 32 * 3);
    assert.ok(split.labels instanceof Int32Array);
    let min = 255, max = 0, sum = 0;
    for (const v of split.images) {
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
    }
    assert.ok(min <= 5 && max >= 250, `pixel range ${min}..${max} should span nearly 0..255`);
    const mean = sum / split.images.length;
    assert.ok(mean > 90 && mean < 150, `mean pixel ${mean} is typical of natural photos`);
  }
  // The official test_batch starts with labels 3, 8, 8, 0, 6, 6, 1, 6, 3, 1 (cat, ship, ship, airplane, frog, ...).
  assert.deepEqual([...ds.test.labels.subarray(0, 10)], [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]);
  // The first 1000 training labels come from data_batch_1: all classes, none dominant.
  const counts = classCounts(ds.train, 10);
  assert.equal(counts.reduce((a, b) => a + b, 0), 1000);
  assert.ok(counts.every((c) => c > 60 && c < 140), `class counts ${counts}`);
  // The archives were verified against the published sha256 and recorded in the manifest.
  assert.equal(readManifest("cifar10")["cifar10-train-jpg.tar.gz"].sha256, "0ba96c9e2a2dacec1f70128e40d029afacc0ebeaeb0406a1acd159920de86d2a");

  // A stratified subset keeps the classes balanced (the full training set has 5000 per class).
  const strat = await loadCifar10({ mirror: MIRROR, trainCount: 200, testCount: 10, subset: "stratified", seed: 7, verbose: false });
  assert.deepEqual(classCounts(strat.train, 10), new Array(10).fill(20));
  // Whichever way an image is picked, it is the same image: compare the stratified picks that fall in the first
  // 1000 with the file-order load.
  const order = JSON.parse(fs.readFileSync(path.join(MIRROR, "cifar10", "cifar10-labels-official-order.json"), "utf8"));
  const allTrain = Int32Array.from(["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"].flatMap((b) => order[b]));
  const picked = stratifiedIndices(allTrain, 200, 7);
  let compared = 0;
  picked.forEach((idx, k) => {
    if (idx >= 1000) return;
    compared++;
    assert.equal(strat.train.labels[k], ds.train.labels[idx]);
    assert.deepEqual(strat.train.images.subarray(k * 3072, (k + 1) * 3072), ds.train.images.subarray(idx * 3072, (idx + 1) * 3072));
  });
  assert.ok(compared > 0, "some stratified picks fall in the first 1000");

  // All labels without pixels: 5,000 and 1,000 per class, in the same order as the images.
  const labels = await loadCifar10Labels({ mirror: MIRROR, verbose: false });
  assert.deepEqual(classCounts({ ...ds.train, labels: labels.train }, 10), new Array(10).fill(5000));
  assert.deepEqual(classCounts({ ...ds.test, labels: labels.test }, 10), new Array(10).fill(1000));
  assert.deepEqual(labels.train.subarray(0, 1000), ds.train.labels);
  assert.deepEqual([...labels.train.subarray(0, 10)], [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]);
});

test("CIFAR-10 decoded once: the pixels are cached and later loads read them (a held-out validation split too)", { skip: !HAVE_MIRROR && `no mirror at ${MIRROR}` }, async () => {
  const small = await loadCifar10({ mirror: MIRROR, trainCount: 50, testCount: 20, verbose: false }); // decodes just these
  const pick = { mirror: MIRROR, trainCount: 40, validationCount: 20, testCount: 15, subset: "stratified" as const, seed: 9, verbose: false };
  const pickedDirectly = await loadCifar10(pick);
  const cacheFile = path.join(CACHE, "cifar10", "decoded-jpeg-pixels.u8");
  assert.ok(!fs.existsSync(cacheFile), "a small pick does not decode everything");

  const full = await loadCifar10({ mirror: MIRROR, cacheDecoded: true, trainCount: 50, testCount: 20, verbose: false });
  assert.equal(fs.statSync(cacheFile).size, 60000 * 3072);
  assert.deepEqual(full.train.images, small.train.images, "cached pixels equal a direct decode");
  assert.deepEqual(full.test.images, small.test.images);
  assert.ok(!fs.readdirSync(path.join(CACHE, "cifar10")).some((f) => f.includes(".partial")), "no temporary files left");
  const pickedFromCache = await loadCifar10(pick); // scattered images read from the cache file
  for (const part of ["train", "validation", "test"] as const) {
    assert.deepEqual(pickedFromCache[part]!.images, pickedDirectly[part]!.images, `${part}: same pixels from the cache`);
    assert.deepEqual(pickedFromCache[part]!.labels, pickedDirectly[part]!.labels);
  }

  // Later loads read the cache: a byte changed in the file shows up in the result.
  const fd = fs.openSync(cacheFile, "r+");
  fs.writeSync(fd, Buffer.from([small.train.images[0] ^ 0xff]), 0, 1, 0);
  fs.closeSync(fd);
  const cached = await loadCifar10({ mirror: MIRROR, trainCount: 50, testCount: 20, verbose: false });
  assert.equal(cached.train.images[0], small.train.images[0] ^ 0xff);

  // A cache of the wrong size is ignored: the images are decoded again.
  fs.truncateSync(cacheFile, 1000);
  const again = await loadCifar10({ mirror: MIRROR, trainCount: 50, testCount: 20, verbose: false });
  assert.deepEqual(again.train.images, small.train.images);

  // validationCount holds images out of training: stratified, seeded, disjoint from the training pick.
  const ds = await loadCifar10({ mirror: MIRROR, trainCount: 300, validationCount: 100, testCount: 10, subset: "stratified", seed: 5, verbose: false });
  assert.equal(ds.validation?.count, 100);
  assert.deepEqual(classCounts(ds.validation!, 10), new Array(10).fill(10));
  assert.deepEqual(classCounts(ds.train, 10), new Array(10).fill(30));
});

test("selectCifar10 keeps validation and training apart and checks the counts", () => {
  const labels = Int32Array.from({ length: 1000 }, (_, i) => i % 10);
  const test = Int32Array.from({ length: 200 }, (_, i) => i % 10);
  const sel = selectCifar10(labels, test, { trainCount: 500, validationCount: 200, subset: "stratified", seed: 3 });
  assert.equal(sel.train.length, 500);
  assert.equal(sel.validation.length, 200);
  assert.equal(new Set([...sel.train, ...sel.validation]).size, 700, "no image in both");
  assert.deepEqual(selectCifar10(labels, test, { trainCount: 500, validationCount: 200, subset: "stratified", seed: 3 }), sel, "same seed, same pick");
  assert.notDeepEqual(selectCifar10(labels, test, { trainCount: 500, validationCount: 200, subset: "stratified", seed: 4 }).train, sel.train);
  // Without a train count, training gets every image not held out.
  assert.equal(selectCifar10(labels, test, { validationCount: 100 }).train.length, 900);
  assert.throws(() => selectCifar10(labels, test, { trainCount: 950, validationCount: 100 }), /trainCount must be a whole number from 0 to 900/);
  assert.throws(() => selectCifar10(labels, test, { testCount: 2.5 }), /testCount/);
});

test("without any copy of CIFAR-10 the error names both mirror forms and which files are missing", async () => {
  const mirror = fs.mkdtempSync(path.join(os.tmpdir(), "lessons-empty-mirror-"));
  fs.mkdirSync(path.join(mirror, "cifar10"));
  fs.writeFileSync(path.join(mirror, "cifar10", "cifar10-labels-official-order.json"), "{}");
  process.env.LESSONS_DATA_DIR = path.join(mirror, "empty-cache"); // nothing cached either
  try {
    await assert.rejects(loadCifar10({ mirror, offline: true, verbose: false }), (e: Error) => {
      assert.ok(e instanceof DatasetUnavailableError);
      assert.match(e.message, /npm run data -- cifar10/);
      assert.match(e.message, /official binary archive: <mirror>\/cifar10\/cifar-10-binary\.tar\.gz \(missing\)/);
      assert.match(e.message, /JPEG archives, all three files: <mirror>\/cifar10\/cifar10-train-jpg\.tar\.gz \(missing\)/);
      assert.match(e.message, /cifar10-labels-official-order\.json \(found\)/);
      assert.match(e.message, /offline mode/);
      return true;
    });
  } finally {
    process.env.LESSONS_DATA_DIR = CACHE;
    fs.rmSync(mirror, { recursive: true, force: true });
  }
});

test("CIFAR-10 binary records are converted from planar RGB to NHWC", () => {
  const rec = new Uint8Array(2 * 3073);
  rec[0] = 7; // label
  rec[1 + 0] = 10; // R of pixel 0
  rec[1 + 1024] = 20; // G of pixel 0
  rec[1 + 2048] = 30; // B of pixel 0
  rec[1 + 1023] = 99; // R of the last pixel
  rec[3073] = 2;
  rec[3073 + 1 + 2048 + 5] = 77; // B of pixel 5 in record 2
  const split = parseCifarBinary(rec, "two.bin");
  assert.equal(split.count, 2);
  assert.deepEqual([...split.labels], [7, 2]);
  assert.deepEqual([...split.images.subarray(0, 3)], [10, 20, 30]);
  assert.equal(split.images[1023 * 3], 99);
  assert.equal(split.images[3072 + 5 * 3 + 2], 77);
  assert.throws(() => parseCifarBinary(rec.subarray(0, 5000), "cut.bin"), /cut\.bin.*not a whole number/);
  const badLabel = rec.slice();
  badLabel[0] = 12;
  assert.throws(() => parseCifarBinary(badLabel, "bad.bin"), /label 12/);
});

test("an image folder (one subfolder per class) loads with resize, seeded shuffle and validation split", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lessons-imgfolder-"));
  const colours: Record<string, [number, number, number]> = { blue: [0, 0, 255], red: [255, 0, 0] };
  for (const [cls, rgb] of Object.entries(colours)) {
    fs.mkdirSync(path.join(dir, cls));
    for (let i = 0; i < 5; i++) {
      const w = 8 + i, h = 6 + i; // differing sizes: only loadable with resize
      const rgba = Buffer.alloc(w * h * 4);
      for (let p = 0; p < w * h; p++) rgba.set([...rgb, 255], p * 4);
      if (i % 2 === 0) {
        const png = new PNG({ width: w, height: h });
        rgba.copy(png.data);
        fs.writeFileSync(path.join(dir, cls, `${i}.png`), PNG.sync.write(png));
      } else {
        fs.writeFileSync(path.join(dir, cls, `${i}.jpg`), jpeg.encode({ data: rgba, width: w, height: h }, 95).data);
      }
    }
  }
  fs.writeFileSync(path.join(dir, "red", "notes.txt"), "ignored");
  assert.throws(() => loadImageFolder(dir), /pass size/);
  const ds = loadImageFolder(dir, { size: [4, 4], validationSplit: 0.2, seed: 3 });
  assert.deepEqual(ds.classNames, ["blue", "red"]);
  assert.equal(ds.train.count, 8);
  assert.equal(ds.validation?.count, 2);
  assert.deepEqual([ds.train.height, ds.train.width, ds.train.channels], [4, 4, 3]);
  for (const split of [ds.train, ds.validation!]) {
    for (let i = 0; i < split.count; i++) {
      const px = split.images.subarray(i * 48, i * 48 + 3);
      const expected = colours[ds.classNames[split.labels[i]]];
      assert.ok(px.every((v, c) => Math.abs(v - expected[c]) <= 8), `image ${i} pixel ${[...px]} matches its class colour ${expected}`);
    }
  }
  const again = loadImageFolder(dir, { size: [4, 4], validationSplit: 0.2, seed: 3 });
  assert.deepEqual(again.files, ds.files, "same seed, same order");
  const other = loadImageFolder(dir, { size: [4, 4], validationSplit: 0.2, seed: 4 });
  assert.notDeepEqual(other.files.train, ds.files.train, "another seed shuffles differently");
  fs.rmSync(dir, { recursive: true, force: true });
});

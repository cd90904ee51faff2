import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const CACHE = fs.mkdtempSync(path.join(os.tmpdir(), "lessons-data-fmnist-"));
process.env.LESSONS_DATA_DIR = CACHE;

import { FASHION_MNIST_CLASS_NAMES, loadFashionMnist, parseIdx } from "../../lib/data/fashionMnist";
import { classCounts } from "../../lib/data/images";
import { readManifest } from "../../lib/data/cache";

after(() => fs.rmSync(CACHE, { recursive: true, force: true }));

const DEBIAN = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";

test("Fashion-MNIST from the Debian package: 60000 + 10000 images of 28x28, 10 balanced classes", { skip: !fs.existsSync(DEBIAN) && "dataset-fashion-mnist is not installed" }, async () => {
  const ds = await loadFashionMnist({ offline: true, mirror: null, verbose: false });
  assert.deepEqual(ds.classNames, FASHION_MNIST_CLASS_NAMES);
  assert.equal(ds.classNames[9], "Ankle boot");
  assert.equal(ds.train.count, 60000);
  assert.equal(ds.test.count, 10000);
  assert.deepEqual([ds.train.height, ds.train.width, ds.train.channels], [28, 28, 1]);
  assert.equal(ds.train.images.length, 60000 * 784);
  assert.deepEqual(classCounts(ds.train, 10), new Array(10).fill(6000));
  assert.deepEqual(classCounts(ds.test, 10), new Array(10).fill(1000));
  let max = 0;
  for (const v of ds.test.images) if (v > max) max = v;
  assert.equal(max, 255);
  // Dark background: the corner pixel of most images is 0.
  let zeroCorners = 0;
  for (let i = 0; i < ds.test.count; i++) if (ds.test.images[i * 784] === 0) zeroCorners++;
  assert.ok(zeroCorners > 9000, `${zeroCorners} of 10000 corners are background`);
  const entry = readManifest("fashion-mnist")["train-images-idx3-ubyte.gz"];
  assert.equal(entry.source, DEBIAN);
  assert.equal(entry.verifiedBy, "structure");
  assert.match(entry.sha256, /^[0-9a-f]{64}$/);

  const small = await loadFashionMnist({ offline: true, mirror: null, verbose: false, trainCount: 100, testCount: 50, subset: "stratified" });
  assert.deepEqual(classCounts(small.train, 10), new Array(10).fill(10));
  assert.equal(small.test.count, 50);
});

test("IDX parsing rejects bad magic and truncated data", () => {
  const good = Buffer.from([0, 0, 8, 1, 0, 0, 0, 3, 4, 5, 6]);
  assert.deepEqual([...parseIdx(good, "ok.idx").data], [4, 5, 6]);
  assert.throws(() => parseIdx(good.subarray(0, 10), "cut.idx"), /cut\.idx.*truncated/);
  assert.throws(() => parseIdx(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), "junk.idx"), /junk\.idx.*bad magic/);
});

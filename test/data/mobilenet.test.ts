import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const CACHE = fs.mkdtempSync(path.join(os.tmpdir(), "lessons-data-mobilenet-"));
process.env.LESSONS_DATA_DIR = CACHE;

import * as tf from "@tensorflow/tfjs";
import { projectRoot } from "../../lib/paths";
import { checkWeightPath, loadMobileNet, MOBILENET_FEATURE_LAYER, readModelJson } from "../../lib/data/mobilenet";
import { readImageFile } from "../../lib/data/imageFolder";

const MIRROR = process.env.LESSONS_DATA_MIRROR || path.resolve(projectRoot(), "..", "shared", "data");
const HAVE_MIRROR = fs.existsSync(path.join(MIRROR, "mobilenet_v1_0.25_224", "model.json"));
// Sample photos shipped by Debian's python3-skimage (`dpkg -L python3-skimage`).
const SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data";
const HAVE_PHOTOS = fs.existsSync(path.join(SKIMAGE, "chelsea.png"));

before(async () => {
  await tf.setBackend("cpu");
});
after(() => fs.rmSync(CACHE, { recursive: true, force: true }));

test("real MobileNet weights classify real photos sensibly", { skip: (!HAVE_MIRROR && `no mirror at ${MIRROR}`) || (!HAVE_PHOTOS && "python3-skimage photos not installed") }, async () => {
  const net = await loadMobileNet({ mirror: MIRROR, verbose: false });
  assert.equal(net.model.name, "mobilenet_0.25_224");
  assert.equal(net.model.countParams(), 475544);
  assert.equal(net.classNames.length, 1000);

  const cat = await net.classify(readImageFile(path.join(SKIMAGE, "chelsea.png")), 5);
  assert.equal(cat.length, 5);
  const catClasses = ["tabby, tabby cat", "Egyptian cat", "tiger cat"];
  assert.ok(catClasses.includes(cat[0].className), `top class for the cat photo: ${cat[0].className}`);
  const catMass = cat.filter((p) => catClasses.includes(p.className)).reduce((s, p) => s + p.probability, 0);
  assert.ok(catMass > 0.7, `cat classes hold ${catMass} of the probability`);

  const coffee = await net.classify(readImageFile(path.join(SKIMAGE, "coffee.png")), 3);
  assert.equal(coffee[0].className, "espresso");
  assert.ok(coffee[0].probability > 0.5);
  assert.ok(coffee[0].probability >= coffee[1].probability && coffee[1].probability >= coffee[2].probability);
});

test("the input size can be changed and the network cut for 256 features", { skip: !HAVE_MIRROR && `no mirror at ${MIRROR}` }, async () => {
  const net = await loadMobileNet({ mirror: MIRROR, inputSize: 96, verbose: false });
  assert.deepEqual(net.model.inputs[0].shape, [null, 96, 96, 3]);
  const features = net.featureExtractor();
  assert.equal(features.layers[features.layers.length - 1].name, MOBILENET_FEATURE_LAYER);
  const x = tf.randomUniform([2, 50, 70, 3], 0, 255);
  const input = net.preprocess(x as tf.Tensor4D);
  assert.deepEqual(input.shape, [2, 96, 96, 3]);
  const [lo, hi] = [input.min().dataSync()[0], input.max().dataSync()[0]];
  assert.ok(lo >= -1 && hi <= 1, `preprocessed range ${lo}..${hi} within [-1, 1]`);
  const out = features.predict(input) as tf.Tensor;
  assert.deepEqual(out.shape, [2, 256]);
  tf.dispose([x, input, out]);
});

test("a model.json whose weights point outside its folder is refused", () => {
  for (const bad of ["../secret.bin", "/etc/passwd", "sub/../../x", "https://evil.example/w.bin", "file:///etc/passwd"]) {
    assert.throws(() => checkWeightPath(bad, "model.json"), /outside its folder/, bad);
  }
  checkWeightPath("group1-shard1of1");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lessons-modeljson-"));
  const file = path.join(dir, "model.json");
  fs.writeFileSync(file, JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ["../../outside.bin"], weights: [] }] }));
  assert.throws(() => readModelJson(file), (e: Error) => e.message.includes(file) && e.message.includes("../../outside.bin"));
  fs.rmSync(dir, { recursive: true, force: true });
});

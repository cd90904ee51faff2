import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { loadModel, saveModel } from "../../lib/model-io";
import { dropoutModel } from "../../lib/models";
import { compileForClassification, train } from "../../lib/train";
import { toyData, toyModel } from "./toy";

before(async () => {
  await tf.setBackend("cpu");
});

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "model-io-test-"));
}

function predictions(model: tf.LayersModel, x: tf.Tensor): number[] {
  return tf.tidy(() => Array.from((model.predict(x) as tf.Tensor).dataSync()));
}

test("save then load gives a model with identical predictions (dropout model included)", async () => {
  const dir = path.join(tmpDir(), "dropout");
  const model = dropoutModel({ inputShape: [32, 32, 3], dropoutRate: 0.5, seed: 3 });
  const x = tf.randomUniform([2, 32, 32, 3], 0, 1, "float32", 4);
  await saveModel(model, dir);
  assert.deepEqual(fs.readdirSync(dir).sort(), ["model.json", "weights.bin"]);
  const json = JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8"));
  assert.equal(json.format, "layers-model");
  assert.deepEqual(json.weightsManifest[0].paths, ["weights.bin"]);
  assert.equal(fs.statSync(path.join(dir, "weights.bin")).size, model.countParams() * 4);
  const loaded = await loadModel(dir);
  assert.deepEqual(predictions(loaded, x), predictions(model, x));
  assert.equal(loaded.countParams(), model.countParams());
  assert.deepEqual(loaded.layers.map((l) => l.name), model.layers.map((l) => l.name));
  // No temporary folders are left behind next to the model.
  assert.deepEqual(fs.readdirSync(path.dirname(dir)), ["dropout"]);
  model.dispose();
  loaded.dispose();
});

test("a trained, compiled model saves, overwrites an older save, loads and trains again after compiling", async () => {
  const dir = path.join(tmpDir(), "toy");
  const data = toyData(24, 1);
  const model = compileForClassification(toyModel());
  await saveModel(model, dir); // an older version, to be replaced
  await train(model, data, { epochs: 1, batchSize: 8, verbose: 0 });
  await saveModel(model, dir);
  const plain = await loadModel(dir);
  assert.deepEqual(predictions(plain, data.x), predictions(model, data.x));
  await assert.rejects(train(plain, data, { epochs: 1, verbose: 0 }), /compileForClassification/);
  const compiled = await loadModel(dir, { compile: true });
  const h = await train(compiled, data, { epochs: 1, batchSize: 8, verbose: 0 });
  assert.equal(h.history.loss.length, 1);
  for (const m of [model, plain, compiled]) m.dispose();
});

test("loadModel refuses weight paths outside the folder and explains a missing model", async () => {
  const root = tmpDir();
  const dir = path.join(root, "evil");
  const model = toyModel();
  await saveModel(model, dir);
  fs.copyFileSync(path.join(dir, "weights.bin"), path.join(root, "outside.bin"));
  const jsonPath = path.join(dir, "model.json");
  const json = JSON.parse(fs.readFileSync(jsonPath, "utf8"));
  json.weightsManifest[0].paths = ["../outside.bin"];
  fs.writeFileSync(jsonPath, JSON.stringify(json));
  await assert.rejects(loadModel(dir), /must lie inside/);
  json.weightsManifest[0].paths = [path.join(root, "outside.bin")];
  fs.writeFileSync(jsonPath, JSON.stringify(json));
  await assert.rejects(loadModel(dir), /must lie inside/);
  await assert.rejects(loadModel(path.join(root, "nothing-here")), /No model.json/);
  model.dispose();
});

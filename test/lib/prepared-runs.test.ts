import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { earlyStopping } from "../../lib/callbacks";
import { imageAugmenter } from "../../lib/augment";
import { scaledImages } from "../../lib/data/scaled-images";
import { dropout } from "../../lib/layers";
import { preparedRunKey, replayBanner, trainOrReplay } from "../../lib/prepared-runs";
import { withSeed } from "../../lib/seed";
import { compileForClassification, type TrainOptions } from "../../lib/train";

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), "lessons-prepared-"));
after(() => fs.rmSync(DIR, { recursive: true, force: true }));

function build(seed = 1, units = 2, learningRate = 0.001): tf.LayersModel {
  return compileForClassification(withSeed(seed, () => tf.sequential({ name: "tiny", layers: [
    tf.layers.conv2d({ inputShape: [4, 4, 3], filters: 2, kernelSize: 3, activation: "relu" }),
    tf.layers.batchNormalization(),
    tf.layers.flatten(),
    dropout({ rate: 0.2 }),
    tf.layers.dense({ units }),
  ] })), { learningRate });
}

const pixels = Uint8Array.from({ length: 24 * 48 }, (_, i) => (i * 37) % 256);
const split = { images: pixels, labels: Int32Array.from({ length: 24 }, (_, i) => i % 2), count: 24, height: 4, width: 4, channels: 3 };
const x = tf.tidy(() => tf.tensor4d(Float32Array.from(pixels, (v) => v / 255), [24, 4, 4, 3]));
const y = tf.tensor1d(split.labels, "int32");
const base: TrainOptions = { epochs: 2, batchSize: 8, verbose: 0 };

test("the key: the same model and settings match (whatever tfjs named the layers); any change misses", () => {
  const key = preparedRunKey(build(), { x, y }, base);
  assert.equal(preparedRunKey(build(), { x, y }, base), key, "rebuilt with new layer names, same key");
  assert.equal(preparedRunKey(build(), [x, y], { ...base, verbose: 1 }), key, "how progress is shown does not matter");
  const otherPixels = pixels.slice();
  otherPixels[100] ^= 1;
  const changed: [string, string][] = [
    ["epochs", preparedRunKey(build(), { x, y }, { ...base, epochs: 3 })],
    ["batch size", preparedRunKey(build(), { x, y }, { ...base, batchSize: 4 })],
    ["shuffling seed", preparedRunKey(build(), { x, y }, { ...base, seed: 7 })],
    ["validation split", preparedRunKey(build(), { x, y }, { ...base, validationSplit: 0.25 })],
    ["validation data", preparedRunKey(build(), { x, y }, { ...base, validationData: [x, y] })],
    ["one pixel", preparedRunKey(build(), { x: scaledImages({ ...split, images: otherPixels }), y }, base)],
    ["bytes instead of floats", preparedRunKey(build(), { x: scaledImages(split), y }, base)],
    ["labels", preparedRunKey(build(), { x, y: tf.tensor1d(Int32Array.from(split.labels, (l) => 1 - l), "int32") }, base)],
    ["model seed", preparedRunKey(build(2), { x, y }, base)],
    ["topology", preparedRunKey(build(1, 3), { x, y }, base)],
    ["learning rate", preparedRunKey(build(1, 2, 0.01), { x, y }, base)],
    ["callback", preparedRunKey(build(), { x, y }, { ...base, callbacks: [earlyStopping({ patience: 2 })] })],
    ["augmentation", preparedRunKey(build(), { x, y }, { ...base, augment: imageAugmenter({ horizontalFlip: true }) })],
  ];
  for (const [what, k] of changed) assert.notEqual(k, key, `changing the ${what} must change the key`);
  assert.notEqual(
    preparedRunKey(build(), { x, y }, { ...base, callbacks: [earlyStopping({ patience: 3 })] }),
    changed.find(([w]) => w === "callback")![1],
    "a callback's settings count, not only its class",
  );
  assert.equal(new Set(changed.map(([, k]) => k)).size, changed.length);
});

test("trainOrReplay trains and stores, then replays with a banner; force trains; another setting trains", async () => {
  let epochsTrained = 0;
  const counter = { onEpochEnd: async () => void epochsTrained++ };
  const lines: string[] = [];
  const run = { name: "tiny", dir: DIR, print: (l: string) => lines.push(l) };

  const first = build();
  const trained = await trainOrReplay(first, { x, y }, { ...base, callbacks: [counter] }, { ...run, save: true });
  assert.equal(epochsTrained, 2);
  assert.equal(trained.prepared, undefined);
  assert.match(lines.join("\n"), /Stored this run as prepared run "tiny"/);
  assert.equal(fs.readdirSync(DIR).filter((f) => f.startsWith(".")).length, 0, "no temporary folder left");

  lines.length = 0;
  const second = build();
  const replayed = await trainOrReplay(second, { x, y }, { ...base, callbacks: [counter] }, run);
  assert.equal(epochsTrained, 2, "nothing was trained");
  assert.deepEqual(replayed.history, trained.history);
  assert.equal(replayed.seconds, trained.seconds);
  assert.equal(replayed.prepared?.name, "tiny");
  for (const [a, b] of first.getWeights().map((w, i) => [w, second.getWeights()[i]])) {
    assert.deepEqual(b.arraySync(), a.arraySync(), "weights, batch norm statistics included, are the stored ones");
  }
  const text = lines.join("\n");
  assert.match(text, /PREPARED RUN "tiny": replayed, not trained now/);
  assert.match(text, /2 epochs on 24 images in \d+ s/);
  assert.match(text, /TRAIN_FRESH = true/);
  assert.match(text, /Epoch 2\/2 \(replayed\) - loss: \d\.\d{4} - accuracy/);

  lines.length = 0;
  await trainOrReplay(build(), { x, y }, { ...base, callbacks: [counter] }, { ...run, force: true });
  assert.equal(epochsTrained, 4, "force trains");
  assert.ok(!lines.some((l) => l.includes("PREPARED RUN")));

  process.env.LESSONS_REPLAY = "off";
  await trainOrReplay(build(), { x, y }, { ...base, callbacks: [counter] }, run);
  delete process.env.LESSONS_REPLAY;
  assert.equal(epochsTrained, 6, "LESSONS_REPLAY=off trains");

  await trainOrReplay(build(), { x, y }, { ...base, epochs: 1, callbacks: [counter] }, run);
  assert.equal(epochsTrained, 7, "another setting: no prepared run, so it trains");
});

test("a damaged prepared run is reported and ignored; bad names are refused", async () => {
  const dir = fs.mkdtempSync(path.join(DIR, "damaged-"));
  const run = { name: "tiny", dir, print: () => undefined };
  let epochs = 0;
  const opts = { ...base, callbacks: [{ onEpochEnd: async () => void epochs++ }] };
  await trainOrReplay(build(), { x, y }, opts, { ...run, save: true });
  const folder = fs.readdirSync(dir).find((f) => f.startsWith("tiny-"))!;
  fs.truncateSync(path.join(dir, folder, "weights.bin"), 10);
  const errors: string[] = [];
  const original = console.error;
  console.error = (m: string) => void errors.push(m);
  try {
    await trainOrReplay(build(), { x, y }, opts, run);
  } finally {
    console.error = original;
  }
  assert.equal(epochs, 4, "trained again instead");
  assert.match(errors.join("\n"), /Ignoring the prepared run .*weights\.bin has the wrong size/);
  await assert.rejects(trainOrReplay(build(), { x, y }, base, { name: "../up" }), /short name of letters, digits/);
});

test("the banner says what was replayed, from when and where, and how to train instead", () => {
  const lines = replayBanner(
    { name: "baseline", key: "k", createdAt: "2026-11-28T22:10:00.000Z", machine: "Test CPU, 8 cores", seconds: 3725,
      history: { epochs: [0, 1, 2], history: { loss: [1, 1, 1], accuracy: [0, 0, 0] }, seconds: 3725 } },
    50000,
  );
  const text = lines.join("\n");
  assert.match(text, /PREPARED RUN "baseline": replayed, not trained now/);
  assert.match(text, /2026-11-28 22:10 UTC on Test CPU, 8 cores/);
  assert.match(text, /3 epochs on 50,000 images in 1 h 2 min/);
  assert.match(text, /force: true/);
});

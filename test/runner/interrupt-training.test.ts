/**
 * A real tslab kernel: interrupting a training cell (SIGINT, what Jupyter's stop button sends) must stop the
 * training itself, not only end the cell; before, it went on printing epochs into the next cell.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { type CellRun, Kernel } from "../../scripts/runner/kernel-client";

const root = path.join(__dirname, "..", "..");

// The data and model in one cell, training in the next: a lesson's training cell calls train() in the cell's
// synchronous part, while tslab's vm breakOnSigint hides the kernel's SIGINT handler.
const BACKEND = `
import { setupBackend } from "./lib/backend";
await setupBackend({ quiet: true });
`;
const SETUP = `
import * as tf from "@tensorflow/tfjs";
import { compileForClassification, train } from "./lib/train";
const images = tf.randomUniform([256, 16, 16, 1]);
const labels = tf.randomUniform([256], 0, 2, "int32");
const model = compileForClassification(tf.sequential({ layers: [
  tf.layers.conv2d({ inputShape: [16, 16, 1], filters: 8, kernelSize: 3, activation: "relu" }),
  tf.layers.flatten(),
  tf.layers.dense({ units: 2 }),
]}));
`;
const TRAIN_FOR_LONG = `
await train(model, { x: images, y: labels }, { epochs: 100000, batchSize: 32, progress: "epoch" });
`;

const outputText = (run: CellRun) =>
  run.outputs.map((o) => (o.output_type === "stream" ? [o.text].flat().join("") : "")).join("") + run.stderr;

test("an interrupted training cell stops training: the next cell shows no more epochs", async () => {
  const kernel = await Kernel.start({ root, cwd: path.join(root, "notebooks") });
  try {
    for (const cell of [BACKEND, SETUP]) {
      const setup = await kernel.execute(cell, 60_000);
      assert.equal(setup.status, "ok", outputText(setup));
    }
    const training = await kernel.execute(TRAIN_FOR_LONG, 8_000);
    assert.equal(training.status, "timeout", `the runner interrupts the cell when its time is up: ${outputText(training).slice(-600)}`);
    assert.match(outputText(training), /Epoch +\d+\/100000/, "training had started");
    // tslab refuses requests for 200 ms after a cell fails (its queue reset); a person is never that quick.
    await new Promise((r) => setTimeout(r, 500));
    const next = await kernel.execute('await new Promise((r) => setTimeout(r, 3000)); console.log("next cell done");\n', 30_000);
    assert.equal(next.status, "ok", outputText(next));
    const text = outputText(next);
    assert.doesNotMatch(text, /Epoch/, `the interrupted training printed into the next cell:\n${text}`);
    assert.match(text, /next cell done/);
  } finally {
    await kernel.shutdown();
  }
});

/**
 * The stop button (SIGINT to the kernel) must stop lib's long loops, not only end the cell: tslab ends the cell, and
 * training used to go on in the background. Signals are emitted in-process (process.emit), never really sent.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { InterruptedError, interruptTicket } from "../../lib/interrupt";
import { compileForClassification, train } from "../../lib/train";
import { extractFeatures } from "../../lib/transfer";
import { toyData, toyModel } from "./toy";

after(() => process.removeAllListeners("SIGINT"));

test("with no SIGINT handler in the process (a plain script), lib adds none: Ctrl-C keeps ending the process", () => {
  assert.equal(process.listenerCount("SIGINT"), 0);
  interruptTicket("Training").check();
  assert.equal(process.listenerCount("SIGINT"), 0);
});

test("in a kernel (SIGINT already handled), an interrupt stops training at its next step; a later run trains", async () => {
  process.on("SIGINT", () => {}); // what tslab's kernel does: it handles SIGINT itself
  const { x, y } = toyData(64, 3);
  const model = compileForClassification(toyModel());
  const batchesRun: number[] = [];
  const stopAtBatch = {
    onBatchEnd: async (batch: number) => {
      batchesRun.push(batch);
      if (batch === 1) process.emit("SIGINT", "SIGINT");
    },
  };
  await assert.rejects(
    train(model, { x, y }, { epochs: 3, batchSize: 8, verbose: 0, callbacks: [stopAtBatch] }),
    (err: Error) => err instanceof InterruptedError && /Training stopped: the kernel was interrupted/.test(err.message),
  );
  assert.deepEqual(batchesRun, [0, 1], "no step after the interrupt");

  const again = await train(model, { x, y }, { epochs: 1, batchSize: 8, verbose: 0 });
  assert.equal(again.history.loss.length, 1, "the interrupt belongs to the run it stopped, not to the next cell");
  model.dispose();
  x.dispose();
  y.dispose();
});

test("an interrupt stops feature extraction at its next batch", async () => {
  const base = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [4, 4, 1] })] });
  const pixels = tf.ones([40, 4, 4, 1]) as tf.Tensor4D;
  const done: number[] = [];
  await assert.rejects(
    extractFeatures(base, pixels, {
      batchSize: 8, progress: "none",
      onBatch: (n) => {
        done.push(n);
        if (n === 16) process.emit("SIGINT", "SIGINT");
      },
    }),
    /Feature extraction stopped: the kernel was interrupted/,
  );
  assert.deepEqual(done, [8, 16]);
  base.dispose();
  pixels.dispose();
});

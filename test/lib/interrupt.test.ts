/**
 * The stop button (SIGINT to the kernel) must stop lib's long loops, not only end the cell: tslab ends the cell, and
 * training used to go on in the background. Signals are emitted in-process (process.emit), never really sent.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as vm from "node:vm";
import * as tf from "@tensorflow/tfjs";
import { InterruptedError, interruptTicket } from "../../lib/interrupt";
import { compileForClassification, train } from "../../lib/train";
import { extractFeatures } from "../../lib/transfer";
import { toyData, toyModel } from "./toy";

after(() => process.removeAllListeners("SIGINT"));

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

test("with no SIGINT handler in the process (a plain script), lib adds none: Ctrl-C keeps ending the process", async () => {
  assert.equal(process.listenerCount("SIGINT"), 0);
  interruptTicket("Training").check();
  await nextTurn();
  assert.equal(process.listenerCount("SIGINT"), 0);
});

test("started from a cell the way tslab runs it (vm breakOnSigint hides the kernel's handler), training still stops", async () => {
  process.on("SIGINT", () => {}); // tslab's kernel handler, hidden by breakOnSigint while the cell's sync part runs
  const { x, y } = toyData(64, 5);
  const model = compileForClassification(toyModel());
  const batchesRun: number[] = [];
  const interruptAtBatch1 = {
    onBatchEnd: async (batch: number) => {
      batchesRun.push(batch);
      if (batch === 1) {
        await nextTurn(); // a real signal is only handled on a turn of the event loop
        process.emit("SIGINT", "SIGINT");
      }
    },
  };
  const cell = { start: () => train(model, { x, y }, { epochs: 3, batchSize: 8, verbose: 0, callbacks: [interruptAtBatch1] }) };
  Object.assign(globalThis, { __cell: cell });
  const running = vm.runInThisContext("__cell.start()", { breakOnSigint: true }) as Promise<unknown>;
  await assert.rejects(running, InterruptedError);
  assert.deepEqual(batchesRun, [0, 1]);
  model.dispose();
  x.dispose();
  y.dispose();
});

test("in a kernel (SIGINT already handled), an interrupt stops training at its next step; a later run trains", async () => {
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

test("onInterrupt runs inside the signal's handler, once, and not after close(); interrupted tells without throwing", () => {
  const calls: string[] = [];
  const watched = interruptTicket("Search", {
    onInterrupt: () => {
      calls.push("watched");
      throw new Error("a watcher's mistake"); // must not reach the kernel's handler nor stop the others
    },
  });
  const closed = interruptTicket("Other", { onInterrupt: () => calls.push("closed") });
  const plain = interruptTicket("Plain");
  closed.close();
  assert.equal(watched.interrupted, false);
  process.emit("SIGINT", "SIGINT");
  assert.deepEqual(calls, ["watched"], "called from within emit, before any later turn: still in the interrupted cell");
  assert.equal(watched.interrupted, true);
  assert.equal(plain.interrupted, true);
  assert.throws(() => plain.check(), /Plain stopped: the kernel was interrupted \(the stop button\)\. Run the cell again to start over\./);
  process.emit("SIGINT", "SIGINT");
  assert.deepEqual(calls, ["watched"], "only the first interrupt is reported");
  watched.close();
  assert.equal(interruptTicket("Later").interrupted, false, "a ticket taken afterwards starts clean");
  assert.match(new InterruptedError("Search", "Run search again to resume.").message, /^Search stopped: .*\. Run search again to resume\.$/);
});

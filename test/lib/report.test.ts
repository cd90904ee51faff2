import { test } from "node:test";
import assert from "node:assert/strict";
import { runFacts, trainingDescription, comparisonTable } from "../../lib/report";

const overfit = {
  history: {
    loss: [2.2, 1.8, 1.2, 0.7, 0.4],
    accuracy: [0.15, 0.3, 0.55, 0.75, 0.9],
    val_loss: [2.1, 1.95, 1.9, 2.0, 2.3],
    val_accuracy: [0.18, 0.25, 0.31, 0.29, 0.28],
  },
};

test("runFacts finds the best epochs, counted from 1", () => {
  const f = runFacts(overfit);
  assert.equal(f.epochs, 5);
  assert.equal(f.bestValAccuracy, 0.31);
  assert.equal(f.bestValAccuracyEpoch, 3);
  assert.equal(f.bestValLossEpoch, 3);
  assert.ok(Math.abs((f.finalGap ?? 0) - 0.62) < 1e-9);
});

test("trainingDescription calls a widening gap with rising validation loss overfitting", () => {
  const text = trainingDescription(overfit);
  assert.match(text, /validation accuracy 28\.0%/);
  assert.match(text, /lowest in epoch 3 \(1\.900\)/);
  assert.match(text, /overfitting/);
});

test("trainingDescription does not cry overfitting when curves stay together", () => {
  const healthy = { history: { accuracy: [0.2, 0.3], val_accuracy: [0.19, 0.29], loss: [2, 1.8], val_loss: [2.1, 1.9] } };
  const text = trainingDescription(healthy);
  assert.match(text, /still falling/);
  assert.doesNotMatch(text, /is overfitting/);
});

test("comparisonTable orders runs by best validation accuracy", () => {
  const dense = { history: { val_accuracy: [0.12, 0.18], val_loss: [2.3, 2.2] } };
  const text = comparisonTable({ dense, cnn: overfit });
  const lines = text.split("\n");
  assert.match(lines[1], /^cnn/);
  assert.match(lines[2], /^dense/);
  assert.match(text, /"cnn" reached the best validation accuracy, 13\.0% points above "dense"/);
});

test("the chance level follows the number of classes", () => {
  const run = { history: { loss: [1], accuracy: [0.6], val_loss: [1.1], val_accuracy: [0.5] } };
  assert.match(trainingDescription(run), /chance level with 10 classes: 10\.0%/);
  assert.match(trainingDescription(run, { classes: 3 }), /chance level with 3 classes: 33\.3%/);
  assert.throws(() => trainingDescription(run, { classes: 1 }), /classes must be an integer >= 2/);
});

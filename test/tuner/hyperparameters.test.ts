import { test } from "node:test";
import assert from "node:assert/strict";
import { HyperParameters, gridValues, floatSpec, intSpec, choiceSpec } from "../../lib/tuner/hyperparameters";

test("a fresh HyperParameters declares each name once and returns its default", () => {
  const hp = new HyperParameters();
  assert.equal(hp.Int("n_layers", { min: 1, max: 3 }), 1);
  assert.equal(hp.Float("dropout", { min: 0.2, max: 0.8, step: 0.3 }), 0.2);
  assert.equal(hp.Choice("activation", ["tanh", "relu"]), "tanh");
  assert.equal(hp.Fixed("epochs", 5), 5);
  // Calling again with the same definition returns the same value and does not add a second entry.
  assert.equal(hp.Int("n_layers", { min: 1, max: 3 }), 1);
  assert.deepEqual(hp.space.map((s) => s.name), ["n_layers", "dropout", "activation", "epochs"]);
  assert.deepEqual(hp.values, { n_layers: 1, dropout: 0.2, activation: "tanh", epochs: 5 });
  assert.equal(hp.get("activation"), "tanh");
  assert.throws(() => hp.get("units"), /Unknown hyperparameter "units".*n_layers/);
});

test("redeclaring a name with a different definition is an error", () => {
  const hp = new HyperParameters();
  hp.Int("n", { min: 1, max: 3 });
  assert.throws(() => hp.Int("n", { min: 1, max: 4 }), /declared twice with different settings/);
});

test("a trial's HyperParameters returns the chosen values and refuses new names", () => {
  const space = (() => {
    const hp = new HyperParameters();
    hp.Int("n", { min: 1, max: 3 });
    hp.Choice("act", ["relu", "tanh"]);
    return hp.space;
  })();
  const hp = HyperParameters.forTrial(space, { n: 3, act: "tanh" });
  assert.equal(hp.Int("n", { min: 1, max: 3 }), 3);
  assert.equal(hp.Choice("act", ["relu", "tanh"]), "tanh");
  assert.throws(() => hp.Float("lr", { min: 0.1, max: 1 }), /did not declare when the tuner first called it/);
});

test("grid values: Int steps, Float linear steps without float noise, Float log steps are factors", () => {
  assert.deepEqual(gridValues(intSpec("n", { min: 1, max: 2 })), [1, 2]);
  assert.deepEqual(gridValues(intSpec("u", { min: 16, max: 64, step: 16 })), [16, 32, 48, 64]);
  assert.deepEqual(gridValues(intSpec("u", { min: 1, max: 6, step: 2 })), [1, 3, 5]);
  assert.deepEqual(gridValues(floatSpec("d", { min: 0.2, max: 0.8, step: 0.3 })), [0.2, 0.5, 0.8]);
  assert.deepEqual(gridValues(floatSpec("d", { min: 0.1, max: 0.3, step: 0.1 })), [0.1, 0.2, 0.3]);
  assert.deepEqual(gridValues(floatSpec("lr", { min: 1e-4, max: 1e-1, step: 10, sampling: "log" })), [1e-4, 1e-3, 1e-2, 1e-1]);
  assert.deepEqual(gridValues(choiceSpec("a", ["relu", "tanh"])), ["relu", "tanh"]);
  assert.throws(() => gridValues(floatSpec("d", { min: 0, max: 1 })), /cannot enumerate.*without a step/);
});

test("bad definitions are refused with a message saying how to fix them", () => {
  const hp = new HyperParameters();
  assert.throws(() => hp.Int("n", { min: 3, max: 1 }), /min \(3\) is larger than max \(1\)/);
  assert.throws(() => hp.Int("n", { min: 1, max: 3, step: 0.5 }), /whole number/);
  assert.throws(() => hp.Float("lr", { min: 0, max: 1, sampling: "log" }), /log sampling needs min > 0/);
  assert.throws(() => hp.Float("lr", { min: 0.1, max: 1, step: 0.5, sampling: "log" }), /must be > 1/);
  assert.throws(() => hp.Choice("a", []), /non-empty list/);
  assert.throws(() => hp.Choice("a", [1, 1]), /duplicates/);
  assert.throws(() => hp.Int("", { min: 1, max: 2 }), /non-empty name/);
});

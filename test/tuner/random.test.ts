import { test } from "node:test";
import assert from "node:assert/strict";
import { HyperParameters, floatSpec } from "../../lib/tuner/hyperparameters";
import { createRng, sampleValue } from "../../lib/tuner/random";
import { proposeRandom, valuesKey, gridCombinations, spaceSize } from "../../lib/tuner/oracle";

function space() {
  const hp = new HyperParameters();
  hp.Int("n_layers", { min: 1, max: 4 });
  hp.Float("dropout", { min: 0.1, max: 0.9 });
  hp.Float("lr", { min: 1e-4, max: 1e-1, sampling: "log" });
  hp.Float("rate", { min: 0.2, max: 0.8, step: 0.3 });
  hp.Choice("act", ["relu", "tanh", "elu"]);
  return hp.space;
}

test("random proposals stay within ranges and on the steps", () => {
  const s = space();
  const tried = new Set<string>();
  for (let i = 0; i < 300; i++) {
    const v = proposeRandom(s, 7, i, tried)!;
    tried.add(valuesKey(s, v));
    assert.ok(Number.isInteger(v.n_layers) && (v.n_layers as number) >= 1 && (v.n_layers as number) <= 4, `n_layers ${v.n_layers}`);
    assert.ok((v.dropout as number) >= 0.1 && (v.dropout as number) <= 0.9, `dropout ${v.dropout}`);
    assert.ok((v.lr as number) >= 1e-4 && (v.lr as number) <= 1e-1, `lr ${v.lr}`);
    assert.ok([0.2, 0.5, 0.8].includes(v.rate as number), `rate ${v.rate}`);
    assert.ok(["relu", "tanh", "elu"].includes(v.act as string));
  }
});

test("the same seed gives the same proposals; another seed gives others", () => {
  const s = space();
  const run = (seed: number) => {
    const tried = new Set<string>();
    const out = [];
    for (let i = 0; i < 10; i++) {
      const v = proposeRandom(s, seed, i, tried)!;
      tried.add(valuesKey(s, v));
      out.push(v);
    }
    return out;
  };
  assert.deepEqual(run(123), run(123));
  assert.notDeepEqual(run(123), run(124));
});

test("log sampling is uniform in orders of magnitude, linear sampling in value", () => {
  const log = floatSpec("lr", { min: 1e-4, max: 1e-1, sampling: "log" });
  const lin = floatSpec("lr", { min: 1e-4, max: 1e-1 });
  const rng = createRng(42);
  const n = 3000;
  let logBelow = 0;
  let linBelow = 0;
  for (let i = 0; i < n; i++) {
    if ((sampleValue(log, rng) as number) < 1e-3) logBelow++;
    if ((sampleValue(lin, rng) as number) < 1e-3) linBelow++;
  }
  // [1e-4, 1e-3) is one of three decades: ~1/3 of log samples, but under 1% of linear ones.
  assert.ok(Math.abs(logBelow / n - 1 / 3) < 0.04, `log fraction ${logBelow / n}`);
  assert.ok(linBelow / n < 0.02, `linear fraction ${linBelow / n}`);
});

test("random proposals never repeat and stop when a finite space is exhausted", () => {
  const hp = new HyperParameters();
  hp.Int("n", { min: 1, max: 2 });
  hp.Choice("act", ["relu", "tanh", "elu"]);
  const s = hp.space;
  assert.equal(spaceSize(s), 6);
  const tried = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const v = proposeRandom(s, 1, i, tried);
    assert.ok(v, `trial ${i} should get values`);
    const key = valuesKey(s, v);
    assert.ok(!tried.has(key), `duplicate ${key}`);
    tried.add(key);
  }
  assert.equal(proposeRandom(s, 1, 6, tried), undefined);
  assert.deepEqual(new Set(gridCombinations(s).map((v) => valuesKey(s, v))), tried);
});

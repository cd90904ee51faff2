import { test } from "node:test";
import assert from "node:assert/strict";
import { deriveSeed, mulberry32, permutation, randomInt, sample, shuffled } from "../../lib/random";

test("mulberry32 repeats its sequence for the same seed and differs for another", () => {
  const a = mulberry32(7);
  const b = mulberry32(7);
  const c = mulberry32(8);
  const sa = Array.from({ length: 5 }, () => a());
  const sb = Array.from({ length: 5 }, () => b());
  const sc = Array.from({ length: 5 }, () => c());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
  for (const v of sa) assert.ok(v >= 0 && v < 1);
});

test("mulberry32 is roughly uniform", () => {
  const rng = mulberry32(1);
  const buckets = new Array(10).fill(0);
  for (let i = 0; i < 10000; i++) buckets[Math.floor(rng() * 10)]++;
  for (const b of buckets) assert.ok(b > 850 && b < 1150, `bucket count ${b}`);
});

test("permutation and shuffled keep every item exactly once and are seeded", () => {
  const p = permutation(50, mulberry32(3));
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(p, permutation(50, mulberry32(3)));
  assert.notDeepEqual(p, Array.from({ length: 50 }, (_, i) => i));
  const items = ["a", "b", "c", "d"];
  const s = shuffled(items, mulberry32(5));
  assert.deepEqual([...s].sort(), items);
  assert.deepEqual(items, ["a", "b", "c", "d"], "the input is not modified");
});

test("sample draws distinct items and rejects impossible sizes", () => {
  const s = sample([1, 2, 3, 4, 5, 6], 4, mulberry32(2));
  assert.equal(s.length, 4);
  assert.equal(new Set(s).size, 4);
  assert.throws(() => sample([1, 2], 3, mulberry32(2)), /between 0 and 2/);
});

test("randomInt stays in range; deriveSeed gives different seeds per index", () => {
  const rng = mulberry32(9);
  for (let i = 0; i < 200; i++) {
    const v = randomInt(rng, 3, 6);
    assert.ok(Number.isInteger(v) && v >= 3 && v < 6);
  }
  const seeds = Array.from({ length: 20 }, (_, i) => deriveSeed(42, i));
  assert.equal(new Set(seeds).size, 20);
  assert.equal(deriveSeed(42, 3), deriveSeed(42, 3));
});

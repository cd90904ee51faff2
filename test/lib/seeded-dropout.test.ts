/** SeededDropout: inverted dropout with reproducible, per-call masks. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { SeededDropout, dropoutMask } from "../../lib/seeded-dropout";

const ones = (shape: number[]) => tf.ones(shape);

describe("dropoutMask", () => {
  it("silences about `rate` of the entries and scales the rest by 1 / (1 - rate)", () => {
    for (const rate of [0.2, 0.5, 0.8]) {
      const mask = dropoutMask(100_000, rate, 7);
      const zeros = mask.filter((v) => v === 0).length;
      const kept = Array.from(mask.filter((v) => v !== 0));
      // Binomial(100000, rate): 5 standard deviations is at most about 790.
      assert.ok(Math.abs(zeros - rate * 100_000) < 800, `rate ${rate}: ${zeros} zeros`);
      assert.ok(kept.every((v) => v === Math.fround(1 / (1 - rate))));
    }
  });

  it("is a function of the seed", () => {
    assert.deepEqual(dropoutMask(1000, 0.3, 5), dropoutMask(1000, 0.3, 5));
    assert.notDeepEqual(dropoutMask(1000, 0.3, 5), dropoutMask(1000, 0.3, 6));
  });
});

describe("SeededDropout", () => {
  it("passes inputs through at inference", () => {
    const layer = new SeededDropout({ rate: 0.5, seed: 1 });
    const y = layer.apply(ones([4, 8]), { training: false }) as tf.Tensor;
    assert.deepEqual(Array.from(y.dataSync()), new Array(32).fill(1));
  });

  it("draws a new mask per training call, and the same sequence after a fresh build", () => {
    const masks = (layer: SeededDropout) =>
      [0, 1, 2].map(() => Array.from((layer.apply(ones([16, 16]), { training: true }) as tf.Tensor).dataSync()));
    const first = masks(new SeededDropout({ rate: 0.5, seed: 42 }));
    const again = masks(new SeededDropout({ rate: 0.5, seed: 42 }));
    assert.deepEqual(first, again);
    assert.notDeepEqual(first[0], first[1]);
    for (const m of first) assert.ok(m.every((v) => v === 0 || v === 2));
  });

  it("lets the gradient through exactly where the mask kept a unit", () => {
    const layer = new SeededDropout({ rate: 0.25, seed: 3 });
    const x = tf.randomNormal([8, 10], 0, 1, "float32", 9);
    let out!: tf.Tensor;
    const dx = tf.grad((t: tf.Tensor) => {
      out = layer.apply(t, { training: true }) as tf.Tensor;
      return tf.keep(out).sum();
    })(x);
    const y = out.dataSync();
    const g = dx.dataSync();
    const xs = x.dataSync();
    for (let i = 0; i < g.length; i++) {
      assert.ok(g[i] === 0 || Math.abs(g[i] - 1 / 0.75) < 1e-6, `gradient ${g[i]}`);
      assert.ok(Math.abs(y[i] - xs[i] * g[i]) < 1e-6, "output = x * mask, gradient = mask");
    }
  });

  it("rejects rates outside [0, 1)", () => {
    assert.throws(() => new SeededDropout({ rate: 1, seed: 1 }), /rate must be in \[0, 1\)/);
    assert.throws(() => new SeededDropout({ rate: -0.1, seed: 1 }), /rate must be in \[0, 1\)/);
  });
});

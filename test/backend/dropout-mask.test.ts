/**
 * The compiled dropout mask (lib/backend/dropout-mask.ts) is the JavaScript dropoutMask bit for bit: every size
 * (SIMD tails, halves split over the helper thread), rate and seed, and the seeded layer trains the same.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { readyWasm } from "./helpers";
import { DROPOUT_MASK_KERNEL, compiledDropoutMask } from "../../lib/backend/dropout-mask";
import { SeededDropout, dropoutMask } from "../../lib/seeded-dropout";
import { deriveSeed } from "../../lib/random";

describe("compiled dropout mask (wasm)", () => {
  before(async () => {
    await readyWasm();
    await tf.setBackend("wasm");
  });

  for (const size of [1, 3, 4, 7, 1023, 300_001, 1_048_576]) {
    for (const rate of [0.2, 0.5, 0.8, 1e-9, 0.9999999999]) {
      it(`${size} entries at rate ${rate}: the same mask as dropoutMask`, () => {
        for (const seed of [0, 1, 123_456_789, 2_147_483_646, 4_294_967_295]) {
          const mask = compiledDropoutMask([size], rate, seed);
          assert.ok(mask, "the kernel runs on wasm");
          const got = mask.dataSync() as Float32Array;
          mask.dispose();
          assert.deepEqual(got, dropoutMask(size, rate, seed), `seed ${seed}`);
        }
      });
    }
  }

  it("a seeded dropout layer uses the kernel and gives the JavaScript mask's output", async () => {
    const layer = new SeededDropout({ rate: 0.3, seed: 11 });
    const x = tf.randomNormal([4, 6, 6, 5], 0, 1, "float32", 3);
    const profile = await tf.profile(() => (layer.apply(x, { training: true }) as tf.Tensor).dispose());
    assert.ok(profile.kernelNames.includes(DROPOUT_MASK_KERNEL));
    // The same layer rebuilt draws the same first mask; compare with the JavaScript mask applied by hand.
    const again = new SeededDropout({ rate: 0.3, seed: 11 });
    const y = again.apply(x, { training: true }) as tf.Tensor;
    const expected = tf.mul(x, tf.tensor(dropoutMask(x.size, 0.3, deriveSeed(11, 0)), x.shape));
    assert.deepEqual(y.dataSync(), expected.dataSync());
    tf.dispose([x, y, expected]);
  });
});

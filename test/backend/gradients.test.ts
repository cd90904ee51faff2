/** The lean Sum/Mean gradients give exactly what tfjs's dy * ones(x.shape) formula gives, on cpu and wasm. */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { MEAN_GRADIENT, SUM_GRADIENT } from "../../lib/backend/gradients";
import { randomArray, readyWasm } from "./helpers";

/** The gradient tfjs itself defines, written out: every x element gets the dy of the output it was reduced into. */
function expectedGrad(shape: number[], axis: number | number[], dy: Float32Array, mean: boolean): Float32Array {
  const axes = tf.util.parseAxisParam(axis, shape);
  const strides = tf.util.computeStrides(shape);
  const keptShape = shape.filter((_, i) => !axes.includes(i));
  const keptStrides = keptShape.length ? tf.util.computeStrides(keptShape) : [];
  const count = axes.reduce((n, a) => n * shape[a], 1);
  const out = new Float32Array(tf.util.sizeFromShape(shape));
  for (let flat = 0; flat < out.length; flat++) {
    let rest = flat;
    let k = 0;
    let dyIndex = 0;
    for (let d = 0; d < shape.length; d++) {
      const coord = d < shape.length - 1 ? Math.floor(rest / strides[d]) : rest;
      if (d < shape.length - 1) rest -= coord * strides[d];
      if (!axes.includes(d)) {
        dyIndex += k < keptStrides.length ? coord * keptStrides[k] : coord;
        k++;
      }
    }
    out[flat] = mean ? (dy[dyIndex] * 1) / count : dy[dyIndex] * 1;
  }
  return out;
}

describe("lean Sum and Mean gradients", () => {
  before(readyWasm);

  it("are the registered gradients once a backend is set up", () => {
    assert.equal(tf.getGradient("Sum"), SUM_GRADIENT);
    assert.equal(tf.getGradient("Mean"), MEAN_GRADIENT);
  });

  const shape = [3, 4, 2, 5];
  const x = randomArray(3 * 4 * 2 * 5, 11);
  for (const backend of ["cpu", "wasm"] as const) {
    for (const op of ["sum", "mean"] as const) {
      for (const axis of [[0], [0, 1, 2], [1, 3], -1, [0, 1, 2, 3]] as Array<number | number[]>) {
        for (const keepDims of [false, true]) {
          it(`${op} axis ${JSON.stringify(axis)} keepDims ${keepDims} on ${backend}`, async () => {
            await tf.setBackend(backend);
            const outShape = tf.tidy(() => tf[op](tf.tensor(x, shape), axis, keepDims).shape);
            const dy = randomArray(tf.util.sizeFromShape(outShape), 12);
            const got = tf.tidy(() => {
              const g = tf.grad((t: tf.Tensor) => tf[op](t, axis, keepDims))(tf.tensor(x, shape), tf.tensor(dy, outShape));
              assert.deepEqual(g.shape, shape);
              return g.dataSync() as Float32Array;
            });
            const want = expectedGrad(shape, axis, dy, op === "mean");
            // The stock formula is dy * 1 (then / count for mean): the same float operations, so the same bits.
            assert.deepEqual(Array.from(got), Array.from(want));
          });
        }
      }
    }
  }
});

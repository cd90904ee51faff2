/**
 * Whole-model checks on the wasm backend: gradients of every trainable weight vs the cpu backend on one batch,
 * and no tensor leak across training steps.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../../lib/backend";
import { assertClose, onBackend, randomArray, readyWasm } from "./helpers";

// Each gradient passes through several layers of float32 sums in a different order (XNNPACK vs plain loops):
// agreement is ~1e-6 of the largest gradient. 1e-3 leaves room for a rare near-tie in max-pool or ReLU flipping
// between backends, and still catches real errors (the stock wasm MaxPoolGrad is 46-113% off with BatchNorm).
const TOL = 1e-3;
// Gradients that are zero in exact arithmetic (conv bias before BatchNorm) hold ~1e-8 float noise: compare
// those on an absolute scale; real gradients here are 1e-2..1.
const GRAD_FLOOR = 1e-3;

function convPoolDense(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 6, kernelSize: 3, activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: "same", activation: "relu" }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: "relu" }),
      tf.layers.dense({ units: 4 }),
    ],
  });
}

function batchNormBeforePool(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 6, kernelSize: 3, padding: "same" }),
      tf.layers.batchNormalization(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: "same" }),
      tf.layers.batchNormalization(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 4 }),
    ],
  });
}

function depthwiseSeparable(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 8, kernelSize: 3, strides: 2, padding: "same" }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      tf.layers.depthwiseConv2d({ kernelSize: 3, padding: "same", depthMultiplier: 1 }),
      tf.layers.conv2d({ filters: 12, kernelSize: 1 }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: "same", depthMultiplier: 2 }),
      tf.layers.separableConv2d({ filters: 6, kernelSize: 3, padding: "same" }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: 4 }),
    ],
  });
}

const BATCH = 5;
const models: Record<string, () => tf.LayersModel> = {
  "conv/pool/dense": convPoolDense,
  "BatchNorm before max-pool": batchNormBeforePool,
  "depthwise separable": depthwiseSeparable,
};

describe("whole-model gradients on wasm match cpu", () => {
  before(readyWasm);

  for (const [name, build] of Object.entries(models)) {
    it(name, async () => {
      const model = build();
      // Deterministic weights and data, so a failure reproduces.
      const fresh = model.weights.map((w, i) => {
        const shape = w.shape as number[];
        return tf.tensor(randomArray(tf.util.sizeFromShape(shape), 100 + i).map((v) => v * 0.5), shape);
      });
      model.setWeights(fresh);
      tf.dispose(fresh);
      const x = randomArray(BATCH * 12 * 12 * 3, 7);
      const labels = randomArray(BATCH * 4, 8);
      const trainable = model.trainableWeights.length;
      for (let wi = 0; wi < trainable; wi++) {
        const gradOf = () => {
          const xs = tf.tensor4d(x, [BATCH, 12, 12, 3]);
          const ys = tf.tensor2d(labels, [BATCH, 4]);
          const { grads } = tf.variableGrads(() => {
            const out = model.apply(xs, { training: true }) as tf.Tensor;
            return tf.losses.meanSquaredError(ys, out) as tf.Scalar;
          });
          return grads[model.trainableWeights[wi].originalName];
        };
        const label = `${name}: gradient of ${model.trainableWeights[wi].originalName}`;
        assertClose(await onBackend("wasm", gradOf), await onBackend("cpu", gradOf), TOL, label, GRAD_FLOOR);
      }
      model.dispose();
    });
  }
});

describe("training on wasm does not leak tensors", () => {
  before(readyWasm);

  it("numTensors is flat across fit() steps", async () => {
    await tf.setBackend("wasm");
    const model = batchNormBeforePool();
    model.add(tf.layers.dropout({ rate: 0.2 }));
    model.compile({ optimizer: tf.train.adam(1e-3), loss: "meanSquaredError" });
    const xs = tf.tensor4d(randomArray(16 * 12 * 12 * 3, 1), [16, 12, 12, 3]);
    const ys = tf.tensor2d(randomArray(16 * 4, 2), [16, 4]);
    await model.fit(xs, ys, { batchSize: 8, epochs: 1, verbose: 0 }); // optimizer slots get created here
    const before = tf.memory().numTensors;
    const history = await model.fit(xs, ys, { batchSize: 8, epochs: 3, verbose: 0 });
    assert.equal(tf.memory().numTensors, before, "tensor count after 3 more epochs");
    assert.ok(history.history.loss.every((l) => Number.isFinite(l as number)), "losses are finite");
    xs.dispose();
    ys.dispose();
    model.dispose();
  });
});

describe("setupBackend", () => {
  it("is idempotent and reports the wasm thread count", async () => {
    const a = await setupBackend({ backend: "wasm", quiet: true });
    const b = await setupBackend();
    assert.deepEqual(b, a);
    assert.equal(tf.getBackend(), "wasm");
    assert.ok(Number.isInteger(a.threads) && a.threads >= 1);
  });
});

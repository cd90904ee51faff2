/**
 * Batch normalization on the batch's own statistics as one op with one gradient (lib/backend/batch-norm-train.ts):
 * the same gradients and trained weights bit for bit as tfjs's path (moments' gradient plus FusedBatchNorm's,
 * added), one kernel instead of three in the backward pass, and tfjs's own path wherever the statistics are
 * not x's own.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { randomArray, readyWasm } from "./helpers";
import { installFusedBatchNormTraining, uninstallFusedBatchNormTraining } from "../../lib/backend/batch-norm-train";
import { BATCH_NORM_GRAD_KERNEL, BATCH_NORM_TRAIN_GRAD_KERNEL } from "../../lib/backend/batch-norm";
import { MOMENTS_GRAD_KERNEL } from "../../lib/backend/moments";
import { helperCalls, helperThreadReady } from "../../lib/backend/helper-thread";
import type { WasmBackendLike } from "../../lib/backend/wasm-util";
import { nodeRequire } from "../../lib/node-require";

/** Runs fn with tfjs's own batchNorm4d (installed = false) or ours, and lists the kernels it ran. */
async function withPath<T>(installed: boolean, fn: () => T): Promise<{ result: T; kernels: string[] }> {
  if (installed) assert.equal(installFusedBatchNormTraining(), true);
  else uninstallFusedBatchNormTraining();
  try {
    let result: T | undefined;
    const profile = await tf.profile(() => {
      result = fn();
    });
    return { result: result as T, kernels: profile.kernels.map((k) => k.name) };
  } finally {
    installFusedBatchNormTraining();
  }
}

/** Gradients of sum(batchNorm(x)^2 * w) with respect to x, gamma and beta, as tfjs-layers normalizes in training, and the forward result. */
function gradients(shape: number[], seed: number): Float32Array[] {
  return tf.tidy(() => {
    const channels = shape[shape.length - 1];
    // An offset and a spread per channel, so the statistics are far from 0 and 1.
    const x = tf.add(tf.tensor(randomArray(tf.util.sizeFromShape(shape), seed), shape), tf.tensor(randomArray(channels, seed + 1)));
    const gamma = tf.tensor(randomArray(channels, seed + 2));
    const beta = tf.tensor(randomArray(channels, seed + 3));
    const axes = shape.slice(0, -1).map((_, i) => i);
    const f = (xv: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(xv, axes);
      return tf.batchNorm4d(xv as tf.Tensor4D, mean as tf.Tensor1D, variance as tf.Tensor1D, b as tf.Tensor1D, g as tf.Tensor1D, 0.001);
    };
    const y = f(x, gamma, beta);
    const weights = tf.tensor(randomArray(y.size, seed + 4), y.shape);
    const grads = tf.grads((xv: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.square(f(xv, g, b)), weights)))([x, gamma, beta]);
    return [y, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

const count = (kernels: string[], name: string) => kernels.filter((k) => k === name).length;

describe("batch normalization on its own statistics as one op (wasm)", () => {
  before(async () => {
    await readyWasm();
    await tf.setBackend("wasm");
    // Both paths must split alike (a split sums in a different order): start the helper thread first.
    assert.equal(await helperThreadReady((tf.findBackend("wasm") as unknown as WasmBackendLike).wasm), true);
  });

  it("is what tfjs-core's batchNorm2d/3d/4d are once the wasm backend is set up (installing twice is harmless)", () => {
    assert.equal(installFusedBatchNormTraining(), true);
    assert.equal(installFusedBatchNormTraining(), true);
    const core = nodeRequire()("@tensorflow/tfjs-core") as Record<string, unknown>;
    assert.equal(tf.batchNorm4d, core.batchNorm4d, "the @tensorflow/tfjs union package sees the same function");
  });

  const cases: [string, number[]][] = [
    ["8 channels", [2, 5, 5, 8]],
    ["7 channels (a partial vector)", [3, 4, 5, 7]],
    // 16 x 32 x 32 x 16 values: enough work to split both passes over the two threads.
    ["16 channels, split over two threads", [16, 32, 32, 16]],
  ];
  for (const [name, shape] of cases) {
    it(`${name}: the same output and gradients bit for bit as tfjs's path, with one backward kernel`, async () => {
      const stock = await withPath(false, () => gradients(shape, 21));
      const ours = await withPath(true, () => gradients(shape, 21));
      assert.equal(count(ours.kernels, BATCH_NORM_TRAIN_GRAD_KERNEL), 1, `kernels: ${ours.kernels.join(", ")}`);
      for (const k of [BATCH_NORM_GRAD_KERNEL, MOMENTS_GRAD_KERNEL]) {
        assert.equal(count(ours.kernels, k), 0, `${k} does not run`);
        assert.equal(count(stock.kernels, k), 1, `tfjs's path runs ${k}`);
      }
      assert.ok(count(stock.kernels, "Add") > count(ours.kernels, "Add"), "the two paths' gradients are not added");
      ours.result.forEach((values, i) => assert.deepEqual(values, stock.result[i], `output ${i} differs`));
    });
  }

  it("the split case's passes ran on both threads", async () => {
    const [sums, dx] = [helperCalls("batch_norm_grad_sums"), helperCalls("batch_norm_train_dx")];
    await withPath(true, () => gradients([16, 32, 32, 16], 22));
    assert.equal(helperCalls("batch_norm_grad_sums"), sums + 1);
    assert.equal(helperCalls("batch_norm_train_dx"), dx + 1);
  });

  it("a network with BatchNormalization layers trains to the same weights bit for bit, leaving no tensor behind", async () => {
    const run = async (installed: boolean) => {
      const model = tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [10, 10, 3], filters: 8, kernelSize: 3, useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
          tf.layers.batchNormalization(),
          tf.layers.reLU(),
          tf.layers.conv2d({ filters: 12, kernelSize: 3, padding: "same", kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
          tf.layers.batchNormalization({ momentum: 0.9 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 3, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
        ],
      });
      model.compile({ optimizer: tf.train.adam(0.01), loss: "categoricalCrossentropy" });
      const x = tf.tensor(randomArray(6 * 10 * 10 * 3, 4), [6, 10, 10, 3]);
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 1, 0, 2], "int32"), 3));
      let kernels: string[] = [];
      for (let i = 0; i < 3; i++) kernels = (await withPath(installed, () => model.trainOnBatch(x, y))).kernels;
      // Moving statistics too: they come from the same moments.
      const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
      const predicted = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
      model.optimizer.dispose();
      model.dispose();
      tf.dispose([x, y]);
      return { weights, predicted, kernels };
    };
    const before = tf.memory().numTensors;
    const stock = await run(false);
    assert.equal(tf.memory().numTensors, before, "no tensor left behind by tfjs's path");
    const ours = await run(true);
    assert.equal(tf.memory().numTensors, before, "no tensor left behind by ours");
    ours.weights.forEach((w, i) => assert.deepEqual(w, stock.weights[i], `weight ${i} differs`));
    assert.deepEqual(ours.predicted, stock.predicted);
    assert.equal(count(ours.kernels, BATCH_NORM_TRAIN_GRAD_KERNEL), 2);
    assert.equal(count(ours.kernels, MOMENTS_GRAD_KERNEL), 0);
  });

  it("statistics that are not x's own (moving averages, another tensor's moments) stay on tfjs's path", async () => {
    const { kernels } = await withPath(true, () =>
      tf.tidy(() => {
        const x = tf.tensor(randomArray(2 * 3 * 3 * 4, 30), [2, 3, 3, 4]) as tf.Tensor4D;
        const other = tf.tensor(randomArray(2 * 3 * 3 * 4, 31), [2, 3, 3, 4]);
        const gamma = tf.ones([4]) as tf.Tensor1D;
        const beta = tf.zeros([4]) as tf.Tensor1D;
        const { mean, variance } = tf.moments(other, [0, 1, 2]) as { mean: tf.Tensor1D; variance: tf.Tensor1D };
        const moving = [tf.tensor1d(randomArray(4, 32)), tf.add(tf.tensor1d(randomArray(4, 33)), 2)] as tf.Tensor1D[];
        const loss = (xv: tf.Tensor) =>
          tf.add(tf.sum(tf.batchNorm4d(xv as tf.Tensor4D, mean, variance, beta, gamma)), tf.sum(tf.batchNorm4d(xv as tf.Tensor4D, moving[0], moving[1], beta, gamma)));
        return tf.grad(loss)(x);
      }),
    );
    assert.equal(count(kernels, BATCH_NORM_TRAIN_GRAD_KERNEL), 0);
    assert.equal(count(kernels, BATCH_NORM_GRAD_KERNEL), 2);
  });
});

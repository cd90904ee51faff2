/**
 * tf.moments over leading axes as one wasm kernel with its own gradient (lib/backend/moments.ts): the same mean
 * and variance as tfjs's moments, gradients that match cpu, BatchNormalization layers using it, and tfjs's own
 * moments everywhere else.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { assertClose, onBackend, randomArray, readyWasm } from "./helpers";
import { MOMENTS_KERNEL, fusedMoments, installFusedMoments } from "../../lib/backend/moments";
import { helperCalls, helperThreadReady } from "../../lib/backend/helper-thread";
import { WasmBackendLike } from "../../lib/backend/wasm-util";
import { nodeRequire } from "../../lib/node-require";
import { BATCH_NORM_TRAIN_GRAD_KERNEL } from "../../lib/backend/batch-norm";

const stockMoments = (x: tf.Tensor, axis: number | number[], keepDims: boolean) => {
  // tfjs's composition (moments_ in tfjs-core), built from the same ops.
  const mean = tf.mean(x, axis, keepDims);
  const kept = tf.util.parseAxisParam(axis, x.shape);
  const keepShape = x.shape.map((d, i) => (kept.includes(i) ? 1 : d));
  return { mean, variance: tf.mean(tf.square(tf.sub(x, tf.reshape(mean, keepShape))), axis, keepDims) };
};

async function kernelsRun(fn: () => void): Promise<string[]> {
  const profile = await tf.profile(() => tf.tidy(fn));
  return profile.kernels.map((k) => k.name);
}

describe("fused moments", () => {
  before(async () => {
    await readyWasm();
    assert.equal(await helperThreadReady((tf.findBackend("wasm") as unknown as WasmBackendLike).wasm), true);
  });

  it("is what tfjs-core's moments is once the wasm backend is set up (installing twice is harmless)", () => {
    assert.equal(installFusedMoments(), true);
    assert.equal(installFusedMoments(), true);
    assert.equal((nodeRequire()("@tensorflow/tfjs-core") as { moments: unknown }).moments, fusedMoments);
    assert.equal(tf.moments, fusedMoments, "the @tensorflow/tfjs union package sees the same function");
  });

  // Channel counts with SIMD tails, one big enough to split over the helper thread, keepDims both ways.
  const cases: Array<[number[], number[], boolean]> = [
    [[3, 4, 5, 7], [0, 1, 2], false], [[3, 4, 5, 8], [0, 1, 2], true], [[6, 10], [0], false], [[64, 16, 16, 20], [0, 1, 2], false],
  ];
  for (const [shape, axis, keepDims] of cases) {
    it(`over ${JSON.stringify(axis)} of [${shape}] keepDims ${keepDims}: tfjs's mean and variance, one kernel`, async () => {
      await tf.setBackend("wasm");
      const x = tf.tensor(randomArray(tf.util.sizeFromShape(shape), 81).map((v) => 3 * v + 1), shape);
      const calls = helperCalls("sq_dev_rows");
      const got = fusedMoments(x, axis, keepDims);
      const want = tf.tidy(() => stockMoments(x, axis, keepDims));
      assert.deepEqual(got.mean.shape, want.mean.shape);
      assert.deepEqual(Array.from(got.mean.dataSync()), Array.from(want.mean.dataSync()), "mean, bit for bit");
      assert.deepEqual(Array.from(got.variance.dataSync()), Array.from(want.variance.dataSync()), "variance, bit for bit");
      if (shape[0] === 64) assert.equal(helperCalls("sq_dev_rows"), calls + 1, "a big input splits over the helper thread");
      assert.deepEqual(await kernelsRun(() => fusedMoments(x, axis, keepDims)), [MOMENTS_KERNEL]);
      tf.dispose([x, got.mean, got.variance, want.mean, want.variance]);
    });

    it(`over ${JSON.stringify(axis)} of [${shape}]: the gradient matches cpu`, async () => {
      const size = tf.util.sizeFromShape(shape);
      const values = randomArray(size, 82).map((v) => 3 * v + 1);
      const cols = size / axis.reduce((n, a) => n * shape[a], 1);
      const [a, b] = [randomArray(cols, 83), randomArray(cols, 84)];
      const fn = () => tf.grad((t: tf.Tensor) => {
        const { mean, variance } = tf.moments(t, axis, keepDims);
        return tf.add(tf.sum(tf.mul(mean, tf.tensor(a, mean.shape))), tf.sum(tf.mul(variance, tf.tensor(b, variance.shape))));
      })(tf.tensor(values, shape));
      assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), 1e-5, "dx");
    });
  }

  it("leaves other reductions to tfjs's moments (same numbers, no fused kernel)", async () => {
    await tf.setBackend("wasm");
    const x = tf.tensor(randomArray(2 * 3 * 4 * 5, 85), [2, 3, 4, 5]);
    for (const axis of [[1, 2], [3], [0, 1, 2, 3]]) {
      const names = await kernelsRun(() => tf.moments(x, axis));
      assert.ok(!names.includes(MOMENTS_KERNEL), `axes ${axis}: ${names}`);
      const got = tf.moments(x, axis);
      const want = stockMoments(x, axis, false);
      assert.deepEqual(Array.from(got.variance.dataSync()), Array.from(want.variance.dataSync()));
      tf.dispose([got.mean, got.variance, want.mean, want.variance]);
    }
    x.dispose();
  });

  it("trains a BatchNormalization layer between convolutions with it: the same losses and weights as cpu after three steps", async () => {
    const xs = randomArray(16 * 6 * 6 * 5, 86).map((v) => 2 * v + 0.5);
    const ys = randomArray(16 * 6 * 6 * 5, 87);
    const train = async (backend: "cpu" | "wasm") => {
      await tf.setBackend(backend);
      const model = tf.sequential({ layers: [
        tf.layers.conv2d({ inputShape: [6, 6, 5], filters: 5, kernelSize: 1 }),
        tf.layers.batchNormalization(),
        tf.layers.conv2d({ filters: 5, kernelSize: 1, kernelInitializer: "ones" }),
      ] });
      // The same starting weights on both backends.
      model.setWeights(model.getWeights().map((w, i) => tf.tensor(randomArray(w.size, 90 + i), w.shape)));
      model.compile({ optimizer: tf.train.sgd(0.1), loss: "meanSquaredError" });
      const [x, y] = [tf.tensor4d(xs, [16, 6, 6, 5]), tf.tensor4d(ys, [16, 6, 6, 5])];
      const losses: number[] = [];
      let names: string[] = [];
      for (let i = 0; i < 3; i++) {
        const profile = await tf.profile(async () => void losses.push((await model.trainOnBatch(x, y)) as number));
        if (i === 0) names = profile.kernels.map((k) => k.name);
      }
      const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
      tf.dispose([x, y]);
      model.dispose();
      return { losses, weights, names };
    };
    const cpu = await train("cpu");
    const wasm = await train("wasm");
    await tf.setBackend("wasm");
    // The gradient through the statistics comes with batch normalization's own (batch-norm-train.ts).
    assert.ok(wasm.names.includes(MOMENTS_KERNEL) && wasm.names.includes(BATCH_NORM_TRAIN_GRAD_KERNEL), `the training step ran ${[...new Set(wasm.names)]}`);
    assert.ok(!cpu.names.includes(MOMENTS_KERNEL), "cpu keeps tfjs's moments");
    wasm.losses.forEach((l, i) => assert.ok(Math.abs(l - cpu.losses[i]) <= 1e-5 * Math.abs(cpu.losses[i]), `loss ${i}: ${l} vs ${cpu.losses[i]}`));
    wasm.weights.forEach((w, i) => assertClose(Float32Array.from(w), Float32Array.from(cpu.weights[i]), 1e-4, `weights ${i}`));
  });
});

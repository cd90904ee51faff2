/** The lean Sum, Mean, FusedBatchNorm, Relu and Max gradients give bit-for-bit what tfjs's own gradients give, on cpu and wasm. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { FUSED_BATCH_NORM_GRADIENT, MAX_GRADIENT, MEAN_GRADIENT, RELU_GRADIENT, SUM_GRADIENT, stockGradient } from "../../lib/backend/gradients";
import { assertClose, randomArray, readyWasm } from "./helpers";
import { helperCalls, helperThreadReady } from "../../lib/backend/helper-thread";
import { WasmBackendLike, useCompiledKernels } from "../../lib/backend/wasm-util";

/** Values of the gradients computed by `run` with tfjs's stock gradient for `kernel` registered, then with ours. */
function stockAndLean(kernel: string, lean: tf.GradConfig, run: () => tf.Tensor[]): [number[][], number[][]] {
  const stock = stockGradient(kernel);
  assert.ok(stock, `tfjs's own ${kernel} gradient should have been kept`);
  const values = () => tf.tidy(() => run().map((t) => Array.from(t.dataSync())));
  tf.registerGradient(stock);
  try {
    const expected = values();
    tf.registerGradient(lean);
    return [values(), expected];
  } finally {
    tf.registerGradient(lean);
  }
}

describe("lean gradients", () => {
  before(readyWasm);
  after(() => tf.setBackend("wasm"));

  it("are the registered gradients once a backend is set up", () => {
    assert.equal(tf.getGradient("Sum"), SUM_GRADIENT);
    assert.equal(tf.getGradient("Mean"), MEAN_GRADIENT);
    assert.equal(tf.getGradient("FusedBatchNorm"), FUSED_BATCH_NORM_GRADIENT);
    assert.equal(tf.getGradient("Relu"), RELU_GRADIENT);
    assert.equal(tf.getGradient("Max"), MAX_GRADIENT);
  });

  const shape = [3, 4, 2, 5];
  const x = randomArray(3 * 4 * 2 * 5, 11);
  for (const backend of ["cpu", "wasm"] as const) {
    for (const [op, lean] of [["sum", SUM_GRADIENT], ["mean", MEAN_GRADIENT]] as const) {
      for (const axis of [[0], [0, 1, 2], [1, 3], -1, [0, 1, 2, 3]] as Array<number | number[]>) {
        for (const keepDims of [false, true]) {
          it(`${op} axis ${JSON.stringify(axis)} keepDims ${keepDims} on ${backend}`, async () => {
            await tf.setBackend(backend);
            const outShape = tf.tidy(() => tf[op](tf.tensor(x, shape), axis, keepDims).shape);
            const dy = randomArray(tf.util.sizeFromShape(outShape), 12);
            const [got, want] = stockAndLean(lean.kernelName, lean, () => {
              const g = tf.grad((t: tf.Tensor) => tf[op](t, axis, keepDims))(tf.tensor(x, shape), tf.tensor(dy, outShape));
              assert.deepEqual(g.shape, shape);
              return [g];
            });
            assert.deepEqual(got, want);
          });
        }
      }
    }

    // tfjs differentiates batchNorm only with both offset and scale given (layers always pass both), and only
    // with per-channel (rank 1) or full-shape statistics.
    for (const perChannel of [true, false]) {
      it(`batchNorm over [N,H,W,C] with ${perChannel ? "per-channel" : "full-shape"} statistics on ${backend}`, async () => {
        await tf.setBackend(backend);
        const c = perChannel ? shape[3] : x.length;
        const dy = randomArray(x.length, 21);
        const stats = (seed: number, shift: number) => tf.add(tf.tensor(randomArray(c, seed), perChannel ? [c] : shape), shift);
        const [got, want] = stockAndLean("FusedBatchNorm", FUSED_BATCH_NORM_GRADIENT, () => {
          const f = (...t: tf.Tensor[]) => tf.batchNorm(t[0], t[1], t[2], t[3], t[4], 1e-3);
          const inputs = [tf.tensor(x, shape), stats(22, 0), stats(23, 1.5), stats(24, 0), stats(25, 1)];
          const grads = tf.grads(f)(inputs, tf.tensor(dy, shape));
          grads.forEach((g, i) => assert.deepEqual(g.shape, inputs[i].shape));
          return grads;
        });
        if (backend === "wasm" && perChannel) {
          // The fused wasm kernel: same values up to float rounding (sums taken before the per-channel factors).
          got.forEach((g, i) => assertClose(Float32Array.from(g), Float32Array.from(want[i]), 1e-5, `gradient ${i}`));
        } else {
          assert.deepEqual(got, want);
        }
      });
    }
  }

  for (const [bnShape, seed] of [[[2, 3, 3, 6], 71], [[64, 33, 31, 7], 72], [[16, 10, 10, 300], 73]] as Array<[number[], number]>) {
    it(`the fused wasm batchNorm gradient runs, once, on ${JSON.stringify(bnShape)}, and matches cpu`, async () => {
      const size = tf.util.sizeFromShape(bnShape);
      const c = bnShape[3];
      const xs = randomArray(size, seed).map((v) => v * 2 + 0.3);
      const dy = randomArray(size, seed + 1);
      const run = () => {
        const f = (...t: tf.Tensor[]) => tf.batchNorm(t[0], t[1], t[2], t[3], t[4], 1e-3);
        const stat = (k: number, shift: number) => tf.add(tf.tensor1d(randomArray(c, seed + k)), shift);
        const inputs = [tf.tensor(xs, bnShape), stat(2, 0), stat(3, 1.5), stat(4, 0), stat(5, 1)];
        return tf.grads(f)(inputs, tf.tensor(dy, bnShape));
      };
      const values = async (backend: "cpu" | "wasm") => {
        await tf.setBackend(backend);
        return tf.tidy(() => run().map((g) => g.dataSync() as Float32Array));
      };
      const want = await values("cpu");
      await tf.setBackend("wasm");
      const tensors = tf.memory().numTensors;
      const profile = await tf.profile(() => {
        tf.tidy(() => {
          run();
        });
      });
      assert.equal(tf.memory().numTensors, tensors, "no tensors left behind");
      assert.equal(profile.kernels.filter((k) => k.name === "LessonsBatchNormGrad").length, 1);
      const got = await values("wasm");
      got.forEach((g, i) => assertClose(g, want[i], 1e-4, `gradient ${i}`));
    });
  }

  // Global max pooling and other reductions: ties, -Infinity and NaN (first and later in a window) in x,
  // compared bit for bit with tfjs's gradient and the cpu backend's max; [48, 5, 5, 170] splits over two threads.
  const maxCases: Array<[number[], number | number[], boolean]> = [
    [[3, 4, 2, 6], [1, 2], false], [[3, 4, 2, 6], [1, 2], true], [[3, 4, 2, 6], 0, false], [[3, 4, 2, 6], [2, 3], false],
    [[3, 4, 2, 6], [0, 2], true], [[48, 5, 5, 170], [1, 2], false],
  ];
  for (const [xShape, axis, keepDims] of maxCases) {
    for (const compiled of [true, false]) {
      it(`max over ${JSON.stringify(axis)} of [${xShape}] keepDims ${keepDims}: forward and gradient (${compiled ? "compiled" : "plain JS"})`, async () => {
        const size = tf.util.sizeFromShape(xShape);
        const x = randomArray(size, 71).map((v, i) => (i % 7 === 0 ? Math.round(v) : i % 29 === 3 ? -Infinity : i === 13 || i === 6 * 8 ? NaN : v));
        const run = (t: tf.Tensor) => tf.max(t, axis, keepDims);
        await tf.setBackend("cpu");
        const cpuMax = Array.from(tf.tidy(() => run(tf.tensor(x, xShape)).dataSync()));
        await tf.setBackend("wasm");
        const split = size > 100_000 && compiled;
        if (split) assert.equal(await helperThreadReady((tf.findBackend("wasm") as unknown as WasmBackendLike).wasm), true);
        useCompiledKernels(compiled);
        try {
          const y = tf.tidy(() => run(tf.tensor(x, xShape)));
          const dy = randomArray(y.size, 72);
          assert.deepEqual(Array.from(y.dataSync()), cpuMax, "max matches cpu");
          const calls = helperCalls("max_middle_grad");
          const [got, want] = stockAndLean("Max", MAX_GRADIENT, () => [tf.grad(run)(tf.tensor(x, xShape), tf.tensor(dy, y.shape))]);
          y.dispose();
          assert.deepEqual(got, want);
          if (split) assert.equal(helperCalls("max_middle_grad"), calls + 1, "the big gradient splits over the helper thread");
        } finally {
          useCompiledKernels(true);
        }
      });
    }
  }

  // Zeros, negative and positive x, NaN and infinities in x and dy (-0 results included: compared bit for bit),
  // and a size big enough for the wasm kernel to split over two threads.
  for (const size of [11, 300_003]) {
    for (const backend of ["cpu", "wasm"] as const) {
      it(`relu gradient on ${size} values on ${backend}`, async () => {
        await tf.setBackend(backend);
        const special = [0, -0, 1, -1, NaN, Infinity, -Infinity];
        const x = randomArray(size, 61).map((v, i) => (i < special.length ? special[i] : v));
        const dy = randomArray(size, 62).map((v, i) => (i >= 4 && i < 4 + special.length ? special[i - 4] : v));
        const split = backend === "wasm" && size > 100_000;
        if (split) assert.equal(await helperThreadReady((tf.findBackend("wasm") as unknown as WasmBackendLike).wasm), true);
        const calls = helperCalls("relu_grad");
        const [got, want] = stockAndLean("Relu", RELU_GRADIENT, () => [tf.grad((t: tf.Tensor) => tf.relu(t))(tf.tensor1d(x), tf.tensor1d(dy))]);
        assert.deepEqual(got, want);
        // On wasm the lean gradient is the compiled kernel: a big one hands half to the helper thread.
        if (split) assert.equal(helperCalls("relu_grad"), calls + 1);
      });
    }
  }
});

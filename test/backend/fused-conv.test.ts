/**
 * A convolution layer's training step as one kernel (lib/backend/fused-conv.ts): the same gradients and weights
 * bit for bit as tfjs's own unfused path, the input's gradient only where something needs it, and tfjs's own
 * path for inference and the cases the kernel does not take.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { randomArray, readyWasm } from "./helpers";
import { CONV_BIAS_ACT_KERNEL, installFusedConvTraining, uninstallFusedConvTraining } from "../../lib/backend/fused-conv";
import { RELU_GRAD_SUM_KERNEL } from "../../lib/backend/relu-grad";
import { helperCalls, helperThreadReady } from "../../lib/backend/helper-thread";
import type { WasmBackendLike } from "../../lib/backend/wasm-util";

/** Runs fn with tfjs's own fused conv2d (installed = false) or ours, and lists the kernels it ran. */
async function withPath<T>(installed: boolean, fn: () => T): Promise<{ result: T; kernels: string[] }> {
  if (installed) assert.equal(installFusedConvTraining(), true);
  else uninstallFusedConvTraining();
  try {
    let result: T | undefined;
    const profile = await tf.profile(() => {
      result = fn();
    });
    return { result: result as T, kernels: profile.kernels.map((k) => k.name) };
  } finally {
    installFusedConvTraining();
  }
}

interface Case {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: "same" | "valid";
  bias: boolean;
  activation: "linear" | "relu";
}

const CASES: Case[] = [
  { name: "3x3 same, bias, relu (Winograd)", x: [2, 9, 9, 16], filter: [3, 3, 16, 20], strides: 1, pad: "same", bias: true, activation: "relu" },
  { name: "3x3 valid, bias, relu, 3 input channels", x: [3, 10, 10, 3], filter: [3, 3, 3, 10], strides: 1, pad: "valid", bias: true, activation: "relu" },
  { name: "7x7 stride 2, bias, relu", x: [2, 12, 12, 3], filter: [7, 7, 3, 6], strides: 2, pad: "same", bias: true, activation: "relu" },
  { name: "1x1, no bias, linear (before batch norm)", x: [2, 5, 5, 8], filter: [1, 1, 8, 12], strides: 1, pad: "same", bias: false, activation: "linear" },
  { name: "3x3, no bias, relu, odd channels", x: [2, 7, 7, 5], filter: [3, 3, 5, 7], strides: 1, pad: "same", bias: false, activation: "relu" },
  { name: "3x3 same, bias, relu, 18 filters (Winograd, a partial vector)", x: [2, 8, 7, 16], filter: [3, 3, 16, 18], strides: 1, pad: "same", bias: true, activation: "relu" },
  { name: "1x1, bias, relu, 13 filters (one matrix product)", x: [2, 5, 5, 8], filter: [1, 1, 8, 13], strides: 1, pad: "valid", bias: true, activation: "relu" },
  // 4 x 38 x 38 x 50 values: enough work to split the ReLU and bias gradient (and the convolutions) over two threads.
  { name: "3x3 valid, bias, relu, 50 filters (split over two threads)", x: [4, 40, 40, 3], filter: [3, 3, 3, 50], strides: 1, pad: "valid", bias: true, activation: "relu" },
];

/** Gradients of sum(conv(x)^2 * w) with respect to x, the filter and the bias, and the forward result. */
function gradients(c: Case): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor(randomArray(tf.util.sizeFromShape(c.x), 1), c.x) as tf.Tensor4D;
    const filter = tf.tensor(randomArray(tf.util.sizeFromShape(c.filter), 2), c.filter) as tf.Tensor4D;
    const bias = tf.tensor(randomArray(c.filter[3], 3));
    const f = (xv: tf.Tensor, fv: tf.Tensor, bv?: tf.Tensor) =>
      tf.fused.conv2d({ x: xv as tf.Tensor4D, filter: fv as tf.Tensor4D, strides: c.strides, pad: c.pad, bias: bv, activation: c.activation });
    const y = f(x, filter, c.bias ? bias : undefined);
    const weights = tf.tensor(randomArray(y.size, 4), y.shape);
    const loss = (...args: tf.Tensor[]) => tf.sum(tf.mul(tf.square(f(args[0], args[1], args[2])), weights));
    const grads = tf.grads(loss)(c.bias ? [x, filter, bias] : [x, filter]);
    const out = [y, ...grads];
    return out.map((t) => t.dataSync() as Float32Array);
  });
}

describe("convolution training step as one kernel (wasm)", () => {
  before(async () => {
    await readyWasm();
    await tf.setBackend("wasm");
  });

  for (const c of CASES) {
    it(`${c.name}: the same result and gradients bit for bit as tfjs's own path`, async () => {
      const stock = await withPath(false, () => gradients(c));
      const ours = await withPath(true, () => gradients(c));
      assert.ok(ours.kernels.includes(CONV_BIAS_ACT_KERNEL), `our kernel ran (kernels: ${ours.kernels.join(", ")})`);
      if (c.activation === "relu") assert.ok(ours.kernels.includes(RELU_GRAD_SUM_KERNEL), "ReLU's gradient and the bias's in one pass");
      assert.ok(!stock.kernels.includes(CONV_BIAS_ACT_KERNEL));
      assert.equal(ours.result.length, stock.result.length);
      ours.result.forEach((values, i) => assert.deepEqual(values, stock.result[i], `output ${i} differs`));
    });
  }

  it("the split case's ReLU and bias gradient ran on both threads", async () => {
    const c = CASES.find((k) => k.name.includes("split over two threads"))!;
    assert.equal(await helperThreadReady((tf.findBackend("wasm") as unknown as WasmBackendLike).wasm), true);
    const calls = helperCalls("relu_grad_sum");
    await withPath(true, () => gradients(c));
    assert.equal(helperCalls("relu_grad_sum"), calls + 1);
  });

  const POOL_CASES: { name: string; x: [number, number, number, number]; pool: number; stride: number; nan: boolean }[] = [
    { name: "2x2 windows covering the map, with NaN", x: [2, 10, 10, 3], pool: 2, stride: 2, nan: true },
    { name: "2x2 windows on an odd map (an uncovered edge), with NaN", x: [2, 9, 9, 3], pool: 2, stride: 2, nan: true },
    { name: "3x3 windows at stride 3", x: [2, 11, 11, 3], pool: 3, stride: 3, nan: false },
    // 4 x 40 x 40 x 6 (38 x 38 x 9 values out of the convolution): the pooling's gradient splits over two threads.
    { name: "2x2, split over two threads", x: [4, 40, 40, 6], pool: 2, stride: 2, nan: false },
  ];
  for (const c of POOL_CASES) {
    it(`max pooling after a ReLU layer, ${c.name}: the ReLU's step in the pooling's pass, the same gradients bit for bit`, async () => {
      const run = () => tf.tidy(() => {
        const values = randomArray(tf.util.sizeFromShape(c.x), 40);
        if (c.nan) values[7] = NaN;
        const x = tf.tensor(values, c.x) as tf.Tensor4D;
        // Filters 9 (a partial vector of 4); some outputs are negative, so the ReLU's step is 0 there.
        const filter = tf.tensor(randomArray(3 * 3 * c.x[3] * 9, 41), [3, 3, c.x[3], 9]) as tf.Tensor4D;
        const bias = tf.tensor(randomArray(9, 42));
        const f = (xv: tf.Tensor, fv: tf.Tensor, bv: tf.Tensor) => tf.maxPool(
          tf.fused.conv2d({ x: xv as tf.Tensor4D, filter: fv as tf.Tensor4D, strides: 1, pad: "valid", bias: bv, activation: "relu" }), c.pool, c.stride, "valid");
        const pooled = f(x, filter, bias);
        const weights = tf.tensor(randomArray(pooled.size, 43), pooled.shape);
        const grads = tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(f(t[0], t[1], t[2]), weights)))([x, filter, bias]);
        return grads.map((g) => g.dataSync() as Float32Array);
      });
      // Both paths must split the bias's sum alike: the helper thread first.
      assert.equal(await helperThreadReady((tf.findBackend("wasm") as unknown as WasmBackendLike).wasm), true);
      const stock = await withPath(false, run);
      const ours = await withPath(true, run);
      assert.ok(ours.kernels.includes("LessonsMaxPoolGradRelu") && !ours.kernels.includes("MaxPoolGrad"), `kernels: ${ours.kernels.join(", ")}`);
      assert.ok(!ours.kernels.includes(RELU_GRAD_SUM_KERNEL), "no separate ReLU gradient pass");
      if (c.nan) assert.ok(stock.result.some((g) => g.some(Number.isNaN)), "the NaN reaches the gradients");
      ours.result.forEach((values, i) => assert.deepEqual(values, stock.result[i], `gradient ${i} differs`));
    });
  }

  it("a model trains to the same weights bit for bit, with fewer kernels and fewer live tensors", async () => {
    const train = () => {
      const model = tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 6, kernelSize: 3, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }) }),
          tf.layers.conv2d({ filters: 16, kernelSize: 1, useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 3, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 8 }) }),
        ],
      });
      model.compile({ optimizer: tf.train.sgd(0.1), loss: "categoricalCrossentropy" });
      const x = tf.tensor(randomArray(4 * 12 * 12 * 3, 9), [4, 12, 12, 3]);
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 1], "int32"), 3));
      return { model, x, y };
    };
    const run = async (installed: boolean) => {
      const { model, x, y } = train();
      const steps = [];
      for (let i = 0; i < 3; i++) {
        const { kernels } = await withPath(installed, () => model.trainOnBatch(x, y));
        steps.push(kernels);
      }
      const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
      model.optimizer.dispose();
      model.dispose();
      tf.dispose([x, y]);
      return { weights, kernels: steps[steps.length - 1] };
    };
    const before = tf.memory().numTensors;
    const stock = await run(false);
    assert.equal(tf.memory().numTensors, before, "no tensor left behind by tfjs's path");
    const ours = await run(true);
    assert.equal(tf.memory().numTensors, before, "no tensor left behind by ours");
    ours.weights.forEach((w, i) => assert.deepEqual(w, stock.weights[i], `weight ${i} differs`));
    const count = (ks: string[], name: string) => ks.filter((k) => k === name).length;
    assert.equal(count(ours.kernels, CONV_BIAS_ACT_KERNEL), 3);
    assert.equal(count(ours.kernels, "Relu"), 0, "ReLU applied inside the convolution kernel");
    assert.equal(count(ours.kernels, "LessonsMaxPoolGradRelu"), 1, "the pooled ReLU's gradient in the pooling's pass");
    // The first layer's input gradient is not needed: 2 of 3 layers compute one (stock: the 1x1 custom gradient computes it too).
    assert.equal(count(ours.kernels, "Conv2DBackpropInput"), 2);
  });

  it("inference and activations the kernel does not take stay on tfjs's own path", async () => {
    const x = tf.tensor(randomArray(2 * 6 * 6 * 4, 10), [2, 6, 6, 4]) as tf.Tensor4D;
    const filter = tf.tensor(randomArray(3 * 3 * 4 * 5, 11), [3, 3, 4, 5]) as tf.Tensor4D;
    const bias = tf.tensor(randomArray(5, 12));
    const inference = await withPath(true, () => tf.fused.conv2d({ x, filter, strides: 1, pad: "same", bias, activation: "relu" }).dispose());
    assert.ok(!inference.kernels.includes(CONV_BIAS_ACT_KERNEL), "inference keeps tfjs's fused kernel");
    const relu6 = await withPath(true, () =>
      tf.grad((v: tf.Tensor) => tf.sum(tf.fused.conv2d({ x: v as tf.Tensor4D, filter, strides: 1, pad: "same", bias, activation: "relu6" })))(x).dispose());
    assert.ok(!relu6.kernels.includes(CONV_BIAS_ACT_KERNEL), "relu6 is not ours");
    tf.dispose([x, filter, bias]);
  });
});

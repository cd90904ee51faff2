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

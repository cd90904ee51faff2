/** Our wasm Conv2D (compiled kernel, padding by copy, batch split over the helper thread) vs the cpu backend. */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { assertClose, onBackend, randomArray, readyWasm } from "./helpers";
import { helperCalls, helperThreadReady } from "../../lib/backend/helper-thread";
import { useWinogradConvolution } from "../../lib/backend/conv-forward";
import { WasmBackendLike } from "../../lib/backend/wasm-util";

const TOL = 1e-5;

describe("wasm Conv2D forward", () => {
  before(readyWasm);

  const cases = [
    { n: 1, h: 7, w: 6, ci: 3, k: 3, s: 1, pad: "valid", co: 5 },
    { n: 2, h: 9, w: 11, ci: 4, k: 3, s: 1, pad: "same", co: 8 },
    { n: 3, h: 10, w: 9, ci: 5, k: 5, s: 2, pad: "same", co: 13 },
    { n: 2, h: 12, w: 12, ci: 6, k: 1, s: 1, pad: "valid", co: 7 },
    { n: 2, h: 13, w: 8, ci: 2, k: 2, s: 2, pad: "valid", co: 3 },
    { n: 2, h: 8, w: 8, ci: 3, k: 4, s: 1, pad: "same", co: 9 },
    { n: 1, h: 6, w: 7, ci: 3, k: 3, s: 2, pad: [[0, 0], [1, 2], [2, 0], [0, 0]], co: 6 },
  ] as const;
  for (const c of cases) {
    it(`matches cpu: ${JSON.stringify(c)}`, async () => {
      const x = randomArray(c.n * c.h * c.w * c.ci, 51);
      const w = randomArray(c.k * c.k * c.ci * c.co, 52);
      const fn = () =>
        tf.conv2d(tf.tensor4d(x, [c.n, c.h, c.w, c.ci]), tf.tensor4d(w, [c.k, c.k, c.ci, c.co]), c.s,
          c.pad as unknown as "same");
      assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), TOL, "conv2d");
    });
  }

  it("splits a big batch over the helper thread and still matches cpu, without leaking (direct kernel)", async () => {
    useWinogradConvolution(false);
    const backend = tf.findBackend("wasm") as unknown as WasmBackendLike;
    assert.equal(await helperThreadReady(backend.wasm), true);
    const [n, h, w, ci, co] = [5, 20, 19, 8, 12];
    const x = randomArray(n * h * w * ci, 53);
    const f = randomArray(3 * 3 * ci * co, 54);
    const fn = () => tf.conv2d(tf.tensor4d(x, [n, h, w, ci]), tf.tensor4d(f, [3, 3, ci, co]), 1, "same");
    const calls = helperCalls("conv2d_forward");
    const tensors = tf.memory().numTensors;
    const got = await onBackend("wasm", fn);
    assert.equal(helperCalls("conv2d_forward"), calls + 1);
    assert.equal(tf.memory().numTensors, tensors);
    assertClose(got, await onBackend("cpu", fn), TOL, "conv2d split");
    useWinogradConvolution(true);
  });

  // Winograd: 3x3 stride 1 with at least 16 input and output channels, F(4x4, 3x3) except where F(2x2, 3x3)
  // needs fewer products (2x2 maps, and 6x6 ones, a tie); output sizes off multiples of 4 and of 2, channel counts
  // off multiples of 4, 'same' and 'valid', and batches big enough for the helper thread (`split`: the export it runs).
  const winogradCases = [
    { n: 1, h: 6, w: 6, ci: 16, co: 16, pad: "valid" }, // 4x4 output: one 4x4 block
    { n: 2, h: 9, w: 7, ci: 17, co: 37, pad: "same" },
    { n: 3, h: 5, w: 12, ci: 40, co: 34, pad: "valid" }, // 3x10
    { n: 2, h: 4, w: 5, ci: 18, co: 21, pad: "valid" }, // 2x3: F(2x2, 3x3)
    { n: 2, h: 8, w: 8, ci: 20, co: 19, pad: "valid" }, // 6x6: F(2x2, 3x3)
    { n: 12, h: 17, w: 16, ci: 35, co: 32, pad: "same", split: "winograd4_tiles" }, // 240 tiles: worth splitting
    { n: 64, h: 2, w: 2, ci: 40, co: 40, pad: "same", split: "winograd_tiles" }, // 64 2x2 blocks of 40 channels
  ] as const;
  for (const c of winogradCases) {
    it(`Winograd path matches cpu and the direct kernel: ${JSON.stringify(c)}`, async () => {
      const x = randomArray(c.n * c.h * c.w * c.ci, 57).map((v) => v * 4);
      const f = randomArray(9 * c.ci * c.co, 58);
      const fn = () => tf.conv2d(tf.tensor4d(x, [c.n, c.h, c.w, c.ci]), tf.tensor4d(f, [3, 3, c.ci, c.co]), 1, c.pad);
      const split = "split" in c ? c.split : undefined;
      const before = split ? helperCalls(split) : 0;
      const tensors = tf.memory().numTensors;
      const ids = (tf.findBackend("wasm") as unknown as WasmBackendLike).numDataIds();
      const winograd = await onBackend("wasm", fn);
      assert.equal(tf.memory().numTensors, tensors);
      assert.equal((tf.findBackend("wasm") as unknown as WasmBackendLike).numDataIds(), ids, "no wasm buffers left");
      if (split) assert.equal(helperCalls(split), before + 1, `the tiles split over the helper (${split})`);
      useWinogradConvolution(false);
      const direct = await onBackend("wasm", fn);
      useWinogradConvolution(true);
      const ref = await onBackend("cpu", fn);
      assertClose(winograd, ref, 1e-5, "winograd vs cpu");
      assertClose(direct, ref, 1e-5, "direct vs cpu");
    });
  }

  it("leaves dilated convolutions to the stock kernel (same numbers as cpu)", async () => {
    const x = randomArray(2 * 9 * 9 * 3, 55);
    const f = randomArray(3 * 3 * 3 * 4, 56);
    const fn = () => tf.conv2d(tf.tensor4d(x, [2, 9, 9, 3]), tf.tensor4d(f, [3, 3, 3, 4]), 1, "same", "NHWC", 2);
    assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), TOL, "dilated conv2d");
  });

  it("runs FusedConv2D with nothing fused as our Conv2D, and leaves bias and activations to the stock kernel (cpu's numbers)", async () => {
    const [n, h, w, ci, co] = [8, 24, 24, 32, 40];
    const x = randomArray(n * h * w * ci, 57);
    const f = randomArray(ci * co, 58);
    const b = randomArray(co, 59);
    const fused = (bias: boolean, activation: "linear" | "relu") => () =>
      tf.fused.conv2d({ x: tf.tensor4d(x, [n, h, w, ci]), filter: tf.tensor4d(f, [1, 1, ci, co]), strides: 1, pad: "same", bias: bias ? tf.tensor1d(b) : undefined, activation });
    await tf.setBackend("wasm");
    assert.equal(await helperThreadReady((tf.findBackend("wasm") as unknown as WasmBackendLike).wasm), true);
    const kernels = async (fn: () => tf.Tensor) => (await tf.profile(() => tf.tidy(fn))).kernels.map((k) => k.name).filter((k) => !k.endsWith("__op"));
    const direct = helperCalls("conv2d_forward");
    assert.deepEqual(await kernels(fused(false, "linear")), ["FusedConv2D"]);
    assert.ok(helperCalls("conv2d_forward") > direct, "the linear, bias-free case ran our compiled convolution");
    for (const [bias, activation] of [[false, "linear"], [true, "linear"], [true, "relu"], [false, "relu"]] as const) {
      assertClose(await onBackend("wasm", fused(bias, activation)), await onBackend("cpu", fused(bias, activation)), TOL, `fused conv2d, bias ${bias}, ${activation}`);
    }
  });
});

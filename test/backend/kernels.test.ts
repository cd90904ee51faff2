/** Every custom wasm training kernel against the cpu backend's reference kernel on random inputs. */
import { after, before, describe, it } from "node:test";
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { assertClose, onBackend, randomArray, readyWasm } from "./helpers";
import { WasmBackendLike, compiledKernels, useCompiledKernels } from "../../lib/backend/wasm-util";

// float32 sums of up to a few thousand products, in a different order: ~1e-6 relative is float noise.
const TOL = 1e-5;

type Case = { n: number; h: number; w: number; cin: number; k: number; s: number; pad: "same" | "valid"; cout: number };

const convCases: Case[] = [
  { n: 2, h: 7, w: 9, cin: 3, k: 3, s: 1, pad: "same", cout: 5 },
  { n: 2, h: 7, w: 9, cin: 3, k: 3, s: 1, pad: "valid", cout: 4 },
  { n: 1, h: 9, w: 8, cin: 2, k: 3, s: 2, pad: "same", cout: 3 },
  { n: 3, h: 9, w: 7, cin: 4, k: 2, s: 2, pad: "valid", cout: 6 },
  { n: 2, h: 6, w: 6, cin: 5, k: 1, s: 1, pad: "valid", cout: 7 },
  { n: 1, h: 11, w: 10, cin: 3, k: 5, s: 2, pad: "same", cout: 2 },
  { n: 2, h: 8, w: 5, cin: 1, k: 4, s: 1, pad: "same", cout: 3 },
  { n: 1, h: 13, w: 12, cin: 2, k: 5, s: 3, pad: "valid", cout: 2 },
  // Strided input gradients by phases: a residual stage's 3x3 stride 2 (output channels past a SIMD tile), a
  // 1x1 stride-2 projection (positions no tap reaches) and a 7x7 stride 2 with its odd padding.
  { n: 2, h: 8, w: 9, cin: 10, k: 3, s: 2, pad: "same", cout: 20 },
  { n: 2, h: 7, w: 6, cin: 3, k: 1, s: 2, pad: "valid", cout: 4 },
  { n: 1, h: 15, w: 14, cin: 3, k: 7, s: 2, pad: "same", cout: 6 },
  // A small output: the filter gradient sums groups of images (5 of 12 positions each, then the last 2).
  { n: 7, h: 4, w: 3, cin: 6, k: 3, s: 1, pad: "same", cout: 9 },
  // 3x3 stride 1 from 16 channels: Winograd's filter gradient, with odd sizes (blocks cut by the edge) and tails.
  { n: 2, h: 7, w: 9, cin: 16, k: 3, s: 1, pad: "same", cout: 17 },
  { n: 3, h: 6, w: 5, cin: 18, k: 3, s: 1, pad: "valid", cout: 16 },
];

function label(c: Case): string {
  return `${c.n}x${c.h}x${c.w}x${c.cin} k${c.k} s${c.s} ${c.pad}`;
}

function outSize(size: number, c: Case): number {
  return c.pad === "same" ? Math.ceil(size / c.s) : Math.ceil((size - c.k + 1) / c.s);
}

function run(name: string, inputs: Record<string, Float32Array | [Float32Array, number[]]>, attrs: object): () => tf.Tensor {
  return () => {
    const ts: tf.NamedTensorMap = {};
    for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor((v as [Float32Array, number[]])[0], (v as [Float32Array, number[]])[1]);
    return tf.engine().runKernel(name, ts, attrs as tf.NamedAttrMap) as tf.Tensor;
  };
}

for (const compiled of [true, false]) {
  describe(`wasm training kernels match cpu (${compiled ? "compiled training_kernels.wasm" : "plain-JS fallbacks"})`, () => {
    before(async () => {
      await readyWasm();
      useCompiledKernels(compiled);
    });
    after(() => useCompiledKernels(true));

    it("uses the kernels it claims to", () => {
      const loaded = compiledKernels(tf.findBackend("wasm") as unknown as WasmBackendLike) !== undefined;
      assert.equal(loaded, compiled);
    });

    for (const [ci, c] of convCases.entries()) {
      const xShape = [c.n, c.h, c.w, c.cin];
      const dyShape = [c.n, outSize(c.h, c), outSize(c.w, c), c.cout];
      const fShape = [c.k, c.k, c.cin, c.cout];
      const x = randomArray(tf.util.sizeFromShape(xShape), 10 + ci);
      const dy = randomArray(tf.util.sizeFromShape(dyShape), 20 + ci);
      const f = randomArray(tf.util.sizeFromShape(fShape), 30 + ci);
      const base = { strides: [c.s, c.s], pad: c.pad, dataFormat: "NHWC" };

      it(`Conv2DBackpropInput ${label(c)}`, async () => {
        const fn = run("Conv2DBackpropInput", { dy: [dy, dyShape], filter: [f, fShape] }, { ...base, inputShape: xShape });
        assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), TOL, "dx");
      });
      it(`Conv2DBackpropFilter ${label(c)}`, async () => {
        const fn = run("Conv2DBackpropFilter", { x: [x, xShape], dy: [dy, dyShape] }, { ...base, filterShape: fShape });
        assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), TOL, "dW");
      });
      for (const m of [1, 2]) {
        const dwShape = [c.k, c.k, c.cin, m];
        const ddyShape = [dyShape[0], dyShape[1], dyShape[2], c.cin * m];
        const ddy = randomArray(tf.util.sizeFromShape(ddyShape), 40 + ci + m);
        const dw = randomArray(tf.util.sizeFromShape(dwShape), 50 + ci + m);
        const dbase = { ...base, dilations: [1, 1] };
        it(`DepthwiseConv2dNativeBackpropInput ${label(c)} multiplier ${m}`, async () => {
          const fn = run("DepthwiseConv2dNativeBackpropInput", { dy: [ddy, ddyShape], filter: [dw, dwShape] }, { ...dbase, inputShape: xShape });
          assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), TOL, "dx");
        });
        it(`DepthwiseConv2dNativeBackpropFilter ${label(c)} multiplier ${m}`, async () => {
          const fn = run("DepthwiseConv2dNativeBackpropFilter", { x: [x, xShape], dy: [ddy, ddyShape] }, { ...dbase, filterShape: dwShape });
          assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), TOL, "dW");
        });
      }
    }

    // c 3: the scalar path; c 5-8: SIMD lanes plus a tail. Windows that tile the image exactly (8x8 k2 s2),
    // disjoint ones with gaps or leftovers (k2 s3, 7x9 k2 s2), and overlapping ones (s < k).
    const poolCases = [
      { h: 8, w: 8, k: 2, s: 2, pad: "valid" as const, c: 3 },
      { h: 7, w: 9, k: 2, s: 2, pad: "same" as const, c: 3 },
      { h: 9, w: 9, k: 3, s: 2, pad: "valid" as const, c: 3 },
      { h: 6, w: 7, k: 3, s: 1, pad: "same" as const, c: 3 },
      { h: 8, w: 8, k: 2, s: 2, pad: "valid" as const, c: 6 },
      { h: 9, w: 11, k: 2, s: 3, pad: "valid" as const, c: 5 },
      { h: 7, w: 9, k: 2, s: 2, pad: "valid" as const, c: 8 },
      { h: 7, w: 7, k: 3, s: 2, pad: "same" as const, c: 8 },
    ];
    for (const [pi, p] of poolCases.entries()) {
      for (const kind of ["random", "ties", "all-negative", "nan"] as const) {
        it(`MaxPoolGrad ${p.h}x${p.w}x${p.c} k${p.k} s${p.s} ${p.pad} ${kind}`, async () => {
          const xShape = [2, p.h, p.w, p.c];
          let x = randomArray(tf.util.sizeFromShape(xShape), 60 + pi);
          // Ties: values quantised to a few levels so most windows hold repeated maxima.
          if (kind === "ties") x = x.map((v) => Math.round(v * 2) / 2);
          if (kind === "all-negative") x = x.map((v) => -Math.abs(v) - 0.1);
          // NaN at every window position in turn: as on cpu, a NaN never takes dy, wherever it lies in its window.
          if (kind === "nan") x = x.map((v, i) => (i % 7 === 3 ? NaN : v));
          const fn = () => {
            const xt = tf.tensor4d(x, xShape as [number, number, number, number]);
            return tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, p.k, p.s, p.pad).mul(tf.range(1, 1 + outCount(p), 1).reshape(outShape(p))).sum())(xt);
          };
          assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), TOL, "dx");
        });
      }
    }
  });
}

function outShape(p: { h: number; w: number; k: number; s: number; pad: "same" | "valid"; c: number }): number[] {
  const o = (n: number) => (p.pad === "same" ? Math.ceil(n / p.s) : Math.ceil((n - p.k + 1) / p.s));
  return [2, o(p.h), o(p.w), p.c];
}
function outCount(p: { h: number; w: number; k: number; s: number; pad: "same" | "valid"; c: number }): number {
  return tf.util.sizeFromShape(outShape(p));
}

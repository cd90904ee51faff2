/**
 * The compiled product kernels read nothing past their operands: a filter, bias or dy whose channel count is not
 * a multiple of 4 is read lane by lane at its end. (Reading on into whatever follows, a malloc header in practice,
 * multiplied denormal floats, which x86 computes in slow microcode: A's first layer took 30% longer.) Each
 * operand is placed so that it ends on the wasm memory's last byte, where one float too many traps, and the
 * results must equal those from a tensor in the middle of the heap bit for bit.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { randomArray, readyWasm } from "./helpers";
import { NativeKernels } from "../../lib/backend/native-kernels";
import { WasmBackendLike, compiledKernels, f32, ptr } from "../../lib/backend/wasm-util";

let backend: WasmBackendLike;
let native: NativeKernels;

/** Copies values to the very end of the wasm memory (free heap beyond the allocator's top) and returns their address. */
function atMemoryEnd(values: Float32Array): number {
  const heap = backend.wasm.HEAPU8.buffer;
  const at = heap.byteLength - values.byteLength;
  new Float32Array(heap, at, values.length).set(values);
  return at;
}

/** Runs f with values copied into a tensor (its address), freed afterwards. */
function withTensor<T>(values: Float32Array, f: (p: number) => T): T {
  const t = backend.makeOutput([values.length], "float32");
  try {
    f32(backend, t).set(values);
    return f(ptr(backend, t));
  } finally {
    backend.disposeData(t.dataId);
  }
}

/** Runs kernel(operand address, output address) with the operand inside a tensor, then at the memory's end. */
function bothPlacements(operand: Float32Array, outSize: number, kernel: (operand: number, out: number) => void): [Float32Array, Float32Array] {
  const inTensor = backend.makeOutput([operand.length], "float32");
  const [outA, outB] = [backend.makeOutput([outSize], "float32"), backend.makeOutput([outSize], "float32")];
  try {
    f32(backend, inTensor).set(operand);
    f32(backend, outA).fill(0);
    f32(backend, outB).fill(0);
    kernel(ptr(backend, inTensor), ptr(backend, outA));
    kernel(atMemoryEnd(operand), ptr(backend, outB));
    return [f32(backend, outA).slice(), f32(backend, outB).slice()];
  } finally {
    for (const t of [inTensor, outA, outB]) backend.disposeData(t.dataId);
  }
}

describe("compiled kernels read nothing past their operands", () => {
  before(async () => {
    await readyWasm();
    backend = tf.findBackend("wasm") as unknown as WasmBackendLike;
    native = compiledKernels(backend)!;
    assert.ok(native, "the compiled kernels should load");
  });

  const [n, h, w, ci, k] = [2, 6, 5, 3, 3];
  const [oh, ow] = [h - k + 1, w - k + 1];
  for (const co of [1, 2, 3, 5, 6, 7, 50]) {
    const x = randomArray(n * h * w * ci, co);
    const filter = randomArray(k * k * ci * co, co + 100);
    const bias = randomArray(co, co + 200);
    const withX = <T>(f: (xp: number) => T): T => withTensor(x, f);

    it(`convolution with ${co} filters, the filter last in memory`, () => {
      const [inside, atEnd] = withX((xp) => bothPlacements(filter, n * oh * ow * co,
        (fp, op) => native.conv2d_forward(xp, fp, op, n, h, w, ci, oh, ow, co, k, k, 1, 1, 0, 0)));
      assert.deepEqual(atEnd, inside);
      assert.ok(inside.some((v) => v !== 0), "the convolution should compute something");
    });

    it(`convolution with ${co} filters and a bias + ReLU, the bias last in memory`, () => {
      const [inside, atEnd] = withX((xp) => withTensor(filter, (fp) =>
        bothPlacements(bias, n * oh * ow * co, (bp, op) => native.conv2d_forward(xp, fp, op, n, h, w, ci, oh, ow, co, k, k, 1, 1, bp, 3))));
      assert.deepEqual(atEnd, inside);
    });

    it(`filter gradient with ${co} filters, dy last in memory`, () => {
      const dy = randomArray(n * oh * ow * co, co + 300);
      const [inside, atEnd] = withX((xp) => bothPlacements(dy, k * k * ci * co,
        (dyp, dwp) => native.conv2d_backprop_filter(xp, dyp, dwp, n, h, w, ci, oh, ow, co, k, k, 1, 1, 0, 0)));
      assert.deepEqual(atEnd, inside);
      assert.ok(inside.some((v) => v !== 0), "the gradient should compute something");
    });

    it(`depthwise convolution of ${co} channels, the filter and then the input last in memory`, () => {
      const xd = randomArray(n * h * w * co, co + 600);
      const fd = randomArray(k * k * co, co + 700);
      const geometry = [n, h, w, co, h, w, k, k, 1, 1, 1, 1] as const;
      const [inside, atEnd] = withTensor(xd, (xp) => bothPlacements(fd, n * h * w * co, (fp, op) => native.depthwise_forward(xp, fp, op, ...geometry)));
      assert.deepEqual(atEnd, inside);
      assert.ok(inside.some((v) => v !== 0), "the convolution should compute something");
      const [inside2, atEnd2] = withTensor(fd, (fp) => bothPlacements(xd, n * h * w * co, (xp, op) => native.depthwise_forward(xp, fp, op, ...geometry)));
      assert.deepEqual(atEnd2, inside2);
      assert.deepEqual(inside2, inside);
    });

    it(`max pooling of ${co} channels, the input last in memory`, () => {
      const xm = randomArray(n * h * w * co, co + 900);
      const [inside, atEnd] = bothPlacements(xm, n * 3 * 2 * co, (xp, op) => native.max_pool_forward(xp, op, n, h, w, co, 3, 2, 2, 2, 2, 2, 0, 0));
      assert.deepEqual(atEnd, inside);
    });

    it(`ReLU6 of ${co} values, the input last in memory`, () => {
      const v = randomArray(co, co + 800).map((a) => 8 * a);
      const [inside, atEnd] = bothPlacements(v, co, (xp, op) => native.relu_into(xp, op, co, 1));
      assert.deepEqual(atEnd, inside);
    });

    it(`matrix product summed block by block with ${co} columns, b last in memory`, () => {
      const [rows, depth, kb] = [6, 40, 16];
      const a = randomArray(rows * depth, co + 400);
      const b = randomArray(depth * co, co + 500);
      const [inside, atEnd] = withTensor(a, (ap) => bothPlacements(b, rows * co, (bp, cp) => native.gemm_k_blocked(ap, bp, cp, rows, depth, co, kb, 0, 0)));
      assert.deepEqual(atEnd, inside);
    });
  }
});

/**
 * BatchMatMul (dense layers and their gradients) on the wasm backend: our compiled convolution kernel as a 1x1
 * convolution, after transposing an operand where asked; XNNPACK re-packs its weight operand on every call and the
 * stock kernel falls into a scalar loop for transposed operands. Other dtypes and broadcasts go to the stock
 * kernel (given the transposed operands, where a transpose was asked).
 */
import * as tf from "@tensorflow/tfjs";
import { NativeKernels } from "./native-kernels";
import { gemmRows } from "./conv-forward";
import { KernelArgs, Present, WasmBackendLike, callStock, compiledKernels, ptr, runWasmKernel, wasmKernel } from "./wasm-util";

function batchMatMul(args: KernelArgs<Present<tf.BatchMatMulInputs>, tf.BatchMatMulAttrs>): tf.TensorInfo {
  const { inputs: { a, b }, backend, attrs: { transposeA, transposeB } } = args;
  const native = compiledKernels(backend);
  if (a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length < 2 || b.shape.length < 2) return callStock("BatchMatMul", args);
  const outer = (t: tf.TensorInfo) => t.shape.slice(0, -2);
  const [oa, ob] = [outer(a), outer(b)];
  const same = oa.length === ob.length && oa.every((d, i) => d === ob[i]);
  const single = (o: number[]) => tf.util.sizeFromShape(o) === 1;
  // Our kernel handles equal batch dimensions, or one side without any (the usual dense-layer case).
  const ownKernel = native !== undefined && (same || (single(oa) && oa.length <= ob.length) || (single(ob) && ob.length <= oa.length));
  if (!ownKernel && !transposeA && !transposeB) return callStock("BatchMatMul", args);
  const swapLast = (t: tf.TensorInfo): tf.TensorInfo => {
    const r = t.shape.length;
    const perm = [...Array(r).keys()];
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return runWasmKernel(backend, "Transpose", { x: t }, { perm });
  };
  if (ownKernel && transposeB && !transposeA) {
    const swapped = viaTransposedProduct(backend, native!, a, b, swapLast);
    if (swapped) return swapped;
  }
  const a2 = transposeA ? swapLast(a) : a;
  const b2 = transposeB ? swapLast(b) : b;
  try {
    // The output's batch dimensions: the side with real batches, else the longer (all-ones) list, as tfjs does.
    const outShape = !single(oa) ? oa : !single(ob) ? ob : oa.length >= ob.length ? oa : ob;
    if (ownKernel) return matMul(backend, native!, a2, b2, outShape);
    return callStock("BatchMatMul", { ...args, inputs: { a: a2, b: b2 }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
  } finally {
    if (a2 !== a) backend.disposeData(a2.dataId);
    if (b2 !== b) backend.disposeData(b2.dataId);
  }
}

/**
 * a [M, K] times b [N, K] transposed as (b . a^T)^T when the output is smaller than b (a dense layer's input
 * gradient, dy times the weights transposed): two small transposes instead of one of b. The same products
 * (a[i][c] * b[j][c] and b[j][c] * a[i][c] are equal) summed in the same order, so the same numbers.
 * Undefined where it does not pay or does not apply.
 */
function viaTransposedProduct(backend: WasmBackendLike, native: NativeKernels, a: tf.TensorInfo, b: tf.TensorInfo, swapLast: (t: tf.TensorInfo) => tf.TensorInfo): tf.TensorInfo | undefined {
  if (a.shape.length !== 2 || b.shape.length !== 2) return undefined;
  const [[m, k], [n]] = [a.shape, b.shape];
  if (m * k + m * n >= n * k) return undefined;
  const aT = swapLast(a);
  try {
    const product = matMul(backend, native, b, aT, []);
    try {
      return swapLast(product);
    } finally {
      backend.disposeData(product.dataId);
    }
  } finally {
    backend.disposeData(aT.dataId);
  }
}

/**
 * [..., M, K] x [..., K, N] (equal batch dimensions, or a side without any broadcast) with the compiled
 * convolution kernel: a matrix product is a 1x1 convolution of M "pixels" with K channels. The rows of each
 * product split over the helper thread when it is big enough.
 */
function matMul(backend: WasmBackendLike, native: NativeKernels, a: tf.TensorInfo, b: tf.TensorInfo, outer: number[]): tf.TensorInfo {
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[b.shape.length - 1];
  const ba = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const bb = tf.util.sizeFromShape(b.shape.slice(0, -2));
  const batch = tf.util.sizeFromShape(outer);
  const out = backend.makeOutput([...outer, m, n], "float32");
  if (batch * m * n === 0) return out;
  if (k === 0) {
    (backend.typedArrayFromHeap(out) as Float32Array).fill(0);
    return out;
  }
  const [ap, bp, op] = [ptr(backend, a), ptr(backend, b), ptr(backend, out)];
  for (let i = 0; i < batch; i++) {
    gemmRows(native, backend, ap + (ba === 1 ? 0 : i * m * k * 4), bp + (bb === 1 ? 0 : i * k * n * 4), op + i * m * n * 4, m, k, n);
  }
  return out;
}

export const batchMatMulConfig = wasmKernel(tf.BatchMatMul, batchMatMul);

/**
 * Tile on the wasm backend (BatchNorm gradients tile per-channel values over the batch): block copies instead of a
 * per-element index computation. Strings, complex numbers and reps of another rank go to the stock kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { KernelArgs, Present, callStock, wasmKernel } from "./wasm-util";

type Numeric = Float32Array | Int32Array | Uint8Array;

/** Tile by whole-block copies: for each axis from the last, repeat every block of the dims after it. */
function tile(args: KernelArgs<Present<tf.TileInputs>, tf.TileAttrs>): tf.TensorInfo {
  const { inputs: { x }, backend, attrs: { reps } } = args;
  if (x.dtype === "string" || x.dtype === "complex64" || reps.length !== x.shape.length) return callStock("Tile", args);
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const out = backend.makeOutput(outShape, x.dtype);
  const src = backend.typedArrayFromHeap(x) as Numeric;
  const dst = backend.typedArrayFromHeap(out) as Numeric;
  if (dst.length === 0) return out;
  // Broadcasting over leading axes (the gradients of sums and means: [1, 1, 1, C] over [N, H, W, 1]) repeats
  // the whole input: copy it once, then double the copied part with copyWithin (a few large memory moves).
  const firstReal = x.shape.findIndex((d) => d > 1);
  if (firstReal < 0 || reps.slice(firstReal).every((r) => r === 1)) {
    dst.set(src);
    for (let filled = src.length; filled < dst.length; filled *= 2) dst.copyWithin(filled, 0, Math.min(filled, dst.length - filled));
    return out;
  }
  // cur holds the tensor tiled along axes > axis; it grows axis by axis (only axes with reps > 1 cost a pass).
  let cur: Numeric = src;
  let shape = x.shape.slice();
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    if (reps[axis] === 1) continue;
    const block = tf.util.sizeFromShape(shape.slice(axis));
    const outer = tf.util.sizeFromShape(shape.slice(0, axis));
    const next = cur.length * reps[axis] === dst.length ? dst : new (cur.constructor as new (n: number) => Numeric)(cur.length * reps[axis]);
    for (let o = 0; o < outer; o++) {
      const piece = cur.subarray(o * block, (o + 1) * block);
      const base = o * block * reps[axis];
      for (let r = 0; r < reps[axis]; r++) next.set(piece, base + r * block);
    }
    cur = next;
    shape = shape.map((d, i) => (i === axis ? d * reps[axis] : d));
  }
  if (cur !== dst) dst.set(cur);
  return out;
}

export const tileConfig = wasmKernel(tf.Tile, tile);

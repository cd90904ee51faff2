/**
 * Identity, and Cast to the dtype a tensor already has (ReLU's gradient casts a float mask to float), for the wasm
 * backend: share the data (tensors are immutable) instead of copying it. Other casts go to the stock kernel.
 * Slice of one contiguous block (a run of whole batches, as predict and evaluate cut them) copies it within the
 * wasm memory, or shares the data when the slice is the whole tensor.
 */
import * as tf from "@tensorflow/tfjs";
import { KernelArgs, Present, callStock, wasmKernel } from "./wasm-util";

function identity(args: KernelArgs<Present<tf.IdentityInputs>>): tf.TensorInfo {
  const { inputs: { x }, backend } = args;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

function cast(args: KernelArgs<Present<tf.CastInputs>, tf.CastAttrs>): tf.TensorInfo {
  const { inputs: { x }, backend, attrs: { dtype } } = args;
  if (dtype !== x.dtype || dtype === "string" || dtype === "complex64") return callStock("Cast", args);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype };
}

/**
 * The stock wasm Slice first copies the whole input out of the wasm memory into a new JavaScript buffer
 * (readSync), then copies the slice back in: 4 ms for MobileNet's [64, 96, 96, 3] batch in predict, which cuts
 * the batch even when it is the whole input. Non-contiguous slices and strings go to the stock kernel.
 */
function slice(args: KernelArgs<Present<tf.SliceInputs>, tf.SliceAttrs>): tf.TensorInfo {
  const { inputs: { x }, backend, attrs } = args;
  const { slice_util } = tf.backend_util;
  const [begin, size] = slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
  if (x.dtype === "string" || !slice_util.isSliceContinous(x.shape, begin, size)) return callStock("Slice", args);
  const count = tf.util.sizeFromShape(size);
  if (count === tf.util.sizeFromShape(x.shape)) {
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: size, dtype: x.dtype };
  }
  const out = backend.makeOutput(size, x.dtype);
  if (count === 0) return out;
  const offset = slice_util.computeFlatOffset(begin, tf.util.computeStrides(x.shape));
  backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(x).subarray(offset, offset + count));
  return out;
}

export const identityConfig = wasmKernel(tf.Identity, identity);
export const castConfig = wasmKernel(tf.Cast, cast);
export const sliceConfig = wasmKernel(tf.Slice, slice);

/**
 * Identity, and Cast to the dtype a tensor already has (ReLU's gradient casts a float mask to float), for the wasm
 * backend: share the data (tensors are immutable) instead of copying it. Other casts go to the stock kernel.
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

export const identityConfig = wasmKernel(tf.Identity, identity);
export const castConfig = wasmKernel(tf.Cast, cast);

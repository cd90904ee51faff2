/**
 * Identity, and Cast to the dtype a tensor already has (ReLU's gradient casts a float mask to float), for the wasm
 * backend: share the data (tensors are immutable) instead of copying it. Other casts go to the stock kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { WasmBackendLike, callStock } from "./wasm-util";

type Args = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };

export function identity(args: Args): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  (args.backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

export function cast(args: Args): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { dtype } = args.attrs as { dtype: tf.DataType };
  if (dtype !== x.dtype || dtype === "string" || dtype === "complex64") return callStock("Cast", args);
  (args.backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype };
}

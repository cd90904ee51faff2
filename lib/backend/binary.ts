/**
 * Add, Sub, Multiply and RealDiv on the wasm backend where an operand is full, per-channel (last axis), scalar
 * or one value per row (last axis 1): one compiled pass (binary_rows in the C source); the stock kernels take
 * a slow generic broadcasting loop for BatchNorm's per-channel terms, and a per-row division (softmax's and the
 * cross-entropy's normalisation, [32, 10] / [32, 1]) took them 0.2-1 ms. Other broadcasts and dtypes go to the
 * stock kernel. Division is IEEE's, as the stock kernel's, so the same numbers.
 */
import * as tf from "@tensorflow/tfjs";
import { runInHalves } from "./split-work";
import { KernelArgs, Present, callStock, compiledKernels, ptr, wasmKernel } from "./wasm-util";

/**
 * 0: same shape as the output, 1: one value per last-axis entry, 2: scalar, 3: one value per row (the output's
 * shape with a last axis of 1: since broadcast axes are equal or 1, the sizes match only then); undefined:
 * another broadcast.
 */
function operandMode(shape: number[], outShape: number[]): number | undefined {
  const size = tf.util.sizeFromShape(shape);
  const outSize = tf.util.sizeFromShape(outShape);
  if (size === outSize) return 0;
  if (size === 1) return 2;
  const cols = outShape[outShape.length - 1];
  if (size === cols && shape[shape.length - 1] === cols) return 1;
  if (size * cols === outSize && shape[shape.length - 1] === 1) return 3;
  return undefined;
}

/** The kernel `name`, binary_rows's operation `op` (0 add, 1 subtract, 2 multiply, 3 divide). */
function binaryConfig(name: "Add" | "Sub" | "Multiply" | "RealDiv", op: number): tf.KernelConfig {
  return wasmKernel(name, (args: KernelArgs<Present<tf.BinaryInputs>>) => {
    const { inputs: { a, b }, backend } = args;
    const native = compiledKernels(backend);
    if (!native || a.dtype !== "float32" || b.dtype !== "float32") return callStock(name, args);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const size = tf.util.sizeFromShape(outShape);
    const am = operandMode(a.shape, outShape);
    const bm = operandMode(b.shape, outShape);
    if (size === 0 || outShape.length === 0 || am === undefined || bm === undefined) return callStock(name, args);
    // Without a per-channel or per-row operand the rows are one contiguous run: take them as rows of 1024
    // values, since the kernel's per-row overhead made short rows (20 channels) twice as slow as one long row.
    const byRow = am === 1 || bm === 1 || am === 3 || bm === 3;
    const cols = byRow || size % 1024 !== 0 ? outShape[outShape.length - 1] : 1024;
    const out = backend.makeOutput(outShape, "float32");
    const [ap, bp, op0] = [ptr(backend, a), ptr(backend, b), ptr(backend, out)];
    // Where rows r0.. of an operand start: its own rows (mode 0), or its values of those rows (mode 3).
    const from = (p: number, mode: number, r0: number) => (mode === 0 ? p + r0 * cols * 4 : mode === 3 ? p + r0 * 4 : p);
    runInHalves(native, backend, "binary_rows", size / cols, size,
      (r0, n) => [from(ap, am, r0), from(bp, bm, r0), from(op0, 0, r0), n, cols, am, bm, op]);
    return out;
  });
}

export const addConfig = binaryConfig(tf.Add, 0);
export const subConfig = binaryConfig(tf.Sub, 1);
export const multiplyConfig = binaryConfig(tf.Multiply, 2);
export const realDivConfig = binaryConfig(tf.RealDiv, 3);

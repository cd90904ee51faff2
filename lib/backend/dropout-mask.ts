/**
 * LessonsDropoutMask, our own kernel: the seeded dropout layer's mask (lib/seeded-dropout.ts) made in compiled
 * code straight into the wasm memory, the same numbers as its JavaScript dropoutMask. The JavaScript loop took
 * about 11 ns per activation, 20 ms of a CIFAR-10 training step with three dropout layers; mulberry32's state
 * jumps ahead, so the kernel makes four entries at a time and splits them over the helper thread.
 */
import * as tf from "@tensorflow/tfjs";
import { runOverValues } from "./split-work";
import { KernelArgs, compiledKernelReady, compiledKernels, ptr, wasmKernel } from "./wasm-util";

export const DROPOUT_MASK_KERNEL = "LessonsDropoutMask";

export type LessonsDropoutMaskAttrs = { shape: number[]; rate: number; seed: number };

const TWO_32 = 4294967296;

function dropoutMask(args: KernelArgs<Record<string, never>, LessonsDropoutMaskAttrs>): tf.TensorInfo {
  const { backend, attrs: { shape, rate, seed } } = args;
  const native = compiledKernels(backend);
  if (!native) throw new Error(`${DROPOUT_MASK_KERNEL} needs the compiled training kernels (wasm/training_kernels.wasm).`);
  const out = backend.makeOutput(shape, "float32");
  const size = tf.util.sizeFromShape(shape);
  if (size === 0) return out;
  // draw / 2^32 < rate (both exact in doubles) is draw < ceil(rate * 2^32) for a whole number draw.
  const thr = Math.ceil(rate * TWO_32);
  const dropAll = thr >= TWO_32 ? 1 : 0;
  const keptBits = new Int32Array(new Float32Array([1 / (1 - rate)]).buffer)[0];
  const state0 = (Math.floor(seed) >>> 0) | 0;
  const op = ptr(backend, out);
  // Entry at / 4 is the first of a part (at: its byte offset).
  runOverValues(native, backend, "dropout_mask", size, size, (at, count) => [op + at, at / 4, count, state0, dropAll ? 0 : thr | 0, dropAll, keptBits]);
  return out;
}

export const dropoutMaskConfig = wasmKernel(DROPOUT_MASK_KERNEL, dropoutMask);

/** The mask as a tensor made by the kernel, or undefined where it cannot run (other backends, no compiled kernels). */
export function compiledDropoutMask(shape: number[], rate: number, seed: number): tf.Tensor | undefined {
  if (!compiledKernelReady(DROPOUT_MASK_KERNEL)) return undefined;
  const attrs: LessonsDropoutMaskAttrs = { shape, rate, seed };
  return tf.engine().runKernel(DROPOUT_MASK_KERNEL, {}, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

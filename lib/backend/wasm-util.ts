/**
 * Small helpers for writing kernels at the backend level on tfjs's wasm backend: TensorInfo in, TensorInfo out,
 * every intermediate freed with backend.disposeData. Working at this level (instead of calling tf ops inside a
 * kernel) keeps the engine's tensor bookkeeping untouched, so custom kernels cannot leak tensors.
 */
import * as tf from "@tensorflow/tfjs";
import { NativeKernels, nativeKernelsFor } from "./native-kernels";
import type { WasmMemory } from "./wasm-api";
import { wasmJsKernels } from "../config";

/** The parts of tfjs-backend-wasm's BackendWasm that our kernels use. */
export interface WasmBackendLike extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
  wasm: { asm?: { memory?: WasmMemory }; wasmMemory?: WasmMemory; _malloc(bytes: number): number; HEAPU8: Uint8Array };
}

/**
 * What every kernel function of ours is called with: tfjs's kernel arguments, typed for that kernel. I and A are
 * tfjs's own `*Inputs` and `*Attrs` types (tf.Conv2DInputs, tf.Conv2DAttrs, ...) or, for our own kernels, the
 * types declared next to them; A is left out for kernels without attributes. tfjs's `*Inputs` allow every tensor
 * to be missing: `Present<...>` marks the inputs a kernel can count on.
 */
export interface KernelArgs<I extends object, A extends object | undefined = undefined> {
  inputs: I;
  backend: WasmBackendLike;
  attrs: A;
}

/** A kernel's inputs with every tensor there (tfjs's `*Inputs` types allow each to be undefined). */
export type Present<I> = { [K in keyof I]-?: tf.TensorInfo };

/** The registration of one of our kernels on the wasm backend (the one place its function is cast to tf.KernelFunc). */
export function wasmKernel<I extends object, A extends object | undefined>(
  kernelName: string,
  kernelFunc: (args: KernelArgs<I, A>) => tf.TensorInfo | tf.TensorInfo[],
): tf.KernelConfig {
  return { kernelName, backendName: "wasm", kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

let nativeEnabled = !wasmJsKernels();

/** Switch between the compiled kernels (default) and their plain-JS versions (tests cover both). */
export function useCompiledKernels(on: boolean): void {
  nativeEnabled = on;
}

/** The compiled training kernels sharing this backend's memory, or undefined (then use the JS versions). */
export function compiledKernels(backend: WasmBackendLike): NativeKernels | undefined {
  return nativeEnabled ? nativeKernelsFor(backend.wasm) : undefined;
}

/**
 * Whether our own kernel `kernelName` can run now: the wasm backend is the active one, the kernel is registered
 * and the compiled kernels are loaded (the ops that route work to our kernels check this first).
 */
export function compiledKernelReady(kernelName: string): boolean {
  return tf.getBackend() === "wasm" && tf.getKernel(kernelName, "wasm") !== undefined &&
    compiledKernels(tf.backend() as unknown as WasmBackendLike) !== undefined;
}

/** Byte offset of a tensor's data in the wasm memory. */
export function ptr(backend: WasmBackendLike, info: tf.TensorInfo): number {
  return backend.typedArrayFromHeap(info).byteOffset;
}

/** Runs another wasm kernel directly (no engine, no tape): the caller owns and must dispose the result. */
export function runWasmKernel(
  backend: WasmBackendLike,
  name: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  const kernel = tf.getKernel(name, "wasm");
  if (!kernel) throw new Error(`The wasm backend has no '${name}' kernel; is @tensorflow/tfjs-backend-wasm 4.22.0 installed?`);
  const out = kernel.kernelFunc({ inputs, attrs, backend });
  return Array.isArray(out) ? out[0] : out;
}

/** A float32 view of a tensor's data on the wasm heap. Take views only after every makeOutput of a kernel:
 * allocating may grow the heap and detach older views. */
export function f32(backend: WasmBackendLike, info: tf.TensorInfo): Float32Array {
  if (info.dtype !== "float32") throw new Error(`Expected a float32 tensor, got ${info.dtype} (shape ${info.shape}).`);
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** A zero-filled float32 output (makeOutput's memory is not cleared by malloc). */
export function zeros(backend: WasmBackendLike, shape: number[]): tf.TensorInfo {
  const out = backend.makeOutput(shape, "float32");
  f32(backend, out).fill(0);
  return out;
}

/** Same data, another shape (no copy): only for passing to a kernel that reads it. */
export function reshaped(info: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

export function as4D(shape: number[], what: string): [number, number, number, number] {
  if (shape.length !== 4) throw new Error(`${what} must be 4-D (NHWC), got shape [${shape}].`);
  return shape as [number, number, number, number];
}

/**
 * [h, w, c, oh, ow, kh, kw, sh, sw, padTop, padLeft]: the arguments after the batch count that our sliding-window
 * kernels take (max pooling and its gradient, depthwise convolution and its input gradient), from tfjs's
 * convolution or pooling info (the effective window: these kernels run undilated).
 */
export function windowGeometry(info: tf.backend_util.Conv2DInfo): number[] {
  return [info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.effectiveFilterHeight,
    info.effectiveFilterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left];
}

/** True for channels-last data (NHWC; tfjs also passes "channelsLast", or nothing). */
export function isChannelsLast(dataFormat: unknown): boolean {
  return dataFormat === undefined || dataFormat === "NHWC" || dataFormat === "channelsLast";
}

export function checkNHWC(dataFormat: unknown, kernel: string): void {
  if (!isChannelsLast(dataFormat)) {
    throw new Error(`${kernel} on wasm supports only channels-last (NHWC) data, got dataFormat '${String(dataFormat)}'.`);
  }
}

/** A convolution's dilations as [height, width]: tfjs passes nothing, null, one number or a pair. */
function dilationPair(dilations: unknown): [number, number] {
  if (dilations == null) return [1, 1];
  return typeof dilations === "number" ? [dilations, dilations] : (dilations as [number, number]);
}

export function isUndilated(dilations: unknown): boolean {
  return dilationPair(dilations).every((v) => v === 1);
}

export function checkNoDilation(dilations: unknown, kernel: string): void {
  if (!isUndilated(dilations)) {
    const d = dilationPair(dilations);
    throw new Error(`${kernel} on wasm supports only dilation 1 (got [${d}]); tfjs has no gradient for dilated convolutions either.`);
  }
}

type KernelFn = (args: KernelArgs<object, object | undefined>) => tf.TensorInfo | tf.TensorInfo[];

/** The stock wasm kernels we replace, captured before registering ours, so ours can hand cases back to them. */
const stockKernels = new Map<string, KernelFn>();

export function rememberStockKernel(name: string): void {
  if (stockKernels.has(name)) return;
  const k = tf.getKernel(name, "wasm");
  if (k) stockKernels.set(name, k.kernelFunc as unknown as KernelFn);
}

/** Runs the stock wasm kernel `name` (captured by rememberStockKernel). */
export function callStock(name: string, args: KernelArgs<object, object | undefined>): tf.TensorInfo {
  const fn = stockKernels.get(name);
  if (!fn) throw new Error(`The stock wasm '${name}' kernel was not captured; call registerWasmTrainingKernels() once the wasm backend is registered.`);
  const out = fn(args);
  return Array.isArray(out) ? out[0] : out;
}

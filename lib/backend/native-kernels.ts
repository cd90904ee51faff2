/**
 * Loads wasm/training_kernels*.wasm (built from wasm/training_kernels.c by scripts/build-wasm.sh) into the wasm
 * backend's own memory, so its kernels work on tensors in place (the -shared build for the threaded backend,
 * whose memory is shared; the relaxed-SIMD or plain build as kernel-build.ts chooses). Returns undefined when it
 * cannot be used; callers then fall back to JS kernels.
 */
import * as fs from "fs";
import { debugMessages } from "../config";
import { fallBackToPlainBuild, kernelBuildChoice, kernelBuildPath } from "./kernel-build";
import { WasmGlobal, WasmMemory, wasmApi } from "./wasm-api";

/**
 * The most columns (channels) of the kernels that keep per-column sums in a fixed buffer: SUM_COLS in the C
 * source (batch_norm_grad, relu_grad_sum and the moments passes; sum_rows goes column block by block beyond it).
 */
export const SUM_COLS = 2048;

export interface NativeKernels {
  conv2d_backprop_filter(
    x: number, dy: number, dw: number, n: number, h: number, w: number, ci: number, oh: number, ow: number,
    co: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
  max_pool_grad(
    x: number, dy: number, dx: number, n: number, h: number, w: number, c: number, oh: number, ow: number,
    fh: number, fw: number, sh: number, sw: number, pt: number, pl: number, reluMask: number,
  ): void;
  depthwise_backprop_filter(
    x: number, dy: number, dw: number, n: number, h: number, w: number, c: number, oh: number, ow: number,
    m: number, kh: number, kw: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
  sum_rows(x: number, out: number, rows: number, cols: number): void;
  sq_dev_rows(x: number, mean: number, out: number, rows: number, cols: number): void;
  moments_grad(x: number, coef: number, dx: number, rows: number, cols: number): void;
  binary_rows(a: number, b: number, out: number, rows: number, cols: number, aMode: number, bMode: number, op: number): void;
  batch_norm_rows(x: number, coef: number, out: number, rows: number, cols: number): void;
  conv2d_forward(
    x: number, w: number, out: number, n: number, h: number, wd: number, ci: number, oh: number, ow: number, co: number,
    kh: number, kw: number, sh: number, sw: number, bias?: number, act?: number,
  ): void;
  conv2d_forward_into(
    x: number, w: number, out: number, n: number, h: number, wd: number, ci: number, oh: number, ow: number, co: number,
    kh: number, kw: number, oImg: number, oRow: number, oPx: number,
  ): void;
  gemm_k_blocked(a: number, b: number, c: number, rows: number, k: number, n: number, kb: number, bias: number, act: number): void;
  max_pool_forward(
    x: number, y: number, n: number, h: number, wd: number, c: number, oh: number, ow: number,
    kh: number, kw: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
  depthwise_forward(
    x: number, w: number, y: number, n: number, h: number, wd: number, c: number, oh: number, ow: number,
    kh: number, kw: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
  relu_into(x: number, out: number, size: number, six: number): void;
  relu_grad(dy: number, x: number, out: number, size: number): void;
  relu_grad_sum(dy: number, x: number, out: number, sums: number, rows: number, cols: number): void;
  bias_act_rows(y: number, bias: number, rows: number, cols: number, withBias: number, relu: number): void;
  dropout_mask(out: number, first: number, count: number, state0: number, thr: number, dropAll: number, keptBits: number): void;
  max_middle(x: number, out: number, outer: number, mid: number, inner: number): void;
  max_middle_grad(x: number, y: number, dy: number, dx: number, outer: number, mid: number, inner: number): void;
  winograd_filter(w: number, u: number, ci: number, co: number): void;
  winograd4_filter(w: number, u: number, ci: number, co: number): void;
  winograd_filter_grad_tiles(
    x: number, dy: number, scratch: number, m: number, h: number, w: number, ci: number, oh: number, ow: number,
    co: number, th: number, tw: number, pt: number, pl: number, t0: number, count: number, block: number,
  ): void;
  winograd_filter_grad_output(m: number, dw: number, ci: number, co: number): void;
  winograd_tiles(
    x: number, u: number, scratch: number, y: number, h: number, w: number, ci: number, oh: number, ow: number, co: number,
    th: number, tw: number, t0: number, count: number, block: number, bias?: number, act?: number,
  ): void;
  winograd4_tiles(
    x: number, u: number, scratch: number, y: number, h: number, w: number, ci: number, oh: number, ow: number, co: number,
    th: number, tw: number, t0: number, count: number, block: number, bias?: number, act?: number,
  ): void;
  depthwise_backprop_input(
    dy: number, w: number, dx: number, n: number, h: number, wd: number, c: number, oh: number, ow: number,
    kh: number, kw: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
  batch_norm_grad(dy: number, x: number, coef: number, dx: number, sums: number, rows: number, cols: number): void;
  batch_norm_grad_sums(dy: number, x: number, coef: number, sums: number, rows: number, cols: number): void;
  batch_norm_train_dx(dy: number, x: number, coef: number, dx: number, rows: number, cols: number): void;
  adam_update(
    value: number, m: number, v: number, g: number, valueOut: number, mOut: number, vOut: number, size: number,
    b1: number, oneMinusB1: number, b2: number, oneMinusB2: number, c1: number, c2: number, eps: number, negLr: number,
  ): void;
}

/** What we need of the emscripten module inside tfjs's BackendWasm. */
interface EmscriptenModule {
  asm?: { memory?: WasmMemory };
  /** The threaded build creates its (shared) memory in JS and keeps it here. */
  wasmMemory?: WasmMemory;
  _malloc(bytes: number): number;
}

const STACK_BYTES = 64 * 1024;
const loaded = new WeakMap<object, NativeKernels | null>();

/** The module file of the chosen build (the helper thread loads the same one). */
export function kernelModulePath(shared: boolean): string {
  return kernelBuildPath(kernelBuildChoice().build, shared);
}

function instantiate(memory: WasmMemory, shared: boolean): { exports: Record<string, unknown> } {
  try {
    return new wasmApi.Instance(new wasmApi.Module(fs.readFileSync(kernelModulePath(shared))), { env: { memory } });
  } catch (err) {
    if (kernelBuildChoice().build === "simd") throw err;
    fallBackToPlainBuild((err as Error).message);
    return new wasmApi.Instance(new wasmApi.Module(fs.readFileSync(kernelModulePath(shared))), { env: { memory } });
  }
}

export function nativeKernelsFor(wasmModule: EmscriptenModule): NativeKernels | undefined {
  const cached = loaded.get(wasmModule);
  if (cached !== undefined) return cached ?? undefined;
  let result: NativeKernels | null = null;
  try {
    const memory = wasmModule.asm?.memory ?? wasmModule.wasmMemory;
    if (!memory) throw new Error("the wasm backend does not expose its memory");
    const shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
    const instance = instantiate(memory, shared);
    const sp = instance.exports.__stack_pointer as WasmGlobal;
    // Our C code may spill a few bytes to its shadow stack: give it a block of tfjs's heap, never freed.
    const stackBase = wasmModule._malloc(STACK_BYTES) >>> 0;
    sp.value = stackBase + STACK_BYTES - 16;
    result = instance.exports as unknown as NativeKernels;
  } catch (err) {
    if (debugMessages()) console.warn(`training_kernels.wasm not used: ${(err as Error).message}`);
  }
  loaded.set(wasmModule, result);
  return result ?? undefined;
}

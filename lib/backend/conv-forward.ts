/**
 * Conv2D forward for the wasm backend with our compiled kernel (wasm/training_kernels.c: conv2d_forward), which
 * on the lessons' 3x3 layers runs 5-25% faster than the stock XNNPACK convolution (measured side by side), and
 * splits the batch with the helper thread; 3x3 stride-1 layers with 16+ channels use Winograd on top (F(4x4, 3x3),
 * or F(2x2, 3x3) on small maps).
 * Padding copies the input into a buffer whose border is cleared (a few percent of the convolution's time). Dilated, channels-first or non-float32 convolutions go to the stock kernel.
 * Conv2DBackpropInput uses the same kernel (a stride-1 valid convolution of the padded dy).
 */
import * as tf from "@tensorflow/tfjs";
import { wasmNoWinograd } from "../config";
import { macWork, runInHalves } from "./split-work";
import { NativeKernels } from "./native-kernels";
import { KernelArgs, Present, WasmBackendLike, as4D, callStock, compiledKernels, f32, isChannelsLast, isUndilated, ptr, wasmKernel } from "./wasm-util";

/**
 * A convolution's bias and activation, applied to each sum before it is stored (epilogue() in the C source): the
 * bias's address (0 without one) and the act bits.
 */
export interface Epilogue {
  bias: number;
  act: number;
}
export const EPI_BIAS = 1;
export const EPI_RELU = 2;
const NO_EPILOGUE: Epilogue = { bias: 0, act: 0 };

/**
 * out [N, OH, OW, Co] = valid convolution of x [N, H, W, Ci] (already padded) with filter [KH, KW, Ci, Co] at the
 * given strides, then the epilogue (none by default), computed by the compiled kernel, the second half of the
 * batch on the helper thread when it pays. `outSize` keeps only the first rows and columns of the output (for an
 * input padded further than the convolution needs, see winogradInputSize). Returns undefined (nothing allocated)
 * when the compiled kernel cannot be used for these tensors.
 */
export function convValid(backend: WasmBackendLike, x: tf.TensorInfo, filter: tf.TensorInfo, sh: number, sw: number, epi: Epilogue = NO_EPILOGUE,
  outSize?: [number, number]): tf.TensorInfo | undefined {
  const native = compiledKernels(backend);
  if (!native || x.dtype !== "float32" || filter.dtype !== "float32") return undefined;
  const [n, h, w, ci] = as4D(x.shape, "x");
  const [kh, kw, fci, co] = as4D(filter.shape, "filter");
  if (fci !== ci || h < kh || w < kw) return undefined;
  const oh = Math.min(Math.floor((h - kh) / sh) + 1, outSize?.[0] ?? Infinity);
  const ow = Math.min(Math.floor((w - kw) / sw) + 1, outSize?.[1] ?? Infinity);
  if (winogradFor(kh, kw, sh, sw, ci, co) && oh >= 2 && ow >= 2) {
    return winograd(native, backend, x, filter, n, h, w, ci, oh, ow, co, epi);
  }
  const out = backend.makeOutput([n, oh, ow, co], "float32");
  if (n * oh * ow * co === 0) return out;
  const [xp, fp, op] = [ptr(backend, x), ptr(backend, filter), ptr(backend, out)];
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1) {
    // Every pixel is one row of a matrix product: whole register tiles even when a row of the image is short
    // (MobileNet's 6x6 and 3x3 maps filled 6 and 3 of every 8 pixel slots). Each sum runs in the same order.
    gemmRows(native, backend, xp, fp, op, n * h * w, ci, co, epi);
    return out;
  }
  runInHalves(native, backend, "conv2d_forward", n, macWork(n * oh * ow * co * kh * kw * ci),
    (b0, count) => [xp + b0 * h * w * ci * 4, fp, op + b0 * oh * ow * co * 4, count, h, w, ci, oh, ow, co, kh, kw, sh, sw, epi.bias, epi.act]);
  return out;
}

/**
 * Below this many input or output channels Winograd does not pay: its transforms cost as much as the products it
 * saves. Measured side by side on 3x3 layers (blocked Winograd, fastest of 8): even at 16 and 20 channels,
 * 10% faster at 24, 10-35% at 32-64 channels, 1.75x at 50 channels on 62x62 (lesson 01's CNN).
 */
const WINOGRAD_MIN_CHANNELS = 16;

let useWinograd = !wasmNoWinograd();

/** Whether a layer of this filter size, stride and channel counts goes through Winograd (forward and filter gradient). */
export function winogradFor(kh: number, kw: number, sh: number, sw: number, ci: number, co: number): boolean {
  return useWinograd && kh === 3 && kw === 3 && sh === 1 && sw === 1 && ci >= WINOGRAD_MIN_CHANNELS && co >= WINOGRAD_MIN_CHANNELS;
}

/**
 * The Winograd output block (4: F(4x4, 3x3), 2: F(2x2, 3x3)) that needs fewer products for an [oh, ow] output:
 * 36 per 4x4 block against 16 per 2x2 block, so 4 except on small maps (a 2x2 output fills a quarter of a 4x4
 * block). On a tie (6x6) the 2x2 blocks, whose sums are rounded less.
 */
function winogradTile(oh: number, ow: number): 2 | 4 {
  const blocks = (t: number) => Math.ceil(oh / t) * Math.ceil(ow / t);
  return 36 * blocks(4) < 16 * blocks(2) ? 4 : 2;
}

/**
 * The input size a valid convolution with this output goes through Winograd on (every output block's patch,
 * 2 wider and higher than the block, inside it), or undefined where it does not use Winograd. A caller that pads
 * its input anyway can pad it to this size at once, instead of Winograd copying it again (lesson 01's 31x31
 * input gradient).
 */
export function winogradInputSize(kh: number, kw: number, ci: number, co: number, oh: number, ow: number): [number, number] | undefined {
  if (!winogradFor(kh, kw, 1, 1, ci, co) || oh < 2 || ow < 2) return undefined;
  return patchesSize(oh, ow, winogradTile(oh, ow));
}

/** The input that holds the (tile + 2)-square patch of every tile x tile block of an [oh, ow] output. */
function patchesSize(oh: number, ow: number, tile: number): [number, number] {
  return [tile * Math.ceil(oh / tile) + 2, tile * Math.ceil(ow / tile) + 2];
}

/** Switch the Winograd paths for 3x3 stride-1 convolutions and their filter gradients on or off (tests compare both with cpu). */
export function useWinogradConvolution(on: boolean): void {
  useWinograd = on;
}

/**
 * A 3x3 stride-1 valid convolution by Winograd (see winograd* in the C source), F(4x4, 3x3) or on small maps
 * F(2x2, 3x3) (winogradTile): transform the filter once, then for each block of tiles transform the input, do
 * the 36 (or 16) matrix products with the 1x1 convolution kernel and transform back (winograd4_tiles or
 * winograd_tiles), half of the tiles on the helper thread. 4x (2.25x) fewer products than the direct kernel;
 * results agree with it to float rounding (about 1e-6 of the largest output for F(4x4, 3x3), 1e-7 for F(2x2, 3x3)).
 */
function winograd(native: NativeKernels, backend: WasmBackendLike, x: tf.TensorInfo, filter: tf.TensorInfo, n: number, h: number, w: number, ci: number, oh: number, ow: number, co: number, epi: Epilogue): tf.TensorInfo {
  const tile = winogradTile(oh, ow);
  const values = (tile + 2) * (tile + 2); // transformed values per tile and channel: 36 or 16
  const th = Math.ceil(oh / tile);
  const tw = Math.ceil(ow / tile);
  const total = n * th * tw;
  // Every patch must lie inside the input: pad outputs that are not a multiple of the tile with zero rows or columns.
  const [hNeed, wNeed] = patchesSize(oh, ow, tile);
  const input = h < hNeed || w < wNeed ? padInput(backend, x, hNeed, wNeed, 0, 0) : x;
  const [hi, wi] = [input.shape[1], input.shape[2]];
  const block = winogradBlock(values, ci, co);
  const scratchFloats = values * block * (ci + co);
  const u = backend.makeOutput([values * ci * co], "float32");
  // One block's transformed tiles for each thread.
  const scratch = backend.makeOutput([2 * scratchFloats], "float32");
  const out = backend.makeOutput([n, oh, ow, co], "float32");
  let ok = false;
  try {
    const [xp, fp, up, sp, op] = [input, filter, u, scratch, out].map((t) => ptr(backend, t));
    (tile === 4 ? native.winograd4_filter : native.winograd_filter)(fp, up, ci, co);
    // Work: the products (one per transformed value, tile and channel pair) plus the transforms' values.
    runInHalves(native, backend, tile === 4 ? "winograd4_tiles" : "winograd_tiles", total, macWork(values * total * ci * co) + 2 * values * total * (ci + co),
      (t0, count) => [xp, up, sp + (t0 === 0 ? 0 : scratchFloats * 4), op, hi, wi, ci, oh, ow, co, th, tw, t0, count, block, epi.bias, epi.act]);
    ok = true;
    return out;
  } finally {
    // After a failure (a hung helper thread) its buffers stay allocated: the worker may still write to them.
    if (ok) {
      for (const t of [u, scratch]) backend.disposeData(t.dataId);
      if (input !== x) backend.disposeData(input.dataId);
    }
  }
}

/**
 * Tiles per Winograd block: a block's transformed input and products (`values` per tile and channel, 36 forward
 * and 16 for the filter gradient, x tiles x (ci + co) floats) should stay in a core's L2 cache (192 KB of it
 * here), with at least 16 tiles so that the products keep a whole register tile of rows busy.
 */
export function winogradBlock(values: number, ci: number, co: number): number {
  return Math.max(16, Math.floor((192 * 1024) / (4 * values * (ci + co))));
}

/** Floats of b one block of gemm_k_blocked reads: about half of a core's 48-64 KB first-level data cache. */
const K_BLOCK_FLOATS = 8192;

/**
 * [rows, k] x [k, n] at raw pointers by the 1x1 convolution kernel (then the epilogue), the rows split over the
 * helper thread. A product of few rows with a b bigger than the first-level cache (a dense layer's weights)
 * goes block of k by block of k (gemm_k_blocked), the same sums in the same order.
 */
export function gemmRows(native: NativeKernels, backend: WasmBackendLike, a: number, b: number, c: number, rows: number, k: number, n: number, epi: Epilogue = NO_EPILOGUE): void {
  // At least 4 rows (one register tile) on each side.
  const work = rows >= 8 ? macWork(rows * k * n) : 0;
  const kb = Math.max(16, Math.floor(K_BLOCK_FLOATS / n));
  if (rows <= 64 && kb < k) {
    runInHalves(native, backend, "gemm_k_blocked", rows, work, (r0, count) => [a + r0 * k * 4, b, c + r0 * n * 4, count, k, n, kb, epi.bias, epi.act]);
    return;
  }
  runInHalves(native, backend, "conv2d_forward", rows, work,
    (r0, count) => [a + r0 * k * 4, b, c + r0 * n * 4, 1, 1, count, k, 1, count, n, 1, 1, 1, 1, epi.bias, epi.act]);
}

/**
 * x [N, H, W, C] copied into a [N, hp, wp, C] buffer with x's row r, column c at row top + r, column left + c;
 * what falls outside the buffer is cropped (top and left may be negative), everything else is zero. Only the
 * border is cleared: the interior is written once, by the copy.
 */
export function padInput(backend: WasmBackendLike, x: tf.TensorInfo, hp: number, wp: number, top: number, left: number): tf.TensorInfo {
  const [n, h, w, c] = as4D(x.shape, "x");
  const out = backend.makeOutput([n, hp, wp, c], "float32");
  const src = f32(backend, x);
  const dst = f32(backend, out);
  // The first source row and column that land inside, where they land, and how many do.
  const [r0, c0] = [Math.max(0, -top), Math.max(0, -left)];
  const [dTop, dLeft] = [Math.min(hp, top + r0), Math.min(wp, left + c0)];
  const rows = Math.max(0, Math.min(h - r0, hp - dTop));
  const cols = Math.max(0, Math.min(w - c0, wp - dLeft));
  const rowLen = wp * c;
  for (let b = 0; b < n; b++) {
    const image = b * hp * rowLen;
    dst.fill(0, image, image + dTop * rowLen);
    dst.fill(0, image + (dTop + rows) * rowLen, image + hp * rowLen);
    for (let r = 0; r < rows; r++) {
      const row = image + (dTop + r) * rowLen;
      dst.fill(0, row, row + dLeft * c);
      const from = ((b * h + r0 + r) * w + c0) * c;
      dst.set(src.subarray(from, from + cols * c), row + dLeft * c);
      dst.fill(0, row + (dLeft + cols) * c, row + rowLen);
    }
  }
  return out;
}

/**
 * Conv2D by the compiled kernel, then the epilogue (none by default); undefined (nothing allocated) where the
 * compiled kernel does not take these tensors (channels-first, dilated, other dtypes).
 */
export function compiledConv2D(args: KernelArgs<Present<tf.Conv2DInputs>, tf.Conv2DAttrs>, epi: Epilogue = NO_EPILOGUE): tf.TensorInfo | undefined {
  const { inputs: { x, filter }, backend, attrs } = args;
  if (!isChannelsLast(attrs.dataFormat) || !isUndilated(attrs.dilations) || x.shape.length !== 4 || filter.shape.length !== 4 || !compiledKernels(backend)) return undefined;
  const info = tf.backend_util.computeConv2DInfo(as4D(x.shape, "x"), as4D(filter.shape, "filter"), attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const hp = (info.outHeight - 1) * info.strideHeight + info.filterHeight;
  const wp = (info.outWidth - 1) * info.strideWidth + info.filterWidth;
  const { top, left } = info.padInfo;
  const needsPad = top !== 0 || left !== 0 || hp > info.inHeight || wp > info.inWidth;
  const input = needsPad ? padInput(backend, x, hp, wp, top, left) : x;
  try {
    return convValid(backend, input, filter, info.strideHeight, info.strideWidth, epi);
  } finally {
    if (input !== x) backend.disposeData(input.dataId);
  }
}

export function conv2D(args: KernelArgs<Present<tf.Conv2DInputs>, tf.Conv2DAttrs>): tf.TensorInfo {
  return compiledConv2D(args) ?? callStock("Conv2D", args);
}

export const conv2DConfig = wasmKernel(tf.Conv2D, conv2D);

/**
 * FusedConv2D with nothing fused (no bias, a linear activation): what tfjs-layers runs while training a
 * convolution without bias whose output goes to batch normalization. The stock kernel (XNNPACK) reached about
 * half of our Conv2D's speed on MobileNet's 1x1 convolutions. Everything else goes to the stock kernel.
 */
function fusedConv2D(args: KernelArgs<tf.FusedConv2DInputs, tf.FusedConv2DAttrs>): tf.TensorInfo {
  const { inputs: { x, filter, bias, preluActivationWeights }, attrs } = args;
  const plain = x && filter && !bias && !preluActivationWeights && (attrs.activation === undefined || attrs.activation === "linear");
  if (!plain) return callStock("FusedConv2D", args);
  return conv2D({ ...args, inputs: { x, filter } });
}

export const fusedConv2DConfig = wasmKernel(tf.FusedConv2D, fusedConv2D);

/**
 * Conv2D forward for the wasm backend with our compiled kernel (wasm/training_kernels.c: conv2d_forward), which
 * on the lessons' layer shapes runs about 1.3-1.6x the speed of the stock XNNPACK convolution per thread, and
 * splits the batch with the helper thread. Padding is applied by copying the input into a zeroed buffer (a few
 * percent of the convolution's time). Dilated, channels-first or non-float32 convolutions go to the stock kernel.
 * Conv2DBackpropInput uses the same kernel (a stride-1 valid convolution of the padded dy).
 */
import * as tf from "@tensorflow/tfjs";
import { splitOnHelper } from "./helper-thread";
import { NativeKernels } from "./native-kernels";
import { WasmBackendLike, as4D, compiledKernels, f32, hasSlack, ptr } from "./wasm-util";

type Args = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };
type Geometry = [number, number, number, number, number, number, number, number, number, number, number];

/** Below this many multiply-adds the helper hand-over costs more than it saves. */
const PARALLEL_MIN_MACS = 1e6;

/**
 * out [N, OH, OW, Co] = valid convolution of x [N, H, W, Ci] (already padded) with filter [KH, KW, Ci, Co] at the
 * given strides, computed by the compiled kernel, the second half of the batch on the helper thread when it pays.
 * Returns undefined (nothing allocated) when the compiled kernel cannot be used for these tensors.
 */
export function convValid(backend: WasmBackendLike, x: tf.TensorInfo, filter: tf.TensorInfo, sh: number, sw: number): tf.TensorInfo | undefined {
  const native = compiledKernels(backend);
  if (!native || x.dtype !== "float32" || filter.dtype !== "float32" || !hasSlack(backend, filter, 16)) return undefined;
  const [n, h, w, ci] = as4D(x.shape, "x");
  const [kh, kw, fci, co] = as4D(filter.shape, "filter");
  if (fci !== ci || h < kh || w < kw) return undefined;
  const oh = Math.floor((h - kh) / sh) + 1;
  const ow = Math.floor((w - kw) / sw) + 1;
  if (useWinograd && kh === 3 && kw === 3 && sh === 1 && sw === 1 && ci >= WINOGRAD_MIN_CHANNELS && co >= WINOGRAD_MIN_CHANNELS && oh >= 2 && ow >= 2) {
    return winograd(native, backend, x, filter, n, h, w, ci, oh, ow, co);
  }
  const out = backend.makeOutput([n, oh, ow, co], "float32");
  if (n * oh * ow * co === 0) return out;
  const geometry: Geometry = [h, w, ci, oh, ow, co, kh, kw, sh, sw, 0];
  run(native, backend, x, filter, out, n, geometry);
  return out;
}

/** Below this many input or output channels the transforms cost more than the saved products (a first layer). */
const WINOGRAD_MIN_CHANNELS = 8;

let useWinograd = process.env.LESSONS_WASM_NO_WINOGRAD !== "1";

/** Switch the Winograd path for 3x3 stride-1 convolutions on or off (tests compare both with cpu). */
export function useWinogradConvolution(on: boolean): void {
  useWinograd = on;
}

/**
 * A 3x3 stride-1 valid convolution by Winograd F(2x2, 3x3) (see winograd_* in the C source): transform the filter
 * and the input tiles, 16 matrix products by the 1x1 convolution kernel, transform back. 2.25x fewer products
 * than the direct kernel; results agree with it to float rounding.
 */
function winograd(native: NativeKernels, backend: WasmBackendLike, x: tf.TensorInfo, filter: tf.TensorInfo, n: number, h: number, w: number, ci: number, oh: number, ow: number, co: number): tf.TensorInfo {
  const th = Math.ceil(oh / 2);
  const tw = Math.ceil(ow / 2);
  const total = n * th * tw;
  // Every 4x4 patch must lie inside the input: pad odd outputs by one zero row or column.
  const input = h < 2 * th + 2 || w < 2 * tw + 2 ? padInput(backend, x, 2 * th + 2, 2 * tw + 2, 0, 0) : x;
  const [hi, wi] = [input.shape[1], input.shape[2]];
  // (4 spare floats: the product kernel reads up to 3 past the last filter row.)
  const u = backend.makeOutput([16 * ci * co + 4], "float32");
  const v = backend.makeOutput([16, total, ci], "float32");
  const m = backend.makeOutput([16, total, co], "float32");
  const out = backend.makeOutput([n, oh, ow, co], "float32");
  let ok = false;
  try {
    const [xp, fp, up, vp, mp, op] = [input, filter, u, v, m, out].map((t) => ptr(backend, t));
    native.winograd_filter(fp, up, ci, co);
    const halves = (name: "winograd_input" | "winograd_output", args: (t0: number, count: number) => number[], call: (a: number[]) => void) => {
      const mine = total - (total >> 1);
      const theirs = args(mine, total - mine);
      if (total < 64 || !splitOnHelper(backend.wasm, name, theirs, () => call(args(0, mine)), () => call(theirs))) call(args(0, total));
    };
    halves("winograd_input", (t0, count) => [xp, vp, hi, wi, ci, th, tw, t0, count, total],
      (a) => native.winograd_input(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]));
    for (let k = 0; k < 16; k++) {
      gemmRows(native, backend, vp + k * total * ci * 4, up + k * ci * co * 4, mp + k * total * co * 4, total, ci, co);
    }
    halves("winograd_output", (t0, count) => [mp, op, oh, ow, co, th, tw, t0, count, total],
      (a) => native.winograd_output(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]));
    ok = true;
    return out;
  } finally {
    // After a failure (a hung helper thread) its buffers stay allocated: the worker may still write to them.
    if (ok) {
      for (const t of [u, v, m]) backend.disposeData(t.dataId);
      if (input !== x) backend.disposeData(input.dataId);
    }
  }
}

/** [rows, k] x [k, n] at raw pointers by the 1x1 convolution kernel, the rows split over the helper thread. */
function gemmRows(native: NativeKernels, backend: WasmBackendLike, a: number, b: number, c: number, rows: number, k: number, n: number): void {
  const call = (x: number, o: number, count: number) => native.conv2d_forward(x, b, o, 1, 1, count, k, 1, count, n, 1, 1, 1, 1);
  if (rows >= 8 && rows * k * n >= PARALLEL_MIN_MACS) {
    const mine = rows - (rows >> 1);
    const theirs = [a + mine * k * 4, b, c + mine * n * 4, 1, 1, rows - mine, k, 1, rows - mine, n, 1, 1, 1, 1];
    if (splitOnHelper(backend.wasm, "conv2d_forward", theirs, () => call(a, c, mine), () => call(theirs[0], theirs[2], rows - mine))) return;
  }
  call(a, c, rows);
}

function run(native: NativeKernels, backend: WasmBackendLike, x: tf.TensorInfo, filter: tf.TensorInfo, out: tf.TensorInfo, n: number, g: Geometry): void {
  const [h, w, ci, oh, ow, co, kh, kw, sh, sw] = g;
  const call = (xp: number, op: number, count: number) =>
    native.conv2d_forward(xp, ptr(backend, filter), op, count, h, w, ci, oh, ow, co, kh, kw, sh, sw);
  const [xp, op] = [ptr(backend, x), ptr(backend, out)];
  if (n >= 2 && n * oh * ow * co * kh * kw * ci >= PARALLEL_MIN_MACS) {
    const mine = n - (n >> 1);
    const x2 = xp + mine * h * w * ci * 4;
    const o2 = op + mine * oh * ow * co * 4;
    const theirs = [x2, ptr(backend, filter), o2, n - mine, h, w, ci, oh, ow, co, kh, kw, sh, sw];
    // The kernel overwrites its output, so a failed helper part is simply computed again here.
    if (splitOnHelper(backend.wasm, "conv2d_forward", theirs, () => call(xp, op, mine), () => call(x2, o2, n - mine))) return;
  }
  call(xp, op, n);
}

/**
 * x [N, H, W, C] copied into a [N, hp, wp, C] buffer at row `top`, column `left` (cropped to fit), zero
 * elsewhere. Only the border is cleared: the interior is written once, by the copy.
 */
export function padInput(backend: WasmBackendLike, x: tf.TensorInfo, hp: number, wp: number, top: number, left: number): tf.TensorInfo {
  const [n, h, w, c] = as4D(x.shape, "x");
  if (top < 0 || left < 0) throw new Error(`padInput: negative offset (${top}, ${left})`);
  const out = backend.makeOutput([n, hp, wp, c], "float32");
  const src = f32(backend, x);
  const dst = f32(backend, out);
  const rows = Math.max(0, Math.min(h, hp - top));
  const cols = Math.max(0, Math.min(w, wp - left));
  const rowLen = wp * c;
  for (let b = 0; b < n; b++) {
    const image = b * hp * rowLen;
    dst.fill(0, image, image + top * rowLen);
    dst.fill(0, image + (top + rows) * rowLen, image + hp * rowLen);
    for (let r = 0; r < rows; r++) {
      const row = image + (top + r) * rowLen;
      dst.fill(0, row, row + left * c);
      const from = ((b * h + r) * w) * c;
      dst.set(src.subarray(from, from + cols * c), row + left * c);
      dst.fill(0, row + (left + cols) * c, row + rowLen);
    }
  }
  return out;
}

let stockConv2D: ((args: Args) => tf.TensorInfo) | undefined;

/** Keep the stock Conv2D (call before registering ours). */
export function rememberStockConv2D(): void {
  const k = tf.getKernel("Conv2D", "wasm");
  if (k && !stockConv2D) stockConv2D = k.kernelFunc as unknown as (args: Args) => tf.TensorInfo;
}

export function conv2D(args: Args): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as {
    strides: number | [number, number];
    pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
    dataFormat?: string;
    dilations?: number | [number, number];
    dimRoundingMode?: "floor" | "round" | "ceil";
  };
  const stock = () => {
    if (!stockConv2D) throw new Error("The stock wasm Conv2D kernel was not captured; call registerWasmTrainingKernels().");
    return stockConv2D(args);
  };
  const channelsLast = attrs.dataFormat === undefined || attrs.dataFormat === "NHWC" || attrs.dataFormat === "channelsLast";
  const d = attrs.dilations === undefined ? [1, 1] : typeof attrs.dilations === "number" ? [attrs.dilations, attrs.dilations] : attrs.dilations;
  if (!channelsLast || d[0] !== 1 || d[1] !== 1 || x.shape.length !== 4 || filter.shape.length !== 4 || !compiledKernels(backend)) return stock();
  const info = tf.backend_util.computeConv2DInfo(as4D(x.shape, "x"), as4D(filter.shape, "filter"), attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const hp = (info.outHeight - 1) * info.strideHeight + info.filterHeight;
  const wp = (info.outWidth - 1) * info.strideWidth + info.filterWidth;
  const { top, left } = info.padInfo;
  const needsPad = top !== 0 || left !== 0 || hp > info.inHeight || wp > info.inWidth;
  const input = needsPad ? padInput(backend, x, hp, wp, top, left) : x;
  try {
    return convValid(backend, input, filter, info.strideHeight, info.strideWidth) ?? stock();
  } finally {
    if (input !== x) backend.disposeData(input.dataId);
  }
}

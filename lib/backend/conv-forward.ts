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
  const out = backend.makeOutput([n, oh, ow, co], "float32");
  if (n * oh * ow * co === 0) return out;
  const geometry: Geometry = [h, w, ci, oh, ow, co, kh, kw, sh, sw, 0];
  run(native, backend, x, filter, out, n, geometry);
  return out;
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

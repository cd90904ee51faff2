/**
 * Convolution gradients for the wasm backend, built from its fast XNNPACK forward convolutions.
 *
 * - Conv2DBackpropInput (dx): a stride-1 "valid" convolution of dy, zero-dilated by the stride and padded by
 *   (kernel - 1 - pad), with the filter flipped in space and its in/out channels swapped.
 * - Conv2DBackpropFilter (dW): a convolution in which the roles are exchanged: x transposed to [Cin, H, W, N]
 *   is the "image", dy transposed to [OH, OW, N, Cout] is the "filter", with dilation = stride. The result
 *   [Cin, KH, KW, Cout] is transposed to [KH, KW, Cin, Cout].
 * - DepthwiseConv2dNativeBackpropInput: the same padded dy through a forward depthwise conv with the flipped
 *   filter; with channel multiplier > 1 the multiplier axis is summed afterwards.
 * - DepthwiseConv2dNativeBackpropFilter: a direct loop (compiled, or plain JS as a fallback).
 * Conv2DBackpropFilter uses the compiled SIMD kernel when available (the XNNPACK route re-packs its huge
 * "filter" on every call and is 1.5-10x slower).
 */
import * as tf from "@tensorflow/tfjs";
import { convValid, padInput, winogradBlock, winogradFor, winogradInputSize } from "./conv-forward";
import { macWork, runInHalves, sumInHalves } from "./split-work";
import type { NativeKernels } from "./native-kernels";
import {
  KernelArgs, Present, WasmBackendLike, as4D, checkNHWC, checkNoDilation, compiledKernels, f32, ptr, reshaped, runWasmKernel, wasmKernel, windowGeometry, zeros,
} from "./wasm-util";

/** The geometry every convolution gradient's attrs give (the same fields in all four of tfjs's types). */
type ConvGeometry = Pick<tf.Conv2DBackpropInputAttrs, "strides" | "pad" | "dimRoundingMode">;

/**
 * Runs a filter gradient's sum over the batch (sumInHalves) into `dw` and returns it; if the helper thread hung,
 * the call fails and dw (never returned) is freed.
 */
function filterGradient(backend: WasmBackendLike, sum: () => void, dw: tf.TensorInfo): tf.TensorInfo {
  try {
    sum();
    return dw;
  } catch (err) {
    backend.disposeData(dw.dataId);
    throw err;
  }
}

function convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: ConvGeometry,
  depthwise: boolean,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    as4D(xShape, "input"),
    as4D(filterShape, "filter"),
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
  );
}

/**
 * dy [N, OH, OW, C] placed into a zero tensor [N, H + KH - 1, W + KW - 1, C] at rows KH-1-padTop + i*strideH
 * (columns likewise), so that a stride-1 valid convolution with a KHxKW filter yields [N, H, W, ...]; `minSize`
 * makes it at least that big (more zero rows and columns at the end). Entries that would land outside only ever
 * feed rows outside dx, so skipping them is exact. Returns dy itself when there is nothing to add (1x1,
 * stride 1): the caller frees the result only when it is not dy.
 */
function dilateAndPad(backend: WasmBackendLike, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo, minSize?: [number, number]): tf.TensorInfo {
  const [n, oh, ow, c] = as4D(dy.shape, "dy");
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const hp = Math.max(info.inHeight + kh - 1, minSize?.[0] ?? 0);
  const wp = Math.max(info.inWidth + kw - 1, minSize?.[1] ?? 0);
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  // Stride 1 is plain padding (the common case): clear only the border; with no border (1x1), dy as it is.
  if (sh === 1 && sw === 1 && top === 0 && left === 0 && hp === oh && wp === ow) return dy;
  if (sh === 1 && sw === 1 && top >= 0 && left >= 0) return padInput(backend, dy, hp, wp, top, left);
  const out = zeros(backend, [n, hp, wp, c]);
  const src = f32(backend, dy);
  const dst = f32(backend, out);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      const r = top + i * sh;
      if (r < 0 || r >= hp) continue;
      const srcRow = ((b * oh + i) * ow) * c;
      const dstRow = ((b * hp + r) * wp) * c;
      if (sw === 1 && left >= 0 && left + ow <= wp) {
        dst.set(src.subarray(srcRow, srcRow + ow * c), dstRow + left * c);
        continue;
      }
      for (let j = 0; j < ow; j++) {
        const col = left + j * sw;
        if (col < 0 || col >= wp) continue;
        dst.set(src.subarray(srcRow + j * c, srcRow + (j + 1) * c), dstRow + col * c);
      }
    }
  }
  return out;
}

/**
 * W [KH, KW, Cin, Cout] -> W' [KH, KW, Cout, Cin] with W'[i, j, o, c] = W[KH-1-i, KW-1-j, c, o]: every tap, as the
 * one phase of stride 1 (phaseFilter's buffer, 4 floats longer than the shape says).
 */
function flipSwapFilter(backend: WasmBackendLike, filter: tf.TensorInfo): tf.TensorInfo {
  const [kh, kw, ci, co] = as4D(filter.shape, "filter");
  return reshaped(phaseFilter(backend, filter, 0, 0, kh, kw, 1, 1), [kh, kw, co, ci]);
}

/**
 * Along one axis, the phase r of a strided convolution's input gradient: the input positions i with
 * (i + pad) % stride == r, which receive dy only through the filter taps r, r + stride, ... (`taps` of them).
 * They are i = first, first + stride, ... (`count` of them); position number t of them is a stride-1 valid
 * correlation of dy from row `dyStart` + t on with those taps in reverse order.
 */
interface Phase {
  taps: number;
  first: number;
  count: number;
  dyStart: number;
}

function phaseOf(r: number, stride: number, kernel: number, pad: number, size: number): Phase {
  const taps = r < kernel ? Math.ceil((kernel - r) / stride) : 0;
  const q0 = Math.ceil((pad - r) / stride);
  const q1 = Math.floor((size - 1 + pad - r) / stride);
  return { taps, first: q0 * stride + r - pad, count: Math.max(0, q1 - q0 + 1), dyStart: q0 - (taps - 1) };
}

/** The taps of phase (rh, rw), reversed, as a filter [TH, TW, Cout, Cin] (flat): g[i][j][o][c] = W[rh + sh(TH-1-i)][rw + sw(TW-1-j)][c][o]. */
function phaseFilter(backend: WasmBackendLike, filter: tf.TensorInfo, rh: number, rw: number, th: number, tw: number, sh: number, sw: number): tf.TensorInfo {
  const [, kw, ci, co] = as4D(filter.shape, "filter");
  const out = backend.makeOutput([th * tw * co * ci], "float32");
  const w = f32(backend, filter);
  const g = f32(backend, out);
  for (let i = 0; i < th; i++) {
    for (let j = 0; j < tw; j++) {
      const src = ((rh + sh * (th - 1 - i)) * kw + rw + sw * (tw - 1 - j)) * ci * co;
      const dst = (i * tw + j) * co * ci;
      for (let c = 0; c < ci; c++) {
        for (let o = 0; o < co; o++) g[dst + o * ci + c] = w[src + c * co + o];
      }
    }
  }
  return out;
}

/**
 * Conv2DBackpropInput at stride > 1, phase by phase: each of the stride_h x stride_w phases is a stride-1
 * convolution of (a cropped or padded window of) dy with its taps of the filter, written by the compiled kernel
 * straight into its interleaved rows and columns of dx. Every product is a real one: zero-dilating dy instead
 * (the general route) multiplies stride_h x stride_w times as many zeros as values.
 */
function stridedBackpropInput(backend: WasmBackendLike, native: NativeKernels, dy: tf.TensorInfo, filter: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co, strideHeight: sh, strideWidth: sw } = info;
  const rowsOf = [...Array(sh).keys()].map((r) => phaseOf(r, sh, info.filterHeight, info.padInfo.top, h));
  const colsOf = [...Array(sw).keys()].map((r) => phaseOf(r, sw, info.filterWidth, info.padInfo.left, w));
  const dx = backend.makeOutput([n, h, w, ci], "float32");
  // Positions reached by no tap (a filter smaller than the stride) get zero; the kernel overwrites the rest.
  if ([...rowsOf, ...colsOf].some((p) => p.taps === 0 && p.count > 0)) f32(backend, dx).fill(0);
  for (const [rh, ph] of rowsOf.entries()) {
    for (const [rw, pw] of colsOf.entries()) {
      if (ph.taps === 0 || pw.taps === 0 || ph.count === 0 || pw.count === 0) continue;
      const [hp, wp] = [ph.count + ph.taps - 1, pw.count + pw.taps - 1];
      const window = padInput(backend, dy, hp, wp, -ph.dyStart, -pw.dyStart);
      const g = phaseFilter(backend, filter, rh, rw, ph.taps, pw.taps, sh, sw);
      try {
        const [xp, gp, dp] = [ptr(backend, window), ptr(backend, g), ptr(backend, dx) + (ph.first * w + pw.first) * ci * 4];
        runInHalves(native, backend, "conv2d_forward_into", n, macWork(n * ph.count * pw.count * ci * ph.taps * pw.taps * co),
          (b0, count) => [xp + b0 * hp * wp * co * 4, gp, dp + b0 * h * w * ci * 4, count, hp, wp, co, ph.count, pw.count, ci,
            ph.taps, pw.taps, h * w * ci, sh * w * ci, sw * ci]);
      } finally {
        backend.disposeData(window.dataId);
        backend.disposeData(g.dataId);
      }
    }
  }
  return dx;
}

function conv2DBackpropInput(args: KernelArgs<Present<tf.Conv2DBackpropInputInputs>, tf.Conv2DBackpropInputAttrs>): tf.TensorInfo {
  const { inputs: { dy, filter }, backend, attrs } = args;
  checkNHWC(attrs.dataFormat, "Conv2DBackpropInput");
  const info = convInfo(attrs.inputShape, filter.shape, attrs, false);
  const native = compiledKernels(backend);
  if (native && (info.strideHeight > 1 || info.strideWidth > 1) && dy.dtype === "float32" && filter.dtype === "float32") {
    return stridedBackpropInput(backend, native, dy, filter, info);
  }
  // Padded for Winograd at once only where the compiled kernel takes it (dx's channels are the flipped filter's
  // outputs); the stock fallback would return a larger output.
  const compiled = native && dy.dtype === "float32" && filter.dtype === "float32";
  const wino = compiled ? winogradInputSize(info.filterHeight, info.filterWidth, info.outChannels, info.inChannels, info.inHeight, info.inWidth) : undefined;
  const padded = dilateAndPad(backend, dy, info, wino);
  const flipped = flipSwapFilter(backend, filter);
  try {
    return convValid(backend, padded, flipped, 1, 1, undefined, [info.inHeight, info.inWidth]) ?? runWasmKernel(backend, "Conv2D", { x: padded, filter: flipped }, {
      strides: [1, 1], pad: "valid", dataFormat: "NHWC", dilations: [1, 1],
    });
  } finally {
    if (padded !== dy) backend.disposeData(padded.dataId);
    backend.disposeData(flipped.dataId);
  }
}

/**
 * x [N, H, W, Cin] -> Q [Cin, Hq, Wq, N] with Q[c, top + h, left + w, b] = x[b, h, w, c], zero elsewhere,
 * Hq = (OH-1)*strideH + KH so that a valid convolution with the dy-"filter" dilated by the stride is KH high.
 */
function transposePadInput(backend: WasmBackendLike, x: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const [n, h, w, c] = as4D(x.shape, "x");
  const hq = (info.outHeight - 1) * info.strideHeight + info.filterHeight;
  const wq = (info.outWidth - 1) * info.strideWidth + info.filterWidth;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const out = zeros(backend, [c, hq, wq, n]);
  const src = f32(backend, x);
  const dst = f32(backend, out);
  const planeQ = hq * wq * n;
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < h; r++) {
      const rq = top + r;
      if (rq < 0 || rq >= hq) continue;
      for (let col = 0; col < w; col++) {
        const cq = left + col;
        if (cq < 0 || cq >= wq) continue;
        const s = ((b * h + r) * w + col) * c;
        const d = (rq * wq + cq) * n + b;
        for (let ch = 0; ch < c; ch++) dst[d + ch * planeQ] = src[s + ch];
      }
    }
  }
  return out;
}

/**
 * Conv2DBackpropFilter of a 3x3 stride-1 layer by Winograd F(3x3, 2x2) (winograd_filter_grad_* in the C source):
 * the 16 transformed sums over every 2x2 block of dy, half of the blocks on the helper thread (into sums of its
 * own, added afterwards), then one transform back to the 3x3 filter. 2.25x fewer products than the direct
 * kernel; the same values up to float rounding.
 */
function winogradFilterGradient(native: NativeKernels, backend: WasmBackendLike, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo, filterShape: number[]): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const [th, tw] = [Math.ceil(oh / 2), Math.ceil(ow / 2)];
  const total = n * th * tw;
  const block = winogradBlock(16, ci, co);
  const { top, left } = info.padInfo;
  const [xp, dyp] = [ptr(backend, x), ptr(backend, dy)];
  const sums = zeros(backend, [16 * ci * co]);
  // Each part transforms one block of x and dy at a time into scratch of its own.
  try {
    sumInHalves(native, backend, "winograd_filter_grad_tiles", total, macWork(16 * total * ci * co) + 32 * total * (ci + co), sums,
      (t0, count, dst, scratch) => [xp, dyp, scratch, dst, h, w, ci, oh, ow, co, th, tw, top, left, t0, count, block],
      16 * block * (ci + co));
    const dw = backend.makeOutput(filterShape, "float32");
    native.winograd_filter_grad_output(ptr(backend, sums), ptr(backend, dw), ci, co);
    return dw;
  } finally {
    // (A hung helper writes only its own buffer, which sumInHalves keeps.)
    backend.disposeData(sums.dataId);
  }
}

function conv2DBackpropFilter(args: KernelArgs<Present<tf.Conv2DBackpropFilterInputs>, tf.Conv2DBackpropFilterAttrs>): tf.TensorInfo {
  const { inputs: { x, dy }, backend, attrs } = args;
  checkNHWC(attrs.dataFormat, "Conv2DBackpropFilter");
  const info = convInfo(x.shape, attrs.filterShape, attrs, false);
  const native = compiledKernels(backend);
  const float = x.dtype === "float32" && dy.dtype === "float32";
  if (native && float && winogradFor(info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.inChannels, info.outChannels)) {
    return winogradFilterGradient(native, backend, x, dy, info, attrs.filterShape);
  }
  if (native) {
    const dw = zeros(backend, attrs.filterShape);
    const shape = [info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.outChannels,
      info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left];
    const n = info.batchSize;
    const macs = n * info.outHeight * info.outWidth * info.outChannels * info.filterHeight * info.filterWidth * info.inChannels;
    const xStep = info.inHeight * info.inWidth * info.inChannels * 4;
    const dyStep = info.outHeight * info.outWidth * info.outChannels * 4;
    const [xp, dyp] = [ptr(backend, x), ptr(backend, dy)];
    const kernelArgs = (b0: number, count: number, dst: number) => [xp + b0 * xStep, dyp + b0 * dyStep, dst, count, ...shape];
    return filterGradient(backend, () => sumInHalves(native, backend, "conv2d_backprop_filter", n, macWork(macs), dw, kernelArgs), dw);
  }
  const q = transposePadInput(backend, x, info);
  const dyT = runWasmKernel(backend, "Transpose", { x: dy }, { perm: [1, 2, 0, 3] });
  let dwT: tf.TensorInfo | undefined;
  try {
    dwT = runWasmKernel(backend, "Conv2D", { x: q, filter: dyT }, {
      strides: [1, 1], pad: "valid", dataFormat: "NHWC", dilations: [info.strideHeight, info.strideWidth],
    });
    return runWasmKernel(backend, "Transpose", { x: dwT }, { perm: [1, 2, 0, 3] });
  } finally {
    backend.disposeData(q.dataId);
    backend.disposeData(dyT.dataId);
    if (dwT) backend.disposeData(dwT.dataId);
  }
}

/** W [KH, KW, C, M] -> W' [KH, KW, C*M, 1] flipped in space (a multiplier-1 depthwise filter). */
function flipDepthwiseFilter(backend: WasmBackendLike, filter: tf.TensorInfo): tf.TensorInfo {
  const [kh, kw, c, m] = as4D(filter.shape, "filter");
  const out = backend.makeOutput([kh, kw, c * m, 1], "float32");
  const w = f32(backend, filter);
  const d = f32(backend, out);
  const plane = c * m;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      d.set(w.subarray(((kh - 1 - i) * kw + (kw - 1 - j)) * plane, ((kh - 1 - i) * kw + (kw - j)) * plane), (i * kw + j) * plane);
    }
  }
  return out;
}

function depthwiseConv2dNativeBackpropInput(
  args: KernelArgs<Present<tf.DepthwiseConv2dNativeBackpropInputInputs>, tf.DepthwiseConv2dNativeBackpropInputAttrs>,
): tf.TensorInfo {
  const { inputs: { dy, filter }, backend, attrs } = args;
  checkNoDilation(attrs.dilations, "DepthwiseConv2dNativeBackpropInput");
  const info = convInfo(attrs.inputShape, filter.shape, attrs, true);
  const [n, h, w, c] = as4D(attrs.inputShape, "inputShape");
  const m = filter.shape[3];
  const native = compiledKernels(backend);
  if (native && m === 1 && dy.dtype === "float32" && filter.dtype === "float32") {
    // Multiplier 1 (MobileNet's case): scatter dy straight into dx, no padded or zero-dilated copy of dy.
    const out = backend.makeOutput([n, h, w, c], "float32");
    const [oh, ow] = [info.outHeight, info.outWidth];
    const [dp, fp, op] = [ptr(backend, dy), ptr(backend, filter), ptr(backend, out)];
    runInHalves(native, backend, "depthwise_backprop_input", n, macWork(n * oh * ow * c * info.filterHeight * info.filterWidth),
      (b0, count) => [dp + b0 * oh * ow * c * 4, fp, op + b0 * h * w * c * 4, count, ...windowGeometry(info)]);
    return out;
  }
  const padded = dilateAndPad(backend, dy, info);
  const flipped = flipDepthwiseFilter(backend, filter);
  let perMultiplier: tf.TensorInfo | undefined;
  try {
    perMultiplier = runWasmKernel(backend, "DepthwiseConv2dNative", { x: padded, filter: flipped }, {
      strides: [1, 1], pad: "valid", dataFormat: "NHWC", dilations: [1, 1],
    });
    if (m === 1) {
      const result = perMultiplier;
      perMultiplier = undefined;
      return result;
    }
    return runWasmKernel(backend, "Sum", { x: reshaped(perMultiplier, [n, h, w, c, m]) }, { axis: [4], keepDims: false });
  } finally {
    if (padded !== dy) backend.disposeData(padded.dataId);
    backend.disposeData(flipped.dataId);
    if (perMultiplier) backend.disposeData(perMultiplier.dataId);
  }
}

function depthwiseConv2dNativeBackpropFilter(
  args: KernelArgs<Present<tf.DepthwiseConv2dNativeBackpropFilterInputs>, tf.DepthwiseConv2dNativeBackpropFilterAttrs>,
): tf.TensorInfo {
  const { inputs: { x, dy }, backend, attrs } = args;
  checkNoDilation(attrs.dilations, "DepthwiseConv2dNativeBackpropFilter");
  const info = convInfo(x.shape, attrs.filterShape, attrs, true);
  const [n, h, w, c] = as4D(x.shape, "x");
  const [kh, kw, , m] = as4D(attrs.filterShape, "filterShape");
  const [, oh, ow, cm] = as4D(dy.shape, "dy");
  const out = zeros(backend, [kh, kw, c, m]);
  const native = compiledKernels(backend);
  if (native) {
    const geometry = [h, w, c, oh, ow, m, kh, kw, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left];
    const [xp, dyp] = [ptr(backend, x), ptr(backend, dy)];
    const kernelArgs = (b0: number, count: number, dst: number) => [xp + b0 * h * w * c * 4, dyp + b0 * oh * ow * cm * 4, dst, count, ...geometry];
    return filterGradient(backend, () => sumInHalves(native, backend, "depthwise_backprop_filter", n, macWork(n * oh * ow * cm * kh * kw), out, kernelArgs), out);
  }
  const xs = f32(backend, x);
  const ds = f32(backend, dy);
  const dw = f32(backend, out);
  const acc = new Float64Array(kh * kw * cm);
  const { top, left } = info.padInfo;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < oh; p++) {
      for (let q = 0; q < ow; q++) {
        const dyBase = ((b * oh + p) * ow + q) * cm;
        for (let i = 0; i < kh; i++) {
          const r = p * sh + i - top;
          if (r < 0 || r >= h) continue;
          for (let j = 0; j < kw; j++) {
            const col = q * sw + j - left;
            if (col < 0 || col >= w) continue;
            const xBase = ((b * h + r) * w + col) * c;
            const aBase = (i * kw + j) * cm;
            if (m === 1) {
              for (let ch = 0; ch < c; ch++) acc[aBase + ch] += xs[xBase + ch] * ds[dyBase + ch];
            } else {
              for (let ch = 0; ch < c; ch++) {
                const xv = xs[xBase + ch];
                for (let k = 0; k < m; k++) acc[aBase + ch * m + k] += xv * ds[dyBase + ch * m + k];
              }
            }
          }
        }
      }
    }
  }
  for (let i = 0; i < acc.length; i++) dw[i] = acc[i];
  return out;
}

export const conv2DBackpropInputConfig = wasmKernel(tf.Conv2DBackpropInput, conv2DBackpropInput);
export const conv2DBackpropFilterConfig = wasmKernel(tf.Conv2DBackpropFilter, conv2DBackpropFilter);
export const depthwiseConv2dNativeBackpropInputConfig = wasmKernel(tf.DepthwiseConv2dNativeBackpropInput, depthwiseConv2dNativeBackpropInput);
export const depthwiseConv2dNativeBackpropFilterConfig = wasmKernel(tf.DepthwiseConv2dNativeBackpropFilter, depthwiseConv2dNativeBackpropFilter);

/**
 * MaxPoolGrad for the wasm backend. The stock kernel starts its max search at FLT_MIN (so windows whose values
 * are all <= 0, common after BatchNorm, get no gradient) and gives ties to the last maximum. This one starts at
 * -Infinity and routes each dy to the FIRST maximum in row-major window order, exactly like the cpu backend.
 */
import * as tf from "@tensorflow/tfjs";
import { WasmBackendLike, as4D, compiledKernels, f32, ptr, zeros } from "./wasm-util";

export function maxPoolGrad(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: "valid" | "same" | number;
    dimRoundingMode?: "floor" | "round" | "ceil";
  };
  const info = tf.backend_util.computePool2DInfo(as4D(input.shape, "input"), filterSize, strides, 1, pad, dimRoundingMode);
  const [n, h, w, c] = input.shape;
  const oh = info.outHeight;
  const ow = info.outWidth;
  const fh = info.effectiveFilterHeight;
  const fw = info.effectiveFilterWidth;
  const { top, left } = info.padInfo;
  const out = zeros(backend, [n, h, w, c]);
  const native = compiledKernels(backend);
  if (native) {
    native.max_pool_grad(ptr(backend, input), ptr(backend, dy), ptr(backend, out), n, h, w, c, oh, ow, fh, fw,
      info.strideHeight, info.strideWidth, top, left);
    return out;
  }
  const xs = f32(backend, input);
  const ds = f32(backend, dy);
  const dx = f32(backend, out);
  const best = new Float32Array(c);
  const bestAt = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < oh; p++) {
      for (let q = 0; q < ow; q++) {
        best.fill(-Infinity);
        bestAt.fill(-1);
        for (let i = 0; i < fh; i++) {
          const r = p * info.strideHeight + i - top;
          if (r < 0 || r >= h) continue;
          for (let j = 0; j < fw; j++) {
            const col = q * info.strideWidth + j - left;
            if (col < 0 || col >= w) continue;
            const base = ((b * h + r) * w + col) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = xs[base + ch];
              // `>` keeps the first maximum; the -1 check gives NaN-only windows a target like cpu does.
              if (v > best[ch] || bestAt[ch] < 0) {
                best[ch] = v;
                bestAt[ch] = base + ch;
              }
            }
          }
        }
        const dyBase = ((b * oh + p) * ow + q) * c;
        for (let ch = 0; ch < c; ch++) if (bestAt[ch] >= 0) dx[bestAt[ch]] += ds[dyBase + ch];
      }
    }
  }
  return out;
}

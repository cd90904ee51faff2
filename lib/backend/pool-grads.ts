/**
 * MaxPoolGrad for the wasm backend. The stock kernel starts its max search at FLT_MIN (so windows whose values
 * are all <= 0, common after BatchNorm, get no gradient) and gives ties to the last maximum. This one starts at
 * -Infinity and routes each dy to the FIRST maximum in row-major window order, exactly like the cpu backend.
 * Large batches are split in two, the second part on the helper thread: the parts write disjoint slices of dx.
 */
import * as tf from "@tensorflow/tfjs";
import { splitOnHelper } from "./helper-thread";
import { WasmBackendLike, as4D, compiledKernels, f32, ptr, zeros } from "./wasm-util";

/** Below this many window reads (n*oh*ow*c*fh*fw) the handshake with the helper thread costs more than it saves. */
const PARALLEL_MIN_READS = 2.5e5;

type Geometry11 = [number, number, number, number, number, number, number, number, number, number, number];

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
  const native = compiledKernels(backend);
  // The compiled kernel clears dx itself (per image, on whichever thread computes it).
  const out = native ? backend.makeOutput([n, h, w, c], "float32") : zeros(backend, [n, h, w, c]);
  if (native) {
    const geometry = [h, w, c, oh, ow, fh, fw, info.strideHeight, info.strideWidth, top, left];
    const run = (xp: number, dyp: number, dxp: number, count: number) =>
      native.max_pool_grad(xp, dyp, dxp, count, ...(geometry as Geometry11));
    if (n >= 2 && n * oh * ow * c * fh * fw >= PARALLEL_MIN_READS) {
      const mine = n - (n >> 1);
      const xOffset = mine * h * w * c;
      const x2 = ptr(backend, input) + xOffset * 4;
      const dy2 = ptr(backend, dy) + mine * oh * ow * c * 4;
      const dx2 = ptr(backend, out) + xOffset * 4;
      let split: boolean;
      try {
        split = splitOnHelper(backend.wasm, "max_pool_grad", [x2, dy2, dx2, n - mine, ...geometry],
          () => run(ptr(backend, input), ptr(backend, dy), ptr(backend, out), mine),
          () => {
            f32(backend, out).fill(0, xOffset); // the failed part may have added to its slice
            run(x2, dy2, dx2, n - mine);
          });
      } catch (err) {
        // The helper hung and may still be writing its slice of `out`: leave that buffer allocated (a one-off
        // leak) rather than free memory another thread writes to.
        throw err;
      }
      if (split) return out;
    }
    run(ptr(backend, input), ptr(backend, dy), ptr(backend, out), n);
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

/**
 * MaxPoolGrad for the wasm backend. The stock kernel starts its max search at FLT_MIN (so windows whose values
 * are all <= 0, common after BatchNorm, get no gradient) and gives ties to the last maximum. This one starts at
 * -Infinity and routes each dy to the FIRST maximum in row-major window order, exactly like the cpu backend.
 * Large batches are split in two, the second part on the helper thread: the parts write disjoint slices of dx.
 * LessonsMaxPoolGradRelu also applies the gradient of the ReLU whose output was pooled, in the same pass.
 */
import * as tf from "@tensorflow/tfjs";
import { runInHalves } from "./split-work";
import { KernelArgs, Present, as4D, compiledKernels, f32, ptr, wasmKernel, windowGeometry, zeros } from "./wasm-util";

/** MaxPoolGrad's dx, or with reluMask dx * step(input) for an input that is a ReLU's output (disjoint windows only). */
function maxPoolGradOf(args: KernelArgs<Present<tf.MaxPoolGradInputs>, tf.MaxPoolGradAttrs>, reluMask: boolean): tf.TensorInfo {
  const { inputs: { dy, input }, backend, attrs: { filterSize, strides, pad, dimRoundingMode } } = args;
  const info = tf.backend_util.computePool2DInfo(as4D(input.shape, "input"), filterSize, strides, 1, pad, dimRoundingMode);
  const [n, h, w, c] = input.shape;
  const oh = info.outHeight;
  const ow = info.outWidth;
  const fh = info.effectiveFilterHeight;
  const fw = info.effectiveFilterWidth;
  const { top, left } = info.padInfo;
  const native = compiledKernels(backend);
  if (reluMask && (!native || !poolWindowsDisjoint(args.attrs))) {
    throw new Error(`${MAX_POOL_GRAD_RELU_KERNEL} needs the compiled kernels and windows that do not overlap (strides >= the pool size).`);
  }
  // The compiled kernel clears dx itself (per image, on whichever thread computes it).
  const out = native ? backend.makeOutput([n, h, w, c], "float32") : zeros(backend, [n, h, w, c]);
  if (native) {
    const [xp, dyp, dxp] = [ptr(backend, input), ptr(backend, dy), ptr(backend, out)];
    // The kernel clears and overwrites its images' dx, so a failed helper half is simply run again.
    runInHalves(native, backend, "max_pool_grad", n, n * oh * ow * c * fh * fw,
      (b0, count) => [xp + b0 * h * w * c * 4, dyp + b0 * oh * ow * c * 4, dxp + b0 * h * w * c * 4, count, ...windowGeometry(info), reluMask ? 1 : 0]);
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
              // `>` keeps the first maximum, and never takes a NaN (a window of only NaN passes no gradient), as on cpu.
              if (v > best[ch]) {
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

/** Whether a max pooling's windows never overlap (each input position is in at most one window). */
export function poolWindowsDisjoint(attrs: Pick<tf.MaxPoolGradAttrs, "filterSize" | "strides">): boolean {
  const pair = (v: number | [number, number]): [number, number] => (typeof v === "number" ? [v, v] : v);
  const [[fh, fw], [sh, sw]] = [pair(attrs.filterSize), pair(attrs.strides)];
  return sh >= fh && sw >= fw;
}

/**
 * LessonsMaxPoolGradRelu, our own kernel: MaxPoolGrad's inputs and attrs, output dx * step(input), for max pooling
 * of a ReLU's output (see the MaxPool gradient in gradients.ts): the gradient that ReLU's would make of MaxPoolGrad's,
 * the same numbers, in one pass.
 */
export const MAX_POOL_GRAD_RELU_KERNEL = "LessonsMaxPoolGradRelu";

export const maxPoolGradConfig = wasmKernel(tf.MaxPoolGrad, (args: KernelArgs<Present<tf.MaxPoolGradInputs>, tf.MaxPoolGradAttrs>) => maxPoolGradOf(args, false));
export const maxPoolGradReluConfig = wasmKernel(MAX_POOL_GRAD_RELU_KERNEL, (args: KernelArgs<Present<tf.MaxPoolGradInputs>, tf.MaxPoolGradAttrs>) => maxPoolGradOf(args, true));

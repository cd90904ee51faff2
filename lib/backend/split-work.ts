/**
 * How our compiled kernels split one call over the calling thread and the helper thread (helper-thread.ts):
 * whether a call is worth splitting, and the two ways of splitting it.
 *   runInHalves: items (images, rows, tiles) whose outputs the kernel overwrites; each thread does half of them.
 *   sumInHalves: a sum over items (a filter gradient over the batch, a sum over rows); the helper sums its half
 *                into a buffer of its own, added to the result afterwards.
 */
import * as tf from "@tensorflow/tfjs";
import { HelperExport, splitOnHelper } from "./helper-thread";
import type { NativeKernels } from "./native-kernels";
import { WasmBackendLike, f32, ptr, zeros } from "./wasm-util";

/**
 * Below about 2.5e5 units of work (a tenth of a millisecond or so) handing half a call to the helper costs about
 * as much as it saves. The unit is one value read or written by a memory-bound kernel; a multiply-add of a
 * compute-bound one (convolutions, matrix products) counts a quarter, since our SIMD tiles do about four in the
 * time of one memory-bound value.
 */
const MIN_WORK = 2.5e5;

/** Work of `macs` multiply-adds, in worthSplitting's unit. */
export const macWork = (macs: number): number => macs / 4;

export function worthSplitting(work: number): boolean {
  return work >= MIN_WORK;
}

function call(native: NativeKernels, exportName: HelperExport, args: number[]): void {
  (native[exportName] as unknown as (...a: number[]) => void)(...args);
}

/**
 * Runs compiled kernel `exportName` over `count` independent items whose outputs it overwrites: the last half on
 * the helper thread when the call is worth splitting and a helper is ready, else all here. `args(start, n)` gives
 * the kernel's arguments for items start..start+n-1. Because the kernel overwrites its output, a failed helper
 * half is simply run again here.
 */
export function runInHalves(
  native: NativeKernels,
  backend: WasmBackendLike,
  exportName: HelperExport,
  count: number,
  work: number,
  args: (start: number, n: number) => number[],
): void {
  if (count >= 2 && worthSplitting(work)) {
    const mine = count - (count >> 1);
    const theirs = args(mine, count - mine);
    if (splitOnHelper(backend.wasm, exportName, theirs, () => call(native, exportName, args(0, mine)), () => call(native, exportName, theirs))) return;
  }
  call(native, exportName, args(0, count));
}

/**
 * runInHalves over `size` float32 values of elementwise operands, split on a whole SIMD vector (so that both
 * halves start on one; the last may be partial): `args(offset, count)` gives the kernel's arguments for `count`
 * values from byte `offset` of each operand.
 */
export function runOverValues(
  native: NativeKernels,
  backend: WasmBackendLike,
  exportName: HelperExport,
  size: number,
  work: number,
  args: (offset: number, count: number) => number[],
): void {
  runInHalves(native, backend, exportName, Math.ceil(size / 4), work, (r0, n) => args(r0 * 16, Math.min(n * 4, size - r0 * 4)));
}

/**
 * Runs compiled kernel `exportName`, which sums `count` items into the float32 tensor `out` (adding into it, or
 * overwriting it: `out` must be zeroed by the caller where the kernel adds), split in two when worth it:
 * `args(start, n, dst, spare)` gives the arguments that sum items start..start+n-1 into the buffer at dst, with
 * `spareFloats` floats of scratch at `spare` that belong to that part alone. The helper's half goes into a zeroed
 * buffer of out's size (its scratch right after it), added to out afterwards (a failed half is cleared and redone
 * here). If the helper hangs, this throws and leaves that one buffer allocated, since the worker may still write it.
 */
export function sumInHalves(
  native: NativeKernels,
  backend: WasmBackendLike,
  exportName: HelperExport,
  count: number,
  work: number,
  out: tf.TensorInfo,
  args: (start: number, n: number, dst: number, spare: number) => number[],
  spareFloats = 0,
): void {
  const size = tf.util.sizeFromShape(out.shape);
  const mySpare = spareFloats > 0 ? backend.makeOutput([spareFloats], "float32") : undefined;
  try {
    const whole = ptr(backend, out);
    const spare = mySpare ? ptr(backend, mySpare) : 0;
    if (count >= 2 && worthSplitting(work)) {
      const mine = count - (count >> 1);
      const partial = zeros(backend, [size + spareFloats]);
      let helperMayWrite = false;
      try {
        const dst = ptr(backend, partial);
        const theirs = args(mine, count - mine, dst, dst + size * 4);
        const redo = () => {
          f32(backend, partial).fill(0);
          call(native, exportName, theirs);
        };
        let split: boolean;
        try {
          split = splitOnHelper(backend.wasm, exportName, theirs, () => call(native, exportName, args(0, mine, whole, spare)), redo);
        } catch (err) {
          helperMayWrite = true;
          throw err;
        }
        if (split) {
          native.binary_rows(whole, dst, whole, 1, size, 0, 0, 0);
          return;
        }
      } finally {
        if (!helperMayWrite) backend.disposeData(partial.dataId);
      }
    }
    call(native, exportName, args(0, count, whole, spare));
  } finally {
    if (mySpare) backend.disposeData(mySpare.dataId);
  }
}

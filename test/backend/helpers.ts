/** Shared helpers for the backend tests: run the same computation on cpu and wasm and compare. */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { setupBackend } from "../../lib/backend";

export async function readyWasm(): Promise<void> {
  const info = await setupBackend({ backend: "wasm", quiet: true });
  assert.equal(info.name, "wasm");
}

/** Deterministic pseudo-random numbers in [-1, 1) (mulberry32), so failures reproduce. */
export function randomArray(size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2147483648 - 1;
  }
  return out;
}

/** Runs fn with `backend` active and returns the values of the tensor it yields. */
export async function onBackend(backend: "cpu" | "wasm", fn: () => tf.Tensor): Promise<Float32Array> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    return tf.tidy(() => fn().dataSync() as Float32Array);
  } finally {
    await tf.setBackend(previous);
  }
}

/**
 * Max |a-b| relative to max(|b|, floor) (scale-free, robust to near-zero entries). The floor covers gradients
 * that are zero in exact arithmetic (a conv bias followed by BatchNorm) and hold only float noise.
 */
export function assertClose(actual: Float32Array, expected: Float32Array, tol: number, what: string, floor = 1e-12): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let maxAbs = 0;
  let maxDiff = 0;
  for (let i = 0; i < expected.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
  }
  const rel = maxDiff / Math.max(maxAbs, floor);
  assert.ok(rel <= tol, `${what}: max difference ${maxDiff} is ${rel.toExponential(2)} of max |value| ${maxAbs} (tolerance ${tol})`);
}

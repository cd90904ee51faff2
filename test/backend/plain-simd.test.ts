/**
 * The plain SIMD build of our kernels (what runtimes without relaxed SIMD load): the same kernel checks against
 * the cpu backend as the default (relaxed-SIMD) build gets in kernels, fast-kernels and conv-forward.test.ts.
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { readyWasm } from "./helpers";
import { kernelBuildChoice } from "../../lib/backend/kernel-build";
import { WasmBackendLike, compiledKernels } from "../../lib/backend/wasm-util";
// Register those files' suites in this process; they run after the env change below (the build is chosen on
// first use).
import "./kernels.test";
import "./fast-kernels.test";
import "./conv-forward.test";

process.env.LESSONS_WASM_NO_RELAXED_SIMD = "1";

it("LESSONS_WASM_NO_RELAXED_SIMD=1 loads the plain SIMD build", async () => {
  await readyWasm();
  assert.ok(compiledKernels(tf.findBackend("wasm") as unknown as WasmBackendLike));
  assert.equal(kernelBuildChoice().build, "simd");
  assert.match(kernelBuildChoice().reason, /LESSONS_WASM_NO_RELAXED_SIMD/);
});

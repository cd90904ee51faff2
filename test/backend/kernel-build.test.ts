/** Which build of our kernels setupBackend's wasm backend loads: relaxed SIMD where the runtime accepts it. */
import { it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as tf from "@tensorflow/tfjs";
import { setupBackend } from "../../lib/backend";
import { kernelBuildChoice, kernelBuildPath } from "../../lib/backend/kernel-build";
import { kernelModulePath } from "../../lib/backend/native-kernels";
import { WasmBackendLike, compiledKernels } from "../../lib/backend/wasm-util";

it("loads the relaxed-SIMD build on Node 20+ (the flag is set from inside, no launch option needed) and says so", async () => {
  const info = await setupBackend({ backend: "wasm", quiet: true });
  assert.ok(info.reason.includes(kernelBuildChoice().reason), info.reason);
  assert.ok(compiledKernels(tf.findBackend("wasm") as unknown as WasmBackendLike), "the compiled kernels did not load");
  const major = Number(process.versions.node.split(".")[0]);
  if (major >= 20) assert.equal(kernelBuildChoice().build, "relaxed-simd", kernelBuildChoice().reason);
  // What was chosen really validates here, and the helper thread's module is of the same build.
  const shared = kernelModulePath(true);
  assert.equal(shared, kernelBuildPath(kernelBuildChoice().build, true));
  assert.ok(WebAssembly.validate(fs.readFileSync(kernelModulePath(false))));
});

it("the relaxed build uses f32x4.relaxed_madd and the plain build does not", () => {
  // relaxed_madd for f32x4 is the SIMD prefix 0xfd followed by LEB128 0x105 (0x85 0x02).
  const has = (file: string) => fs.readFileSync(file).includes(Buffer.from([0xfd, 0x85, 0x02]));
  assert.ok(has(kernelBuildPath("relaxed-simd", false)) && has(kernelBuildPath("relaxed-simd", true)));
  assert.ok(!has(kernelBuildPath("simd", false)) && !has(kernelBuildPath("simd", true)));
});

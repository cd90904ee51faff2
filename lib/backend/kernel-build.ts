/**
 * Which build of our compiled kernels to load: the relaxed-SIMD build (f32x4.relaxed_madd: fused multiply-add in
 * the convolution and matrix product sums, about a fifth faster there) where the runtime accepts it, else the
 * plain SIMD build. Node 22+ and Deno accept relaxed SIMD by default; Node 20 has it behind
 * --experimental-wasm-relaxed-simd, which we set from here (V8 reads its flags when it compiles a module, so this
 * works for every module compiled later, worker threads included, with no change to how Node is started).
 * LESSONS_WASM_NO_RELAXED_SIMD=1 keeps the plain build (for comparing the two, and for debugging).
 */
import * as fs from "fs";
import * as path from "path";
import * as v8 from "v8";
import { projectRoot } from "../paths";
import { wasmNoRelaxedSimd } from "../config";
import { wasmApi } from "./wasm-api";

export type KernelBuild = "relaxed-simd" | "simd";

export interface KernelBuildChoice {
  build: KernelBuild;
  /** Why this build: said by setupBackend and the benchmark. */
  reason: string;
}

/** The module file of a build: shared memory for the threaded tfjs backend, plain memory for the single-threaded. */
export function kernelBuildPath(build: KernelBuild, shared: boolean): string {
  const name = `training_kernels${build === "relaxed-simd" ? "-relaxed" : ""}${shared ? "-shared" : ""}.wasm`;
  return path.join(projectRoot(), "wasm", name);
}

/** Whether this runtime compiles the relaxed-SIMD build (on Node 20 after turning its flag on). */
export function runtimeAcceptsRelaxedSimd(): boolean {
  const bytes = fs.readFileSync(kernelBuildPath("relaxed-simd", false));
  if (wasmApi.validate(bytes)) return true;
  try {
    v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  } catch {
    return false; // a runtime without V8 flags (then it has relaxed SIMD on already, or not at all)
  }
  return wasmApi.validate(bytes);
}

let choice: KernelBuildChoice | undefined;

/** The build every later kernel load uses (chosen once per process, on first use). */
export function kernelBuildChoice(): KernelBuildChoice {
  if (!choice) {
    if (wasmNoRelaxedSimd()) {
      choice = { build: "simd", reason: "plain SIMD kernels (LESSONS_WASM_NO_RELAXED_SIMD=1)" };
    } else if (runtimeAcceptsRelaxedSimd()) {
      choice = { build: "relaxed-simd", reason: "relaxed-SIMD kernels (fused multiply-add)" };
    } else {
      choice = { build: "simd", reason: "plain SIMD kernels (this runtime has no relaxed SIMD)" };
    }
  }
  return choice;
}

/** Falls back to the plain build for the rest of the process (when the relaxed one fails to load). */
export function fallBackToPlainBuild(why: string): void {
  choice = { build: "simd", reason: `plain SIMD kernels (the relaxed-SIMD build did not load: ${why})` };
}

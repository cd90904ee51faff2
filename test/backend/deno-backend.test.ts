/**
 * lib/backend under Deno (a real `deno run` child process, ES modules through Deno's Node compatibility): the
 * wasm backend with our compiled kernels and the helper thread is chosen, not cpu, with the relaxed-SIMD build
 * that Deno's V8 accepts, and a few training steps of a small CNN lower the loss.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as path from "path";
import { denoBin, DENO_KERNEL_FLAGS } from "../../scripts/kernel/deno";

const root = path.join(__dirname, "..", "..");

test("under Deno, setupBackend picks wasm with our kernels (relaxed SIMD, helper thread) and training works", () => {
  const r = spawnSync(denoBin(root), ["run", "-A", ...DENO_KERNEL_FLAGS, path.join(root, "test", "fixtures", "deno", "train-step.ts")], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", LESSONS_BACKEND: "", LESSONS_THREADS: "2", LESSONS_WASM_ONE_THREAD: "" },
    timeout: 180_000,
  });
  assert.equal(r.status, 0, `deno run failed:\n${r.stderr}`);
  const line = r.stdout.trim().split("\n").at(-1)!;
  const result = JSON.parse(line) as {
    deno: string;
    backend: string;
    info: { name: string; threads: number; reason: string };
    build: string;
    convFilterGradient: boolean;
    helperCalls: number;
    fusedBatchNorm: boolean;
    fusedConvTraining: boolean;
    losses: number[];
  };
  assert.match(result.deno, /^\d+\.\d+\.\d+$/, "it ran under Deno");
  assert.equal(result.backend, "wasm");
  assert.equal(result.info.name, "wasm", result.info.reason);
  assert.equal(result.info.threads, 2, `the threaded build started: ${result.info.reason}`);
  assert.match(result.info.reason, /threaded SIMD build/);
  assert.equal(result.build, "relaxed-simd", "Deno's V8 has relaxed SIMD on: the relaxed build of our kernels is loaded");
  assert.ok(result.convFilterGradient, "our convolution gradient kernel is registered (stock tfjs-backend-wasm has none)");
  assert.ok(result.helperCalls > 0, "the helper thread ran part of our kernels");
  assert.ok(result.fusedBatchNorm, "batch normalization's statistics and its gradient ran as our fused kernels (tfjs-core's moments and batchNorm4d were replaced)");
  assert.ok(result.fusedConvTraining, "conv layers trained as one kernel with bias and ReLU (tfjs-core's fused.conv2d was replaced)");
  assert.equal(result.losses.length, 5);
  assert.ok(result.losses.every(Number.isFinite), `losses ${result.losses}`);
  assert.ok(result.losses.at(-1)! < result.losses[0]!, `training lowered the loss: ${result.losses}`);
});

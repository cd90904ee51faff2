/**
 * --ceiling: this machine's limits, measured in the same run as the workloads. The GFLOP/s of our register-blocked
 * SIMD matrix kernel (conv2d_forward as a 1x1 convolution, the tile all our convolution and matrix kernels use) on
 * one thread and on all threads, in the relaxed-SIMD build (fused multiply-add) and the plain build, and of
 * PyTorch's matrix multiply (torch.mm) on the same shape. Each thread works on memory of its own, so the numbers
 * are what the cores can do, not what our two-thread split of one kernel reaches.
 */
import { Worker } from "worker_threads";
import * as path from "path";
import { KernelBuild, kernelBuildPath, runtimeAcceptsRelaxedSimd } from "../../lib/backend/kernel-build";
import { projectRoot } from "../../lib/paths";
import { median } from "./stats";

/** M pixels x K input channels x N output channels: A and C (128 KB each) and B (64 KB) stay in L2. */
export const CEILING_SHAPE = { m: 256, k: 128, n: 128 };
/** Floating-point work per thread in one timed trial (about 0.1 s at 40 GFLOP/s). */
const TRIAL_FLOPS = 4e9;

export interface CeilingResult {
  /** "wasm relaxed-simd", "wasm simd" or "pytorch". */
  what: string;
  threads: number;
  /** Fastest trial: a ceiling is what the machine can do. */
  bestGflops: number;
  medianGflops: number;
  trials: number;
}

function once<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (msg: T) => {
      worker.off("error", reject);
      resolve(msg);
    };
    worker.once("message", onMessage);
    worker.once("error", reject);
  });
}

/** GFLOP/s of our matrix tile in `build` on `threads` threads at once (the sum of their rates), over `trials`. */
export async function wasmCeiling(build: KernelBuild, threads: number, trials = 7): Promise<CeilingResult> {
  if (build === "relaxed-simd" && !runtimeAcceptsRelaxedSimd()) throw new Error("this runtime does not accept relaxed SIMD");
  const { m, k, n } = CEILING_SHAPE;
  const calls = Math.max(1, Math.round(TRIAL_FLOPS / (2 * m * k * n)));
  const file = path.join(projectRoot(), "scripts", "bench", "ceiling-worker.cjs");
  const workers = Array.from({ length: threads }, () => new Worker(file, { workerData: { modulePath: kernelBuildPath(build, false), m, k, n, calls } }));
  try {
    await Promise.all(workers.map((w) => once<string>(w)));
    const rates: number[] = [];
    for (let t = 0; t < trials; t++) {
      const done = workers.map((w) => once<{ ms: number; flops: number }>(w));
      for (const w of workers) w.postMessage("go");
      const results = await Promise.all(done);
      rates.push(results.reduce((sum, r) => sum + r.flops / (r.ms * 1e6), 0));
    }
    return { what: `wasm ${build}`, threads, bestGflops: Math.max(...rates), medianGflops: median(rates), trials };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** The PyTorch peer's program for the same product: prints the GFLOP/s of each trial as a JSON list. */
export function torchMatmulScript(threads: number, trials = 7): string {
  const { m, k, n } = CEILING_SHAPE;
  const calls = Math.max(1, Math.round(TRIAL_FLOPS / (2 * m * k * n)));
  return `
import json, time, torch
torch.set_num_threads(${threads})
a = torch.randn(${m}, ${k}); b = torch.randn(${k}, ${n}); c = torch.empty(${m}, ${n})
torch.mm(a, b, out=c)
rates = []
for _ in range(${trials}):
    t0 = time.perf_counter()
    for _ in range(${calls}): torch.mm(a, b, out=c)
    rates.append(2 * ${m} * ${k} * ${n} * ${calls} / ((time.perf_counter() - t0) * 1e9))
print(json.dumps(rates))
`;
}

/** One line per measurement, for the report. */
export function formatCeiling(rows: readonly CeilingResult[]): string[] {
  const { m, k, n } = CEILING_SHAPE;
  const lines = [`Ceiling: GFLOP/s of a ${m}x${k} by ${k}x${n} matrix product, fastest (median) of ${rows[0]?.trials ?? 0} trials:`];
  for (const r of rows) {
    const fma = r.what === "wasm relaxed-simd" ? " (fused multiply-add)" : r.what === "wasm simd" ? " (multiply + add)" : " (torch.mm)";
    lines.push(`  ${r.what}${fma}, ${r.threads} thread${r.threads === 1 ? "" : "s"}: ${r.bestGflops.toFixed(1)} (${r.medianGflops.toFixed(1)})`);
  }
  return lines;
}

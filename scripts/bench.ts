/**
 * Training-speed benchmark of the backend chosen by setupBackend() on workloads A-D (see lib/backend/workloads).
 *
 *   npm run bench                      # all workloads, a table
 *   npm run bench -- --json -w A,B     # one JSON line per result
 *   npm run bench -- --torch           # also time the same models in PyTorch (python3 with torch) for a ratio;
 *                                      # LESSONS_PYTHON=/usr/bin/python3 for Debian's python3-torch
 *
 * Each workload runs in its own child process so that peak memory (maxRSS) is per workload.
 * Data is random (speed does not depend on the pixels). Times are medians of timed steps after warm-up.
 */
import { Command } from "commander";
import { execFile } from "child_process";
import * as os from "os";
import { promisify } from "util";
import * as tf from "@tensorflow/tfjs";
import { setupBackend, BackendName } from "../lib/backend";
import { WORKLOADS, forwardFlopsPerImage, Workload } from "../lib/backend/workloads";
import { torchPeerScript } from "./bench-torch";

interface Result {
  workload: string;
  backend: string;
  threads: number;
  stepMs: number;
  epochS: number;
  gflops: number;
  peakRssMB: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function runWorkload(w: Workload, warmup: number, steps: number): Promise<Result> {
  const info = await setupBackend({ quiet: true });
  const model = w.build();
  model.compile({ optimizer: tf.train.adam(1e-3), loss: "categoricalCrossentropy" });
  const xs = tf.randomNormal([w.batchSize, ...w.inputShape]);
  const ys = tf.oneHot(tf.randomUniform([w.batchSize], 0, w.classes, "int32") as tf.Tensor1D, w.classes);
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    await model.trainOnBatch(xs, ys);
    if (i >= warmup) times.push(performance.now() - t0);
  }
  const stepMs = median(times);
  const flops = 3 * forwardFlopsPerImage(model) * w.batchSize; // forward + two backward products
  tf.dispose([xs, ys]);
  model.dispose();
  return {
    workload: w.id,
    backend: info.name,
    threads: info.threads,
    stepMs: round(stepMs, 1),
    epochS: round((stepMs * Math.ceil(w.epochImages / w.batchSize)) / 1000, 1),
    gflops: round(flops / (stepMs * 1e6), 2),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

/** Runs a program to completion (execa 9 is ESM-only, this script runs as CommonJS). */
async function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string }> {
  const { stdout } = await promisify(execFile)(file, args, { env, maxBuffer: 16 * 1024 * 1024, timeout: 1_200_000 });
  return { stdout };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

async function torchPeer(w: Workload, warmup: number, steps: number, threads: number): Promise<Result | undefined> {
  try {
    // Debian's python3-torch lives in /usr/bin/python3, which a pyenv `python3` may shadow: LESSONS_PYTHON picks one.
    const python = process.env.LESSONS_PYTHON ?? "python3";
    const { stdout } = await run(python, ["-c", torchPeerScript(w.id, warmup, steps, threads)], process.env);
    const r = JSON.parse(stdout.trim().split("\n").pop()!) as { stepMs: number; peakRssMB: number };
    const model = w.build();
    const flops = 3 * forwardFlopsPerImage(model) * w.batchSize;
    model.dispose();
    return {
      workload: w.id, backend: "pytorch", threads, stepMs: round(r.stepMs, 1),
      epochS: round((r.stepMs * Math.ceil(w.epochImages / w.batchSize)) / 1000, 1),
      gflops: round(flops / (r.stepMs * 1e6), 2), peakRssMB: r.peakRssMB,
    };
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? "").trim().split("\n").pop();
    console.error(`PyTorch peer for ${w.id} skipped: ${stderr || (err as Error).message.split("\n")[0]} (apt-get install -y python3-torch)`);
    return undefined;
  }
}

async function main(): Promise<void> {
  const program = new Command()
    .description("Benchmark training steps of workloads A-D on the selected TensorFlow.js backend")
    .option("-w, --workloads <ids>", "comma-separated workload ids (A,B,C,D)", "A,B,C,D")
    .option("--warmup <n>", "untimed warm-up steps", "3")
    .option("--steps <n>", "timed steps", "7")
    .option("--json", "print one JSON line per result")
    .option("--torch", "also run the PyTorch peer when python3 can import torch")
    .option("--backend <name>", "force a backend (node-gpu, node, wasm, cpu)")
    .option("--child <id>", "internal: run one workload in this process")
    .parse();
  const opts = program.opts<{ workloads: string; warmup: string; steps: string; json?: boolean; torch?: boolean; backend?: string; child?: string }>();
  const warmup = Number(opts.warmup);
  const steps = Number(opts.steps);
  if (!Number.isInteger(warmup) || warmup < 0 || !Number.isInteger(steps) || steps < 1) {
    throw new Error(`--warmup must be >= 0 and --steps >= 1 (integers); got ${opts.warmup} and ${opts.steps}.`);
  }
  if (opts.backend) process.env.LESSONS_BACKEND = opts.backend as BackendName;

  if (opts.child) {
    const w = WORKLOADS.find((x) => x.id === opts.child)!;
    console.log(JSON.stringify(await runWorkload(w, warmup, steps)));
    return;
  }

  const ids = opts.workloads.split(",").map((s) => s.trim().toUpperCase());
  const unknown = ids.filter((id) => !WORKLOADS.some((w) => w.id === id));
  if (unknown.length) throw new Error(`Unknown workload(s) ${unknown.join(", ")}; choose from ${WORKLOADS.map((w) => w.id).join(", ")}.`);
  const info = await setupBackend({ quiet: !!opts.json });
  const results: Result[] = [];
  for (const id of ids) {
    const w = WORKLOADS.find((x) => x.id === id)!;
    const { stdout } = await run(process.execPath, [...process.execArgv, __filename, "--child", id, "--warmup", String(warmup), "--steps", String(steps)], {
      ...process.env,
      LESSONS_BACKEND: info.name,
    });
    const line = stdout.trim().split("\n").pop()!;
    const r = JSON.parse(line) as Result;
    results.push(r);
    if (opts.json) console.log(JSON.stringify(r));
    if (opts.torch) {
      const peer = await torchPeer(w, warmup, steps, info.threads > 1 ? info.threads : os.cpus().length);
      if (peer) {
        results.push(peer);
        if (opts.json) console.log(JSON.stringify({ ...peer, ratio: round(r.stepMs / peer.stepMs, 2) }));
      }
    }
  }
  if (!opts.json) printTable(results);
}

function printTable(results: Result[]): void {
  const header = "| workload | backend | threads | step ms | epoch s | GFLOP/s | peak RSS MB |";
  console.log(header);
  console.log("|---|---|---|---|---|---|---|");
  for (const r of results) {
    console.log(`| ${r.workload} | ${r.backend} | ${r.threads} | ${r.stepMs} | ${r.epochS} | ${r.gflops} | ${r.peakRssMB} |`);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

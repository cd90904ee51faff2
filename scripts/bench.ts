/**
 * Training-speed benchmark of the backend chosen by setupBackend() on workloads A-E and G (scripts/bench/workloads.ts)
 * and lesson 05's MobileNet v1 0.25 inference (F) and fine-tuning step (FT) at its input size (scripts/bench/transfer.ts).
 *
 *   npm run bench                          # all workloads, a table, and the CIFAR-10 load line
 *   npm run bench -- --json -w A,B         # one JSON line per result
 *   npm run bench -- --torch --ceiling     # also PyTorch (our thread count and 1 thread) for the ratios, and this
 *                                          # machine's matrix-kernel limits; LESSONS_PYTHON=/usr/bin/python3 for
 *                                          # Debian's python3-torch
 *   npm run bench -- --rounds 5 -w A       # more rounds on a noisy machine
 *   npm run bench -- --profile -w C        # per-kernel times of one workload instead
 *
 * A shared machine makes single runs unreliable (load from neighbours; OpenMP spin-waiting makes PyTorch with 2
 * threads on 2 vCPUs jump between fast and slow steps). So every workload runs in --rounds rounds, each round one
 * fresh process per contender in turn (ours, PyTorch xN, PyTorch x1, ours, ...), and a contender's step time is the
 * median over all its timed steps of all rounds, with quartiles and the fastest step as the spread. Ours is compared
 * with PyTorch twice, by medians and by fastest steps; a contender whose p75 exceeds 1.5x its p25 is flagged as
 * bimodal, and a target's verdict is printed only when both ratios agree. Fresh processes also make peak memory
 * (maxRSS) per workload.
 */
import { CommanderError } from "commander";
import { spawnSync } from "child_process";
import * as os from "os";
import * as path from "path";
import { setupBackend, BackendInfo } from "../lib/backend";
import { kernelBuildChoice } from "../lib/backend/kernel-build";
import { BenchOptions, parseBenchArgs } from "./bench/options";
import { formatProfile, profileJson, profileWorkload } from "./bench/profile";
import { compareWithPeers, isBimodal, median, peerThreadCounts, pooledStepStats, roundSchedule, roundTo, targetVerdict } from "./bench/stats";
import { loadExeca } from "./kernel/load-execa";
import { runTorchCeiling, runTorchPeer, torchPython, torchVersion } from "./bench/torch";
import { flopsPerStep, prepareWorkload, timeSteps, workloadById } from "./bench/workload";
import { augmentationLines } from "./bench/augment";
import { CeilingResult, formatCeiling, wasmCeiling } from "./bench/ceiling";
import { cifar10DataLine, timeCifar10Load } from "./bench/data";
import { TARGETS } from "./bench/targets";
import { denoBin, DENO_KERNEL_FLAGS } from "./kernel/deno";

/** One JSON line of --json: the required fields first, then the spread and the comparison. */
interface Result {
  workload: string;
  backend: string;
  /** Ours timed under Deno (--runtime deno); absent for Node. */
  runtime?: "deno";
  threads: number;
  /** Median over all timed steps of all rounds. */
  stepMs: number;
  epochS: number;
  /** Images per second at the median step (for F: inference speed). */
  imagesPerS: number;
  gflops: number;
  /** Largest peak RSS of the rounds' processes. */
  peakRssMB: number;
  p25Ms: number;
  p75Ms: number;
  minMs: number;
  /** p75 > 1.5 x p25: two speeds, so the median alone says little. */
  bimodal: boolean;
  /** Median of each round on its own: a drift between rounds shows here. */
  roundMedians: number[];
  steps: number;
  rounds: number;
  /**
   * Ours with --ceiling: our matrix kernel's GFLOP/s on all threads in the build in use, measured at the end of
   * each round (the machine's speed drifts between rounds), and the median over rounds of the round's GFLOP/s over it.
   */
  roundCeilingGflops?: number[];
  ceilingShare?: number;
  /** Ours only: our median over the fastest PyTorch median (and that configuration's threads)... */
  ratio?: number;
  ratioVsThreads?: number;
  /** ...and our fastest step over PyTorch's fastest step (and that configuration's threads). */
  ratioFastest?: number;
  ratioFastestVsThreads?: number;
  /** Ours only, where the workload has a speed target: met only when both ratios are within it. */
  speedTarget?: number;
  speedVerdict?: string;
  /** PyTorch only: whether this is the configuration the median ratio is taken against. */
  fastestPeer?: boolean;
}

/** What one process reports for one round. */
interface RoundRun {
  timesMs: number[];
  peakRssMB: number;
}

type Contender = { kind: "ours" } | { kind: "deno" } | { kind: "torch"; threads: number };

/** 1-minute load averages sampled before each run: how busy the shared machine was (our own run adds ~its threads). */
const loadSamples: number[] = [];

async function childMain(opts: BenchOptions): Promise<void> {
  await setupBackend({ quiet: true });
  const p = prepareWorkload(workloadById(opts.child!));
  const timesMs = await timeSteps(p, opts.warmup, opts.steps);
  p.dispose();
  const run: RoundRun = { timesMs, peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024) };
  console.log(JSON.stringify(run));
}

/** This script again in a fresh Node process, with the same runtime options. */
function childCommand(args: string[]): string[] {
  return [...process.execArgv, __filename, ...args];
}

/** The version of the project's Deno ("deno --version", first line). */
function denoVersion(): string {
  const r = spawnSync(denoBin(path.resolve(__dirname, "..")), ["--version"], { encoding: "utf8" });
  return r.stdout.split("\n")[0]?.replace(/^deno\s+/, "").split(" ")[0] ?? "unknown";
}

/** The child under the project's Deno instead (--runtime deno): the same script as an ES module. */
function denoChildCommand(args: string[]): [string, string[]] {
  return [denoBin(path.resolve(__dirname, "..")), ["run", "-A", ...DENO_KERNEL_FLAGS, __filename, ...args]];
}

async function runOurs(id: string, opts: BenchOptions, info: BackendInfo, runtime: "node" | "deno" = "node"): Promise<RoundRun> {
  const { execa } = await loadExeca();
  const args = ["--child", id, "--warmup", String(opts.warmup), "--steps", String(opts.steps)];
  const [command, commandArgs] = runtime === "deno" ? denoChildCommand(args) : [process.execPath, childCommand(args)];
  const { stdout } = await execa(command, commandArgs, {
    env: { LESSONS_BACKEND: info.name },
    maxBuffer: 16 * 1024 * 1024,
    timeout: 1_200_000,
  });
  return JSON.parse(stdout.trim().split("\n").pop() ?? "") as RoundRun;
}

function label(c: Contender, info: BackendInfo): string {
  if (c.kind === "torch") return `pytorch x${c.threads}`;
  return `${info.name} x${info.threads}${c.kind === "deno" ? " (Deno)" : ""}`;
}

function summarize(id: string, backend: string, threads: number, runs: RoundRun[], rounds: number, flops: number): Result {
  const w = workloadById(id);
  const s = pooledStepStats(runs.map((r) => r.timesMs));
  const roundMedians = runs.map((r) => pooledStepStats([r.timesMs]).medianMs);
  return {
    workload: id,
    backend,
    threads,
    stepMs: roundTo(s.medianMs, 1),
    epochS: roundTo((s.medianMs * Math.ceil(w.epochImages / w.batchSize)) / 1000, 1),
    imagesPerS: roundTo((w.batchSize * 1000) / s.medianMs, 0),
    gflops: roundTo(flops / (s.medianMs * 1e6), 2),
    peakRssMB: Math.max(...runs.map((r) => r.peakRssMB)),
    p25Ms: roundTo(s.p25Ms, 1),
    p75Ms: roundTo(s.p75Ms, 1),
    minMs: roundTo(s.minMs, 1),
    bimodal: isBimodal(s),
    roundMedians: roundMedians.map((x) => roundTo(x, 1)),
    steps: s.steps,
    rounds,
  };
}

/** All rounds of one workload; returns our row first, then one row per PyTorch configuration that ran. */
async function benchWorkload(id: string, opts: BenchOptions, info: BackendInfo, torchOk: boolean): Promise<Result[]> {
  const contenders: Contender[] = [{ kind: "ours" }];
  if (opts.runtime === "deno") contenders.push({ kind: "deno" });
  if (torchOk) for (const threads of peerThreadCounts(info.threads)) contenders.push({ kind: "torch", threads });
  const runs = new Map<Contender, RoundRun[]>(contenders.map((c) => [c, []]));
  const roundCeilings: number[] = [];
  for (const { round, contender } of roundSchedule(opts.rounds, contenders)) {
    const name = label(contender, info);
    loadSamples.push(os.loadavg()[0]);
    try {
      const r =
        contender.kind === "torch" ? await runTorchPeer(id, opts.warmup, opts.steps, contender.threads) : await runOurs(id, opts, info, contender.kind === "ours" ? "node" : "deno");
      runs.get(contender)!.push(r);
      if (!opts.json) {
        const med = pooledStepStats([r.timesMs]).medianMs;
        process.stderr.write(`  ${id} round ${round}/${opts.rounds} ${name}: ${med.toFixed(1)} ms/step\n`);
      }
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      const why = String(e.stderr ?? "").trim().split("\n").pop() || e.message.split("\n")[0];
      if (contender.kind !== "torch") throw new Error(`Workload ${id} (${name}, round ${round}) failed in its child process: ${why}`);
      console.error(`PyTorch peer (${contender.threads} thread(s)) for ${id}, round ${round}, failed: ${why}`);
    }
    // At the end of each round, so that its full-load trials do not run just before one contender's steps.
    const roundOver = contender === contenders[contenders.length - 1];
    if (roundOver && opts.ceiling && info.name === "wasm") roundCeilings.push((await wasmCeiling(kernelBuildChoice().build, info.threads, 5)).bestGflops);
  }
  const flops = flopsPerStep(workloadById(id));
  const ours = summarize(id, info.name, info.threads, runs.get(contenders[0])!, opts.rounds, flops);
  if (roundCeilings.length > 0) {
    ours.roundCeilingGflops = roundCeilings.map((g) => roundTo(g, 1));
    ours.ceilingShare = roundTo(median(ours.roundMedians.map((ms, r) => flops / (ms * 1e6) / roundCeilings[r]!)), 3);
  }
  const onDeno = contenders.filter((c) => c.kind === "deno").map((c) => ({ ...summarize(id, `${info.name} (Deno)`, info.threads, runs.get(c)!, opts.rounds, flops), runtime: "deno" as const }));
  const peers = contenders
    .filter((c) => c.kind === "torch" && runs.get(c)!.length > 0)
    .map((c) => summarize(id, "pytorch", (c as { threads: number }).threads, runs.get(c)!, runs.get(c)!.length, flops));
  const cmp = compareWithPeers(ours, peers);
  if (cmp) {
    ours.ratio = roundTo(cmp.byMedian, 2);
    ours.ratioVsThreads = cmp.medianPeer.threads;
    ours.ratioFastest = roundTo(cmp.byFastest, 2);
    ours.ratioFastestVsThreads = cmp.fastestStepPeer.threads;
    for (const p of peers) p.fastestPeer = p === cmp.medianPeer;
    const target = TARGETS[id]?.speed;
    if (target !== undefined) {
      ours.speedTarget = target;
      ours.speedVerdict = targetVerdict([cmp.byMedian, cmp.byFastest], target);
    }
  }
  return [ours, ...onDeno, ...peers];
}

function printTable(results: Result[], opts: BenchOptions, torchNote: string | undefined): void {
  console.log(
    "| workload | backend | threads | step ms: median (p25-p75) | fastest ms | epoch s | images/s | GFLOP/s | of ceiling | peak RSS MB " +
      "| x PyTorch, medians | x PyTorch, fastest steps |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
  const ms = (x: number) => x.toFixed(1);
  for (const r of results) {
    const byMedian = r.ratio !== undefined ? `${r.ratio.toFixed(2)} (vs x${r.ratioVsThreads})` : r.fastestPeer ? "fastest median" : "";
    const byFastest = r.ratioFastest !== undefined ? `${r.ratioFastest.toFixed(2)} (vs x${r.ratioFastestVsThreads})` : "";
    const share = r.ceilingShare !== undefined ? `${Math.round(100 * r.ceilingShare)}% of ${r.roundCeilingGflops!.map((g) => g.toFixed(0)).join("/")}` : "";
    console.log(
      `| ${r.workload} | ${r.backend} | ${r.threads} | ${ms(r.stepMs)} (${ms(r.p25Ms)}-${ms(r.p75Ms)})${r.bimodal ? " BIMODAL" : ""} | ${ms(r.minMs)} | ` +
        `${r.epochS.toFixed(1)} | ${r.imagesPerS} | ${r.gflops.toFixed(1)} | ${share} | ${r.peakRssMB} | ${byMedian} | ${byFastest} |`,
    );
  }
  console.log(
    `\nMedians over all timed steps of ${opts.rounds} round(s) x ${opts.steps} step(s) after ${opts.warmup} warm-up, ` +
      `each round a fresh process per contender, run in turn. BIMODAL: p75 > 1.5 x p25 (two speeds; trust its median less).`,
  );
  if (torchNote) console.log(torchNote);
  if (loadSamples.length) {
    console.log(
      `1-minute load average before the runs: ${Math.min(...loadSamples).toFixed(1)}-${Math.max(...loadSamples).toFixed(1)} ` +
        `on ${os.cpus().length} logical cores (the benchmark itself accounts for up to about its thread count; ` +
        `more means other work shared the machine).`,
    );
  }
}

/** One line per target: speed (by both ratios), memory, and the ceiling share where one is set. */
function targetLines(results: Result[]): string[] {
  const lines: string[] = [];
  for (const r of results) {
    if (r.backend === "pytorch") continue;
    const t = TARGETS[r.workload];
    if (!t) continue;
    const parts: string[] = [];
    if (r.speedVerdict) {
      parts.push(`<= ${r.speedTarget}x PyTorch: ${r.speedVerdict.toUpperCase()} (medians ${r.ratio}x, fastest steps ${r.ratioFastest}x)`);
    }
    if (t.rssMB !== undefined) parts.push(`peak RSS <= ${t.rssMB} MB: ${r.peakRssMB <= t.rssMB ? "MET" : "NOT MET"} (${r.peakRssMB} MB)`);
    if (t.ceilingShare !== undefined && r.ceilingShare !== undefined) {
      parts.push(`>= ${Math.round(100 * t.ceilingShare)}% of the wasm ceiling: ${r.ceilingShare >= t.ceilingShare ? "MET" : "NOT MET"} (${Math.round(100 * r.ceilingShare)}%, whole step)`);
    }
    if (parts.length) lines.push(`Target ${r.workload}: ${parts.join("; ")}.`);
  }
  return lines;
}

/** --ceiling: our kernel in both builds on 1 and all threads, and PyTorch's matrix multiply on the same counts. */
async function measureCeilings(info: BackendInfo, torchOk: boolean): Promise<CeilingResult[]> {
  const threadCounts = [...new Set([1, info.threads])];
  const rows: CeilingResult[] = [];
  for (const threads of threadCounts) {
    for (const build of ["relaxed-simd", "simd"] as const) {
      try {
        rows.push(await wasmCeiling(build, threads));
      } catch (err) {
        console.error(`Ceiling of the ${build} build on ${threads} thread(s) not measured: ${(err as Error).message}`);
      }
    }
    if (torchOk) {
      try {
        rows.push(await runTorchCeiling(threads));
      } catch (err) {
        console.error(`PyTorch's matrix-multiply ceiling on ${threads} thread(s) not measured: ${(err as Error).message}`);
      }
    }
  }
  return rows;
}

async function main(): Promise<void> {
  const opts = parseBenchArgs(process.argv.slice(2));
  if (opts.backend) process.env.LESSONS_BACKEND = opts.backend;
  if (opts.child) return childMain(opts);
  if (opts.childData) return void console.log(JSON.stringify(await timeCifar10Load()));

  const info = await setupBackend({ quiet: opts.json });
  if (opts.profile) {
    const report = await profileWorkload(opts.workloads[0], info, opts.warmup, opts.steps);
    console.log(opts.json ? JSON.stringify(profileJson(report)) : formatProfile(report, opts.top));
    return;
  }

  let torchOk = false;
  let torchNote: string | undefined;
  if (opts.torch) {
    const version = await torchVersion();
    if (version instanceof Error) {
      console.error(`PyTorch peer skipped: ${version.message}`);
    } else {
      torchOk = true;
      const counts = peerThreadCounts(info.threads);
      torchNote =
        `PyTorch ${version} (${torchPython()}) ran with ${counts.map((n) => `${n} thread${n === 1 ? "" : "s"}`).join(" and ")} ` +
        `(torch.set_num_threads, OMP_NUM_THREADS, MKL_NUM_THREADS). Ratios (above 1: we are slower): our median over ` +
        `the FASTER configuration's median, and our fastest step over PyTorch's fastest step; a target counts as met ` +
        `only when both ratios are within it.`;
    }
  }

  const ceilingLines: string[] = [];
  if (opts.ceiling && info.name === "wasm") {
    loadSamples.push(os.loadavg()[0]);
    const rows = await measureCeilings(info, torchOk);
    ceilingLines.push(
      ...formatCeiling(rows),
      `"of ceiling": a workload's GFLOP/s (conv and dense FLOPs as direct convolution; Winograd's saving counts as ` +
        `speed) over the ${kernelBuildChoice().build} build's ceiling on ${info.threads} thread(s), measured again at the ` +
        `end of each round (fastest of 5 trials; the column lists them, in GFLOP/s); the median of the rounds' shares.`,
    );
    if (opts.json) console.log(JSON.stringify({ ceiling: rows }));
  }

  const results: Result[] = [];
  for (const id of opts.workloads) {
    const rows = await benchWorkload(id, opts, info, torchOk);
    results.push(...rows);
    if (opts.json) for (const r of rows) console.log(JSON.stringify(r));
  }
  const dataLine = opts.data ? await cifar10DataLine(childCommand(["--child-data"])) : undefined;
  if (opts.json) {
    if (dataLine) console.log(JSON.stringify({ data: dataLine }));
    return;
  }
  const deno = opts.runtime === "deno" ? `; Deno ${denoVersion()} for the (Deno) rows` : "";
  console.log(`Kernels: ${kernelBuildChoice().reason}; Node ${process.versions.node}${deno}; ${os.cpus()[0]?.model ?? "unknown CPU"}.`);
  for (const line of ceilingLines) console.log(line);
  console.log("");
  printTable(results, opts, torchNote);
  const onNode = results.filter((r) => r.runtime !== "deno"); // targets and augmentation are Node's
  for (const line of targetLines(onNode)) console.log(line);
  for (const line of augmentationLines(onNode)) console.log(line);
  if (dataLine) console.log(dataLine);
}

main().catch((err) => {
  if (err instanceof CommanderError) process.exit(err.exitCode); // commander printed the message (or --help)
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

/**
 * `npm run bench` for real, kept short: one timed step of workload A in one round (JSON), one profiled step, a bad
 * argument, and, where /usr/bin/python3 (or LESSONS_PYTHON) imports torch, the PyTorch peer rows and their ratio.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as path from "path";
import { loadExeca } from "../../scripts/kernel/load-execa";
import { projectRoot } from "../../lib/paths";

const root = projectRoot();
const python = process.env.LESSONS_PYTHON || "/usr/bin/python3";

async function bench(args: string[], timeout = 120_000): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const { execa } = await loadExeca();
  const r = await execa(process.execPath, [path.join(root, "node_modules", "tsx", "dist", "cli.mjs"), "scripts/bench.ts", ...args], {
    cwd: root,
    reject: false,
    env: { LESSONS_PYTHON: python },
    timeout,
  });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function torchImports(): Promise<boolean> {
  const { execa } = await loadExeca();
  const r = await execa(python, ["-c", "import torch"], { reject: false, timeout: 60_000 });
  return r.exitCode === 0;
}

const jsonLines = (stdout: string) => stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);

describe("npm run bench", () => {
  it("--json prints one result line with the required fields and the spread", async () => {
    const r = await bench(["--json", "-w", "A", "--warmup", "0", "--steps", "1", "--rounds", "1", "--no-data"]);
    assert.equal(r.exitCode, 0, r.stderr);
    const rows = jsonLines(r.stdout);
    assert.equal(rows.length, 1, r.stdout);
    const row = rows[0];
    for (const key of ["workload", "backend", "threads", "stepMs", "epochS", "gflops", "peakRssMB", "p25Ms", "p75Ms", "minMs"]) {
      assert.ok(key in row, `missing ${key} in ${JSON.stringify(row)}`);
    }
    assert.equal(row.workload, "A");
    assert.equal(row.steps, 1);
    assert.equal(row.rounds, 1);
    const step = row.stepMs as number;
    assert.ok(step > 0, `stepMs ${step}`);
    // One step: median, quartiles and minimum are that step.
    assert.equal(row.minMs, step);
    assert.equal(row.p25Ms, step);
    // epoch = step x ceil(878 / 32) batches.
    assert.ok(Math.abs((row.epochS as number) - (step * 28) / 1000) <= 0.06, JSON.stringify(row));
    assert.ok((row.peakRssMB as number) > 50);
  });

  it("a bad argument exits 1 with a message that says what to pass", async () => {
    const r = await bench(["--rounds", "0"]);
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /--rounds must be a whole number >= 1; got "0"/);
  });

  it("--profile --json gives kernel times that fit inside the step, without op wrappers", async () => {
    const r = await bench(["--profile", "--json", "-w", "A", "--warmup", "0", "--steps", "1"]);
    assert.equal(r.exitCode, 0, r.stderr);
    const p = jsonLines(r.stdout)[0] as {
      profiledStepMs: number; kernelMs: number; byKernel: Array<{ key: string; msPerStep: number; share: number }>;
    };
    assert.ok(p.kernelMs > 0 && p.kernelMs <= p.profiledStepMs, `kernels ${p.kernelMs} ms, step ${p.profiledStepMs} ms`);
    const names = p.byKernel.map((k) => k.key);
    assert.ok(names.some((n) => /Conv2D/.test(n)), names.join(", "));
    assert.ok(!names.some((n) => n.endsWith("__op")), names.join(", "));
    const sum = p.byKernel.reduce((a, k) => a + k.msPerStep, 0);
    assert.ok(Math.abs(sum - p.kernelMs) < 0.05 * p.kernelMs + 0.1, `rows sum ${sum}, total ${p.kernelMs}`);
  });

  it("--torch adds PyTorch with our thread count and 1 thread, and a ratio vs the faster one", async (t) => {
    if (!(await torchImports())) {
      t.skip(`${python} cannot import torch (apt-get install -y python3-torch)`);
      return;
    }
    const r = await bench(["--json", "--torch", "-w", "A", "--warmup", "0", "--steps", "1", "--rounds", "1", "--no-data"]);
    assert.equal(r.exitCode, 0, r.stderr);
    const rows = jsonLines(r.stdout);
    const ours = rows[0];
    const peers = rows.filter((x) => x.backend === "pytorch");
    const threads = ours.threads as number;
    assert.deepEqual(peers.map((p) => p.threads), threads === 1 ? [1] : [threads, 1]);
    const fastest = peers.reduce((a, b) => ((b.stepMs as number) < (a.stepMs as number) ? b : a));
    assert.equal(ours.ratioVsThreads, fastest.threads);
    assert.ok(Math.abs((ours.ratio as number) - (ours.stepMs as number) / (fastest.stepMs as number)) < 0.01, JSON.stringify(rows));
    assert.deepEqual(peers.map((p) => p.fastestPeer), peers.map((p) => p === fastest));
    // The second ratio: our fastest step over PyTorch's fastest step, whichever configuration had it.
    const quickest = peers.reduce((a, b) => ((b.minMs as number) < (a.minMs as number) ? b : a));
    assert.equal(ours.ratioFastestVsThreads, quickest.threads);
    assert.ok(Math.abs((ours.ratioFastest as number) - (ours.minMs as number) / (quickest.minMs as number)) < 0.01, JSON.stringify(rows));
    // A has a speed target: the verdict is "met" or "not met" only when both ratios agree.
    const both = [ours.ratio as number, ours.ratioFastest as number].map((x) => x <= 1.0);
    assert.equal(ours.speedVerdict, both.every(Boolean) ? "met" : both.some(Boolean) ? "undecided" : "not met");
  });

  it("--ceiling measures our matrix kernel on 1 and all threads in both builds, and each workload's share of it, measured again each round", async () => {
    // 28 timed trials of about 0.1 s each on an idle machine; minutes on a loaded one.
    const r = await bench(["--json", "--ceiling", "-w", "A", "--warmup", "0", "--steps", "1", "--rounds", "1", "--no-data"], 600_000);
    assert.equal(r.exitCode, 0, r.stderr);
    const lines = jsonLines(r.stdout);
    const ceiling = (lines.find((l) => "ceiling" in l)?.ceiling ?? []) as Array<{ what: string; threads: number; bestGflops: number; medianGflops: number }>;
    const row = lines.find((l) => l.workload === "A")!;
    const threads = row.threads as number;
    const wanted = [...new Set([1, threads])].flatMap((t) => [`wasm relaxed-simd x${t}`, `wasm simd x${t}`]);
    assert.deepEqual(ceiling.map((c) => `${c.what} x${c.threads}`), wanted);
    for (const c of ceiling) assert.ok(c.bestGflops > 0 && c.bestGflops >= c.medianGflops, JSON.stringify(c));
    const mine = ceiling.find((c) => c.what === "wasm relaxed-simd" && c.threads === threads)!;
    // The share is taken against the ceiling measured again at the end of the round (the machine's speed drifts).
    const again = row.roundCeilingGflops as number[];
    assert.equal(again.length, 1);
    assert.ok(again[0]! > 0 && again[0]! < 3 * mine.bestGflops, JSON.stringify({ again, mine }));
    assert.ok(Math.abs((row.ceilingShare as number) - (row.gflops as number) / again[0]!) < 0.01, JSON.stringify({ row, mine }));
  });
});

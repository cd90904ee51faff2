/**
 * Workloads E and G are the lessons' networks (their parameter counts as the lessons state them), and their
 * PyTorch peers have the same number of parameters (so they do the same work).
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { loadExeca } from "../../scripts/kernel/load-execa";
import { torchPeerScript } from "../../scripts/bench/torch";
import { workloadById } from "../../scripts/bench/workload";
import { Workload } from "../../scripts/bench/workloads";

const python = process.env.LESSONS_PYTHON || "/usr/bin/python3";

before(async () => {
  await tf.setBackend("cpu");
});

const counts = (m: tf.LayersModel) => {
  const trainable = m.trainableWeights.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);
  return { total: m.countParams(), trainable };
};

test("E is lesson 03's batch-norm network (1,338,090 parameters) and G seed 003's ResNet (771,690, 1,800 non-trainable)", () => {
  const e = (workloadById("E") as Workload).build();
  assert.deepEqual(counts(e), { total: 1338090, trainable: 1338090 - 2 * (32 + 64 + 256) });
  assert.equal(e.layers.filter((l) => l.getClassName() === "Dropout").length, 4);
  e.dispose();
  const g = (workloadById("G") as Workload).build();
  assert.deepEqual(counts(g), { total: 771690, trainable: 771690 - 1800 });
  assert.equal(g.layers.filter((l) => l.getClassName() === "Add").length, 8);
  assert.equal(g.layers.filter((l) => l.getClassName() === "Conv2D" && String(l.getConfig().strides) === "2,2").length, 4);
  g.dispose();
});

test("the PyTorch peers of E and G count the same trainable parameters", async (t) => {
  const { execa } = await loadExeca();
  if ((await execa(python, ["-c", "import torch"], { reject: false, timeout: 60_000 })).exitCode !== 0) {
    t.skip(`${python} cannot import torch`);
    return;
  }
  const expected: Record<string, number> = { E: 1338090 - 2 * (32 + 64 + 256), G: 771690 - 1800 };
  for (const id of ["E", "G"]) {
    // The peer's model without the timing loop: cut the program where the loop starts, then count.
    const script = torchPeerScript(id, 0, 1, 1);
    const body = script.slice(0, script.indexOf("x = torch.randn"));
    const r = await execa(python, ["-c", `${body}\nprint(sum(p.numel() for p in model.parameters()))`], { reject: false, timeout: 120_000 });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(Number(r.stdout.trim()), expected[id], id);
  }
});

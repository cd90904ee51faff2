/** Aggregation of tf.profile kernel records: per-step averages, op wrappers kept out of the totals. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isOpWrapper, KernelRecord, shapeKey, summarizeKernels } from "../../scripts/bench/kernels";

const rec = (name: string, ms: number, shapes: Array<number[] | null> = [[2, 3]]): KernelRecord => ({ name, inputShapes: shapes, kernelTimeMs: ms });

describe("summarizeKernels", () => {
  // Two steps; fusedConv2d__op wraps the Conv2D and Add that it runs, so its 9 ms must not count again.
  const step = (convMs: number): KernelRecord[] => [
    rec("fusedConv2d__op", 9),
    rec("Conv2D", convMs, [[8, 4, 4, 3], [3, 3, 3, 5]]),
    rec("Add", 1),
    rec("Conv2D", 2, [[8, 2, 2, 5], [3, 3, 5, 5]]),
    rec("", 4),
  ];
  const s = summarizeKernels([step(6), step(8)]);

  it("averages per step and leaves wrappers out of the kernel total", () => {
    assert.equal(s.steps, 2);
    assert.equal(s.kernelMsPerStep, (6 + 1 + 2 + 8 + 1 + 2) / 2);
    assert.deepEqual(s.wrappers.map((w) => [w.key, w.msPerStep, w.share]), [["fusedConv2d__op", 9, 0], ["(custom gradient)", 4, 0]]);
  });
  it("groups by kernel name, sorted by time, with shares of the total", () => {
    assert.deepEqual(s.byKernel.map((r) => [r.key, r.msPerStep, r.callsPerStep]), [["Conv2D", 9, 2], ["Add", 1, 1]]);
    const shares = s.byKernel.reduce((a, r) => a + r.share, 0);
    assert.ok(Math.abs(shares - 1) < 1e-12);
  });
  it("keeps kernels with different input shapes apart", () => {
    assert.deepEqual(s.byShape.map((r) => [r.key, r.msPerStep]), [
      ["Conv2D [8,4,4,3] [3,3,3,5]", 7],
      ["Conv2D [8,2,2,5] [3,3,5,5]", 2],
      ["Add [2,3]", 1],
    ]);
  });
  it("refuses untimed kernels and an empty profile", () => {
    assert.throws(() => summarizeKernels([[{ name: "Conv2D", inputShapes: [], kernelTimeMs: { error: "no timer" } }]]), /did not time kernel Conv2D \(no timer\)/);
    assert.throws(() => summarizeKernels([]), /--steps >= 1/);
  });
  it("recognises op wrappers and writes missing inputs as -", () => {
    assert.equal(isOpWrapper("conv2d__op"), true);
    assert.equal(isOpWrapper("Conv2D"), false);
    assert.equal(shapeKey({ name: "FusedConv2D", inputShapes: [[1, 2], null] }), "FusedConv2D [1,2] -");
  });
});

/**
 * Output that a kernel sends after its "idle" still belongs to the cell: Deno's kernel (2.9) sends a cell's last
 * console lines and displays through a queue that its idle skips. A fake kernel
 * (test/fixtures/kernels/late-output-kernel.ts) holds them back until its next request, the worst case. The same
 * fake kernel also answers a cell with an error reply whose reason is only on its console, as tslab can.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "path";
import { Kernel } from "../../scripts/runner/kernel-client";

const root = path.join(__dirname, "..", "..");
const fakeKernel = path.join(root, "test", "fixtures", "kernels", "late-output-kernel.ts");

function startFakeKernel(): Promise<Kernel> {
  return Kernel.start({ root, cwd: root, argv: (file) => [process.execPath, "--import", "tsx", fakeKernel, file], startupTimeoutMs: 30_000 });
}

test("a cell's outputs include the stream and display update that come after its idle, in order", async () => {
  const kernel = await startFakeKernel();
  try {
    for (let i = 0; i < 2; i++) {
      const run = await kernel.execute("anything", 10_000);
      assert.equal(run.status, "ok");
      assert.deepEqual(run.outputs, [
        { output_type: "display_data", data: { "text/plain": "updated" }, metadata: {} },
        { output_type: "stream", name: "stdout", text: "printed last\n" },
      ]);
    }
  } finally {
    await kernel.shutdown();
  }
});

test("an error reply without error text shows what the kernel printed last", async () => {
  const kernel = await startFakeKernel();
  try {
    const run = await kernel.execute("fail silently", 10_000);
    assert.equal(run.status, "error");
    assert.match(run.stderr, /answered "error" without an error message/);
    assert.match(run.stderr, /fake kernel: something failed outside the cell/);
  } finally {
    await kernel.shutdown();
  }
});

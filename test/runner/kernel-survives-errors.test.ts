/**
 * With the wasm backend set up, a promise nobody awaited and an error thrown in a timer are reported in the cell
 * (tslab's "UnhandledPromiseRejection:" / "UncaughtException:") and the kernel lives on. The emscripten glue of
 * tfjs's wasm build adds process listeners that rethrow both, which killed the kernel and every variable in it;
 * lib/backend removes them. A failure whose value prints as nothing is described instead of leaving the cell silent.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "path";
import { Kernel } from "../../scripts/runner/kernel-client";
import { kernelCommand } from "../../scripts/runner/kernels";

const root = path.join(__dirname, "..", "..");

test("after setupBackend, an unawaited rejection and a throw in a timer are reported and the kernel keeps its variables", async () => {
  const kernel = await Kernel.start({ root, cwd: path.join(root, "notebooks"), startupTimeoutMs: 120_000, ...kernelCommand("tslab", root) });
  try {
    const setup = await kernel.execute('import { setupBackend } from "./lib/backend";\nconst info = await setupBackend({ quiet: true });\nconst kept = 41;\nconsole.log(info.name);\n', 120_000);
    assert.equal(setup.status, "ok", setup.stderr);
    assert.deepEqual(setup.outputs, [{ output_type: "stream", name: "stdout", text: "wasm\n" }]);

    const rejected = await kernel.execute('Promise.reject(new Error("nobody awaited me"));\nawait new Promise((r) => setTimeout(r, 200));\n', 30_000);
    assert.match(rejected.stderr, /^UnhandledPromiseRejection: Error: nobody awaited me/m);
    const thrown = await kernel.execute('setTimeout(() => { throw new Error("thrown in a timer"); }, 10);\nawait new Promise((r) => setTimeout(r, 200));\n', 30_000);
    assert.match(thrown.stderr, /^UncaughtException: Error: thrown in a timer/m);

    // A failure whose value prints as nothing (scripts/kernel/blank-errors.cjs) still says what it was.
    const blank = await kernel.execute('await Promise.reject("");\n', 30_000);
    assert.equal(blank.status, "error");
    assert.match(blank.stderr, /^The cell failed with a value that has no message, a string: "''"\./m);
    await new Promise((r) => setTimeout(r, 400)); // tslab aborts requests that come within 200 ms of a failed one

    const after = await kernel.execute("console.log(kept + 1);\n", 30_000);
    assert.equal(after.status, "ok", `the kernel died: ${kernel.dead ? kernel.deathReport() : after.stderr}`);
    assert.deepEqual(after.outputs, [{ output_type: "stream", name: "stdout", text: "42\n" }]);
  } finally {
    await kernel.shutdown();
  }
});

/**
 * The single-threaded wasm build (what setupBackend falls back to when threads cannot start): the same
 * whole-model gradient and leak checks as model.test.ts, plus the reported thread count.
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import { setupBackend } from "../../lib/backend";
// Registers model.test.ts's suites in this process; they run after the env change below (hooks run later).
import "./model.test";

process.env.LESSONS_THREADS = "1";

it("setupBackend honours LESSONS_THREADS=1", async () => {
  const info = await setupBackend({ backend: "wasm", quiet: true });
  assert.equal(info.threads, 1);
  assert.match(info.reason, /single-threaded/);
});

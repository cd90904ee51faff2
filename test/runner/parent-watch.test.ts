/** The kernel's parent watch starts one watcher thread, not one per worker thread (workers inherit --require). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const watch = path.resolve(__dirname, "../../scripts/kernel/parent-watch.cjs");
const probe = `
const { Worker } = require("worker_threads");
const workers = Array.from({ length: 3 }, () => new Worker("setTimeout(() => {}, 3000)", { eval: true }));
setTimeout(() => {
  console.log(require("fs").readdirSync("/proc/" + process.pid + "/task").length);
  process.exit(0);
}, 1500);
`;

function threads(preload: boolean): number {
  const args = [...(preload ? ["--require", watch] : []), "-e", probe];
  const run = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 20_000 });
  assert.equal(run.status, 0, run.stderr);
  return Number(run.stdout.trim());
}

test("preloading the parent watch adds exactly one thread, however many workers the kernel starts", { skip: process.platform !== "linux" && "needs /proc" }, () => {
  assert.equal(threads(true) - threads(false), 1);
});

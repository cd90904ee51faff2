/**
 * Preloaded into every kernel process (`node --require .../parent-watch.cjs tslab kernel ...`): the kernel leaves by
 * itself within about a second when the process that started it is gone (a runner killed with SIGKILL, a Jupyter
 * server that crashed), instead of living on under PID 1, and removes the temporary folder named in
 * LESSONS_KERNEL_TMPDIR (its connection file). The watch runs on a worker thread, so a cell stuck in a synchronous
 * loop cannot stop it. Plain CommonJS: it runs before any TypeScript loader.
 */
"use strict";
const { Worker, isMainThread } = require("worker_threads");

// Worker threads inherit --require: without this guard every worker (ours, tfjs' wasm threads, lib's helper
// thread) would start another watcher, which starts another, without end.
if (isMainThread) startWatch();

function startWatch() {
  const parent = Number(process.env.LESSONS_KERNEL_PARENT_PID) || process.ppid;

  const watcher = `
  const fs = require("fs");
  const { workerData } = require("worker_threads");
  setInterval(() => {
    if (process.ppid === workerData.parent) return;
    if (workerData.tmpDir) {
      try { fs.rmSync(workerData.tmpDir, { recursive: true, force: true }); } catch {}
    }
    try { fs.writeSync(2, "kernel: the process that started it (pid " + workerData.parent + ") has gone; shutting down.\\n"); } catch {}
    process.kill(workerData.pid, "SIGKILL"); // the whole kernel process, even when its main thread is busy
  }, workerData.pollMs);
  `;

  const worker = new Worker(watcher, {
    eval: true,
    execArgv: [], // the watcher itself must not load this file again
    workerData: {
      parent,
      pid: process.pid,
      tmpDir: process.env.LESSONS_KERNEL_TMPDIR || "",
      pollMs: Number(process.env.LESSONS_KERNEL_PARENT_POLL_MS) || 1000,
    },
    stdout: false,
    stderr: false,
  });
  worker.unref();
}

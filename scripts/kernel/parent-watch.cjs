/**
 * Preloaded into every kernel process (`node --require .../parent-watch.cjs tslab kernel ...`): the kernel leaves by
 * itself within about a second when the process that started it is gone (a runner killed with SIGKILL, a Jupyter
 * server that crashed), instead of living on under PID 1, and removes the temporary folder named in
 * LESSONS_KERNEL_TMPDIR (its connection file). Plain CommonJS: it runs before any TypeScript loader.
 */
"use strict";
const fs = require("fs");

const parent = Number(process.env.LESSONS_KERNEL_PARENT_PID) || process.ppid;
const tmpDir = process.env.LESSONS_KERNEL_TMPDIR;
const POLL_MS = Number(process.env.LESSONS_KERNEL_PARENT_POLL_MS) || 1000;

function removeTmpDir() {
  if (!tmpDir) return;
  try {
    fs.rmSync(tmpDir, { recursive: true, force: true });
  } catch {
    // Nothing we can do; the runner's own clean-up may still get it.
  }
}

// Our parent ended when we were handed to another process (init or a subreaper).
const timer = setInterval(() => {
  if (process.ppid === parent) return;
  removeTmpDir();
  process.stderr.write(`kernel: the process that started it (pid ${parent}) has gone; shutting down.\n`);
  process.exit(1);
}, POLL_MS);
timer.unref();

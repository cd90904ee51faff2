/**
 * `node watch-kernel.cjs <parent pid> <kernel pid>`: the parent watch for kernels that cannot preload
 * parent-watch.cjs (Deno's). Runs beside the kernel as its own small process: when the process that started the
 * kernel is gone (a runner killed with SIGKILL, a Jupyter server that crashed) it kills the kernel and removes the
 * folder named in LESSONS_KERNEL_TMPDIR (its connection file); when the kernel has left by itself it just exits.
 * Plain CommonJS, no dependencies.
 */
"use strict";
const fs = require("fs");

const [parent, kernel] = process.argv.slice(2, 4).map(Number);
if (!(parent > 0 && kernel > 0)) {
  process.stderr.write("usage: node watch-kernel.cjs <parent pid> <kernel pid>\n");
  process.exit(2);
}
const tmpDir = process.env.LESSONS_KERNEL_TMPDIR || "";
const pollMs = Number(process.env.LESSONS_KERNEL_PARENT_POLL_MS) || 1000;

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM"; // exists, owned by someone else
  }
}

setInterval(() => {
  if (!alive(kernel)) process.exit(0);
  if (alive(parent)) return;
  if (tmpDir) {
    try { fs.rmSync(tmpDir, { recursive: true, force: true }); } catch {}
  }
  try { fs.writeSync(2, `kernel: the process that started it (pid ${parent}) has gone; shutting down.\n`); } catch {}
  try { process.kill(kernel, "SIGKILL"); } catch {}
  process.exit(0);
}, pollMs);

/**
 * The Deno kernel ("TypeScript (CNN lessons, Deno)"): its kernel.json, the launcher's choice of checkout and
 * Deno, a real kernel started through kernel.json (lib imports, display API, interrupt by message), the parent
 * watcher that stops it when its starter is gone, its registration, and the runner's --kernel option.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DENO_KERNEL_DISPLAY_NAME, DENO_KERNEL_NAME, DENO_LAUNCH_SCRIPT, denoKernelJson } from "../../scripts/kernel/deno-kernelspec";
import { denoBin, kernelWatchScript } from "../../scripts/kernel/deno";
import { installDenoKernelspec } from "../../scripts/kernel/install";
import { hasJupyter } from "../../scripts/kernel/jupyter";
import { KERNEL_NAME } from "../../scripts/kernel/kernelspec";
import { Kernel } from "../../scripts/runner/kernel-client";
import { kernelCommand, parseKernelKind } from "../../scripts/runner/kernels";
import { loadExeca } from "../../scripts/kernel/load-execa";

const root = path.join(__dirname, "..", "..");
const realRoot = fs.realpathSync(root);
const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "deno-kernel-")));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test("kernel.json runs the Deno launcher with this checkout and this Node as fallbacks, interrupting by message", () => {
  const spec = denoKernelJson(root);
  assert.deepEqual(spec.argv.slice(0, 3), ["/bin/sh", "-c", DENO_LAUNCH_SCRIPT]);
  assert.deepEqual(spec.argv.slice(3), [DENO_KERNEL_NAME, "{connection_file}", root, process.execPath]);
  assert.doesNotMatch(DENO_LAUNCH_SCRIPT, /\{(connection_file|prefix|resource_dir)\}/, "Jupyter would substitute these");
  assert.match(DENO_LAUNCH_SCRIPT, /exec "\$deno" jupyter --unstable-sloppy-imports --kernel --conn "\$1"/);
  assert.equal(spec.display_name, DENO_KERNEL_DISPLAY_NAME);
  assert.equal(spec.display_name, "TypeScript (CNN lessons, Deno)");
  assert.equal(spec.interrupt_mode, "message");
  const win = denoKernelJson(root, "C:\\node\\node.exe", "win32");
  assert.deepEqual(win.argv, [denoBin(root), "jupyter", "--unstable-sloppy-imports", "--kernel", "--conn", "{connection_file}"]);
  assert.throws(() => denoKernelJson(tmp), /Deno is not installed in .* run `npm install` there/);
});

/** Runs kernel.json's command in `cwd` without starting Deno (LESSONS_KERNEL_DRY_RUN prints the Deno it would run). */
function launch(cwd: string, fallback = root) {
  const argv = denoKernelJson(root).argv.map((a) => a.replace("{connection_file}", path.join(tmp, "conn.json")));
  argv[5] = fallback;
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, encoding: "utf8", env: { PATH: process.env.PATH!, LESSONS_KERNEL_DRY_RUN: "1" } });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

function fakeCheckout(name: string, denoAt?: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(path.join(dir, "notebooks"), { recursive: true });
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: KERNEL_NAME, version: "0.1.0" }, null, 2));
  if (denoAt) {
    fs.mkdirSync(path.join(dir, path.dirname(denoAt)), { recursive: true });
    fs.writeFileSync(path.join(dir, denoAt), "#!/bin/sh\n", { mode: 0o755 });
  }
  return dir;
}

test("the launcher runs the Deno of the checkout that holds the notebook, else the registering checkout's, else says what to run", () => {
  const mine = launch(path.join(root, "notebooks"));
  assert.equal(mine.code, 0, mine.stderr);
  assert.ok(mine.stdout.startsWith(path.join(realRoot, "node_modules") + path.sep), mine.stdout);
  assert.equal(fs.realpathSync(mine.stdout), fs.realpathSync(denoBin(root)));
  const platformOnly = fakeCheckout("platform-package", "node_modules/@deno/linux-x64-glibc/deno");
  assert.equal(launch(path.join(platformOnly, "notebooks")).stdout, path.join(platformOnly, "node_modules/@deno/linux-x64-glibc/deno"));
  const bare = fakeCheckout("not-installed");
  const none = launch(path.join(bare, "notebooks"));
  assert.equal(none.code, 1);
  assert.match(none.stderr, new RegExp(`^TypeScript \\(CNN lessons, Deno\\) kernel: the course checkout ${bare} .*has no Deno in node_modules: run npm install \\(or npm ci\\) in ${bare}\\.$`));
  const outside = fs.mkdtempSync(path.join(tmp, "elsewhere-"));
  assert.equal(fs.realpathSync(launch(outside).stdout), fs.realpathSync(denoBin(root)));
  const gone = launch(outside, path.join(tmp, "moved-away"));
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /moved-away, registered by npm run kernel:install, no longer exists/);
});

test("a real Deno kernel through kernel.json: lib from ./lib, Deno's display API, an interrupted loop leaves the kernel usable, a forgotten await is reported", async () => {
  const spec = denoKernelJson(root);
  const kernel = await Kernel.start({
    root,
    cwd: path.join(root, "notebooks"),
    argv: (file) => spec.argv.map((a) => a.replace("{connection_file}", file)),
    interruptMode: spec.interrupt_mode,
    startupTimeoutMs: 60_000,
  });
  try {
    const cmd = fs.readFileSync(`/proc/${kernel.pid}/cmdline`, "utf8").split("\0");
    assert.deepEqual(cmd.slice(1, 3), ["jupyter", "--unstable-sloppy-imports"], "sh exec'd deno itself");
    const watchers = fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        const args = fs.readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
        return args.includes(kernelWatchScript(realRoot)) && args.includes(String(kernel.pid));
      } catch {
        return false;
      }
    });
    assert.equal(watchers.length, 1, "the launcher started one parent watcher for this kernel");

    const first = await kernel.execute('import { projectRoot } from "./lib/paths";\nimport { notebookKernel } from "./lib/plots/display";\nconsole.log(projectRoot(), notebookKernel());\n', 60_000);
    assert.equal(first.status, "ok", JSON.stringify(first.outputs));
    assert.deepEqual(first.outputs, [{ output_type: "stream", name: "stdout", text: `${realRoot} deno\n` }]);

    const shown = await kernel.execute('import { displayBundle } from "./lib/plots/display";\nconst sent = displayBundle({ "text/plain": "a", "text/html": "<b>a</b>" }, { displayId: "x" }) && displayBundle({ "text/plain": "b" }, { displayId: "x", update: true });\n', 60_000);
    assert.equal(shown.status, "ok", JSON.stringify(shown.outputs));
    assert.deepEqual(shown.outputs, [{ output_type: "display_data", data: { "text/plain": "b" }, metadata: {} }]);

    // A value Deno shows: an execute_result with something in it (an empty bundle shows nothing).
    const shownValues = (run: { outputs: import("../../scripts/runner/nbformat").Output[] }) =>
      run.outputs.filter((o) => o.output_type === "execute_result" && Object.keys(o.data).length > 0);
    const model = await kernel.execute('import * as tf from "@tensorflow/tfjs";\nconst m = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });\nm.compile({ optimizer: "sgd", loss: "meanSquaredError" });\nm;\nconst after = 1;\n', 60_000);
    assert.equal(model.status, "ok", JSON.stringify(model.outputs));
    assert.deepEqual(shownValues(model), [], "a model as a cell's completion value shows nothing (as under tslab)");
    const disposed = await kernel.execute("m.dispose();\nconst later = 2;\n", 30_000);
    assert.deepEqual(shownValues(disposed), [], "nor does what dispose() returns");
    const plain = await kernel.execute("const v = { answer: 42 };\nv\n", 30_000);
    assert.equal(shownValues(plain).length, 1, "other values still show");

    const loop = await kernel.execute("let spins = 0;\nwhile (true) { spins++; }\n", 3000, { interruptGraceMs: 20_000 });
    assert.equal(loop.status, "timeout", "interrupted by an interrupt_request, not killed");
    const afterwards = await kernel.execute("console.log(spins > 0);\n", 30_000);
    assert.equal(afterwards.status, "ok");
    assert.deepEqual(afterwards.outputs, [{ output_type: "stream", name: "stdout", text: "true\n" }]);

    // Deno's kernel itself would say nothing here; lib reports it as tslab does, so the runner fails the cell.
    const forgotten = await kernel.execute('Promise.reject(new Error("nobody awaited me"));\nconsole.log("returned");\n', 30_000);
    const reported = () => forgotten.stderr + (kernel.lateStderr.get(forgotten.msgId) ?? "");
    for (let i = 0; i < 20 && !/UnhandledPromiseRejection/.test(reported()); i++) await kernel.sync();
    assert.match(reported(), /^UnhandledPromiseRejection: Error: nobody awaited me/m);
  } finally {
    await kernel.shutdown();
  }
});

test("the parent watcher kills the kernel and removes its folder when the starter is gone, and leaves when the kernel does", async () => {
  const parent = spawn("sleep", ["60"]);
  const kernel = spawn("sleep", ["60"]);
  const kernelTmp = fs.mkdtempSync(path.join(tmp, "kernel-tmp-"));
  const kernelExit = new Promise<NodeJS.Signals | null>((r) => kernel.on("exit", (_code, signal) => r(signal)));
  const watcher = spawn(process.execPath, [kernelWatchScript(root), String(parent.pid), String(kernel.pid)], {
    env: { ...process.env, LESSONS_KERNEL_TMPDIR: kernelTmp, LESSONS_KERNEL_PARENT_POLL_MS: "100" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let said = "";
  watcher.stderr.on("data", (c) => (said += String(c)));
  const watcherExit = new Promise<number | null>((r) => watcher.on("exit", (code) => r(code)));
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(kernel.exitCode, null, "the kernel lives while its starter does");
  parent.kill("SIGKILL");
  assert.equal(await kernelExit, "SIGKILL");
  assert.equal(await watcherExit, 0);
  assert.equal(fs.existsSync(kernelTmp), false, "the connection file's folder is removed");
  assert.match(said, new RegExp(`the process that started it \\(pid ${parent.pid}\\) has gone; shutting down`));

  const parent2 = spawn("sleep", ["60"]);
  const kernel2 = spawn("sleep", ["60"]);
  const watcher2 = spawn(process.execPath, [kernelWatchScript(root), String(parent2.pid), String(kernel2.pid)], {
    env: { ...process.env, LESSONS_KERNEL_PARENT_POLL_MS: "100" },
    stdio: "ignore",
  });
  const watcher2Exit = new Promise<number | null>((r) => watcher2.on("exit", (code) => r(code)));
  kernel2.kill("SIGTERM");
  assert.equal(await watcher2Exit, 0, "a kernel that left by itself needs no watcher");
  assert.equal(parent2.exitCode, null);
  parent2.kill("SIGKILL");
  const bad = spawnSync(process.execPath, [kernelWatchScript(root), "x"], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /usage: node watch-kernel\.cjs <parent pid> <kernel pid>/);
});

test("installDenoKernelspec registers cnn-lessons-deno in the user's Jupyter data folder", async (t) => {
  if (!(await hasJupyter())) return t.skip("jupyter is not installed");
  const dataDir = fs.mkdtempSync(path.join(tmp, "jupyter-data-"));
  const saved = process.env.JUPYTER_DATA_DIR;
  process.env.JUPYTER_DATA_DIR = dataDir;
  try {
    const { dir } = await installDenoKernelspec(root);
    const file = path.join(dataDir, "kernels", DENO_KERNEL_NAME, "kernel.json");
    assert.equal(path.resolve(dir), path.dirname(file));
    assert.deepEqual(JSON.parse(fs.readFileSync(file, "utf8")), denoKernelJson(root));
  } finally {
    if (saved === undefined) delete process.env.JUPYTER_DATA_DIR;
    else process.env.JUPYTER_DATA_DIR = saved;
  }
});

test("--kernel takes tslab or deno: tslab keeps the runner's default command, deno names the project's Deno", async () => {
  assert.equal(parseKernelKind("tslab"), "tslab");
  assert.equal(parseKernelKind("deno"), "deno");
  assert.throws(() => parseKernelKind("python"), /Unknown kernel 'python': use one of tslab, deno/);
  assert.deepEqual(kernelCommand("tslab", root), {});
  const deno = kernelCommand("deno", root);
  assert.deepEqual(deno.argv!("/tmp/c.json"), [denoBin(root), "jupyter", "--unstable-sloppy-imports", "--kernel", "--conn", "/tmp/c.json"]);
  assert.deepEqual(deno.watcher!(1234), [process.execPath, kernelWatchScript(root), String(process.pid), "1234"]);
  assert.equal(deno.interruptMode, "message");

  const { execa } = await loadExeca();
  const cli = (args: string[]) =>
    execa(process.execPath, [path.join(root, "node_modules", "tsx", "dist", "cli.mjs"), "scripts/run-notebooks.ts", "--no-static-plots", ...args], {
      cwd: root,
      reject: false,
      all: true,
      timeout: 300_000,
    });
  const wrong = await cli(["--kernel", "python", "--out", path.join(tmp, "wrong"), "test/fixtures/notebooks/runtime-error.ipynb"]);
  assert.notEqual(wrong.exitCode, 0);
  assert.match(wrong.all ?? "", /Unknown kernel 'python': use one of tslab, deno/);
  assert.equal(fs.existsSync(path.join(tmp, "wrong", "runtime-error.ipynb")), false, "nothing ran");

  const out = path.join(tmp, "deno-run");
  const run = await cli(["--kernel", "deno", "--out", out, "test/fixtures/notebooks/runtime-error.ipynb"]);
  assert.equal(run.exitCode, 1, run.all);
  assert.match(run.all ?? "", /FAILED test\/fixtures\/notebooks\/runtime-error\.ipynb, cell 2[\s\S]*RangeError: size must be positive, got -4/);
  const nb = JSON.parse(fs.readFileSync(path.join(out, "runtime-error.ipynb"), "utf8"));
  assert.equal(nb.metadata.lessons_runner.kernel, "deno");
  assert.deepEqual(nb.cells[0].outputs, [{ output_type: "stream", name: "stdout", text: ["first cell ran\n"] }]);
  assert.equal(nb.cells[2].outputs.length, 0, "the cell after the failure did not run");
});

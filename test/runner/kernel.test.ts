import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { installKernelspec } from "../../scripts/kernel/install";
import { hasJupyter } from "../../scripts/kernel/jupyter";
import { kernelJson, KERNEL_NAME, LAUNCH_SCRIPT } from "../../scripts/kernel/kernelspec";
import { jupyterLaunch } from "../../scripts/kernel/launch";

const root = path.join(__dirname, "..", "..");

test("kernel.json runs the launcher with this checkout and this Node as fallbacks; Windows names them directly", () => {
  const spec = kernelJson(root);
  assert.deepEqual(spec.argv.slice(0, 2), ["/bin/sh", "-c"]);
  assert.equal(spec.argv[2], LAUNCH_SCRIPT);
  assert.deepEqual(spec.argv.slice(3), [KERNEL_NAME, "{connection_file}", root, process.execPath]);
  assert.doesNotMatch(LAUNCH_SCRIPT, /\{(connection_file|prefix|resource_dir)\}/, "Jupyter would substitute these");
  assert.deepEqual(spec.metadata?.lessons, { fallback_checkout: root, fallback_node: process.execPath });
  assert.equal(spec.display_name, "TypeScript (CNN lessons)");
  assert.equal(spec.interrupt_mode, "signal");
  const win = kernelJson(root, "C:\\node\\node.exe", "win32");
  assert.deepEqual(win.argv, ["C:\\node\\node.exe", path.join(root, "node_modules", "tslab", "bin", "tslab"), "kernel", "--config-path", "{connection_file}"]);
  assert.throws(() => kernelJson(os.tmpdir()), /npm install/);
});

test("npm start opens Lab, or the classic Notebook, at notebooks/ and passes extra flags on", () => {
  const lab = jupyterLaunch(true, ["--port", "9999"]);
  assert.equal(lab.args[0], "lab");
  assert.ok(lab.args.includes("--LabApp.default_url=/lab/tree/notebooks"));
  assert.deepEqual(lab.args.slice(-2), ["--port", "9999"]);
  const classic = jupyterLaunch(false);
  assert.equal(classic.args[0], "notebook");
  assert.ok(classic.args.includes("--NotebookApp.default_url=/tree/notebooks"));
});

test("installKernelspec registers cnn-lessons-ts in the user's Jupyter data folder", async (t) => {
  if (!(await hasJupyter())) return t.skip("jupyter is not installed");
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "jupyter-data-"));
  const saved = process.env.JUPYTER_DATA_DIR;
  process.env.JUPYTER_DATA_DIR = dataDir;
  try {
    const { dir } = await installKernelspec(root);
    const file = path.join(dataDir, "kernels", KERNEL_NAME, "kernel.json");
    assert.equal(path.resolve(dir), path.dirname(file));
    assert.deepEqual(JSON.parse(fs.readFileSync(file, "utf8")), kernelJson(root));
  } finally {
    if (saved === undefined) delete process.env.JUPYTER_DATA_DIR;
    else process.env.JUPYTER_DATA_DIR = saved;
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

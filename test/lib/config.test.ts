/**
 * lib/config.ts: every LESSONS_* variable's accessor (defaults, values, clear errors for bad values), README's one
 * table listing exactly the variables the project uses, and no TypeScript in lib/ or scripts/ reading a LESSONS_*
 * variable from process.env except lib/config.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as config from "../../lib/config";

const root = path.join(__dirname, "..", "..");

test("unset or empty variables give the defaults", () => {
  for (const env of [{}, Object.fromEntries(allVariables().map((name) => [name, ""]))]) {
    assert.equal(config.backendSetting(env), undefined);
    assert.equal(config.threadsSetting(env), undefined);
    assert.equal(config.wasmOneThread(env), false);
    assert.equal(config.wasmNoWinograd(env), false);
    assert.equal(config.wasmNoRelaxedSimd(env), false);
    assert.equal(config.wasmJsKernels(env), false);
    assert.equal(config.debugMessages(env), false);
    assert.equal(config.dataDirSetting(env), undefined);
    assert.equal(config.offlineMode(env), false);
    assert.equal(config.preparedRunsSetting(env), undefined);
    assert.equal(config.replayOff(env), false);
    assert.equal(config.prepareRunsOn(env), false);
    assert.equal(config.progressSetting(env), undefined);
    assert.equal(config.pythonSetting(env), undefined);
    assert.equal(config.jupyterVenvSetting(env), undefined);
  }
  assert.equal(config.dataMirrorSetting({}), undefined, "unset: the default mirror beside the checkout");
  assert.equal(config.dataMirrorSetting({ LESSONS_DATA_MIRROR: "" }), null, "empty: no mirror");
});

test("set variables are read, folders made absolute", () => {
  assert.equal(config.backendSetting({ LESSONS_BACKEND: " cpu " }), "cpu");
  assert.equal(config.threadsSetting({ LESSONS_THREADS: "3" }), 3);
  assert.equal(config.wasmOneThread({ LESSONS_WASM_ONE_THREAD: "1" }), true);
  assert.equal(config.wasmOneThread({ LESSONS_WASM_ONE_THREAD_FILTER: "1" }), true, "the older name still works");
  assert.equal(config.wasmOneThread({ LESSONS_WASM_ONE_THREAD: "0" }), false);
  assert.equal(config.wasmNoWinograd({ LESSONS_WASM_NO_WINOGRAD: "1" }), true);
  assert.equal(config.wasmNoRelaxedSimd({ LESSONS_WASM_NO_RELAXED_SIMD: "1" }), true);
  assert.equal(config.wasmJsKernels({ LESSONS_WASM_JS_KERNELS: "1" }), true);
  assert.equal(config.debugMessages({ LESSONS_DEBUG: "1" }), true);
  assert.equal(config.dataDirSetting({ LESSONS_DATA_DIR: "rel/data" }), path.resolve("rel/data"));
  assert.equal(config.dataMirrorSetting({ LESSONS_DATA_MIRROR: "none" }), null);
  assert.equal(config.dataMirrorSetting({ LESSONS_DATA_MIRROR: "/srv/mirror" }), "/srv/mirror");
  assert.equal(config.offlineMode({ LESSONS_OFFLINE: "1" }), true);
  assert.equal(config.preparedRunsSetting({ LESSONS_PREPARED_RUNS: "/srv/runs" }), "/srv/runs");
  assert.equal(config.replayOff({ LESSONS_REPLAY: "off" }), true);
  assert.equal(config.replayOff({ LESSONS_REPLAY: "on" }), false);
  assert.equal(config.prepareRunsOn({ LESSONS_PREPARE_RUNS: "1" }), true);
  assert.equal(config.progressSetting({ LESSONS_PROGRESS: "epoch" }), "epoch");
  assert.equal(config.pythonSetting({ LESSONS_PYTHON: "/usr/bin/python3" }), "/usr/bin/python3");
  assert.equal(config.jupyterVenvSetting({ LESSONS_JUPYTER_VENV: "/srv/venv" }), "/srv/venv");
});

test("a bad value is an error naming the variable, what it must be and how to fix it", () => {
  const cases: [() => unknown, RegExp][] = [
    [() => config.backendSetting({ LESSONS_BACKEND: "gpu" }), /^LESSONS_BACKEND is set to "gpu", but it must be one of node-gpu, node, wasm, cpu\. Fix: set LESSONS_BACKEND=wasm \(for example\) or unset it/],
    [() => config.threadsSetting({ LESSONS_THREADS: "two" }), /^LESSONS_THREADS is set to "two", but it must be a whole number of threads, 1 or more\. Fix: set LESSONS_THREADS=2/],
    [() => config.threadsSetting({ LESSONS_THREADS: "0" }), /LESSONS_THREADS is set to "0"/],
    [() => config.threadsSetting({ LESSONS_THREADS: "1.5" }), /LESSONS_THREADS is set to "1.5"/],
    [() => config.wasmOneThread({ LESSONS_WASM_ONE_THREAD: "yes" }), /^LESSONS_WASM_ONE_THREAD is set to "yes", but it must be 1 \(our kernels on one thread\) or 0 \(off\)\. Fix: set LESSONS_WASM_ONE_THREAD=1 to turn it on or LESSONS_WASM_ONE_THREAD=0 to turn it off or unset it, where Jupyter or the command is started\.$/],
    [() => config.wasmOneThread({ LESSONS_WASM_ONE_THREAD: "1", LESSONS_WASM_ONE_THREAD_FILTER: "true" }), /LESSONS_WASM_ONE_THREAD_FILTER is set to "true"/],
    [() => config.offlineMode({ LESSONS_OFFLINE: "true" }), /LESSONS_OFFLINE is set to "true", but it must be 1 \(offline\) or 0/],
    [() => config.debugMessages({ LESSONS_DEBUG: "yes" }), /LESSONS_DEBUG is set to "yes"/],
    [() => config.replayOff({ LESSONS_REPLAY: "no" }), /^LESSONS_REPLAY is set to "no", but it must be one of on, off\./],
    [() => config.prepareRunsOn({ LESSONS_PREPARE_RUNS: "on" }), /LESSONS_PREPARE_RUNS is set to "on", but it must be 1/],
    [() => config.progressSetting({ LESSONS_PROGRESS: "fancy" }), /^LESSONS_PROGRESS is set to "fancy", but it must be one of auto, tty, live, epoch, none\./],
  ];
  for (const [read, message] of cases) assert.throws(read, { message });
});

test("accessors read process.env when called, so a change at run time is seen", () => {
  const before = process.env.LESSONS_THREADS;
  try {
    process.env.LESSONS_THREADS = "5";
    assert.equal(config.threadsSetting(), 5);
    process.env.LESSONS_THREADS = "6";
    assert.equal(config.threadsSetting(), 6);
  } finally {
    if (before === undefined) delete process.env.LESSONS_THREADS;
    else process.env.LESSONS_THREADS = before;
  }
});

/** Tracked (and new, not ignored) files of the checkout. */
function projectFiles(): string[] {
  const r = spawnSync("git", ["-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], { encoding: "utf8" });
  assert.equal(r.status, 0, `git ls-files failed: ${r.stderr}`);
  return r.stdout.split("\0").filter((f) => f && fs.existsSync(path.join(root, f)));
}

/** Every LESSONS_* name the project's code and scripts use. */
function allVariables(): string[] {
  const names = new Set<string>();
  for (const file of projectFiles()) {
    if (!/^(lib|scripts|test|\.ci)\//.test(file) || !/\.(ts|cjs|js|sh)$|^\.ci\/run$/.test(file)) continue;
    for (const m of fs.readFileSync(path.join(root, file), "utf8").matchAll(/\bLESSONS_[A-Z0-9_]*[A-Z0-9]\b/g)) names.add(m[0]);
  }
  return [...names].sort();
}

test("README's environment table lists every LESSONS_* variable the project uses, once", () => {
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
  const rows = [...readme.matchAll(/^\| `(LESSONS_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!);
  assert.deepEqual([...rows].sort(), [...new Set(rows)].sort(), "a variable listed twice");
  assert.deepEqual([...rows].sort(), allVariables());
});

/** Files that still read LESSONS_* variables themselves: switch each to lib/config, then take it off this list. */
test("in lib/ and scripts/, only lib/config.ts reads LESSONS_* variables from the environment", () => {
  // A read: env.LESSONS_... or env["LESSONS_..."] not followed by an assignment (setting one for a child is fine).
  const read = /\benv(?:\.LESSONS_[A-Z0-9_]+\b|\[["']LESSONS_[A-Z0-9_]+["']\])(?!\s*=[^=])/g;
  const offenders: string[] = [];
  for (const file of projectFiles()) {
    if (!/^(lib|scripts)\/.*\.ts$/.test(file) || file === "lib/config.ts") continue;
    const text = fs.readFileSync(path.join(root, file), "utf8");
    for (const m of text.matchAll(read)) offenders.push(`${file}: ${m[0]}`);
  }
  assert.deepEqual(offenders, [], "read these through lib/config.ts");
});
